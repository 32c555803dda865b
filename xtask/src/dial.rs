//! `cargo xtask dial` and `cargo xtask answer`: one whole call through the real rswan.sys
//! loaded in rswan-host, in network namespaces made for it and removed after it. The x64 image
//! runs natively; `--arch arm64` runs the ARM64 image in rswan-host's aarch64 runner under
//! qemu-aarch64. The host loads 64-bit images only, so there is no x86 call.
//!
//! - `dial`: the driver dials l2tpns (with its RADIUS responder), lwIP's PPP reaches IPCP as
//!   RAS, pings l2tpns through the link, hangs up.
//! - `answer`: rp-pppoe's client, with lwIP's PPP behind it, dials the driver's access
//!   concentrator; lwIP's authenticator behind the driver answers; the client pings it and
//!   hangs up.
//!
//! The network work belongs to rswan-e2e: its `rswan-link` program runs the same code as the
//! end-to-end tests (rswan_e2e::loaded_driver) and prints the PPPoE session id, the PPP
//! phases, the IPCP address and the echo reply. This task supplies the image (the packaged
//! one, built first when missing or older than the driver's sources) and runs the program.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::Result;
use crate::arch::Arch;
use crate::package;

/// What the driver image is built from (the driver, the crates it links, the lock file).
const IMAGE_SOURCES: &[&str] = &["driver", "crates", "build.rs", "Cargo.lock"];

/// Runs `task` (`dial` or `answer`) on the image of `--arch` (x64 when not given); the other
/// `args` go to rswan-link (`dial` takes `--auth pap|chap` and `--password <p>`).
pub fn run(task: &str, args: &[String]) -> Result<()> {
    let (arch, args) = take_arch(args)?;
    let image = fresh_image(arch)?;
    let root = crate::repo_root();
    let target = crate::target_dir();
    let built = Command::new(cargo())
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "rswan-e2e", "--bins"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !built.success() {
        return Err("building rswan-link (rswan-e2e) failed".into());
    }
    let program = target.join("debug").join("rswan-link");
    let status = Command::new(&program)
        .arg(task)
        .arg("--image")
        .arg(&image)
        .args(&args)
        .status()
        .map_err(|e| format!("could not start {}: {e}", program.display()))?;
    if !status.success() {
        return Err(format!("{task} failed ({status}); the reason is above").into());
    }
    Ok(())
}

/// `--arch <x64|arm64>` taken out of `args`.
fn take_arch(args: &[String]) -> Result<(Arch, Vec<String>)> {
    let mut arch = Arch::X64;
    let mut rest = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg != "--arch" {
            rest.push(arg.clone());
            continue;
        }
        let name = args.next().ok_or("--arch needs x64 or arm64")?;
        arch = match name.parse::<Arch>()? {
            Arch::X86 => {
                return Err("rswan-host loads 64-bit images only: --arch x64 or arm64".into());
            }
            other => other,
        };
    }
    Ok((arch, rest))
}

/// target/package/<arch>/rswan.sys, packaged first if missing or older than its sources.
fn fresh_image(arch: Arch) -> Result<PathBuf> {
    let image = package::package_dir(arch).join("rswan.sys");
    let root = crate::repo_root();
    let built = fs::metadata(&image).and_then(|m| m.modified()).ok();
    let newest_source = IMAGE_SOURCES
        .iter()
        .filter_map(|path| newest_file(&root.join(path)))
        .max();
    match (built, newest_source) {
        (Some(built), Some(source)) if built >= source => {
            println!("xtask: using {}", image.display());
        }
        _ => {
            println!("xtask: packaging the {} driver first", arch.name());
            package::run(&package::Options { arches: vec![arch] })?;
        }
    }
    Ok(image)
}

/// The latest modification time of a file at or below `path`, skipping build output and
/// fuzzing corpora.
fn newest_file(path: &Path) -> Option<SystemTime> {
    let metadata = fs::symlink_metadata(path).ok()?;
    if !metadata.is_dir() {
        return metadata.modified().ok();
    }
    if path
        .file_name()
        .is_some_and(|name| name == "target" || name == "fuzz")
    {
        return None;
    }
    fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|entry| newest_file(&entry.path()))
        .max()
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
