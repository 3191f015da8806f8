//! Structurally realistic quantized models with random legal parameters,
//! for tests, benchmarks and documentation examples (not for accuracy):
//! a small builder ([`NetBuilder`]) and ready-made networks
//! ([`dense_chain`], [`seeds_mnist`], [`resnet_like`]).
//!
//! Weights are even mantissas in `[-254, 254]` at exponent 0 (legal in
//! loihi1's mixed-sign format), optionally with a fraction of zeros;
//! neurons are IF (`decay_u` 4095, `decay_v` 0) with a uniform threshold.

use nmc_ir::NeuronModel;
use nmc_ir::Shape;
use nmc_ir::qmodel::{
    Compartment, InputEncoding, PerNeuron, Placement, QConnection, QInput, QMODEL_SCHEMA_VERSION, QModel, QOutput,
    QPopulation, QWeights, Source,
};
use nmc_target::Target;

/// Builds a [`QModel`] layer by layer with the latencies of a target.
#[derive(Debug, Clone)]
pub struct NetBuilder {
    model: QModel,
    state: u64,
    chip_latency: u32,
    host_latency: u32,
    /// Probability that a weight is zero.
    pub zeros: f64,
    /// Threshold mantissa of new populations.
    pub vth: i32,
    /// Bias mantissa of new populations.
    pub bias: i32,
    /// When > 1, new populations get per-neuron thresholds cycling through
    /// this many values.
    pub vth_variants: usize,
}

fn dims3(shape: &Shape) -> [usize; 3] {
    match shape.dims() {
        [c, h, w] => [*c, *h, *w],
        _ => [shape.numel(), 1, 1],
    }
}

impl NetBuilder {
    /// A new model named `name` whose random numbers come from `seed`.
    pub fn new(name: &str, seed: u64, target: &Target) -> NetBuilder {
        NetBuilder {
            model: QModel {
                schema_version: QMODEL_SCHEMA_VERSION,
                name: name.into(),
                target: target.name().into(),
                dt: 1e-3,
                inputs: Vec::new(),
                populations: Vec::new(),
                outputs: Vec::new(),
                readouts: Vec::new(),
            },
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            chip_latency: target.timing().synapse_delay_steps(),
            host_latency: target.timing().host_input_delay_steps(),
            zeros: 0.0,
            vth: 400,
            bias: 0,
            vth_variants: 1,
        }
    }

