"""nengo -> NIR for nmc: export a built nengo network with nengo's conventions recorded.

    import nengo, nmc_nengo
    with nengo.Network(seed=0) as net:
        ...
    graph = nmc_nengo.to_nir(net, dt=0.001)          # builds the network itself (seeded)
    nmc_nengo.write("net.nir", net, dt=0.001)        # the same, written with nir.write

    python -m nmc_nengo mymodule:make_net net.nir [--dt 0.001]

What a graph holds (the conventions nmc's frontend reads, docs/ir.md):

- graph metadata `dt` (seconds), `spike_convention = "impulse"` (a nengo spike
  is an impulse of area `amplitude`, height amplitude/dt; the exporter folds
  `amplitude` into the weights of every connection leaving a population, not
  the 1/dt), `discretization = "nengo"`, `exporter = "nmc_nengo <version>"`.
- one neuron node per `nengo.Ensemble` (named after its label):
  `nengo.LIF` -> NIR `LIF(tau=tau_rc, r=gain, v_leak=bias, v_threshold=1,
  v_reset=0)`, or `CubaLIF(tau_syn=tau, tau_mem=tau_rc, ..., w_in=1)` when its
  incoming connections carry a `nengo.Lowpass(tau)` synapse; node metadata
  `tau_ref` (seconds) and `min_voltage`; `v_init` (per-neuron initial
  voltage, only when not all zero); `placement = "host"` for nengo_loihi
  `on_chip=False` ensembles. `nengo.SpikingRectifiedLinear` -> NIR `IF(r=gain*dt,
  v_threshold=1, v_reset=0)` with `bias/gain` as the bias of an incoming Affine
  (so R*b = bias*dt): approximate, since nengo's can emit several spikes per
  step and does not reset to zero (it subtracts).
- one node per connection: a dense transform -> `Affine` (weight [out, in],
  encoders, gain-free, and the pre's amplitude folded in), `nengo.Convolution`
  -> `Conv2d` (weight [out_ch, in_ch, kh, kw]), an identity of factor 1 -> a
  direct edge. Neuron order is nmc's channels-first `C, H, W` flattening:
  populations fed by or feeding a `channels_last=True` convolution are
  permuted (their parameters, weights and spikes), see `NirExport.order`.
  An input Node feeding such a population through an identity (an
  off-chip encoder in front of a convolution) takes its layout.
- a source `nengo.Node` -> `Input` (shape `(C, H, W)` when a convolution
  reads it, else `(n,)`); a constant source Node not listed in `inputs` is
  folded into the bias of the Affines it feeds.
- a `nengo.Probe` on `ens.neurons` -> `Output`; a probe on a passthrough Node
  fed by populations (NengoDL's Dense readout) -> `Affine` -> `Output`. The
  probe's `Lowpass` synapse is recorded as Output metadata `synapse` (seconds).

nengo's timing (tests/fixtures/nengo/timing.py measures it): a
`synapse=None` connection delivers in the same step; a `Lowpass(tau)`
synapse is read one step late -- the post's input at step t is the filter
state after step t-1, `y[t] = a*y[t-1] + (1-a)*x[t]`, `a = exp(-dt/tau)`.
`nmc_nengo.replay` runs an exported graph with exactly these rules (and
nengo's LIF step) in numpy: the executable statement of what the graph means.

Trained NengoDL parameters: pass `sim=` a `nengo_dl.Simulator` (its
`get_nengo_params` is called for every ensemble and connection) or
`params={obj: {"gain": ..., "bias": ..., "encoders": ..., "transform": ...}}`
as `get_nengo_params` returns them. This path is written to NengoDL's
documented API but untested here (NengoDL does not install beside nengo 3.2
on this machine). A `nengo.Simulator` given as `sim` is read through
`sim.data` and `sim.model.sig` (the network is not rebuilt).

NengoDL TensorNodes (`nengo_dl.Layer(tf.keras.layers.Conv2D(...))`, as in
the NengoDL MNIST tutorial) hold TensorFlow code and are refused: build the
layers from nengo objects (examples/nengo_mnist/net.py is the tutorial's
network so built; `nengo_dl.Converter` also emits native objects).

Refused, with an error naming the object: other neuron types, synapses
other than None/Lowpass, a mix of synapses into one population, functions
on Node connections, learning rules, weight solvers, Sparse and transposed
convolutions, 'same' padding that nengo pads asymmetrically, probes on
decoded values or on attributes other than spikes.
"""

import re
import warnings

import numpy as np

