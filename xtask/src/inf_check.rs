//! Checks of the driver package INF: the rules InfVerif enforces that can be read from the text.
//!
//! The parser follows install/general-syntax-rules-for-inf-files: sections in brackets (names
//! case-insensitive, same-named sections merge), `key = value, value` entries, `;` comments
//! outside quotes, `\` line continuation, quoted strings with `""` for a quote, `%strkey%`
//! tokens with `%%` for a percent sign. The checks:
//! - [Version]: Signature, Class/ClassGuid that match, Provider, CatalogFile, PnpLockdown=1, a
//!   well-formed DriverVer (install/inf-version-section, install/inf-driverver-directive), and no
//!   key given twice.
//! - [Strings]: no key given twice; every `%strkey%` used anywhere resolves (numeric tokens are
//!   DIRIDs, install/using-dirids).
//! - Every architecture shipped has decorated Models sections (one per decoration of its
//!   platform, e.g. `NTamd64` and `NTamd64.10.0...25319`) and DDInstall sections (found in the
//!   order install/creating-inf-files-for-multiple-platforms-and-operating-systems gives:
//!   `.NTamd64`, then `.NT`, then undecorated) with a `.Services` section; a device's names the
//!   function driver (SPSVCINST_ASSOCSERVICE, install/inf-addservice-directive), a network
//!   software component's (not a PnP device) may be absent only with NCF_NO_SERVICE.
//! - Every section a directive names exists (AddReg, CopyFiles, AddService, ...; `Needs` only
//!   when there is no `Include`, since then it may name sections of system INFs).
//! - Network classes (network.rs): a Characteristics entry with NCF_ flags that fit the class,
//!   UpperRange and LowerRange under Ndi\Interfaces, an Ndi Service value that names the added
//!   service; for NetTrans/NetClient/NetService also CoServices and (when visible) HelpText.
//! - Every service-install section has the four entries install/inf-addservice-directive
//!   requires; every [ControlFlags] ExcludeFromSelect ID is one the INF installs.
//! - Every copied file is in SourceDisksFiles (plain or `.amd64`/`.arm64`/`.x86`) on a disk that
//!   SourceDisksNames defines, and every CopyFiles list has a DestinationDirs entry.
//!
//! The rules between the INFs of one package (CopyINF, the shared catalog and service) are in
//! package.rs.

mod network;
mod package;
mod parse;

#[cfg(test)]
mod protocol_tests;
#[cfg(test)]
mod tests;

pub use package::check_package;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::arch::Arch;
use parse::{Entry, Inf};

/// One device an architecture installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfDevice {
    pub arch: Arch,
    pub hardware_id: String,
    /// The DDInstall section Windows picks for this arch.
    pub install_section: String,
}

/// What a passing INF declares, for the package and the catalog.
#[derive(Debug, Clone)]
pub struct InfReport {
    pub class: String,
    pub class_guid: String,
    /// `mm/dd/yyyy` and `w.x.y.z` as written.
    pub driver_date: String,
    pub driver_version: String,
    pub catalog_file: String,
    /// The line of the CatalogFile entry.
    pub catalog_line: usize,
    pub devices: Vec<InfDevice>,
    /// The distinct hardware IDs of `devices`, in INF order (for the catalog's HWID members).
    pub hardware_ids: Vec<String>,
    /// Source file names every shipped architecture copies.
    pub copied_files: BTreeSet<String>,
    /// The services the installations add, once per service-install section.
    pub services: Vec<ServiceInstall>,
    /// CopyINF targets, as written, with their lines.
    pub copied_infs: Vec<(usize, String)>,
    /// DelService names anywhere in the INF, with their lines.
    pub deleted_services: Vec<(usize, String)>,
    /// The Ndi\Interfaces interface names of every installation, lower case.
    pub upper_range: BTreeSet<String>,
    pub lower_range: BTreeSet<String>,
}

/// One service an AddService directive installs, with its service-install section's entries
/// resolved against [Strings].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInstall {
    /// The line of the AddService directive.
    pub line: usize,
    pub name: String,
    pub section: String,
    pub display_name: String,
    pub service_type: String,
    pub start_type: String,
    pub error_control: String,
    /// As written, e.g. `%13%\rswan.sys`.
    pub binary: String,
}

impl ServiceInstall {
    /// The binary's file name, without its folder.
    pub fn binary_file(&self) -> &str {
        self.binary
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or(&self.binary)
    }
}

