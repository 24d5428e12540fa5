//! The one source of the ABI number: computed here from the crate's
//! version, it names the shared object (its soname) and becomes
//! `C10K_ABI_VERSION` (through the `C10K_ABI` variable, read in
//! src/ffi/version.rs), so the two cannot disagree. tests/header.rs checks
//! the soname, the header's constant and `c10k_abi_version()` together.
fn main() {
    let part = |name: &str| std::env::var(name).unwrap().parse::<u32>().unwrap();
    let (major, minor) = (part("CARGO_PKG_VERSION_MAJOR"), part("CARGO_PKG_VERSION_MINOR"));
    // Before 1.0 the minor version is the ABI version, as Cargo's semver
    // rules say; from 1.0 on, the major.
    let (abi, soname) =
        if major == 0 { (minor, format!("libc10k.so.0.{minor}")) } else { (major, format!("libc10k.so.{major}")) };
    println!("cargo:rustc-env=C10K_ABI={abi}");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
