"""nmc_nengo.loihi: a built nengo-loihi simulator becomes an nmc quantized
model that nmc reads and runs (needs nengo 3.2, nengo-loihi 1.1 and the
`nmc` binary: `cargo build --release -p nmc`)."""

import os
import subprocess
import warnings

import numpy as np
import pytest

nengo = pytest.importorskip("nengo")
nengo_loihi = pytest.importorskip("nengo_loihi")
from nmc_nengo.loihi import write_qmodel  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NMC = os.path.join(ROOT, "target", "release", "nmc")


def small_net():
    with nengo.Network(seed=0, label="small net") as net:
        nengo_loihi.add_params(net)
        stim = nengo.Node(np.linspace(0, 1, 8))
        host = nengo.Ensemble(8, 1, neuron_type=nengo.LIF(), gain=np.full(8, 3.0), bias=np.zeros(8))
        net.config[host].on_chip = False
        nengo.Connection(stim, host.neurons, synapse=None)
        a = nengo.Ensemble(20, 1, neuron_type=nengo.LIF(), gain=np.ones(20), bias=np.linspace(-0.5, 0.5, 20))
        nengo.Connection(host.neurons, a.neurons, transform=np.random.RandomState(1).normal(0, 0.1, (20, 8)),
                         synapse=0.005)
    return net


def test_write_qmodel_reads_in_nmc(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with nengo_loihi.Simulator(small_net(), target="sim", progress_bar=False) as sim:
            names = write_qmodel(str(tmp_path / "m.q.ron"), sim)
    assert len(names) == 1
    text = (tmp_path / "m.q.ron").read_text()
    assert "exported by nmc_nengo.loihi" in text and 'name: "small_net"' in text
    if not os.path.exists(NMC):
        pytest.skip("nmc not built")
    out = subprocess.run([NMC, "compile", str(tmp_path / "m.q.ron"), "--target", "loihi1", "-o",
                          str(tmp_path / "m.nmca")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_write_qmodel_needs_the_emulator():
    class NotBuilt:
        sims = {}
        dt = 0.001

    with pytest.raises(ValueError, match='target="sim"'):
        write_qmodel("/nonexistent", NotBuilt())
