//! A deployed Xylo configuration: the arguments of rockpool's
//! `XyloSim.from_specification` (syns61201 / syns63300), read from an `.npz`
//! holding one array per argument name, and its checker against a [`Chip`].
//!
//! | array | shape | default when absent |
//! |---|---|---|
//! | `weights_in` | (inputs, IEN) or (inputs, IEN, states) | required |
//! | `weights_rec` | (hidden, hidden) or (hidden, hidden, states) | zeros, hidden = IEN |
//! | `weights_out` | (OEN, outputs); row r is hidden neuron hidden − OEN + r | required |
//! | `dash_mem`, `dash_syn`, `dash_syn_2`, `threshold`, `bias`, `aliases` | (hidden,) | 0 (aliases −1) |
//! | `dash_mem_out`, `dash_syn_out`, `threshold_out`, `bias_out` | (outputs,) | 0 |
//! | `weight_shift_in`, `weight_shift_rec`, `weight_shift_out` | () or (1,) | 0 |
//!
//! `aliases[i]` is the hidden neuron that receives copies of neuron i's
//! spikes, −1 for none (rockpool's list of lists, with at most one entry).
//! Any other array name is an error (a misspelt name would otherwise be
//! silently replaced by its default).

use std::path::Path;

use ndarray::{Array1, Array2, Array3, ArrayD, Axis, Ix1, Ix2, Ix3};

use crate::Error;
use crate::chip::{Chip, signed_range};
use crate::npz::{self, Arrays, NpyArray};

/// Hidden-population vectors: (name, default).
const HIDDEN_VECTORS: &[(&str, i64)] = &[
    ("dash_mem", 0),
    ("dash_syn", 0),
    ("dash_syn_2", 0),
    ("threshold", 0),
    ("bias", 0),
    ("aliases", -1),
];
/// Output-population vectors.
const OUTPUT_VECTORS: &[&str] = &["dash_mem_out", "dash_syn_out", "threshold_out", "bias_out"];
/// Scalars.
const SCALARS: &[&str] = &["weight_shift_in", "weight_shift_rec", "weight_shift_out"];

/// A deployed configuration, values as read (checked against a chip by
/// [`Config::check`], which the emulator calls first).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it came from (a path or `<memory>`), for messages.
    pub source: String,
    /// (inputs, IEN, states): input channel → the first IEN hidden neurons.
    pub weights_in: Array3<i64>,
    /// (hidden, hidden, states): pre → post.
    pub weights_rec: Array3<i64>,
    /// (OEN, outputs): the last OEN hidden neurons → outputs.
    pub weights_out: Array2<i64>,
    /// Hidden membrane decay shifts.
    pub dash_mem: Array1<i64>,
    /// Hidden synaptic-state-1 decay shifts.
    pub dash_syn: Array1<i64>,
    /// Hidden synaptic-state-2 decay shifts.
    pub dash_syn_2: Array1<i64>,
    /// Hidden thresholds.
    pub threshold: Array1<i64>,
    /// Hidden biases.
    pub bias: Array1<i64>,
    /// Hidden alias targets, −1 for none.
    pub aliases: Array1<i64>,
    /// Output membrane decay shifts.
    pub dash_mem_out: Array1<i64>,
    /// Output synaptic decay shifts.
    pub dash_syn_out: Array1<i64>,
    /// Output thresholds.
    pub threshold_out: Array1<i64>,
    /// Output biases.
    pub bias_out: Array1<i64>,
    /// Input weight left shift.
    pub weight_shift_in: i64,
    /// Recurrent weight left shift.
    pub weight_shift_rec: i64,
    /// Output weight left shift.
    pub weight_shift_out: i64,
}

