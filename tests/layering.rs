//! docs/ARCHITECTURE.md: "each layer uses only the ones below it". This
//! test reads every `crate::<module>` a module of `src/` names and checks
//! it against the order of the layers, so that an upward use fails here.
//! Layers add methods to `Loop` (`impl Loop` in `conn`, `net`, `http`), so
//! it also checks that no layer calls a `Loop` method only a layer above it
//! defines. There are no exceptions: the reactor holds sources behind its
//! `Source` trait, and a listener hands accepted sockets to an intake from
//! above.

use std::collections::BTreeSet;
use std::path::Path;

/// The layers from the bottom up; `error` is below them all.
const LAYERS: [&str; 8] = ["error", "reactor", "net", "conn", "http", "ws", "server", "ffi"];

/// The top-level module a file under `src/` belongs to.
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_string())
}

/// Every file under `src/` with its top-level module (`lib.rs` left out).
fn modules() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module = |file: &std::path::PathBuf| Some((module_of(file, &src)?, std::fs::read_to_string(file).unwrap()));
    files.iter().filter_map(module).collect()
}

/// The code of a line, without its comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every (user, used) pair of top-level modules, from `crate::x` in code
/// (comments skipped).
fn uses() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (user, text) in modules() {
        for line in text.lines() {
            for part in code(line).split("crate::").skip(1) {
                let used: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if LAYERS.contains(&used.as_str()) && used != user {
                    found.insert((user.clone(), used));
                }
            }
        }
    }
    found
}

fn rank(module: &str) -> usize {
    LAYERS.iter().position(|m| *m == module).unwrap_or_else(|| panic!("{module} is not in LAYERS: place it"))
}

#[test]
fn each_layer_uses_only_the_ones_below_it() {
    let uses = uses();
    assert!(uses.len() > 10, "found only {uses:?}: is the scan broken?");
    let upward: Vec<_> = uses.into_iter().filter(|(user, used)| rank(used) > rank(user)).collect();
    assert!(upward.is_empty(), "modules use layers above them (docs/ARCHITECTURE.md): {upward:?}");
}

/// The methods each layer adds to `Loop`, as (name, layer): every `fn`
/// directly inside an `impl Loop` block (rustfmt's layout: the block
/// closes with a `}` at the start of a line).
fn loop_methods(modules: &[(String, String)]) -> Vec<(String, String)> {
    let mut methods = Vec::new();
    for (module, text) in modules {
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("impl Loop {") {
                inside = true;
            } else if line.starts_with('}') {
                inside = false;
            } else if inside {
                let item = line.strip_prefix("    ").unwrap_or("");
                let item = item.strip_prefix("pub(crate) ").or(item.strip_prefix("pub ")).unwrap_or(item);
                if let Some(rest) = item.strip_prefix("fn ") {
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    methods.push((name, module.clone()));
                }
            }
        }
    }
    methods
}

#[test]
fn no_layer_calls_loop_methods_of_the_layers_above_it() {
    let modules = modules();
    let methods = loop_methods(&modules);
    assert!(
        methods.iter().any(|(name, layer)| name == "conn_write" && layer == "conn"),
        "the scan missed conn's methods"
    );
    assert!(methods.iter().any(|(name, layer)| name == "listener_close" && layer == "net"), "the scan missed net's");
    let lowest = |name: &str| methods.iter().filter(|(n, _)| n == name).map(|(_, layer)| rank(layer)).min();
    let mut upward = BTreeSet::new();
    for (user, text) in &modules {
        for line in text.lines() {
            let code = code(line);
            for (name, layer) in &methods {
                let called = code.contains(&format!(".{name}(")) || code.contains(&format!("Loop::{name}"));
                if called && lowest(name).unwrap() > rank(user) {
                    upward.insert((user.clone(), layer.clone(), name.clone()));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "Loop methods called from below the layer that adds them (user, layer, method): {upward:?}"
    );
}
