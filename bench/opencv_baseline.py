#!/usr/bin/env python3
"""The tool a user would otherwise reach for: OpenCV's own pipeline on the same two models.

cv2.FaceDetectorYN + cv2.FaceRecognizerSF, frame by frame at the frame's native
resolution, with the OpenCV Zoo defaults (score 0.9, NMS 0.3, cosine 0.363), sampling
the same frames as cameo (the first frame at or after each multiple of 1/fps).

Usage: opencv_baseline.py VIDEO GALLERY_DIR MODELS_DIR FPS
Prints one JSON object: timings, frames and faces, and per person the sampled seconds
at which they were recognised.
"""
import json
import os
import sys
import time

import cv2


def main():
    video, gallery_dir, models_dir, fps = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    detector = cv2.FaceDetectorYN.create(os.path.join(models_dir, "yunet.onnx"), "", (320, 320), 0.9, 0.3, 5000)
    recognizer = cv2.FaceRecognizerSF.create(os.path.join(models_dir, "sface.onnx"), "")

    def faces(image):
        detector.setInputSize((image.shape[1], image.shape[0]))
        _, found = detector.detect(image)
        return [] if found is None else list(found)

    gallery = []
    for person in sorted(os.listdir(gallery_dir)):
        for photo in sorted(os.listdir(os.path.join(gallery_dir, person))):
            image = cv2.imread(os.path.join(gallery_dir, person, photo))
            found = faces(image)
            if len(found) != 1:
                sys.exit(f"{person}/{photo}: {len(found)} faces")
            gallery.append((person, recognizer.feature(recognizer.alignCrop(image, found[0]))))

    started = time.perf_counter()
    capture = cv2.VideoCapture(video)
    native_fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    half_frame = 0.5 / native_fps
    next_sample, frames, sampled, detections = 0.0, 0, 0, 0
    decode = detect = recognise = 0.0
    seen = {}
    while True:
        t0 = time.perf_counter()
        if not capture.grab():
            break
        frames += 1
        seconds = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if seconds + half_frame < next_sample:
            decode += time.perf_counter() - t0
            continue
        while next_sample <= seconds + half_frame:
            next_sample += 1.0 / fps
        _, frame = capture.retrieve()
        t1 = time.perf_counter()
        decode += t1 - t0
        found = faces(frame)
        t2 = time.perf_counter()
        detect += t2 - t1
        sampled += 1
        detections += len(found)
        for face in found:
            feature = recognizer.feature(recognizer.alignCrop(frame, face))
            scores = [(recognizer.match(feature, g, cv2.FaceRecognizerSF_FR_COSINE), name) for name, g in gallery]
            score, name = max(scores)
            if score >= 0.363:
                seen.setdefault(name, []).append(round(seconds, 3))
        recognise += time.perf_counter() - t2
    wall = time.perf_counter() - started
    print(json.dumps({
        "wall_seconds": wall, "decode_seconds": decode, "detect_seconds": detect, "recognise_seconds": recognise,
        "frames_decoded": frames, "frames_analysed": sampled, "faces": detections, "recognised": seen,
    }))


if __name__ == "__main__":
    main()
