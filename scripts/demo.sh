#!/usr/bin/env bash
# Set up, index the bundled demo blog, and chat with the assistant about it ("/quit" or Ctrl-D ends).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 BLOGBOT_DATA_DIR=${BLOGBOT_DATA_DIR:-.blogbot}
.venv/bin/blogbot ingest demo/blog
if [ -t 0 ]; then
    echo "Chat with the assistant of the demo blog (type a number to press a button; /quit ends)."
    .venv/bin/blogbot chat
else
    # Not a terminal: show a short scripted conversation instead.
    printf '%s\n' "hi" "What did you write about Tekton?" "1" "How do I fine-tune an LLM on a small GPU?" \
        | .venv/bin/blogbot chat
fi
