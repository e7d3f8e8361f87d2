#!/usr/bin/env python3
"""Measure the activation ranges that quantise SFace to int8 (hack/sface_int8_ranges.json).

prepare_models.py builds models/sface_int8.onnx from the prepared fp32 model and these
committed ranges, so setup gives the same bytes on every machine (ranges measured on the
spot would vary with the CPU's floating point). Rerun this only to change the calibration.

The faces of the photos setup extracts, aligned as SFace expects, each also mirrored,
darkened, brightened, blurred, shrunk to a 36 px face and in greyscale: the conditions
the tests and users bring. Each Conv's input and output gets the range that holds
99.999% of its values (a few outliers would otherwise waste the 256 levels).

Usage: calibrate_sface.py MODELS_DIR PHOTOS_DIR OUT_JSON
"""
import glob
import json
import os
import sys
import tempfile

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod
from onnxruntime.quantization.calibrate import create_calibrator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prepare_models import fold_constant_reshapes  # noqa: E402  the same graph prepare_models quantises


def aligned_faces(models_dir, photos_dir):
    detector = cv2.FaceDetectorYN.create(os.path.join(models_dir, "yunet.onnx"), "", (320, 320), 0.8, 0.3, 5000)
    recognizer = cv2.FaceRecognizerSF.create(os.path.join(models_dir, "sface.onnx"), "")
    faces = []
    for path in sorted(glob.glob(os.path.join(photos_dir, "*"))):
        image = cv2.imread(path)
        detector.setInputSize((image.shape[1], image.shape[0]))
        _, found = detector.detect(image)
        faces += [recognizer.alignCrop(image, face) for face in ([] if found is None else found)]
    return faces


def variants(face):
    small = cv2.resize(cv2.resize(face, (36, 36), interpolation=cv2.INTER_AREA), (112, 112))
    gray = cv2.cvtColor(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    scaled = lambda k: np.clip(face * k, 0, 255).astype(np.uint8)
    return [face, face[:, ::-1], scaled(0.5), scaled(1.4), cv2.GaussianBlur(face, (0, 0), 2.5), small, gray]


class Crops(CalibrationDataReader):
    def __init__(self, crops):
        self.batches = iter([{"data": c[None]} for c in crops])

    def get_next(self):
        return next(self.batches, None)


def main():
    models_dir, photos_dir, out = sys.argv[1:4]
    faces = aligned_faces(models_dir, photos_dir)
    # SFace takes RGB, planar, 0-255.
    crops = [np.ascontiguousarray(v)[:, :, ::-1].transpose(2, 0, 1).astype(np.float32)
             for face in faces for v in variants(face)]
    model = onnx.load(os.path.join(models_dir, "sface.onnx"))
    fold_constant_reshapes(model.graph)
    with tempfile.TemporaryDirectory() as tmp:
        folded = os.path.join(tmp, "sface.onnx")
        onnx.save(model, folded)
        calibrator = create_calibrator(folded, op_types_to_calibrate=["Conv"],
                                       augmented_model_path=os.path.join(tmp, "augmented.onnx"),
                                       calibrate_method=CalibrationMethod.Percentile,
                                       extra_options={"percentile": 99.999})
        calibrator.collect_data(Crops(crops))
        ranges = calibrator.compute_data()
    weights = {i.name for i in model.graph.initializer}
    wanted = {t for n in model.graph.node if n.op_type == "Conv" for t in [*n.input, *n.output] if t not in weights}
    table = {name: [float(f"{float(ranges[name].range_value[0]):.4g}"), float(f"{float(ranges[name].range_value[1]):.4g}")]
             for name in sorted(wanted)}
    with open(out, "w") as f:
        json.dump({"faces": len(faces), "crops": len(crops), "percentile": 99.999, "ranges": table}, f, indent=1)
        f.write("\n")
    print(f"calibrate_sface: {len(table)} tensors from {len(crops)} crops of {len(faces)} faces -> {out}")


if __name__ == "__main__":
    main()
