//! The input of a simulation: an array `(batch, steps, features)` and the
//! presentation options.

use crate::error::SimError;
use ndarray::{Array3, ArrayD, Ix3};
use nmc_ir::Shape;

/// Per-step input to one Input node, for a batch of samples: `f64` of shape
/// `(batch, steps, features)`, standard (row-major) layout, all finite,
/// `batch ≥ 1` and `steps ≥ 1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stimulus {
    values: Array3<f64>,
}

/// How long to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// Presentation time in steps. `None`: the input's time axis (the longest
    /// one when there are several inputs). When longer than an input's time
    /// axis the input is repeated (tiled) along time, NengoDL-style: step `t`
    /// reads time index `t mod T`; when shorter the input is truncated.
    pub steps: Option<usize>,
}

impl Stimulus {
    /// A stimulus from a `(batch, steps, features)` array. Fails on an empty
    /// batch or time axis and on non-finite values.
    pub fn new(values: Array3<f64>) -> Result<Self, SimError> {
        let (b, t, _) = values.dim();
        if b == 0 {
            return Err(SimError::Empty(
                "the input array has an empty batch axis (0 samples)".into(),
            ));
        }
        if t == 0 {
            return Err(SimError::Empty(
                "the input array has an empty time axis (0 steps)".into(),
            ));
        }
        if let Some(((bi, ti, fi), &v)) = values.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(SimError::NonFinite {
                batch: bi,
                step: ti,
                feature: fi,
                value: v,
            });
        }
        let values = if values.is_standard_layout() {
            values
        } else {
            values.as_standard_layout().into_owned()
        };
        Ok(Stimulus { values })
    }

    /// Accepts `(steps, features)` → batch 1; `(batch, steps, features)`;
    /// and arrays whose trailing dimensions equal the model input shape, e.g.
    /// for input `[2,34,34]`: `(steps, 2, 34, 34)` or `(batch, steps, 2, 34,
    /// 34)` — features flattened row-major (NIR convolution inputs are CHW).
    ///
    /// When both readings fit (an input shape of rank ≥ 2 whose leading
    /// dimension is 1, e.g. `[1,5]` and an array `(10, 1, 5)`), the one that
    /// matches the input shape exactly wins (here: 10 steps, batch 1). For a
    /// scalar input shape `[]` a 1-d array `(steps,)` is accepted too.
    ///
    /// Anything else is an error naming the expected and actual shapes and
    /// explaining the `(batch, steps, features)` convention.
    pub fn from_array(a: ArrayD<f64>, input_shape: &Shape) -> Result<Self, SimError> {
        let dims = input_shape.dims();
        let n = input_shape.numel();
        let got = a.shape().to_vec();
        let r = dims.len();
        let nd = got.len();
        let trailing = nd >= r && got[nd - r..] == *dims;
        let (batch, steps) = if r >= 2 && nd == r + 1 && trailing {
            (1, got[0])
        } else if r >= 2 && nd == r + 2 && trailing {
            (got[0], got[1])
        } else if nd == 2 && got[1] == n {
            (1, got[0])
        } else if nd == 3 && got[2] == n {
            (got[0], got[1])
        } else if r == 0 && nd == 1 {
            (1, got[0])
        } else {
            return Err(shape_error(got, input_shape));
        };
        // (No copy when the array is already row-major, as read from .npy.)
        let a = if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned()
        };
        let values = a
            .into_shape_with_order((batch, steps, n))
            .map_err(|_| shape_error(Vec::new(), input_shape))?
            .into_dimensionality::<Ix3>()
            .map_err(|_| shape_error(Vec::new(), input_shape))?;
        Stimulus::new(values)
    }

    /// Number of samples.
    pub fn batch(&self) -> usize {
        self.values.dim().0
    }
    /// Length of the time axis.
    pub fn steps(&self) -> usize {
        self.values.dim().1
    }
    /// Features per step.
    pub fn features(&self) -> usize {
        self.values.dim().2
    }
    /// The values, `(batch, steps, features)`.
    pub fn values(&self) -> &Array3<f64> {
        &self.values
    }
    /// Sample `b` as a contiguous row-major `(steps × features)` slice.
    pub(crate) fn sample(&self, b: usize) -> &[f64] {
        let per = self.steps() * self.features();
        match self.values.as_slice() {
            Some(s) => &s[b * per..(b + 1) * per],
            None => &[],
        }
    }
}

fn shape_error(got: Vec<usize>, input: &Shape) -> SimError {
    let dims = input.dims();
    let n = input.numel();
    let nd = got.len();
    let hint = if got.is_empty() {
        "a 0-d array has no time axis".to_string()
    } else if got == dims || (nd == 1 && got[0] == n) {
        "this looks like a single frame without a time axis; add one, e.g. reshape to (1, ...), and set the \
         number of steps to repeat it"
            .to_string()
    } else if nd == 2 && got[0] == n {
        format!("the time axis seems to be last; transpose to ({}, {n})", got[1])
    } else if nd == 3 && got[1] == n {
        format!(
            "the axes seem to be (batch, features, steps); transpose to ({}, {}, {n})",
            got[0], got[2]
        )
    } else {
        let last = got.last().copied().unwrap_or(0);
        let total: usize = got.iter().product();
        if n > 0 && total.is_multiple_of(n) && last != n {
            format!(
                "the last axis has {last} elements but one step of the model input has {n}; the array's \
                 {total} elements would make {} steps of {n} features if reshaped",
                total / n
            )
        } else {
            format!("the last axis has {last} elements but one step of the model input has {n}")
        }
    };
    SimError::StimulusShape {
        got,
        expected: input.clone(),
        features: n,
        dims: dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
        hint,
    }
}
