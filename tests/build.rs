//! Builds `lwip-ppp`, lwIP's PPP as a standalone program (tests/lwip-ppp), from the lwIP C
//! sources shipped in the crates.io crate `lwip`, and hands its path to the tests as the
//! compile-time variable `LWIP_PPP_BIN`.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const LWIP_CRATE: &str = "lwip";
const LWIP_VERSION: &str = "0.3.15";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let program_dir = manifest_dir.join("lwip-ppp");
    println!("cargo:rerun-if-changed={}", program_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let lwip = lwip_source_dir(&manifest_dir);
    let include = lwip.join("src/include");
    let mut sources = Vec::new();
    for dir in [
        "src/core",
        "src/core/ipv4",
        "src/netif/ppp",
        "src/netif/ppp/polarssl",
    ] {
        sources.extend(c_files(&lwip.join(dir)));
    }

    // lwIP is third-party code: its own warnings are not ours to fix.
    let lwip_objects = cc::Build::new()
        .include(&program_dir)
        .include(&include)
        .files(&sources)
        .warnings(false)
        .opt_level(1)
        .compile_intermediates();
    let mut program = cc::Build::new();
    program
        .include(&program_dir)
        .include(&include)
        .file(program_dir.join("main.c"))
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .opt_level(1);
    let program_objects = program.compile_intermediates();

    let binary = out_dir.join("lwip-ppp");
    let status = program
        .get_compiler()
        .to_command()
        .args(&program_objects)
        .args(&lwip_objects)
        .arg("-o")
        .arg(&binary)
        .status()
        .expect("run the C compiler to link lwip-ppp");
    assert!(status.success(), "linking lwip-ppp failed: {status}");
    println!("cargo:rustc-env=LWIP_PPP_BIN={}", binary.display());
    println!(
        "cargo:rustc-env=E2E_CAPTURES_DIR={}",
        captures_dir(&out_dir).display()
    );
}

/// `<target dir>/captures`: OUT_DIR is `<target dir>/<profile>/build/<package>-<hash>/out`.
fn captures_dir(out_dir: &Path) -> PathBuf {
    let build = out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .expect("OUT_DIR lies under a build directory");
    let target = build
        .parent()
        .and_then(Path::parent)
        .expect("the build directory lies under <target dir>/<profile>");
    target.join("captures")
}

/// The source directory of the `lwip` crate, as cargo resolved and downloaded it.
fn lwip_source_dir(manifest_dir: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
        .iter()
        .find(|p| p["name"] == LWIP_CRATE && p["version"] == LWIP_VERSION)
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("cargo metadata does not list {LWIP_CRATE} {LWIP_VERSION}"));
    let dir = Path::new(manifest)
        .parent()
        .expect("a manifest has a directory");
    assert!(
        dir.join("src/netif/ppp/pppos.c").is_file(),
        "{} does not hold lwIP's PPP sources",
        dir.display()
    );
    dir.to_owned()
}

fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    files.sort();
    files
}
