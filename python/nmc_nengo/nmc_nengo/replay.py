"""Run an nmc_nengo graph in numpy with nengo's rules: what the graph means.

    from nmc_nengo.replay import replay
    spikes, outputs = replay(graph, x)    # x: (steps, features), nmc order

This is the executable form of the conventions the exporter records
(`spike_convention = "impulse"`, `discretization = "nengo"`), written from
nengo 3.2's semantics and checked against `nengo.Simulator` by
tests/fixtures/nengo/generate.py. Per step k (nmc's step k is nengo's step
k + 1, time (k + 1) * dt), nodes update in topological order:

- Input: the row x[k].
- Affine: W @ u + b; Flatten: u (values are kept flat, C,H,W row-major); Conv2d: cross-correlation on the (C, H, W) input,
  symmetric zero padding, stride (dilation 1, groups 1).
- LIF: J = r * u + v_leak with u the sum of its inputs this step (no delay);
  CubaLIF: J = r * y + v_leak with y the synapse state *before* this step's
  update, then y <- a*y + (1 - a) * w_in * u, a = exp(-dt / tau_syn) -- the
  one-step delay of nengo's Lowpass synapse.
  Then nengo.LIF.step with tau = tau_rc, metadata tau_ref and min_voltage:
      refractory -= dt
      h = clip(dt - refractory, 0, dt)            # the part of the step not refractory
      v = v + (J - v) * (1 - exp(-h / tau))       # as -= (J - v) * expm1(-h / tau)
      spiked = v > v_threshold (= 1)
      t_spike = dt + tau * log1p(-(v - 1) / (J - 1))   # spike time within the step
      v = max(v, min_voltage); v[spiked] = 0
      refractory[spiked] = tau_ref + t_spike
- IF (SpikingRectifiedLinear): v += max(r * u, 0); n = floor(v); v -= n
  (n spikes; nengo's own rule, several per step possible).
- A neuron node's value downstream is spikes / dt (an impulse of area 1; the
  amplitude is already in the next weights).
- Output: the sum u of its inputs; with metadata `synapse` (a probe's
  Lowpass) the value recorded at step k is the filter state *before* this
  step's update, z[k] = a*z[k-1] + (1 - a)*u[k-1] (z[0] = 0): nengo's
  filtered probes lag one step, like its Lowpass connections.
The initial voltage is metadata `v_init` (else 0), refractory time 0.
"""

import numpy as np


def _f(a):
    """A parameter as a flat float array (populations may be shaped C,H,W)."""
    return np.asarray(a, dtype=float).reshape(-1)


def _topo(graph):
    nodes = list(graph.nodes)
    preds = {n: [] for n in nodes}
    succ = {n: [] for n in nodes}
    for a, b in graph.edges:
        preds[b].append(a)
        succ[a].append(b)
    indeg = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if indeg[n] == 0]
    order = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    if len(order) != len(nodes):
        raise ValueError("replay: the graph has a cycle")
    return order, preds


def _conv2d(x, node):
    w = np.asarray(node.weight, dtype=float)  # (O, I, kh, kw)
    o, i, kh, kw = w.shape
    c, h, wd = x.shape
    sh, sw = np.broadcast_to(np.asarray(node.stride), (2,))
    ph, pw = np.broadcast_to(np.asarray(node.padding), (2,))
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((o, oh, ow))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw]  # (I, oh, ow)
            out += np.tensordot(w[:, :, a, b], patch, axes=([1], [0]))
    return out + np.asarray(node.bias, dtype=float)[:, None, None]


