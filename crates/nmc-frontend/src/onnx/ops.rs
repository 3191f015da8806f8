//! ONNX operator lowering: one function per operator (or family), each
//! checking its inputs and attributes and returning the ANN layer it becomes
//! or folding itself into the preceding weighted layer.

use super::ann::Layer;
use super::err;
use super::pb;
use super::read::{Const, attr_f, attr_i, attr_ints, attr_s};
use crate::FrontendError;
use std::collections::HashMap;

/// One ONNX node being lowered: where it is (file, name, op context for
/// messages), which input carries the data and the constants it can read.
pub(super) struct NodeCx<'a> {
    /// File name for errors.
    pub(super) file: &'a str,
    /// Node name (`op#index` when the node has none).
    pub(super) name: String,
    /// The node.
    pub(super) n: &'a pb::NodeProto,
    /// ` (op X, opset N)`, appended to messages.
    pub(super) ctx: String,
    /// Index of the input that carries the data tensor.
    pub(super) k_data: usize,
    /// Initializers and Constant outputs seen so far.
    pub(super) consts: &'a HashMap<String, Const>,
}

impl NodeCx<'_> {
    /// The node name, as errors take it.
    pub(super) fn nn(&self) -> Option<&str> {
        Some(self.name.as_str())
    }

    /// Input `k` as a constant; `None` when absent, an error when computed.
    pub(super) fn cst(&self, k: usize, what: &str) -> Result<Option<&Const>, FrontendError> {
        let (file, nn, n, ctx) = (self.file, self.nn(), self.n, &self.ctx);
        match n.input.get(k) {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => match self.consts.get(s) {
                Some(c) => Ok(Some(c)),
                None => Err(err(
                    file,
                    nn,
                    Some(&format!("input `{s}`")),
                    format!("{what} must be an initializer (constant), it is computed at run time{ctx}"),
                )),
            },
        }
    }

    /// Input `k` as a constant, an error when absent.
    pub(super) fn need(&self, k: usize, what: &str) -> Result<&Const, FrontendError> {
        let (file, nn, ctx) = (self.file, self.nn(), &self.ctx);
        self.cst(k, what)?
            .ok_or_else(|| err(file, nn, None, format!("{what} (input {k}) is missing{ctx}")))
    }

    /// An error unless the data is input 0.
    pub(super) fn data_first(&self, what: &str) -> Result<(), FrontendError> {
        let (file, nn, ctx) = (self.file, self.nn(), &self.ctx);
        if self.k_data != 0 {
            return Err(err(file, nn, None, format!("the data must be input 0 ({what}){ctx}")));
        }
        Ok(())
    }
}

/// What a shape-changing operator becomes: its layer (none when it is a
/// no-op on the per-sample value) and its per-sample output shape.
pub(super) struct Lowered {
    /// The ANN layer, if any.
    pub(super) layer: Option<Layer>,
    /// Output shape without the batch axis.
    pub(super) shape: Vec<usize>,
}

/// Flatten (axis 1 only).
pub(super) fn flatten(cx: &NodeCx<'_>, shape: &[usize]) -> Result<Lowered, FrontendError> {
    let (file, nn, n, ctx) = (cx.file, cx.nn(), cx.n, &cx.ctx);
    let axis = attr_i(n, "axis", 1);
    if axis != 1 {
        return Err(err(
            file,
            nn,
            Some("axis"),
            format!("Flatten with axis {axis} is not supported (only axis 1: keep the batch axis){ctx}"),
        ));
    }
    Ok(Lowered {
        layer: (shape.len() > 1).then_some(Layer::Flatten),
        shape: vec![shape.iter().product()],
    })
}

