#!/usr/bin/env bash
# Runs every benchmark (`kiosk bench`) in a release build and prints the table. Installs the
# app benchmark's peer, headless Chromium (Debian package `chromium`), when it is missing;
# the face benchmark's peer (OpenCV) comes from scripts/fetch-bench-peer.sh. Arguments go to
# `kiosk bench`, e.g. `scripts/bench.sh --only app` or `scripts/bench.sh --json`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
  && ! command -v google-chrome >/dev/null; then
  echo "bench: installing chromium (the app benchmark's peer)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
if [ -x scripts/fetch-bench-peer.sh ]; then
  scripts/fetch-bench-peer.sh || echo "bench: OpenCV peer unavailable; the face rows will say so" >&2
fi

cargo build --release -p kiosk
exec target/release/kiosk bench "$@"