/// One line for the build log: what the INF installs.
impl fmt::Display for InfReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let devices: Vec<String> = self
            .devices
            .iter()
            .map(|d| format!("{} {} via [{}]", d.arch, d.hardware_id, d.install_section))
            .collect();
        let files: Vec<&str> = self.copied_files.iter().map(String::as_str).collect();
        let services: Vec<String> = self
            .services
            .iter()
            .map(|s| {
                format!(
                    "{} [{}] = {} (type {}, start {}, error {}, \"{}\")",
                    s.name,
                    s.section,
                    s.binary,
                    s.service_type,
                    s.start_type,
                    s.error_control,
                    s.display_name
                )
            })
            .collect();
        let names = |list: &[(usize, String)]| {
            let names: Vec<&str> = list.iter().map(|(_, n)| n.as_str()).collect();
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let range = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
        write!(
            f,
            "Class {} {}, DriverVer {},{}, CatalogFile {}; installs {}; copies {}; services {}; \
             UpperRange {}, LowerRange {}; CopyINF {}; DelService {}",
            self.class,
            self.class_guid,
            self.driver_date,
            self.driver_version,
            self.catalog_file,
            devices.join(", "),
            files.join(", "),
            services.join(", "),
            range(&self.upper_range),
            range(&self.lower_range),
            names(&self.copied_infs),
            names(&self.deleted_services)
        )
    }
}

/// One problem, at a line of the INF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfProblem {
    pub line: usize,
    pub message: String,
}

/// Every problem found in one INF.
#[derive(Debug, Clone)]
pub struct InfCheckError {
    pub path: PathBuf,
    pub problems: Vec<InfProblem>,
}

impl fmt::Display for InfCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed {} INF check(s):",
            self.path.display(),
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n  {}:{}: {}", self.path.display(), p.line, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for InfCheckError {}

/// Device setup classes a network driver package uses, with their system GUIDs
/// (network/installation-requirements-for-network-adapters, -protocols, -services).
const KNOWN_CLASSES: [(&str, &str); 4] = [
    ("Net", "{4D36E972-E325-11CE-BFC1-08002BE10318}"),
    ("NetClient", "{4D36E973-E325-11CE-BFC1-08002BE10318}"),
    ("NetService", "{4D36E974-E325-11CE-BFC1-08002BE10318}"),
    ("NetTrans", "{4D36E975-E325-11CE-BFC1-08002BE10318}"),
];

/// Directives whose values are all names of sections in this INF.
const SECTION_LIST_DIRECTIVES: [&str; 14] = [
    "AddReg",
    "DelReg",
    "BitReg",
    "CopyFiles",
    "DelFiles",
    "RenFiles",
    "AddProperty",
    "DelProperty",
    "Ini2Reg",
    "UpdateInis",
    "UpdateIniFields",
    "RegisterDlls",
    "UnregisterDlls",
    "ProfileItems",
];

/// Directives that name a section in their third field (and AddService in its fourth).
const THIRD_FIELD_DIRECTIVES: [&str; 4] =
    ["AddService", "AddInterface", "AddComponent", "AddSoftware"];

/// Sections whose entries are data, not directives.
fn is_data_section(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "version"
        || lower.starts_with("strings")
        || lower.starts_with("sourcedisks")
        || lower == "destinationdirs"
        || lower == "manufacturer"
}

/// The SourceDisksNames/SourceDisksFiles decoration of an architecture
/// (install/inf-sourcedisksfiles-section).
fn source_disks_platform(arch: Arch) -> &'static str {
    match arch {
        Arch::X64 => "amd64",
        Arch::Arm64 => "arm64",
        Arch::X86 => "x86",
    }
}

/// Checks the INF at `path` for a package that ships `arches`.
pub fn check_inf(path: &Path, arches: &[Arch]) -> Result<InfReport, InfCheckError> {
    let fail = |problems| InfCheckError {
        path: path.to_path_buf(),
        problems,
    };
    let bytes = std::fs::read(path).map_err(|e| {
        fail(vec![InfProblem {
            line: 0,
            message: format!("cannot read the INF: {e}"),
        }])
    })?;
    let text =
        parse::decode(&bytes).map_err(|message| fail(vec![InfProblem { line: 1, message }]))?;
    check_text(&text, path, arches)
}

