//! The NIR paper's N-MNIST CNN (two trained weight sets) on a real N-MNIST
//! sample: the whole network simulates, and the first layer's spikes equal
//! an independent, naive computation straight from the file's weights
//! (conv 5×5 stride 2 padding 1 over the (2, 34, 34) event frames, then IF
//! with threshold 1, reset to 0, v += input each step). That pins the weight
//! layout (OIHW), the CHW input layout, the time axis and the IF rule on
//! real data.
#![allow(clippy::unwrap_used)]

use nmc_ir::{Graph, Op};
use nmc_reference::{SimOptions, Stimulus, read_array, simulate};
mod common;
use common::{fixtures, root};

fn naive_first_layer(g: &Graph, frames: &[f64], steps: usize) -> Vec<u64> {
    let Op::Neuron(n) = &g.node(g.find("1").unwrap()).op else {
        panic!("node 1 is not a neuron population")
    };
    // Uniform in both files (the nir4s export writes v_reset = 1.0, see examples/nmnist_cnn/README.md).
    let (thr, v_reset, r) = (n.v_threshold[0], n.v_reset[0], n.r[0]);
    let conv = g.find("0").unwrap();
    let Op::Conv {
        weight,
        bias,
        stride,
        padding,
        ..
    } = &g.node(conv).op
    else {
        panic!("node 0 is not a conv")
    };
    let w = weight.data();
    let (co, ci, k) = (16, 2, 5);
    assert_eq!(weight.shape().dims(), &[co, ci, k, k]);
    let (h, out) = (34usize, 16usize);
    let mut v = vec![0.0f64; co * out * out];
    let mut counts = vec![0u64; co * out * out];
    for t in 0..steps {
        let x = &frames[t * ci * h * h..(t + 1) * ci * h * h];
        for o in 0..co {
            for oy in 0..out {
                for ox in 0..out {
                    let mut acc = bias.as_ref().map_or(0.0, |b| b.data()[o]);
                    for c in 0..ci {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * stride[0] + ky) as isize - padding[0] as isize;
                                let ix = (ox * stride[1] + kx) as isize - padding[1] as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < h {
                                    acc += w[((o * ci + c) * k + ky) * k + kx]
                                        * x[(c * h + iy as usize) * h + ix as usize];
                                }
                            }
                        }
                    }
                    let i = (o * out + oy) * out + ox;
                    v[i] += r * acc; // IF: charge per step
                    if v[i] > thr {
                        counts[i] += 1;
                        v[i] = v_reset;
                    }
                }
            }
        }
    }
    counts
}

fn check(model: std::path::PathBuf) {
    let g = nmc_frontend::load(&model, &Default::default()).unwrap();
    let sample = read_array(&fixtures().join("nir-paper/other/nir4s_cnn_sinabs_sample.npy")).unwrap();
    assert_eq!(sample.shape(), &[10, 2, 34, 34]);
    let frames: Vec<f64> = sample.iter().copied().collect();
    let input = g.node(g.input_nodes()[0]).out.shape.clone();
    let stim = Stimulus::from_array(sample, &input).unwrap();
    assert_eq!((stim.batch(), stim.steps(), stim.features()), (1, 10, 2 * 34 * 34));
    let res = simulate(&g, &stim, &SimOptions { steps: None }).unwrap();
    let first = res.layer("1").unwrap();
    let expect = naive_first_layer(&g, &frames, 10);
    assert!(
        expect.iter().sum::<u64>() > 100,
        "the sample should drive the first layer"
    );
    assert!(
        first.counts_of(0) == expect,
        "first-layer counts differ from the naive computation: {}",
        model.display()
    );
    // Every IF layer of the network is recorded, and the output has 10 features per step.
    assert_eq!(res.layers.len(), 5);
    assert_eq!(res.outputs[0].values.dim(), (1, 10, 10));
}

#[test]
fn paper_cnn_weights_simulate_on_a_real_nmnist_sample() {
    check(fixtures().join("nir-paper/02_cnn/cnn_sinabs.nir"));
}

#[test]
fn nir4s_cnn_weights_simulate_on_a_real_nmnist_sample() {
    check(root().join("examples/nmnist_cnn/cnn_sinabs.nir"));
}
