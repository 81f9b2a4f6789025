#!/usr/bin/env bash
# Runs the kiosk from a fresh machine: installs what it needs, builds, and starts it.
# Arguments go to the `kiosk` binary. Without arguments: the spine at work (catalog stats and
# a pinyin search on a throw-away data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p kiosk --bin kiosk
KIOSK=target/release/kiosk
if [ $# -gt 0 ]; then
  exec "$KIOSK" "$@"
fi
DATA="${KIOSK_DATA_DIR:-$PWD/.cache/demo-data}"
mkdir -p "$DATA"
"$KIOSK" --data-dir "$DATA" catalog stats
echo
"$KIOSK" --data-dir "$DATA" catalog search kbfd --limit 3
echo
"$KIOSK" --data-dir "$DATA" outbox status