impl Config {
    /// Input channels used.
    pub fn inputs(&self) -> usize {
        self.weights_in.dim().0
    }
    /// Hidden neurons used.
    pub fn hidden(&self) -> usize {
        self.weights_rec.dim().0
    }
    /// Output neurons used.
    pub fn outputs(&self) -> usize {
        self.weights_out.dim().1
    }
    /// Hidden neurons reached by input weights (the first ones).
    pub fn input_expansion(&self) -> usize {
        self.weights_in.dim().1
    }
    /// Hidden neurons feeding the outputs (the last ones).
    pub fn output_expansion(&self) -> usize {
        self.weights_out.dim().0
    }
    /// Synaptic states the weights address (1 or 2).
    pub fn states(&self) -> usize {
        self.weights_in.dim().2
    }

    /// A network with every weight and parameter 0 (aliases none), of the
    /// given sizes; fill the fields, then [`Config::check`].
    pub fn zeros(inputs: usize, hidden: usize, outputs: usize, states: usize) -> Config {
        let h = || Array1::zeros(hidden);
        let o = || Array1::zeros(outputs);
        Config {
            source: "<memory>".into(),
            weights_in: Array3::zeros((inputs, hidden, states)),
            weights_rec: Array3::zeros((hidden, hidden, states)),
            weights_out: Array2::zeros((hidden, outputs)),
            dash_mem: h(),
            dash_syn: h(),
            dash_syn_2: h(),
            threshold: h(),
            bias: h(),
            aliases: Array1::from_elem(hidden, -1),
            dash_mem_out: o(),
            dash_syn_out: o(),
            threshold_out: o(),
            bias_out: o(),
            weight_shift_in: 0,
            weight_shift_rec: 0,
            weight_shift_out: 0,
        }
    }

