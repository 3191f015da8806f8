//! `nmc._nmc`: the Rust half of the `nmc` Python package.
//!
//! A thin binding over the same façade the `nmc` command uses
//! (`nmc::pipeline`, `nmc::simulate`, `nmc::inspect`): every model, report
//! and artifact goes through the code path of the matching CLI command, so
//! both give the same bytes. Reports cross the boundary as the JSON the
//! CLI's `--json` prints (the Python half turns it into dicts); spikes cross
//! as numpy arrays. Long runs release the GIL.
//!
//! Errors become exceptions by the CLI's exit code (`nmc::Error::exit_code`):
//! one class per code, all subclasses of `NmcError`, carrying the message
//! the CLI prints after `error: `.

// The closures handed to `Python::detach` return `nmc::Error` as the façade
// does; it becomes an exception at once, so boxing it here would buy nothing.
#![allow(clippy::result_large_err)]

use ndarray::{ArrayD, IxDyn};
use nmc::pipeline::{self, AnyModel, Compiled, VerifyOptions};
use nmc_artifact::Artifact;
use nmc_emu::{EmuError, Emulator, RunOptions};
use nmc_quant::{EncoderMode, QuantOptions};
use nmc_reference::Stimulus;
use nmc_target::Target;
use numpy::{IntoPyArray, PyArray3, PyArrayDyn, PyReadonlyArrayDyn};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;

create_exception!(
    _nmc,
    NmcError,
    PyException,
    "Any error nmc reports (the CLI's non-zero exit codes)."
);
create_exception!(
    _nmc,
    UsageError,
    NmcError,
    "A call nmc cannot run as given (CLI exit code 2)."
);
create_exception!(
    _nmc,
    BadInputError,
    NmcError,
    "A malformed or unsupported model, target, array or file (CLI exit code 3)."
);
create_exception!(
    _nmc,
    DoesNotFitError,
    NmcError,
    "The network does not fit the target (CLI exit code 4)."
);
create_exception!(
    _nmc,
    MismatchError,
    NmcError,
    "A = B failed or spikes differ from a golden file (CLI exit code 5)."
);
create_exception!(
    _nmc,
    OverflowError,
    NmcError,
    "Strict mode: a register wrapped or clipped (CLI exit code 6)."
);
create_exception!(_nmc, InternalError, NmcError, "A bug in nmc (CLI exit code 1).");

/// The error chain as the CLI prints it (`a: b: c`, repeats dropped).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

fn py_err(e: nmc::Error) -> PyErr {
    let m = chain(&e);
    match e.exit_code() {
        c if c == nmc::exit::USAGE => UsageError::new_err(m),
        c if c == nmc::exit::DOES_NOT_FIT => DoesNotFitError::new_err(m),
        c if c == nmc::exit::MISMATCH => MismatchError::new_err(m),
        c if c == nmc::exit::OVERFLOW => OverflowError::new_err(m),
        c if c == nmc::exit::INTERNAL => InternalError::new_err(m),
        _ => BadInputError::new_err(m),
    }
}

fn err<E: Into<nmc::Error>>(e: E) -> PyErr {
    py_err(e.into())
}

fn json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| InternalError::new_err(format!("serialising a report: {e}")))
}

/// Built-in target names of the loihi family (the ones this API compiles for).
#[pyfunction]
fn targets() -> Vec<&'static str> {
    nmc_target::builtin_names().to_vec()
}

/// Every built-in chip of every family: (name, family), as `nmc targets` lists them.
#[pyfunction]
fn all_targets() -> Vec<(&'static str, &'static str)> {
    nmc::chips::builtins().into_iter().map(|b| (b.name, b.family)).collect()
}

/// A chip target: a built-in name or a target file.
#[pyclass(module = "nmc._nmc", name = "Target", frozen)]
struct PyTarget {
    inner: Target,
}

