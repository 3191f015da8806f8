//! Comparing two traces: every kind of difference, the summary of all of
//! them ([`Comparison`]) and the order that picks the first.

use crate::{OverflowEvent, Register, Trace};
use bitvec::slice::BitSlice;
use serde::Serialize;
use std::fmt;

/// The two traces do not record the same things: nothing else is compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum StructureDifference {
    /// Different batch sizes.
    Batch {
        /// A's.
        a: usize,
        /// B's.
        b: usize,
    },
    /// Different numbers of steps.
    Steps {
        /// A's.
        a: usize,
        /// B's.
        b: usize,
    },
    /// A records a layer B does not have (at A's `index`).
    MissingLayer {
        /// Layer name.
        layer: String,
        /// Its index in A.
        index: usize,
    },
    /// B records a layer A does not have (at B's `index`).
    ExtraLayer {
        /// Layer name.
        layer: String,
        /// Its index in B.
        index: usize,
    },
    /// Both record the layers at `index`, in another order.
    LayerOrder {
        /// Layer index.
        index: usize,
        /// A's layer there.
        a: String,
        /// B's layer there.
        b: String,
    },
    /// One layer, two shapes.
    Shape {
        /// Layer name.
        layer: String,
        /// A's shape.
        a: Vec<usize>,
        /// B's shape.
        b: Vec<usize>,
    },
    /// One side records the layer's voltages (a non-spiking read-out), the
    /// other its spikes.
    Readout {
        /// Layer name.
        layer: String,
        /// Whether A records voltages.
        a: bool,
        /// Whether B records voltages.
        b: bool,
    },
    /// The two traces record different host readouts (names, order or
    /// shapes): the first readout index where they part.
    Readouts {
        /// Readout index.
        index: usize,
        /// A's readout there (`None`: A has fewer).
        a: Option<String>,
        /// B's readout there.
        b: Option<String>,
    },
    /// A trace breaks its own invariant: a record of the wrong length.
    Length {
        /// Layer name.
        layer: String,
        /// `spikes` or `voltages`.
        field: &'static str,
        /// `A` or `B`.
        side: &'static str,
        /// Its length.
        len: usize,
        /// `batch · steps · neurons`.
        expected: usize,
    },
}

/// The earliest spike bit that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpikeDifference {
    /// Layer name.
    pub layer: String,
    /// Batch item.
    pub batch_item: usize,
    /// Step.
    pub step: usize,
    /// Neuron index (row-major over the layer shape).
    pub neuron: usize,
    /// Whether A spiked.
    pub a_spiked: bool,
    /// Whether B spiked.
    pub b_spiked: bool,
    /// Differing (item, step, neuron) bits over all layers.
    pub differing_bits: u64,
}

/// The earliest read-out voltage that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoltageDifference {
    /// Layer name.
    pub layer: String,
    /// Batch item.
    pub batch_item: usize,
    /// Step.
    pub step: usize,
    /// Neuron index (row-major over the layer shape).
    pub neuron: usize,
    /// A's voltage.
    pub a: i64,
    /// B's voltage.
    pub b: i64,
    /// Differing voltages over all read-out layers.
    pub differing: u64,
}

/// The earliest host readout value that differs (by bits).
#[derive(Clone, Debug, Serialize)]
pub struct ReadoutDifference {
    /// Readout name.
    pub readout: String,
    /// Batch item.
    pub batch_item: usize,
    /// Step.
    pub step: usize,
    /// Element index (row-major over the readout shape).
    pub element: usize,
    /// A's value.
    pub a: f64,
    /// B's value.
    pub b: f64,
    /// Differing values over all readouts.
    pub differing: u64,
}

impl PartialEq for ReadoutDifference {
    fn eq(&self, o: &Self) -> bool {
        (&self.readout, self.batch_item, self.step, self.element, self.differing)
            == (&o.readout, o.batch_item, o.step, o.element, o.differing)
            && self.a.to_bits() == o.a.to_bits()
            && self.b.to_bits() == o.b.to_bits()
    }
}

impl Eq for ReadoutDifference {}