    /// The next pseudo-random 64-bit number (xorshift*).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform number in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn mant(&mut self) -> i16 {
        if self.zeros > 0.0 && self.uniform() < self.zeros {
            return 0;
        }
        let m = 2 * (1 + (self.next_u64() % 127) as i16);
        if self.next_u64() & 1 == 1 { m } else { -m }
    }

    fn mants(&mut self, n: usize) -> Vec<i16> {
        (0..n).map(|_| self.mant()).collect()
    }

    /// Shape of a source.
    pub fn shape_of(&self, s: Source) -> Shape {
        match s {
            Source::Input(k) => self.model.inputs[k].shape.clone(),
            Source::Population(k) => self.model.populations[k].shape.clone(),
        }
    }

    fn latency(&self, s: Source, dest_host: bool) -> u32 {
        match s {
            Source::Input(k) => match self.model.inputs[k].encoding {
                InputEncoding::Real { .. } => 0,
                InputEncoding::Events => self.host_latency,
            },
            Source::Population(k) => {
                if dest_host {
                    0
                } else if self.model.populations[k].placement == Placement::Host {
                    self.host_latency
                } else {
                    self.chip_latency
                }
            }
        }
    }

    /// Adds an input carrying event counts.
    pub fn events_input(&mut self, name: &str, shape: &[usize]) -> Source {
        self.model.inputs.push(QInput {
            name: name.into(),
            shape: Shape::new(shape.to_vec()),
            encoding: InputEncoding::Events,
        });
        Source::Input(self.model.inputs.len() - 1)
    }

    /// Adds a real-valued input (read by host populations).
    pub fn real_input(&mut self, name: &str, shape: &[usize]) -> Source {
        self.model.inputs.push(QInput {
            name: name.into(),
            shape: Shape::new(shape.to_vec()),
            encoding: InputEncoding::Real { frac_bits: 8, bits: 16 },
        });
        Source::Input(self.model.inputs.len() - 1)
    }

    fn compartment(&self, n: usize) -> Compartment {
        let vth = if self.vth_variants > 1 {
            PerNeuron::Each((0..n).map(|i| self.vth + (i % self.vth_variants) as i32).collect())
        } else {
            PerNeuron::Uniform(self.vth)
        };
        Compartment {
            decay_u: PerNeuron::Uniform(4095),
            decay_v: PerNeuron::Uniform(0),
            vth_mant: vth,
            bias_mant: PerNeuron::Uniform(self.bias),
            bias_exp: PerNeuron::Uniform(0),
            refractory: PerNeuron::Uniform(0),
            vmin_exp: 23,
            vmax_exp: 7,
            spiking: true,
        }
    }

    fn push(&mut self, name: &str, shape: Vec<usize>, placement: Placement, conn: QConnection) -> Source {
        let n: usize = shape.iter().product();
        self.model.populations.push(QPopulation {
            name: name.into(),
            model: NeuronModel::If,
            shape: Shape::new(shape),
            placement,
            compartment: self.compartment(n),
            inputs: vec![conn],
            scale: 1.0,
            float: None,
        });
        Source::Population(self.model.populations.len() - 1)
    }

    fn conv_weights(
        &mut self,
        src: Source,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
        groups: usize,
    ) -> QWeights {
        let [c, h, w] = dims3(&self.shape_of(src));
        let oh = (h + 2 * pad - k) / stride + 1;
        let ow = (w + 2 * pad - k) / stride + 1;
        let mant = self.mants(cout * (c / groups) * k * k);
        QWeights::Conv2d {
            in_shape: [c, h, w],
            out_shape: [cout, oh, ow],
            kernel: [k, k],
            stride: [stride, stride],
            padding: [pad, pad],
            dilation: [1, 1],
            groups,
            mant,
        }
    }

    fn conn(&self, src: Source, weights: QWeights, dest_host: bool) -> QConnection {
        QConnection {
            source: src,
            latency: self.latency(src, dest_host),
            weight_exp: 0,
            weights,
            folded_from: Vec::new(),
        }
    }

    /// Adds a convolution + IF population (chip, or host when `src` is a
    /// real-valued input).
    pub fn conv(&mut self, name: &str, src: Source, cout: usize, k: usize, stride: usize, pad: usize) -> Source {
        self.conv_grouped(name, src, cout, k, stride, pad, 1)
    }

    /// As [`NetBuilder::conv`] with `groups`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv_grouped(
        &mut self,
        name: &str,
        src: Source,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
        groups: usize,
    ) -> Source {
        let host = self.is_real(src);
        let w = self.conv_weights(src, cout, k, stride, pad, groups);
        let QWeights::Conv2d { out_shape, .. } = &w else {
            return src;
        };
        let shape = out_shape.to_vec();
        let conn = self.conn(src, w, host);
        self.push(name, shape, if host { Placement::Host } else { Placement::Chip }, conn)
    }

    fn is_real(&self, s: Source) -> bool {
        matches!(s, Source::Input(k) if matches!(self.model.inputs[k].encoding, InputEncoding::Real { .. }))
    }

    /// Adds a dense + IF population of `n` neurons.
    pub fn dense(&mut self, name: &str, src: Source, n: usize) -> Source {
        let host = self.is_real(src);
        let inp = self.shape_of(src).numel();
        let mant = self.mants(n * inp);
        let conn = self.conn(src, QWeights::Dense { out: n, inp, mant }, host);
        self.push(
            name,
            vec![n],
            if host { Placement::Host } else { Placement::Chip },
            conn,
        )
    }

    /// Adds a sparse connection from `src` into existing population `dest`
    /// (e.g. a recurrent one) with `per_row` random sources per neuron.
    pub fn sparse_into(&mut self, dest: Source, src: Source, per_row: usize) {
        let Source::Population(d) = dest else { return };
        let out = self.model.populations[d].shape.numel();
        let inp = self.shape_of(src).numel();
        let mut row_ptr = vec![0u32];
        let mut col = Vec::new();
        for _ in 0..out {
            let mut cs: Vec<u32> = (0..per_row).map(|_| (self.next_u64() % inp as u64) as u32).collect();
            cs.sort_unstable();
            cs.dedup();
            col.extend(cs);
            row_ptr.push(col.len() as u32);
        }
        let mant = self.mants(col.len());
        let conn = self.conn(
            src,
            QWeights::Sparse {
                out,
                inp,
                row_ptr,
                col,
                mant,
            },
            false,
        );
        self.model.populations[d].inputs.push(conn);
    }

    /// Records population (or input) `src` as output `name`.
    pub fn output(&mut self, name: &str, src: Source) {
        self.model.outputs.push(QOutput {
            name: name.into(),
            source: src,
        });
    }

    /// The model.
    pub fn build(self) -> QModel {
        self.model
    }
}

