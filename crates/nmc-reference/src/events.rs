//! Spike events lists: an alternative to a dense 0/1 array wherever nmc
//! reads an input or recorded host spikes (`--input`, `--input-spikes`).
//!
//! An events list is a `.npz` archive holding integer arrays `step` and
//! `neuron` of equal length — event `k` is neuron `neuron[k]` (the flat,
//! row-major index into one step of the input's shape) firing at step
//! `step[k]` — and optionally `sample` (same length; default all 0),
//! `steps` (one value: the record's length; default `max(step) + 1`) and
//! `batch` (one value; default `max(sample) + 1`). This is how event
//! cameras and host programs record spikes; it becomes the dense
//! `(batch, steps, *shape)` array of 0/1 that the dense form holds, so
//! everything downstream is the same. Errors name the file, the array and
//! the event.

use crate::error::SimError;
use crate::io::{npz_entries, read_array_named};
use ndarray::ArrayD;
use nmc_ir::Shape;
use std::path::Path;

/// Reads an input for one step shape `shape`: an events list (see the
/// module documentation) as its dense 0/1 array, any other file as
/// [`crate::read_array`] reads it.
pub fn read_input(path: &Path, shape: &Shape) -> Result<ArrayD<f64>, SimError> {
    let names = npz_entries(path)?;
    if !(names.iter().any(|n| n == "step") && names.iter().any(|n| n == "neuron")) {
        return crate::read_array(path);
    }
    let get = |n: &str| -> Result<Option<Vec<f64>>, SimError> {
        if names.iter().any(|x| x == n) {
            Ok(Some(read_array_named(path, n)?.iter().copied().collect()))
        } else {
            Ok(None)
        }
    };
    let step = get("step")?.unwrap_or_default();
    let neuron = get("neuron")?.unwrap_or_default();
    let ev = Events {
        sample: get("sample")?,
        steps: get("steps")?,
        batch: get("batch")?,
        step,
        neuron,
    };
    events_dense(&ev, shape).map_err(|message| SimError::Array {
        path: path.to_path_buf(),
        message: format!("events list: {message}"),
    })
}

/// The arrays of an events list, as read.
struct Events {
    step: Vec<f64>,
    neuron: Vec<f64>,
    sample: Option<Vec<f64>>,
    steps: Option<Vec<f64>>,
    batch: Option<Vec<f64>>,
}

/// `x` as a non-negative integer, or what is wrong with array `name`'s
/// element `k`.
fn index(x: f64, name: &str, k: usize) -> Result<usize, String> {
    if x >= 0.0 && x.fract() == 0.0 && x < (1u64 << 53) as f64 {
        Ok(x as usize)
    } else {
        Err(format!("`{name}`[{k}] = {x} is not a non-negative integer"))
    }
}

/// The one value of a scalar array `name`.
fn scalar(v: &Option<Vec<f64>>, name: &str) -> Result<Option<usize>, String> {
    match v.as_deref() {
        None => Ok(None),
        Some([x]) => index(*x, name, 0).map(Some),
        Some(other) => Err(format!("`{name}` must hold one value, it holds {}", other.len())),
    }
}

