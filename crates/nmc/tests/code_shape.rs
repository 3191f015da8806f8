//! The shape of the code (issue 16, docs/architecture.md "Cross-cutting
//! rules"): no source file over 800 lines, no function over 150 lines, and no
//! file-level import cycle inside a crate. Generated code (`@generated`) and
//! tests (`tests/`, `#[cfg(test)]` modules) are exempt.
//!
//! The lists below held the offenders the rule started with (24 functions,
//! 9 files, 4 cycles; all fixed by the issue-16 split). They only shrink: an
//! offender that grows fails, an item that is now within the limit fails
//! until its entry is removed, and a new offender fails. They are empty now;
//! keep them so.

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use proc_macro2::Span;
use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

#[path = "common/code.rs"]
mod code;
use code::{is_cfg_test, sources};

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 150;

/// Files over the limit today: (path from the workspace root, lines).
const LONG_FILES: &[(&str, usize)] = &[];

/// Functions over the limit today: (file, function, lines).
const LONG_FNS: &[(&str, &str, usize)] = &[];

/// Import cycles today, each as its sorted files.
const CYCLES: &[&[&str]] = &[];

/// Function lengths of one file, from the `fn` line to the closing brace.
#[derive(Default)]
struct Fns {
    found: Vec<(String, usize)>,
}

impl Fns {
    fn note(&mut self, name: &syn::Ident, start: Span, end: Span) {
        let n = end.end().line - start.start().line + 1;
        self.found.push((name.to_string(), n));
    }
}

