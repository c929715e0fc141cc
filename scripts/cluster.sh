#!/usr/bin/env bash
# The reference deployment on this machine: Redis, two `blogbot serve` replicas sharing it, nginx in
# front on 127.0.0.1:8080 (deploy/README.md). Sets up, indexes the demo blog unless BLOGBOT_DATA_DIR
# already holds an index, and runs until Ctrl-C. Arguments go to deploy/cluster.py (--replicas, --port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-services.sh
export HF_HUB_OFFLINE=1 BLOGBOT_DATA_DIR=${BLOGBOT_DATA_DIR:-.blogbot}
[ -f "$BLOGBOT_DATA_DIR/index.sqlite3" ] || .venv/bin/blogbot ingest demo/blog
exec .venv/bin/python deploy/cluster.py --data-dir "$BLOGBOT_DATA_DIR" "$@"