/// The dense `(batch, steps, *shape)` 0/1 array of an events list.
fn events_dense(ev: &Events, shape: &Shape) -> Result<ArrayD<f64>, String> {
    let n_ev = ev.step.len();
    if ev.neuron.len() != n_ev {
        return Err(format!("`step` has {n_ev} events but `neuron` has {}", ev.neuron.len()));
    }
    if let Some(s) = &ev.sample
        && s.len() != n_ev
    {
        return Err(format!("`step` has {n_ev} events but `sample` has {}", s.len()));
    }
    let n = shape.numel();
    let mut ix = Vec::with_capacity(n_ev);
    for k in 0..n_ev {
        let t = index(ev.step[k], "step", k)?;
        let i = index(ev.neuron[k], "neuron", k)?;
        let b = match &ev.sample {
            Some(s) => index(s[k], "sample", k)?,
            None => 0,
        };
        if i >= n {
            return Err(format!(
                "`neuron`[{k}] = {i}, but one step of the input has {n} elements (shape {:?})",
                shape.dims()
            ));
        }
        ix.push((b, t, i));
    }
    let steps = match scalar(&ev.steps, "steps")? {
        Some(s) => s,
        None => ix.iter().map(|e| e.1 + 1).max().unwrap_or(0),
    };
    let batch = match scalar(&ev.batch, "batch")? {
        Some(b) => b,
        None => ix.iter().map(|e| e.0 + 1).max().unwrap_or(1),
    };
    if steps == 0 {
        return Err("no events and no `steps`: the record has no time steps".into());
    }
    let mut dims = vec![batch, steps];
    dims.extend_from_slice(shape.dims());
    let total = batch.saturating_mul(steps).saturating_mul(n);
    // an absurd `steps`/`batch` value must not allocate the machine away
    const MAX_ELEMENTS: usize = 1 << 31;
    if total > MAX_ELEMENTS {
        return Err(format!(
            "batch {batch} × steps {steps} × {n} elements = {total} is more than {MAX_ELEMENTS}"
        ));
    }
    let mut data = vec![0.0; total];
    for (k, &(b, t, i)) in ix.iter().enumerate() {
        if b >= batch {
            return Err(format!("`sample`[{k}] = {b}, but `batch` is {batch}"));
        }
        if t >= steps {
            return Err(format!("`step`[{k}] = {t}, but `steps` is {steps}"));
        }
        let at = (b * steps + t) * n + i;
        if data[at] != 0.0 {
            return Err(format!(
                "event {k}: neuron {i} fires twice at step {t} of sample {b} (a neuron spikes at most once per step)"
            ));
        }
        data[at] = 1.0;
    }
    ArrayD::from_shape_vec(dims, data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ev(step: &[f64], neuron: &[f64], sample: Option<&[f64]>) -> Events {
        Events {
            step: step.to_vec(),
            neuron: neuron.to_vec(),
            sample: sample.map(<[f64]>::to_vec),
            steps: None,
            batch: None,
        }
    }

    #[test]
    fn events_become_the_dense_array() {
        let shape = Shape::new(vec![2, 3]);
        let a = events_dense(&ev(&[0.0, 2.0, 2.0], &[5.0, 0.0, 4.0], Some(&[1.0, 0.0, 1.0])), &shape).unwrap();
        assert_eq!(a.shape(), &[2, 3, 2, 3]);
        assert_eq!(a.sum(), 3.0);
        assert_eq!(a[[1, 0, 1, 2]], 1.0);
        assert_eq!(a[[0, 2, 0, 0]], 1.0);
        assert_eq!(a[[1, 2, 1, 1]], 1.0);
    }

    #[test]
    fn bad_events_name_the_array_and_event() {
        let shape = Shape::new(vec![4]);
        let e = events_dense(&ev(&[0.0, 1.0], &[4.0, 0.0], None), &shape).unwrap_err();
        assert!(e.contains("`neuron`[0] = 4") && e.contains("4 elements"), "{e}");
        let e = events_dense(&ev(&[1.0, 1.0], &[2.0, 2.0], None), &shape).unwrap_err();
        assert!(e.contains("event 1") && e.contains("fires twice"), "{e}");
        let e = events_dense(&ev(&[0.5], &[0.0], None), &shape).unwrap_err();
        assert!(e.contains("`step`[0] = 0.5"), "{e}");
        let e = events_dense(&ev(&[0.0], &[0.0, 1.0], None), &shape).unwrap_err();
        assert!(e.contains("`neuron` has 2"), "{e}");
        let mut x = ev(&[3.0], &[0.0], None);
        x.steps = Some(vec![2.0]);
        let e = events_dense(&x, &shape).unwrap_err();
        assert!(e.contains("`step`[0] = 3") && e.contains("`steps` is 2"), "{e}");
    }
}