impl<'a> Visit<'a> for Fns {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.note(&f.sig.ident, f.sig.fn_token.span, f.block.brace_token.span.close());
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.note(&f.sig.ident, f.sig.fn_token.span, f.block.brace_token.span.close());
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        if let Some(b) = &f.default {
            self.note(&f.sig.ident, f.sig.fn_token.span, b.brace_token.span.close());
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

fn parse(file: &str, text: &str) -> syn::File {
    syn::parse_file(text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn no_source_file_over_800_lines() {
    let allowed: BTreeMap<&str, usize> = LONG_FILES.iter().copied().collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, text) in sources() {
        let n = text.lines().count();
        match allowed.get(file.as_str()) {
            Some(&was) => {
                seen.insert(file.clone());
                if n > was {
                    problems.push(format!(
                        "{file}: {n} lines, grew from {was} (limit {MAX_FILE_LINES}): split it"
                    ));
                } else if n <= MAX_FILE_LINES {
                    problems.push(format!(
                        "{file}: now {n} lines, within the limit: remove it from LONG_FILES"
                    ));
                }
            }
            None if n > MAX_FILE_LINES => problems.push(format!(
                "{file}: {n} lines (limit {MAX_FILE_LINES}): split it by concern"
            )),
            None => {}
        }
    }
    for f in allowed.keys() {
        if !seen.contains(*f) {
            problems.push(format!("LONG_FILES lists {f}, which no longer exists: remove it"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn no_function_over_150_lines() {
    let allowed: BTreeMap<(&str, &str), usize> = LONG_FNS.iter().map(|&(f, n, l)| ((f, n), l)).collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, text) in sources() {
        let mut v = Fns::default();
        v.visit_file(&parse(&file, &text));
        for (name, n) in v.found {
            match allowed.get(&(file.as_str(), name.as_str())) {
                Some(&was) => {
                    seen.insert((file.clone(), name.clone()));
                    if n > was {
                        problems.push(format!("{file}: fn {name}: {n} lines, grew from {was}: split it"));
                    } else if n <= MAX_FN_LINES {
                        problems.push(format!("{file}: fn {name}: now {n} lines: remove it from LONG_FNS"));
                    }
                }
                None if n > MAX_FN_LINES => problems.push(format!(
                    "{file}: fn {name}: {n} lines (limit {MAX_FN_LINES}): split it into named steps"
                )),
                None => {}
            }
        }
    }
    for (f, n) in allowed.keys() {
        if !seen.contains(&(f.to_string(), n.to_string())) {
            problems.push(format!("LONG_FNS lists {f}: fn {n}, which no longer exists: remove it"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The module path of a source file inside its crate (`src/a/b.rs` and
/// `src/a/b/mod.rs` → `[a, b]`; `lib.rs`, `main.rs` → `[]`).
fn module_of(file: &str) -> (String, Vec<String>) {
    let (krate, rest) = file.split_once("/src/").expect("crates/X/src/…");
    let mut parts: Vec<String> = rest.trim_end_matches(".rs").split('/').map(String::from).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
        parts.pop();
    }
    (krate.to_string(), parts)
}

/// Paths starting with `crate`, `super` or `self` that a file uses, resolved
/// to absolute module paths (the item's path, longer than its module).
#[derive(Default)]
struct Uses {
    module: Vec<String>,
    found: Vec<Vec<String>>,
}

impl Uses {
    fn resolve(&self, segs: &[String]) -> Option<Vec<String>> {
        let mut base = self.module.clone();
        let mut i = 0;
        match segs.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                i = 1;
            }
            Some("super") | Some("self") => {
                while let Some(s) = segs.get(i) {
                    match s.as_str() {
                        "super" => {
                            base.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    i += 1;
                }
            }
            _ => return None,
        }
        base.extend(segs[i..].iter().cloned());
        Some(base)
    }

    fn tree(&mut self, prefix: &mut Vec<String>, t: &syn::UseTree) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                prefix.push("*".into());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(prefix, t);
                }
            }
        }
    }

    fn add(&mut self, segs: &[String]) {
        if let Some(p) = self.resolve(segs) {
            self.found.push(p);
        }
    }
}

impl<'a> Visit<'a> for Uses {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_cfg_test(&m.attrs) && m.content.is_none() {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        if !is_cfg_test(&u.attrs) {
            self.tree(&mut Vec::new(), &u.tree);
        }
    }
    fn visit_path(&mut self, p: &'a syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segs);
        syn::visit::visit_path(self, p);
    }
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }
}

#[test]
fn no_import_cycle_between_files_of_a_crate() {
    let files = sources();
    let modules: BTreeMap<(String, Vec<String>), String> =
        files.iter().map(|(f, _)| (module_of(f), f.clone())).collect();
    let mut g = DiGraph::<String, ()>::new();
    let idx: BTreeMap<String, _> = files.iter().map(|(f, _)| (f.clone(), g.add_node(f.clone()))).collect();
    for (file, text) in &files {
        let (krate, module) = module_of(file);
        let mut v = Uses {
            module: module.clone(),
            found: Vec::new(),
        };
        v.visit_file(&parse(file, text));
        let mut targets = BTreeSet::new();
        for path in v.found {
            // The longest prefix of the path that is a file of this crate.
            let target = (0..=path.len())
                .rev()
                .find_map(|n| modules.get(&(krate.clone(), path[..n].to_vec())));
            if let Some(t) = target
                && t != file
                // A module's use of its own children is its interface, not a cycle.
                && !module_of(t).1.starts_with(&module)
            {
                targets.insert(t.clone());
            }
        }
        for t in targets {
            g.add_edge(idx[file], idx[&t], ());
        }
    }
    let mut found: Vec<Vec<String>> = tarjan_scc(&g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut v: Vec<String> = c.iter().map(|&i| g[i].clone()).collect();
            v.sort();
            v
        })
        .collect();
    found.sort();
    let known: Vec<Vec<String>> = CYCLES
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    let new: Vec<_> = found.iter().filter(|c| !known.contains(c)).collect();
    let gone: Vec<_> = known.iter().filter(|c| !found.contains(c)).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "import cycles (files that import each other, directly or around a ring) not in CYCLES: {new:#?}\n\
         CYCLES entries no longer found (remove them): {gone:#?}"
    );
}