#[pymethods]
impl PyTarget {
    #[new]
    fn new(name_or_path: &str) -> PyResult<Self> {
        Ok(PyTarget {
            inner: Target::load(name_or_path).map_err(err)?,
        })
    }
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }
    #[getter]
    fn description(&self) -> &str {
        self.inner.description()
    }
    /// The target file's content as JSON (the same fields as its RON file).
    fn to_json(&self) -> PyResult<String> {
        json(&self.inner.to_raw())
    }
    /// The target file as RON.
    fn to_ron(&self) -> PyResult<String> {
        self.inner.to_ron().map_err(err)
    }
    /// The update rule (the file's `rule:` section, or the family's one rule
    /// for a file without it) as JSON.
    fn rule_json(&self) -> PyResult<String> {
        json(&self.inner.rule())
    }
    fn __repr__(&self) -> String {
        format!("nmc.Target({:?})", self.inner.name())
    }
}

/// A model of any stage: a float network (.nir, .onnx, a `nir.NIRGraph`), a
/// quantized model (.q.ron) or a compiled artifact (.nmca).
#[pyclass(module = "nmc._nmc", name = "Model", frozen)]
struct PyModel {
    inner: AnyModel,
    source: String,
    /// What loading found questionable (the ONNX converter's warnings, which
    /// the CLI prints to stderr); the Python half issues them as warnings.
    warnings: Vec<String>,
}

fn load_options(
    dt: Option<f64>,
    discretization: Option<&str>,
    reset: Option<&str>,
    spike_convention: Option<&str>,
) -> PyResult<nmc::LoadOptions> {
    let discretization = match discretization {
        None => None,
        Some(name) => Some(nmc_ir::Discretization::named(name).ok_or_else(|| {
            UsageError::new_err(format!("discretization `{name}`: expected one of exact, euler, nengo"))
        })?),
    };
    let spike_convention =
        match spike_convention {
            None => None,
            Some(name) => Some(nmc_ir::SpikeConvention::named(name).ok_or_else(|| {
                UsageError::new_err(format!("spike_convention `{name}`: expected one of step, impulse"))
            })?),
        };
    let reset = match reset {
        None => None,
        Some("zero") => Some(nmc_ir::ResetMode::Zero),
        Some("subtract") => Some(nmc_ir::ResetMode::Subtract),
        Some(other) => {
            return Err(UsageError::new_err(format!(
                "reset `{other}`: expected one of zero, subtract"
            )));
        }
    };
    if let Some(dt) = dt
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(UsageError::new_err(format!(
            "dt must be a positive finite number of seconds, got {dt}"
        )));
    }
    Ok(nmc::LoadOptions {
        dt,
        discretization,
        reset,
        spike_convention,
    })
}

/// Loads a model file by extension, as every CLI command does; `.onnx`
/// files are converted with the CLI's `--calibrate/--percentile/--max-rate`.
#[pyfunction]
#[pyo3(signature = (path, dt=None, discretization=None, reset=None, calibrate=None, percentile=99.9, max_rate=250.0, spike_convention=None))]
#[allow(clippy::too_many_arguments)]
fn load_path(
    py: Python<'_>,
    path: PathBuf,
    dt: Option<f64>,
    discretization: Option<&str>,
    reset: Option<&str>,
    calibrate: Option<PyReadonlyArrayDyn<'_, f64>>,
    percentile: f64,
    max_rate: f64,
    spike_convention: Option<&str>,
) -> PyResult<PyModel> {
    let opts = load_options(dt, discretization, reset, spike_convention)?;
    let is_onnx = path
        .extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("onnx"));
    let mut warnings = Vec::new();
    let inner = if is_onnx {
        let conv = nmc_frontend::onnx::ConvertOptions {
            calibration: calibrate.map(|a| a.as_array().to_owned()),
            percentile,
            max_rate_hz: max_rate,
            dt: opts.dt,
            reset: opts.reset,
            ..Default::default()
        };
        let c = py.detach(|| nmc_frontend::onnx::convert(&path, &conv)).map_err(err)?;
        warnings = c.report.warnings;
        AnyModel::Float(Box::new(c.graph))
    } else {
        if calibrate.is_some() {
            return Err(UsageError::new_err(format!(
                "{}: calibrate applies to .onnx models only",
                path.display()
            )));
        }
        let m = py.detach(|| pipeline::load_any(&path, &opts)).map_err(py_err)?;
        if let AnyModel::Float(g) = &m {
            warnings = nmc::load_warnings(g);
        }
        m
    };
    Ok(PyModel {
        inner,
        source: path.display().to_string(),
        warnings,
    })
}

