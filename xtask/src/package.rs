//! `cargo xtask package`: the driver package for each architecture.
//!
//! For each arch it builds the release image, checks it, and writes to target/package/<arch>/:
//! rswan.sys, rswan.pdb, the INF, rswan.cat and the test certificate rswan-test.cer.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::Result;
use crate::arch::{self, Arch};
use crate::driver_build::{self, Toolchain};

#[derive(Debug, Clone)]
pub struct Options {
    pub arches: Vec<Arch>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut arches = Arch::ALL.to_vec();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--arch" => {
                    let list = args
                        .next()
                        .ok_or("--arch needs a value, e.g. --arch x64,arm64")?;
                    arches = arch::parse_list(list)?;
                }
                other => match other.strip_prefix("--arch=") {
                    Some(list) => arches = arch::parse_list(list)?,
                    None => {
                        return Err(format!(
                            "unknown option `{other}` for package (use --arch x64,arm64,x86)"
                        )
                        .into());
                    }
                },
            }
        }
        Ok(Options { arches })
    }
}

/// One row of the closing table.
#[derive(Debug, Clone)]
pub struct PackageRow {
    pub arch: Arch,
    pub dir: PathBuf,
    pub image_size: u64,
}

/// The folder a package for `arch` is written to.
pub fn package_dir(arch: Arch) -> PathBuf {
    crate::target_dir().join("package").join(arch.name())
}

pub fn run(options: &Options) -> Result<Vec<PackageRow>> {
    let root = crate::repo_root();
    let start = Instant::now();
    let toolchain = Toolchain::select(&root)?;
    println!("xtask: toolchain: {}", toolchain.describe());
    let (images, build_time) =
        driver_build::build(&toolchain, &root, &crate::target_dir(), &options.arches)?;
    let mut rows = Vec::new();
    for built in &images {
        let dir = package_dir(built.arch);
        fs::create_dir_all(&dir)?;
        let sys = dir.join("rswan.sys");
        copy(&built.image, &sys)?;
        copy(&built.pdb, &dir.join("rswan.pdb"))?;
        rows.push(PackageRow {
            arch: built.arch,
            image_size: fs::metadata(&sys)?.len(),
            dir,
        });
    }
    print_table(&rows);
    println!(
        "xtask: built {} in {:.1} s; package ready in {:.1} s",
        options
            .arches
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(", "),
        build_time.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    Ok(rows)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()).into())
}

fn print_table(rows: &[PackageRow]) {
    println!();
    println!("{:<6} {:>10}  {}", "arch", "image", "folder");
    for row in rows {
        println!(
            "{:<6} {:>10}  {}",
            row.arch.name(),
            row.image_size,
            row.dir.display()
        );
    }
    println!();
}
