//! The real inf/rswan_protocol.inf (the NetTrans half) passes; broken variants of it fail with
//! the line and the fix.

use std::path::{Path, PathBuf};

use super::parse::Inf;
use super::tests::{assert_problem, edit, line_of, problems_in};
use super::*;

const PATH: &str = "inf/rswan_protocol.inf";

fn real_path() -> PathBuf {
    crate::repo_root().join(PATH)
}

fn real_text() -> String {
    std::fs::read_to_string(real_path()).unwrap()
}

fn problems_of(text: &str) -> Vec<InfProblem> {
    problems_in(PATH, text, &Arch::ALL)
}

fn passes(text: &str) -> InfReport {
    check_text(text, Path::new(PATH), &Arch::ALL).unwrap_or_else(|e| panic!("{e}"))
}

/// The values of `key` in `section`, as written.
fn value(inf: &Inf, section: &str, key: &str) -> String {
    inf.entries(section)
        .find(|e| {
            e.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
        .unwrap_or_else(|| panic!("[{section}] has no {key}"))
        .values
        .join(",")
}

#[test]
fn the_real_protocol_inf_passes_for_every_architecture() {
    let report = check_inf(&real_path(), &Arch::ALL).unwrap_or_else(|e| panic!("{e}"));
    // network/installation-requirements-for-network-protocols: Class and ClassGuid.
    assert_eq!(report.class, "NetTrans");
    assert_eq!(report.class_guid, "{4D36E975-E325-11CE-BFC1-08002BE10318}");
    assert_eq!(report.catalog_file, "rswan.cat");
    let devices: Vec<(Arch, &str, &str)> = report
        .devices
        .iter()
        .map(|d| (d.arch, d.hardware_id.as_str(), d.install_section.as_str()))
        .collect();
    // network/manufacturer-section-in-a-network-inf-file: from build 25319 on the driver store,
    // before it System32\drivers; x86 Windows never reached that build.
    assert_eq!(
        devices,
        [
            (Arch::X64, "rswan_protocol", "rswan_protocol_store"),
            (Arch::X64, "rswan_protocol", "rswan_protocol_sys32"),
            (Arch::Arm64, "rswan_protocol", "rswan_protocol_store"),
            (Arch::Arm64, "rswan_protocol", "rswan_protocol_sys32"),
            (Arch::X86, "rswan_protocol", "rswan_protocol_sys32"),
        ]
    );
    assert_eq!(report.hardware_ids, ["rswan_protocol"]);
    assert_eq!(
        report.copied_files.iter().collect::<Vec<_>>(),
        ["rswan.sys"]
    );
    let services: Vec<(&str, &str, &str)> = report
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.section.as_str(), s.binary.as_str()))
        .collect();
    assert_eq!(
        services,
        [
            ("rswan", "rswan_service_store", r"%13%\rswan.sys"),
            ("rswan", "rswan_service_sys32", r"%12%\rswan.sys"),
        ]
    );
    let copied: Vec<&str> = report.copied_infs.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(copied, ["rswan.inf"]);
    assert!(report.deleted_services.is_empty());
    assert_eq!(report.upper_range.iter().collect::<Vec<_>>(), ["noupper"]);
    assert_eq!(report.lower_range.iter().collect::<Vec<_>>(), ["ndis5"]);
    assert!(
        report
            .to_string()
            .contains("UpperRange noupper, LowerRange ndis5; CopyINF rswan.inf; DelService none"),
        "{report}"
    );
}

