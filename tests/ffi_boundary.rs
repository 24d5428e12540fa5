//! docs/ABI.md, "The boundary in the source": every `extern "C"` function's
//! body is the `ffi!` macro, so that no code of an export runs outside the
//! panic boundary. Reads the sources of `src/ffi/`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_export_body_is_the_ffi_macro() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi"), &mut files);
    let (mut exports, mut outside) = (0, Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text
            .match_indices("\npub unsafe extern \"C\" fn c10k_")
            .chain(text.match_indices("\npub extern \"C\" fn c10k_"))
        {
            exports += 1;
            let rest = &text[i..];
            let name: String = rest[rest.find("fn ").unwrap() + 3..].chars().take_while(|c| *c != '(').collect();
            // The body starts after the signature's `{` that ends a line.
            let body = &rest[rest.find("{\n").expect("a body") + 2..];
            let first = body.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("//")).unwrap();
            if !first.starts_with("ffi!(") {
                outside.push(format!("{name}: {first}"));
            }
        }
    }
    assert!(exports > 60, "found only {exports} exports: is the scan broken?");
    assert!(outside.is_empty(), "export bodies must be ffi!(...): {outside:#?}");
}
