#!/usr/bin/env python3
"""Reference for the parity test: the same models through onnxruntime in Python, with
pre- and post-processing written independently of the Rust code (numpy for YuNet's
input and output decoding, OpenCV's own alignCrop for alignment).

Usage: parity.py IMAGE MODELS_DIR SCORE_THRESHOLD RECOGNIZER (the SFace file cameo runs)
Prints JSON: [{"bbox": [x, y, w, h], "landmarks": [[x, y] x5], "score": s, "embedding": [128]}]
for faces in image order of decreasing score. The image is used at its own size.
"""
import json
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort


def detect(session, bgr, threshold):
    h, w = bgr.shape[:2]
    ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
    blob = np.zeros((1, 3, ph, pw), np.float32)
    blob[0, :, :h, :w] = bgr.transpose(2, 0, 1)
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, {"input": blob})))
    faces = []
    for stride in (8, 16, 32):
        cols, rows = pw // stride, ph // stride
        cls = np.clip(out[f"cls_{stride}"].reshape(-1), 0, 1)
        obj = np.clip(out[f"obj_{stride}"].reshape(-1), 0, 1)
        bbox = out[f"bbox_{stride}"].reshape(-1, 4)
        kps = out[f"kps_{stride}"].reshape(-1, 10)
        score = np.sqrt(cls * obj)
        for i in np.nonzero(score >= threshold)[0]:
            col, row = i % cols, i // cols
            cx, cy = (col + bbox[i, 0]) * stride, (row + bbox[i, 1]) * stride
            bw, bh = np.exp(bbox[i, 2]) * stride, np.exp(bbox[i, 3]) * stride
            marks = [[(kps[i, 2 * k] + col) * stride, (kps[i, 2 * k + 1] + row) * stride] for k in range(5)]
            faces.append((float(score[i]), [cx - bw / 2, cy - bh / 2, bw, bh], marks))
    faces.sort(key=lambda f: -f[0])
    kept = []
    for face in faces:
        if all(iou(face[1], k[1]) <= 0.3 for k in kept):
            kept.append(face)
    return kept


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def main():
    image, models, threshold, recognizer_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    detector = ort.InferenceSession(os.path.join(models, "yunet.onnx"), options, providers=["CPUExecutionProvider"])
    recognizer = ort.InferenceSession(recognizer_path, options, providers=["CPUExecutionProvider"])
    aligner = cv2.FaceRecognizerSF.create(os.path.join(models, "sface.onnx"), "")
    bgr = cv2.imread(image, cv2.IMREAD_COLOR)
    results = []
    for score, box, marks in detect(detector, bgr.astype(np.float32), threshold):
        row = np.array([*box, *np.array(marks).reshape(-1), score], np.float32)
        crop = aligner.alignCrop(bgr, row)
        rgb = crop[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)
        embedding = recognizer.run(None, {"data": rgb})[0][0]
        embedding = embedding / np.linalg.norm(embedding)
        results.append({"bbox": [float(v) for v in box], "landmarks": [[float(x), float(y)] for x, y in marks],
                        "score": score, "embedding": embedding.tolist()})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
