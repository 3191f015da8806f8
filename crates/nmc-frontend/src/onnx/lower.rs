//! Lowering the ONNX node list into the ANN layer chain: initializers, the
//! one data input, each node checked for chain structure and dispatched to
//! its operator's function ([`super::ops`]), and the graph output.

use super::ann::{Ann, Layer};
use super::ops::{self, Lowered, NodeCx};
use super::read::{Const, constant_value, input_shape, tensor_to_const};
use super::{SUPPORTED_OPS, err, pb};
use crate::FrontendError;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The most elements one layer's output may have per sample (2^26): more is
/// refused before calibration allocates it.
const MAX_LAYER_ELEMENTS: usize = 1 << 26;

/// The lowering state: the file, its opset and the constants seen so far.
pub(super) struct Lower<'a> {
    file: &'a str,
    opset: i64,
    consts: HashMap<String, Const>,
}

/// The chain lowered so far.
struct Chain {
    /// Name of the tensor that carries the data at this point.
    cur: String,
    /// Its per-sample shape.
    shape: Vec<usize>,
    layers: Vec<(String, Layer, Vec<usize>)>,
    /// Every data tensor produced so far (the input and node outputs).
    dynamic: HashSet<String>,
    notes: Vec<String>,
    /// The Softmax seen, which must be the last node.
    softmax: Option<String>,
    /// Index in `layers` of the last weighted layer, when nothing but a
    /// bias could still be folded into it.
    foldable: Option<usize>,
}

impl<'a> Lower<'a> {
    /// A lowering of `model` (its default-domain opset); `file` names it in
    /// errors.
    pub(super) fn new(file: &'a str, model: &pb::ModelProto) -> Result<Self, FrontendError> {
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
            .map(|o| o.version())
            .unwrap_or(0);
        Ok(Lower {
            file,
            opset,
            consts: HashMap::new(),
        })
    }

    /// Lowers the model's graph into the ANN chain.
    pub(super) fn run(mut self, model: &pb::ModelProto) -> Result<Ann, FrontendError> {
        let file = self.file;
        let Some(graph) = model.graph.as_ref() else {
            return Err(err(file, None, Some("graph"), "the model has no graph"));
        };
        self.read_initializers(graph)?;
        let input = self.data_input(graph)?;
        let input_shape = input_shape(file, input)?;
        let cur = input.name().to_string();
        let mut chain = Chain {
            dynamic: HashSet::from([cur.clone()]),
            cur,
            shape: input_shape.clone(),
            layers: Vec::new(),
            notes: Vec::new(),
            softmax: None,
            foldable: None,
        };
        for (idx, n) in graph.node.iter().enumerate() {
            self.node(&mut chain, idx, n)?;
        }
        self.finish(graph, input, input_shape, chain)
    }

    fn read_initializers(&mut self, graph: &pb::GraphProto) -> Result<(), FrontendError> {
        let file = self.file;
        for t in &graph.initializer {
            let c = tensor_to_const(file, None, &format!("initializer `{}`", t.name()), t)?;
            self.consts.insert(t.name().to_string(), c);
        }
        Ok(())
    }

