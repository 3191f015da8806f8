#!/usr/bin/env python3
"""nengo.Simulator's accuracy on the trained seeds' network (the peer figure
nmc's float reference and its loihi1 deployment are compared with).

Builds net.py's network with weights.npz (train.py) -- the network net.nir was
exported from -- and runs `nengo.Simulator(dt=0.001)` on the 1000 held-out
digits (train.py's split), each shown for 100 steps as a static image (as in
NengoDL's tutorial, whose test data tiles the image over time), the
simulator reset between images. The decision is NengoDL's: argmax of the
filtered probe out_p_filt (Lowpass 0.1 s) at the last step of a presentation
of 10, 30, 60 or 100 steps (one run gives all four: the probe at step n of a
100-step run is what an n-step run records). Also reported: argmax of the
unfiltered readout out_p summed over the steps (nmc's other readout
decision), per-layer spike counts and rates, and the same figures on the 200
images of test_images.npy (every 5th held-out digit, 20 per class: the
subset the README's nmc commands use).

Writes nengo_accuracy.json. Run (from the repository root, ~5 min, one core):
    /tmp/nengo/bin/python examples/nengo_mnist/nengo_accuracy.py [--limit N]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import nengo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import net as N  # noqa: E402
from train import mnist_split  # noqa: E402

DT = 0.001
STEPS = 100
CHECK = (10, 30, 60, 100)


def main():
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    t0 = time.time()
    _, _, xte, yte = mnist_split()
    if limit:
        xte, yte = xte[:limit], yte[:limit]
    w = {k: np.asarray(v, dtype=np.float64) for k, v in np.load(os.path.join(HERE, "weights.npz")).items()}
    net, inp, probes, state = N.build(w, xte)
    with net:
        layer_p = {e.label: nengo.Probe(e.neurons) for e in net.all_ensembles}
    n = len(xte)
    filt = np.zeros((n, len(CHECK)), dtype=np.int64)
    summed = np.zeros((n, len(CHECK)), dtype=np.int64)
    spikes = {k: np.zeros(n, dtype=np.int64) for k in layer_p}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
            for i in range(n):
                state["i"] = i
                sim.reset()
                sim.run_steps(STEPS)
                of = sim.data[probes["out_p_filt"]]
                op = np.cumsum(sim.data[probes["out_p"]], axis=0)
                for j, s in enumerate(CHECK):
                    filt[i, j] = of[s - 1].argmax()
                    summed[i, j] = op[s - 1].argmax()
                for k, p in layer_p.items():
                    spikes[k][i] = int((sim.data[p] > 0).sum())
                if (i + 1) % 100 == 0:
                    print("%d images, %.0f s, acc@100 so far %.4f" % (i + 1, time.time() - t0,
                                                                     (filt[:i + 1, -1] == yte[:i + 1]).mean()),
                          flush=True)

    sub = np.arange(0, n, 5)  # test_images.npy: every 5th held-out digit

    def figures(idx):
        return {
            "images": int(len(idx)),
            "accuracy_out_p_filt_last_step": {str(s): float((filt[idx, j] == yte[idx]).mean())
                                              for j, s in enumerate(CHECK)},
            "accuracy_out_p_sum_over_time": {str(s): float((summed[idx, j] == yte[idx]).mean())
                                             for j, s in enumerate(CHECK)},
            "spikes_per_image": {k: float(v[idx].mean()) for k, v in spikes.items()},
            "mean_rate_hz": {k: float(v[idx].mean() / (net_sizes[k] * STEPS * DT)) for k, v in spikes.items()},
        }

    net_sizes = {e.label: e.n_neurons for e in net.all_ensembles}
    out = {
        "generator": "examples/nengo_mnist/nengo_accuracy.py",
        "simulator": "nengo.Simulator %s, dt %g, %d steps per image, reset between images" % (nengo.__version__, DT,
                                                                                             STEPS),
        "decision": "argmax of out_p_filt (Lowpass %g s probe) at step n, as NengoDL's classification_accuracy; "
                    "also argmax of out_p summed over steps 1..n" % N.READOUT_SYNAPSE,
        "initial_voltage": "0 (net.py sets initial_state; nengo's default would be Uniform(0, 1))",
        "neurons": net_sizes,
        "held_out": figures(np.arange(n)),
        "test_images_npy": figures(sub),
        "seconds": round(time.time() - t0, 1),
        "numpy": np.__version__,
    }
    name = "nengo_accuracy.json" if not limit else "nengo_accuracy.limit%d.json" % limit
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out["held_out"], indent=1))


if __name__ == "__main__":
    main()
