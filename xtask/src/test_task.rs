//! `cargo xtask test`: everything CI runs, in the order that fails fastest.
//!
//! 1. what the tests need is installed (`setup`);
//! 2. `cargo fmt --check`;
//! 3. clippy with `-D warnings` for the host crates, then for the driver (and the no_std crates
//!    it links) on each Windows target;
//! 4. the driver package for the three arches, with its image, INF, signature and catalog checks;
//! 5. every host test of the workspace (the host's tests load the packaged x64 image);
//! 6. a short fuzzing run of every fuzz target.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use crate::Result;
use crate::arch::Arch;
use crate::driver_build::{self, Toolchain};
use crate::package;
use crate::tools;

/// The PPPoE fuzz targets (crates/pppoe/fuzz) and how long each runs here; a long run is
/// described in crates/pppoe/README.md.
const FUZZ_TARGETS: [&str; 3] = ["codec", "client", "ac"];
const FUZZ_SECONDS: u32 = 20;

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        return Err(format!("test takes no options (got `{arg}`)").into());
    }
    let root = crate::repo_root();
    let start = Instant::now();
    setup()?;

    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    step(
        "clippy (host crates)",
        cargo().args([
            "clippy",
            "--workspace",
            "--exclude",
            "rswan",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let toolchain = Toolchain::select(&root)?;
    for arch in Arch::ALL {
        let mut clippy = toolchain.cargo(&root);
        clippy
            .args(["clippy", "--release"])
            .args(driver_build::build_std_args(&[arch]))
            .args(["--", "-D", "warnings"]);
        step(&format!("clippy (driver, {arch})"), &mut clippy)?;
    }

    let rows = package::run(&package::Options {
        arches: Arch::ALL.to_vec(),
    })?;

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--exclude", "rswan"]);
    for row in &rows {
        let var = format!("RSWAN_SYS_{}", row.arch.name().to_uppercase());
        tests.env(var, row.dir.join("rswan.sys"));
    }
    step("host tests", &mut tests)?;

    for target in FUZZ_TARGETS {
        let mut fuzz = cargo();
        fuzz.args(["fuzz", "run", "--fuzz-dir", "crates/pppoe/fuzz"])
            .args(["--target-dir", "target/fuzz-pppoe", target, "--"])
            .arg(format!("-max_total_time={FUZZ_SECONDS}"))
            .env("RUSTC_BOOTSTRAP", "1");
        step_quiet(&format!("fuzz {target} ({FUZZ_SECONDS} s)"), &mut fuzz)?;
    }

    println!(
        "xtask: all checks and tests passed in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Installs the Debian packages and cargo tools the tests need.
pub fn setup() -> Result<()> {
    tools::apt_install(tools::TEST_DEBIAN_PACKAGES)?;
    tools::ensure_osslsigncode_extract_data()?;
    // rustup adds rust-toolchain.toml's targets only when it installs the toolchain; a machine
    // that already had the channel needs the aarch64 host target added.
    step(
        "rustup target add aarch64-unknown-linux-gnu",
        Command::new("rustup")
            .current_dir(crate::repo_root())
            .args(["target", "add", "aarch64-unknown-linux-gnu"]),
    )?;
    if !cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        step(
            "cargo install cargo-fuzz",
            cargo().args(["install", "cargo-fuzz", "--locked", "--version", "0.13.2"]),
        )?;
    }
    Ok(())
}

fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(crate::repo_root());
    cmd
}

fn step(name: &str, cmd: &mut Command) -> Result<()> {
    println!("xtask: == {name}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: could not start: {e}"))?;
    if !status.success() {
        return Err(format!("{name} failed").into());
    }
    println!(
        "xtask: == {name}: ok ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Like `step`, for a command whose progress output is only worth reading when it fails
/// (libFuzzer prints a line per new input): the output is kept and shown on failure.
fn step_quiet(name: &str, cmd: &mut Command) -> Result<()> {
    println!("xtask: == {name}");
    let start = Instant::now();
    let output = cmd
        .output()
        .map_err(|e| format!("{name}: could not start: {e}"))?;
    if !output.status.success() {
        std::io::stdout().write_all(&output.stdout)?;
        std::io::stderr().write_all(&output.stderr)?;
        return Err(format!("{name} failed").into());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(summary) = stderr.lines().rev().find(|l| l.starts_with("Done ")) {
        println!("xtask: {summary}");
    }
    println!(
        "xtask: == {name}: ok ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
