#![allow(clippy::unwrap_used)]
//! Random layer stacks on random small targets either partition into a
//! placement that both verifiers accept (and that emulates like the fixed
//! reference), or fail with the not-fit error — never a placement that
//! breaks a limit.
mod common;

use common::*;
use nmc_ir::qmodel::QModel;
use nmc_partition::examples::NetBuilder;
use nmc_partition::{PartitionError, PartitionOptions, emit, partition, verify, verify_artifact};
use nmc_target::Target;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Limits {
    cx: u32,
    axons: u32,
    slots: u32,
    words: u64,
    cxp: u32,
    vthp: u32,
    fmts: u32,
    cpc: u32,
    chips: u32,
    bm16: u32,
    base16: u32,
    base32: u32,
    atoms16: u32,
}

fn limits() -> impl Strategy<Value = Limits> {
    (
        (4u32..48, 8u32..96, 8u32..96, 8u64..128),
        (1u32..4, 1u32..4, 1u32..4),
        (1u32..8, 1u32..8),
        (prop::sample::select(vec![1u32, 2, 4, 8]), 0u32..64, 0u32..64, 0u32..6),
    )
        .prop_map(
            |((cx, axons, slots, words), (cxp, vthp, fmts), (cpc, chips), (bm16, b16, b32, atoms16))| Limits {
                cx,
                axons,
                slots,
                words,
                cxp,
                vthp,
                fmts,
                cpc,
                chips,
                bm16,
                base16: b16,
                base32: b32,
                atoms16,
            },
        )
}

fn make_target(l: &Limits) -> Target {
    let mut r = Target::builtin("tiny").unwrap().to_raw();
    r.name = "prop".into();
    r.core.max_compartments = l.cx;
    r.core.max_input_axons = l.axons;
    r.core.max_output_axon_slots = l.slots.max(2);
    r.core.synapse_memory_bits = l.words * 64;
    r.core.profiles.compartment = l.cxp;
    r.core.profiles.threshold = l.vthp;
    r.core.profiles.synapse_format = l.fmts;
    r.system.cores_per_chip = l.cpc;
    r.system.max_chips = l.chips;
    let p16 = &mut r.axons.population16;
    p16.base_multiple = l.bm16;
    p16.max_base = (l.base16 % l.cx) / l.bm16 * l.bm16;
    p16.max_atom_bits = l.atoms16;
    let p32 = &mut r.axons.population32;
    p32.base_multiple = 1;
    p32.max_base = l.base32 % l.cx;
    Target::from_raw(r, "prop").unwrap()
}

#[derive(Debug, Clone)]
enum Layer {
    Dense(usize),
    Conv {
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
    },
    Recur(usize),
}

#[derive(Debug, Clone)]
struct Net {
    input: [usize; 3],
    encoder: bool,
    layers: Vec<Layer>,
    zeros: bool,
    vth_variants: usize,
    seed: u64,
}

fn layer() -> impl Strategy<Value = Layer> {
    prop_oneof![
        (1usize..24).prop_map(Layer::Dense),
        (1usize..5, 1usize..4, 1usize..3, 0usize..2).prop_map(|(cout, k, stride, pad)| Layer::Conv {
            cout,
            k,
            stride,
            pad
        }),
        (1usize..4).prop_map(Layer::Recur),
    ]
}

fn net() -> impl Strategy<Value = Net> {
    (
        (1usize..4, 2usize..7, 2usize..7),
        any::<bool>(),
        prop::collection::vec(layer(), 1..5),
        any::<bool>(),
        1usize..4,
        any::<u64>(),
    )
        .prop_map(|((c, h, w), encoder, layers, zeros, vth_variants, seed)| Net {
            input: [c, h, w],
            encoder,
            layers,
            zeros,
            vth_variants,
            seed,
        })
}

fn build(n: &Net, t: &Target) -> QModel {
    let mut b = NetBuilder::new("prop", n.seed, t);
    b.zeros = if n.zeros { 0.3 } else { 0.0 };
    b.vth = 300;
    b.vth_variants = n.vth_variants;
    let mut s = if n.encoder {
        let x = b.real_input("x", &n.input);
        b.conv("enc", x, 2, 1, 1, 0)
    } else {
        b.events_input("x", &n.input)
    };
    for (i, l) in n.layers.iter().enumerate() {
        let shape = b.shape_of(s);
        match *l {
            Layer::Dense(k) => s = b.dense(&format!("l{i}"), s, k),
            Layer::Conv { cout, k, stride, pad } => {
                let dims = shape.dims().to_vec();
                if dims.len() == 3 && dims[1] + 2 * pad >= k && dims[2] + 2 * pad >= k {
                    s = b.conv(&format!("l{i}"), s, cout, k, stride, pad);
                } else {
                    s = b.dense(&format!("l{i}"), s, cout * 3);
                }
            }
            Layer::Recur(per) => {
                if let nmc_ir::qmodel::Source::Population(_) = s
                    && !(n.encoder && i == 0)
                {
                    b.sparse_into(s, s, per);
                } else {
                    s = b.dense(&format!("l{i}"), s, 4);
                }
            }
        }
    }
    b.output("y", s);
    b.build()
}

proptest! {
    // PROPTEST_CASES overrides the count.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn placements_are_valid_or_the_error_is_not_fit(l in limits(), n in net()) {
        let t = make_target(&l);
        let m = build(&n, &t);
        match partition(&m, &t, &PartitionOptions::default()) {
            Ok((pl, rep)) => {
                let u = verify(&m, &t, &pl).unwrap_or_else(|e| panic!("{e}\n{pl:?}"));
                let a = emit(&m, &pl, &t).unwrap();
                let ua = verify_artifact(&a, &t).unwrap_or_else(|e| panic!("{e}"));
                prop_assert_eq!(u, ua);
                nmc_partition::verify_artifact_synapses(&m, &a).unwrap();
                prop_assert_eq!(rep.totals.cores as usize, a.cores.len());
                prop_assert!(rep.totals.cores <= u64::from(l.cpc) * u64::from(l.chips));
                if n.seed % 4 == 0 {
                    a_equals_b_spikes(&m, &t, &a, 10, n.seed, false);
                }
            }
            Err(PartitionError::NotFit { need, offer, report, .. }) => {
                prop_assert!(need > offer, "not-fit with need {} ≤ offer {}", need, offer);
                prop_assert!(report.failure.is_some());
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}
