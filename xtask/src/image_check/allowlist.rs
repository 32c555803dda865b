//! `driver/imports.allowlist`: every function the driver image may import, per architecture,
//! each with the WDK documentation page that was checked for it.
//!
//! One function per line:
//!
//! ```text
//! NDIS.SYS!NdisMRegisterMiniportDriver  x64,arm64,x86  # ddi/ndis/nf-ndis-ndismregisterminiportdriver
//! ```
//!
//! `DLL!Function` (DLL one of ntoskrnl.exe, NDIS.SYS, HAL.dll; the function name exactly as
//! exported), the architectures it is checked for (any of x64, arm64, x86, comma-separated),
//! then `#` and the documentation page. Lines that start with `#` are comments.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ALLOWED_DLLS, Import};
use crate::arch::{self, Arch};

#[derive(Debug, Clone)]
pub(super) struct Entry {
    line: usize,
    dll: &'static str,
    function: String,
    arches: Vec<Arch>,
    pub(super) page: String,
}

impl Entry {
    fn render(dll: &str, function: &str, arches: &[Arch], page: &str) -> String {
        let arches: Vec<&str> = arches.iter().map(|a| a.name()).collect();
        format!("{dll}!{function}  {}  # {page}", arches.join(","))
    }
}

/// The parsed allowlist.
#[derive(Debug, Clone)]
pub struct Allowlist {
    path: PathBuf,
    pub(super) entries: Vec<Entry>,
}

impl Allowlist {
    pub fn load(path: &Path) -> Result<Allowlist, Vec<String>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![format!(
                "cannot read the import allowlist {}: {e}",
                path.display()
            )]
        })?;
        Allowlist::parse(&text, path)
    }

    /// Parses the text of an allowlist; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Allowlist, Vec<String>> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut errors = Vec::new();
        let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let at = || format!("{}:{line}", path.display());
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (spec, page) = match trimmed.split_once('#') {
                Some((spec, page)) if !page.trim().is_empty() => (spec, page.trim()),
                _ => {
                    errors.push(format!(
                        "{}: `{trimmed}` names no WDK documentation page: end the line with \
                         `# <page>`, e.g. `# ddi/ndis/nf-ndis-ndismregisterminiportdriver`",
                        at()
                    ));
                    continue;
                }
            };
            let fields: Vec<&str> = spec.split_whitespace().collect();
            let [name, arch_list] = fields[..] else {
                errors.push(format!(
                    "{}: expected `DLL!Function arches # page`, e.g. `NDIS.SYS!NdisMRegisterMiniportDriver \
                     x64,arm64,x86  # ddi/ndis/nf-ndis-ndismregisterminiportdriver`",
                    at()
                ));
                continue;
            };
            let Some((dll, function)) = name.split_once('!') else {
                errors.push(format!("{}: `{name}` is not `DLL!Function`", at()));
                continue;
            };
            let Some(dll) = ALLOWED_DLLS.iter().find(|d| d.eq_ignore_ascii_case(dll)) else {
                errors.push(format!(
                    "{}: {dll} is not a DLL a kernel-mode NDIS driver may import from ({})",
                    at(),
                    ALLOWED_DLLS.join(", ")
                ));
                continue;
            };
            if function.is_empty()
                || !function
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
            {
                errors.push(format!("{}: `{function}` is not a function name", at()));
                continue;
            }
            let arches = match arch::parse_list(arch_list) {
                Ok(arches) => arches,
                Err(e) => {
                    errors.push(format!("{}: {e}", at()));
                    continue;
                }
            };
            if let Some(first) = seen.insert((dll, function.to_string()), line) {
                errors.push(format!(
                    "{}: {dll}!{function} is already listed on line {first}: keep one line and \
                     list every architecture there",
                    at()
                ));
                continue;
            }
            entries.push(Entry {
                line,
                dll,
                function: function.to_string(),
                arches,
                page: page.to_string(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Allowlist {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// One problem per import of `arch` that the allowlist does not allow, each naming the line
    /// to add or change. Imports from other DLLs are reported by the DLL check instead.
    pub fn check(&self, arch: Arch, imports: &[Import]) -> Vec<String> {
        let mut problems = Vec::new();
        for import in imports {
            let Some(dll) = ALLOWED_DLLS
                .iter()
                .find(|d| d.eq_ignore_ascii_case(&import.dll))
            else {
                continue;
            };
            let entry = self
                .entries
                .iter()
                .find(|e| e.dll == *dll && e.function == import.function);
            match entry {
                None => problems.push(format!(
                    "the {arch} image imports {dll}!{} but {} does not list it. Check the WDK \
                     page that documents it for {arch}, then add the line\n    {}\n(the page \
                     name is a guess from the function name: write the page you checked)",
                    import.function,
                    self.path.display(),
                    Entry::render(
                        dll,
                        &import.function,
                        &[arch],
                        &guess_page(dll, &import.function)
                    ),
                )),
                Some(entry) if !entry.arches.contains(&arch) => {
                    let mut arches = entry.arches.clone();
                    arches.push(arch);
                    arches.sort_by_key(|a| Arch::ALL.iter().position(|b| b == a));
                    problems.push(format!(
                        "the {arch} image imports {dll}!{} but {}:{} allows it only for {}. \
                         Check that {} documents it for {arch}, then change that line to\n    {}",
                        entry.function,
                        self.path.display(),
                        entry.line,
                        entry
                            .arches
                            .iter()
                            .map(|a| a.name())
                            .collect::<Vec<_>>()
                            .join(","),
                        entry.page,
                        Entry::render(dll, &entry.function, &arches, &entry.page),
                    ));
                }
                Some(_) => {}
            }
        }
        problems
    }
}

/// The usual WDK DDI page name of a function: NDIS functions are documented in ndis.h, kernel
/// and HAL functions mostly in wdm.h.
fn guess_page(dll: &str, function: &str) -> String {
    let header = match dll {
        "NDIS.SYS" => "ndis",
        _ => "wdm",
    };
    format!("ddi/{header}/nf-{header}-{}", function.to_ascii_lowercase())
}