/// Loads a NIR graph from the bytes of its HDF5 file: `source` names it in
/// messages (where a file name would be), `model` is the model's name (a
/// file's stem when loaded from a file; it appears in reports and the
/// artifact).
#[pyfunction]
#[pyo3(signature = (source, model, data, dt=None, discretization=None, reset=None, spike_convention=None))]
#[allow(clippy::too_many_arguments)]
fn load_nir_bytes(
    py: Python<'_>,
    source: String,
    model: String,
    data: Vec<u8>,
    dt: Option<f64>,
    discretization: Option<&str>,
    reset: Option<&str>,
    spike_convention: Option<&str>,
) -> PyResult<PyModel> {
    let opts = load_options(dt, discretization, reset, spike_convention)?;
    let mut g = py
        .detach(|| nmc_frontend::load_nir_bytes(&source, &data, &opts))
        .map_err(err)?;
    g.name = model;
    let warnings = nmc::load_warnings(&g);
    let name = source;
    Ok(PyModel {
        inner: AnyModel::Float(Box::new(g)),
        source: name,
        warnings,
    })
}

fn encoder(name: &str) -> PyResult<EncoderMode> {
    match name {
        "auto" => Ok(EncoderMode::Auto),
        "none" => Ok(EncoderMode::None),
        "onoff" => Ok(EncoderMode::OnOff),
        other => Err(UsageError::new_err(format!(
            "encoder `{other}`: expected one of auto, none, onoff"
        ))),
    }
}

fn quant_options(scale_firing_rates: f64, enc: &str) -> PyResult<QuantOptions> {
    if !(scale_firing_rates.is_finite() && scale_firing_rates > 0.0) {
        return Err(UsageError::new_err(format!(
            "scale_firing_rates must be a positive finite number, got {scale_firing_rates}"
        )));
    }
    Ok(QuantOptions::default()
        .scale_firing_rates(scale_firing_rates)
        .encoder(encoder(enc)?))
}

/// The stimulus of an input array shaped as the CLI's `.npy` inputs.
fn stimulus(x: PyReadonlyArrayDyn<'_, f64>, shape: &nmc_ir::Shape) -> PyResult<Stimulus> {
    let a: ArrayD<f64> = x.as_array().to_owned();
    Stimulus::from_array(a, shape).map_err(|e| BadInputError::new_err(format!("x: {e}")))
}

/// Class labels, one per batch item, as the CLI's label files hold them.
fn labels_of(labels: Option<Vec<i64>>, batch: usize) -> PyResult<Option<Vec<usize>>> {
    let Some(l) = labels else { return Ok(None) };
    if l.len() != batch {
        return Err(BadInputError::new_err(format!(
            "labels: {} labels for a batch of {batch} inputs",
            l.len()
        )));
    }
    l.into_iter()
        .enumerate()
        .map(|(i, v)| usize::try_from(v).map_err(|_| BadInputError::new_err(format!("labels[{i}] = {v} is negative"))))
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

/// Spikes as the CLI's `.npz` holds them: `uint8 (batch, steps, *shape)`.
fn spikes_array<'py>(
    py: Python<'py>,
    bits: &bitvec::vec::BitVec,
    b: usize,
    t: usize,
    shape: &[usize],
) -> PyResult<Bound<'py, PyArrayDyn<u8>>> {
    let mut dims = vec![b, t];
    dims.extend_from_slice(shape);
    let v: Vec<u8> = bits.iter().map(|x| u8::from(*x)).collect();
    let a = ArrayD::from_shape_vec(IxDyn(&dims), v)
        .map_err(|e| InternalError::new_err(format!("spike array of shape {dims:?}: {e}")))?;
    Ok(a.into_pyarray(py))
}

