#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then checks formatting,
# lints, and runs every test (unit, end-to-end, UI) under cargo-nextest (one process per test,
# which Slint's event-loop tests need).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TERM_COLOR=never
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The end-to-end tests run the `kiosk` and `device-sim` binaries: build every binary first
# (cargo builds a package's binaries for tests only when that package has integration tests).
cargo build --workspace --bins --locked
cargo nextest run --workspace --locked --no-fail-fast "$@"
