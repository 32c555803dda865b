//! The rules of network INFs (network/ddinstall-section-in-a-network-inf-file,
//! network/add-registry-sections-in-a-network-inf-file): a Characteristics entry with NCF_
//! flags that fit the class, the Ndi\Interfaces ranges, the Ndi Service value that names the
//! service the .Services section adds, and for network software components (NetTrans,
//! NetClient, NetService) CoServices and HelpText.

use std::collections::{BTreeSet, HashSet};

use super::parse;
use super::{Checker, InfDevice, KNOWN_CLASSES};

pub(super) const NCF_VIRTUAL: u64 = 0x1;
pub(super) const NCF_SOFTWARE_ENUMERATED: u64 = 0x2;
pub(super) const NCF_PHYSICAL: u64 = 0x4;
pub(super) const NCF_HIDDEN: u64 = 0x8;
pub(super) const NCF_NO_SERVICE: u64 = 0x10;
pub(super) const NCF_NOT_USER_REMOVABLE: u64 = 0x20;
pub(super) const NCF_HAS_UI: u64 = 0x80;

/// The flags that say what kind of adapter a Net component is; "only applicable to drivers
/// which use the Net device setup class".
const ADAPTER_KINDS: u64 = NCF_VIRTUAL | NCF_SOFTWARE_ENUMERATED | NCF_PHYSICAL;

/// The Characteristics a protocol may have (network/installation-requirements-for-network-
/// protocols, "Allowable values").
const PROTOCOL_FLAGS: u64 = NCF_HIDDEN | NCF_NO_SERVICE | NCF_NOT_USER_REMOVABLE | NCF_HAS_UI;

/// REG_MULTI_SZ in an add-registry line (install/inf-addreg-directive).
const FLG_ADDREG_TYPE_MULTI_SZ: u64 = 0x0001_0000;

/// One `HKR, subkey, name, flags, value[, value...]` line, resolved.
pub(super) struct RegistryValue {
    pub line: usize,
    pub subkey: String,
    pub name: String,
    pub flags: String,
    pub values: Vec<String>,
}