/// Reshape, only to `[batch, features]` (a flatten).
pub(super) fn reshape(cx: &NodeCx<'_>, shape: &[usize]) -> Result<Lowered, FrontendError> {
    let (file, nn, ctx) = (cx.file, cx.nn(), &cx.ctx);
    cx.data_first("Reshape")?;
    let t = cx.need(1, "the target shape")?;
    let numel: usize = shape.iter().product();
    let d: Vec<i64> = t.data.iter().map(|&v| v as i64).collect();
    let flat = match d.as_slice() {
        [b, f] => matches!(*b, -1..=1) && (*f == -1 || *f == numel as i64),
        _ => false,
    };
    if !flat {
        return Err(err(
            file,
            nn,
            Some("shape"),
            format!(
                "Reshape of {shape:?} (per sample) to {d:?} is not supported: only a reshape to \
                     [batch, features] (a flatten) is{ctx}"
            ),
        ));
    }
    Ok(Lowered {
        layer: (shape.len() > 1).then_some(Layer::Flatten),
        shape: vec![numel],
    })
}

/// 2-d Conv on `[C, H, W]`.
pub(super) fn conv(cx: &NodeCx<'_>, shape: &[usize]) -> Result<Lowered, FrontendError> {
    let (file, nn, n, ctx) = (cx.file, cx.nn(), cx.n, &cx.ctx);
    cx.data_first("Conv")?;
    if shape.len() != 3 {
        return Err(err(
            file,
            nn,
            None,
            format!(
                "Conv over input {shape:?} (per sample): only 2-d convolution on [C, H, W] is \
                     supported{ctx}"
            ),
        ));
    }
    let w = cx.need(1, "the weight W")?;
    if w.dims.len() != 4 {
        return Err(err(
            file,
            nn,
            Some("W"),
            format!("weight dims {:?}: expected [C_out, C_in/group, kH, kW]{ctx}", w.dims),
        ));
    }
    let groups = attr_i(n, "group", 1).max(1) as usize;
    let wd = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
    if wd[1] * groups != shape[0] || wd[0] % groups != 0 {
        return Err(err(
            file,
            nn,
            Some("W"),
            format!(
                "weight dims {:?} with group {groups} do not fit an input of {} channels{ctx}",
                w.dims, shape[0]
            ),
        ));
    }
    if let Some(ks) = attr_ints(n, "kernel_shape")
        && ks != [wd[2] as i64, wd[3] as i64]
    {
        return Err(err(
            file,
            nn,
            Some("kernel_shape"),
            format!("{ks:?} disagrees with the weight dims {:?}{ctx}", w.dims),
        ));
    }
    let two = |name: &str| -> Result<[usize; 2], FrontendError> {
        match attr_ints(n, name) {
            None => Ok([1, 1]),
            Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => Ok([v[0] as usize, v[1] as usize]),
            Some(v) => Err(err(file, nn, Some(name), format!("{v:?}: expected 2 values ≥ 1{ctx}"))),
        }
    };
    let stride = two("strides")?;
    let dil = two("dilations")?;
    let pad = pads2(file, nn, n, &shape[1..], [wd[2], wd[3]], stride, dil, ctx)?;
    let b = match cx.cst(2, "the bias B")? {
        Some(b) if b.data.len() == wd[0] => b.data.clone(),
        Some(b) => {
            return Err(err(
                file,
                nn,
                Some("B"),
                format!("bias has {} values, expected {}{ctx}", b.data.len(), wd[0]),
            ));
        }
        None => vec![0.0; wd[0]],
    };
    let (Some(oh), Some(ow)) = (
        out_len(shape[1], wd[2], stride[0], pad[0], dil[0]),
        out_len(shape[2], wd[3], stride[1], pad[1], dil[1]),
    ) else {
        return Err(err(
            file,
            nn,
            Some("W"),
            format!("kernel larger than the padded input {shape:?}{ctx}"),
        ));
    };
    Ok(Lowered {
        shape: vec![wd[0], oh, ow],
        layer: Some(Layer::Conv {
            w: w.data.clone(),
            wdims: wd,
            b,
            stride,
            pad,
            dil,
            groups,
        }),
    })
}

