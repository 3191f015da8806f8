//! Typed access to the fields of one NIR node, with errors that name the
//! file, the node path and the field.

use super::raw::{Data, Group, Item, Value};
use crate::FrontendError;
use nmc_ir::{Meta, Shape, Tensor};
use std::collections::BTreeMap;

/// Fields every node may carry that the importer accepts without using
/// them for that node type (NIR writers add them freely).
pub(crate) const HARMLESS: &[&str] = &["input_type", "output_type", "input_shape", "metadata"];

/// Largest integer an f64 holds exactly.
const F64_EXACT_INT: i64 = 1 << 53;

/// The fields of one node (or graph) group, tracking which ones were asked
/// for so that unexpected extras can be reported.
pub(crate) struct Fields<'a> {
    file: &'a str,
    /// Node path for messages; `None` for the top-level graph.
    node: Option<&'a str>,
    items: &'a BTreeMap<String, Item>,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(file: &'a str, node: Option<&'a str>, group: &'a Group) -> Self {
        Fields {
            file,
            node,
            items: &group.items,
            known: vec!["type"],
        }
    }

    /// An error about `field` of this node.
    pub fn err(&self, field: &str, message: impl Into<String>) -> FrontendError {
        FrontendError::nir(self.file, self.node, Some(field), message)
    }

    /// The raw member, marking the name as known.
    fn item(&mut self, name: &'static str) -> Option<&'a Item> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        self.items.get(name)
    }

    /// Records `name` as a field this node type has (read by other means).
    pub fn mark(&mut self, name: &'static str) {
        let _ = self.item(name);
    }

    /// An optional dataset.
    pub fn opt(&mut self, name: &'static str) -> Result<Option<&'a Value>, FrontendError> {
        match self.item(name) {
            None => Ok(None),
            Some(Item::Value(v)) => Ok(Some(v)),
            Some(Item::Group(_)) => Err(self.err(name, "expected a dataset, found a group")),
            Some(Item::Unreadable(e)) => Err(self.err(name, format!("cannot be read: {e}"))),
        }
    }

    /// A required dataset.
    pub fn req(&mut self, name: &'static str) -> Result<&'a Value, FrontendError> {
        self.opt(name)?.ok_or_else(|| self.err(name, "missing field"))
    }

    /// A required dataset, for messages that list what the type needs.
    pub fn req_of(&mut self, name: &'static str, kind: &str, needs: &[&str]) -> Result<&'a Value, FrontendError> {
        self.opt(name)?.ok_or_else(|| {
            self.err(
                name,
                format!("missing field (a {kind} node needs {})", needs.join(", ")),
            )
        })
    }

    /// An optional value that NIR writers store either as a dataset or as a
    /// group holding one dataset called `member` (`input_type` →
    /// `input_type/input` in nir 1.0's dict form).
    pub fn opt_typed(&mut self, name: &'static str, member: &str) -> Result<Option<&'a Value>, FrontendError> {
        match self.item(name) {
            None => Ok(None),
            Some(Item::Value(v)) => Ok(Some(v)),
            Some(Item::Group(g)) => match g.items.get(member) {
                Some(Item::Value(v)) if g.items.len() == 1 => Ok(Some(v)),
                Some(Item::Unreadable(e)) => Err(self.err(name, format!("cannot be read: {e}"))),
                _ => {
                    let names: Vec<&str> = g.items.keys().map(String::as_str).collect();
                    Err(self.err(
                        name,
                        format!(
                            "expected a shape, or a group holding one dataset `{member}`; found a group with [{}]",
                            names.join(", ")
                        ),
                    ))
                }
            },
            Some(Item::Unreadable(e)) => Err(self.err(name, format!("cannot be read: {e}"))),
        }
    }

    /// The node's `metadata` group (empty when absent), flattened: nested
    /// groups become `outer.inner` keys.
    pub fn metadata(&mut self) -> Result<BTreeMap<String, Meta>, FrontendError> {
        let mut out = BTreeMap::new();
        match self.item("metadata") {
            None => {}
            Some(Item::Group(g)) => self.meta_group(g, "", 0, &mut out)?,
            Some(Item::Value(_)) => return Err(self.err("metadata", "expected a group, found a dataset")),
            Some(Item::Unreadable(e)) => return Err(self.err("metadata", format!("cannot be read: {e}"))),
        }
        Ok(out)
    }

    fn meta_group(
        &self,
        g: &Group,
        prefix: &str,
        depth: usize,
        out: &mut BTreeMap<String, Meta>,
    ) -> Result<(), FrontendError> {
        for (k, item) in &g.items {
            let key = format!("{prefix}{k}");
            let field = format!("metadata.{key}");
            match item {
                Item::Group(sub) if depth < 16 => self.meta_group(sub, &format!("{key}."), depth + 1, out)?,
                Item::Group(_) => return Err(self.err(&field, "metadata nested too deeply")),
                Item::Unreadable(e) => return Err(self.err(&field, format!("cannot be read: {e}"))),
                Item::Value(v) => {
                    out.insert(key, self.meta_value(&field, v)?);
                }
            }
        }
        Ok(())
    }

    fn meta_value(&self, field: &str, v: &Value) -> Result<Meta, FrontendError> {
        let scalar = v.shape.is_empty();
        Ok(match &v.data {
            Data::Str(s) if scalar && s.len() == 1 => Meta::Str(s[0].clone()),
            Data::Str(s) => Meta::Str(format!("{s:?}")),
            Data::Float(x, _) if scalar && x.len() == 1 => Meta::Float(x[0]),
            Data::Float(x, _) => Meta::Floats(v.shape.clone(), x.clone()),
            Data::Int(x, _) if scalar && x.len() == 1 => Meta::Int(x[0]),
            Data::Int(x, _) => Meta::Ints(v.shape.clone(), x.clone()),
            Data::Unsupported(d) => return Err(self.err(field, unsupported_dtype(d))),
        })
    }

    /// Fails on any member that was never asked for and is not one of the
    /// [`HARMLESS`] extras.
    pub fn finish(self, kind: &str) -> Result<(), FrontendError> {
        let extra: Vec<&str> = self
            .items
            .keys()
            .map(String::as_str)
            .filter(|k| !self.known.contains(k) && !HARMLESS.contains(k))
            .collect();
        if let Some(first) = extra.first() {
            let fields: Vec<&str> = self.known.iter().copied().filter(|k| *k != "type").collect();
            return Err(self.err(
                first,
                format!(
                    "unexpected field for a {kind} node (its fields: {}; accepted extras: {})",
                    fields.join(", "),
                    HARMLESS.join(", ")
                ),
            ));
        }
        Ok(())
    }

    // ---- conversions -------------------------------------------------

    /// A numeric dataset as a tensor of f64 (float32/float64/integers,
    /// converted explicitly).
    pub fn tensor(&self, name: &str, v: &Value) -> Result<Tensor, FrontendError> {
        let data = match &v.data {
            Data::Float(x, _) => x.clone(),
            Data::Int(x, t) => {
                if let Some(bad) = x.iter().find(|i| i.unsigned_abs() > F64_EXACT_INT as u64) {
                    return Err(self.err(
                        name,
                        format!("{t} value {bad} is too large to convert to a real number exactly"),
                    ));
                }
                x.iter().map(|&i| i as f64).collect()
            }
            Data::Str(_) => return Err(self.err(name, "expected numbers, found strings")),
            Data::Unsupported(d) => return Err(self.err(name, unsupported_dtype(d))),
        };
        if data.is_empty() {
            return Err(self.err(name, format!("is empty (shape {})", Shape::new(v.shape.clone()))));
        }
        Tensor::new(Shape::new(v.shape.clone()), data).map_err(|e| self.err(name, e.to_string()))
    }

    /// A numeric dataset of exactly `rank` dimensions.
    pub fn tensor_rank(&self, name: &str, v: &Value, rank: usize, layout: &str) -> Result<Tensor, FrontendError> {
        if v.shape.len() != rank {
            return Err(self.err(
                name,
                format!(
                    "expected rank {rank} {layout}, got rank {} (shape {})",
                    v.shape.len(),
                    Shape::new(v.shape.clone())
                ),
            ));
        }
        self.tensor(name, v)
    }

    /// Integer values (integers, or floats holding whole numbers).
    pub fn ints(&self, name: &str, v: &Value) -> Result<Vec<i64>, FrontendError> {
        match &v.data {
            Data::Int(x, _) => Ok(x.clone()),
            Data::Float(x, _) => x
                .iter()
                .map(|&f| {
                    if f.is_finite() && f.fract() == 0.0 && f.abs() < F64_EXACT_INT as f64 {
                        Ok(f as i64)
                    } else {
                        Err(self.err(name, format!("expected whole numbers, found {f}")))
                    }
                })
                .collect(),
            Data::Str(s) => Err(self.err(name, format!("expected integers, found strings {s:?}"))),
            Data::Unsupported(d) => Err(self.err(name, unsupported_dtype(d))),
        }
    }

    /// One integer (a scalar or a one-element array).
    pub fn int(&self, name: &str, v: &Value) -> Result<i64, FrontendError> {
        let x = self.ints(name, v)?;
        match (v.shape.len(), x.as_slice()) {
            (0 | 1, [one]) => Ok(*one),
            _ => Err(self.err(
                name,
                format!("expected one integer, got shape {}", Shape::new(v.shape.clone())),
            )),
        }
    }

    /// `n` non-negative integers ≥ `min`, one per spatial dimension; a single
    /// value is repeated (`stride=2` means `[2, 2]`).
    pub fn per_dim(&self, name: &str, v: &Value, n: usize, min: i64) -> Result<Vec<usize>, FrontendError> {
        let x = self.ints(name, v)?;
        let x = match (v.shape.len(), x.len()) {
            (0 | 1, 1) => vec![x[0]; n],
            (1, len) if len == n => x,
            _ => {
                return Err(self.err(
                    name,
                    format!(
                        "expected {n} value(s), one per spatial dimension, or a single value; got shape {}",
                        Shape::new(v.shape.clone())
                    ),
                ));
            }
        };
        x.iter()
            .map(|&i| {
                if i < min {
                    Err(self.err(name, format!("must be ≥ {min}, got {i}")))
                } else {
                    usize::try_from(i).map_err(|_| self.err(name, format!("value {i} out of range")))
                }
            })
            .collect()
    }

    /// A shape: a rank-1 array (or a single integer) of positive sizes.
    pub fn shape(&self, name: &str, v: &Value) -> Result<Shape, FrontendError> {
        if v.shape.len() > 1 {
            return Err(self.err(
                name,
                format!(
                    "expected rank 1 (a list of sizes), got rank {} (shape {})",
                    v.shape.len(),
                    Shape::new(v.shape.clone())
                ),
            ));
        }
        let x = self.ints(name, v)?;
        x.iter()
            .map(|&i| {
                if i < 1 {
                    Err(self.err(name, format!("sizes must be ≥ 1, got {x:?}")))
                } else {
                    usize::try_from(i).map_err(|_| self.err(name, format!("size {i} out of range")))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Shape::new)
    }

    /// One string (a scalar or a one-element array).
    pub fn string(&self, name: &str, v: &Value) -> Result<String, FrontendError> {
        match &v.data {
            Data::Str(s) if s.len() == 1 && v.shape.len() <= 1 => Ok(s[0].clone()),
            Data::Str(_) => Err(self.err(
                name,
                format!("expected one string, got shape {}", Shape::new(v.shape.clone())),
            )),
            _ => Err(self.err(name, format!("expected a string, got {}", v.dtype()))),
        }
    }
}

/// The message for a dataset of a type the importer does not convert.
pub(crate) fn unsupported_dtype(d: &str) -> String {
    format!("unsupported element type {d} (supported: float32, float64, signed and unsigned integers, strings)")
}
