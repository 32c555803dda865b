//! Building `rswan.sys` for the Windows kernel targets (notes/toolchain.md).
//!
//! The images need `core`/`alloc` built from source (`-Zbuild-std`) with the `mem` feature of
//! compiler_builtins, since a kernel image has no C runtime. The preferred toolchain is the one
//! rust-toolchain.toml pins, with its `rust-src` component; if that component cannot be had,
//! Debian's rustc-web with its matching library sources stands in, and the output says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Result;
use crate::arch::Arch;
use crate::tools;

/// Which compiler builds the images.
#[derive(Debug, Clone)]
pub enum Toolchain {
    /// rustup's pinned channel with its rust-src component.
    Rustup,
    /// Debian's rustc-web/cargo-web/rust-web-src, with rustup's rust-lld as the linker.
    Debian { rust_lld: PathBuf },
}

impl Toolchain {
    /// Picks the toolchain, fetching rust-src or installing the Debian fallback if needed.
    /// `RSWAN_TOOLCHAIN=debian` forces the fallback (to test it).
    pub fn select(root: &Path) -> Result<Toolchain> {
        let forced = std::env::var("RSWAN_TOOLCHAIN").unwrap_or_default();
        if forced != "debian" {
            if rustup_library_present(root) {
                return Ok(Toolchain::Rustup);
            }
            let added = Command::new("rustup")
                .args(["component", "add", "rust-src"])
                .current_dir(root)
                .status()
                .is_ok_and(|s| s.success());
            if added && rustup_library_present(root) {
                return Ok(Toolchain::Rustup);
            }
            eprintln!(
                "xtask: rustup's rust-src component could not be fetched; falling back to \
                 Debian's rustc-web with its matching library sources"
            );
        }
        tools::apt_install(&["rustc-web", "cargo-web", "rust-web-src"])?;
        let rust_lld = rustup_rust_lld(root).ok_or(
            "the Debian toolchain needs rustup's rust-lld as its linker (Debian's lld rejects \
             /RELEASE): install rustup's stable toolchain",
        )?;
        Ok(Toolchain::Debian { rust_lld })
    }

    pub fn describe(&self) -> String {
        match self {
            Toolchain::Rustup => "rustup (rust-toolchain.toml) with rust-src".into(),
            Toolchain::Debian { .. } => "Debian rustc-web with rust-web-src (fallback)".into(),
        }
    }

    /// A `cargo` command for this toolchain, run at the repository root.
    pub fn cargo(&self, root: &Path) -> Command {
        let mut cmd;
        match self {
            Toolchain::Rustup => {
                cmd = Command::new("cargo");
            }
            Toolchain::Debian { rust_lld } => {
                cmd = Command::new("/usr/bin/cargo");
                cmd.env("RUSTC", "/usr/bin/rustc");
                for arch in Arch::ALL {
                    let var = format!(
                        "CARGO_TARGET_{}_LINKER",
                        arch.target_dir_name().to_uppercase().replace('-', "_")
                    );
                    cmd.env(var, rust_lld);
                }
            }
        }
        cmd.current_dir(root);
        // build-std is unstable; the pinned stable compiler allows it with this switch.
        cmd.env("RUSTC_BOOTSTRAP", "1");
        cmd
    }
}

fn rustup_library_present(root: &Path) -> bool {
    sysroot(root).is_some_and(|s| {
        s.join("lib/rustlib/src/rust/library/core/Cargo.toml")
            .is_file()
    })
}

fn rustup_rust_lld(root: &Path) -> Option<PathBuf> {
    let host = "x86_64-unknown-linux-gnu";
    let lld = sysroot(root)?
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    lld.is_file().then_some(lld)
}

fn sysroot(root: &Path) -> Option<PathBuf> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Arguments that build the driver package for the given arches (one cargo call).
pub fn build_std_args(arches: &[Arch]) -> Vec<String> {
    let mut args: Vec<String> = [
        "-p",
        "rswan",
        "-Zbuild-std=core,alloc,compiler_builtins",
        "-Zbuild-std-features=compiler-builtins-mem",
        "-Zjson-target-spec",
    ]
    .map(String::from)
    .to_vec();
    for arch in arches {
        args.push("--target".into());
        args.push(arch.target().into());
    }
    args
}

/// What one build produced, per arch.
#[derive(Debug)]
pub struct BuiltImage {
    pub arch: Arch,
    /// Cargo names the image `.exe`; the package calls it `rswan.sys`.
    pub image: PathBuf,
    pub pdb: PathBuf,
}

/// Builds release images for `arches` and returns where they are and how long it took.
pub fn build(
    toolchain: &Toolchain,
    root: &Path,
    target_dir: &Path,
    arches: &[Arch],
) -> Result<(Vec<BuiltImage>, Duration)> {
    let start = Instant::now();
    let status = toolchain
        .cargo(root)
        .arg("build")
        .arg("--release")
        .args(build_std_args(arches))
        .env("CARGO_TARGET_DIR", target_dir)
        .status()?;
    if !status.success() {
        return Err("building rswan.sys failed (see the compiler output above)".into());
    }
    let elapsed = start.elapsed();
    let images = arches
        .iter()
        .map(|&arch| {
            let dir = target_dir.join(arch.target_dir_name()).join("release");
            BuiltImage {
                arch,
                image: dir.join("rswan.exe"),
                pdb: dir.join("rswan.pdb"),
            }
        })
        .collect::<Vec<_>>();
    for built in &images {
        for file in [&built.image, &built.pdb] {
            if !file.is_file() {
                return Err(format!("the build did not produce {}", file.display()).into());
            }
        }
    }
    Ok((images, elapsed))
}
