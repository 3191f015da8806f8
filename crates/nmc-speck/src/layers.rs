//! The layer description nmc places: one DYNAP-CNN layer is a convolution
//! (a linear layer is a convolution whose kernel covers its whole input),
//! then spiking neurons, then one sum pooling per destination — sinabs'
//! `DynapcnnLayer`. [`check`] tests the chip's rules; its errors name the
//! layer and the field.

use serde::{Deserialize, Serialize};

use crate::chip::Chip;

/// One layer, in the shapes sinabs' `DynapcnnLayer` has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// A name for messages (sinabs' layer index, or the NIR node's name).
    pub name: String,
    /// Input shape `[c, h, w]`.
    pub input: [u32; 3],
    /// Kernel shape `[f, c, kh, kw]`.
    pub kernel: [u32; 4],
    /// Stride `[sy, sx]`.
    pub stride: [u32; 2],
    /// Zero padding `[py, px]`.
    pub padding: [u32; 2],
    /// Sum pooling `[ph, pw]`, one entry per destination (sinabs' `pool` list).
    pub pooling: Vec<[u32; 2]>,
    /// Indices (into the layer list) of the layers this one sends to; an
    /// exit layer sends to none.
    #[serde(default)]
    pub destinations: Vec<usize>,
    /// Neuron (conv output) shape `[f, h, w]`.
    pub output: [u32; 3],
    /// Whether the convolution has a bias.
    pub bias: bool,
    /// The spiking neuron model, lower case (`iaf` for sinabs' `IAFSqueeze`).
    pub neuron: String,
}

impl Layer {
    /// The conv output `[f, h, w]` the input, kernel, stride and padding
    /// give (PyTorch's formula, dilation 1), or `None` when the kernel does
    /// not fit in the padded input or a stride is 0.
    pub fn conv_output(&self) -> Option<[u32; 3]> {
        let side = |i: usize| {
            let padded = u64::from(self.input[1 + i]) + 2 * u64::from(self.padding[i]);
            let k = u64::from(self.kernel[2 + i]);
            let s = u64::from(self.stride[i]);
            if s == 0 || k == 0 || k > padded {
                return None;
            }
            u32::try_from((padded - k) / s + 1).ok()
        };
        Some([self.kernel[0], side(0)?, side(1)?])
    }

    /// Destinations this layer sends to: its `destinations`, or its pooling
    /// entries when it lists more of those (sinabs has one per destination).
    pub fn fan_out(&self) -> usize {
        self.destinations.len().max(self.pooling.len())
    }
}

/// A broken layer rule: which layer, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {index} (`{name}`): {field}: {message}")]
pub struct LayerError {
    /// Position in the layer list.
    pub index: usize,
    /// The layer's name.
    pub name: String,
    /// The field, e.g. `kernel`, `stride`, `pooling[1]`.
    pub field: String,
    /// What the rule requires and what the layer has.
    pub message: String,
}

/// Checks every layer against the chip's rules, in order; the first
/// broken rule is returned.
pub fn check(chip: &Chip, layers: &[Layer]) -> Result<(), LayerError> {
    for (i, l) in layers.iter().enumerate() {
        check_one(chip, layers.len(), i, l)?;
    }
    Ok(())
}

fn check_one(chip: &Chip, n: usize, index: usize, l: &Layer) -> Result<(), LayerError> {
    let lim = chip.limits();
    let err = |field: &str, message: String| LayerError {
        index,
        name: l.name.clone(),
        field: field.to_string(),
        message,
    };
    if l.input.contains(&0) || l.kernel.contains(&0) || l.output.contains(&0) {
        let field = if l.input.contains(&0) {
            "input"
        } else if l.kernel.contains(&0) {
            "kernel"
        } else {
            "output"
        };
        return Err(err(field, "every dimension must be > 0".into()));
    }
    let [f, c, kh, kw] = l.kernel;
    if c != l.input[0] {
        return Err(err(
            "kernel",
            format!(
                "{c} input channels, but the input has {} (input {:?})",
                l.input[0], l.input
            ),
        ));
    }
    for (what, v) in [("input", c), ("output", f)] {
        if v > lim.max_channels {
            return Err(err(
                if what == "input" { "input" } else { "kernel" },
                format!("{v} {what} channels; the chip allows at most {}", lim.max_channels),
            ));
        }
    }
    if kh != kw {
        return Err(err(
            "kernel",
            format!("{kh}x{kw} is not square; the chip runs square kernels only"),
        ));
    }
    if kh > lim.max_kernel_size {
        return Err(err(
            "kernel",
            format!("{kh}x{kw} is larger than the chip's {m}x{m}", m = lim.max_kernel_size),
        ));
    }
    for s in l.stride {
        if !lim.strides.contains(&s) {
            return Err(err(
                "stride",
                format!("{:?}: each stride must be one of {:?}", l.stride, lim.strides),
            ));
        }
    }
    if l.padding.iter().any(|&p| p > lim.max_padding) {
        return Err(err(
            "padding",
            format!("{:?}: at most {} on each side", l.padding, lim.max_padding),
        ));
    }
    for (j, p) in l.pooling.iter().enumerate() {
        if p[0] != p[1] || !lim.poolings.contains(&p[0]) {
            return Err(err(
                &format!("pooling[{j}]"),
                format!("{}x{}: must be square, one of {:?}", p[0], p[1], lim.poolings),
            ));
        }
    }
    if l.fan_out() > lim.max_fan_out as usize {
        return Err(err(
            "destinations",
            format!(
                "{} destinations; a layer sends to at most {}",
                l.fan_out(),
                lim.max_fan_out
            ),
        ));
    }
    if let Some(&d) = l.destinations.iter().find(|&&d| d >= n || d == index) {
        return Err(err("destinations", format!("{d} is not another layer of the {n}")));
    }
    if !lim.neuron_models.contains(&l.neuron) {
        return Err(err(
            "neuron",
            format!("`{}`: the chip's neurons are {:?} only", l.neuron, lim.neuron_models),
        ));
    }
    match l.conv_output() {
        Some(o) if o == l.output => Ok(()),
        Some(o) => Err(err(
            "output",
            format!(
                "{:?}, but input {:?}, kernel, stride and padding give {o:?}",
                l.output, l.input
            ),
        )),
        None => Err(err(
            "kernel",
            format!("{kh}x{kw} does not fit the padded input {:?}", l.input),
        )),
    }
}
