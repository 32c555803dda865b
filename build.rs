//! Link configuration of the driver image `rswan.sys` (notes/toolchain.md, "Linking").
//!
//! A kernel-mode driver is a native-subsystem PE image with no C runtime, entered at
//! `DriverEntry`. `/RELEASE` writes the PE checksum that the kernel loader checks, and
//! `/Brepro` makes the image reproducible.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "windows" {
        // The driver only links for the Windows kernel targets; on any other target the
        // package is checked (clippy) but never linked.
        return;
    }
    let args = [
        "/DRIVER",
        "/SUBSYSTEM:NATIVE",
        "/NODEFAULTLIB",
        "/RELEASE",
        "/TSAWARE:NO",
        "/Brepro",
        "/MANIFEST:NO",
        // On x86 the symbol is `_DriverEntry@8`; lld-link resolves the plain name to it.
        "/ENTRY:DriverEntry",
    ];
    for arg in args {
        println!("cargo::rustc-link-arg-bins={arg}");
    }
}
