#!/usr/bin/env python3
"""Writes the demo model and its data into OUT_DIR:

  model.onnx     a small image classifier: Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Relu
                 -> Gemm -> Softmax, on 8x8 single-channel images, batch size left dynamic
  input.npy      two sample images, float32 [2, 1, 8, 8]
  expected.npy   the class probabilities NumPy computes for them, float32 [2, 10]

Weights come from a fixed seed, so every run writes the same files.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv2d(x, w, b, pad):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    y = np.zeros((n, k, out_h, out_w), dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, :, i:i + kh, j:j + kw]
            y[:, :, i, j] = np.einsum("nchw,kchw->nk", patch, w)
    return y + b.reshape(1, k, 1, 1)


def max_pool2x2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference(x, p):
    y = np.maximum(conv2d(x.astype(np.float64), p["conv_w"], p["conv_b"], pad=1), 0)
    y = max_pool2x2(y).reshape(x.shape[0], -1)
    y = np.maximum(y @ p["fc1_w"].T + p["fc1_b"], 0)
    y = y @ p["fc2_w"].T + p["fc2_b"]
    return softmax(y).astype(np.float32)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(2024)
    params = {
        "conv_w": rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "fc1_w": rng.normal(0, 0.2, (16, 64)).astype(np.float32),
        "fc1_b": rng.normal(0, 0.1, (16,)).astype(np.float32),
        "fc2_w": rng.normal(0, 0.4, (10, 16)).astype(np.float32),
        "fc2_b": rng.normal(0, 0.1, (10,)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["conv_relu"], name="conv_relu"),
        helper.make_node("MaxPool", ["conv_relu"], ["pool"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc1_w", "fc1_b"], ["fc1"], name="fc1", transB=1),
        helper.make_node("Relu", ["fc1"], ["fc1_relu"], name="fc1_relu"),
        helper.make_node("Gemm", ["fc1_relu", "fc2_w", "fc2_b"], ["logits"], name="fc2",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "kiln_demo_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        initializer=[numpy_helper.from_array(v, k) for k, v in params.items()])
    model = helper.make_model(graph, producer_name="kiln-demo",
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, "model.onnx"))

    # Two 8x8 "images": a vertical bar and a diagonal, with a little noise.
    x = rng.normal(0, 0.05, (2, 1, 8, 8)).astype(np.float32)
    x[0, 0, :, 3:5] += 1.0
    x[1, 0, np.arange(8), np.arange(8)] += 1.0
    np.save(os.path.join(out_dir, "input.npy"), x)
    np.save(os.path.join(out_dir, "expected.npy"), reference(x, params))
    print(f"wrote model.onnx, input.npy {list(x.shape)}, expected.npy in {out_dir}")


if __name__ == "__main__":
    main()