    /// Read a specification `.npz` (see the module docs for its arrays).
    pub fn read_npz(path: &Path) -> Result<Config, Error> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Config::from_npz_bytes(&file, &bytes)
    }

    /// [`Config::read_npz`] from bytes in memory; `file` names them in errors.
    pub fn from_npz_bytes(file: &str, bytes: &[u8]) -> Result<Config, Error> {
        let arrays = npz::read_npz_bytes(file, bytes)?;
        Config::from_arrays(file, arrays)
    }

    /// Build from named arrays (as read from an `.npz`), with
    /// `from_specification`'s defaults; checks names, ranks and shapes.
    pub fn from_arrays(file: &str, mut arrays: Arrays) -> Result<Config, Error> {
        let known = |n: &str| {
            ["weights_in", "weights_rec", "weights_out"].contains(&n)
                || HIDDEN_VECTORS.iter().any(|(k, _)| *k == n)
                || OUTPUT_VECTORS.contains(&n)
                || SCALARS.contains(&n)
        };
        if let Some(n) = arrays.keys().find(|n| !known(n)) {
            return Err(Error::config(file, n, "not an argument of XyloSim.from_specification"));
        }
        let w_in = arrays
            .remove("weights_in")
            .ok_or_else(|| Error::config(file, "weights_in", "missing"))?;
        let w_in = matrix3(file, "weights_in", w_in)?;
        let w_out = arrays
            .remove("weights_out")
            .ok_or_else(|| Error::config(file, "weights_out", "missing"))?;
        let weights_out = w_out
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::config(file, "weights_out", "must be 2-d (OEN, outputs)"))?;
        let w_rec = match arrays.remove("weights_rec") {
            Some(a) => matrix3(file, "weights_rec", a)?,
            None => Array3::zeros((w_in.dim().1, w_in.dim().1, w_in.dim().2)),
        };
        let states = w_in.dim().2.max(w_rec.dim().2);
        let hidden = w_rec.dim().0;
        let outputs = weights_out.dim().1;
        let mut vec = |name: &str, n: usize, default: i64| -> Result<Array1<i64>, Error> {
            match arrays.remove(name) {
                None => Ok(Array1::from_elem(n, default)),
                Some(a) => a
                    .into_dimensionality::<Ix1>()
                    .map_err(|_| Error::config(file, name, format!("must be 1-d ({n},)"))),
            }
        };
        let mut c = Config::zeros(0, 0, 0, states);
        c.source = file.into();
        c.weights_in = pad_states(w_in, states);
        c.weights_rec = pad_states(w_rec, states);
        c.weights_out = weights_out;
        c.dash_mem = vec("dash_mem", hidden, 0)?;
        c.dash_syn = vec("dash_syn", hidden, 0)?;
        c.dash_syn_2 = vec("dash_syn_2", hidden, 0)?;
        c.threshold = vec("threshold", hidden, 0)?;
        c.bias = vec("bias", hidden, 0)?;
        c.aliases = vec("aliases", hidden, -1)?;
        c.dash_mem_out = vec("dash_mem_out", outputs, 0)?;
        c.dash_syn_out = vec("dash_syn_out", outputs, 0)?;
        c.threshold_out = vec("threshold_out", outputs, 0)?;
        c.bias_out = vec("bias_out", outputs, 0)?;
        let mut scalar = |name: &str| -> Result<i64, Error> {
            match arrays.remove(name) {
                None => Ok(0),
                Some(a) if a.len() == 1 && a.ndim() <= 1 => Ok(a.iter().copied().next().unwrap_or(0)),
                Some(a) => Err(Error::config(
                    file,
                    name,
                    format!("must be a scalar, has shape {:?}", a.shape()),
                )),
            }
        };
        c.weight_shift_in = scalar("weight_shift_in")?;
        c.weight_shift_rec = scalar("weight_shift_rec")?;
        c.weight_shift_out = scalar("weight_shift_out")?;
        c.check_shapes()?;
        Ok(c)
    }

    /// The arrays [`Config::from_arrays`] reads back (for writing an `.npz`).
    pub fn to_arrays(&self) -> Vec<(String, NpyArray)> {
        let mut out = vec![
            (
                "weights_in".to_string(),
                NpyArray::I64(self.weights_in.clone().into_dyn()),
            ),
            (
                "weights_rec".to_string(),
                NpyArray::I64(self.weights_rec.clone().into_dyn()),
            ),
            (
                "weights_out".to_string(),
                NpyArray::I64(self.weights_out.clone().into_dyn()),
            ),
        ];
        for (name, v) in self.vectors() {
            out.push((name.to_string(), NpyArray::I64(v.clone().into_dyn())));
        }
        for (name, v) in [
            ("weight_shift_in", self.weight_shift_in),
            ("weight_shift_rec", self.weight_shift_rec),
            ("weight_shift_out", self.weight_shift_out),
        ] {
            out.push((name.to_string(), NpyArray::I64(npz::scalar(v))));
        }
        out
    }

    /// Write as a specification `.npz`.
    pub fn write_npz(&self, path: &Path) -> Result<(), Error> {
        npz::write_npz(path, &self.to_arrays())
    }

    /// Every per-neuron vector with its name.
    pub(crate) fn vectors(&self) -> [(&'static str, &Array1<i64>); 10] {
        [
            ("dash_mem", &self.dash_mem),
            ("dash_syn", &self.dash_syn),
            ("dash_syn_2", &self.dash_syn_2),
            ("threshold", &self.threshold),
            ("bias", &self.bias),
            ("aliases", &self.aliases),
            ("dash_mem_out", &self.dash_mem_out),
            ("dash_syn_out", &self.dash_syn_out),
            ("threshold_out", &self.threshold_out),
            ("bias_out", &self.bias_out),
        ]
    }

    /// Shapes agree with one another (whatever the chip).
    pub fn check_shapes(&self) -> Result<(), Error> {
        let f = self.source.as_str();
        let (h, o) = (self.hidden(), self.outputs());
        let (_, hh, s_rec) = self.weights_rec.dim();
        if hh != h {
            return Err(Error::config(
                f,
                "weights_rec",
                format!("must be square (hidden, hidden[, states]), is {h}x{hh}"),
            ));
        }
        let s = self.states();
        if s == 0 || s > 2 || s_rec != s {
            return Err(Error::config(
                f,
                "weights_in",
                format!("synaptic-state axis must be 1 or 2 and agree with weights_rec ({s} vs {s_rec})"),
            ));
        }
        if self.input_expansion() > h {
            return Err(Error::config(
                f,
                "weights_in",
                format!(
                    "reaches {} hidden neurons, more than the {h} of weights_rec",
                    self.input_expansion()
                ),
            ));
        }
        if self.output_expansion() > h {
            return Err(Error::config(
                f,
                "weights_out",
                format!(
                    "has {} rows, more than the {h} hidden neurons of weights_rec",
                    self.output_expansion()
                ),
            ));
        }
        for (i, (name, v)) in self.vectors().into_iter().enumerate() {
            let want = if i < HIDDEN_VECTORS.len() { h } else { o };
            if v.len() != want {
                let pop = if i < HIDDEN_VECTORS.len() { "hidden" } else { "output" };
                return Err(Error::config(
                    f,
                    name,
                    format!("has {} entries, the {pop} population has {want}", v.len()),
                ));
            }
        }
        Ok(())
    }
}

