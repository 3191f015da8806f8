//! Cores to chips: keep the spike traffic between cores on chip
//! ([`assign_chips`]).

/// Assigns cores to chips. Two starts — cores filled into chips in order,
/// and chips grown one at a time from the lowest free core by repeatedly
/// adding the free core with the most traffic to the chip — are each
/// improved by swaps (or moves into free room) between chips while they
/// lower the traffic between chips; the better result is kept.
pub(super) fn assign_chips(n: usize, cpc: usize, chips: usize, traffic: &[(u32, u32, f64)]) -> Vec<usize> {
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in traffic {
        let (a, b) = (a as usize, b as usize);
        if a != b && a < n && b < n {
            adj[a].push((b, w));
            adj[b].push((a, w));
        }
    }
    for a in adj.iter_mut() {
        a.sort_by_key(|x| x.0);
        let mut merged: Vec<(usize, f64)> = Vec::with_capacity(a.len());
        for &(j, w) in a.iter() {
            match merged.last_mut() {
                Some(l) if l.0 == j => l.1 += w,
                _ => merged.push((j, w)),
            }
        }
        *a = merged;
    }
    let sequential: Vec<usize> = (0..n).map(|i| i / cpc).collect();
    let grown = grow_chips(n, cpc, chips, &adj);
    let a = refine_chips(sequential, cpc, chips, &adj);
    let b = refine_chips(grown, cpc, chips, &adj);
    let cut = |c: &[usize]| -> f64 {
        adj.iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |&(j, w)| (i, j, w)))
            .filter(|&(i, j, _)| c[i] != c[j])
            .map(|(_, _, w)| w)
            .sum()
    };
    if cut(&b) < cut(&a) { b } else { a }
}

/// Greedy graph growing: each chip starts from the lowest free core and
/// takes the free core most connected to it until full.
fn grow_chips(n: usize, cpc: usize, chips: usize, adj: &[Vec<(usize, f64)>]) -> Vec<usize> {
    use std::collections::BinaryHeap;
    struct Key(f64, std::cmp::Reverse<usize>);
    impl PartialEq for Key {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == std::cmp::Ordering::Equal
        }
    }
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
        }
    }
    let mut chip_of = vec![usize::MAX; n];
    let mut next_free = 0;
    for c in 0..chips {
        let mut gain = vec![0.0f64; 0];
        gain.resize(n, 0.0);
        let mut heap: BinaryHeap<Key> = BinaryHeap::new();
        let mut size = 0;
        while size < cpc {
            // The best connected free core, else the lowest free one.
            let mut pick = None;
            while let Some(Key(g, std::cmp::Reverse(j))) = heap.pop() {
                if chip_of[j] == usize::MAX && g == gain[j] {
                    pick = Some(j);
                    break;
                }
            }
            let j = match pick {
                Some(j) => j,
                None => {
                    while next_free < n && chip_of[next_free] != usize::MAX {
                        next_free += 1;
                    }
                    if next_free >= n {
                        break;
                    }
                    next_free
                }
            };
            chip_of[j] = c;
            size += 1;
            for &(x, w) in &adj[j] {
                if chip_of[x] == usize::MAX {
                    gain[x] += w;
                    heap.push(Key(gain[x], std::cmp::Reverse(x)));
                }
            }
        }
    }
    for c in chip_of.iter_mut() {
        if *c == usize::MAX {
            *c = chips - 1;
        }
    }
    chip_of
}

/// Swaps (or moves into free room) between chips while they lower the
/// traffic between chips.
fn refine_chips(mut chip_of: Vec<usize>, cpc: usize, chips: usize, adj: &[Vec<(usize, f64)>]) -> Vec<usize> {
    let n = chip_of.len();
    let mut load = vec![0usize; chips];
    for &c in &chip_of {
        load[c] += 1;
    }
    let ext = |chip_of: &[usize], a: usize, c: usize| -> f64 {
        adj[a].iter().filter(|&&(j, _)| chip_of[j] == c).map(|&(_, w)| w).sum()
    };
    for _pass in 0..8 {
        let mut improved = false;
        for a in 0..n {
            let own = chip_of[a];
            let w_own = ext(&chip_of, a, own);
            // Chips a talks to, by weight.
            let mut to: Vec<(usize, f64)> = Vec::new();
            for &(j, w) in &adj[a] {
                let c = chip_of[j];
                if c == own {
                    continue;
                }
                match to.iter_mut().find(|x| x.0 == c) {
                    Some(x) => x.1 += w,
                    None => to.push((c, w)),
                }
            }
            to.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            for &(c, w_c) in to.iter().take(3) {
                let d_a = w_c - w_own;
                if d_a <= 0.0 {
                    break;
                }
                if load[c] < cpc {
                    chip_of[a] = c;
                    load[c] += 1;
                    load[own] -= 1;
                    improved = true;
                    break;
                }
                let mut best: Option<(f64, usize)> = None;
                for b in 0..n {
                    if chip_of[b] != c {
                        continue;
                    }
                    let w_ab: f64 = adj[a].iter().filter(|&&(j, _)| j == b).map(|&(_, w)| w).sum();
                    let d_b = ext(&chip_of, b, own) - ext(&chip_of, b, c);
                    let gain = d_a + d_b - 2.0 * w_ab;
                    if gain > 1e-9 && best.is_none_or(|(g, _)| gain > g) {
                        best = Some((gain, b));
                    }
                }
                if let Some((_, b)) = best {
                    chip_of[a] = c;
                    chip_of[b] = own;
                    improved = true;
                    break;
                }
            }
        }
        if !improved {
            break;
        }
    }
    chip_of
}
