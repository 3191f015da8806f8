#!/usr/bin/env python3
"""Checks net.nir against nengo.Simulator spike for spike.

Runs net.py's network (weights.npz) in nengo.Simulator on the first N images
of test_images.npy for 100 steps, and nmc_nengo.replay (numpy, nengo's rules
as the exporter documents them) on net.nir with the same images, and
compares every layer's spikes (in nmc's C,H,W order) and the out_p_filt
readout. Writes check_export.json.

    /tmp/nengo/bin/python examples/nengo_mnist/check_export.py [N=4]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import nengo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "nmc_nengo"))
import nir  # noqa: E402
import nmc_nengo  # noqa: E402
from nmc_nengo.replay import replay  # noqa: E402
import net as N  # noqa: E402

STEPS = 100
DT = 0.001


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    images = np.load(os.path.join(HERE, "test_images.npy"))[:n, 0].astype(np.float64)
    w = {k: np.asarray(v, dtype=np.float64) for k, v in np.load(os.path.join(HERE, "weights.npz")).items()}
    net, inp, probes, state = N.build(w, images)
    with net:
        layer_p = {e.label: nengo.Probe(e.neurons) for e in net.all_ensembles}
    graph = nir.read(os.path.join(HERE, "net.nir"))
    mism, total, out_err = {}, {}, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
            ex = nmc_nengo.export(net, dt=DT, sim=sim, inputs=[inp], probes=[probes["out_p_filt"]])
            for i in range(n):
                state["i"] = i
                sim.reset()
                sim.run_steps(STEPS)
                x = np.repeat(ex.to_nmc("pixels", images[i])[None], STEPS, axis=0)
                rs, ro = replay(graph, x, dt=DT)
                for k, p in layer_p.items():
                    ref = ex.to_nmc(k, sim.data[p] > 0)
                    mism[k] = mism.get(k, 0) + int((rs[k] != ref).sum())
                    total[k] = total.get(k, 0) + int(ref.sum())
                out_err = max(out_err, float(np.abs(ro["out_p_filt"] - sim.data[probes["out_p_filt"]]).max()))
                print(i, mism, flush=True)
    res = {"images": n, "steps": STEPS, "nengo_spikes": total, "replay_mismatched_spike_bits": mism,
           "replay_max_abs_out_p_filt_error": out_err}
    with open(os.path.join(HERE, "check_export.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")
    print(res)


if __name__ == "__main__":
    main()
