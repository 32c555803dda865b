//! Running scenarios on the ARM64 image: the host's runner built for aarch64-unknown-linux-gnu
//! (the loader's AArch64 parts: thunks that restore x18, the ARM64 calling convention, the
//! AArch64 fault decoder) runs under `qemu-aarch64` on this x86-64 machine. The runner is
//! built into target/host-arm64 (never the outer cargo's target dir, whose lock the running
//! `cargo test` holds), once per process.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::child::{self, Outcome};
use crate::image;

/// The Rust target of the runner.
pub const RUNNER_TARGET: &str = "aarch64-unknown-linux-gnu";
/// The user-mode emulator (Debian `qemu-user`).
pub const QEMU: &str = "qemu-aarch64";
/// The linker .cargo/config.toml names for the runner (Debian `gcc-aarch64-linux-gnu`).
pub const LINKER: &str = "aarch64-linux-gnu-gcc";

/// How long a scenario may run under emulation before it counts as hung: the emulated code
/// runs several times slower than native code, so the native limit is stretched.
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// Whether `program` is an executable file in a directory of PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program)).is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
    })
}

/// Checks that the tools the ARM64 runs need are installed; the error names the fix.
pub fn check_tools() -> Result<(), String> {
    if !on_path(QEMU) {
        return Err(format!(
            "{QEMU} is not installed, so the ARM64 image cannot run: apt-get install qemu-user"
        ));
    }
    if !on_path(LINKER) {
        return Err(format!(
            "{LINKER} is not installed, so the aarch64 runner cannot be linked: apt-get install \
             gcc-aarch64-linux-gnu"
        ));
    }
    Ok(())
}

/// The aarch64 runner (`rswan-host-run`), built once per process.
pub fn runner() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build_runner).clone()
}

fn build_runner() -> Result<PathBuf, String> {
    check_tools()?;
    let target_dir = image::repo_root().join("target").join("host-arm64");
    let output = image::cargo(&target_dir)
        .args([
            "build",
            "-p",
            "rswan-host",
            "--bin",
            "rswan-host-run",
            "--target",
            RUNNER_TARGET,
        ])
        .output()
        .map_err(|e| format!("running cargo to build the aarch64 runner: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("may not be installed") {
            format!("\n(the Rust target is missing: rustup target add {RUNNER_TARGET})")
        } else {
            String::new()
        };
        return Err(format!(
            "building the aarch64 runner failed ({}):\n{stderr}{hint}",
            output.status
        ));
    }
    let runner = target_dir
        .join(RUNNER_TARGET)
        .join("debug")
        .join("rswan-host-run");
    if runner.is_file() {
        Ok(runner)
    } else {
        Err(format!(
            "cargo succeeded but {} is missing",
            runner.display()
        ))
    }
}

/// Runs `scenario` on the ARM64 image at `image` in the aarch64 runner under qemu-aarch64.
pub fn run(scenario: &str, image: &Path, args: &[&str]) -> Result<Outcome, String> {
    run_in(&[], scenario, image, args)
}

/// [`run`] with qemu-aarch64 itself under a wrapper command, e.g. `["ip", "netns", "exec",
/// "ns1"]` to run the child in a network namespace.
pub fn run_in(
    wrapper: &[&str],
    scenario: &str,
    image: &Path,
    args: &[&str],
) -> Result<Outcome, String> {
    let runner = runner()?;
    let mut command = wrapper.to_vec();
    command.push(QEMU);
    Ok(child::run_in_with_timeout(
        &command, &runner, scenario, image, args, TIMEOUT,
    ))
}