#[test]
fn the_real_protocol_inf_declares_a_visible_protocol_over_ndis5_adapters() {
    let (inf, problems) = Inf::parse(&real_text());
    assert!(problems.is_empty(), "{problems:#?}");
    for install in ["rswan_protocol_store", "rswan_protocol_sys32"] {
        assert_eq!(value(&inf, install, "Characteristics"), "0x0");
        assert_eq!(value(&inf, install, "CopyINF"), "rswan.inf");
        assert_eq!(value(&inf, install, "AddReg"), "rswan_protocol_ndi_reg");
        // Flags 0: a network software component has no PnP function driver.
        assert!(
            value(&inf, &format!("{install}.Services"), "AddService").starts_with("rswan,0,"),
            "{install}"
        );
    }
    assert_eq!(
        value(&inf, "DestinationDirs", "rswan_protocol_files_store"),
        "13"
    );
    assert_eq!(
        value(&inf, "DestinationDirs", "rswan_protocol_files_sys32"),
        "12"
    );
    let ndi: Vec<Vec<String>> = inf
        .entries("rswan_protocol_ndi_reg")
        .map(|e| e.values.clone())
        .collect();
    let expected = [
        ["HKR", "Ndi", "Service", "0", "rswan"],
        ["HKR", "Ndi", "CoServices", "0x00010000", "rswan"],
        ["HKR", "Ndi", "HelpText", "0", "%rswan.ProtocolHelp%"],
        ["HKR", r"Ndi\Interfaces", "UpperRange", "0", "noupper"],
        ["HKR", r"Ndi\Interfaces", "LowerRange", "0", "ndis5"],
    ];
    assert_eq!(ndi, expected.map(|line| line.map(String::from).to_vec()));
    // No Remove section deletes the service that the miniport shares.
    assert!(
        inf.section_names()
            .all(|s| !s.to_ascii_lowercase().contains(".remove")),
        "a Remove section would run on `netcfg /u`"
    );
}

/// network/mux-intermediate-driver-installation: "The protocol name that the driver registers
/// must match the service name." The driver registers its protocol in driver/src/lower.rs.
#[test]
fn the_protocol_service_is_the_name_the_driver_registers() {
    let lower = std::fs::read_to_string(crate::repo_root().join("driver/src/lower.rs")).unwrap();
    let declaration = lower
        .lines()
        .find(|l| l.contains("const PROTOCOL_NAME"))
        .expect("driver/src/lower.rs declares PROTOCOL_NAME");
    let registered = declaration
        .split("b\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no b\"...\" literal in `{declaration}`"));
    let protocol = check_inf(&real_path(), &Arch::ALL).unwrap_or_else(|e| panic!("{e}"));
    let miniport = check_inf(&crate::repo_root().join("inf/rswan.inf"), &Arch::ALL)
        .unwrap_or_else(|e| panic!("{e}"));
    for service in protocol.services.iter().chain(&miniport.services) {
        assert_eq!(
            service.name, registered,
            "[{}] adds a service that is not the registered protocol name",
            service.section
        );
    }
    let (inf, _) = Inf::parse(&real_text());
    let ndi_service = inf
        .entries("rswan_protocol_ndi_reg")
        .find(|e| e.values.get(2).is_some_and(|v| v == "Service"))
        .map(|e| e.values[4].clone());
    assert_eq!(ndi_service.as_deref(), Some(registered));
}

#[test]
fn a_protocol_with_adapter_characteristics_fails() {
    let text = edit(
        &real_text(),
        "[rswan_protocol_store]\nCharacteristics = 0x0",
        "[rswan_protocol_store]\nCharacteristics = 0x9",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "Characteristics = 0x9"),
        "Characteristics 0x9 sets NCF_VIRTUAL (0x1), NCF_SOFTWARE_ENUMERATED (0x2) or \
         NCF_PHYSICAL (0x4), which apply only to the Net class \
         (network/ddinstall-section-in-a-network-inf-file), in a Class = NetTrans INF: drop 0x1",
    );
    let text = edit(
        &real_text(),
        "[rswan_protocol_sys32]\nCharacteristics = 0x0",
        "[rswan_protocol_sys32]\nCharacteristics = 0x4020",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "Characteristics = 0x4020"),
        "Characteristics 0x4020 sets 0x4000, but a protocol may combine only NCF_HIDDEN (0x8), \
         NCF_NO_SERVICE (0x10), NCF_NOT_USER_REMOVABLE (0x20) and NCF_HAS_UI (0x80)",
    );
}

