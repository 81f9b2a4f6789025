#!/usr/bin/env bash
# Runs the kiosk from a fresh machine: installs what it needs (scripts/setup.sh), builds, and
# starts `kiosk demo` through cargo: the touch app with every device simulated in-process and
# a simulator panel. Without a display, the demo walks one simulated citizen through a matter
# and renders every screen into PNGs instead. Arguments replace `demo`, e.g.
# `scripts/run.sh run --config /etc/hall-kiosk/kiosk.toml` for real hardware.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- demo
fi
exec cargo run --release -p kiosk --bin kiosk -- "$@"