__version__ = "0.1.0"
EXPORTER = "nmc_nengo %s" % __version__

__all__ = ["to_nir", "write", "export", "NirExport", "ExportError", "EXPORTER", "__version__"]


class ExportError(ValueError):
    """The network has something nmc_nengo cannot express; the message names it."""


def _nengo():
    import nengo

    return nengo


def _name_of(obj):
    return "%s(label=%r)" % (type(obj).__name__, getattr(obj, "label", None))


def _sanitize(s):
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(s)).strip("_")
    return s or "x"


class _Layout:
    """How a population's (or input's) neurons are laid out: nengo's flat
    order vs nmc's channels-first C,H,W order. `nmc_to_nengo[i]` is nengo's
    index of nmc's neuron i."""

    def __init__(self, n, chw=None, channels_last=False, who=""):
        self.n = n
        self.chw = chw  # (C, H, W) or None
        self.channels_last = channels_last
        self.who = who
        if chw is not None and channels_last:
            c, h, w = chw
            self.nmc_to_nengo = np.arange(n).reshape(h, w, c).transpose(2, 0, 1).ravel()
        else:
            self.nmc_to_nengo = np.arange(n)
        self.nengo_to_nmc = np.argsort(self.nmc_to_nengo)

    def key(self):
        return (self.chw, self.channels_last if self.chw is not None else None)


class NirExport:
    """The result of an export: `graph` (a nir.NIRGraph) and, per exported
    object, its NIR node name (`names`) and the neuron order of nmc relative
    to nengo (`order[name]`: nengo index of each nmc neuron/feature), which
    input and spike arrays must be permuted by (`to_nmc`)."""

    def __init__(self, graph, names, order, inputs, populations, outputs):
        self.graph = graph
        self.names = names
        self.order = order
        self.inputs = inputs  # {nir name: nengo.Node}
        self.populations = populations  # {nir name: nengo.Ensemble}
        self.outputs = outputs  # {nir name: nengo.Probe}

    def to_nmc(self, name, array):
        """Reorder the last axis of `array` (nengo order) into nmc's order."""
        return np.asarray(array)[..., self.order[name]]


def _get_params_provider(network, dt, sim, params):
    """Returns (built, sig, params): `built[obj]` gives nengo's built
    parameters (BuiltEnsemble / BuiltConnection), `sig` the model's signals
    (for initial voltages)."""
    nengo = _nengo()
    params = dict(params or {})
    if sim is not None and hasattr(sim, "get_nengo_params"):
        # NengoDL: trained values as constructor arguments (untested here).
        objs = list(network.all_ensembles) + list(network.all_connections)
        got = sim.get_nengo_params(objs, as_dict=False)
        for o, p in zip(objs, got):
            params.setdefault(o, p)
        sim = None
    if sim is not None:
        if abs(sim.dt - dt) > 1e-15:
            raise ExportError("sim.dt = %g but dt = %g" % (sim.dt, dt))
        return sim.data, sim.model.sig, params
    model = nengo.builder.Model(dt=dt)
    model.build(network)
    return model.params, model.sig, params


def _on_chip(network, ens):
    """False when some network's config marks `ens` on_chip=False (nengo_loihi)."""
    nets = [network] + list(network.all_networks)
    for net in nets:
        try:
            cfg = net.config[ens]
        except Exception:
            continue
        try:
            v = getattr(cfg, "on_chip")
        except Exception:
            continue
        if v is False:
            return False
    return True


def _synapse_tau(syn, who):
    nengo = _nengo()
    if syn is None:
        return None
    if type(syn) is nengo.Lowpass:
        return float(syn.tau)
    raise ExportError("%s: synapse %r is not supported (only None or nengo.Lowpass)" % (who, syn))


def _dense_weights(conn, built_w, params, who):
    """The connection's dense transform as a matrix [size_out, size_mid]
    (None for an identity of factor 1)."""
    nengo = _nengo()
    tr = conn.transform
    p = params.get(conn, {})
    if "transform" in p:
        tr = p["transform"]
        if isinstance(tr, nengo.transforms.Dense):
            tr = tr.init
        w = np.asarray(tr, dtype=float)
    elif isinstance(tr, nengo.transforms.NoTransform):
        return None
    elif isinstance(tr, nengo.transforms.Dense):
        w = np.asarray(built_w, dtype=float)
    else:
        raise ExportError("%s: transform %s is not supported" % (who, type(tr).__name__))
    if w.ndim == 0:
        if conn.size_mid != conn.size_out:
            raise ExportError("%s: scalar transform between sizes %d and %d" % (who, conn.size_mid, conn.size_out))
        if float(w) == 1.0:
            return None
        return float(w) * np.eye(conn.size_out)
    if w.ndim == 1:
        return np.diag(w)
    return w