/// The first overflows of the two runs differ (one has none, or they differ
/// in place, register or values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstOverflowDifference {
    /// A's first overflow.
    pub a: Option<OverflowEvent>,
    /// B's first overflow.
    pub b: Option<OverflowEvent>,
}

impl FirstOverflowDifference {
    /// The earlier of the two events' steps.
    pub fn step(&self) -> usize {
        let s = |e: &Option<OverflowEvent>| e.as_ref().map_or(usize::MAX, |e| e.step);
        s(&self.a).min(s(&self.b))
    }
}

/// The first (layer, register) whose overflow counts differ, in layer then
/// step order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountDifference {
    /// Layer name.
    pub layer: String,
    /// The register.
    pub register: Register,
    /// A's count.
    pub a: u64,
    /// B's count.
    pub b: u64,
    /// (layer, register) pairs whose counts differ.
    pub differing: usize,
}

/// One difference between two traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// They do not record the same layers, shapes or lengths.
    Structure(StructureDifference),
    /// A spike bit.
    Spike(SpikeDifference),
    /// A read-out voltage.
    Voltage(VoltageDifference),
    /// A host readout value.
    Readout(ReadoutDifference),
    /// The first overflow.
    FirstOverflow(FirstOverflowDifference),
    /// An overflow count.
    OverflowCount(CountDifference),
}

/// Everything in which B differs from A. With a structure difference
/// nothing else is compared (the counts are 0 and the rest `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The structure difference, if any.
    pub structure: Option<StructureDifference>,
    /// Spike bits compared (item × step × neuron over all layers).
    pub bits: u64,
    /// The earliest spike difference, in (step, layer, item, neuron) order.
    pub spikes: Option<SpikeDifference>,
    /// Read-out voltages compared.
    pub voltages: u64,
    /// The earliest voltage difference, in (step, layer, item, neuron) order.
    pub voltage: Option<VoltageDifference>,
    /// Host readout values compared.
    pub readout_values: u64,
    /// The earliest readout difference, in (step, readout, item, element) order.
    pub readout: Option<ReadoutDifference>,
    /// The first differing overflow count.
    pub counts: Option<CountDifference>,
    /// The first overflows, when they differ.
    pub first_overflow: Option<FirstOverflowDifference>,
}

impl Comparison {
    /// No difference at all (then the traces are `==`).
    pub fn is_equal(&self) -> bool {
        self.structure.is_none()
            && self.spikes.is_none()
            && self.voltage.is_none()
            && self.readout.is_none()
            && self.counts.is_none()
            && self.first_overflow.is_none()
    }

    /// The earliest difference: a structure difference first; then of the
    /// spike, voltage and first-overflow differences the one at the
    /// smallest step (on a tie the first overflow, which happens inside the
    /// step's update, then the spike, then the voltage, then the host
    /// readout, computed from the spikes); the overflow counts, which have no
    /// step, last.
    pub fn first(&self) -> Option<Difference> {
        if let Some(s) = &self.structure {
            return Some(Difference::Structure(s.clone()));
        }
        let timed = [
            self.first_overflow
                .as_ref()
                .map(|d| (d.step(), 0, Difference::FirstOverflow(d.clone()))),
            self.spikes.as_ref().map(|d| (d.step, 1, Difference::Spike(d.clone()))),
            self.voltage
                .as_ref()
                .map(|d| (d.step, 2, Difference::Voltage(d.clone()))),
            self.readout
                .as_ref()
                .map(|d| (d.step, 3, Difference::Readout(d.clone()))),
        ];
        timed
            .into_iter()
            .flatten()
            .min_by_key(|(step, rank, _)| (*step, *rank))
            .map(|(_, _, d)| d)
            .or_else(|| self.counts.clone().map(Difference::OverflowCount))
    }
}

/// Everything in which B differs from A ([`Trace::compare`]).
pub(crate) fn compare(a: &Trace, b: &Trace) -> Comparison {
    if let Some(s) = structure(a, b) {
        return Comparison {
            structure: Some(s),
            ..Comparison::default()
        };
    }
    let (bits, spikes) = spikes(a, b);
    let (voltages, voltage) = voltages(a, b);
    let (readout_values, readout) = readouts(a, b);
    Comparison {
        structure: None,
        bits,
        spikes,
        voltages,
        voltage,
        readout_values,
        readout,
        counts: counts(a, b),
        first_overflow: (a.first_overflow != b.first_overflow).then(|| FirstOverflowDifference {
            a: a.first_overflow.clone(),
            b: b.first_overflow.clone(),
        }),
    }
}

