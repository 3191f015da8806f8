//! A small dense tensor of `f64` parameters (weights, taus, thresholds).
//!
//! The IR keeps parameters in one simple row-major type so that every crate
//! (frontend, reference, quantizer) agrees on layout without sharing a
//! linear-algebra library. Frontends convert whatever the file held
//! (float32, float64, int64) explicitly into this.

use crate::fact::Shape;
use serde::{Deserialize, Serialize};

/// A row-major dense tensor of `f64`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Tensor {
    shape: Shape,
    data: Vec<f64>,
}

/// A tensor whose data length does not match its shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("tensor data has {len} elements but shape {shape} needs {numel}")]
pub struct TensorShapeError {
    /// The declared shape.
    pub shape: Shape,
    /// Elements the shape needs.
    pub numel: usize,
    /// Elements supplied.
    pub len: usize,
}

impl Tensor {
    /// A tensor from a shape and row-major data.
    pub fn new(shape: Shape, data: Vec<f64>) -> Result<Self, TensorShapeError> {
        let numel = shape.numel();
        if numel != data.len() {
            return Err(TensorShapeError {
                shape,
                numel,
                len: data.len(),
            });
        }
        Ok(Tensor { shape, data })
    }
    /// A 0-d tensor.
    pub fn scalar(v: f64) -> Self {
        Tensor {
            shape: Shape::default(),
            data: vec![v],
        }
    }
    /// A 1-d tensor.
    pub fn vector(data: Vec<f64>) -> Self {
        Tensor {
            shape: Shape::new([data.len()]),
            data,
        }
    }
    /// A tensor of `shape` filled with `v`.
    pub fn full(shape: Shape, v: f64) -> Self {
        let n = shape.numel();
        Tensor {
            shape,
            data: vec![v; n],
        }
    }
    /// Its shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }
    /// Its row-major data.
    pub fn data(&self) -> &[f64] {
        &self.data
    }
    /// Mutable row-major data (the shape cannot change).
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// True when it has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// True when every element equals the first (a per-neuron array that
    /// really holds one value, as NIR exporters often write).
    pub fn is_uniform(&self) -> bool {
        self.data
            .windows(2)
            .all(|w| w[0] == w[1] || (w[0].is_nan() && w[1].is_nan()))
    }
    /// Smallest and largest element (`None` when empty).
    pub fn min_max(&self) -> Option<(f64, f64)> {
        let mut it = self.data.iter().copied();
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
    }
    /// True when every element is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }
    /// This tensor broadcast to `n` elements: a scalar (or single-element
    /// tensor) is repeated, a tensor of exactly `n` elements is flattened.
    /// `None` when neither applies.
    pub fn broadcast_to(&self, n: usize) -> Option<Vec<f64>> {
        if self.data.len() == n {
            Some(self.data.clone())
        } else if self.data.len() == 1 {
            Some(vec![self.data[0]; n])
        } else {
            None
        }
    }
    /// The same data under another shape with the same element count.
    pub fn reshape(self, shape: Shape) -> Result<Self, TensorShapeError> {
        Tensor::new(shape, self.data)
    }
}