    /// The one graph input that is not an initializer.
    fn data_input<'g>(&self, graph: &'g pb::GraphProto) -> Result<&'g pb::ValueInfoProto, FrontendError> {
        let file = self.file;
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !self.consts.contains_key(i.name()))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(err(
                file,
                None,
                Some("graph.input"),
                format!(
                    "expected exactly one data input (not an initializer), found {}: {:?}",
                    inputs.len(),
                    inputs.iter().map(|i| i.name()).collect::<Vec<_>>()
                ),
            ));
        };
        Ok(input)
    }

    /// Lowers node `idx` onto the chain.
    fn node(&mut self, chain: &mut Chain, idx: usize, n: &pb::NodeProto) -> Result<(), FrontendError> {
        let file = self.file;
        let nname = if n.name().is_empty() {
            format!("{}#{idx}", n.op_type())
        } else {
            n.name().to_string()
        };
        let nn = Some(nname.as_str());
        let ctx = format!(" (op {}, opset {})", n.op_type(), self.opset);
        if !(n.domain().is_empty() || n.domain() == "ai.onnx") {
            return Err(err(
                file,
                nn,
                Some("domain"),
                format!(
                    "operator {}.{} from a custom domain is not supported; supported ops: {}",
                    n.domain(),
                    n.op_type(),
                    SUPPORTED_OPS.join(", ")
                ),
            ));
        }
        if let Some(s) = &chain.softmax {
            return Err(err(
                file,
                nn,
                None,
                format!(
                    "{} after the Softmax `{s}`: Softmax is only supported as the last op{ctx}",
                    n.op_type()
                ),
            ));
        }
        if n.op_type() == "Constant" {
            let out = n.output.first().cloned().unwrap_or_default();
            let c = constant_value(file, nn, n, &ctx)?;
            self.consts.insert(out, c);
            return Ok(());
        }
        let k_data = self.data_input_of(chain, n, nn, &ctx)?;
        let cx = NodeCx {
            file,
            name: nname.clone(),
            n,
            ctx,
            k_data,
            consts: &self.consts,
        };
        let lowered = self.dispatch(&cx, chain)?;
        let Lowered {
            layer: push,
            shape: new_shape,
        } = lowered;
        let ctx = &cx.ctx;
        chain.foldable = match &push {
            Some(Layer::Conv { .. } | Layer::Dense { .. }) => Some(chain.layers.len()),
            Some(_) => None,
            None => chain.foldable,
        };
        let numel = new_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if numel.is_none_or(|e| e > MAX_LAYER_ELEMENTS) {
            return Err(err(
                file,
                nn,
                Some("output shape"),
                format!(
                    "the layer's output {new_shape:?} has more than {MAX_LAYER_ELEMENTS} elements per sample: \
                     its attributes (pads, strides, dilations, kernel) or its input claim more than a network can \
                     hold{ctx}"
                ),
            ));
        }
        if let Some(l) = push {
            chain.layers.push((nname.clone(), l, new_shape.clone()));
        }
        chain.shape = new_shape;
        let out = n.output.first().cloned().unwrap_or_default();
        chain.dynamic.insert(out.clone());
        chain.cur = out;
        Ok(())
    }

    /// Index of the input of `n` that carries the data: every other input
    /// must be a constant.
    fn data_input_of(
        &self,
        chain: &Chain,
        n: &pb::NodeProto,
        nn: Option<&str>,
        ctx: &str,
    ) -> Result<usize, FrontendError> {
        let file = self.file;
        let mut data_in: Option<usize> = None;
        for (k, i) in n.input.iter().enumerate() {
            if i.is_empty() || self.consts.contains_key(i) {
                continue;
            }
            if *i == chain.cur {
                if data_in.is_some() {
                    return Err(err(
                        file,
                        nn,
                        None,
                        format!("uses the data tensor `{i}` twice; only chains are supported{ctx}"),
                    ));
                }
                data_in = Some(k);
            } else if chain.dynamic.contains(i) {
                return Err(err(
                    file,
                    nn,
                    Some(&format!("input `{i}`")),
                    format!(
                        "reads `{i}`, an earlier value that a later node already consumed: the network \
                         branches (skip connections, concatenation) and only chains are supported{ctx}"
                    ),
                ));
            } else {
                return Err(err(
                    file,
                    nn,
                    Some(&format!("input `{i}`")),
                    format!(
                        "missing initializer: `{i}` is neither the graph input, an initializer, a \
                         Constant nor the output of an earlier node{ctx}"
                    ),
                ));
            }
        }
        let Some(k_data) = data_in else {
            return Err(err(
                file,
                nn,
                None,
                format!(
                    "computes only from constants; constant folding of {} is not supported{ctx}",
                    n.op_type()
                ),
            ));
        };
        Ok(k_data)
    }

    /// Lowers the node by its operator: the layer it becomes (if any) and the
    /// per-sample shape after it.
    fn dispatch(&self, cx: &NodeCx<'_>, chain: &mut Chain) -> Result<Lowered, FrontendError> {
        let (file, nn, n, nname) = (cx.file, cx.nn(), cx.n, &cx.name);
        let shape = &chain.shape;
        let unchanged = || Lowered {
            layer: None,
            shape: shape.clone(),
        };
        Ok(match n.op_type() {
            "Identity" | "Dropout" => {
                chain.notes.push(format!("{} `{nname}` removed", n.op_type()));
                unchanged()
            }
            "Softmax" | "LogSoftmax" => {
                chain.notes.push(format!(
                    "final {} `{nname}` dropped: the spike counts of the last layer are read out instead",
                    n.op_type()
                ));
                chain.softmax = Some(nname.clone());
                unchanged()
            }
            "Relu" => Lowered {
                layer: Some(Layer::Relu),
                shape: shape.clone(),
            },
            "Flatten" => ops::flatten(cx, shape)?,
            "Reshape" => ops::reshape(cx, shape)?,
            "Conv" => ops::conv(cx, shape)?,
            "Gemm" | "MatMul" => ops::dense(cx, shape)?,
            "Add" => {
                ops::fold_add(cx, shape, chain.foldable, &mut chain.layers, &mut chain.notes)?;
                unchanged()
            }
            "BatchNormalization" => {
                ops::fold_batch_norm(cx, shape, chain.foldable, &mut chain.layers, &mut chain.notes)?;
                unchanged()
            }
            "AveragePool" | "GlobalAveragePool" => ops::avg_pool(cx, shape)?,
            other => {
                return Err(err(
                    file,
                    nn,
                    Some("op_type"),
                    format!(
                        "unsupported operator {other} (opset {}); supported ops: {}",
                        self.opset,
                        SUPPORTED_OPS.join(", ")
                    ),
                ));
            }
        })
    }

    /// Checks the graph output (the end of the chain) and assembles the ANN.
    fn finish(
        &self,
        graph: &pb::GraphProto,
        input: &pb::ValueInfoProto,
        input_shape: Vec<usize>,
        chain: Chain,
    ) -> Result<Ann, FrontendError> {
        let file = self.file;
        let Chain {
            cur,
            layers,
            notes,
            softmax,
            ..
        } = chain;
        let outs: Vec<&str> = graph.output.iter().map(|o| o.name()).collect();
        let out_name = match (softmax.as_ref(), outs.as_slice()) {
            (_, [o]) if *o == cur => o.to_string(),
            _ => {
                return Err(err(
                    file,
                    None,
                    Some("graph.output"),
                    format!("expected one graph output, the end of the chain `{cur}`; found {outs:?}"),
                ));
            }
        };
        if layers.is_empty() {
            return Err(err(file, None, Some("graph.node"), "the model has no layers"));
        }
        Ok(Ann {
            name: Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.to_string()),
            input_name: input.name().to_string(),
            output_name: out_name,
            input_shape,
            layers,
            opset: self.opset,
            notes,
        })
    }
}
