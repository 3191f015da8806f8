"""Tests of nmc_nengo (run: python -m pytest python/nmc_nengo/tests, or plain
python this file). Each builds a tiny seeded network, runs nengo.Simulator,
exports it and checks nmc_nengo.replay of the NIR against nengo's spikes."""

import os
import sys
import tempfile

import numpy as np
import nengo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import nir  # noqa: E402
import nmc_nengo  # noqa: E402
from nmc_nengo.replay import replay  # noqa: E402

DT = 0.001
STEPS = 120
ZERO = {"voltage": nengo.dists.Choice([0.0])}


def run(net, probes, inp, arr, **kw):
    with nengo.Simulator(net, dt=DT, progress_bar=False) as sim:
        sim.run_steps(STEPS)
    ex = nmc_nengo.export(net, dt=DT, sim=sim, **kw)
    x = ex.to_nmc(ex.names[inp], arr)
    rs, ro = replay(ex.graph, x)
    return sim, ex, rs, ro


def stim(n, seed=0):
    return np.random.RandomState(seed).rand(STEPS, n)


def node_of(arr):
    return nengo.Node(lambda t: arr[int(round(t / DT)) - 1], size_out=arr.shape[1], label="x")


def test_decoded_and_bias_node():
    """Node -> Ensemble (encoders), a decoded Ensemble -> Ensemble
    connection (nengo's solved decoders), a constant bias Node, and a
    readout with a bias."""
    arr = stim(3)
    with nengo.Network(seed=5) as net:
        inp = node_of(arr)
        one = nengo.Node([1.0], label="one")
        a = nengo.Ensemble(60, 3, neuron_type=nengo.LIF(initial_state=ZERO), label="a")
        b = nengo.Ensemble(40, 2, neuron_type=nengo.LIF(initial_state=ZERO, tau_ref=0.0015), label="b")
        out = nengo.Node(size_in=2, label="out")
        nengo.Connection(inp, a, synapse=None)
        nengo.Connection(a, b, function=lambda v: [v[0] * v[1], v[2]], synapse=None)
        nengo.Connection(one, b.neurons, transform=np.linspace(-0.5, 0.5, 40)[:, None], synapse=None)
        nengo.Connection(b.neurons, out, transform=np.random.RandomState(1).normal(0, 0.01, (2, 40)),
                         synapse=None)
        nengo.Connection(one, out, transform=[[0.3], [-0.2]], synapse=None)
        pa, pb, po = nengo.Probe(a.neurons), nengo.Probe(b.neurons), nengo.Probe(out, label="po")
    sim, ex, rs, ro = run(net, [pa, pb, po], inp, arr, inputs=[inp])
    assert "one" not in ex.graph.nodes
    for name, p in (("a", pa), ("b", pb)):
        ref = ex.to_nmc(name, sim.data[p] > 0)
        assert ref.sum() > 100 and np.array_equal(rs[name], ref), name
    assert np.allclose(ro["po"], sim.data[po], atol=1e-9)


def test_conv_layouts_and_flatten():
    """A 3-channel channels_last input, a channels_first convolution after a
    channels_last one is refused only if layouts disagree; a dense readout
    and a dense layer read conv populations through a Flatten, columns
    permuted to C,H,W."""
    rng = np.random.RandomState(3)
    arr = stim(5 * 5 * 3)
    with nengo.Network(seed=8) as net:
        inp = node_of(arr)
        conv = nengo.Convolution(6, (5, 5, 3), kernel_size=(3, 3), channels_last=True, padding="same",
                                 init=rng.normal(0, 0.4, (3, 3, 3, 6)))
        a = nengo.Ensemble(conv.output_shape.size, 1, neuron_type=nengo.LIF(initial_state=ZERO), label="a")
        b = nengo.Ensemble(20, 1, neuron_type=nengo.LIF(initial_state=ZERO, amplitude=0.1), label="b")
        out = nengo.Node(size_in=4, label="out")
        nengo.Connection(inp, a.neurons, transform=conv, synapse=None)
        nengo.Connection(a.neurons, b.neurons, transform=rng.normal(0.01, 0.03, (20, a.n_neurons)), synapse=None)
        nengo.Connection(a.neurons, out, transform=rng.normal(0, 0.01, (4, a.n_neurons)), synapse=None)
        pa, pb, po = nengo.Probe(a.neurons), nengo.Probe(b.neurons), nengo.Probe(out, label="po")
    sim, ex, rs, ro = run(net, [pa, pb, po], inp, arr)
    assert tuple(ex.graph.nodes["x"].input_type["input"]) == (3, 5, 5)
    assert isinstance(ex.graph.nodes["a_flat"], nir.Flatten)
    for name, p in (("a", pa), ("b", pb)):
        ref = ex.to_nmc(name, sim.data[p] > 0)
        assert ref.sum() > 50 and np.array_equal(rs[name], ref), name
    assert np.allclose(ro["po"], sim.data[po], atol=1e-9)


