"""What emulating through Python costs over the CLI (issue 13: < 5 %).

Emulates the bundled mnist_conv example, compiled for loihi1, on 100 held-out
digits for 20 steps, both ways, and prints the median wall time of each:

- CLI: ``nmc emulate A.nmca --input X.npy --steps 20`` (process start,
  artifact and array reading included; with ``--out`` it also writes every
  layer's spikes, which is what the Python call returns);
- Python: ``Deployment.emulate(x, 20)`` on an already-loaded deployment
  (returns every layer's spikes as numpy arrays), and the whole
  ``nmc.load(A.nmca).emulate(x, 20)``.

Run from the repository root after ``cargo build --release -p nmc`` and
``pip install ./crates/nmc-py``:

    python crates/nmc-py/bench/emulate_overhead.py [--repeat 7] [--digits 100]

A benchmark, not a test: timings on a shared machine vary by a few percent
run to run, so compare medians and repeat when close.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import nmc

REPO = Path(__file__).resolve().parents[3]
EX = REPO / "examples" / "mnist_conv"


def median_time(f, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--digits", type=int, default=100)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--nmc", default=os.environ.get("NMC_BIN", REPO / "target" / "release" / "nmc"))
    a = ap.parse_args()

    x = np.load(EX / "test_images.npy")[: a.digits]
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        np.save(d / "x.npy", x)
        dep = nmc.load(EX / "mnist_conv.nir").compile("loihi1")
        dep.save(d / "a.nmca")
        cli = [str(a.nmc), "emulate", str(d / "a.nmca"), "--input", str(d / "x.npy"), "--steps", str(a.steps)]

        def run_cli(extra=()):
            subprocess.run([*cli, *extra], check=True, stdout=subprocess.DEVNULL)

        # Warm the page cache and check both give the same spikes first.
        run_cli(["--out", str(d / "s.npz")])
        ref = np.load(d / "s.npz")
        py = dep.emulate(x, a.steps)
        for k, v in py.items():
            np.testing.assert_array_equal(v, ref[f"spikes.{k}"])

        t_cli = median_time(run_cli, a.repeat)
        t_cli_out = median_time(lambda: run_cli(["--out", str(d / "s.npz")]), a.repeat)
        t_py = median_time(lambda: dep.emulate(x, a.steps), a.repeat)
        t_py_load = median_time(lambda: nmc.load(d / "a.nmca").emulate(x, a.steps), a.repeat)

    print(f"mnist_conv on loihi1, {a.digits} digits x {a.steps} steps, median of {a.repeat}:")
    print(f"  CLI  nmc emulate                     {t_cli * 1e3:8.1f} ms")
    print(f"  CLI  nmc emulate --out spikes.npz    {t_cli_out * 1e3:8.1f} ms")
    print(f"  Py   Deployment.emulate               {t_py * 1e3:8.1f} ms   {100 * (t_py / t_cli - 1):+6.1f} % vs CLI")
    print(f"  Py   nmc.load(.nmca).emulate          {t_py_load * 1e3:8.1f} ms   {100 * (t_py_load / t_cli - 1):+6.1f} % vs CLI")


if __name__ == "__main__":
    main()
