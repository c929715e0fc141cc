#!/usr/bin/env bash
# Set up, index the bundled demo blog, and ask it things. Type a question; an empty line quits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 BLOGBOT_DATA_DIR=${BLOGBOT_DATA_DIR:-.blogbot}
.venv/bin/blogbot ingest demo/blog
if [ -t 0 ]; then
    echo "Ask about the demo blog (an empty line quits)."
    while read -r -p "> " question && [ -n "$question" ]; do
        .venv/bin/blogbot ask "$question"
    done
else
    for question in "How do I fine-tune an LLM on a small GPU?" "What did you write about Tekton?"; do
        echo "> $question"
        .venv/bin/blogbot ask "$question"
    done
fi