def replay(graph, x, dt=None, *, variant=None):
    """Spikes (uint8 (steps, n) per neuron node; counts for IF) and values
    ((steps, n) per Output) of `graph` driven by x ((steps, features)).

    `variant` (for showing what each rule is worth; None = nengo's rules):
    "no_synapse_delay" (a CubaLIF reads its synapse after this step's
    update, nmc's exact rule), "no_min_voltage" (no lower clamp),
    "whole_step_refractory" (refractory = round(tau_ref/dt) whole steps
    after the spike step, no spike-time interpolation), "no_refractory"."""
    if variant not in (None, "no_synapse_delay", "no_min_voltage", "whole_step_refractory", "no_refractory"):
        raise ValueError("replay: unknown variant %r" % variant)
    import nir

    dt = float(graph.metadata.get("dt", 0.001) if dt is None else dt)
    order, preds = _topo(graph)
    x = np.asarray(x, dtype=float)
    steps = x.shape[0]
    state = {}
    for name in order:
        node = graph.nodes[name]
        meta = getattr(node, "metadata", {}) or {}
        if isinstance(node, (nir.LIF, nir.CubaLIF, nir.IF)):
            n = np.asarray(node.v_threshold).size
            st = {"v": _f(meta.get("v_init", np.zeros(n))).copy(),
                  "rt": np.zeros(n), "y": np.zeros(n)}
            state[name] = st
        elif isinstance(node, nir.Output):
            state[name] = {"z": None}
    spikes = {n: np.zeros((steps, np.asarray(graph.nodes[n].v_threshold).size), dtype=np.uint8)
              for n in order if isinstance(graph.nodes[n], (nir.LIF, nir.CubaLIF, nir.IF))}
    outs = {n: [] for n in order if isinstance(graph.nodes[n], nir.Output)}
    for k in range(steps):
        val = {}
        for name in order:
            node = graph.nodes[name]
            if isinstance(node, nir.Input):
                val[name] = x[k]
                continue
            u = sum(val[p] for p in preds[name])
            if isinstance(node, nir.Affine):
                val[name] = np.asarray(node.weight) @ u + np.asarray(node.bias)
            elif isinstance(node, nir.Flatten):
                val[name] = u
            elif isinstance(node, nir.Conv2d):
                c_in = np.asarray(node.weight).shape[1]
                h, w = node.input_shape
                val[name] = _conv2d(u.reshape(c_in, h, w), node).reshape(-1)
            elif isinstance(node, (nir.LIF, nir.CubaLIF)):
                st = state[name]
                meta = node.metadata or {}
                tau_ref = float(meta.get("tau_ref", 0.0))
                vmin = float(meta.get("min_voltage", 0.0))
                if variant == "no_min_voltage":
                    vmin = -np.inf
                if variant == "no_refractory":
                    tau_ref = 0.0
                if isinstance(node, nir.LIF):
                    J = _f(node.r) * u + _f(node.v_leak)
                    tau = _f(node.tau)
                else:
                    a = np.exp(-dt / _f(node.tau_syn))
                    if variant == "no_synapse_delay":
                        st["y"] = a * st["y"] + (1 - a) * (_f(node.w_in) * u)
                    J = _f(node.r) * st["y"] + _f(node.v_leak)
                    if variant != "no_synapse_delay":
                        st["y"] = a * st["y"] + (1 - a) * (_f(node.w_in) * u)
                    tau = _f(node.tau_mem)
                v, rt = st["v"], st["rt"]
                rt -= dt
                h = np.clip(dt - rt, 0, dt)
                v -= (J - v) * np.expm1(-h / tau)
                spk = v > _f(node.v_threshold)
                t_spike = dt + tau[spk] * np.log1p(-(v[spk] - 1) / (J[spk] - 1))
                v[v < vmin] = vmin
                v[spk] = 0
                if variant == "whole_step_refractory":
                    rt[spk] = dt * (np.round(tau_ref / dt) + 1)  # input ignored for round(tau_ref/dt) steps
                else:
                    rt[spk] = tau_ref + t_spike
                spikes[name][k] = spk
                val[name] = spk / dt
            elif isinstance(node, nir.IF):
                st = state[name]
                st["v"] += np.maximum(_f(node.r) * u, 0)
                ns = np.floor(st["v"])
                st["v"] -= ns
                spikes[name][k] = np.minimum(ns, 255).astype(np.uint8)
                val[name] = ns / dt
            elif isinstance(node, nir.Output):
                meta = node.metadata or {}
                st = state[name]
                if "synapse" in meta:
                    a = np.exp(-dt / float(meta["synapse"]))
                    z = np.zeros_like(u) if st["z"] is None else st["z"]
                    outs[name].append(z)
                    st["z"] = a * z + (1 - a) * u
                else:
                    outs[name].append(u)
                val[name] = u
            else:
                raise ValueError("replay: node %s of type %s" % (name, type(node).__name__))
    return spikes, {n: np.array(v) for n, v in outs.items()}