#[test]
fn a_protocol_with_a_net_class_guid_fails() {
    let text = edit(
        &real_text(),
        "{4D36E975-E325-11CE-BFC1-08002BE10318}",
        "{4D36E972-E325-11CE-BFC1-08002BE10318}",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "Class       = NetTrans"),
        "Class = NetTrans needs ClassGuid = {4D36E975-E325-11CE-BFC1-08002BE10318}",
    );
}

#[test]
fn a_visible_protocol_without_help_text_fails() {
    let text = edit(
        &real_text(),
        "HKR, Ndi,            HelpText,   0,          %rswan.ProtocolHelp%\n",
        "",
    );
    let problems = problems_of(&text);
    for install in ["rswan_protocol_store", "rswan_protocol_sys32"] {
        assert_problem(
            &problems,
            line_of(&text, &format!("[{install}]")),
            &format!(
                "[{install}] installs a visible NetTrans component but sets no Ndi HelpText \
                 (network/adding-a-helptext-value)"
            ),
        );
    }
    // A hidden protocol needs none.
    let hidden = text.replace("Characteristics = 0x0", "Characteristics = 0x8");
    passes(&hidden);
}

#[test]
fn co_services_that_miss_the_service_fail() {
    let co_services = "HKR, Ndi,            CoServices, 0x00010000, \"rswan\"\n";
    let text = edit(&real_text(), co_services, "");
    let problems = problems_of(&text);
    assert_problem(
        &problems,
        line_of(&text, "[rswan_protocol_store]"),
        "no add-registry-section of [rswan_protocol_store] sets the Ndi CoServices value, which \
         every NetTrans component needs (network/adding-service-related-values-to-the-ndi-key): \
         add `HKR, Ndi, CoServices, 0x00010000, \"rswan\"`",
    );

    let other = edit(
        &real_text(),
        co_services,
        "HKR, Ndi, CoServices, 0x00010000, \"other\", \"more\"\n",
    );
    let problems = problems_of(&other);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&other, "HKR, Ndi, CoServices"),
        "CoServices does not list `rswan`, a service the component installs",
    );
    // Several services, the primary one among them, are fine.
    passes(&edit(
        &real_text(),
        co_services,
        "HKR, Ndi, CoServices, 0x00010000, \"other\", \"rswan\"\n",
    ));

    let not_multi = edit(
        &real_text(),
        co_services,
        "HKR, Ndi, CoServices, 0, \"rswan\"\n",
    );
    assert_problem(
        &problems_of(&not_multi),
        line_of(&not_multi, "HKR, Ndi, CoServices"),
        "CoServices is a REG_MULTI_SZ value: write its flags as 0x00010000",
    );
}

#[test]
fn a_protocol_without_services_fails_unless_it_has_no_service() {
    let without = real_text()
        .replace(
            "[rswan_protocol_store.Services]",
            "[rswan_protocol_store_x]",
        )
        .replace(
            "[rswan_protocol_sys32.Services]",
            "[rswan_protocol_sys32_x]",
        );
    let problems = problems_of(&without);
    assert_problem(
        &problems,
        line_of(&without, "= rswan_protocol_store, rswan_protocol"),
        "[rswan_protocol_store] has no [rswan_protocol_store.Services] section, so no driver \
         would run for rswan_protocol on x64: add [rswan_protocol_store.Services] with \
         `AddService = name, 0, service-install-section`, or set NCF_NO_SERVICE (0x10)",
    );
    // NCF_NO_SERVICE: a component with no driver needs neither the section nor Ndi Service.
    passes(&without.replace("Characteristics = 0x0", "Characteristics = 0x10"));
}

#[test]
fn a_missing_build_specific_models_section_fails() {
    let text = edit(
        &real_text(),
        "[rswan.NTarm64.10.0...25319]",
        "[rswan.NTarm64.10.0...22000]",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "%ManufacturerName% ="),
        "[Manufacturer] names the Models section [rswan.NTarm64.10.0...25319] for arm64, which \
         does not exist: add it",
    );
}
