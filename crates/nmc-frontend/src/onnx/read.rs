//! Reading the model protobuf: tensors (initializers and Constant values) as
//! [`Const`], node attributes, and the graph input's shape.

use super::{err, pb};
use crate::FrontendError;

/// A constant tensor (an initializer or a Constant node's value), as f64.
#[derive(Clone, Debug)]
pub(super) struct Const {
    /// Dimensions.
    pub(super) dims: Vec<usize>,
    /// Row-major values.
    pub(super) data: Vec<f64>,
}

/// Decodes a tensor; `field` names it in errors.
pub(super) fn tensor_to_const(
    file: &str,
    node: Option<&str>,
    field: &str,
    t: &pb::TensorProto,
) -> Result<Const, FrontendError> {
    use pb::tensor_proto::DataType as D;
    let e = |m: String| err(file, node, Some(field), m);
    if t.data_location() == pb::tensor_proto::DataLocation::External || !t.external_data.is_empty() {
        return Err(e(
            "tensor data stored in an external file is not supported; save the model with \
             `onnx.save(model, path, save_as_external_data=False)`"
                .into(),
        ));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(e(format!("negative dimension {d}")));
        }
        dims.push(d as usize);
    }
    let n = (if dims.contains(&0) {
        Some(0)
    } else {
        dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    })
    .ok_or_else(|| e(format!("dims {dims:?}: the element count overflows")))?;
    let raw = t.raw_data();
    let dt = D::try_from(t.data_type()).unwrap_or(D::Undefined);
    fn chunks<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        raw.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
    }
    let data: Vec<f64> = match dt {
        D::Float if !raw.is_empty() => chunks::<4>(raw).map(|b| f32::from_le_bytes(b) as f64).collect(),
        D::Float => t.float_data.iter().map(|&v| v as f64).collect(),
        D::Double if !raw.is_empty() => chunks::<8>(raw).map(f64::from_le_bytes).collect(),
        D::Double => t.double_data.clone(),
        D::Int64 if !raw.is_empty() => chunks::<8>(raw).map(|b| i64::from_le_bytes(b) as f64).collect(),
        D::Int64 => t.int64_data.iter().map(|&v| v as f64).collect(),
        D::Int32 if !raw.is_empty() => chunks::<4>(raw).map(|b| i32::from_le_bytes(b) as f64).collect(),
        D::Int32 => t.int32_data.iter().map(|&v| v as f64).collect(),
        other => {
            return Err(e(format!(
                "element type {} is not supported (float, double, int32, int64 are)",
                other.as_str_name()
            )));
        }
    };
    if data.len() != n {
        return Err(e(format!(
            "holds {} values but its dims {:?} need {n}",
            data.len(),
            dims
        )));
    }
    Ok(Const { dims, data })
}

fn attr<'m>(n: &'m pb::NodeProto, name: &str) -> Option<&'m pb::AttributeProto> {
    n.attribute.iter().find(|a| a.name() == name)
}
pub(super) fn attr_i(n: &pb::NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map(|a| a.i()).unwrap_or(default)
}
pub(super) fn attr_f(n: &pb::NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map(|a| a.f()).unwrap_or(default)
}
pub(super) fn attr_ints(n: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}
pub(super) fn attr_s(n: &pb::NodeProto, name: &str) -> Option<String> {
    attr(n, name).map(|a| String::from_utf8_lossy(a.s()).into_owned())
}

/// The value of a Constant node (`value` tensor or a `value_*` attribute).
pub(super) fn constant_value(
    file: &str,
    nn: Option<&str>,
    n: &pb::NodeProto,
    ctx: &str,
) -> Result<Const, FrontendError> {
    let c = if let Some(t) = attr(n, "value").and_then(|a| a.t.as_ref()) {
        tensor_to_const(file, nn, "value", t)?
    } else if let Some(a) = attr(n, "value_float") {
        Const {
            dims: vec![],
            data: vec![a.f() as f64],
        }
    } else if let Some(a) = attr(n, "value_floats") {
        Const {
            dims: vec![a.floats.len()],
            data: a.floats.iter().map(|&v| v as f64).collect(),
        }
    } else if let Some(a) = attr(n, "value_int") {
        Const {
            dims: vec![],
            data: vec![a.i() as f64],
        }
    } else if let Some(a) = attr(n, "value_ints") {
        Const {
            dims: vec![a.ints.len()],
            data: a.ints.iter().map(|&v| v as f64).collect(),
        }
    } else {
        return Err(err(file, nn, Some("value"), format!("Constant without a value{ctx}")));
    };
    Ok(c)
}

/// The per-sample shape of the graph input (its batch axis dropped).
pub(super) fn input_shape(file: &str, input: &pb::ValueInfoProto) -> Result<Vec<usize>, FrontendError> {
    use pb::tensor_shape_proto::dimension::Value as DV;
    use pb::type_proto::Value as TV;
    let field = format!("input `{}`", input.name());
    let e = |m: &str| err(file, None, Some(&field), m.to_string());
    let Some(TV::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(e("has no tensor type"));
    };
    let Some(shape) = t.shape.as_ref() else {
        return Err(e(
            "dynamic shape: the input has no shape; export with fixed input dimensions",
        ));
    };
    let mut dims = Vec::new();
    for (k, d) in shape.dim.iter().enumerate() {
        match &d.value {
            Some(DV::DimValue(v)) if *v > 0 => dims.push(*v as usize),
            _ if k == 0 => dims.push(1),
            Some(DV::DimParam(p)) => {
                return Err(e(&format!(
                    "dynamic shape: dimension {k} is the symbol `{p}`; only the batch dimension (0) may be \
                         symbolic, export with fixed sizes"
                )));
            }
            _ => {
                return Err(e(&format!(
                    "dynamic shape: dimension {k} has no fixed size; only the batch dimension (0) may be \
                         unknown"
                )));
            }
        }
    }
    if !(dims.len() == 2 || dims.len() == 4) {
        return Err(e(&format!(
            "input of rank {} ({:?}): expected [batch, features] or [batch, C, H, W]",
            dims.len(),
            dims
        )));
    }
    if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
        return Err(e(&format!("dims {dims:?}: the element count overflows")));
    }
    Ok(dims[1..].to_vec())
}
