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

/// The header's comment lines before its first `#include`: the preamble.
fn preamble(header: &str) -> String {
    header.lines().take_while(|l| !l.starts_with("#include")).collect::<Vec<_>>().join("\n")
}

/// The one wording per case the preamble lists (STYLE.md rule 8).
const THREAD_SAFETY_LINES: [&str; 5] = [
    "Thread safety: loop thread only.",
    "Thread safety: any thread.",
    "Thread safety: any thread, and signal handlers.",
    "Thread safety: any thread; the caller becomes the loop thread.",
    "Thread safety: the thread running `on_request`.",
];

#[test]
fn thread_safety_lines_use_the_fixed_wordings() {
    let decls = declarations(&generate());
    let odd: Vec<_> = decls
        .iter()
        .filter(|(_, comment)| !comment.last().is_some_and(|l| THREAD_SAFETY_LINES.contains(&l.as_str())))
        .map(|(name, comment)| format!("{name}: {:?}", comment.last()))
        .collect();
    assert!(odd.is_empty(), "use one of {THREAD_SAFETY_LINES:?}: {odd:#?}");
    let preamble = preamble(&generate()).replace("\n//  ", "").replace("\n// ", " ");
    for line in THREAD_SAFETY_LINES {
        assert!(preamble.contains(line), "the preamble must list {line:?}");
    }
}

#[test]
fn every_function_says_when_it_was_added() {
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let decls = declarations(&generate());
    let missing: Vec<_> = decls
        .iter()
        .filter(|(_, comment)| {
            let text = comment.join(" ");
            let version = text
                .split("Added in 0.")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<u32>().ok()));
            !version.is_some_and(|v| (1..=minor).contains(&v))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(missing.is_empty(), "doc comment must say \"Added in 0.N.\" (N <= {minor}): {missing:?}");
}

/// The shared object's soname, from its dynamic section.
fn soname(lib: &Path) -> String {
    let output = Command::new("readelf").arg("-d").arg(lib).output().expect("run readelf (binutils)");
    let text = String::from_utf8(output.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("(SONAME)")).expect("the library has a soname");
    line.split('[').nth(1).and_then(|s| s.split(']').next()).expect("soname in brackets").to_string()
}

#[test]
fn one_abi_number_for_header_soname_and_library() {
    let abi = c10k::ffi::C10K_ABI_VERSION;
    assert_eq!(c10k::ffi::c10k_abi_version(), abi);
    assert!(
        generate().contains(&format!("#define C10K_ABI_VERSION {abi}\n")),
        "the header's C10K_ABI_VERSION must be {abi}"
    );
    // Before 1.0 the ABI number is the minor version (docs/ABI.md).
    let (major, minor) = (env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"));
    let expected = if major == "0" { format!("libc10k.so.0.{minor}") } else { format!("libc10k.so.{major}") };
    assert_eq!(abi.to_string(), if major == "0" { minor } else { major });
    let lib = std::env::current_exe().unwrap().with_file_name("libc10k.so");
    assert_eq!(soname(&lib), expected);
}

#[test]
fn the_preamble_lists_every_positive_result() {
    // Every positive result an export can give is a `Positive` of the
    // panic boundary, mapped there to its constant.
    let boundary = std::fs::read_to_string(root().join("src/ffi/boundary.rs")).unwrap();
    let mapping = boundary.split("impl Status for Positive").nth(1).expect("the Positive mapping");
    let mapping = &mapping[..mapping.find("\n}\n").unwrap()];
    let names: BTreeSet<&str> =
        mapping.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("C10K_")).collect();
    assert!(names.len() >= 2, "found {names:?}: is the parser broken?");
    let header = generate();
    let preamble = preamble(&header);
    for name in names {
        let value = header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} is not in the header"));
        assert!(preamble.contains(&format!("{name} ({value})")), "the preamble must list {name} ({value})");
    }
}

/// The structs of the header, each with its field lines.
fn structs(header: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut lines = header.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("typedef struct ").and_then(|l| l.strip_suffix(" {")) else { continue };
        let fields = lines
            .by_ref()
            .take_while(|l| !l.starts_with('}'))
            .filter(|l| !l.trim_start().starts_with("//"))
            .map(|l| l.trim().to_string())
            .collect();
        found.push((name.to_string(), fields));
    }
    found
}

/// Structs that grow: their first field is `uint32_t size`.
fn growable(header: &str) -> Vec<String> {
    structs(header)
        .into_iter()
        .filter(|(_, fields)| fields.first().is_some_and(|f| f == "uint32_t size;"))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn no_growable_struct_is_embedded_or_stepped_through_by_the_library() {
    let header = generate();
    let growable = growable(&header);
    assert!(growable.len() >= 5, "found only {growable:?}: is the parser broken?");
    for (name, fields) in structs(&header) {
        for field in fields {
            for g in &growable {
                assert!(
                    !field.starts_with(&format!("struct {g} ")),
                    "{name} embeds the growable {g} by value ({field}): point to it instead"
                );
            }
        }
    }
    // An array of growable structs comes with the caller's element size:
    // a `struct G *x, size_t x_len` parameter pair is followed by `size_t x_size`.
    let flat = header.replace('\n', " ");
    for g in &growable {
        for part in flat.split(&format!("struct {g} *")).skip(1) {
            let param = part.split([',', ')']).next().unwrap().trim();
            let after = &part[param.len()..];
            if after.trim_start_matches(',').trim_start().starts_with(&format!("size_t {param}_len")) {
                assert!(
                    after.contains(&format!("size_t {param}_size")),
                    "an array of {g} ({param}) must come with its element size {param}_size"
                );
            }
        }
    }
}

#[test]
fn docs_abi_names_every_growable_struct_and_handle_kind() {
    let abi = std::fs::read_to_string(root().join("docs/ABI.md")).expect("docs/ABI.md");
    for name in growable(&generate()) {
        assert!(abi.contains(&format!("| `{name}` |")), "docs/ABI.md must list the growable struct {name}");
    }
    let handle = std::fs::read_to_string(root().join("src/reactor/handle.rs")).unwrap();
    let kinds = handle.split("\nkinds! {").nth(1).expect("the kinds! list");
    let kinds = &kinds[..kinds.find('}').unwrap()];
    let mut found = 0;
    for line in kinds.lines().map(str::trim).filter(|l| !l.starts_with("//") && l.contains('=')) {
        let (name, value) = line.trim_end_matches(',').split_once('=').unwrap();
        let row = format!("| {} | `{}` |", value.trim(), name.trim());
        assert!(abi.contains(&row), "docs/ABI.md must list the handle kind {row}");
        found += 1;
    }
    assert!(found >= 4, "found {found} kinds: is the parser broken?");
}
