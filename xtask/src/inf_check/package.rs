//! Rules between the INFs of one driver package, each of which passed `check_inf`.
//!
//! rswan ships the NDIS MUX pattern (network/installing-an-intermediate-driver): a NetTrans
//! protocol INF that copies a Net miniport INF with CopyINF, both halves of one driver image.
//! The rules:
//! - every INF names the same CatalogFile (one catalog lists every file of the package);
//! - a CopyINF target lies in the INF's folder or below it (install/inf-copyinf-directive) and
//!   is an INF the package ships, not the INF itself;
//! - an INF and the INF it copies install the same service binary (the two halves of one
//!   driver, network/mux-intermediate-driver-installation);
//! - two INFs that add a service of the same name write the same entries, so that the one
//!   installed second changes nothing but the folder of ServiceBinary;
//! - no INF deletes (DelService) a service another INF of the package installs;
//! - a protocol's LowerRange shares no interface with the UpperRange of the package's own
//!   adapters, so it never binds to them (network/specifying-binding-interfaces).

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use super::parse;
use super::{InfReport, ServiceInstall};

/// One problem, in one INF of the package (line 0: the INF as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageProblem {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Every problem found between the package's INFs.
#[derive(Debug, Clone)]
pub struct PackageInfError {
    pub problems: Vec<PackageProblem>,
}

