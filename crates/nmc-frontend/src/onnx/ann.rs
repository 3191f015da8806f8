//! The lowered ANN (a chain of per-sample layers) and its float interpreter,
//! used for calibration and to compare the SNN with the ANN.

/// One layer of the lowered ANN (per-sample semantics, no batch axis).
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// 2-d convolution; weight `[co, ci/g, kh, kw]`.
    Conv {
        /// Weights.
        w: Vec<f64>,
        /// Weight dims.
        wdims: [usize; 4],
        /// Bias `[co]`.
        b: Vec<f64>,
        /// Stride.
        stride: [usize; 2],
        /// Symmetric padding.
        pad: [usize; 2],
        /// Dilation.
        dil: [usize; 2],
        /// Groups.
        groups: usize,
    },
    /// Dense `y = W x + b`, `W` `[out, in]`.
    Dense {
        /// Weights row-major `[out, in]`.
        w: Vec<f64>,
        /// Output size.
        out: usize,
        /// Input size.
        inp: usize,
        /// Bias.
        b: Vec<f64>,
    },
    /// Average pooling (window sum ÷ `kernel` area; zero padding counted).
    AvgPool {
        /// Window.
        kernel: [usize; 2],
        /// Stride.
        stride: [usize; 2],
        /// Padding.
        pad: [usize; 2],
    },
    /// Flatten to a vector.
    Flatten,
    /// ReLU.
    Relu,
}

/// A lowered ANN: a chain of layers from one input to one output.
#[derive(Clone, Debug, PartialEq)]
pub struct Ann {
    /// Graph name (file stem).
    pub name: String,
    /// ONNX input name.
    pub input_name: String,
    /// ONNX output name.
    pub output_name: String,
    /// Input shape without batch axis.
    pub input_shape: Vec<usize>,
    /// Layers with the ONNX node names they came from, and their output shape.
    pub layers: Vec<(String, Layer, Vec<usize>)>,
    /// Default-domain opset.
    pub opset: i64,
    /// Notes from lowering.
    pub notes: Vec<String>,
}

fn apply(layer: &Layer, x: &[f64], shape: &[usize], out_shape: &[usize]) -> Vec<f64> {
    match layer {
        Layer::Relu => x.iter().map(|v| v.max(0.0)).collect(),
        Layer::Flatten => x.to_vec(),
        Layer::Dense { w, out, inp, b } => (0..*out)
            .map(|o| {
                let row = &w[o * inp..(o + 1) * inp];
                row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + b[o]
            })
            .collect(),
        Layer::Conv {
            w,
            wdims,
            b,
            stride,
            pad,
            dil,
            groups,
        } => {
            let (ci, h, wd) = (shape[0], shape[1], shape[2]);
            let (co, oh, ow) = (out_shape[0], out_shape[1], out_shape[2]);
            let [_, cig, kh, kw] = *wdims;
            let cog = co / groups;
            let mut y = vec![0.0; co * oh * ow];
            for o in 0..co {
                let g = o / cog;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b[o];
                        for c in 0..cig {
                            let cin = g * cig + c;
                            if cin >= ci {
                                continue;
                            }
                            for ky in 0..kh {
                                let iy = (oy * stride[0] + ky * dil[0]) as isize - pad[0] as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kw {
                                    let ix = (ox * stride[1] + kx * dil[1]) as isize - pad[1] as isize;
                                    if ix < 0 || ix >= wd as isize {
                                        continue;
                                    }
                                    acc += w[((o * cig + c) * kh + ky) * kw + kx]
                                        * x[(cin * h + iy as usize) * wd + ix as usize];
                                }
                            }
                        }
                        y[(o * oh + oy) * ow + ox] = acc;
                    }
                }
            }
            y
        }
        Layer::AvgPool { kernel, stride, pad } => {
            let (c, h, wd) = (shape[0], shape[1], shape[2]);
            let (oh, ow) = (out_shape[1], out_shape[2]);
            let area = (kernel[0] * kernel[1]) as f64;
            let mut y = vec![0.0; c * oh * ow];
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for ky in 0..kernel[0] {
                            let iy = (oy * stride[0] + ky) as isize - pad[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kernel[1] {
                                let ix = (ox * stride[1] + kx) as isize - pad[1] as isize;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                acc += x[(ch * h + iy as usize) * wd + ix as usize];
                            }
                        }
                        y[(ch * oh + oy) * ow + ox] = acc / area;
                    }
                }
            }
            y
        }
    }
}

impl Ann {
    /// Runs one sample (row-major, input shape) and returns every layer's output.
    pub fn forward_all(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let mut outs = Vec::with_capacity(self.layers.len());
        let mut cur = x.to_vec();
        let mut shape = self.input_shape.clone();
        for (_, l, os) in &self.layers {
            cur = apply(l, &cur, &shape, os);
            shape.clone_from(os);
            outs.push(cur.clone());
        }
        outs
    }
    /// Runs one sample and returns the network output.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.forward_all(x).pop().unwrap_or_else(|| x.to_vec())
    }
    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }
}
