#!/usr/bin/env bash
# Fetches the face test photos into testdata/faces/ (git-ignored), from two PyPI packages:
#   - face-recognition==1.3.0 source archive (MIT): tests/test_images/*  (several photos of
#     one person, Barack Obama, and one of another, Joe Biden, plus a few others)
#   - scikit-image (BSD-3-Clause) wheel: skimage/data/astronaut.png (Eileen Collins, NASA,
#     public domain)
# Idempotent: when the marker file is there with every expected photo, nothing is downloaded.
# Usage: scripts/fetch-testdata.sh [DEST_DIR]   (default: <repo>/testdata/faces)
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${1:-testdata/faces}"
FR_SPEC="face-recognition==1.3.0"
# 0.24.0 has cp311..cp312 manylinux x86_64 wheels; pinned so the photo never changes.
SKI_SPEC="scikit-image==0.24.0"
NEEDED=(obama.jpg obama2.jpg obama3.jpg biden.jpg astronaut.png)

have_all() {
  for f in "${NEEDED[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}

if have_all; then
  echo "fetch-testdata: $DEST already holds the test photos" >&2
  exit 0
fi

command -v unzip >/dev/null || { echo "fetch-testdata: 'unzip' is missing (apt-get install unzip)" >&2; exit 1; }
PY="${PYTHON:-python3}"
"$PY" -m pip --version >/dev/null 2>&1 || { echo "fetch-testdata: pip for $PY is missing (apt-get install python3-pip)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$DEST"

echo "fetch-testdata: downloading $FR_SPEC (source archive) from PyPI" >&2
# pip prepares the archive's metadata in an isolated build environment (setuptools, wheel).
"$PY" -m pip download --quiet --no-deps --no-binary=:all: --dest "$TMP/fr" "$FR_SPEC"
SDIST="$(ls "$TMP"/fr/*.tar.gz 2>/dev/null | head -n1)"
[ -n "$SDIST" ] || { echo "fetch-testdata: pip downloaded no source archive for $FR_SPEC" >&2; exit 1; }
mkdir -p "$TMP/fr/x"
tar -xzf "$SDIST" -C "$TMP/fr/x" --wildcards '*/tests/test_images/*'
found=0
for f in "$TMP"/fr/x/*/tests/test_images/*; do
  [ -f "$f" ] || continue
  install -m 0644 "$f" "$DEST/$(basename "$f")"
  found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "fetch-testdata: $SDIST has no tests/test_images/" >&2; exit 1; }
echo "fetch-testdata: extracted $found photos from $(basename "$SDIST")" >&2

echo "fetch-testdata: downloading $SKI_SPEC (wheel) from PyPI" >&2
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP/ski" "$SKI_SPEC"
WHEEL="$(ls "$TMP"/ski/*.whl 2>/dev/null | head -n1)"
[ -n "$WHEEL" ] || { echo "fetch-testdata: pip downloaded no wheel for $SKI_SPEC" >&2; exit 1; }
unzip -q -o -j "$WHEEL" "skimage/data/astronaut.png" -d "$TMP/ski/x" \
  || { echo "fetch-testdata: $WHEEL has no skimage/data/astronaut.png" >&2; exit 1; }
install -m 0644 "$TMP/ski/x/astronaut.png" "$DEST/astronaut.png"

have_all || { echo "fetch-testdata: expected photos missing after the fetch: ${NEEDED[*]}" >&2; exit 1; }
echo "fetch-testdata: test photos are in $DEST" >&2