/// Gemm and MatMul on `[features]`: a dense layer.
pub(super) fn dense(cx: &NodeCx<'_>, shape: &[usize]) -> Result<Lowered, FrontendError> {
    let (file, nn, n, ctx) = (cx.file, cx.nn(), cx.n, &cx.ctx);
    cx.data_first(n.op_type())?;
    if shape.len() != 1 {
        return Err(err(
            file,
            nn,
            None,
            format!(
                "{} on a per-sample input of shape {shape:?}: insert a Flatten first (only \
                     [batch, features] inputs are supported){ctx}",
                n.op_type()
            ),
        ));
    }
    let is_gemm = n.op_type() == "Gemm";
    if is_gemm && attr_i(n, "transA", 0) != 0 {
        return Err(err(
            file,
            nn,
            Some("transA"),
            format!("transA = 1 is not supported{ctx}"),
        ));
    }
    let bmat = cx.need(1, "the weight B")?;
    if bmat.dims.len() != 2 {
        return Err(err(
            file,
            nn,
            Some("B"),
            format!("weight dims {:?}: expected 2-d{ctx}", bmat.dims),
        ));
    }
    let trans_b = is_gemm && attr_i(n, "transB", 0) != 0;
    let (out, inp) = if trans_b {
        (bmat.dims[0], bmat.dims[1])
    } else {
        (bmat.dims[1], bmat.dims[0])
    };
    if inp != shape[0] {
        return Err(err(
            file,
            nn,
            Some("B"),
            format!(
                "weight dims {:?}{} need {inp} input features, the input has {}{ctx}",
                bmat.dims,
                if trans_b { " (transB)" } else { "" },
                shape[0]
            ),
        ));
    }
    let alpha = if is_gemm { attr_f(n, "alpha", 1.0) as f64 } else { 1.0 };
    let beta = if is_gemm { attr_f(n, "beta", 1.0) as f64 } else { 1.0 };
    let mut w = vec![0.0; out * inp];
    for o in 0..out {
        for i in 0..inp {
            w[o * inp + i] = alpha
                * if trans_b {
                    bmat.data[o * inp + i]
                } else {
                    bmat.data[i * out + o]
                };
        }
    }
    let b = match if is_gemm { cx.cst(2, "the bias C")? } else { None } {
        None => vec![0.0; out],
        Some(c) if c.data.len() == out => c.data.iter().map(|v| v * beta).collect(),
        Some(c) if c.data.len() == 1 => vec![c.data[0] * beta; out],
        Some(c) => {
            return Err(err(
                file,
                nn,
                Some("C"),
                format!("bias dims {:?} do not broadcast to [{out}]{ctx}", c.dims),
            ));
        }
    };
    Ok(Lowered {
        shape: vec![out],
        layer: Some(Layer::Dense { w, out, inp, b }),
    })
}