/// A weight matrix as 3-d (a 2-d one gets a state axis of 1).
fn matrix3(file: &str, name: &str, a: ArrayD<i64>) -> Result<Array3<i64>, Error> {
    match a.ndim() {
        2 => Ok(a
            .insert_axis(Axis(2))
            .into_dimensionality::<Ix3>()
            .map_err(|_| Error::config(file, name, "bad shape"))?),
        3 => Ok(a
            .into_dimensionality::<Ix3>()
            .map_err(|_| Error::config(file, name, "bad shape"))?),
        n => Err(Error::config(
            file,
            name,
            format!("must be 2-d or 3-d, is {n}-d with shape {:?}", a.shape()),
        )),
    }
}

/// Zero-pad the state axis to `states`.
fn pad_states(a: Array3<i64>, states: usize) -> Array3<i64> {
    let (x, y, s) = a.dim();
    if s >= states {
        return a;
    }
    Array3::from_shape_fn((x, y, states), |(i, j, k)| if k < s { a[[i, j, k]] } else { 0 })
}

impl Config {
    /// Check against a chip: shapes, value ranges, aliases, fan-out limits.
    /// The first problem found is returned, naming the array and element.
    pub fn check(&self, chip: &Chip) -> Result<(), Error> {
        self.check_shapes()?;
        self.check_sizes(chip)?;
        self.check_ranges(chip)?;
        self.check_aliases()?;
        self.check_fanout(chip)
    }

