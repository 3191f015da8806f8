//! A = B: the emulator equals the plain reference on random networks within
//! the chip's ranges (sources, Dense/Sparse with every sign mode, weight bits,
//! exponents and binary/graded messages, LIF over the whole du/dv/vth/bias
//! ranges, Delta/SigmaDelta over their exponents, direct neuron → neuron
//! hops, several senders into one process, and recurrent Dense loops).
#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use nmc_loihi2::net::{ActMode, Conn, Kind, Lif, Process, Sdn, SignMode};
use nmc_loihi2::{Chip, Input, Net, emu, reference};
use proptest::prelude::*;

/// splitmix64: the network is drawn from one proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// Mostly small, sometimes anywhere up to `max`.
    fn mostly_small(&mut self, small: i64, max: i64) -> i64 {
        if self.chance(80) {
            self.int(0, small)
        } else {
            self.int(0, max)
        }
    }
}

fn conn(r: &mut Rng, outputs: usize, inputs: usize) -> Kind {
    let sign = r.int(0, 2);
    let density = r.int(20, 100) as u64;
    let weights = (0..outputs * inputs)
        .map(|_| {
            if !r.chance(density) {
                return 0;
            }
            match sign {
                0 => r.int(0, 300),
                1 => r.int(-300, 0),
                _ => r.int(-300, 300),
            }
        })
        .collect();
    let c = Conn {
        outputs,
        inputs,
        weights,
        weight_exp: r.int(-7, 7) as i32,
        num_weight_bits: r.int(1, 8) as u32,
        sign_mode: [
            SignMode::Auto,
            SignMode::Auto,
            SignMode::Mixed,
            SignMode::Excitatory,
            SignMode::Inhibitory,
        ][r.int(0, 4) as usize],
        num_message_bits: if r.chance(50) { 0 } else { r.int(1, 31) as u32 },
    };
    if r.chance(50) { Kind::Dense(c) } else { Kind::Sparse(c) }
}

fn neuron(r: &mut Rng, n: usize) -> Kind {
    match r.int(0, 2) {
        0 => Kind::Lif(Lif {
            neurons: n,
            du: r.int(0, 4095) as u32,
            dv: r.int(0, 4095) as u32,
            vth: r.mostly_small(2000, 131_071) as u32,
            bias_mant: (0..n)
                .map(|_| if r.chance(50) { 0 } else { r.int(-4096, 4095) as i32 })
                .collect(),
            bias_exp: (0..n).map(|_| r.int(-7, 7) as i32).collect(),
        }),
        k => {
            let s = Sdn {
                neurons: n,
                vth: r.mostly_small(20, 8_388_607),
                spike_exp: r.int(0, 7) as u32,
                state_exp: r.int(0, 7) as u32,
                cum_error: r.chance(50),
                bias: (0..n).map(|_| if k == 2 { r.int(-50, 50) } else { 0 }).collect(),
                act_mode: if r.chance(50) { ActMode::Relu } else { ActMode::Unit },
            };
            if k == 1 { Kind::Delta(s) } else { Kind::SigmaDelta(s) }
        }
    }
}

