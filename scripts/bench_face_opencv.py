#!/usr/bin/env python3
"""OpenCV's own face pipeline, the peer of `kiosk bench --only face`.

Runs FaceDetectorYN + FaceRecognizerSF (opencv-python-headless, same ONNX files, same
pictures) through exactly the steps our Rust pipeline takes, split as the kiosk works:

  enrol (once per card), on the card photo:
    a photo whose longer side is under 256 px gets a 16 px black border;
    scaled down (INTER_LINEAR) when its longer side exceeds MAX_SIDE;
    detect (one detector per input size, built once, like our tract plans);
    the largest face's landmarks are scaled back; alignCrop on the full picture; feature.
  verify (each live camera frame):
    the same without the border (the frame is 640x480: detection at MAX_SIDE wide);
    cosine with the enrolled card.

Both steps run for every pair even when one finds no face, as ours do. It runs on one
thread (cv2.setNumThreads(1)) and is driven over stdin/stdout, so the Rust bench can
alternate between its own pipeline and this one pair by pair (a change in the machine's
load then hits both alike):

  after loading and a warm-up pass over every pair (which builds each detector size and
  gives the scores) it prints one line:
    {"opencv": "4.10.0", "scores": [cosine or null, ...]}
  then for each line "N" read on stdin it enrols and verifies pair N once and prints
    {"cpu_ms": [enrol, verify], "wall_ms": [enrol, verify]}
  timed in process CPU time (the cost on the CPU, whatever else the machine runs) and in
  wall time. It exits at the end of stdin. Errors are one line {"error": "..."}.

Usage: bench_face_opencv.py --models DIR --pairs PAIRS.json [--max-side 320]
PAIRS.json is a list of [card_photo_path, live_frame_path]. Install the peer with
  python3 -m venv .cache/opencv-venv && .cache/opencv-venv/bin/pip install opencv-python-headless==4.10.0.84
"""

import argparse
import json
import sys
import time

try:
    import cv2
    import numpy as np  # noqa: F401  (cv2 needs it; imported here so its absence is reported)
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

    def embed(self, img, border):
        if border and max(img.shape[:2]) < SMALL_PICTURE:
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
        # The largest face, as our engine picks on both the card photo and the live frame.
        face = max(faces, key=lambda f: f[2] * f[3]).copy()
        fx, fy = w / sw, h / sh
        face[0:14:2] *= fx
        face[1:14:2] *= fy
        return self.rec.feature(self.rec.alignCrop(img, face))

    def enrol(self, card):
        return self.embed(card, border=True)

    def verify(self, reference, frame):
        live = self.embed(frame, border=False)
        if reference is None or live is None:
            return None
        return float(self.rec.match(reference, live, cv2.FaceRecognizerSF_FR_COSINE))


def say(obj):
    print(json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--max-side", type=int, default=320)
    args = ap.parse_args()

    cv2.setNumThreads(1)
    with open(args.pairs) as f:
        pairs = json.load(f)
    images = []
    for card_path, frame_path in pairs:
        a, b = cv2.imread(card_path), cv2.imread(frame_path)
        if a is None or b is None:
            say({"error": f"cannot read {card_path} or {frame_path}"})
            return 2
        images.append((a, b))

    p = Pipeline(args.models, args.max_side)
    say({"opencv": cv2.__version__, "scores": [p.verify(p.enrol(a), b) for a, b in images]})
    for line in sys.stdin:
        try:
            a, b = images[int(line)]
        except (ValueError, IndexError):
            say({"error": f"no pair {line.strip()!r}"})
            return 2
        c0, w0 = time.process_time(), time.perf_counter()
        reference = p.enrol(a)
        c1, w1 = time.process_time(), time.perf_counter()
        p.verify(reference, b)
        c2, w2 = time.process_time(), time.perf_counter()
        say({
            "cpu_ms": [(c1 - c0) * 1000.0, (c2 - c1) * 1000.0],
            "wall_ms": [(w1 - w0) * 1000.0, (w2 - w1) * 1000.0],
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
