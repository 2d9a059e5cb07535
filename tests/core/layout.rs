//! The house rules, checked: every import in `src/` points down the flow (ingest → requests → diagnose → alert →
//! remediate → suppress → publish → lambda → input → report), no two files import each other in a circle, and
//! `docs/development.md` names every source file that exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use super::repo_path;

/// The stages in the order data flows through them; a file's stage is its top-level module.
const FLOW: &[&str] = &[
    "signature",
    "aws_error",
    "ingest",
    "requests",
    "diagnose",
    "alert",
    "remediate",
    "suppress",
    "publish",
    "subscribe",
    "audit",
    "lambda",
    "input",
    "fetch",
    "report",
];

/// `src/a/b.rs` → `["a", "b"]`, `src/a/mod.rs` → `["a"]`.
fn module_path(file: &str) -> Vec<String> {
    let rel = file.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn library_files() -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(repo_path("")).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_path("src"), &mut files);
    files
        .into_iter()
        .filter(|f| !f.starts_with("src/bin/"))
        .map(|f| (module_path(&f), f))
        .collect()
}

/// The module paths one file imports (`crate::…` and `super::…`), outside its `#[cfg(test)]` module and doc text.
fn imports(file: &str, module: &[String]) -> BTreeSet<Vec<String>> {
    let text = fs::read_to_string(repo_path(file)).unwrap();
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for line in code.lines().map(str::trim_start) {
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            if at > 0 && line.as_bytes()[at - 1].is_ascii_alphanumeric() {
                continue;
            }
            let path: Vec<&str> = line[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let mut resolved: Vec<String> = match path.first() {
                Some(&"crate") => Vec::new(),
                Some(&"super") => module[..module.len().saturating_sub(1)].to_vec(),
                _ => continue,
            };
            resolved.extend(path[1..].iter().map(|s| s.to_string()));
            out.insert(resolved);
        }
    }
    out
}

/// The file-level import graph: each file → the files whose items it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = library_files();
    let mut graph = BTreeMap::new();
    for (module, file) in &files {
        let mut targets = BTreeSet::new();
        for path in imports(file, module) {
            // The longest prefix of the path that is a module file is the file imported.
            let target = (1..=path.len())
                .rev()
                .find_map(|n| files.get(&path[..n]))
                .filter(|t| *t != file);
            if let Some(t) = target {
                targets.insert(t.clone());
            }
        }
        graph.insert(file.clone(), targets);
    }
    graph
}

fn stage(file: &str) -> usize {
    let top = module_path(file).first().cloned().unwrap_or_default();
    FLOW.iter()
        .position(|s| *s == top)
        .unwrap_or_else(|| panic!("{file}: stage {top:?} is not in the flow"))
}

#[test]
fn every_import_points_down_the_flow() {
    let upward: Vec<String> = graph()
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |t| (from, t)))
        .filter(|(from, to)| stage(to) > stage(from))
        .map(|(from, to)| format!("{from} → {to}"))
        .collect();
    // None is needed: a lower stage defines its own settings type and the caller hands the value in.
    assert!(upward.is_empty(), "imports up the flow: {upward:#?}");
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let graph = graph();
    // Depth-first search with colours: grey = on the current path.
    fn visit<'g>(
        node: &'g str,
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<&'g str, u8>,
        path: &mut Vec<&'g str>,
    ) -> Option<Vec<String>> {
        colour.insert(node, 1);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match colour.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| *p == next).unwrap_or(0);
                    let mut circle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, colour, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        colour.insert(node, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for node in graph.keys() {
        if !colour.contains_key(node.as_str()) {
            let circle = visit(node, &graph, &mut colour, &mut Vec::new());
            assert!(circle.is_none(), "a circle of imports: {circle:?}");
        }
    }
}

#[test]
fn each_stage_is_a_folder_and_the_development_doc_names_every_file() {
    let folders = fs::read_dir(repo_path("src"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
        - 1; // src/bin/ is not a stage
    assert!(folders >= 6, "{folders} folders under src/");
    let doc = fs::read_to_string(repo_path("docs/development.md")).unwrap();
    let mut files: Vec<String> = library_files().into_values().collect();
    files.extend(["src/bin/bootstrap.rs".into()]);
    files.extend(
        fs::read_dir(repo_path("src/bin/apigw-doctor"))
            .unwrap()
            .map(|e| {
                format!(
                    "src/bin/apigw-doctor/{}",
                    e.unwrap().file_name().to_string_lossy()
                )
            }),
    );
    let missing: Vec<&String> = files.iter().filter(|f| !doc.contains(f.as_str())).collect();
    assert!(
        missing.is_empty(),
        "not in docs/development.md: {missing:?}"
    );
}

#[test]
fn every_link_in_the_readme_and_docs_resolves_inside_the_repo() {
    let mut pages = vec![repo_path("README.md"), repo_path("events/README.md")];
    for entry in fs::read_dir(repo_path("docs")).unwrap() {
        pages.push(entry.unwrap().path());
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for (at, _) in text.match_indices("](") {
            let target = text[at + 2..].split(')').next().unwrap_or("");
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            if !page.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links that go nowhere: {broken:#?}");
    let readme = fs::read_to_string(repo_path("README.md")).unwrap();
    // The top screen decides: the README stays short and the detail lives in docs/.
    assert!(
        readme.lines().count() <= 250,
        "README.md is {} lines",
        readme.lines().count()
    );
}