def _slice_index(sl, n):
    return np.arange(n)[sl] if sl is not None else np.arange(n)


class _Exporter:
    def __init__(self, network, dt, sim, params, probes, inputs):
        nengo = _nengo()
        self.nengo = nengo
        self.net = network
        self.dt = float(dt)
        self.built, self.sig, self.params = _get_params_provider(network, dt, sim, params)
        self.ensembles = list(network.all_ensembles)
        self.nodes_all = list(network.all_nodes)
        self.conns = list(network.all_connections)
        self.probes = list(network.all_probes) if probes is None else list(probes)
        incoming = {}
        for c in self.conns:
            incoming.setdefault(self._post_base(c), []).append(c)
        self.incoming = incoming
        self.sources = [n for n in self.nodes_all if n.size_in == 0 and n.output is not None]
        if inputs is None:
            self.inputs = list(self.sources)
        else:
            self.inputs = list(inputs)
            for n in self.inputs:
                if n not in self.sources:
                    raise ExportError("%s is listed in inputs but is not a source Node" % _name_of(n))
        self.bias_nodes = [n for n in self.sources if n not in self.inputs]
        for n in self.bias_nodes:
            if callable(n.output) or isinstance(n.output, nengo.Process):
                raise ExportError("%s: a source Node not listed in `inputs` must have a constant output "
                                  "(it is folded into biases)" % _name_of(n))
        self.names = {}
        used = set()
        for obj in self.inputs + self.ensembles:
            base = _sanitize(obj.label) if obj.label else ("input" if obj in self.inputs else "ens")
            name, k = base, 1
            while name in used:
                k += 1
                name = "%s_%d" % (base, k)
            used.add(name)
            self.names[obj] = name
        self.used = used
        for n in self.nodes_all:
            if type(n).__name__ == "TensorNode":
                raise ExportError("%s: a NengoDL TensorNode (e.g. nengo_dl.Layer(tf.keras.layers.Conv2D)) holds "
                                  "TensorFlow code NIR cannot express; build the layer from native nengo objects "
                                  "(a nengo.Convolution or Dense transform on a Connection into ens.neurons, as "
                                  "nengo_dl.Converter does) and pass the trained values as params" % _name_of(n))
            if n.size_in > 0 and n.output is not None:
                raise ExportError("%s: a Node computing a function of its input is not supported "
                                  "(only source Nodes and passthrough readouts)" % _name_of(n))

    # ---- helpers -------------------------------------------------------

    def _post_base(self, c):
        post = c.post_obj
        return post.ensemble if isinstance(post, self.nengo.ensemble.Neurons) else post

    def _pre_base(self, c):
        pre = c.pre_obj
        return pre.ensemble if isinstance(pre, self.nengo.ensemble.Neurons) else pre

    def fresh(self, base):
        base = _sanitize(base)
        name, k = base, 1
        while name in self.used:
            k += 1
            name = "%s_%d" % (base, k)
        self.used.add(name)
        return name

    def _is_identity(self, c):
        """A connection with a unit scalar Dense transform and no slicing."""
        nengo = self.nengo
        tr = c.transform
        full = lambda sl: isinstance(sl, slice) and sl == slice(None)  # noqa: E731
        if c.function is not None:
            return False
        if type(tr).__name__ == "NoTransform":
            return full(c.pre_slice) and full(c.post_slice)
        if not isinstance(tr, nengo.transforms.Dense):
            return False
        init = np.asarray(tr.init)
        return init.ndim == 0 and float(init) == 1.0 and full(c.pre_slice) and full(c.post_slice)

    def layouts(self):
        """Infer each input's and population's C,H,W layout from the
        convolutions that read or write it."""
        nengo = self.nengo
        found = {}
        for c in self.conns:
            if isinstance(c.transform, nengo.Convolution):
                tr = c.transform
                who = "%s" % c
                if tr.dimensions != 2:
                    raise ExportError("%s: only 2-d convolutions are supported" % who)
                for obj, shape in ((self._pre_base(c), tr.input_shape), (self._post_base(c), tr.output_shape)):
                    if isinstance(obj, nengo.Node) and obj not in self.inputs:
                        raise ExportError("%s: a convolution must read an input Node or neurons and write neurons"
                                          % who)
                    if shape.channels_last:
                        h, w, ch = shape.shape
                    else:
                        ch, h, w = shape.shape
                    lay = _Layout(shape.size, (ch, h, w), shape.channels_last, who)
                    prev = found.get(obj)
                    if prev is not None and prev.key() != lay.key():
                        raise ExportError("%s: convolutions disagree on its layout (%s from %s vs %s from %s)"
                                          % (_name_of(obj), prev.key(), prev.who, lay.key(), who))
                    found[obj] = lay
        # An input Node feeding a C,H,W population through an identity takes
        # its layout (nengo-loihi's off-chip encoder in front of a convolution).
        for c in self.conns:
            pre, post = self._pre_base(c), self._post_base(c)
            if pre in self.inputs and pre not in found and post in found and self._is_identity(c) \
                    and pre.size_out == found[post].n:
                p = found[post]
                found[pre] = _Layout(p.n, p.chw, p.channels_last, "identity %s" % c)
        out = {}
        for obj in self.inputs:
            out[obj] = found.get(obj) or _Layout(obj.size_out)
        for ens in self.ensembles:
            out[ens] = found.get(ens) or _Layout(ens.n_neurons)
        return out

    def ens_params(self, ens):
        b = self.built[ens]
        p = self.params.get(ens, {})
        gain = np.asarray(p.get("gain", b.gain), dtype=float).reshape(-1)
        bias = np.asarray(p.get("bias", b.bias), dtype=float).reshape(-1)
        if "encoders" in p:
            enc = np.asarray(p["encoders"], dtype=float) / ens.radius
            if p.get("normalize_encoders", ens.normalize_encoders):
                enc = enc / np.linalg.norm(enc, axis=1, keepdims=True)
        else:
            enc = np.asarray(b.scaled_encoders, dtype=float) / gain[:, None]
        gain = np.broadcast_to(gain, (ens.n_neurons,)).copy()
        bias = np.broadcast_to(bias, (ens.n_neurons,)).copy()
        return gain, bias, enc

    # ---- the export ----------------------------------------------------

    def run(self):
        import nir

        nengo = self.nengo
        lay = self.layouts()
        self.lay = lay
        nodes, edges = {}, []
        self.nodes_out, self.edges_out = nodes, edges
        self.shape_of, self.flat = {}, {}
        order = {}
        for obj in self.inputs + self.ensembles:
            self.shape_of[self.names[obj]] = lay[obj].chw if lay[obj].chw is not None else (lay[obj].n,)
        for n in self.inputs:
            name = self.names[n]
            nodes[name] = nir.Input(input_type={"input": np.array(self.shape_of[name], dtype=np.int64)})
            order[name] = lay[n].nmc_to_nengo

        pops = {}
        ens_info = {}
        for ens in self.ensembles:
            info = self.population(ens)
            ens_info[ens] = info
            name = self.names[ens]
            order[name] = lay[ens].nmc_to_nengo
            pops[name] = ens

        # connections into populations
        for ens in self.ensembles:
            info = ens_info[ens]
            conns = [c for c in self.incoming.get(ens, []) if self._pre_base(c) not in self.bias_nodes]
            consts = [c for c in self.incoming.get(ens, []) if self._pre_base(c) in self.bias_nodes]
            taus = {_synapse_tau(c.synapse, str(c)) for c in conns}
            if len(taus) > 1:
                raise ExportError("%s: its incoming connections have different synapses %s; nmc has one "
                                  "synapse per population" % (_name_of(ens), sorted(taus, key=str)))
            tau = taus.pop() if taus else None
            const_j = np.zeros(ens.n_neurons)
            for c in consts:
                if c.synapse is not None:
                    raise ExportError("%s: a constant bias Node must connect with synapse=None" % c)
                const_j += self.const_current(c, ens)
            gain, bias = info["gain"], info["bias"]
            # fold constant inputs into the bias (J = gain*x + bias)
            bias = bias + gain * const_j
            post_name = self.names[ens]
            first_affine = None
            for c in conns:
                node, src = self.connection_node(c, ens)
                if len(self.shape_of[post_name]) > 1 and not (
                        isinstance(node, nir.Conv2d) or (node is None and self.shape_of[src] == self.shape_of[post_name])):
                    raise ExportError("%s: a population laid out as C,H,W %s (it feeds or is fed by a convolution) "
                                      "can be fed only by convolutions or identities of the same layout"
                                      % (c, self.shape_of[post_name]))
                if node is None:
                    edges.append((src, post_name))
                    continue
                cname = self.fresh(c.label or "%s_to_%s" % (src, post_name))
                nodes[cname] = node
                self.feed(src, cname)
                edges.append((cname, post_name))
                if first_affine is None and isinstance(node, nir.Affine):
                    first_affine = cname
            info["tau_syn"] = tau
            info["bias"] = bias
            info["first_affine"] = first_affine
            nodes[post_name] = self.neuron_node(ens, info, nodes, conns)

        # probes
        outputs = {}
        readouts = {}
        for p in self.probes:
            oname, onodes, oedges, oorder = self.probe(p, readouts)
            nodes.update(onodes)
            edges.extend(oedges)
            outputs[oname] = p
            order[oname] = oorder

        graph = nir.NIRGraph(
            nodes=nodes,
            edges=edges,
            metadata={
                "dt": self.dt,
                "spike_convention": "impulse",
                "discretization": "nengo",
                "exporter": EXPORTER,
            },
        )
        names = dict(self.names)
        return NirExport(graph, names, order, {self.names[n]: n for n in self.inputs}, pops, outputs)

    def feed(self, src, dst):
        """The edge src -> dst, through a shared Flatten when src is laid
        out C,H,W and dst is an Affine."""
        import nir

        if len(self.shape_of[src]) > 1 and isinstance(self.nodes_out[dst], nir.Affine):
            if src not in self.flat:
                fname = self.fresh("%s_flat" % src)
                self.nodes_out[fname] = nir.Flatten(
                    input_type={"input": np.array(self.shape_of[src], dtype=np.int64)}, start_dim=0, end_dim=-1)
                self.edges_out.append((src, fname))
                self.flat[src] = fname
            src = self.flat[src]
        self.edges_out.append((src, dst))

    def population(self, ens):
        nengo = self.nengo
        nt = ens.neuron_type
        if type(nt) not in (nengo.LIF, nengo.SpikingRectifiedLinear):
            raise ExportError("%s: neuron type %r is not supported (nengo.LIF or nengo.SpikingRectifiedLinear)"
                              % (_name_of(ens), nt))
        gain, bias, enc = self.ens_params(ens)
        perm = self.lay[ens].nmc_to_nengo
        info = {"gain": gain[perm], "bias": bias[perm], "enc": enc, "perm": perm}
        try:
            v0 = np.asarray(self.sig[ens.neurons]["voltage"].initial_value, dtype=float).reshape(-1)[perm]
        except Exception:
            v0 = np.zeros(ens.n_neurons)
        info["v_init"] = v0
        return info

    def pre_matrix(self, c):
        """(matrix, source name): the matrix from the pre's value (nmc order;
        spikes carry the pre's amplitude, folded in here) to the
        connection's output (size_out, nengo order of the post's input
        space). The matrix is None for an identity of factor 1 over the
        whole pre."""
        nengo = self.nengo
        who = str(c)
        pre = c.pre_obj
        if c.learning_rule is not None:
            raise ExportError("%s: learning rules are not exported" % who)
        b = self.built[c]
        if isinstance(pre, (nengo.ensemble.Neurons, nengo.Node)):
            base = self._pre_base(c)
            if isinstance(pre, nengo.Node):
                if base not in self.inputs:
                    raise ExportError("%s: reads %s, which is neither an input Node nor a population"
                                      % (who, _name_of(pre)))
                if c.function is not None:
                    raise ExportError("%s: functions on Node connections are not supported" % who)
                amp, n_pre = 1.0, pre.size_out
            else:
                amp, n_pre = float(base.neuron_type.amplitude), base.n_neurons
            w = _dense_weights(c, b.weights, self.params, who)
            idx = _slice_index(c.pre_slice, n_pre)
            if w is None and amp == 1.0 and len(idx) == n_pre:
                return None, self.names[base]
            if w is None:
                w = np.eye(len(idx))
            full = np.zeros((w.shape[0], n_pre))
            full[:, idx] = w
            return amp * full[:, self.lay[base].nmc_to_nengo], self.names[base]
        if isinstance(pre, nengo.Ensemble):
            if c.solver.weights:
                raise ExportError("%s: weight solvers are not supported; connect to ens.neurons" % who)
            if not isinstance(c.transform, (nengo.transforms.Dense, nengo.transforms.NoTransform)):
                raise ExportError("%s: transform %s on a decoded connection" % (who, type(c.transform).__name__))
            if "transform" in self.params.get(c, {}):
                raise ExportError("%s: a transform override on a decoded connection" % who)
            w = np.asarray(b.weights, dtype=float)  # (size_out, n_pre): transform . decoders
            amp = float(pre.neuron_type.amplitude)
            return amp * w[:, self.lay[pre].nmc_to_nengo], self.names[pre]
        raise ExportError("%s: unsupported pre %s" % (who, _name_of(pre)))

    def post_matrix(self, c, ens, m):
        """Maps the connection's output m ([size_out, k]) into the post
        population's input per neuron (before gain), nmc order."""
        nengo = self.nengo
        n = ens.n_neurons
        perm = self.lay[ens].nmc_to_nengo
        idx = _slice_index(c.post_slice, c.post_obj.size_in)
        if isinstance(c.post_obj, nengo.ensemble.Neurons):
            full = np.zeros((n, m.shape[1]))
            full[idx] = m
            return full[perm]
        # decoded post: J = gain * (E/radius) . x
        enc = self.ens_info_enc(ens)
        vec = np.zeros((ens.dimensions, m.shape[1]))
        vec[idx] = m
        return (enc @ vec)[perm]

    def ens_info_enc(self, ens):
        return self.ens_params(ens)[2]

    def const_current(self, c, ens):
        """The per-neuron (nmc order) input of a constant Node connection."""
        node = self._pre_base(c)
        x = np.asarray(node.output, dtype=float).reshape(-1)
        if c.function is not None:
            x = np.atleast_1d(np.asarray(c.function(x), dtype=float))
        else:
            x = x[_slice_index(c.pre_slice, x.size)]
        w = _dense_weights(c, self.built[c].weights, self.params, str(c))
        y = x if w is None else w @ x
        return self.post_matrix(c, ens, y[:, None])[:, 0]

    def connection_node(self, c, ens):
        """(NIR node or None for a direct edge, source name) of one
        connection into population `ens`."""
        import nir

        nengo = self.nengo
        if isinstance(c.transform, nengo.Convolution):
            return self.conv_node(c, ens), self.names[self._pre_base(c)]
        m, src = self.pre_matrix(c)
        base = self._pre_base(c)
        if m is None:
            same_order = np.array_equal(self.lay[base].nmc_to_nengo, self.lay[ens].nmc_to_nengo)
            full_post = _slice_index(c.post_slice, c.post_obj.size_in).size == ens.n_neurons
            if isinstance(c.post_obj, nengo.ensemble.Neurons) and same_order and full_post \
                    and c.size_out == ens.n_neurons:
                return None, src
            n_pre = c.size_in
            m = np.eye(n_pre)[_slice_index(c.pre_slice, n_pre)][:, self.lay[base].nmc_to_nengo]
        w = self.post_matrix(c, ens, m)
        return nir.Affine(weight=w, bias=np.zeros(w.shape[0])), src

    def conv_node(self, c, ens):
        import nir

        nengo = self.nengo
        tr = c.transform
        who = str(c)
        if c.pre_slice is not None and not (isinstance(c.pre_slice, slice) and c.pre_slice == slice(None)):
            raise ExportError("%s: slices on a convolution" % who)
        if c.post_slice is not None and not (isinstance(c.post_slice, slice) and c.post_slice == slice(None)):
            raise ExportError("%s: slices on a convolution" % who)
        if not isinstance(c.post_obj, nengo.ensemble.Neurons):
            raise ExportError("%s: a convolution must write ens.neurons" % who)
        if type(tr) is not nengo.Convolution:
            raise ExportError("%s: %s is not supported" % (who, type(tr).__name__))
        if getattr(tr, "groups", 1) != 1:
            raise ExportError("%s: grouped convolutions are not supported" % who)
        p = self.params.get(c, {})
        if "transform" in p:
            k = p["transform"]
            k = np.asarray(k.init if isinstance(k, nengo.Convolution) else k, dtype=float)
        else:
            k = np.asarray(self.built[c].weights, dtype=float)  # (kh, kw, in, out)
        pre = c.pre_obj
        amp = float(pre.ensemble.neuron_type.amplitude) if isinstance(pre, nengo.ensemble.Neurons) else 1.0
        weight = amp * np.transpose(k, (3, 2, 0, 1))
        if tr.input_shape.channels_last:
            h, w_, ch = tr.input_shape.shape
        else:
            ch, h, w_ = tr.input_shape.shape
        kh, kw = tr.kernel_size
        sh, sw = tr.strides
        if tr.padding == "valid":
            pad = (0, 0)
        else:
            oh, ow = tr.output_shape.spatial_shape
            tot = (max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w_, 0))
            if tot[0] % 2 or tot[1] % 2:
                raise ExportError("%s: nengo pads this 'same' convolution asymmetrically (total %s); "
                                  "NIR's padding is symmetric" % (who, tot))
            pad = (tot[0] // 2, tot[1] // 2)
        node = nir.Conv2d(
            input_shape=(int(h), int(w_)),
            weight=weight,
            stride=(int(sh), int(sw)),
            padding=(int(pad[0]), int(pad[1])),
            dilation=(1, 1),
            groups=1,
            bias=np.zeros(weight.shape[0]),
        )
        return node

    def neuron_node(self, ens, info, nodes, conns):
        import nir

        nengo = self.nengo
        nt = ens.neuron_type
        gain, bias = info["gain"], info["bias"]
        shape = self.shape_of[self.names[ens]]
        meta = {}
        if not _on_chip(self.net, ens):
            meta["placement"] = "host"
        if np.any(info["v_init"] != 0):
            warnings.warn("%s: initial voltages are not all zero (nengo's default is Uniform(0, 1)); recorded as "
                          "metadata v_init. Set neuron_type initial_state={'voltage': nengo.dists.Choice([0])} "
                          "for a network that starts at rest" % _name_of(ens))
            meta["v_init"] = np.asarray(info["v_init"], dtype=float).reshape(shape)
        ones, zeros = np.ones(shape), np.zeros(shape)
        gain, bias = gain.reshape(shape), bias.reshape(shape)
        if type(nt) is nengo.LIF:
            meta["tau_ref"] = float(nt.tau_ref)
            meta["min_voltage"] = float(nt.min_voltage)
            tau_rc = np.full(shape, float(nt.tau_rc))
            if info["tau_syn"] is None:
                node = nir.LIF(tau=tau_rc, r=gain.copy(), v_leak=bias.copy(), v_threshold=ones, v_reset=zeros)
            else:
                node = nir.CubaLIF(tau_syn=np.full(shape, info["tau_syn"]), tau_mem=tau_rc, r=gain.copy(),
                                   v_leak=bias.copy(), v_threshold=ones, v_reset=zeros, w_in=ones.copy())
        else:  # SpikingRectifiedLinear
            if info["tau_syn"] is not None:
                raise ExportError("%s: SpikingRectifiedLinear with a Lowpass synapse is not supported"
                                  % _name_of(ens))
            if np.any(gain <= 0):
                raise ExportError("%s: SpikingRectifiedLinear needs positive gains" % _name_of(ens))
            if np.any(bias != 0):
                b = (bias / gain).reshape(-1)
                if info["first_affine"] is None:
                    raise ExportError("%s: a per-neuron bias needs a dense (Affine) incoming connection"
                                      % _name_of(ens))
                aff = nodes[info["first_affine"]]
                aff.bias = aff.bias + b
            node = nir.IF(r=gain * self.dt, v_threshold=ones, v_reset=zeros)
        if meta:
            node.metadata = meta
        return node

    def probe(self, p, readouts):
        """(Output name, new nodes, new edges, nmc order of the probed values)."""
        import nir

        nengo = self.nengo
        who = "%s" % p
        target = p.target
        if p.slice is not None and not (isinstance(p.slice, slice) and p.slice == slice(None)):
            raise ExportError("%s: probe slices are not supported" % who)
        meta = {}
        if p.synapse is not None:
            if type(p.synapse) is not nengo.Lowpass:
                raise ExportError("%s: probe synapse %r is not supported (None or nengo.Lowpass)"
                                  % (who, p.synapse))
            meta["synapse"] = float(p.synapse.tau)
        if isinstance(target, nengo.ensemble.Neurons):
            default = "%s_probe" % self.names[target.ensemble]
        else:
            default = "%s_probe" % _sanitize(getattr(target, "label", None) or "probe")
        oname = self.fresh(p.label or default)
        onodes, oedges = {}, []
        if isinstance(target, nengo.ensemble.Neurons):
            if p.attr != "output":
                raise ExportError("%s: only spikes (attr 'output') can be probed, not %r" % (who, p.attr))
            ens = target.ensemble
            onodes[oname] = nir.Output(output_type={"output": np.array(self.shape_of[self.names[ens]],
                                                                       dtype=np.int64)})
            oedges.append((self.names[ens], oname))
            oorder = self.lay[ens].nmc_to_nengo
        elif isinstance(target, nengo.Node) and target.output is None:
            if target not in readouts:
                rnodes, srcs = self.readout(target)
                self.nodes_out.update(rnodes)
                for src, aff in srcs:
                    self.feed(src, aff)
                readouts[target] = [aff for _, aff in srcs]
            onodes[oname] = nir.Output(output_type={"output": np.array([target.size_out], dtype=np.int64)})
            oedges.extend((aff, oname) for aff in readouts[target])
            oorder = np.arange(target.size_out)
        else:
            raise ExportError("%s: probes on %s are not supported (probe ens.neurons, or a passthrough Node "
                              "fed by neurons)" % (who, _name_of(target)))
        if meta:
            onodes[oname].metadata = meta
        return oname, onodes, oedges, oorder

    def readout(self, node):
        """One Affine per connection into a passthrough Node (constant
        Nodes folded into the bias of the first)."""
        import nir

        nengo = self.nengo
        for c in self.conns:
            if self._pre_base(c) is node:
                raise ExportError("%s: a passthrough Node is supported only as a probed readout (it has an "
                                  "outgoing connection %s)" % (_name_of(node), c))
        conns = self.incoming.get(node, [])
        dyn = [c for c in conns if self._pre_base(c) not in self.bias_nodes]
        consts = [c for c in conns if self._pre_base(c) in self.bias_nodes]
        if not dyn:
            raise ExportError("%s: a readout Node needs an incoming connection from a population" % _name_of(node))
        bias = np.zeros(node.size_in)
        for c in consts:
            if c.synapse is not None:
                raise ExportError("%s: a constant bias Node must connect with synapse=None" % c)
            x = np.asarray(self._pre_base(c).output, dtype=float).reshape(-1)
            x = x[_slice_index(c.pre_slice, x.size)]
            w = _dense_weights(c, self.built[c].weights, self.params, str(c))
            y = x if w is None else w @ x
            bias[_slice_index(c.post_slice, node.size_in)] += y
        rnodes, srcs = {}, []
        for i, c in enumerate(dyn):
            if c.synapse is not None:
                raise ExportError("%s: a synapse on a readout connection is not supported; put it on the Probe "
                                  "(recorded as the Output's `synapse`)" % c)
            if isinstance(c.transform, nengo.Convolution):
                raise ExportError("%s: a convolution into a readout Node is not supported" % c)
            base = self._pre_base(c)
            if base in self.inputs:
                raise ExportError("%s: an input Node read out directly" % c)
            m, src = self.pre_matrix(c)
            if m is None:
                m = np.eye(c.size_in)[_slice_index(c.pre_slice, c.size_in)][:, self.lay[base].nmc_to_nengo]
            full = np.zeros((node.size_in, m.shape[1]))
            full[_slice_index(c.post_slice, node.size_in)] = m
            label = node.label or "readout"
            name = self.fresh(label if len(dyn) == 1 else "%s_from_%s" % (label, src))
            rnodes[name] = nir.Affine(weight=full, bias=bias.copy() if i == 0 else np.zeros(node.size_in))
            srcs.append((src, name))
        return rnodes, srcs


def export(network, *, dt, sim=None, params=None, probes=None, inputs=None):
    """Like `to_nir`, but returns a `NirExport` (the graph plus the names and
    neuron orders of every exported object)."""
    return _Exporter(network, dt, sim, params, probes, inputs).run()


def to_nir(network, *, dt, sim=None, params=None, probes=None, inputs=None):
    """A nir.NIRGraph of a nengo network (see the module doc for the
    conventions).

    dt      -- the step in seconds (recorded as graph metadata `dt`)
    sim     -- optional: a built nengo.Simulator (its built parameters are
               used), or a nengo_dl.Simulator (its trained parameters, via
               get_nengo_params); without it the network is built here.
    params  -- optional {nengo object: {name: value}} overrides, e.g. what
               nengo_dl.Simulator.get_nengo_params returns.
    probes  -- the probes to export (default: every probe of the network).
    inputs  -- the source Nodes that are inputs (default: all); other source
               Nodes must be constant and are folded into biases.
    """
    return export(network, dt=dt, sim=sim, params=params, probes=probes, inputs=inputs).graph


def write(path, network, *, dt, sim=None, params=None, probes=None, inputs=None):
    """Export and write with nir.write; returns the `NirExport`."""
    import nir

    ex = export(network, dt=dt, sim=sim, params=params, probes=probes, inputs=inputs)
    nir.write(path, ex.graph)
    return ex