/// The first structure difference: batch, steps, the layer list, then per
/// layer its shape, kind and record lengths.
fn structure(a: &Trace, b: &Trace) -> Option<StructureDifference> {
    use StructureDifference as S;
    if a.batch != b.batch {
        return Some(S::Batch { a: a.batch, b: b.batch });
    }
    if a.steps != b.steps {
        return Some(S::Steps { a: a.steps, b: b.steps });
    }
    let has = |t: &Trace, name: &str| t.layers.iter().any(|l| l.name == name);
    for index in 0..a.layers.len().max(b.layers.len()) {
        match (a.layers.get(index), b.layers.get(index)) {
            (Some(la), Some(lb)) if la.name == lb.name => {}
            (Some(la), _) if !has(b, &la.name) => {
                return Some(S::MissingLayer {
                    layer: la.name.clone(),
                    index,
                });
            }
            (_, Some(lb)) if !has(a, &lb.name) => {
                return Some(S::ExtraLayer {
                    layer: lb.name.clone(),
                    index,
                });
            }
            (Some(la), Some(lb)) => {
                return Some(S::LayerOrder {
                    index,
                    a: la.name.clone(),
                    b: lb.name.clone(),
                });
            }
            // One side is longer and all its names occur in the other:
            // a duplicated name.
            (Some(l), None) => {
                return Some(S::MissingLayer {
                    layer: l.name.clone(),
                    index,
                });
            }
            (None, Some(l)) => {
                return Some(S::ExtraLayer {
                    layer: l.name.clone(),
                    index,
                });
            }
            (None, None) => {}
        }
    }
    for index in 0..a.readouts.len().max(b.readouts.len()) {
        let (ra, rb) = (a.readouts.get(index), b.readouts.get(index));
        let same = matches!((ra, rb), (Some(x), Some(y)) if x.name == y.name && x.shape == y.shape);
        if !same {
            return Some(S::Readouts {
                index,
                a: ra.map(|r| r.name.clone()),
                b: rb.map(|r| r.name.clone()),
            });
        }
    }
    let expected = a.batch.saturating_mul(a.steps);
    for (side, t) in [("A", a), ("B", b)] {
        for r in &t.readouts {
            let want = expected.saturating_mul(r.elements());
            if r.values.len() != want {
                return Some(S::Length {
                    layer: r.name.clone(),
                    field: "readout values",
                    side,
                    len: r.values.len(),
                    expected: want,
                });
            }
        }
    }
    for (la, lb) in a.layers.iter().zip(&b.layers) {
        if la.shape != lb.shape {
            return Some(S::Shape {
                layer: la.name.clone(),
                a: la.shape.clone(),
                b: lb.shape.clone(),
            });
        }
        if la.voltages.is_some() != lb.voltages.is_some() {
            return Some(S::Readout {
                layer: la.name.clone(),
                a: la.voltages.is_some(),
                b: lb.voltages.is_some(),
            });
        }
        let want = expected.saturating_mul(la.neurons());
        for (side, l) in [("A", la), ("B", lb)] {
            let lengths = [
                ("spikes", Some(l.spikes.len())),
                ("voltages", l.voltages.as_ref().map(Vec::len)),
            ];
            for (field, len) in lengths {
                if let Some(len) = len.filter(|&len| len != want) {
                    return Some(S::Length {
                        layer: l.name.clone(),
                        field,
                        side,
                        len,
                        expected: want,
                    });
                }
            }
        }
    }
    None
}

/// The place of a difference: (step, layer, item, neuron), compared in that order.
type At = (usize, usize, usize, usize);

