//! The accuracy table of a converted ONNX network (`nmc convert --input
//! --labels`): ANN vs the spiking network's float reference.

use super::read_stimulus;
use crate::Error;
use nmc_ir::Graph;
use nmc_reference::SimOptions;
use std::path::Path;

/// Measures a converted ONNX network: the ANN's accuracy (its own forward
/// pass) against the spiking network's float-reference accuracy at each
/// presentation time, then the float reference's per-layer rates (from spike
/// counts, with the neurons at the 1/dt ceiling) at the longest one.
pub fn conversion_accuracy(
    onnx: &Path,
    g: &Graph,
    input: &Path,
    labels: &Path,
    steps_list: &[usize],
) -> Result<String, Error> {
    use std::fmt::Write as _;
    let (stim, labels) = read_stimulus(g, input, Some(labels))?;
    let labels = labels.unwrap_or_default();
    let bytes = std::fs::read(onnx).map_err(|source| Error::Io {
        path: onnx.display().to_string(),
        source,
    })?;
    let ann = nmc_frontend::onnx::parse(&onnx.display().to_string(), &bytes)?;
    let v = stim.values();
    let (batch, _, feats) = v.dim();
    let ann_pred: Vec<usize> = (0..batch)
        .map(|b| {
            let x: Vec<f64> = (0..feats).map(|f| v[[b, 0, f]]).collect();
            crate::simulate::argmax(&ann.forward(&x))
        })
        .collect();
    let ann_acc = crate::simulate::accuracy(&ann_pred, &labels);
    let mut s = format!(
        "accuracy on {} (batch {batch}): ANN {:.2}% (first time step of each sample)\n{:>8} {:>14}\n",
        input.display(),
        100.0 * ann_acc,
        "steps",
        "SNN (float)"
    );
    let mut last = None;
    for &steps in steps_list {
        let res = nmc_reference::simulate(g, &stim, &SimOptions { steps: Some(steps) })?;
        let pred: Vec<usize> = match res.outputs.first() {
            Some(o) => (0..batch)
                .map(|b| {
                    let item = o.values.index_axis(ndarray::Axis(0), b);
                    let sums: Vec<f64> = (0..item.dim().1)
                        .map(|f| item.index_axis(ndarray::Axis(1), f).sum())
                        .collect();
                    crate::simulate::argmax(&sums)
                })
                .collect(),
            None => Vec::new(),
        };
        let _ = writeln!(
            s,
            "{steps:>8} {:>13.2}%",
            100.0 * crate::simulate::accuracy(&pred, &labels)
        );
        last = Some(res);
    }
    if let Some(res) = last {
        s.push_str(&res.rate_report().to_string());
    }
    Ok(s)
}
