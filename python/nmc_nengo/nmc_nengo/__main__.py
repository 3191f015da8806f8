"""python -m nmc_nengo MODULE:FUNC out.nir [--dt 0.001] [--inputs LABEL,...]

FUNC() returns a nengo.Network (or a (network, sim) pair, sim being a built
nengo.Simulator or a nengo_dl.Simulator with trained parameters). The
network is exported with nmc_nengo.write; the NIR node names and the order
of every input/population are printed.
"""

import argparse
import importlib
import os
import sys

from . import ExportError, write


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m nmc_nengo", description=__doc__.splitlines()[0])
    ap.add_argument("target", help="MODULE:FUNC returning a nengo.Network or (network, sim)")
    ap.add_argument("out", help="the .nir file to write")
    ap.add_argument("--dt", type=float, default=0.001, help="step in seconds (default 0.001)")
    ap.add_argument("--inputs", default=None,
                    help="comma-separated labels of the source Nodes that are inputs (default: all)")
    a = ap.parse_args(argv)
    mod, _, func = a.target.partition(":")
    if not func:
        ap.error("target must be MODULE:FUNC")
    sys.path.insert(0, os.getcwd())
    made = getattr(importlib.import_module(mod), func)()
    net, sim = made if isinstance(made, tuple) else (made, None)
    inputs = None
    if a.inputs:
        want = a.inputs.split(",")
        inputs = [n for n in net.all_nodes if n.label in want]
    try:
        ex = write(a.out, net, dt=a.dt, sim=sim, inputs=inputs)
    except ExportError as e:
        print("nmc_nengo: error: %s" % e, file=sys.stderr)
        return 2
    for name, node in ex.graph.nodes.items():
        print("%-24s %s" % (name, type(node).__name__))
    print("wrote %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