impl PyModel {
    fn graph(&self, what: &str) -> PyResult<&nmc_ir::Graph> {
        match &self.inner {
            AnyModel::Float(g) => Ok(g),
            AnyModel::Quant(_) => Err(UsageError::new_err(format!(
                "{}: {what} needs the float network; this is a quantized model",
                self.source
            ))),
            AnyModel::Artifact(_) => Err(UsageError::new_err(format!(
                "{}: {what} needs the float network; this is a compiled artifact",
                self.source
            ))),
        }
    }
}

#[pymethods]
impl PyModel {
    /// "float", "quantized" or "artifact".
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner {
            AnyModel::Float(_) => "float",
            AnyModel::Quant(_) => "quantized",
            AnyModel::Artifact(_) => "artifact",
        }
    }
    /// What loading found questionable (e.g. an ONNX model converted without calibration data).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }
    /// The shape of one step of the (first) input, without batch and time.
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        match &self.inner {
            AnyModel::Float(g) => g
                .input_nodes()
                .first()
                .map(|&i| g.node(i).out.shape.dims().to_vec())
                .unwrap_or_default(),
            AnyModel::Quant(q) => q.inputs.first().map(|i| i.shape.dims().to_vec()).unwrap_or_default(),
            AnyModel::Artifact(a) => a.inputs.first().map(|i| i.shape.clone()).unwrap_or_default(),
        }
    }
    /// The step length in seconds.
    #[getter]
    fn dt(&self) -> f64 {
        match &self.inner {
            AnyModel::Float(g) => g.dt,
            AnyModel::Quant(q) => q.dt,
            AnyModel::Artifact(a) => a.dt,
        }
    }
    /// What `nmc inspect` prints (`json`: what `nmc inspect --json` prints).
    #[pyo3(signature = (json=false))]
    fn inspect(&self, json: bool) -> PyResult<String> {
        Ok(match &self.inner {
            AnyModel::Float(g) => {
                let r = nmc::inspect::InspectReport::new(g);
                if json { self::json(&r)? } else { r.to_string() }
            }
            AnyModel::Quant(q) => {
                if json {
                    self::json(q)?
                } else {
                    nmc::inspect::qmodel_summary(q)
                }
            }
            AnyModel::Artifact(a) => a.dump(),
        })
    }

    /// The float reference on `x` (`(batch, steps, *input_shape)`), as
    /// `nmc simulate` runs it: per layer `(name, spikes uint8 (batch,
    /// steps, *layer shape))`, per output `(name, values float64 (batch,
    /// steps, features))` and the report JSON (`nmc simulate --json`).
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (x, steps=None, labels=None))]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
        steps: Option<usize>,
        labels: Option<Vec<i64>>,
    ) -> PyResult<(
        Vec<(String, Bound<'py, PyArrayDyn<u8>>)>,
        Vec<(String, Bound<'py, PyArray3<f64>>)>,
        String,
    )> {
        let g = self.graph("simulate")?;
        let input_shape = x.as_array().shape().to_vec();
        let stim = stimulus(x, &nmc::simulate::input_shape_of(g))?;
        let labels = labels_of(labels, stim.batch())?;
        let (report, res) = py
            .detach(|| nmc::simulate::run_stimulus(g, "x", input_shape, &stim, steps, labels.as_deref()))
            .map_err(py_err)?;
        let layers = res
            .layers
            .iter()
            .map(|l| {
                Ok((
                    l.name.clone(),
                    spikes_array(py, &l.spikes, l.batch, l.steps, l.shape.dims())?,
                ))
            })
            .collect::<PyResult<_>>()?;
        let outputs = res
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.values.clone().into_pyarray(py)))
            .collect();
        Ok((layers, outputs, json(&report)?))
    }

    /// Quantizes a float model: the quantized model and the report JSON
    /// (`nmc quantize --json`).
    #[pyo3(signature = (target, scale_firing_rates=1.0, encoder="auto"))]
    fn quantize(
        &self,
        py: Python<'_>,
        target: &PyTarget,
        scale_firing_rates: f64,
        encoder: &str,
    ) -> PyResult<(PyModel, String)> {
        let g = self.graph("quantize")?;
        let opts = quant_options(scale_firing_rates, encoder)?;
        let (q, report) = py
            .detach(|| pipeline::quantize(g, &target.inner, &opts))
            .map_err(py_err)?;
        Ok((
            PyModel {
                inner: AnyModel::Quant(Box::new(q)),
                source: self.source.clone(),
                warnings: Vec::new(),
            },
            json(&report)?,
        ))
    }

    /// Compiles for `target` (`nmc compile`).
    #[pyo3(signature = (target, scale_firing_rates=1.0, encoder="auto"))]
    fn compile(
        &self,
        py: Python<'_>,
        target: &PyTarget,
        scale_firing_rates: f64,
        encoder: &str,
    ) -> PyResult<PyDeployment> {
        let t = &target.inner;
        let popts = nmc_partition::PartitionOptions::default();
        let c = match &self.inner {
            AnyModel::Float(g) => {
                let opts = quant_options(scale_firing_rates, encoder)?;
                py.detach(|| pipeline::compile(g, t, &opts, &popts)).map_err(py_err)?
            }
            AnyModel::Quant(q) => {
                let q = (**q).clone();
                py.detach(|| pipeline::compile_quantized(q, t, &popts))
                    .map_err(py_err)?
            }
            AnyModel::Artifact(_) => {
                return Err(UsageError::new_err(format!(
                    "{}: already a compiled artifact: emulate it",
                    self.source
                )));
            }
        };
        Ok(PyDeployment {
            artifact: c.artifact.clone(),
            compiled: Some(c),
        })
    }

    /// A compiled artifact as a deployment (only for .nmca models).
    fn deployment(&self) -> PyResult<PyDeployment> {
        match &self.inner {
            AnyModel::Artifact(a) => Ok(PyDeployment {
                artifact: (**a).clone(),
                compiled: None,
            }),
            _ => Err(UsageError::new_err(format!(
                "{}: not a compiled artifact: compile it first",
                self.source
            ))),
        }
    }
}

