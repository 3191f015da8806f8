"""The NengoDL MNIST network of ../shared/seeds (002 + 003) in native nengo.

Seed 002 (NengoDL's "Optimizing a spiking neural network"):
    net.config[nengo.Ensemble].max_rates = Choice([100]); intercepts = Choice([0])
    net.config[nengo.Connection].synapse = None; neuron_type = nengo.LIF(amplitude=0.01)
    inp (28*28) -> Conv2D(32, 3) -> LIF -> Conv2D(64, 3, stride 2) -> LIF
                -> Conv2D(128, 3, stride 2) -> LIF -> Dense(10)
    out_p = Probe(out); out_p_filt = Probe(out, synapse=0.1)
plus seed 003's off-chip input layer: a 1x1 convolution (4 filters) into LIF
neurons marked `on_chip=False` (nengo_loihi), which encodes the pixels as spikes.

NengoDL builds the convolutions as TensorNodes (Keras Conv2D/Dense, with
biases); here they are native nengo: `nengo.Convolution` transforms
(channels_last=True, Keras' layout) into `ens.neurons`, and each Keras bias
is a constant Node `bias` connected to the neurons (the exporter folds it into
the neuron biases). The readout is a passthrough Node `out`.

`build(weights, images)` builds it from the trained weights (weights.npz,
written by train.py) with an input Node that shows images[i] for `steps`
steps per image (set `state["i"]`).
"""

import numpy as np
import nengo

AMPLITUDE = 0.01
MAX_RATE = 100
INTERCEPT = 0.0
TAU_RC = 0.02
TAU_REF = 0.002
READOUT_SYNAPSE = 0.1
# (name, filters, kernel, stride); the input layer is "inp_layer" (1x1, off chip)
LAYERS = [("inp_layer", 4, 1, 1), ("conv1", 32, 3, 1), ("conv2", 64, 3, 2), ("conv3", 128, 3, 2)]


def shapes():
    """(H, W, C) after each layer, for a 28x28x1 input."""
    h, c, out = 28, 1, []
    for _, f, k, s in LAYERS:
        h = (h - k) // s + 1
        c = f
        out.append((h, h, c))
    return out


def lif():
    # start at rest (nengo's default initial voltage is Uniform(0, 1)); see README
    return nengo.LIF(tau_rc=TAU_RC, tau_ref=TAU_REF, amplitude=AMPLITUDE,
                     initial_state={"voltage": nengo.dists.Choice([0.0])})


def gain_bias():
    """The (gain, bias) nengo gives every neuron for max_rates 100, intercepts 0."""
    g, b = lif().gain_bias(np.array([MAX_RATE]), np.array([INTERCEPT]))
    return float(g[0]), float(b[0])


def build(weights, images, random_init=False):
    """The nengo network; weights: {"<layer>.kernel": (kh, kw, in, out),
    "<layer>.bias": (out,), "dense.weight": (10, 3200) over the last layer's
    H,W,C order, "dense.bias": (10,)}. Returns (net, inp, probes, state)."""
    import nengo_loihi

    state = {"i": 0}
    images = np.asarray(images, dtype=float)

    def show(t):
        return images[state["i"]]

    with nengo.Network(seed=0) as net:
        nengo_loihi.add_params(net)
        net.config[nengo.Ensemble].max_rates = nengo.dists.Choice([MAX_RATE])
        net.config[nengo.Ensemble].intercepts = nengo.dists.Choice([INTERCEPT])
        net.config[nengo.Connection].synapse = None
        neuron_type = nengo.LIF(amplitude=AMPLITUDE) if random_init else lif()

        inp = nengo.Node(show, size_out=28 * 28, label="pixels")
        bias = nengo.Node([1.0], label="bias")
        x, shape_in = inp, (28, 28, 1)
        probes = {}
        for (name, f, k, s), shape_out in zip(LAYERS, shapes()):
            conv = nengo.Convolution(f, shape_in, kernel_size=(k, k), strides=(s, s), padding="valid",
                                     channels_last=True, init=weights[name + ".kernel"])
            assert conv.output_shape.shape == shape_out
            ens = nengo.Ensemble(conv.output_shape.size, 1, neuron_type=neuron_type, label=name)
            nengo.Connection(x.neurons if isinstance(x, nengo.Ensemble) else x, ens.neurons, transform=conv)
            b = np.tile(weights[name + ".bias"], shape_out[0] * shape_out[1])  # H,W,C order
            nengo.Connection(bias, ens.neurons, transform=b[:, None])
            if name == "inp_layer":
                net.config[ens].on_chip = False
            x, shape_in = ens, shape_out
        out = nengo.Node(size_in=10, label="out")
        nengo.Connection(x.neurons, out, transform=weights["dense.weight"])
        nengo.Connection(bias, out, transform=weights["dense.bias"][:, None])
        probes["out_p"] = nengo.Probe(out, label="out_p")
        probes["out_p_filt"] = nengo.Probe(out, synapse=READOUT_SYNAPSE, label="out_p_filt")
    return net, inp, probes, state
