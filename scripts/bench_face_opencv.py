#!/usr/bin/env python3
"""OpenCV's own face pipeline, the peer of `kiosk bench --only face`.

Runs FaceDetectorYN + FaceRecognizerSF (opencv-python-headless, same ONNX files, same
pictures) through exactly the steps our Rust pipeline takes for one verification:

  for the card photo and the live picture:
    pictures whose longer side is under 256 px get a 16 px black border;
    pictures whose longer side exceeds MAX_SIDE are scaled down (INTER_LINEAR) for detection;
    detect (one detector per input size, built once, like our tract plans);
    the best face's landmarks are scaled back; alignCrop on the full picture; feature;
  cosine of the two features.

It runs on one thread (cv2.setNumThreads(1)) and prints one JSON object on stdout:
  {"opencv": "4.10.0", "reps": N, "ms_per_verification": median, "pairs": [
     {"id_photo": ..., "live": ..., "score": cosine or null}, ...]}

Usage: bench_face_opencv.py --models DIR --pairs PAIRS.json [--reps N] [--max-side 640]
PAIRS.json is a list of [id_photo_path, live_path]. Install the peer with
  python3 -m venv .cache/opencv-venv && .cache/opencv-venv/bin/pip install opencv-python-headless==4.10.0.84
"""

import argparse
import json
import statistics
import sys
import time

try:
    import cv2
    import numpy as np
except ImportError as e:  # the Rust bench reports this line as the peer's absence
    print(json.dumps({"error": f"opencv-python is not installed for {sys.executable}: {e}"}))
    sys.exit(3)

SMALL_PICTURE = 256
BORDER = 16
SCORE_THRESHOLD = 0.8
NMS_THRESHOLD = 0.3


class Pipeline:
    def __init__(self, models, max_side):
        self.yunet = f"{models}/face_detection_yunet_2023mar.onnx"
        self.rec = cv2.FaceRecognizerSF.create(f"{models}/face_recognition_sface_2021dec.onnx", "")
        self.max_side = max_side
        self.detectors = {}

    def detector(self, w, h):
        d = self.detectors.get((w, h))
        if d is None:
            d = cv2.FaceDetectorYN.create(self.yunet, "", (w, h), SCORE_THRESHOLD, NMS_THRESHOLD, 5000)
            self.detectors[(w, h)] = d
        return d

    def embed(self, img):
        if max(img.shape[:2]) < SMALL_PICTURE:
            img = cv2.copyMakeBorder(img, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_CONSTANT, value=0)
        h, w = img.shape[:2]
        longer = max(w, h)
        if longer > self.max_side:
            s = self.max_side / longer
            sw, sh = max(1, round(w * s)), max(1, round(h * s))
            small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_LINEAR)
        else:
            sw, sh, small = w, h, img
        _, faces = self.detector(sw, sh).detect(small)
        if faces is None or len(faces) == 0:
            return None
        # The largest face, as our quality gate picks for the live picture; on a card photo
        # it is also the most confident one.
        face = max(faces, key=lambda f: f[2] * f[3]).copy()
        fx, fy = w / sw, h / sh
        face[0:14:2] *= fx
        face[1:14:2] *= fy
        return self.rec.feature(self.rec.alignCrop(img, face))

    def verify(self, id_img, live_img):
        a = self.embed(id_img)
        b = self.embed(live_img)
        if a is None or b is None:
            return None
        return float(self.rec.match(a, b, cv2.FaceRecognizerSF_FR_COSINE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--max-side", type=int, default=640)
    args = ap.parse_args()

    cv2.setNumThreads(1)
    with open(args.pairs) as f:
        pairs = json.load(f)
    images = []
    for id_path, live_path in pairs:
        a, b = cv2.imread(id_path), cv2.imread(live_path)
        if a is None or b is None:
            print(json.dumps({"error": f"cannot read {id_path} or {live_path}"}))
            return 2
        images.append((a, b))

    p = Pipeline(args.models, args.max_side)
    scores = [p.verify(a, b) for a, b in images]  # also warms up every detector size
    times = []
    for _ in range(max(1, args.reps)):
        for a, b in images:
            t0 = time.perf_counter()
            p.verify(a, b)
            times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({
        "opencv": cv2.__version__,
        "reps": args.reps,
        "ms_per_verification": statistics.median(times),
        "pairs": [{"id_photo": i, "live": l, "score": s} for (i, l), s in zip(pairs, scores)],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