/// What `compile` produced: the artifact and, when compiled here, its
/// reports.
#[pyclass(module = "nmc._nmc", name = "Deployment", frozen)]
struct PyDeployment {
    artifact: Artifact,
    compiled: Option<Compiled>,
}

#[pymethods]
impl PyDeployment {
    /// The artifact's bytes, as `nmc compile -o` writes them.
    fn artifact_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.artifact.to_bytes().map_err(err)?;
        Ok(PyBytes::new(py, &b))
    }
    /// Writes the artifact (atomically, as the CLI does).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.artifact.write(&path).map_err(err)
    }
    /// The partition report JSON (`nmc compile --json`'s `partition`), if
    /// compiled in this session.
    fn partition_json(&self) -> PyResult<Option<String>> {
        self.compiled.as_ref().map(|c| json(&c.partition_report)).transpose()
    }
    /// The partition report as text.
    fn partition_text(&self) -> Option<String> {
        self.compiled.as_ref().map(|c| c.partition_report.to_string())
    }
    /// The quantization report JSON, when compiled from a float model.
    fn quant_report_json(&self) -> PyResult<Option<String>> {
        self.compiled
            .as_ref()
            .and_then(|c| c.quant_report.as_ref())
            .map(json)
            .transpose()
    }
    #[getter]
    fn target_name(&self) -> &str {
        &self.artifact.target_name
    }
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.artifact
            .inputs
            .first()
            .map(|i| i.shape.clone())
            .unwrap_or_default()
    }
    /// Emulates the artifact on `x`: per layer `(name, spikes uint8
    /// (batch, steps, *layer shape))`, in the artifact's layer order.
    #[pyo3(signature = (x, steps=None, strict=false))]
    fn emulate<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
        steps: Option<usize>,
        strict: bool,
    ) -> PyResult<Vec<(String, Bound<'py, PyArrayDyn<u8>>)>> {
        let shape = nmc_ir::Shape::new(self.input_shape());
        let stim = stimulus(x, &shape)?;
        let steps = steps.unwrap_or(stim.steps());
        if steps == 0 {
            return Err(err(EmuError::input(
                nmc_core::Loc::Whole,
                "steps",
                "nothing to emulate: the number of steps is 0",
            )));
        }
        let emu = Emulator::new(&self.artifact).map_err(err)?;
        let input = pipeline::emu_input(&stim);
        let res = py
            .detach(|| {
                emu.run_opts(
                    std::slice::from_ref(&input),
                    steps,
                    &RunOptions {
                        strict,
                        ..Default::default()
                    },
                    &|| {},
                )
            })
            .map_err(err)?;
        let t = &res.trace;
        t.layers
            .iter()
            .map(|l| Ok((l.name.clone(), spikes_array(py, &l.spikes, t.batch, steps, &l.shape)?)))
            .collect()
    }
}

