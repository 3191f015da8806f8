//! The matcher against brute force: on small random instances it finds a
//! complete assignment exactly when a search over all injective
//! assignments does, its matching is maximum, and its Hall witness is one.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use nmc_speck::place::{hall_witness, max_matching};
use nmc_speck::{Chip, CoreMemory, Limits, Memory, PlaceError, assign};
use proptest::prelude::*;

/// The largest number of left vertices matchable, by trying everything.
fn brute_max(adj: &[Vec<usize>], used: &mut Vec<bool>, u: usize) -> usize {
    if u == adj.len() {
        return 0;
    }
    let mut best = brute_max(adj, used, u + 1); // u unmatched
    for &v in &adj[u] {
        if !used[v] {
            used[v] = true;
            best = best.max(1 + brute_max(adj, used, u + 1));
            used[v] = false;
        }
    }
    best
}

fn graph() -> impl Strategy<Value = (Vec<Vec<usize>>, usize)> {
    (0usize..=7, 0usize..=7).prop_flat_map(|(n, m)| {
        (
            proptest::collection::vec(proptest::collection::vec(any::<bool>(), m), n),
            Just(m),
        )
            .prop_map(|(rows, m)| {
                let adj = rows
                    .iter()
                    .map(|r| r.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect())
                    .collect();
                (adj, m)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matching_is_maximum_and_witness_holds((adj, m) in graph()) {
        let got = max_matching(&adj, m);
        let best = brute_max(&adj, &mut vec![false; m], 0);
        prop_assert_eq!(got.size(), best);
        // A valid matching: each pair an edge, no right vertex twice.
        let mut seen = BTreeSet::new();
        for (u, v) in got.left.iter().enumerate() {
            if let Some(v) = v {
                prop_assert!(adj[u].contains(v));
                prop_assert!(seen.insert(*v));
                prop_assert_eq!(got.right[*v], Some(u));
            }
        }
        match hall_witness(&adj, &got) {
            None => prop_assert_eq!(best, adj.len()),
            Some((ls, rs)) => {
                prop_assert!(best < adj.len());
                prop_assert!(rs.len() < ls.len(), "{:?} -> {:?}", ls, rs);
                let nb: BTreeSet<usize> = ls.iter().flat_map(|&u| adj[u].iter().copied()).collect();
                prop_assert_eq!(nb.into_iter().collect::<Vec<_>>(), rs);
            }
        }
    }
}

fn limits() -> Limits {
    Limits {
        layers_per_core: 1,
        max_kernel_size: 16,
        strides: vec![1, 2, 4, 8],
        max_padding: 7,
        poolings: vec![1, 2, 4],
        max_fan_out: 2,
        max_channels: 1024,
        neuron_models: vec!["iaf".into()],
    }
}

fn sizes() -> impl Strategy<Value = u64> {
    prop::sample::select(vec![1u64, 2, 4, 8])
}

fn memory() -> impl Strategy<Value = Memory> {
    (sizes(), sizes(), sizes()).prop_map(|(kernel, neuron, bias)| Memory { kernel, neuron, bias })
}

fn core() -> impl Strategy<Value = CoreMemory> {
    (sizes(), sizes(), sizes()).prop_map(|(kernel_memory, neuron_memory, bias_memory)| CoreMemory {
        kernel_memory,
        neuron_memory,
        bias_memory,
    })
}

/// Whether some permutation of cores gives every layer a core it fits.
fn brute_exists(cores: &[CoreMemory], mems: &[Memory]) -> bool {
    fn go(cores: &[CoreMemory], mems: &[Memory], used: &mut Vec<bool>, i: usize) -> bool {
        if i == mems.len() {
            return true;
        }
        for c in 0..cores.len() {
            if !used[c] && nmc_speck::place::fits(&mems[i], &cores[c]) {
                used[c] = true;
                if go(cores, mems, used, i + 1) {
                    return true;
                }
                used[c] = false;
            }
        }
        false
    }
    go(cores, mems, &mut vec![false; cores.len()], 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn assign_succeeds_iff_brute_force_does(
        cores in proptest::collection::vec(core(), 1..=5),
        mems in proptest::collection::vec(memory(), 0..=6),
    ) {
        let chip = Chip::new("rand", cores.clone(), limits()).unwrap();
        let names: Vec<String> = (0..mems.len()).map(|i| format!("l{i}")).collect();
        let exists = brute_exists(&cores, &mems);
        match assign(&chip, &names, &mems) {
            Ok(p) => {
                prop_assert!(exists);
                let used: BTreeSet<usize> = p.layers.iter().map(|l| l.core).collect();
                prop_assert_eq!(used.len(), mems.len());
                for (l, m) in p.layers.iter().zip(&mems) {
                    prop_assert!(nmc_speck::place::fits(m, &cores[l.core]));
                }
            }
            Err(e) => {
                prop_assert!(!exists, "{}", e);
                match e {
                    PlaceError::NoCore { no_fit, .. } => {
                        for n in no_fit {
                            prop_assert!(cores.iter().all(|c| !nmc_speck::place::fits(&mems[n.index], c)));
                        }
                    }
                    PlaceError::TooManyLayers { layers, cores: k } => prop_assert!(layers > k),
                    PlaceError::Crowded { layers, cores: k } => prop_assert!(k.len() < layers.len()),
                    PlaceError::Layer(_) => prop_assert!(false, "no layer checks here"),
                }
            }
        }
    }
}
