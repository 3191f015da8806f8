//! Splicing out subgraph ports: edges through Input/Output nodes of nested
//! subgraphs are reconnected to the real nodes on either side.

use super::{Edge, Port};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Removes the port nodes: each edge `a -> port` becomes `a -> t` for every
/// real node `t` the port forwards to (through chains of ports), edges out
/// of ports are dropped. Also returns, for each port, the real nodes whose
/// value flows into it.
pub(super) fn splice(
    edges: &[(String, String)],
    ports: &BTreeMap<String, Port>,
) -> (Vec<Edge>, BTreeMap<String, Vec<String>>) {
    let is_port = |n: &str| ports.contains_key(n);
    // Edges by source and by destination, in edge order: a walk looks at the
    // edges of one node, not at all of them (chains of subgraphs made the
    // scan-everything version cubic in the number of ports).
    let mut by_src: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_dst: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, d) in edges {
        by_src.entry(s.as_str()).or_default().push(d.as_str());
        by_dst.entry(d.as_str()).or_default().push(s.as_str());
    }
    // Depth-first through ports (an explicit stack: chains can be long),
    // collecting real nodes in edge order, each once.
    let reach = |start: &str, forward: bool| -> Vec<String> {
        let adj = if forward { &by_src } else { &by_dst };
        let next = |n: &str| adj.get(n).map_or(&[][..], Vec::as_slice);
        let mut out = Vec::new();
        let mut listed: HashSet<&str> = HashSet::new();
        let mut seen: HashSet<&str> = HashSet::from([start]);
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some((at, k)) = stack.pop() {
            let Some(&to) = next(at).get(k) else { continue };
            stack.push((at, k + 1));
            if is_port(to) {
                if seen.insert(to) {
                    stack.push((to, 0));
                }
            } else if listed.insert(to) {
                out.push(to.to_string());
            }
        }
        out
    };
    // Each port's reach, computed once bottom-up (linear for chains of
    // subgraphs); the walk above is the definition and the fallback when
    // ports form a cycle.
    let fwd = memo_reach(&by_src, &is_port, ports.keys().map(String::as_str));
    let bwd = memo_reach(&by_dst, &is_port, ports.keys().map(String::as_str));
    let reach = |start: &str, forward: bool| -> Vec<String> {
        match (if forward { &fwd } else { &bwd }).as_ref().and_then(|m| m.get(start)) {
            Some(r) => r.iter().map(|t| t.to_string()).collect(),
            None => reach(start, forward),
        }
    };
    let mut out = Vec::with_capacity(edges.len());
    for (s, d) in edges {
        if is_port(s) {
            continue;
        }
        if is_port(d) {
            for t in reach(d, true) {
                out.push((s.clone(), t));
            }
        } else {
            out.push((s.clone(), d.clone()));
        }
    }
    let sources = ports.keys().map(|p| (p.clone(), reach(p, false))).collect();
    (out, sources)
}

/// For every port, the real nodes reachable through ports along `adj`, in the
/// order of [`splice`]'s depth-first walk, each once: a port's list is the
/// ordered union of its successors' (a real node stands for itself), computed
/// after them with an explicit stack. For a graph of ports without cycles
/// this equals the walk; `None` when ports form a cycle (the caller walks).
fn memo_reach<'a>(
    adj: &HashMap<&'a str, Vec<&'a str>>,
    is_port: &dyn Fn(&str) -> bool,
    ports: impl Iterator<Item = &'a str>,
) -> Option<HashMap<&'a str, Vec<&'a str>>> {
    let next = |n: &str| adj.get(n).map_or(&[][..], Vec::as_slice);
    let mut done: HashMap<&'a str, Vec<&'a str>> = HashMap::new();
    let mut open: HashSet<&'a str> = HashSet::new();
    for root in ports {
        if done.contains_key(root) {
            continue;
        }
        open.insert(root);
        let mut stack: Vec<(&'a str, usize)> = vec![(root, 0)];
        while let Some(&mut (at, ref mut k)) = stack.last_mut() {
            if let Some(&to) = next(at).get(*k) {
                *k += 1;
                if is_port(to) && !done.contains_key(to) {
                    if !open.insert(to) {
                        return None; // a cycle of ports
                    }
                    stack.push((to, 0));
                }
                continue;
            }
            stack.pop();
            open.remove(at);
            let mut list = Vec::new();
            let mut listed = HashSet::new();
            for &to in next(at) {
                let items: &[&'a str] = if is_port(to) {
                    done.get(to).map_or(&[][..], Vec::as_slice)
                } else {
                    std::slice::from_ref(&to)
                };
                for &t in items {
                    if listed.insert(t) {
                        list.push(t);
                    }
                }
            }
            done.insert(at, list);
        }
    }
    Some(done)
}
