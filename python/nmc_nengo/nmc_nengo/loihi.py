"""Replay a nengo-loihi deployment in nmc: export what nengo-loihi built
(`nmc_nengo.loihi`; needs nengo 3.2, nengo-loihi 1.1, numpy < 2).

nengo-loihi 1.1 discretizes a nengo network into blocks (compartments,
synapses, axons) and runs them in its emulator (`target="sim"`) or on Loihi.
This module turns those blocks into an nmc quantized model (`.q.ron`), every
integer copied -- decays, thresholds, biases, weight mantissas at
nengo-loihi's weight exponent, refractory delays, vmin/vmax -- one nmc
population per block (so a layer nengo-loihi split over cores, with a weight
exponent or voltage bounds per block, keeps them), one connection per axon.
The host part (off-chip ensembles) stays in nengo: its spikes into the chip
become the model's event input, which `Recorder` captures step by step.

The short form, for a built simulator:

    import nengo_loihi
    from nmc_nengo.loihi import write_qmodel
    with nengo_loihi.Simulator(net, target="sim") as sim:
        names = write_qmodel("mynet.q.ron", sim, name="mynet")

With the host spikes and the chip's own spikes recorded step by step:

    import nengo_loihi, numpy as np
    from nmc_nengo.loihi import Recorder, export_qmodel
    rec = Recorder(); orig = rec.install()
    with nengo_loihi.Simulator(net, target="sim", precompute=False) as sim:
        sim.run_steps(100)
        emu = sim.sims["emulator"]
        text, names, facts = export_qmodel("mynet", emu.block_info.blocks, emu.inputs, sim.dt)
        chip = {n: np.array(rec.spiked)[:, emu.block_info.slices[b]]
                for n, b in zip(names, emu.block_info.blocks)}
    rec.uninstall(orig)
    open("mynet.q.ron", "w").write(text)
    np.save("host.npy", rec.host_rows()[None].astype(np.uint8))   # (1, steps, channels)

then `nmc compile mynet.q.ron --target loihi1 -o mynet.nmca` and
`nmc emulate mynet.nmca --input-spikes host.npy --out spikes.npz` reproduce `chip`
spike for spike (tests/fixtures/nengo_loihi, crates/nmc/tests/nengo_loihi_parity.rs).
Needs nengo 3.2, nengo-loihi 1.1, numpy < 2. Learning rules and noise are not
exported (the export refuses nothing silently: unsupported blocks fail an
assertion naming what is missing).
"""

import json
import re

import numpy as np
import nengo_loihi
from nengo_loihi.emulator.interface import EmulatorInterface


# --- recording inside nengo-loihi's emulator -------------------------------


class Recorder:
    """Wraps EmulatorInterface.step: after each chip step, the spikes of every
    compartment and the host spikes delivered in that step."""

    def __init__(self):
        self.spiked = []
        self.delivered = []
        self.emu = None

    def install(self):
        rec = self
        orig = EmulatorInterface.step

        def step(emu):
            # Peek (not pop) at the host spikes SynapseState.inject_current is
            # about to deliver in this step: those of step t - 1, from t >= 2.
            t = emu.t + 1
            per_input = []
            for si in emu.inputs:
                v = np.zeros(si.n_neurons, dtype=np.uint8)
                if t >= 2:
                    for i in si.spikes.get(t - 1, []):
                        v[i] += 1
                per_input.append(v)
            orig(emu)
            assert emu.t == t
            rec.spiked.append(emu.compartment.spiked.copy())
            rec.delivered.append(per_input)

        EmulatorInterface.step = step
        return orig

    @staticmethod
    def uninstall(orig):
        EmulatorInterface.step = orig

    def host_rows(self, k=0):
        """Host spike input k as nmc input rows, uint8 (steps, channels):
        row r = the spikes nengo-loihi delivered at its chip step r + 2
        (1-based), which nmc on loihi1 (host latency 1) delivers at its step
        r + 1 (0-based) -- the same step. The last row is empty."""
        deliv = np.array([d[k] for d in self.delivered])
        rows = np.zeros_like(deliv)
        rows[:-1] = deliv[1:]
        return rows


# --- export to nmc's quantized model (.q.ron) ------------------------------