/// Checks INF text; `path` names it in the report and the errors.
pub fn check_text(text: &str, path: &Path, arches: &[Arch]) -> Result<InfReport, InfCheckError> {
    let (inf, mut problems) = Inf::parse(text);
    let mut checker = Checker {
        inf: &inf,
        problems: Vec::new(),
        strings: HashMap::new(),
        class: String::new(),
    };
    checker.check_strings();
    checker.check_tokens();
    let version = checker.check_version();
    checker.class = checker
        .version_value("Class")
        .map(|(_, class, _)| checker.resolve(&class))
        .unwrap_or_default();
    let devices = checker.check_arches(arches);
    checker.check_network(&devices);
    checker.check_references();
    checker.check_exclude_from_select(&devices);
    let services = checker.check_services(&devices);
    let copied_files = checker.check_files(arches, &devices);
    let copied_infs = checker.copied_infs(&devices);
    let deleted_services = checker.deleted_services();
    let (upper_range, lower_range) = checker.ranges(&devices);
    problems.append(&mut checker.problems);
    // A registry line reached from several DDInstall sections is reported once.
    problems.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
    problems.dedup();
    if !problems.is_empty() {
        return Err(InfCheckError {
            path: path.to_path_buf(),
            problems,
        });
    }
    let version = version.expect("a [Version] without problems was read");
    Ok(InfReport {
        class: version.class,
        class_guid: version.class_guid,
        driver_date: version.driver_date,
        driver_version: version.driver_version,
        catalog_file: version.catalog_file,
        catalog_line: version.catalog_line,
        hardware_ids: devices.iter().fold(Vec::new(), |mut ids, (device, _)| {
            if !ids.contains(&device.hardware_id) {
                ids.push(device.hardware_id.clone());
            }
            ids
        }),
        devices: devices.into_iter().map(|(device, _)| device).collect(),
        copied_files,
        services,
        copied_infs,
        deleted_services,
        upper_range,
        lower_range,
    })
}

/// What [Version] declares.
struct VersionInfo {
    class: String,
    class_guid: String,
    driver_date: String,
    driver_version: String,
    catalog_file: String,
    catalog_line: usize,
}

struct Checker<'a> {
    inf: &'a Inf,
    problems: Vec<InfProblem>,
    /// [Strings] keys, lowercase, to their values.
    strings: HashMap<String, String>,
    /// [Version] Class, resolved (empty if missing).
    class: String,
}

