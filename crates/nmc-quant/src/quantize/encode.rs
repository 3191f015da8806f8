//! The encoder/host phase: which populations run on the host as input
//! encoders, and how each graph input is encoded (real values or events).

use crate::error::QuantError;
use crate::lower::{Chain, Lowered};
use crate::report::{InputReport, Warning};
use crate::{EncoderMode, QuantOptions};
use nmc_ir::qmodel::InputEncoding;
use nmc_ir::{Graph, Meta, Op};

/// True for a chain an input encoder may run on the host: pointwise
/// (1×1, stride 1, no padding) 2-d convolutions, with Flatten and Scale ops.
fn pointwise(g: &Graph, c: &Chain) -> bool {
    let mut convs = 0;
    for &o in &c.ops {
        match &g.node(o).op {
            Op::Conv {
                weight,
                stride,
                padding,
                ..
            } => {
                let d = weight.shape().dims();
                if d.len() != 4
                    || d[2] != 1
                    || d[3] != 1
                    || stride.iter().any(|&s| s != 1)
                    || padding.iter().any(|&p| p != 0)
                {
                    return false;
                }
                convs += 1;
            }
            Op::Flatten { .. } | Op::Scale { .. } => {}
            _ => return false,
        }
    }
    convs > 0
}

/// The node metadata key that asks for a layer to run on the host
/// (`placement = "host"`: nengo-loihi's `on_chip = False`, written by
/// `python/nmc_nengo`).
pub const PLACEMENT_KEY: &str = "placement";

/// Per population: runs on the host — fed only from Inputs through
/// pointwise chains, or through any chain when its node metadata says
/// `placement = "host"` — unless the encoder mode is `None`. A `placement`
/// the quantizer cannot honour is an error naming the node.
pub(super) fn host_populations(graph: &Graph, opts: &QuantOptions, low: &Lowered) -> Result<Vec<bool>, QuantError> {
    let mut host = Vec::with_capacity(low.pops.len());
    for p in &low.pops {
        let from_inputs = !p.chains.is_empty()
            && p.chains
                .iter()
                .all(|c| matches!(graph.node(c.source).op, Op::Input { .. }));
        let asked = match graph.node(p.node).meta.get(PLACEMENT_KEY) {
            None => None,
            Some(Meta::Str(s)) if s == "host" => Some(true),
            Some(Meta::Str(s)) if s == "chip" => Some(false),
            Some(other) => {
                return Err(QuantError::Unsupported {
                    node: p.name.clone(),
                    field: "metadata.placement".into(),
                    message: format!("expected \"host\" or \"chip\", got {other}"),
                });
            }
        };
        let auto = from_inputs && p.chains.iter().all(|c| pointwise(graph, c));
        let on_host = match asked {
            Some(true) if opts.encoder == EncoderMode::None => {
                return Err(QuantError::Unsupported {
                    node: p.name.clone(),
                    field: "metadata.placement".into(),
                    message: "asks for the host, but --encoder none puts every layer on the chip".into(),
                });
            }
            Some(true) if !from_inputs => {
                return Err(QuantError::Unsupported {
                    node: p.name.clone(),
                    field: "metadata.placement".into(),
                    message: "asks for the host, but only a layer fed by graph inputs alone can run there \
                              (the host encoder); its input comes from other layers"
                        .into(),
                });
            }
            Some(on_host) => on_host,
            None => opts.encoder != EncoderMode::None && auto,
        };
        host.push(on_host);
    }
    Ok(host)
}

/// The encodings of the graph inputs, their report entries and warnings.
pub(super) struct Inputs {
    pub encodings: Vec<InputEncoding>,
    pub reports: Vec<InputReport>,
    pub warnings: Vec<Warning>,
}

/// Encodes every input: real values when host encoders read it, events
/// otherwise; an error when both host and chip populations read it.
pub(super) fn inputs(graph: &Graph, opts: &QuantOptions, low: &Lowered, host: &[bool]) -> Result<Inputs, QuantError> {
    let mut warnings = Vec::new();
    let mut encodings = Vec::with_capacity(low.inputs.len());
    let mut input_reports = Vec::new();
    for &inp in &low.inputs {
        let name = &graph.node(inp).name;
        let readers: Vec<usize> = (0..low.pops.len())
            .filter(|&k| low.pops[k].chains.iter().any(|c| c.source == inp))
            .collect();
        let host_r: Vec<&str> = readers
            .iter()
            .filter(|&&k| host[k])
            .map(|&k| low.pops[k].name.as_str())
            .collect();
        let chip_r: Vec<&str> = readers
            .iter()
            .filter(|&&k| !host[k])
            .map(|&k| low.pops[k].name.as_str())
            .collect();
        if let (Some(h), Some(c)) = (host_r.first(), chip_r.first()) {
            return Err(QuantError::unsupported(
                name,
                "encoding",
                format!(
                    "is read by host encoder `{h}` (as real values) and by chip population `{c}` (which can only \
                     receive events); use --encoder none, or feed `{c}` from the encoder"
                ),
            ));
        }
        let enc = if host_r.is_empty() {
            InputEncoding::Events
        } else {
            InputEncoding::Real {
                frac_bits: opts.input_frac_bits,
                bits: opts.input_bits,
            }
        };
        if enc == InputEncoding::Events && !chip_r.is_empty() {
            warnings.push(Warning {
                layer: name.clone(),
                parameter: "encoding".into(),
                message: format!(
                    "read directly by chip population(s) {}: its values must be non-negative integer event counts \
                     (spikes); real-valued inputs (pixels) need an encoder (a 1×1 conv + spiking layer, run on the \
                     host with --encoder auto). The register bounds assume at most {} event(s) per input and step \
                     (max_input_events); see `saturation` for the counts that stay safe",
                    chip_r.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                    opts.max_input_events
                ),
            });
        }
        encodings.push(enc);
        let (frac_bits, bits) = match enc {
            InputEncoding::Real { frac_bits, bits } => (Some(frac_bits), Some(bits)),
            InputEncoding::Events => (None, None),
        };
        input_reports.push(InputReport {
            max_events: frac_bits.is_none().then_some(opts.max_input_events),
            name: name.clone(),
            shape: graph.node(inp).out.shape.dims().to_vec(),
            encoding: if frac_bits.is_some() { "real" } else { "events" }.into(),
            frac_bits,
            bits,
            readers: readers.iter().map(|&k| low.pops[k].name.clone()).collect(),
        });
    }
    Ok(Inputs {
        encodings,
        reports: input_reports,
        warnings,
    })
}