/// AveragePool and GlobalAveragePool on `[C, H, W]`.
pub(super) fn avg_pool(cx: &NodeCx<'_>, shape: &[usize]) -> Result<Lowered, FrontendError> {
    let (file, nn, n, ctx) = (cx.file, cx.nn(), cx.n, &cx.ctx);
    cx.data_first(n.op_type())?;
    if shape.len() != 3 {
        return Err(err(
            file,
            nn,
            None,
            format!("pooling needs a [C, H, W] input, got {shape:?}{ctx}"),
        ));
    }
    let (kernel, stride, pad) = if n.op_type() == "GlobalAveragePool" {
        ([shape[1], shape[2]], [shape[1], shape[2]], [0, 0])
    } else {
        let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
        if ks.len() != 2 || ks.iter().any(|&k| k < 1) {
            return Err(err(
                file,
                nn,
                Some("kernel_shape"),
                format!("{ks:?}: expected 2 values ≥ 1{ctx}"),
            ));
        }
        let kernel = [ks[0] as usize, ks[1] as usize];
        let stride = match attr_ints(n, "strides") {
            None => [1, 1],
            Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => [v[0] as usize, v[1] as usize],
            Some(v) => {
                return Err(err(
                    file,
                    nn,
                    Some("strides"),
                    format!("{v:?}: expected 2 values ≥ 1{ctx}"),
                ));
            }
        };
        if attr_i(n, "ceil_mode", 0) != 0 {
            return Err(err(
                file,
                nn,
                Some("ceil_mode"),
                format!("ceil_mode = 1 is not supported{ctx}"),
            ));
        }
        let pad = pads2(file, nn, n, &shape[1..], kernel, stride, [1, 1], ctx)?;
        if pad != [0, 0] && attr_i(n, "count_include_pad", 0) == 0 {
            return Err(err(
                file,
                nn,
                Some("count_include_pad"),
                format!(
                    "padded average pooling must count the padding (count_include_pad = 1) \
                         to be a fixed sum pooling{ctx}"
                ),
            ));
        }
        (kernel, stride, pad)
    };
    let (Some(oh), Some(ow)) = (
        out_len(shape[1], kernel[0], stride[0], pad[0], 1),
        out_len(shape[2], kernel[1], stride[1], pad[1], 1),
    ) else {
        return Err(err(
            file,
            nn,
            Some("kernel_shape"),
            format!("window larger than the input {shape:?}{ctx}"),
        ));
    };
    Ok(Lowered {
        shape: vec![shape[0], oh, ow],
        layer: Some(Layer::AvgPool { kernel, stride, pad }),
    })
}

/// Add of a constant: folded into the bias of the directly preceding
/// weighted layer `foldable` (an index in `layers`).
pub(super) fn fold_add(
    cx: &NodeCx<'_>,
    shape: &[usize],
    foldable: Option<usize>,
    layers: &mut [(String, Layer, Vec<usize>)],
    notes: &mut Vec<String>,
) -> Result<(), FrontendError> {
    let (file, nn, ctx, nname, k_data) = (cx.file, cx.nn(), &cx.ctx, &cx.name, cx.k_data);
    let other = cx.need(1 - k_data.min(1), "the addend")?;
    let Some(li) = foldable else {
        return Err(err(
            file,
            nn,
            None,
            format!("Add is only supported as the bias of a directly preceding MatMul, Gemm or Conv{ctx}"),
        ));
    };
    let (_, layer, _) = &mut layers[li];
    let b = match layer {
        Layer::Dense { b, .. } | Layer::Conv { b, .. } => b,
        _ => unreachable_layer(file, nn)?,
    };
    let nb = b.len();
    let per_channel = other.data.len() == nb
        && (other.dims.len() <= 1
            || other
                .dims
                .iter()
                .rev()
                .take(other.dims.len().saturating_sub(1))
                .all(|&d| d == 1)
            || shape.len() == 1);
    if other.data.len() == 1 {
        b.iter_mut().for_each(|v| *v += other.data[0]);
    } else if per_channel {
        b.iter_mut().zip(&other.data).for_each(|(v, a)| *v += a);
    } else {
        return Err(err(
            file,
            nn,
            None,
            format!(
                "addend of dims {:?} is not a per-channel bias of the preceding layer \
                     (output {shape:?}){ctx}",
                other.dims
            ),
        ));
    }
    notes.push(format!("Add `{nname}` folded into the bias of `{}`", layers[li].0));
    Ok(())
}

