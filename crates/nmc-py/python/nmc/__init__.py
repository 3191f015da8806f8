"""nmc, the neuromorphic model compiler, from Python.

The same Rust crates as the ``nmc`` command: a model compiled here gives the
byte-identical artifact ``nmc compile`` writes, the same spikes and the same
reports (as dicts of the CLI's ``--json`` output).

    import nmc
    model = nmc.load("examples/mnist_conv/mnist_conv.nir")
    dep = model.compile("loihi1")
    spikes = dep.emulate(x)            # {layer: uint8 array (batch, steps, *layer shape)}
    report = nmc.verify(model, dep, x, labels=y)

Arrays use the CLI's layouts: ``x`` is ``(batch, steps, *input_shape)`` or
``(batch, *input_shape)`` (held for ``steps``), like the ``.npy`` files of
``nmc verify --input``. Errors are exceptions carrying nmc's message (file,
node, field); their classes mirror the CLI's exit codes (docs/cli.md):

    NmcError ─┬─ UsageError        (2)   a call nmc cannot run as given
              ├─ BadInputError     (3)   malformed model, target, array or file
              ├─ DoesNotFitError   (4)   the network does not fit the target
              ├─ MismatchError     (5)   A ≠ B, or spikes differ from a golden file
              ├─ OverflowError     (6)   strict mode: a register wrapped or clipped
              └─ InternalError     (1)   a bug in nmc
"""

from __future__ import annotations

import io
import json as _json
import os
import sys
import warnings as _warnings
from typing import Any, Dict, List, Optional, Union

import numpy as np

from . import _nmc
from ._nmc import (
    BadInputError,
    DoesNotFitError,
    InternalError,
    MismatchError,
    NmcError,
    OverflowError,
    UsageError,
)

__version__ = _nmc.__version__

__all__ = [
    "BadInputError",
    "Deployment",
    "DoesNotFitError",
    "InternalError",
    "MismatchError",
    "Model",
    "NmcError",
    "OverflowError",
    "Simulation",
    "Target",
    "UsageError",
    "all_targets",
    "load",
    "target",
    "targets",
    "verify",
]

#: Samples emulated per call into Rust when a progress bar is shown (the
#: batch items are independent, so chunking never changes a spike).
PROGRESS_CHUNK = 16


# ---------------------------------------------------------------- targets


class Target:
    """A chip target: its name, description and limits (the target file as a dict)."""

    def __init__(self, inner: "_nmc.Target"):
        self._t = inner

    @property
    def name(self) -> str:
        return self._t.name

    @property
    def description(self) -> str:
        return self._t.description

    @property
    def limits(self) -> Dict[str, Any]:
        """Every field of the target file (system, core, axons, formats, timing, …)."""
        return _json.loads(self._t.to_json())

    def to_ron(self) -> str:
        """The target file as RON, as ``nmc targets --show`` prints it."""
        return self._t.to_ron()

    @property
    def rule(self) -> Dict[str, Any]:
        """The update rule (decay, overflow, threshold, reset, where the weight
        exponent and the bias enter, payload), as ``nmc targets --rules`` shows it."""
        return _json.loads(self._t.rule_json())

    def __repr__(self) -> str:
        return f"nmc.Target({self.name!r})"


def targets() -> List[str]:
    """The names of the built-in targets this API compiles for (the loihi family).

    :func:`all_targets` lists every family's built-ins; the other families
    (Xylo, Loihi 2, Speck) are reached through the ``nmc`` command line.
    """
    return list(_nmc.targets())


def all_targets() -> Dict[str, str]:
    """Every built-in chip of every family: name -> family, as ``nmc targets`` lists them."""
    return dict(_nmc.all_targets())


def target(name_or_path: Union[str, os.PathLike, Target] = "loihi1") -> Target:
    """A built-in target by name, or a target file (``.ron``) by path."""
    if isinstance(name_or_path, Target):
        return name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"target: expected a name or a path, got {type(name_or_path).__name__}")
    return Target(_nmc.Target(os.fspath(name_or_path)))


def _target_of(t: Union[str, os.PathLike, Target, "Deployment"]) -> Target:
    if isinstance(t, Deployment):
        return target(t.target_name)
    return target(t)


# ----------------------------------------------------------------- inputs