WEIGHT_SHIFT = 6  # loihi1 formats.weight.scale_shift


def ron_list(xs):
    return "[" + ", ".join(str(int(v)) for v in xs) + "]"


def per_neuron(a):
    a = np.atleast_1d(np.asarray(a)).astype(np.int64)
    if (a == a[0]).all():
        return "Uniform(%d)" % a[0]
    return "Each(%s)" % ron_list(a)


def manexp_bias(b):
    """Per-neuron (mantissa, exponent) of nengo-loihi's stored bias value
    (mantissa * 2^exp, |mantissa| <= 4095, exp 0..7), exactly."""
    b = np.asarray(b).astype(np.int64)
    exp = np.zeros(b.shape, dtype=np.int64)
    man = b.copy()
    while (np.abs(man) > 4095).any():
        big = np.abs(man) > 4095
        assert (man[big] % 2 == 0).all(), "bias not representable"
        man[big] //= 2
        exp[big] += 1
    assert (exp <= 7).all()
    return man, exp


def weight_manexp(w, nengo_exp):
    """nengo-loihi's stored integer weights w (mantissa already shifted by its
    weight exponent, times 2^6) in nmc's form w = m * 2^(6 + e), |m| <= 255:
    with nengo-loihi's own exponent e the mantissas are what its synapse
    format holds (even in mixed-sign formats); checked, not assumed."""
    w = np.asarray(w).astype(np.int64)
    s = WEIGHT_SHIFT + nengo_exp
    assert s >= 0 and (w % (1 << s) == 0).all() and (np.abs(w >> s) <= 255).all(), "weights not representable"
    return w >> s, nengo_exp


def effective_weights(axon, n_src, synapse, n_dst):
    """Dense [n_dst, n_src] integer weights one source compartment's spike
    adds through this axon, by nengo-loihi's own lookup (map_spikes,
    axon_compartment_base, axon_weights_indices)."""
    W = np.zeros((n_dst, n_src), dtype=np.int64)
    for c in range(n_src):
        for s in axon.map_spikes(np.array([c])):
            if s is None:
                continue
            base = synapse.axon_compartment_base(s.axon_idx)
            if base is None:
                continue
            w, idx = synapse.axon_weights_indices(s.axon_idx, atom=s.atom)
            np.add.at(W[:, c], base + np.asarray(idx), np.asarray(w).astype(np.int64))
    return W


def sparse_ron(W):
    out, inp = W.shape
    row_ptr, col, mant = [0], [], []
    for d in range(out):
        nz = np.nonzero(W[d])[0]
        col.extend(nz.tolist())
        mant.extend(W[d, nz].tolist())
        row_ptr.append(len(col))
    return "Sparse(out: %d, inp: %d, row_ptr: %s, col: %s, mant: %s)" % (
        out, inp, ron_list(row_ptr), ron_list(col), ron_list(mant))


def block_name(i, b):
    """`b<index>_<ensemble label>`, e.g. b0_h1 (nengo-loihi labels blocks
    `<Ensemble 'h1'>`, with a slice suffix when split)."""
    m = re.search(r"[\"']([^\"']*)[\"']", b.label or "")
    label = m.group(1) if m else "block"
    label = "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in label)
    return "b%d_%s" % (i, label)


