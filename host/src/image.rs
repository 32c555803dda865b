//! Finding the driver images the tests load: the file named by `RSWAN_SYS_X64` (which
//! `cargo xtask test` sets to the packaged target/package/x64/rswan.sys) or `RSWAN_SYS_ARM64`,
//! else a release build of the driver made here into target/host-images (never the outer
//! cargo's target dir, whose lock the running `cargo test` holds).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const ENV_X64: &str = "RSWAN_SYS_X64";
pub const ENV_ARM64: &str = "RSWAN_SYS_ARM64";

const X64_TARGET: &str = "x86_64-pc-windows-msvc";
const ARM64_TARGET: &str = "aarch64-pc-windows-msvc";

/// The repository root (the host crate sits one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ sits inside the repository")
        .to_path_buf()
}

/// The x64 image, built once per process if no `RSWAN_SYS_X64` is given.
pub fn x64() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    given(ENV_X64).unwrap_or_else(|| BUILT.get_or_init(|| build(X64_TARGET)).clone())
}

/// The ARM64 image, built once per process if no `RSWAN_SYS_ARM64` is given.
pub fn arm64() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    given(ENV_ARM64).unwrap_or_else(|| BUILT.get_or_init(|| build(ARM64_TARGET)).clone())
}

/// The image the variable `name` names, if it is set.
fn given(name: &str) -> Option<Result<PathBuf, String>> {
    let path = PathBuf::from(std::env::var_os(name)?);
    Some(if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{name}={} names no file; unset it to let the tests build the image",
            path.display()
        ))
    })
}

/// A release build of the driver for `target` (a Windows kernel target triple).
fn build(target: &str) -> Result<PathBuf, String> {
    let target_dir = repo_root().join("target").join("host-images");
    let mut command = cargo(&target_dir);
    command
        .args([
            "build",
            "-p",
            "rswan",
            "--release",
            "--target",
            target,
            "-Zbuild-std=core,alloc,compiler_builtins",
            "-Zbuild-std-features=compiler-builtins-mem",
        ])
        .env("RUSTC_BOOTSTRAP", "1");
    let output = command
        .output()
        .map_err(|e| format!("running cargo to build the driver image: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the driver image failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let image = target_dir.join(target).join("release").join("rswan.exe");
    if image.is_file() {
        Ok(image)
    } else {
        Err(format!(
            "cargo succeeded but {} is missing",
            image.display()
        ))
    }
}

/// A cargo command run from the repository root into `target_dir`, for a build a test makes.
pub fn cargo(target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", target_dir);
    // The variables cargo sets for a running test describe the outer build, not this one.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
            command.env_remove(&name);
        }
    }
    command
}
