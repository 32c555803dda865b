//! Finding the driver image the tests load: the file named by `RSWAN_SYS_X64` (which
//! `cargo xtask test` sets to the packaged target/package/x64/rswan.sys), else a release
//! build of the driver made here into target/host-images (never the outer cargo's target dir,
//! whose lock the running `cargo test` holds).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const ENV_X64: &str = "RSWAN_SYS_X64";

/// The repository root (the host crate sits one level below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ sits inside the repository")
        .to_path_buf()
}

/// The x64 image, built once per process if no `RSWAN_SYS_X64` is given.
pub fn x64() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(ENV_X64) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{ENV_X64}={} names no file; unset it to let the tests build the image",
                path.display()
            ))
        };
    }
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build_x64).clone()
}

fn build_x64() -> Result<PathBuf, String> {
    let root = repo_root();
    let target_dir = root.join("target").join("host-images");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "-p",
            "rswan",
            "--release",
            "--target",
            "x86_64-pc-windows-msvc",
            "-Zbuild-std=core,alloc,compiler_builtins",
            "-Zbuild-std-features=compiler-builtins-mem",
        ])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target_dir);
    // The variables cargo sets for a running test describe the outer build, not this one.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
            command.env_remove(&name);
        }
    }
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
    let image = target_dir
        .join("x86_64-pc-windows-msvc")
        .join("release")
        .join("rswan.exe");
    if image.is_file() {
        Ok(image)
    } else {
        Err(format!(
            "cargo succeeded but {} is missing",
            image.display()
        ))
    }
}