def _as_input(x: Any, what: str = "x") -> np.ndarray:
    """``x`` as the float64 array the executions read; refuses what the
    CLI's ``.npy`` reader refuses (non-real dtypes)."""
    if isinstance(x, (str, os.PathLike)):
        raise TypeError(f"{what}: expected an array, got a path (load it with numpy.load)")
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise BadInputError(
            f"{what}: dtype {a.dtype} is not a real number type (bool, int, uint or float)"
        )
    return np.ascontiguousarray(a, dtype=np.float64)


def _labels(y: Any) -> Optional[List[int]]:
    if y is None:
        return None
    a = np.asarray(y)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise BadInputError(f"labels: expected a 1-d integer array, got dtype {a.dtype} with shape {a.shape}")
    return [int(v) for v in a]


def _interactive() -> bool:
    """A notebook or a terminal: where a progress bar is wanted."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress(total: int):
    """A tqdm bar when tqdm is installed and the session is interactive, else None."""
    if total <= PROGRESS_CHUNK or not _interactive():
        return None
    try:
        from tqdm.auto import tqdm  # optional dependency
    except ImportError:
        return None
    return tqdm(total=total, unit="sample", leave=False)


# ----------------------------------------------------------------- models


class Simulation:
    """The float reference's run: per-layer spikes, per-output values and
    the report ``nmc simulate --json`` prints."""

    def __init__(self, layers, outputs, report):
        #: ``{layer: uint8 array (batch, steps, *layer shape)}``, in graph order.
        self.spikes: Dict[str, np.ndarray] = dict(layers)
        #: ``{output: float64 array (batch, steps, features)}``.
        self.outputs: Dict[str, np.ndarray] = dict(outputs)
        #: The ``nmc.simulate/1`` report as a dict: per-layer rates
        #: (``report["rates"]``), output argmax, accuracy with labels.
        self.report: Dict[str, Any] = _json.loads(report)

    def counts(self) -> Dict[str, np.ndarray]:
        """Spikes per neuron, summed over time: ``{layer: (batch, neurons)}``."""
        return {k: v.sum(axis=1, dtype=np.int64).reshape(v.shape[0], -1) for k, v in self.spikes.items()}

    @property
    def dt(self) -> float:
        """The step length in seconds the run used."""
        return float(self.report["rates"]["dt"])

    def rates(self) -> Dict[str, float]:
        """Mean firing rate per layer in Hz (spikes / neuron / second)."""
        return {k: float(v.mean()) / self.dt for k, v in self.spikes.items()}

    def __repr__(self) -> str:
        return f"nmc.Simulation(layers={list(self.spikes)}, outputs={list(self.outputs)})"


class Model:
    """A model of any stage: a float network (``.nir``, ``.onnx``, a
    ``nir.NIRGraph``), a quantized model (``.q.ron``) or a compiled artifact
    (``.nmca``)."""

    def __init__(self, inner: "_nmc.Model", reload=None):
        self._m = inner
        # How to load the same model with other load options (simulate's dt).
        self._reload = reload

    @property
    def kind(self) -> str:
        """``"float"``, ``"quantized"`` or ``"artifact"``."""
        return self._m.kind

    @property
    def source(self) -> str:
        return self._m.source

    @property
    def warnings(self) -> List[str]:
        """What loading found questionable (the ONNX converter's warnings)."""
        return list(self._m.warnings)

    @property
    def input_shape(self) -> tuple:
        """One step of the first input, without batch and time."""
        return tuple(self._m.input_shape)

    def inspect(self, json: bool = False) -> Union[str, Dict[str, Any]]:
        """What ``nmc inspect`` prints; with ``json=True`` the ``--json`` report as a dict."""
        s = self._m.inspect(json)
        return _json.loads(s) if json and self.kind != "artifact" else s

    @property
    def dt(self) -> float:
        """The step length in seconds."""
        return self._m.dt

    def simulate(self, x: Any, steps: Optional[int] = None, *, dt: Optional[float] = None,
                 labels: Any = None) -> Simulation:
        """The float reference on ``x`` (``nmc simulate``): spikes, output
        traces and the rate report. ``dt`` (seconds) re-reads the model with
        that step length, like ``nmc simulate --dt``; ``labels`` adds the
        accuracy of the first output's argmax."""
        m = self
        if dt is not None and dt != self.dt:
            if self._reload is None:
                raise UsageError(f"{self.source}: simulate(dt=...) needs a float model loaded by nmc.load")
            m = self._reload(dt)
        layers, outputs, report = m._m.simulate(_as_input(x), steps, _labels(labels))
        return Simulation(layers, outputs, report)

    def quantize(self, target: Union[str, Target] = "loihi1", *, scale_firing_rates: float = 1.0,
                 encoder: str = "auto"):
        """Quantizes for ``target``: ``(quantized Model, report dict)`` (``nmc quantize --json``)."""
        q, report = self._m.quantize(_target_of(target)._t, float(scale_firing_rates), encoder)
        return Model(q), _json.loads(report)

    def compile(self, target: Union[str, Target] = "loihi1", *, scale_firing_rates: float = 1.0,
                encoder: str = "auto") -> "Deployment":
        """Quantizes, partitions and emits for ``target`` (``nmc compile``).
        An artifact model is returned as its deployment."""
        if self.kind == "artifact":
            return Deployment(self._m.deployment())
        return Deployment(self._m.compile(_target_of(target)._t, float(scale_firing_rates), encoder))

    def emulate(self, x: Any, steps: Optional[int] = None, *, strict: bool = False) -> Dict[str, np.ndarray]:
        """Emulates a compiled artifact (``nmc emulate``); see :meth:`Deployment.emulate`."""
        return Deployment(self._m.deployment()).emulate(x, steps, strict=strict)

    def __repr__(self) -> str:
        return f"nmc.Model({self.kind}, {self.source!r})"


def _is_nir_graph(obj: Any) -> bool:
    t = type(obj)
    return t.__name__ == "NIRGraph" and t.__module__.split(".")[0] == "nir"


def load(model: Any, *, name: Optional[str] = None, dt: Optional[float] = None,
         discretization: Optional[str] = None, reset: Optional[str] = None, calibrate: Any = None,
         percentile: float = 99.9, max_rate: float = 250.0, spike_convention: Optional[str] = None) -> Model:
    """Loads a model: a path (``.nir``, ``.onnx``, ``.q.ron``, ``.nmca``) or a
    ``nir.NIRGraph`` object (serialised in memory, no file is written).

    ``name`` is the model's name in reports and the artifact, for a
    ``nir.NIRGraph`` (default ``"nir_graph"``; a file's name is its stem, so
    ``load(nir.read("net.nir"), name="net")`` compiles to the bytes
    ``load("net.nir")`` does).

    The options are the CLI's load options, with the same defaults:
    ``dt`` (seconds; default the file's metadata ``dt``, else 0.001),
    ``discretization`` (``"exact"``, ``"euler"`` or ``"nengo"``; default the
    file's metadata ``discretization``, else exact), ``reset`` (``"zero"``
    or ``"subtract"``), ``spike_convention`` (``"step"``: a spike is one unit
    in its step; ``"impulse"``: a unit-area impulse of height 1/dt, as in
    nengo; default the file's metadata ``spike_convention``, else step). For ``.onnx`` models (ANN → SNN conversion):
    ``calibrate`` (an array ``(N, *input_shape)`` of calibration inputs; without
    it the normalisation is weight-based and a warning is issued),
    ``percentile`` and ``max_rate`` (Hz)."""
    if isinstance(model, (str, os.PathLike)):
        if name is not None:
            raise UsageError("load: name applies to nir.NIRGraph objects (a file's model is named by its stem)")
        path = os.fspath(model)
        cal = None if calibrate is None else _as_input(calibrate, "calibrate")

        def reload(dt_):
            return Model(_nmc.load_path(path, dt_, discretization, reset, cal, float(percentile),
                                        float(max_rate), spike_convention), reload)

        m = reload(dt)
    elif _is_nir_graph(model):
        if calibrate is not None:
            raise UsageError("load: calibrate applies to .onnx models only")
        import nir  # present: the object came from it

        buf = io.BytesIO()
        nir.write(buf, model)
        data = buf.getvalue()
        mname = "nir_graph" if name is None else str(name)

        def reload(dt_):
            return Model(_nmc.load_nir_bytes(f"<nir.NIRGraph {mname}>", mname, data, dt_, discretization, reset,
                                             spike_convention),
                         reload)

        m = reload(dt)
    else:
        raise TypeError(
            f"load: expected a path or a nir.NIRGraph, got {type(model).__module__}.{type(model).__name__}"
        )
    for w in m.warnings:
        _warnings.warn(f"{m.source}: {w}", stacklevel=2)
    return m


# ------------------------------------------------------------- deployment


class Deployment:
    """A compiled network: the artifact the chip runs, with its reports."""

    def __init__(self, inner: "_nmc.Deployment"):
        self._d = inner

    @property
    def target_name(self) -> str:
        return self._d.target_name

    @property
    def input_shape(self) -> tuple:
        return tuple(self._d.input_shape)

    @property
    def artifact(self) -> bytes:
        """The artifact's bytes, identical to the file ``nmc compile -o`` writes."""
        return self._d.artifact_bytes()

    @property
    def partition(self) -> Optional[Dict[str, Any]]:
        """The partition report (``nmc partition --json``) as a dict; None
        for an artifact loaded from a file."""
        s = self._d.partition_json()
        return None if s is None else _json.loads(s)

    @property
    def partition_text(self) -> Optional[str]:
        """The partition report as the CLI prints it."""
        return self._d.partition_text()

    @property
    def quant_report(self) -> Optional[Dict[str, Any]]:
        """The quantization report (``nmc quantize --json``), when compiled from a float model."""
        s = self._d.quant_report_json()
        return None if s is None else _json.loads(s)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the artifact (atomically: a failure leaves no partial file)."""
        self._d.save(os.fspath(path))

    def emulate(self, x: Any, steps: Optional[int] = None, *, strict: bool = False) -> Dict[str, np.ndarray]:
        """The bit-accurate emulator on ``x``: ``{layer: uint8 (batch, steps, *layer shape)}``,
        the spikes ``nmc emulate --out`` writes. Releases the GIL; shows a
        progress bar in notebooks and terminals when tqdm is installed."""
        a = _as_input(x)
        bar = _progress(a.shape[0]) if a.ndim >= 1 else None
        if bar is None:
            return dict(self._d.emulate(a, steps, strict))
        parts: Dict[str, List[np.ndarray]] = {}
        try:
            for b0 in range(0, a.shape[0], PROGRESS_CHUNK):
                chunk = a[b0:b0 + PROGRESS_CHUNK]
                for name, s in self._d.emulate(chunk, steps, strict):
                    parts.setdefault(name, []).append(s)
                bar.update(chunk.shape[0])
        finally:
            bar.close()
        return {k: np.concatenate(v, axis=0) for k, v in parts.items()}

    def __repr__(self) -> str:
        return f"nmc.Deployment(target={self.target_name!r})"


def verify(model: Model, target: Union[str, Target, Deployment] = "loihi1", x: Any = None, labels: Any = None, *,
           steps: Optional[int] = None, strict: bool = False, scale_firing_rates: float = 1.0,
           encoder: str = "auto", check: bool = False) -> Dict[str, Any]:
    """The three executions and their comparison (``nmc verify --json``):
    float reference, fixed-point reference and emulator on ``x``; A = B
    (``report["exact"]["equal"]``), per-layer rates, accuracies with
    ``labels``, the first divergence. ``target`` may be a Deployment
    compiled from ``model``: verify then checks it is the artifact it
    compiles (same options), and raises UsageError when not. With
    ``check=True`` it raises MismatchError unless A = B (the CLI's exit 5),
    for scripts and CI; otherwise the report says it."""
    if not isinstance(model, Model):
        raise TypeError(f"verify: expected an nmc.Model, got {type(model).__name__}")
    if x is None:
        raise UsageError("verify: give the input x ((batch, steps, *input_shape) array)")
    report, dep = _nmc.verify(model._m, _target_of(target)._t, _as_input(x), _labels(labels), steps, strict,
                              float(scale_firing_rates), encoder)
    if isinstance(target, Deployment) and dep.artifact_bytes() != target.artifact:
        raise UsageError(
            "verify: the deployment given is not the artifact this model compiles to with these options "
            "(scale_firing_rates, encoder): compile and verify with the same options"
        )
    r = _json.loads(report)
    if check and not r["exact"]["equal"]:
        raise MismatchError(
            f"verify: the fixed-point reference (A) and the emulator (B) differ: {_json.dumps(r['exact'].get('mismatch'))}"
        )
    return r
