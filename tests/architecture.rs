//! The shape of the crate, checked on its source: the top-level modules of `src/` depend on
//! each other in one direction only (no cycle), and only `http` knows actix.
//!
//! A module `a` depends on `b` when a file under `src/a` (or `src/a.rs`) names `crate::b`,
//! directly or inside a `use crate::{..}` group. Comments are ignored.

#![allow(
    clippy::expect_used,
    reason = "a test reads the source tree; a read failure is a test failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules: every directory and every `.rs` file of `src/` but the crate roots.
fn top_modules() -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for entry in fs::read_dir(src_dir()).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_dir()
            || (path.extension().is_some_and(|e| e == "rs") && stem != "lib" && stem != "main")
        {
            modules.insert(stem.to_string());
        }
    }
    modules
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("directory is readable") {
            rust_files(&entry.expect("entry").path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The source without `//` comments (doc comments included), so prose naming a module does not
/// count as a dependency.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named after `crate::` in `code`, including every first-level name
/// of a `crate::{a, b::c}` group.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut first_of_item = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        if first_of_item && !item.is_empty() {
                            names.insert(std::mem::take(&mut item));
                        }
                        first_of_item = true;
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && first_of_item {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        names.insert(std::mem::take(&mut item));
                        first_of_item = false;
                    }
                }
            }
            if !item.is_empty() {
                names.insert(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// For each top-level module, the other top-level modules it names.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = top_modules();
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut files = Vec::new();
        rust_files(&src_dir().join(module), &mut files);
        rust_files(&src_dir().join(format!("{module}.rs")), &mut files);
        let mut uses = BTreeSet::new();
        for file in files {
            let text = fs::read_to_string(&file).expect("source is UTF-8");
            for name in crate_references(&code_of(&text)) {
                if &name != module && modules.contains(&name) {
                    uses.insert(name);
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle of the graph, as the list of modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_depend_in_one_direction() {
    let graph = module_graph();
    let printed: Vec<String> = graph
        .iter()
        .map(|(m, uses)| {
            format!(
                "{m} -> {}",
                uses.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "module cycle: {}\nthe graph:\n{}",
            cycle.join(" -> "),
            printed.join("\n")
        );
    }
}

#[test]
fn nothing_imports_the_configuration_assembly() {
    let graph = module_graph();
    let importers: Vec<&String> = graph
        .iter()
        .filter(|(m, uses)| m.as_str() != "http" && uses.contains("config"))
        .map(|(m, _)| m)
        .collect();
    assert!(
        importers.is_empty(),
        "modules below http import config: {importers:?}"
    );
}

mod reference_parsing {
    use super::*;

    #[test]
    fn paths_and_groups_are_read() {
        let names = crate_references(
            "use crate::catalog::Layer;\nuse crate::{error::Result, index, geom::{bbox::BBox}};\nlet x = crate::tiles::f();",
        );
        let expected: BTreeSet<String> = ["catalog", "error", "index", "geom", "tiles"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn comments_and_longer_identifiers_are_not_references() {
        let code =
            code_of("//! see [`crate::store`]\nlet a = 1; // crate::query\nuse mycrate::http;");
        assert!(crate_references(&code).is_empty());
    }

    #[test]
    fn a_cycle_is_found_and_a_chain_is_not() {
        let chain: BTreeMap<String, BTreeSet<String>> = [
            ("a".to_string(), ["b".to_string()].into()),
            ("b".to_string(), ["c".to_string()].into()),
            ("c".to_string(), BTreeSet::new()),
        ]
        .into();
        assert!(find_cycle(&chain).is_none());
        let mut cyclic = chain;
        cyclic.insert("c".to_string(), ["a".to_string()].into());
        assert_eq!(
            find_cycle(&cyclic),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }
}