/// The three executions and their comparison (`nmc verify`): the report
/// JSON and the deployment it compiled.
#[pyfunction]
#[pyo3(signature = (model, target, x, labels=None, steps=None, strict=false, scale_firing_rates=1.0, encoder="auto"))]
#[allow(clippy::too_many_arguments)]
fn verify(
    py: Python<'_>,
    model: &PyModel,
    target: &PyTarget,
    x: PyReadonlyArrayDyn<'_, f64>,
    labels: Option<Vec<i64>>,
    steps: Option<usize>,
    strict: bool,
    scale_firing_rates: f64,
    encoder: &str,
) -> PyResult<(String, PyDeployment)> {
    let g = model.graph("verify")?;
    let stim = stimulus(x, &nmc::simulate::input_shape_of(g))?;
    let labels = labels_of(labels, stim.batch())?;
    let opts = VerifyOptions {
        quant: quant_options(scale_firing_rates, encoder)?,
        steps,
        labels,
        strict,
        ..Default::default()
    };
    let t = &target.inner;
    let out = py.detach(|| pipeline::verify(g, t, &stim, &opts)).map_err(py_err)?;
    Ok((
        json(&out.report)?,
        PyDeployment {
            artifact: out.compiled.artifact.clone(),
            compiled: Some(out.compiled),
        },
    ))
}

#[pymodule]
fn _nmc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NmcError", py.get_type::<NmcError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("BadInputError", py.get_type::<BadInputError>())?;
    m.add("DoesNotFitError", py.get_type::<DoesNotFitError>())?;
    m.add("MismatchError", py.get_type::<MismatchError>())?;
    m.add("OverflowError", py.get_type::<OverflowError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add_class::<PyTarget>()?;
    m.add_class::<PyModel>()?;
    m.add_class::<PyDeployment>()?;
    m.add_function(wrap_pyfunction!(targets, m)?)?;
    m.add_function(wrap_pyfunction!(all_targets, m)?)?;
    m.add_function(wrap_pyfunction!(load_path, m)?)?;
    m.add_function(wrap_pyfunction!(load_nir_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
