#!/usr/bin/env bash
# Builds the hall-kiosk Debian package with cargo-deb (metadata in kiosk/Cargo.toml,
# [package.metadata.deb]; unit, default config and maintainer scripts in packaging/), then
# shows its control fields and lists its files with dpkg-deb.
#
# Usage: scripts/deb.sh [extra cargo-deb options]   e.g. --no-build to repackage
# The package lands in <target>/debian/hall-kiosk_<version>-1_<arch>.deb.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null; then
  echo "deb: installing cargo-deb from crates.io" >&2
  cargo install cargo-deb --locked
fi
# dpkg-shlibdeps (package dpkg-dev) works out the shared-library dependencies ($auto).
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "deb: dpkg-shlibdeps is missing (apt-get install dpkg-dev)" >&2
  exit 1
fi

# cargo-deb builds `cargo build --release -p kiosk` and prints the package's path (and the
# -dbgsym .ddeb's).
deb="$(cargo deb -p kiosk "$@" | grep '\.deb$' | tail -n 1)"
[ -f "$deb" ] || { echo "deb: cargo deb printed no package path (got: $deb)" >&2; exit 1; }

echo "== $deb"
dpkg-deb --info "$deb"
echo "== contents"
dpkg-deb --contents "$deb"
