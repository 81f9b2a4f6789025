#!/usr/bin/env bash
# Installs the benchmark's peer: OpenCV for Python (opencv-python-headless, pinned) in a venv
# at .cache/opencv-venv (git-ignored), used by `kiosk bench --only face` through
# scripts/bench_face_opencv.py. Only the benchmark needs it; the kiosk never does.
# Idempotent: does nothing when the venv already imports cv2 with FaceDetectorYN.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=".cache/opencv-venv"
SPEC="opencv-python-headless==4.10.0.84"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/python3" ] && "$VENV/bin/python3" -c "import cv2; cv2.FaceDetectorYN; cv2.FaceRecognizerSF" 2>/dev/null; then
  echo "fetch-bench-peer: $VENV already has OpenCV" >&2
  exit 0
fi
"$PY" -m venv --help >/dev/null 2>&1 || { echo "fetch-bench-peer: python venv module missing (apt-get install python3-venv)" >&2; exit 1; }
echo "fetch-bench-peer: installing $SPEC into $VENV" >&2
"$PY" -m venv "$VENV"
"$VENV/bin/python3" -m pip install --quiet "$SPEC"
"$VENV/bin/python3" -c "import cv2; print('fetch-bench-peer: OpenCV', cv2.__version__)" >&2