def export_qmodel(name, blocks, inputs, dt):
    """The .q.ron text of nengo-loihi's deployment, and the population names."""
    names = [block_name(i, b) for i, b in enumerate(blocks)]
    syn_owner = {}
    for bi, b in enumerate(blocks):
        for s in b.synapses:
            syn_owner[id(s)] = bi
    # Connections into each block: (source, axon) pairs.
    conns = [[] for _ in blocks]
    for k, si in enumerate(inputs):
        for ax in si.axons:
            conns[syn_owner[id(ax.target)]].append(("Input(%d)" % k, si.n_neurons, ax))
    for bi, b in enumerate(blocks):
        for ax in b.axons:
            conns[syn_owner[id(ax.target)]].append(("Population(%d)" % bi, b.n_neurons, ax))
    facts = []
    pops = []
    for bi, b in enumerate(blocks):
        c = b.compartment
        n = b.n_neurons
        vth = np.asarray(c.vth).astype(np.int64)
        assert (vth % 64 == 0).all()
        vmin = np.broadcast_to(np.asarray(c.vmin), (n,)).astype(np.int64)
        vmax = np.broadcast_to(np.asarray(c.vmax), (n,)).astype(np.int64)
        assert (vmin == vmin[0]).all() and (vmax == vmax[0]).all()
        vmin_exp = int(round(np.log2(1 - vmin[0])))
        assert -(2 ** vmin_exp) + 1 == vmin[0]
        vmax_exp = int(round((np.log2(vmax[0] + 1) - 9) / 2))
        assert 2 ** (9 + 2 * vmax_exp) - 1 == vmax[0]
        bman, bexp = manexp_bias(c.bias)
        spiking = bool((vth < 2 ** 31 - 1).all())
        conn_txt = []
        exps = []
        for src, n_src, ax in conns[bi]:
            W = effective_weights(ax, n_src, ax.target, n)
            m, e = weight_manexp(W, int(ax.target.synapse_cfg.weight_exp))
            exps.append({"nengo_weight_exp": int(ax.target.synapse_cfg.weight_exp), "nmc_weight_exp": e})
            conn_txt.append(
                "(source: %s, latency: 1, weight_exp: %d, weights: %s, folded_from: [%s])"
                % (src, e, sparse_ron(m), json.dumps(str(ax.target.label or "synapse")))
            )
        decay_u = np.asarray(c.decay_u).astype(np.int64)
        model = "CubaLif" if (decay_u != 4094).any() else "Lif"
        facts.append({
            "name": names[bi], "neurons": n, "decay_u": sorted(set(decay_u.tolist())),
            "decay_v": sorted(set(np.asarray(c.decay_v).astype(int).tolist())),
            "refractory": sorted(set(np.asarray(c.refract_delay).astype(int).tolist())),
            "vmin": int(vmin[0]), "vmax": int(vmax[0]), "connections": exps,
        })
        pops.append(
            "(name: %s, model: %s, shape: ([%d]), placement: Chip, compartment: (decay_u: %s, decay_v: %s, "
            "vth_mant: %s, bias_mant: %s, bias_exp: %s, refractory: %s, vmin_exp: %d, vmax_exp: %d, "
            "spiking: %s), inputs: [%s], scale: 1.0)"
            % (json.dumps(names[bi]), model, n, per_neuron(c.decay_u), per_neuron(c.decay_v), per_neuron(vth // 64),
               per_neuron(bman), per_neuron(bexp), per_neuron(c.refract_delay), vmin_exp, vmax_exp,
               "true" if spiking else "false", ", ".join(conn_txt))
        )
    ins = ", ".join(
        '(name: "host_spikes_%d", shape: ([%d]), encoding: Events)' % (k, si.n_neurons) for k, si in enumerate(inputs)
    )
    outs = '(name: "out", source: Population(%d))' % (len(blocks) - 1)
    text = (
        "// nengo-loihi %s deployment `%s`, exported by nmc_nengo.loihi.\n"
        "// One population per nengo-loihi block, one connection per axon; integers copied verbatim.\n"
        '(schema_version: 1, name: %s, target: "loihi1", dt: %r, inputs: [%s], populations: [\n  %s\n], outputs: [%s])\n'
        % (nengo_loihi.__version__, name, json.dumps(name), dt, ins, ",\n  ".join(pops), outs)
    )
    return text, names, facts


def write_qmodel(path, sim, name=None):
    """Writes the deployment a built `nengo_loihi.Simulator(target="sim")`
    holds as an nmc quantized model at `path`; returns the population names
    (one per nengo-loihi block, in order). Only nengo-loihi's emulator
    exposes the discretized blocks this reads; build with target="sim" (the
    same blocks go to the chip with target="loihi")."""
    emu = getattr(sim, "sims", {}).get("emulator")
    if emu is None:
        raise ValueError("write_qmodel needs a nengo_loihi.Simulator built with target=\"sim\" "
                         "(its emulator holds the discretized blocks)")
    if name is None:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(getattr(sim, "network", None) and sim.network.label or "nengo_loihi"))
    text, names, _ = export_qmodel(name, list(emu.block_info.blocks), list(emu.inputs), sim.dt)
    with open(path, "w") as f:
        f.write(text)
    return names
