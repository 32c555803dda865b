//! `cargo xtask package`: the driver package for each architecture.
//!
//! For each arch: build the release image, check it (image_check), check the INFs, each and
//! between them (inf_check), then write to target/package/<arch>/ rswan.sys (test-signed),
//! rswan.pdb, the INFs, rswan.cat (listing the signed image and the INFs, test-signed) and the
//! test certificate rswan-test.cer.
//! Every signature and the catalog are verified with osslsigncode before the table is printed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use crate::Result;
use crate::arch::{self, Arch};
use crate::catalog::{self, CatalogMember, MemberKind};
use crate::driver_build::{self, Toolchain};
use crate::image_check;
use crate::inf_check;
use crate::sign::{self, TestCertificate};

/// The INF files shipped in every package folder: the miniport and the protocol that copies
/// it with CopyINF (network/installing-an-intermediate-driver).
const INF_FILES: &[&str] = &["rswan.inf", "rswan_protocol.inf"];

#[derive(Debug, Clone)]
pub struct Options {
    pub arches: Vec<Arch>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut arches = Arch::ALL.to_vec();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let list = match arg.as_str() {
                "--arch" => args
                    .next()
                    .ok_or("--arch needs a value, e.g. --arch x64,arm64")?,
                other => other.strip_prefix("--arch=").ok_or_else(|| {
                    format!("unknown option `{other}` for package (use --arch x64,arm64,x86)")
                })?,
            };
            arches = arch::parse_list(list)?;
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
    pub imported_functions: usize,
    pub signed: bool,
    pub catalog_entries: usize,
    /// The largest fixed stack frame of one function (image check).
    pub largest_frame: Option<image_check::NamedFrame>,
}

/// The folder a package for `arch` is written to.
pub fn package_dir(arch: Arch) -> PathBuf {
    crate::target_dir().join("package").join(arch.name())
}

pub fn run(options: &Options) -> Result<Vec<PackageRow>> {
    let root = crate::repo_root();
    let start = Instant::now();

    let mut hardware_ids = Vec::new();
    let mut reports = Vec::new();
    for inf in INF_FILES {
        let path = root.join("inf").join(inf);
        let report = inf_check::check_inf(&path, &options.arches)?;
        hardware_ids.extend(report.hardware_ids.iter().cloned());
        reports.push((path, report));
    }
    inf_check::check_package(&reports)?;

    let toolchain = Toolchain::select(&root)?;
    println!("xtask: toolchain: {}", toolchain.describe());
    let (images, build_time) =
        driver_build::build(&toolchain, &root, &crate::target_dir(), &options.arches)?;

    let certificate =
        TestCertificate::load_or_create(&crate::target_dir().join("package").join("signing"))?;
    let this_update = catalog_time(&root);
    let mut rows = Vec::new();
    for built in &images {
        let dir = package_dir(built.arch);
        // Start from an empty folder so that nothing stale ships.
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let sys = dir.join("rswan.sys");
        copy(&built.image, &sys)?;
        copy(&built.pdb, &dir.join("rswan.pdb"))?;
        for inf in INF_FILES {
            copy(&root.join("inf").join(inf), &dir.join(inf))?;
        }
        copy(&certificate.cer_path(), &dir.join(sign::CERTIFICATE_FILE))?;

        sign::sign_file(&sys, &certificate)?;
        sign::verify_signature(&sys, &certificate)?;
        // Checked after signing: the signed image (with its updated checksum) is what ships.
        let report =
            image_check::check_image(&sys, built.arch, &root.join("driver/imports.allowlist"))?;

        let mut members = vec![CatalogMember {
            file_name: "rswan.sys".into(),
            contents: fs::read(&sys)?,
            kind: MemberKind::Pe,
        }];
        for inf in INF_FILES {
            members.push(CatalogMember {
                file_name: (*inf).into(),
                contents: fs::read(dir.join(inf))?,
                kind: MemberKind::Flat,
            });
        }
        let cat = catalog::build_catalog(built.arch, &hardware_ids, &members, this_update)?;
        let cat_path = dir.join("rswan.cat");
        fs::write(&cat_path, &cat.der)?;
        sign::sign_file(&cat_path, &certificate)?;
        sign::verify_signature(&cat_path, &certificate)?;
        sign::verify_catalog(&cat_path, &sys, &certificate)?;

        rows.push(PackageRow {
            arch: built.arch,
            image_size: fs::metadata(&sys)?.len(),
            imported_functions: report.imported_functions(),
            signed: true,
            catalog_entries: cat.entries,
            largest_frame: report.largest_frames.first().cloned(),
            dir,
        });
    }
    print_table(&rows);
    report_time(&options.arches, build_time, start.elapsed());
    Ok(rows)
}

/// The catalog's thisUpdate: SOURCE_DATE_EPOCH if set, else the time of the commit being
/// built, so that the same commit gives the same catalog.
fn catalog_time(root: &Path) -> SystemTime {
    let seconds = std::env::var("SOURCE_DATE_EPOCH").ok().or_else(|| {
        let out = Command::new("git")
            .args(["log", "-1", "--format=%ct"])
            .current_dir(root)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    seconds
        .and_then(|s| s.parse::<u64>().ok())
        .map_or_else(SystemTime::now, |s| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(s)
        })
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()).into())
}

fn print_table(rows: &[PackageRow]) {
    println!();
    println!(
        "{:<6} {:>11} {:>8} {:>7} {:>16} {:>13}  folder",
        "arch", "image bytes", "imports", "signed", "catalog entries", "largest frame"
    );
    for row in rows {
        println!(
            "{:<6} {:>11} {:>8} {:>7} {:>16} {:>13}  {}",
            row.arch.name(),
            row.image_size,
            row.imported_functions,
            if row.signed { "yes" } else { "no" },
            row.catalog_entries,
            row.largest_frame.as_ref().map_or(0, |f| f.bytes),
            row.dir.display()
        );
    }
    println!();
    for row in rows {
        if let Some(frame) = &row.largest_frame {
            println!(
                "{}: largest stack frame {frame} (budget {} bytes per function; {} functions \
                 known to be over it may not grow: image_check::frame_budget)",
                row.arch.name(),
                image_check::FRAME_BUDGET_BYTES,
                image_check::OVER_BUDGET.len()
            );
        }
    }
    println!();
}

fn report_time(arches: &[Arch], build: Duration, total: Duration) {
    let names: Vec<&str> = arches.iter().map(|a| a.name()).collect();
    println!(
        "xtask: built {} in {:.1} s; package ready in {:.1} s",
        names.join(", "),
        build.as_secs_f64(),
        total.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_default_to_every_arch_and_take_a_subset() {
        assert_eq!(Options::parse(&[]).unwrap().arches, Arch::ALL.to_vec());
        let subset = Options::parse(&args(&["--arch", "arm64,x86"])).unwrap();
        assert_eq!(subset.arches, vec![Arch::Arm64, Arch::X86]);
        assert_eq!(
            Options::parse(&args(&["--arch=x64"])).unwrap().arches,
            vec![Arch::X64]
        );
    }

    #[test]
    fn bad_options_say_what_to_type_instead() {
        let unknown = Options::parse(&args(&["--arch", "mips"]))
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown architecture `mips`"), "{unknown}");
        let missing = Options::parse(&args(&["--arch"])).unwrap_err().to_string();
        assert!(missing.contains("--arch x64,arm64"), "{missing}");
        let option = Options::parse(&args(&["--release"]))
            .unwrap_err()
            .to_string();
        assert!(option.contains("unknown option `--release`"), "{option}");
    }
}
