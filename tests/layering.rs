//! docs/ARCHITECTURE.md: "each layer uses only the ones below it". This
//! test reads every `crate::<module>` a module of `src/` names and checks
//! it against the order of the layers, so that an upward use fails here.
//! There are no exceptions: the reactor holds sources behind its `Source`
//! trait, and a listener hands accepted sockets to an intake from above.

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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let Some(user) = module_of(&file, &src) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap();
            for part in code.split("crate::").skip(1) {
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
