//! `include/c10k.h`: generated from the crate with cbindgen, committed, and
//! checked here for staleness, documentation and agreement with the library.
//!
//! `C10K_BLESS=1 cargo test --test header` (or `make header`) rewrites it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    root().join("include/c10k.h")
}

/// The version constants, from Cargo.toml and the ABI number.
fn version_defines() -> String {
    let part = |s: &str| s.parse::<u32>().expect("numeric version part");
    let (major, minor, patch) = (
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    );
    let hex = (major << 16) | (minor << 8) | patch;
    format!(
        "// The version of this header; c10k_version() and c10k_version_hex() give the library's.\n\
         #define C10K_VERSION_MAJOR {major}\n\
         #define C10K_VERSION_MINOR {minor}\n\
         #define C10K_VERSION_PATCH {patch}\n\
         // (MAJOR << 16) | (MINOR << 8) | PATCH, for comparisons in #if.\n\
         #define C10K_VERSION_HEX 0x{hex:06x}\n\
         // Compare with c10k_abi_version() at start-up: a mismatch means the\n\
         // program was built against an incompatible header.\n\
         #define C10K_ABI_VERSION {}\n",
        c10k::ffi::C10K_ABI_VERSION
    )
}

/// The error codes from the one table in `src/error.rs`, each with its message.
fn error_defines() -> String {
    let mut out = String::from("// Error codes: 0 or negative, see c10k_strerror() and c10k_err_name().\n");
    for (name, value, message) in c10k::error::ALL {
        writeln!(out, "#define {name} ({value}) // {message}").unwrap();
    }
    out
}

fn generate() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        // ffi/ holds every export (DESIGN.md); reading only it keeps the
        // core's internal constants out of the header.
        .with_src(root().join("src/ffi/mod.rs"))
        .with_after_include(format!("\n{}\n{}", version_defines(), error_defines()))
        .generate()
        .expect("cbindgen failed to generate the header");
    let mut bytes = Vec::new();
    bindings.write(&mut bytes);
    String::from_utf8(bytes).expect("UTF-8 header")
}

#[test]
fn committed_header_is_current() {
    let generated = generate();
    if std::env::var("C10K_BLESS").as_deref() == Ok("1") {
        std::fs::write(header_path(), &generated).expect("write include/c10k.h");
        return;
    }
    let committed = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "include/c10k.h is stale: the Rust sources changed the C API.\n\
         Regenerate it with `make header` (C10K_BLESS=1 cargo test --test header), \
         review the diff and commit it."
    );
}

/// Function declarations of the header, each with the comment block right above it.
fn declarations(header: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut comment = Vec::new();
    let mut lines = header.lines();
    while let Some(line) = lines.next() {
        if let Some(text) = line.strip_prefix("//") {
            comment.push(text.trim().to_string());
            continue;
        }
        if let Some(name) = function_name(line) {
            // Declarations may span lines; skip to the one that ends it.
            let mut end = line.to_string();
            while !end.trim_end().ends_with(';') {
                end = lines.next().expect("unterminated declaration").to_string();
            }
            found.push((name, std::mem::take(&mut comment)));
        } else {
            comment.clear();
        }
    }
    found
}

/// `c10k_x` for a line that opens a function declaration `... c10k_x(`.
fn function_name(line: &str) -> Option<String> {
    if line.starts_with(' ') || line.starts_with('#') || line.starts_with("typedef") {
        return None;
    }
    let open = line.find('(')?;
    let name = line[..open].rsplit([' ', '*']).next()?;
    name.starts_with("c10k_").then(|| name.to_string())
}

/// STYLE.md rule 8: the comment's last paragraph is one `Thread safety:` line.
fn ends_with_thread_safety(comment: &[String]) -> bool {
    match comment {
        [.., blank, last] => blank.is_empty() && last.starts_with("Thread safety:"),
        _ => false,
    }
}

#[test]
fn every_function_ends_its_comment_with_thread_safety() {
    let decls = declarations(&generate());
    assert!(decls.len() > 10, "found only {} declarations: is the parser broken?", decls.len());
    let undocumented: Vec<_> =
        decls.iter().filter(|(_, comment)| !ends_with_thread_safety(comment)).map(|(name, _)| name.as_str()).collect();
    assert!(undocumented.is_empty(), "doc comment must end with `Thread safety: ...`: {undocumented:?}");
}

/// The `c10k_*` functions the shared object exports.
fn exported_symbols(lib: &Path) -> BTreeSet<String> {
    let output = Command::new("nm")
        .args(["-D", "--defined-only", "--format=posix"])
        .arg(lib)
        .output()
        .expect("run nm (binutils)");
    assert!(output.status.success(), "nm failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| s.starts_with("c10k_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn shared_object_exports_exactly_the_header_functions() {
    // Cargo builds the cdylib for this test next to the test binary, in
    // target/<profile>/deps (it copies it one level up only for `cargo build`).
    let exe = std::env::current_exe().unwrap();
    let lib = exe.with_file_name("libc10k.so");
    assert!(lib.exists(), "{} not built", lib.display());
    let declared: BTreeSet<String> = declarations(&generate()).into_iter().map(|(name, _)| name).collect();
    let exported = exported_symbols(&lib);
    let undeclared: Vec<_> = exported.difference(&declared).collect();
    let missing: Vec<_> = declared.difference(&exported).collect();
    assert!(
        undeclared.is_empty() && missing.is_empty(),
        "exported but not declared: {undeclared:?}; declared but not exported: {missing:?}"
    );
}
