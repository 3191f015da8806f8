//! Golden values of the synapse-memory costing rule, computed by hand.
//!
//! The rule is nengo-loihi's `SynapseConfig.bits_per_axon` (v1.1.0,
//! `nengo_loihi/block.py`): per synapse, stored weight bits + delay bits +
//! tag bits (+ index bits for lists stored sparse); runs of up to
//! `n_synapses + 1 = 64` synapses; each run adds a 4-bit format index and a
//! 6-bit synapse count and is rounded up to a multiple of 64 bits. nengo-loihi
//! stores 8-bit weights with no delay or tag bits. See `src/synapse.rs`.

use nmc_target::Target;

fn loihi1() -> Target {
    Target::builtin("loihi1").expect("built in")
}

#[test]
fn dense_golden_values() {
    let t = loihi1();
    // No weights: no runs, no bits.
    assert_eq!(t.synapse_bits(0, 8, false), 0);
    // 1 weight: 1·8 + 10 = 18 → one word = 64.
    assert_eq!(t.synapse_bits(1, 8, false), 64);
    // 6 weights: 6·8 + 10 = 58 → 64.
    assert_eq!(t.synapse_bits(6, 8, false), 64);
    // 7 weights: 7·8 + 10 = 66 → 128.
    assert_eq!(t.synapse_bits(7, 8, false), 128);
    // 64 weights: 64·8 + 10 = 522 → ceil(522/64) = 9 words = 576.
    assert_eq!(t.synapse_bits(64, 8, false), 576);
    // 65 weights: two runs, 576 + (1·8 + 10 = 18 → 64) = 640.
    assert_eq!(t.synapse_bits(65, 8, false), 640);
    // 128 weights: two full runs = 1152.
    assert_eq!(t.synapse_bits(128, 8, false), 1152);
    // 100 weights: 576 + (36·8 + 10 = 298 → 5 words = 320) = 896.
    assert_eq!(t.synapse_bits(100, 8, false), 896);
    // 64 4-bit weights: 64·4 + 10 = 266 → 5 words = 320.
    assert_eq!(t.synapse_bits(64, 4, false), 320);
    // 1024 weights (a full core's fan-in): 16 full runs = 16·576 = 9216.
    assert_eq!(t.synapse_bits(1024, 8, false), 9216);
}

#[test]
fn indexed_golden_values() {
    let t = loihi1();
    // loihi1 indexes a whole core (1024 compartments) with 10 bits.
    assert_eq!(t.synapse_cost().core_index_bits(), 10);
    // 64 indexed weights: 64·(8 + 10) + 10 = 1162 → 19 words = 1216.
    assert_eq!(t.synapse_bits(64, 8, true), 1216);
    // 65: 1216 + (18 + 10 = 28 → 64) = 1280.
    assert_eq!(t.synapse_bits(65, 8, true), 1280);
    // 9 indexed weights (a 3×3 kernel): 9·18 + 10 = 172 → 3 words = 192.
    assert_eq!(t.synapse_bits(9, 8, true), 192);

    let sc = t.synapse_cost();
    // Paying only for the largest index stored, as nengo-loihi does: a table
    // whose largest index is 40 needs 6 bits (ceil(log2 41) = 6).
    assert_eq!(sc.index_bits_for(40), Some(6));
    // 9 weights with 6-bit indices: 9·14 + 10 = 136 → 3 words = 192.
    assert_eq!(sc.bits(9, 8, 6), 192);
    // 64 weights with 6-bit indices: 64·14 + 10 = 906 → 15 words = 960.
    assert_eq!(sc.bits(64, 8, 6), 960);
    assert_eq!(sc.words(64, 8, 6), 15);
    // Index widths: 0 for a single target at index 0; 1..6 bits → 6; 1023 → 10; 4095 → 12; beyond → none.
    assert_eq!(sc.index_bits_for(0), Some(0));
    assert_eq!(sc.index_bits_for(1), Some(6));
    assert_eq!(sc.index_bits_for(63), Some(6));
    assert_eq!(sc.index_bits_for(64), Some(7));
    assert_eq!(sc.index_bits_for(1023), Some(10));
    assert_eq!(sc.index_bits_for(4095), Some(12));
    assert_eq!(sc.index_bits_for(4096), None);
}

#[test]
fn tiny_indexes_with_six_bits() {
    let t = Target::builtin("tiny").expect("built in");
    // 32 compartments need 5 bits; the smallest allowed width is 6.
    // 64 indexed weights: 64·14 + 10 = 906 → 960.
    assert_eq!(t.synapse_bits(64, 8, true), 960);
}

/// nengo-loihi's loop, restated: step through the weights in runs, pay each
/// run rounded up to 64 bits.
fn by_runs(n: usize, per_synapse: u64) -> u64 {
    let mut bits = 0;
    let mut start = 0;
    while start < n {
        let len = (n - start).min(64) as u64;
        let run = len * per_synapse + 4 + 6;
        bits += run.div_ceil(64) * 64;
        start += 64;
    }
    bits
}

#[test]
fn agrees_with_the_run_loop_everywhere() {
    let t = loihi1();
    for n in 0..700 {
        for wb in [1, 2, 4, 8] {
            assert_eq!(t.synapse_bits(n, wb, false), by_runs(n, u64::from(wb)), "n={n} wb={wb}");
            assert_eq!(
                t.synapse_bits(n, wb, true),
                by_runs(n, u64::from(wb) + 10),
                "n={n} wb={wb}"
            );
        }
    }
}