/// An `Ndi\Interfaces` range as the set of its comma-separated interface names, lower case.
pub(super) fn interface_names(range: &str) -> BTreeSet<String> {
    range
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

impl Checker<'_> {
    /// The INF's network class as the WDK spells it, if it is one.
    pub(super) fn network_class(&self) -> Option<&'static str> {
        KNOWN_CLASSES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(&self.class))
            .map(|(known, _)| *known)
    }

    /// NetTrans, NetClient and NetService components: software, not PnP devices.
    pub(super) fn is_network_software(&self) -> bool {
        self.network_class().is_some_and(|class| class != "Net")
    }

    /// The Characteristics of a DDInstall section: its line and its value, if a number.
    pub(super) fn characteristics(&self, section: &str) -> Option<(usize, Option<u64>, String)> {
        self.inf
            .entries(section)
            .find(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("Characteristics"))
            })
            .map(|e| {
                let value = e
                    .values
                    .first()
                    .map(|v| self.resolve(v))
                    .unwrap_or_default();
                (e.line, parse::number(&value), value)
            })
    }

    pub(super) fn check_network(&mut self, devices: &[(InfDevice, Vec<String>)]) {
        if self.network_class().is_none() {
            return;
        }
        let mut seen = HashSet::new();
        for (device, _) in devices {
            let section = device.install_section.clone();
            if !seen.insert(section.to_ascii_lowercase()) {
                continue;
            }
            let line = self.inf.section_line(&section).unwrap_or(0);
            let flags = match self.characteristics(&section) {
                None => {
                    let example = if self.is_network_software() {
                        "`Characteristics = 0x0`"
                    } else {
                        "`Characteristics = 0x29` (NCF_VIRTUAL | NCF_HIDDEN | \
                         NCF_NOT_USER_REMOVABLE)"
                    };
                    self.problem(
                        line,
                        format!(
                            "[{section}] has no Characteristics entry, which every DDInstall \
                             section of a network INF must have: add e.g. {example}"
                        ),
                    );
                    continue;
                }
                Some((line, Some(flags), _)) => (line, flags),
                Some((line, None, value)) => {
                    self.problem(
                        line,
                        format!(
                            "Characteristics `{value}` is not a number: write the sum of the \
                             NCF_ flags, e.g. 0x29"
                        ),
                    );
                    continue;
                }
            };
            self.check_characteristics(flags.0, flags.1);
            self.check_ndi(&section, line, flags.1);
        }
    }

    fn check_characteristics(&mut self, line: usize, flags: u64) {
        let kinds = flags & ADAPTER_KINDS;
        let class = self.network_class().unwrap_or("Net");
        if class != "Net" {
            if kinds != 0 {
                self.problem(
                    line,
                    format!(
                        "Characteristics {flags:#x} sets NCF_VIRTUAL (0x1), \
                         NCF_SOFTWARE_ENUMERATED (0x2) or NCF_PHYSICAL (0x4), which apply only \
                         to the Net class (network/ddinstall-section-in-a-network-inf-file), in a \
                         Class = {class} INF: drop {kinds:#x}"
                    ),
                );
            }
            let extra = flags & !(PROTOCOL_FLAGS | ADAPTER_KINDS);
            if class == "NetTrans" && extra != 0 {
                self.problem(
                    line,
                    format!(
                        "Characteristics {flags:#x} sets {extra:#x}, but a protocol may combine \
                         only NCF_HIDDEN (0x8), NCF_NO_SERVICE (0x10), NCF_NOT_USER_REMOVABLE \
                         (0x20) and NCF_HAS_UI (0x80) \
                         (network/installation-requirements-for-network-protocols): drop {extra:#x}"
                    ),
                );
            }
            return;
        }
        if kinds.count_ones() > 1 {
            self.problem(
                line,
                format!(
                    "Characteristics {flags:#x} combines NCF_VIRTUAL (0x1), \
                     NCF_SOFTWARE_ENUMERATED (0x2) and NCF_PHYSICAL (0x4), which are mutually \
                     exclusive: keep one"
                ),
            );
        }
        if kinds != 0 && flags & NCF_NO_SERVICE != 0 {
            self.problem(
                line,
                format!(
                    "Characteristics {flags:#x} has NCF_NO_SERVICE (0x10) on an adapter, which \
                     must always have a driver: drop 0x10"
                ),
            );
        }
    }

    /// The registry lines `HKR, subkey, name, flags, value...` that `section`'s installation
    /// adds.
    pub(super) fn registry_values(&self, section: &str) -> Vec<RegistryValue> {
        let mut values = Vec::new();
        for name in self.reachable(&[section.to_string()]) {
            for entry in self.inf.entries(&name) {
                let fields: Vec<String> = entry.values.iter().map(|v| self.resolve(v)).collect();
                if entry.key.is_none() && fields.len() >= 3 && fields[0].eq_ignore_ascii_case("HKR")
                {
                    values.push(RegistryValue {
                        line: entry.line,
                        subkey: fields[1].clone(),
                        name: fields[2].clone(),
                        flags: fields.get(3).cloned().unwrap_or_default(),
                        values: fields.get(4..).map(<[String]>::to_vec).unwrap_or_default(),
                    });
                }
            }
        }
        values
    }

    /// The UpperRange and LowerRange interface names that `section` sets.
    pub(super) fn binding_ranges(&self, section: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let values = self.registry_values(section);
        let range = |name: &str| {
            values
                .iter()
                .filter(|v| {
                    v.subkey.eq_ignore_ascii_case("Ndi\\Interfaces")
                        && v.name.eq_ignore_ascii_case(name)
                })
                .flat_map(|v| v.values.first().map(|r| interface_names(r)))
                .flatten()
                .collect()
        };
        (range("UpperRange"), range("LowerRange"))
    }

    fn check_ndi(&mut self, section: &str, line: usize, flags: u64) {
        let values = self.registry_values(section);
        let find = |subkey: &str, name: &str| {
            values.iter().find(|v| {
                v.subkey.eq_ignore_ascii_case(subkey) && v.name.eq_ignore_ascii_case(name)
            })
        };
        for range in ["UpperRange", "LowerRange"] {
            if find("Ndi\\Interfaces", range).is_none() {
                self.problem(
                    line,
                    format!(
                        "no add-registry-section of [{section}] sets {range} under \
                         Ndi\\Interfaces (network/specifying-binding-interfaces): add \
                         `HKR, Ndi\\Interfaces, {range}, 0, \"...\"` to its AddReg section"
                    ),
                );
            }
        }
        let software = self.is_network_software();
        let class = self.network_class().unwrap_or("Net");
        if software && flags & NCF_HIDDEN == 0 && find("Ndi", "HelpText").is_none() {
            self.problem(
                line,
                format!(
                    "[{section}] installs a visible {class} component but sets no Ndi HelpText \
                     (network/adding-a-helptext-value): add `HKR, Ndi, HelpText, 0, \
                     %HelpText%`, or set NCF_HIDDEN (0x8)"
                ),
            );
        }
        let co_services =
            find("Ndi", "CoServices").map(|v| (v.line, v.flags.clone(), v.values.clone()));
        if !software && let Some((co_line, _, _)) = &co_services {
            self.problem(
                *co_line,
                "an adapter has no CoServices value: \"only one service can be associated with \
                 an adapter\" (network/adding-service-related-values-to-the-ndi-key): remove it"
                    .into(),
            );
        }
        if flags & NCF_NO_SERVICE != 0 {
            return;
        }
        let services: Vec<String> = self
            .inf
            .entries(&format!("{section}.Services"))
            .filter(|e| {
                e.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("AddService"))
            })
            .filter_map(|e| e.values.first().map(|v| self.resolve(v)))
            .filter(|name| !name.is_empty())
            .collect();
        let service = find("Ndi", "Service").and_then(|v| v.values.first().cloned());
        match &service {
            None => self.problem(
                line,
                format!(
                    "no add-registry-section of [{section}] sets the Ndi Service value \
                     (network/adding-service-related-values-to-the-ndi-key): add `HKR, Ndi, \
                     Service, 0, \"{}\"`",
                    services.first().map_or("service-name", String::as_str)
                ),
            ),
            Some(service) if !services.iter().any(|s| s.eq_ignore_ascii_case(service)) => self
                .problem(
                    line,
                    format!(
                        "the Ndi Service value of [{section}] is `{service}`, but \
                         [{section}.Services] adds {}: they must match",
                        if services.is_empty() {
                            "no service".to_string()
                        } else {
                            services.join(", ")
                        }
                    ),
                ),
            Some(_) => {}
        }
        if software {
            self.check_co_services(section, line, co_services, service, &services);
        }
    }

    /// CoServices "is required for all NetTrans, NetClient, and NetService components" and
    /// lists "all the services that the component installs, including the primary service"
    /// (network/adding-service-related-values-to-the-ndi-key).
    fn check_co_services(
        &mut self,
        section: &str,
        line: usize,
        co_services: Option<(usize, String, Vec<String>)>,
        service: Option<String>,
        added: &[String],
    ) {
        let class = self.network_class().unwrap_or("NetTrans");
        let example = service.as_deref().unwrap_or("service-name");
        let Some((co_line, flags, listed)) = co_services else {
            self.problem(
                line,
                format!(
                    "no add-registry-section of [{section}] sets the Ndi CoServices value, which \
                     every {class} component needs (network/adding-service-related-values-to-the-\
                     ndi-key): add `HKR, Ndi, CoServices, 0x00010000, \"{example}\"`"
                ),
            );
            return;
        };
        if parse::number(&flags).is_none_or(|f| f & FLG_ADDREG_TYPE_MULTI_SZ == 0) {
            self.problem(
                co_line,
                format!(
                    "CoServices is a REG_MULTI_SZ value: write its flags as 0x00010000 \
                     (install/inf-addreg-directive), not `{flags}`"
                ),
            );
        }
        let lists = |name: &str| listed.iter().any(|l| l.eq_ignore_ascii_case(name));
        let mut reported = HashSet::new();
        for name in service.iter().chain(added) {
            if !lists(name) && reported.insert(name.to_ascii_lowercase()) {
                self.problem(
                    co_line,
                    format!(
                        "CoServices does not list `{name}`, a service the component installs: \
                         CoServices lists every service, the primary one included"
                    ),
                );
            }
        }
    }
}
