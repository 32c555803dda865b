//! rswan's tasks, run as `cargo xtask <task>` (the alias is in .cargo/config.toml).
//!
//! - `package`: builds rswan.sys for x64, ARM64 and x86, checks each image, and writes the
//!   signed driver package with its INF, catalog and test certificate to target/package/<arch>/.
//! - `test`: every check and test the project has (what CI runs).
//! - `bench`: the benchmarks, which print their figures.
//! - `setup`: installs what the tests need on a Debian machine.
#![forbid(unsafe_code)]

mod arch;
mod bench;
mod catalog;
mod dial;
mod driver_build;
mod image_check;
mod inf_check;
mod package;
mod sign;
mod test_task;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

pub type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  package [--arch x64,arm64,x86]   build, check, sign and catalog the driver package
                                   into target/package/<arch>/
  test                             fmt, clippy, every test, the package and its checks
  bench                            run the benchmarks and print their figures
  dial [--arch x64|arm64] [--auth pap|chap] [--password <p>]
                                   the driver, loaded in rswan-host (ARM64 under qemu),
                                   dials l2tpns in a network namespace: session, PPP
                                   phases, address, ping
  answer [--arch x64|arm64]        the driver answers rp-pppoe's client the same way
  setup                            install the Debian packages and tools the tests need
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return Err("no task given".into());
    };
    match task.as_str() {
        "package" => package::run(&package::Options::parse(rest)?).map(drop),
        "test" => test_task::run(rest),
        "bench" => bench::run(rest),
        "dial" => dial::run("dial", rest),
        "answer" => dial::run("answer", rest),
        "setup" => test_task::setup(),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            Err(format!("unknown task `{other}`").into())
        }
    }
}

/// The repository root (xtask lives one level below it).
pub fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask sits inside the repository")
        .to_path_buf()
}

/// The cargo target directory xtask builds into (honours CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
}