def test_v_init_recorded():
    arr = stim(2)
    with nengo.Network(seed=6) as net:
        inp = node_of(arr)
        a = nengo.Ensemble(30, 2, neuron_type=nengo.LIF(tau_ref=0.002), label="a")
        nengo.Connection(inp, a, synapse=nengo.Lowpass(0.003))
        pa = nengo.Probe(a.neurons)
    sim, ex, rs, _ = run(net, [pa], inp, arr)
    node = ex.graph.nodes["a"]
    assert isinstance(node, nir.CubaLIF) and "v_init" in node.metadata
    assert np.array_equal(rs["a"], sim.data[pa] > 0)


def test_spiking_relu_approximate():
    arr = stim(4)
    with nengo.Network(seed=7) as net:
        inp = node_of(arr)
        a = nengo.Ensemble(20, 1, neuron_type=nengo.SpikingRectifiedLinear(initial_state=ZERO), label="a",
                           max_rates=nengo.dists.Uniform(50, 300))
        nengo.Connection(inp, a.neurons, transform=np.random.RandomState(2).normal(0, 0.5, (20, 4)), synapse=None)
        pa = nengo.Probe(a.neurons)
    sim, ex, rs, _ = run(net, [pa], inp, arr)
    assert isinstance(ex.graph.nodes["a"], nir.IF)
    ref = np.round(sim.data[pa] * DT).astype(int)  # spikes per step (amplitude 1)
    assert np.abs(rs["a"].astype(int) - ref).sum() <= 0.001 * ref.size


def test_refusals():
    with nengo.Network() as net:
        inp = nengo.Node(np.zeros(2))
        a = nengo.Ensemble(5, 1, neuron_type=nengo.LIF(), label="a")
        nengo.Connection(inp, a.neurons, transform=np.ones((5, 2)), synapse=None)
        nengo.Connection(inp, a.neurons, transform=np.ones((5, 2)), synapse=0.01)
    try:
        nmc_nengo.to_nir(net, dt=DT)
        raise AssertionError("a mix of synapses must be refused")
    except nmc_nengo.ExportError as e:
        assert "different synapses" in str(e)
    with nengo.Network() as net:
        inp = nengo.Node(np.zeros(2))
        a = nengo.Ensemble(5, 1, neuron_type=nengo.LIFRate(), label="r")
        nengo.Connection(inp, a.neurons, transform=np.ones((5, 2)))
    try:
        nmc_nengo.to_nir(net, dt=DT)
        raise AssertionError("rate neurons must be refused")
    except nmc_nengo.ExportError as e:
        assert "LIFRate" in str(e) and "label='r'" in str(e)


def test_write_roundtrip_metadata_types():
    with nengo.Network(seed=1) as net:
        inp = nengo.Node(np.zeros(3))
        a = nengo.Ensemble(4, 1, neuron_type=nengo.LIF(initial_state=ZERO), label="a")
        nengo.Connection(inp, a.neurons, transform=np.ones((4, 3)), synapse=None)
        nengo.Probe(a.neurons, synapse=0.02)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a.nir")
        nmc_nengo.write(path, net, dt=DT)
        g = nir.read(path)
    assert g.metadata["spike_convention"] == "impulse" and g.metadata["discretization"] == "nengo"
    assert isinstance(g.metadata["dt"], float) and g.metadata["exporter"].startswith("nmc_nengo ")
    assert isinstance(g.nodes["a"].metadata["tau_ref"], float)
    assert g.nodes["a_probe"].metadata["synapse"] == 0.02


def test_input_node_takes_the_layout_of_a_conv_fed_population():
    """A pixel Node feeding (identity) an off-chip encoder that feeds a
    channels-last convolution: the Node takes the encoder's C,H,W layout
    (nengo-loihi's conv fixture, tests/fixtures/nengo_loihi)."""
    with nengo.Network(seed=5) as net:
        stim = nengo.Node(np.zeros(16), label="pixels")
        enc = nengo.Ensemble(16, 1, gain=np.ones(16), bias=np.zeros(16), label="enc")
        conv = nengo.Convolution(2, (4, 4, 1), kernel_size=(3, 3), channels_last=True,
                                 init=np.ones((3, 3, 1, 2)) * 0.1)
        c1 = nengo.Ensemble(conv.output_shape.size, 1, gain=np.ones(8), bias=np.zeros(8), label="c1")
        nengo.Connection(stim, enc.neurons, synapse=None)
        nengo.Connection(enc.neurons, c1.neurons, transform=conv, synapse=None)
        nengo.Probe(c1.neurons)
    ex = nmc_nengo.export(net, dt=DT)
    assert tuple(ex.graph.nodes["pixels"].input_type["input"]) == (1, 4, 4)
    assert list(ex.order["c1"]) == [(i % 4) * 2 + i // 4 for i in range(8)]


if __name__ == "__main__":
    for k, f in sorted(globals().items()):
        if k.startswith("test_"):
            f()
            print("ok", k)