/// An event input of `sizes[0]` elements followed by dense IF layers of
/// `sizes[1..]`, on `tiny`'s latencies.
pub fn dense_chain(sizes: &[usize], seed: u64) -> QModel {
    let t = tiny();
    let mut b = NetBuilder::new("dense_chain", seed, &t);
    let mut s = b.events_input("in", &[sizes.first().copied().unwrap_or(1)]);
    for (i, &n) in sizes.iter().enumerate().skip(1) {
        s = b.dense(&format!("d{i}"), s, n);
    }
    b.output("out", s);
    b.build()
}

fn tiny() -> Target {
    // The built-ins are validated by nmc-target's tests.
    match Target::builtin("tiny") {
        Some(t) => t,
        None => unreachable_target(),
    }
}

fn unreachable_target() -> Target {
    let src = nmc_target::builtin_source("tiny").unwrap_or_default();
    match Target::from_ron_str(src, "builtin:tiny") {
        Ok(t) => t,
        // Invariant: built-in targets are compiled in and validated by nmc-target's own tests.
        Err(e) => panic!("built-in target tiny is invalid (nmc-target's tests guarantee it is not): {e}"),
    }
}

/// The seeds' MNIST network (tests/fixtures/seeds_mnist): 28×28×1 →
/// conv 3×3 32 → conv 3×3/2 64 → conv 3×3/2 128 → dense 10, IF neurons,
/// random legal mantissas. With `encoder`, a host 1×1 conv encoder
/// (2 channels, seed 003) reads the real-valued image and the first conv
/// runs on chip; without it the first conv population itself is the host
/// encoder (it reads the real-valued image).
pub fn seeds_mnist(target: &Target, encoder: bool, seed: u64) -> QModel {
    let mut b = NetBuilder::new(
        if encoder { "seeds_mnist_encoder" } else { "seeds_mnist" },
        seed,
        target,
    );
    let img = b.real_input("input", &[1, 28, 28]);
    let first = if encoder {
        b.conv("enc_if", img, 2, 1, 1, 0)
    } else {
        img
    };
    let l0 = b.conv("if0", first, 32, 3, 1, 0);
    let l1 = b.conv("if1", l0, 64, 3, 2, 0);
    let l2 = b.conv("if2", l1, 128, 3, 2, 0);
    let out = b.dense("if_out", l2, 10);
    b.output("output", out);
    b.build()
}

/// A ResNet-18-shaped stack of convolutions (no skips, no pooling) on a
/// `3 × side × side` event input: a 7×7/2 convolution of `width` channels,
/// then four stages of four 3×3 convolutions with `width`, `2·width`,
/// `4·width`, `8·width` channels (the first of stages 2–4 with stride 2),
/// a 4×4/4 convolution to 16 channels (in place of global pooling) and a
/// dense readout of 10. `side = 256, width = 8` gives about 1.1 M neurons.
pub fn resnet_like(target: &Target, side: usize, width: usize, seed: u64) -> QModel {
    let mut b = NetBuilder::new("resnet_like", seed, target);
    let img = b.events_input("input", &[3, side, side]);
    let mut s = b.conv("conv1", img, width, 7, 2, 3);
    for stage in 0..4 {
        let ch = width << stage;
        for i in 0..4 {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            s = b.conv(&format!("s{}c{}", stage + 1, i + 1), s, ch, 3, stride, 1);
        }
    }
    let pooled = b.conv("pool", s, 16, 4, 4, 0);
    let out = b.dense("fc", pooled, 10);
    b.output("logits", out);
    b.build()
}
