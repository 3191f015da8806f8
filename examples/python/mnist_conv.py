"""Deploy the bundled MNIST conv net from Python: compile for loihi1, emulate
100 held-out digits bit-accurately, and plot the per-layer rates and the
partition's core map.

Notebook-style: each block below is a cell. Run it from the repository root
after installing the package (README "Python"):

    pip install ./crates/nmc-py matplotlib
    python examples/python/mnist_conv.py            # figures in nmc_figures/

Nothing is trained here: the model is examples/mnist_conv/mnist_conv.nir.
"""

# %% Load, compile
import argparse
from pathlib import Path

import numpy as np

import nmc

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--digits", type=int, default=100, help="test digits to emulate (default 100)")
ap.add_argument("--steps", type=int, default=20, help="time steps per digit (default 20)")
ap.add_argument("--out", type=Path, default=Path("nmc_figures"), help="folder for the figures")
args = ap.parse_args()

here = Path(__file__).resolve().parents[1] / "mnist_conv"
model = nmc.load(here / "mnist_conv.nir")
x = np.load(here / "test_images.npy")[: args.digits]   # (digits, 1, 784): one step, held
y = np.load(here / "test_labels.npy")[: args.digits]

dep = model.compile("loihi1")
print(dep.partition_text)

# %% Emulate on the chip model and read the output layer's spike counts
spikes = dep.emulate(x, args.steps)                     # {layer: uint8 (digits, steps, *shape)}
out_layer = list(spikes)[-1]
counts = spikes[out_layer].sum(axis=1)                  # (digits, 10)
print(f"emulated accuracy over {len(y)} digits, {args.steps} steps: {(counts.argmax(axis=1) == y).mean():.1%}")

# %% Verify: float reference vs fixed-point reference (A) vs emulator (B)
# Each chip layer answers one step later than the layer before it (synaptic
# delay): verify runs the deployment `steps + max lag` steps and reads each
# layer over its own window, so its rates compare like with like. The raw
# emulation above ran only `steps`, so its deeper layers lost their last
# steps.
report = nmc.verify(model, dep, x, labels=y, steps=args.steps)
print(f"A = B bit for bit: {report['exact']['equal']}")
print(f"float accuracy {report['output']['float_accuracy']:.1%}, deployed {report['output']['deployed_accuracy']:.1%}")
layers = report["layers"]
for r in layers:
    print(f"  {r['layer']:8} lag {r['lag']}  float {r['float_rate_hz']:7.1f} Hz   deployed {r['deployed_rate_hz']:7.1f} Hz"
          f"   correlation {r['rate_correlation']:.3f}")
dt = report["dt"]

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    raise SystemExit("matplotlib is not installed: pip install matplotlib to draw the figures")

args.out.mkdir(parents=True, exist_ok=True)
names = [f"{r['layer']}\n(lag {r['lag']})" for r in layers]
pos = np.arange(len(names))
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(pos - 0.2, [r["float_rate_hz"] for r in layers], 0.4, label="float reference")
ax.bar(pos + 0.2, [r["deployed_rate_hz"] for r in layers], 0.4, label="emulated (loihi1)")
ax.set_xticks(pos, names)
ax.set_ylabel("mean rate (Hz)")
ax.set_title(f"mnist_conv: per-layer rates, {len(y)} digits × {args.steps} steps (dt = {dt * 1e3:g} ms)")
ax.legend()
fig.tight_layout()
fig.savefig(args.out / "rates.png", dpi=120)

# %% The partition's core map: each core's use of each resource (% of its limit)
part = dep.partition
cores = part["cores"]
resources = [u["resource"] for u in cores[0]["usage"]]
use = np.array([[u["pct"] for u in c["usage"]] for c in cores])
fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(resources), 1.0 + 0.45 * len(cores)))
im = ax.imshow(use, cmap="viridis", vmin=0, vmax=100, aspect="auto")
ax.set_xticks(range(len(resources)), resources, rotation=30, ha="right")
ax.set_yticks(range(len(cores)),
              [f"chip {c['chip']} core {c['core']}: " + ", ".join(b["layer"] for b in c["blocks"]) for c in cores])
for i in range(use.shape[0]):
    for j in range(use.shape[1]):
        ax.text(j, i, f"{use[i, j]:.0f}", ha="center", va="center", color="w" if use[i, j] < 60 else "k", fontsize=8)
host = ", ".join(h["layer"] for h in part["host"]) or "none"
ax.set_title(f"{part['model']} on {part['target']}: {len(cores)} cores (host: {host})")
fig.colorbar(im, ax=ax, label="% of the core's limit")
fig.tight_layout()
fig.savefig(args.out / "core_map.png", dpi=120)
print(f"figures: {args.out / 'rates.png'}, {args.out / 'core_map.png'}")