/// A random network and its input.
fn random_net(chip: &Chip, seed: u64) -> (Net, Input) {
    let mut r = Rng(seed);
    let channels = r.int(1, 6) as usize;
    let mut procs = vec![Process {
        name: "src".into(),
        kind: Kind::Source(channels),
    }];
    let mut edges: Vec<(String, String)> = Vec::new();
    // Populations that send spikes or payloads: (name, width).
    let mut pops = vec![("src".to_string(), channels)];
    for stage in 0..r.int(1, 3) {
        let (from, width) = pops[r.int(0, pops.len() as i64 - 1) as usize].clone();
        let name = format!("n{stage}");
        let n = if r.chance(80) {
            let n = r.int(1, 8) as usize;
            let c = format!("c{stage}");
            procs.push(Process {
                name: c.clone(),
                kind: conn(&mut r, n, width),
            });
            edges.push((from, c.clone()));
            edges.push((c, name.clone()));
            n
        } else {
            edges.push((from, name.clone()));
            width
        };
        procs.push(Process {
            name: name.clone(),
            kind: neuron(&mut r, n),
        });
        // A second, direct sender of the same width (the sum at the port).
        if let Some((other, _)) = pops.iter().find(|p| p.1 == n && r.chance(30)).cloned()
            && !edges.contains(&(other.clone(), name.clone()))
        {
            edges.push((other, name.clone()));
        }
        pops.push((name, n));
    }
    for k in 0..r.int(0, 2) {
        // Recurrent (or any) Dense/Sparse between two populations.
        let (from, wf) = pops[r.int(1, pops.len() as i64 - 1) as usize].clone();
        let (to, wt) = pops[r.int(1, pops.len() as i64 - 1) as usize].clone();
        let c = format!("r{k}");
        procs.push(Process {
            name: c.clone(),
            kind: conn(&mut r, wt, wf),
        });
        edges.push((from, c.clone()));
        edges.push((c, to));
    }
    let cols = r.int(1, 10) as usize;
    let binary = r.chance(50);
    let data = (0..channels * cols)
        .map(|_| {
            if binary {
                i32::from(r.chance(40))
            } else {
                r.int(-100, 100) as i32
            }
        })
        .collect();
    let net = Net::new(chip, procs, &edges, "random").unwrap();
    (
        net,
        Input::single(Array2::from_shape_vec((channels, cols), data).unwrap()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, max_global_rejects: 4096, ..ProptestConfig::default() })]

    #[test]
    fn emulator_equals_reference(seed in any::<u64>(), steps in 1usize..60) {
        let chip = Chip::builtin("loihi2").unwrap();
        let (net, input) = random_net(&chip, seed);
        let a = emu::run(&chip, &net, &input, steps).unwrap();
        // Stay where Lava's int32 ports are meaningful (graded payloads
        // through several exponents can outgrow them).
        let big = a.traces().iter().flat_map(|t| &t.data).map(|x| x.unsigned_abs()).max().unwrap_or(0);
        prop_assume!(big < 1 << 31);
        let b = reference::run(&net, &input, steps).unwrap();
        prop_assert_eq!(a, b);
    }
}

/// The generator reaches what it claims: most networks stay in range, and
/// across them LIFs fire, u wraps, v clips, sigma-delta neurons send
/// payloads, and recurrent loops and graded connections occur.
#[test]
fn random_networks_cover_the_step() {
    let chip = Chip::builtin("loihi2").unwrap();
    let (mut kept, mut fired, mut wrapped, mut clipped, mut sdn_sent, mut graded) = (0, 0, 0, 0, 0, 0);
    for seed in 0..400u64 {
        let (net, input) = random_net(&chip, seed.wrapping_mul(0x1234_5678_9ABC_DEF1));
        let a = emu::run(&chip, &net, &input, 50).unwrap();
        let big = a
            .traces()
            .iter()
            .flat_map(|t| &t.data)
            .map(|x| x.unsigned_abs())
            .max()
            .unwrap_or(0);
        if big >= 1 << 31 {
            continue;
        }
        kept += 1;
        for t in a.traces() {
            let kind = net.processes()[net.index_of(&t.process).unwrap()].kind.name();
            match (kind, t.var) {
                ("lif", "s_out") => fired += usize::from(t.data.iter().any(|&x| x != 0)),
                ("lif", "u") => wrapped += usize::from(t.data.iter().any(|&x| x.abs() >= 1 << 22)),
                ("lif", "v") => clipped += usize::from(t.data.iter().any(|&x| x.abs() == (1 << 23) - 1)),
                ("delta" | "sigma_delta", "s_out") => sdn_sent += usize::from(t.data.iter().any(|&x| x != 0)),
                _ => {}
            }
        }
        graded += usize::from(net.processes().iter().any(|p| match &p.kind {
            Kind::Dense(c) | Kind::Sparse(c) => c.num_message_bits > 0,
            _ => false,
        }));
    }
    let got = (kept, fired, wrapped, clipped, sdn_sent, graded);
    assert!(kept >= 250, "{got:?}");
    assert!(
        fired >= 50 && wrapped >= 5 && clipped >= 5 && sdn_sent >= 50 && graded >= 50,
        "{got:?}"
    );
}