/// Spike bits compared, and the earliest differing one with the count of all.
fn spikes(a: &Trace, b: &Trace) -> (u64, Option<SpikeDifference>) {
    let mut bits = 0u64;
    let mut differing = 0u64;
    let mut first: Option<At> = None;
    for (k, (la, lb)) in a.layers.iter().zip(&b.layers).enumerate() {
        bits += la.spikes.len() as u64;
        if la.spikes == lb.spikes {
            continue;
        }
        let n = la.neurons();
        let per_item = a.steps * n;
        for item in 0..a.batch {
            let r = item * per_item..(item + 1) * per_item;
            let (sa, sb) = (&la.spikes[r.clone()], &lb.spikes[r]);
            if sa == sb {
                continue;
            }
            let (count, at) = first_differing_bit(sa, sb);
            differing += count;
            if let Some(at) = at {
                let here = (at / n, k, item, at % n);
                first = Some(first.map_or(here, |f| f.min(here)));
            }
        }
    }
    let diff = first.map(|(step, k, item, neuron)| {
        let at = (item * a.steps + step) * a.layers[k].neurons() + neuron;
        SpikeDifference {
            layer: a.layers[k].name.clone(),
            batch_item: item,
            step,
            neuron,
            a_spiked: a.layers[k].spikes[at],
            b_spiked: b.layers[k].spikes[at],
            differing_bits: differing,
        }
    });
    (bits, diff)
}

/// Differing bits of two equal-length slices, and the first one's index.
fn first_differing_bit(a: &BitSlice, b: &BitSlice) -> (u64, Option<usize>) {
    let mut x = a.to_bitvec();
    x ^= b;
    (x.count_ones() as u64, x.first_one())
}

/// Read-out voltages compared, and the earliest differing one with the
/// count of all.
fn voltages(a: &Trace, b: &Trace) -> (u64, Option<VoltageDifference>) {
    let mut compared = 0u64;
    let mut differing = 0u64;
    let mut first: Option<At> = None;
    for (k, (la, lb)) in a.layers.iter().zip(&b.layers).enumerate() {
        let (Some(va), Some(vb)) = (&la.voltages, &lb.voltages) else {
            continue;
        };
        compared += va.len() as u64;
        if va == vb {
            continue;
        }
        let n = la.neurons();
        let per_item = a.steps * n;
        for item in 0..a.batch {
            let r = item * per_item..(item + 1) * per_item;
            let (sa, sb) = (&va[r.clone()], &vb[r]);
            differing += sa.iter().zip(sb).filter(|(x, y)| x != y).count() as u64;
            if let Some(at) = sa.iter().zip(sb).position(|(x, y)| x != y) {
                let here = (at / n, k, item, at % n);
                first = Some(first.map_or(here, |f| f.min(here)));
            }
        }
    }
    let diff = first.map(|(step, k, item, neuron)| {
        let at = (item * a.steps + step) * a.layers[k].neurons() + neuron;
        let v = |l: &crate::LayerTrace| l.voltages.as_ref().map_or(0, |v| v[at]);
        VoltageDifference {
            layer: a.layers[k].name.clone(),
            batch_item: item,
            step,
            neuron,
            a: v(&a.layers[k]),
            b: v(&b.layers[k]),
            differing,
        }
    });
    (compared, diff)
}

/// Host readout values compared, and the earliest differing one (by bits)
/// with the count of all.
fn readouts(a: &Trace, b: &Trace) -> (u64, Option<ReadoutDifference>) {
    let mut compared = 0u64;
    let mut differing = 0u64;
    let mut first: Option<At> = None;
    for (k, (ra, rb)) in a.readouts.iter().zip(&b.readouts).enumerate() {
        compared += ra.values.len() as u64;
        if ra == rb {
            continue;
        }
        let n = ra.elements();
        let per_item = a.steps * n;
        for item in 0..a.batch {
            let r = item * per_item..(item + 1) * per_item;
            let (sa, sb) = (&ra.values[r.clone()], &rb.values[r]);
            let differs = |(x, y): (&f64, &f64)| x.to_bits() != y.to_bits();
            differing += sa.iter().zip(sb).filter(|&p| differs(p)).count() as u64;
            if let Some(at) = sa.iter().zip(sb).position(differs) {
                let here = (at / n, k, item, at % n);
                first = Some(first.map_or(here, |f| f.min(here)));
            }
        }
    }
    let diff = first.map(|(step, k, item, element)| {
        let at = (item * a.steps + step) * a.readouts[k].elements() + element;
        ReadoutDifference {
            readout: a.readouts[k].name.clone(),
            batch_item: item,
            step,
            element,
            a: a.readouts[k].values[at],
            b: b.readouts[k].values[at],
            differing,
        }
    });
    (compared, diff)
}

