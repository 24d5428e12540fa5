//! Gives the shared object a soname tied to the ABI version, so programs
//! linked against `libc10k.so.0` keep working across compatible releases.
fn main() {
    let abi = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    // Before 1.0 the minor version is the ABI version, as Cargo's semver rules say.
    let soname = if major == "0" { format!("libc10k.so.0.{abi}") } else { format!("libc10k.so.{major}") };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