impl fmt::Display for PackageInfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the package's INFs failed {} check(s) between them:",
            self.problems.len()
        )?;
        for p in &self.problems {
            match p.line {
                0 => write!(f, "\n  {}: {}", p.path.display(), p.message)?,
                line => write!(f, "\n  {}:{line}: {}", p.path.display(), p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for PackageInfError {}

/// Checks the INFs of one package folder, given as (path, report of `check_inf`).
pub fn check_package(infs: &[(PathBuf, InfReport)]) -> Result<(), PackageInfError> {
    let mut problems = Vec::new();
    let mut problem = |path: &Path, line: usize, message: String| {
        problems.push(PackageProblem {
            path: path.to_path_buf(),
            line,
            message,
        });
    };
    let file_name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };

    if let Some((first_path, first)) = infs.first() {
        for (path, report) in &infs[1..] {
            if !report
                .catalog_file
                .eq_ignore_ascii_case(&first.catalog_file)
            {
                problem(
                    path,
                    report.catalog_line,
                    format!(
                        "CatalogFile is {}, but {} names {}: the package has one catalog, so \
                         every INF names the same CatalogFile",
                        report.catalog_file,
                        file_name(first_path),
                        first.catalog_file
                    ),
                );
            }
        }
    }

    for (path, report) in infs {
        let own = file_name(path);
        for (line, target) in &report.copied_infs {
            let outside = target.starts_with(['\\', '/'])
                || target.contains(':')
                || target.split(['\\', '/']).any(|part| part == "..");
            if outside {
                problem(
                    path,
                    *line,
                    format!(
                        "CopyINF names `{target}`, which is not in this INF's folder or below \
                         it (install/inf-copyinf-directive): give a path relative to the INF"
                    ),
                );
                continue;
            }
            if target.eq_ignore_ascii_case(&own) {
                problem(
                    path,
                    *line,
                    format!("CopyINF names this INF itself (`{target}`): name the other INF"),
                );
                continue;
            }
            let Some((copied_path, copied)) = infs
                .iter()
                .find(|(p, _)| file_name(p).eq_ignore_ascii_case(target))
            else {
                let shipped: Vec<String> = infs.iter().map(|(p, _)| file_name(p)).collect();
                problem(
                    path,
                    *line,
                    format!(
                        "CopyINF names `{target}`, which the package does not ship (it ships {}): \
                         correct the name or add the INF to INF_FILES in xtask/src/package.rs",
                        shipped.join(", ")
                    ),
                );
                continue;
            };
            let binaries = |services: &[ServiceInstall]| {
                let mut files: Vec<String> = services
                    .iter()
                    .map(|s| s.binary_file().to_ascii_lowercase())
                    .collect();
                files.sort();
                files.dedup();
                files
            };
            let (ours, theirs) = (binaries(&report.services), binaries(&copied.services));
            if ours != theirs {
                problem(
                    path,
                    *line,
                    format!(
                        "this INF installs {} but {} installs {}: a protocol INF and the miniport \
                         INF it copies install one driver (network/mux-intermediate-driver-\
                         installation), so they name the same service binary",
                        listing(&ours),
                        file_name(copied_path),
                        listing(&theirs)
                    ),
                );
            }
        }
    }

    for (index, (path, report)) in infs.iter().enumerate() {
        for service in &report.services {
            let earlier = infs[..index].iter().find_map(|(p, r)| {
                r.services
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&service.name))
                    .map(|s| (p, s))
            });
            let Some((earlier_path, earlier)) = earlier else {
                continue;
            };
            for (entry, here, there) in differences(service, earlier) {
                problem(
                    path,
                    service.line,
                    format!(
                        "service `{}` ([{}]) has {entry} `{here}`, but {} adds the same service \
                         ([{}]) with `{there}`: the INFs write one service, so make every entry \
                         equal (only the folder of ServiceBinary may differ)",
                        service.name,
                        service.section,
                        file_name(earlier_path),
                        earlier.section
                    ),
                );
            }
        }
    }

    for (path, report) in infs {
        for (line, deleted) in &report.deleted_services {
            let other = infs.iter().find(|(p, r)| {
                p != path
                    && r.services
                        .iter()
                        .any(|s| s.name.eq_ignore_ascii_case(deleted))
            });
            if let Some((other_path, _)) = other {
                problem(
                    path,
                    *line,
                    format!(
                        "DelService deletes `{deleted}`, which {} also installs: removing this \
                         component would stop the other from loading \
                         (network/remove-section-in-a-network-inf-file); drop the DelService",
                        file_name(other_path)
                    ),
                );
            }
        }
    }

    for (path, report) in infs
        .iter()
        .filter(|(_, r)| r.class.eq_ignore_ascii_case("NetTrans"))
    {
        for (adapter_path, adapter) in infs
            .iter()
            .filter(|(_, r)| r.class.eq_ignore_ascii_case("Net"))
        {
            let shared: Vec<&str> = report
                .lower_range
                .intersection(&adapter.upper_range)
                .map(String::as_str)
                .collect();
            if !shared.is_empty() {
                problem(
                    path,
                    0,
                    format!(
                        "the protocol's LowerRange shares {} with the UpperRange of the adapter \
                         that {} installs, so the protocol would bind to the package's own \
                         adapter (network/specifying-binding-interfaces): drop {} from LowerRange",
                        shared.join(", "),
                        file_name(adapter_path),
                        shared.join(", ")
                    ),
                );
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(PackageInfError { problems })
    }
}

/// `a, b` or `no service binary`.
fn listing(files: &[String]) -> String {
    if files.is_empty() {
        "no service binary".into()
    } else {
        files.join(", ")
    }
}

/// The entries in which two installs of one service differ: (entry, here, there).
fn differences<'a>(
    here: &'a ServiceInstall,
    there: &'a ServiceInstall,
) -> Vec<(&'static str, &'a str, &'a str)> {
    let same_number = |a: &str, b: &str| match (parse::number(a), parse::number(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.eq_ignore_ascii_case(b),
    };
    let mut found = Vec::new();
    if here.display_name != there.display_name {
        found.push((
            "DisplayName",
            here.display_name.as_str(),
            there.display_name.as_str(),
        ));
    }
    for (entry, a, b) in [
        ("ServiceType", &here.service_type, &there.service_type),
        ("StartType", &here.start_type, &there.start_type),
        ("ErrorControl", &here.error_control, &there.error_control),
    ] {
        if !same_number(a, b) {
            found.push((entry, a.as_str(), b.as_str()));
        }
    }
    if !here.binary_file().eq_ignore_ascii_case(there.binary_file()) {
        found.push(("ServiceBinary", here.binary.as_str(), there.binary.as_str()));
    }
    found
}