impl Checker<'_> {
    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(InfProblem { line, message });
    }

    /// Reports keys given twice in a section where each key must be unique.
    fn check_unique_keys(&mut self, section: &str) {
        let mut first: HashMap<String, usize> = HashMap::new();
        let entries: Vec<(usize, String)> = self
            .inf
            .entries(section)
            .filter_map(|e| e.key.clone().map(|k| (e.line, k)))
            .collect();
        for (line, key) in entries {
            match first.get(&key.to_ascii_lowercase()) {
                Some(&earlier) => self.problem(
                    line,
                    format!(
                        "[{section}] sets {key} again (first on line {earlier}): keep one of them"
                    ),
                ),
                None => {
                    first.insert(key.to_ascii_lowercase(), line);
                }
            }
        }
    }

    fn check_strings(&mut self) {
        let string_sections: Vec<String> = self
            .inf
            .section_names()
            .filter(|n| {
                let lower = n.to_ascii_lowercase();
                lower == "strings" || lower.starts_with("strings.")
            })
            .map(str::to_string)
            .collect();
        for section in &string_sections {
            self.check_unique_keys(section);
        }
        // Tokens resolve against the undecorated [Strings] (the fallback for every locale).
        let strings: HashMap<String, String> = self
            .inf
            .entries("Strings")
            .filter_map(|e| {
                e.key
                    .as_ref()
                    .map(|k| (k.to_ascii_lowercase(), e.text_value()))
            })
            .collect();
        self.strings = strings;
    }

    /// Every `%strkey%` outside [Strings] must be defined there.
    fn check_tokens(&mut self) {
        let mut found = Vec::new();
        for section in self.inf.sections() {
            let lower = section.name.to_ascii_lowercase();
            if lower == "strings" || lower.starts_with("strings.") {
                continue;
            }
            for entry in &section.entries {
                found.push((entry.line, parse::tokens(&entry.text)));
            }
        }
        for (line, tokens) in found {
            match tokens {
                Err(message) => self.problem(line, message),
                Ok(tokens) => {
                    for token in tokens {
                        let dirid = token.chars().all(|c| c.is_ascii_digit());
                        if !dirid && !self.strings.contains_key(&token.to_ascii_lowercase()) {
                            self.problem(
                                line,
                                format!(
                                    "%{token}% is not defined in [Strings]: add `{token} = \"...\"` \
                                     to [Strings] (write %% for a literal percent sign)"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Replaces `%strkey%` tokens with their [Strings] values (DIRIDs stay as they are).
    fn resolve(&self, text: &str) -> String {
        parse::substitute(text, |token| {
            self.strings.get(&token.to_ascii_lowercase()).cloned()
        })
    }

    fn version_value(&self, key: &str) -> Option<(usize, String, Vec<String>)> {
        self.inf
            .entries("Version")
            .find(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key))
            })
            .map(|e| (e.line, e.text_value(), e.values.clone()))
    }

    fn check_version(&mut self) -> Option<VersionInfo> {
        let Some(version_line) = self.inf.section_line("Version") else {
            self.problem(
                1,
                "there is no [Version] section: every INF starts with one \
                 (install/inf-version-section)"
                    .into(),
            );
            return None;
        };
        self.check_unique_keys("Version");
        let before = self.problems.len();
        let required = |checker: &mut Self, key: &str, example: &str| {
            let found = checker.version_value(key);
            if found.is_none() {
                checker.problem(
                    version_line,
                    format!("[Version] has no {key}: add `{key} = {example}`"),
                );
            }
            found
        };
        let signature = required(self, "Signature", "\"$WINDOWS NT$\"");
        let class = required(self, "Class", "Net");
        let class_guid = required(self, "ClassGuid", "{4D36E972-E325-11CE-BFC1-08002BE10318}");
        required(self, "Provider", "%ProviderName%");
        let pnp_lockdown = required(self, "PnpLockdown", "1");
        let driver_ver = required(self, "DriverVer", "11/26/2026,0.1.0.0");
        let catalog = self
            .inf
            .entries("Version")
            .find(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.to_ascii_lowercase().starts_with("catalogfile"))
            })
            .map(|e| (e.line, e.text_value()));
        if catalog.is_none() {
            self.problem(
                version_line,
                "[Version] has no CatalogFile, so Windows treats the package as unsigned \
                 (install/inf-version-section): add `CatalogFile = rswan.cat`"
                    .into(),
            );
        }

        if let Some((line, value, _)) = &signature
            && !["$windows nt$", "$chicago$"].contains(&value.to_ascii_lowercase().as_str())
        {
            self.problem(
                *line,
                format!("Signature is `{value}`: it must be \"$WINDOWS NT$\" (or \"$Chicago$\")"),
            );
        }
        if let Some((line, value, _)) = &pnp_lockdown
            && value != "1"
        {
            self.problem(
                *line,
                format!(
                    "PnpLockdown is `{value}`: set `PnpLockdown = 1` so that PnP protects the \
                     driver files"
                ),
            );
        }
        if let (Some((line, class, _)), Some((guid_line, guid, _))) = (&class, &class_guid) {
            let class = self.resolve(class);
            let guid = self.resolve(guid);
            if !parse::is_guid(&guid) {
                self.problem(
                    *guid_line,
                    format!(
                        "ClassGuid `{guid}` is not a GUID in braces ({{8-4-4-4-12 hex digits}})"
                    ),
                );
            } else if let Some((known, known_guid)) = KNOWN_CLASSES
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(&class))
                && !known_guid.eq_ignore_ascii_case(&guid)
            {
                self.problem(
                    *line,
                    format!(
                        "Class = {class} needs ClassGuid = {known_guid}, the {known} class's GUID, \
                         not {guid}"
                    ),
                );
            } else if let Some((known, _)) = KNOWN_CLASSES
                .iter()
                .find(|(_, g)| g.eq_ignore_ascii_case(&guid))
                && !known.eq_ignore_ascii_case(&class)
            {
                self.problem(
                    *line,
                    format!("ClassGuid {guid} is the {known} class's GUID, but Class = {class}"),
                );
            }
        }
        if let Some((line, _, values)) = &driver_ver
            && let Err(message) = parse::check_driver_ver(values)
        {
            self.problem(
                *line,
                format!(
                    "DriverVer `{}`: {message}; write `DriverVer = MM/DD/YYYY,w.x.y.z`, e.g. \
                     `DriverVer = 11/26/2026,0.1.0.0`",
                    values.join(",")
                ),
            );
        }
        if self.problems.len() != before {
            return None;
        }
        let (class, class_guid, driver_ver, catalog) = (class?, class_guid?, driver_ver?, catalog?);
        Some(VersionInfo {
            class: self.resolve(&class.1),
            class_guid: self.resolve(&class_guid.1),
            driver_date: driver_ver.2[0].clone(),
            driver_version: driver_ver.2[1].clone(),
            catalog_file: catalog.1,
            catalog_line: catalog.0,
        })
    }

    /// The Models and DDInstall sections of each architecture. Returns each device with the
    /// sections its installation processes.
    fn check_arches(&mut self, arches: &[Arch]) -> Vec<(InfDevice, Vec<String>)> {
        let Some(manufacturer_line) = self.inf.section_line("Manufacturer") else {
            self.problem(
                1,
                "there is no [Manufacturer] section, so the INF installs no device: add \
                 `[Manufacturer]` with `%ManufacturerName% = models, NTamd64, NTarm64, NTx86`"
                    .into(),
            );
            return Vec::new();
        };
        let manufacturers: Vec<Entry> = self.inf.entries("Manufacturer").cloned().collect();
        if manufacturers.is_empty() {
            self.problem(
                manufacturer_line,
                "[Manufacturer] is empty: add `%ManufacturerName% = models, NTamd64, NTarm64, NTx86`"
                    .into(),
            );
        }
        let mut devices = Vec::new();
        for manufacturer in &manufacturers {
            let Some(models) = manufacturer.values.first().map(|m| self.resolve(m)) else {
                continue;
            };
            let decorations: Vec<String> = manufacturer.values[1..]
                .iter()
                .map(|d| self.resolve(d))
                .collect();
            for &arch in arches {
                let platform = arch.inf_decoration();
                // Several decorations of one platform may differ in TargetOSVersion (e.g.
                // NTamd64 and NTamd64.10.0...25319): each names a Models section of its own.
                let matching: Vec<&String> = decorations
                    .iter()
                    .filter(|d| {
                        let lower = d.to_ascii_lowercase();
                        let platform = platform.to_ascii_lowercase();
                        lower == platform || lower.starts_with(&format!("{platform}."))
                    })
                    .collect();
                if matching.is_empty() {
                    self.problem(
                        manufacturer.line,
                        format!(
                            "[Manufacturer] lists no {platform} decoration for `{models}`, so the \
                             package installs nothing on {arch}: add `, {platform}` to this line \
                             and a [{models}.{platform}] Models section"
                        ),
                    );
                    continue;
                }
                for decoration in matching {
                    devices.extend(self.check_models_section(
                        arch,
                        manufacturer.line,
                        &format!("{models}.{decoration}"),
                    ));
                }
            }
        }
        devices
    }

    /// One Models section of `arch`, named by the [Manufacturer] entry on `manufacturer_line`.
    fn check_models_section(
        &mut self,
        arch: Arch,
        manufacturer_line: usize,
        models_section: &str,
    ) -> Vec<(InfDevice, Vec<String>)> {
        let Some(models_line) = self.inf.section_line(models_section) else {
            self.problem(
                manufacturer_line,
                format!(
                    "[Manufacturer] names the Models section [{models_section}] for {arch}, \
                     which does not exist: add it"
                ),
            );
            return Vec::new();
        };
        let entries: Vec<Entry> = self.inf.entries(models_section).cloned().collect();
        if entries.is_empty() {
            self.problem(
                models_line,
                format!("[{models_section}] lists no device: add `%DeviceDesc% = install, hw-id`"),
            );
        }
        entries
            .iter()
            .filter_map(|entry| self.check_model(arch, models_section, entry))
            .collect()
    }

    /// One Models entry of `arch`: `desc = install-section, hw-id[, compatible-id...]`.
    fn check_model(
        &mut self,
        arch: Arch,
        models_section: &str,
        entry: &Entry,
    ) -> Option<(InfDevice, Vec<String>)> {
        let install = entry
            .values
            .first()
            .map(|v| self.resolve(v))
            .unwrap_or_default();
        let hardware_id = entry
            .values
            .iter()
            .skip(1)
            .map(|v| self.resolve(v))
            .find(|v| !v.is_empty());
        if entry.key.is_none() || install.is_empty() {
            self.problem(
                entry.line,
                format!(
                    "[{models_section}]: expected `device-description = install-section, hw-id`"
                ),
            );
            return None;
        }
        let Some(hardware_id) = hardware_id else {
            self.problem(
                entry.line,
                format!(
                    "[{models_section}] names no hardware or compatible ID for {install}: add one \
                     after the install section (install/inf-models-section)"
                ),
            );
            return None;
        };
        let platform = arch.inf_decoration();
        let candidates = [
            format!("{install}.{platform}"),
            format!("{install}.NT"),
            install.clone(),
        ];
        let Some(section) = candidates
            .iter()
            .find(|c| self.inf.section_line(c).is_some())
            .cloned()
        else {
            self.problem(
                entry.line,
                format!(
                    "{arch} installs `{install}` from [{models_section}], but there is no \
                     DDInstall section [{install}.{platform}] (nor [{install}.NT] or [{install}]): \
                     add [{install}.{platform}]"
                ),
            );
            return None;
        };
        let services = format!("{section}.Services");
        let mut processed = vec![section.clone()];
        // A network software component (NetTrans, NetClient, NetService) is no PnP device: its
        // service is named by Ndi Service/CoServices, not as a function driver, and
        // NCF_NO_SERVICE says it has none (network/ddinstall-section-in-a-network-inf-file).
        let software = self.is_network_software();
        let no_service = self
            .characteristics(&section)
            .and_then(|(_, flags, _)| flags)
            .is_some_and(|flags| flags & network::NCF_NO_SERVICE != 0);
        match self.inf.section_line(&services) {
            None if software && no_service => {}
            None if software => self.problem(
                entry.line,
                format!(
                    "[{section}] has no [{services}] section, so no driver would run for \
                     {hardware_id} on {arch}: add [{services}] with `AddService = name, 0, \
                     service-install-section`, or set NCF_NO_SERVICE (0x10) in Characteristics"
                ),
            ),
            None => self.problem(
                entry.line,
                format!(
                    "[{section}] has no [{services}] section, so no driver would run for \
                     {hardware_id} on {arch}: add [{services}] with `AddService = name, \
                     0x00000002, service-install-section`"
                ),
            ),
            Some(_) if software => processed.push(services),
            Some(line) => {
                let function_driver = self.inf.entries(&services).any(|e| {
                    e.key
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case("AddService"))
                        && e.values
                            .get(1)
                            .and_then(|f| parse::number(f))
                            .is_some_and(|flags| flags & 0x2 != 0)
                });
                if !function_driver {
                    self.problem(
                        line,
                        format!(
                            "[{services}] has no AddService with flag 0x00000002 \
                             (SPSVCINST_ASSOCSERVICE), so the device has no function driver: \
                             add `AddService = name, 0x00000002, service-install-section`"
                        ),
                    );
                }
                processed.push(services);
            }
        }
        Some((
            InfDevice {
                arch,
                hardware_id,
                install_section: section,
            },
            processed,
        ))
    }

    /// The sections named by one directive entry, resolved (`@file` copies name no section).
    fn referenced_sections(&self, entry: &Entry) -> Vec<String> {
        let Some(key) = entry.key.as_deref() else {
            return Vec::new();
        };
        let values: Vec<String> = entry.values.iter().map(|v| self.resolve(v)).collect();
        let named: Vec<String> = if SECTION_LIST_DIRECTIVES
            .iter()
            .any(|d| d.eq_ignore_ascii_case(key))
        {
            values
                .into_iter()
                .filter(|v| !v.is_empty() && !v.starts_with('@'))
                .collect()
        } else if THIRD_FIELD_DIRECTIVES
            .iter()
            .any(|d| d.eq_ignore_ascii_case(key))
        {
            // AddService also names an event-log-install section in its fourth field.
            let fields = if key.eq_ignore_ascii_case("AddService") {
                2
            } else {
                1
            };
            values
                .into_iter()
                .skip(2)
                .take(fields)
                .filter(|v| !v.is_empty())
                .collect()
        } else if key.eq_ignore_ascii_case("Needs") && !self.has_include() {
            values.into_iter().filter(|v| !v.is_empty()).collect()
        } else {
            Vec::new()
        };
        named
    }

    fn has_include(&self) -> bool {
        self.inf.sections().any(|s| {
            s.entries.iter().any(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("Include"))
            })
        })
    }

    fn check_references(&mut self) {
        let mut missing = Vec::new();
        for section in self.inf.sections() {
            if is_data_section(&section.name) {
                continue;
            }
            for entry in &section.entries {
                for name in self.referenced_sections(entry) {
                    if self.inf.section_line(&name).is_none() {
                        let key = entry.key.clone().unwrap_or_default();
                        missing.push((
                            entry.line,
                            format!(
                                "{key} in [{}] names section [{name}], which does not exist: add \
                             [{name}] or correct the name",
                                section.name
                            ),
                        ));
                    }
                }
            }
        }
        for (line, message) in missing {
            self.problem(line, message);
        }
    }

    /// [ControlFlags] ExcludeFromSelect (and its platform forms) names hardware IDs that this
    /// INF's Models sections install, or `*` (install/inf-controlflags-section).
    fn check_exclude_from_select(&mut self, devices: &[(InfDevice, Vec<String>)]) {
        let mut unknown = Vec::new();
        for entry in self.inf.entries("ControlFlags") {
            let is_exclude = entry.key.as_deref().is_some_and(|k| {
                let lower = k.to_ascii_lowercase();
                lower == "excludefromselect" || lower.starts_with("excludefromselect.")
            });
            if !is_exclude {
                continue;
            }
            for id in entry.values.iter().map(|v| self.resolve(v)) {
                let known = id == "*"
                    || devices
                        .iter()
                        .any(|(d, _)| d.hardware_id.eq_ignore_ascii_case(&id));
                if !known {
                    unknown.push((entry.line, id));
                }
            }
        }
        for (line, id) in unknown {
            self.problem(
                line,
                format!(
                    "ExcludeFromSelect names `{id}`, which no Models section of this INF installs: \
                     name a hardware ID from a Models section (install/inf-controlflags-section)"
                ),
            );
        }
    }

    /// The services the devices' .Services sections add. Each service-install section needs
    /// ServiceType, StartType, ErrorControl and ServiceBinary (install/inf-addservice-directive).
    fn check_services(&mut self, devices: &[(InfDevice, Vec<String>)]) -> Vec<ServiceInstall> {
        let mut found: Vec<ServiceInstall> = Vec::new();
        let mut missing = Vec::new();
        for (device, _) in devices {
            let services = format!("{}.Services", device.install_section);
            for entry in self.inf.entries(&services) {
                let is_add = entry
                    .key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("AddService"));
                let values: Vec<String> = entry.values.iter().map(|v| self.resolve(v)).collect();
                let (Some(name), Some(section)) = (values.first(), values.get(2)) else {
                    continue;
                };
                if !is_add
                    || name.is_empty()
                    || self.inf.section_line(section).is_none()
                    || found
                        .iter()
                        .any(|s| s.section.eq_ignore_ascii_case(section))
                {
                    continue;
                }
                let value = |key: &str| {
                    self.inf
                        .entries(section)
                        .find(|e| {
                            e.key
                                .as_deref()
                                .is_some_and(|k| k.eq_ignore_ascii_case(key))
                        })
                        .map(|e| self.resolve(&e.text_value()))
                };
                let section_line = self.inf.section_line(section).unwrap_or(entry.line);
                for key in ["ServiceType", "StartType", "ErrorControl", "ServiceBinary"] {
                    if value(key).is_none() {
                        missing.push((section_line, section.clone(), key));
                    }
                }
                found.push(ServiceInstall {
                    line: entry.line,
                    name: name.clone(),
                    section: section.clone(),
                    display_name: value("DisplayName").unwrap_or_default(),
                    service_type: value("ServiceType").unwrap_or_default(),
                    start_type: value("StartType").unwrap_or_default(),
                    error_control: value("ErrorControl").unwrap_or_default(),
                    binary: value("ServiceBinary").unwrap_or_default(),
                });
            }
        }
        for (line, section, key) in missing {
            self.problem(
                line,
                format!(
                    "[{section}] has no {key}: a service-install section needs ServiceType, \
                     StartType, ErrorControl and ServiceBinary (install/inf-addservice-directive)"
                ),
            );
        }
        found
    }

    /// CopyINF targets of the sections the installations process, each once.
    fn copied_infs(&self, devices: &[(InfDevice, Vec<String>)]) -> Vec<(usize, String)> {
        let roots: Vec<String> = devices
            .iter()
            .flat_map(|(_, sections)| sections.iter().cloned())
            .collect();
        let mut found: Vec<(usize, String)> = Vec::new();
        for section in self.reachable(&roots) {
            for entry in self.inf.entries(&section) {
                if !entry
                    .key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("CopyINF"))
                {
                    continue;
                }
                for target in entry.values.iter().map(|v| self.resolve(v)) {
                    if !target.is_empty() {
                        found.push((entry.line, target));
                    }
                }
            }
        }
        // Each target once, at its first line.
        found.sort();
        let mut seen = HashSet::new();
        found.retain(|(_, target)| seen.insert(target.to_ascii_lowercase()));
        found
    }

    /// Every DelService directive's service name.
    fn deleted_services(&self) -> Vec<(usize, String)> {
        self.inf
            .sections()
            .filter(|s| !is_data_section(&s.name))
            .flat_map(|s| s.entries.iter())
            .filter(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("DelService"))
            })
            .filter_map(|e| e.values.first().map(|v| (e.line, self.resolve(v))))
            .collect()
    }

    /// The union of the devices' UpperRange and LowerRange interface names.
    fn ranges(&self, devices: &[(InfDevice, Vec<String>)]) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut upper = BTreeSet::new();
        let mut lower = BTreeSet::new();
        for (device, _) in devices {
            let (u, l) = self.binding_ranges(&device.install_section);
            upper.extend(u);
            lower.extend(l);
        }
        (upper, lower)
    }

    /// The sections an installation processes, from its DDInstall sections through every
    /// directive that names another section.
    fn reachable(&self, roots: &[String]) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut order = Vec::new();
        let mut queue: Vec<String> = roots.to_vec();
        while let Some(name) = queue.pop() {
            if !seen.insert(name.to_ascii_lowercase()) || self.inf.section_line(&name).is_none() {
                continue;
            }
            order.push(name.clone());
            for entry in self.inf.entries(&name) {
                queue.extend(self.referenced_sections(entry));
            }
        }
        order
    }

    /// CopyFiles coverage by DestinationDirs and SourceDisksFiles/Names, per architecture.
    fn check_files(
        &mut self,
        arches: &[Arch],
        devices: &[(InfDevice, Vec<String>)],
    ) -> BTreeSet<String> {
        let default_dest = self.inf.entries("DestinationDirs").any(|e| {
            e.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("DefaultDestDir"))
        });
        let destinations: HashSet<String> = self
            .inf
            .entries("DestinationDirs")
            .filter_map(|e| e.key.as_ref().map(|k| self.resolve(k).to_ascii_lowercase()))
            .collect();
        let mut common: Option<BTreeSet<String>> = None;
        let mut reported: HashSet<(usize, String)> = HashSet::new();
        for &arch in arches {
            let roots: Vec<String> = devices
                .iter()
                .filter(|(d, _)| d.arch == arch)
                .flat_map(|(_, sections)| sections.iter().cloned())
                .collect();
            let mut files = BTreeSet::new();
            for section in self.reachable(&roots) {
                let copies: Vec<Entry> = self
                    .inf
                    .entries(&section)
                    .filter(|e| {
                        e.key
                            .as_deref()
                            .is_some_and(|k| k.eq_ignore_ascii_case("CopyFiles"))
                    })
                    .cloned()
                    .collect();
                for entry in copies {
                    let values: Vec<String> =
                        entry.values.iter().map(|v| self.resolve(v)).collect();
                    for value in values {
                        if let Some(file) = value.strip_prefix('@') {
                            if !default_dest && reported.insert((entry.line, "@".into())) {
                                self.problem(
                                    entry.line,
                                    format!(
                                        "CopyFiles = @{file} needs a DefaultDestDir in \
                                         [DestinationDirs]: add `DefaultDestDir = 13`"
                                    ),
                                );
                            }
                            files.insert((entry.line, file.to_string()));
                            continue;
                        }
                        if value.is_empty() || self.inf.section_line(&value).is_none() {
                            continue;
                        }
                        if !default_dest
                            && !destinations.contains(&value.to_ascii_lowercase())
                            && reported.insert((entry.line, value.clone()))
                        {
                            self.problem(
                                entry.line,
                                format!(
                                    "the CopyFiles list [{value}] has no destination: add \
                                     `{value} = 13` to [DestinationDirs]"
                                ),
                            );
                        }
                        for file in self.inf.entries(&value) {
                            let source = file
                                .values
                                .get(1)
                                .filter(|s| !s.is_empty())
                                .or(file.values.first())
                                .map(|s| self.resolve(s))
                                .unwrap_or_default();
                            if !source.is_empty() {
                                files.insert((file.line, source));
                            }
                        }
                    }
                }
            }
            for (line, file) in &files {
                if let Err(message) = self.source_disk_of(arch, file)
                    && reported.insert((*line, message.clone()))
                {
                    self.problem(*line, message);
                }
            }
            let names: BTreeSet<String> = files.into_iter().map(|(_, f)| f).collect();
            common = Some(match common {
                None => names,
                Some(c) => c.intersection(&names).cloned().collect(),
            });
        }
        common.unwrap_or_default()
    }

    /// Checks that `file` is on a source disk for `arch`.
    fn source_disk_of(&self, arch: Arch, file: &str) -> Result<(), String> {
        let platform = source_disks_platform(arch);
        let decorated_files = format!("SourceDisksFiles.{platform}");
        let entry = [decorated_files.as_str(), "SourceDisksFiles"]
            .iter()
            .find_map(|s| {
                self.inf.entries(s).find(|e| {
                    e.key
                        .as_deref()
                        .is_some_and(|k| k.eq_ignore_ascii_case(file))
                })
            })
            .ok_or_else(|| {
                format!(
                    "{file} is copied on {arch} but not listed in [SourceDisksFiles] (or \
                     [{decorated_files}]): add `{file} = 1` there"
                )
            })?;
        let disk = entry.values.first().cloned().unwrap_or_default();
        let decorated_names = format!("SourceDisksNames.{platform}");
        let defined = [decorated_names.as_str(), "SourceDisksNames"]
            .iter()
            .any(|s| {
                self.inf
                    .entries(s)
                    .any(|e| e.key.as_deref().is_some_and(|k| k.trim() == disk.trim()))
            });
        if defined {
            Ok(())
        } else {
            Err(format!(
                "{file} is on disk `{disk}`, which [SourceDisksNames] does not define: add \
                 `{disk} = %DiskName%` there"
            ))
        }
    }
}