/// The first (layer, register) whose counts differ, with the number of such pairs.
fn counts(a: &Trace, b: &Trace) -> Option<CountDifference> {
    let mut all = a.layers.iter().zip(&b.layers).flat_map(|(la, lb)| {
        Register::ALL.into_iter().filter_map(move |r| {
            let (x, y) = (la.overflows.get(r), lb.overflows.get(r));
            (x != y).then_some((la.name.as_str(), r, x, y))
        })
    });
    let (layer, register, x, y) = all.next()?;
    Some(CountDifference {
        layer: layer.to_string(),
        register,
        a: x,
        b: y,
        differing: 1 + all.count(),
    })
}

impl fmt::Display for StructureDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StructureDifference as S;
        match self {
            S::Batch { a, b } => write!(f, "A runs {a} samples, B {b}"),
            S::Steps { a, b } => write!(f, "A runs {a} steps, B {b}"),
            S::MissingLayer { layer, index } => write!(f, "B has no layer `{layer}` (layer {index} of A)"),
            S::ExtraLayer { layer, index } => write!(f, "A has no layer `{layer}` (layer {index} of B)"),
            S::LayerOrder { index, a, b } => write!(f, "layer {index} is `{a}` in A but `{b}` in B"),
            S::Shape { layer, a, b } => write!(f, "layer `{layer}` has shape {a:?} in A but {b:?} in B"),
            S::Readout { layer, a, b } => {
                let kind = |v: bool| if v { "voltages" } else { "spikes" };
                write!(f, "layer `{layer}`: A records {}, B {}", kind(*a), kind(*b))
            }
            S::Readouts { index, a, b } => {
                let name = |x: &Option<String>| x.as_ref().map_or_else(|| "none".to_string(), |n| format!("`{n}`"));
                write!(f, "host readout {index} is {} in A but {} in B", name(a), name(b))
            }
            S::Length {
                layer,
                field,
                side,
                len,
                expected,
            } => write!(
                f,
                "layer `{layer}`: {side}'s {field} hold {len} values, batch × steps × neurons is {expected}"
            ),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spiked = |s: bool| if s { "spiked" } else { "silent" };
        let event = |e: &Option<OverflowEvent>| e.as_ref().map_or_else(|| "none".to_string(), |e| e.to_string());
        match self {
            Difference::Structure(s) => write!(f, "structure: {s}"),
            Difference::Spike(d) => write!(
                f,
                "spikes: first in layer `{}`, neuron {}, step {}, sample {}: A {} / B {}; {} bits differ",
                d.layer,
                d.neuron,
                d.step,
                d.batch_item,
                spiked(d.a_spiked),
                spiked(d.b_spiked),
                d.differing_bits
            ),
            Difference::Voltage(d) => write!(
                f,
                "read-out voltages: first in layer `{}`, neuron {}, step {}, sample {}: A {} / B {}; {} voltages \
                 differ",
                d.layer, d.neuron, d.step, d.batch_item, d.a, d.b, d.differing
            ),
            Difference::Readout(d) => write!(
                f,
                "host readout values: first in readout `{}`, element {}, step {}, sample {}: A {:e} / B {:e}; {} \
                 values differ",
                d.readout, d.element, d.step, d.batch_item, d.a, d.b, d.differing
            ),
            Difference::FirstOverflow(d) => {
                write!(f, "first overflow: A {} / B {}", event(&d.a), event(&d.b))
            }
            Difference::OverflowCount(d) => write!(
                f,
                "overflow counts: layer `{}`, register {}: A {} / B {}; {} (layer, register) counts differ",
                d.layer, d.register, d.a, d.b, d.differing
            ),
        }
    }
}