/// BatchNormalization (inference): folded into the weights and bias of the
/// directly preceding weighted layer `foldable`.
pub(super) fn fold_batch_norm(
    cx: &NodeCx<'_>,
    shape: &[usize],
    foldable: Option<usize>,
    layers: &mut [(String, Layer, Vec<usize>)],
    notes: &mut Vec<String>,
) -> Result<(), FrontendError> {
    let (file, nn, n, ctx, nname) = (cx.file, cx.nn(), cx.n, &cx.ctx, &cx.name);
    cx.data_first("BatchNormalization")?;
    if attr_i(n, "training_mode", 0) != 0 {
        return Err(err(
            file,
            nn,
            Some("training_mode"),
            format!("training mode is not supported{ctx}"),
        ));
    }
    let eps = attr_f(n, "epsilon", 1e-5) as f64;
    let c = shape[0];
    let get = |k: usize, what: &str| -> Result<Vec<f64>, FrontendError> {
        let t = cx.need(k, what)?;
        if t.data.len() != c {
            return Err(err(
                file,
                nn,
                Some(what),
                format!("has {} values, expected one per channel ({c}){ctx}", t.data.len()),
            ));
        }
        Ok(t.data.clone())
    };
    let (gamma, beta, mean, var) = (
        get(1, "scale")?,
        get(2, "B")?,
        get(3, "input_mean")?,
        get(4, "input_var")?,
    );
    let Some(li) = foldable else {
        return Err(err(
            file,
            nn,
            None,
            format!("BatchNormalization must directly follow a Conv or Gemm to be folded into it{ctx}"),
        ));
    };
    let (_, layer, _) = &mut layers[li];
    let (w, b, per_out) = match layer {
        Layer::Dense { w, b, inp, .. } => (w, b, *inp),
        Layer::Conv { w, b, wdims, .. } => (w, b, wdims[1] * wdims[2] * wdims[3]),
        _ => unreachable_layer(file, nn)?,
    };
    for o in 0..c {
        let s = gamma[o] / (var[o] + eps).sqrt();
        w[o * per_out..(o + 1) * per_out].iter_mut().for_each(|v| *v *= s);
        b[o] = (b[o] - mean[o]) * s + beta[o];
    }
    notes.push(format!("BatchNormalization `{nname}` folded into `{}`", layers[li].0));
    Ok(())
}

fn unreachable_layer<T>(file: &str, node: Option<&str>) -> Result<T, FrontendError> {
    Err(err(file, node, None, "internal: no weighted layer to fold into"))
}

#[allow(clippy::too_many_arguments)]
fn pads2(
    file: &str,
    nn: Option<&str>,
    n: &pb::NodeProto,
    spatial: &[usize],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    ctx: &str,
) -> Result<[usize; 2], FrontendError> {
    let auto = attr_s(n, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" => match attr_ints(n, "pads") {
            None => Ok([0, 0]),
            Some(p) if p.len() == 4 && p.iter().all(|&x| x >= 0) => {
                if p[0] != p[2] || p[1] != p[3] {
                    return Err(err(
                        file,
                        nn,
                        Some("pads"),
                        format!("asymmetric padding {p:?} is not supported (begin must equal end){ctx}"),
                    ));
                }
                Ok([p[0] as usize, p[1] as usize])
            }
            Some(p) => Err(err(
                file,
                nn,
                Some("pads"),
                format!("{p:?}: expected 4 values ≥ 0{ctx}"),
            )),
        },
        "VALID" => Ok([0, 0]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut out = [0; 2];
            for a in 0..2 {
                let o = spatial[a].div_ceil(s[a]);
                let need = ((o - 1) * s[a] + d[a] * (k[a] - 1) + 1).saturating_sub(spatial[a]);
                if !need.is_multiple_of(2) {
                    return Err(err(
                        file,
                        nn,
                        Some("auto_pad"),
                        format!("{auto} needs asymmetric padding ({need} in total) here, not supported{ctx}"),
                    ));
                }
                out[a] = need / 2;
            }
            Ok(out)
        }
        other => Err(err(file, nn, Some("auto_pad"), format!("unknown value {other:?}{ctx}"))),
    }
}

/// Output length of a window `k` (stride `s`, padding `p` per side,
/// dilation `d`) over `len`; `None` when it does not fit or overflows.
fn out_len(len: usize, k: usize, s: usize, p: usize, d: usize) -> Option<usize> {
    // Every operand comes from the file: checked, so a hostile attribute is
    // an error, never a wrap.
    let eff = d.checked_mul(k.max(1) - 1)?.checked_add(1)?;
    let padded = p.checked_mul(2)?.checked_add(len)?;
    if padded < eff || s == 0 {
        return None;
    }
    Some((padded - eff) / s + 1)
}