    fn check_sizes(&self, chip: &Chip) -> Result<(), Error> {
        let f = self.source.as_str();
        let p = &chip.populations;
        let n = &chip.name;
        for (field, what, have, max) in [
            ("weights_in", "input channels", self.inputs(), p.inputs),
            ("weights_rec", "hidden neurons", self.hidden(), p.hidden),
            ("weights_out", "output neurons", self.outputs(), p.outputs),
            (
                "weights_in",
                "input-expansion neurons",
                self.input_expansion(),
                p.max_input_expansion,
            ),
            (
                "weights_out",
                "output-expansion neurons",
                self.output_expansion(),
                p.max_output_expansion,
            ),
        ] {
            if have > max as usize {
                return Err(Error::config(f, field, format!("uses {have} {what}, {n} has {max}")));
            }
        }
        if self.states() > chip.synapses.hidden_states as usize {
            for (field, w) in [("weights_in", &self.weights_in), ("weights_rec", &self.weights_rec)] {
                if let Some(((a, b, c), v)) = w.indexed_iter().find(|((_, _, c), v)| *c > 0 && **v != 0) {
                    return Err(Error::config_at(
                        f,
                        field,
                        &[a, b, c],
                        format!(
                            "is {v}: {n} has {} synaptic state(s) per hidden neuron",
                            chip.synapses.hidden_states
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_ranges(&self, chip: &Chip) -> Result<(), Error> {
        let f = self.source.as_str();
        let fm = &chip.formats;
        let w = signed_range(fm.weight_bits);
        let dash = (0, chip.max_dash() as i64);
        let shift = (0, chip.max_weight_shift() as i64);
        let th = signed_range(fm.threshold_bits);
        let bias = signed_range(fm.bias_bits);
        let what = |bits: u32| format!("{bits}-bit signed");
        in_range(
            f,
            "weights_in",
            self.weights_in.indexed_iter().map(|((a, b, c), v)| (vec![a, b, c], *v)),
            w,
            &what(fm.weight_bits),
        )?;
        in_range(
            f,
            "weights_rec",
            self.weights_rec
                .indexed_iter()
                .map(|((a, b, c), v)| (vec![a, b, c], *v)),
            w,
            &what(fm.weight_bits),
        )?;
        in_range(
            f,
            "weights_out",
            self.weights_out.indexed_iter().map(|((a, b), v)| (vec![a, b], *v)),
            w,
            &what(fm.weight_bits),
        )?;
        for (name, v) in self.vectors() {
            let (range, label) = match name {
                "threshold" | "threshold_out" => (th, what(fm.threshold_bits)),
                "bias" | "bias_out" => (bias, what(fm.bias_bits)),
                "aliases" => continue,
                _ => (dash, format!("a {}-bit decay shift", fm.dash_bits)),
            };
            in_range(f, name, v.indexed_iter().map(|(i, x)| (vec![i], *x)), range, &label)?;
        }
        for (name, v) in [
            ("weight_shift_in", self.weight_shift_in),
            ("weight_shift_rec", self.weight_shift_rec),
            ("weight_shift_out", self.weight_shift_out),
        ] {
            in_range(
                f,
                name,
                std::iter::once((vec![], v)),
                shift,
                &format!("a {}-bit weight shift", fm.weight_shift_bits),
            )?;
        }
        Ok(())
    }

    fn check_aliases(&self) -> Result<(), Error> {
        let h = self.hidden() as i64;
        for (i, &a) in self.aliases.iter().enumerate() {
            if a < -1 || a >= h {
                return Err(Error::config_at(
                    &self.source,
                    "aliases",
                    &[i],
                    format!("is {a}: must be -1 (none) or a hidden neuron 0..{h}"),
                ));
            }
        }
        Ok(())
    }

    fn check_fanout(&self, chip: &Chip) -> Result<(), Error> {
        let cap = chip.limits.max_fanout_per_neuron as usize;
        let mut total = 0usize;
        for (pre, row) in self.weights_rec.outer_iter().enumerate() {
            let n = row.outer_iter().filter(|w| w.iter().any(|&x| x != 0)).count();
            if n > cap {
                return Err(Error::config_at(
                    &self.source,
                    "weights_rec",
                    &[pre],
                    format!(
                        "hidden neuron {pre} reaches {n} neurons, {} allows {cap} per neuron",
                        chip.name
                    ),
                ));
            }
            total += n;
        }
        if let Some(pool) = chip.limits.recurrent_pool
            && total > pool as usize
        {
            return Err(Error::config(
                &self.source,
                "weights_rec",
                format!("needs {total} recurrent entries, {} has {pool}", chip.name),
            ));
        }
        Ok(())
    }
}

fn in_range(
    file: &str,
    field: &str,
    values: impl Iterator<Item = (Vec<usize>, i64)>,
    (lo, hi): (i64, i64),
    what: &str,
) -> Result<(), Error> {
    for (at, v) in values {
        if v < lo || v > hi {
            return Err(Error::config_at(
                file,
                field,
                &at,
                format!("is {v}, outside {lo}..={hi} ({what})"),
            ));
        }
    }
    Ok(())
}
