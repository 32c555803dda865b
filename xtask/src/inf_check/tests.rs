//! The real inf/rswan.inf passes; broken variants of it fail with the line and the fix.

use std::path::{Path, PathBuf};

use super::parse::{self, Inf};
use super::*;

fn real_inf() -> PathBuf {
    crate::repo_root().join("inf/rswan.inf")
}

fn real_text() -> String {
    std::fs::read_to_string(real_inf()).unwrap()
}

/// The 1-based line of the first line containing `needle`.
pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"))
        + 1
}

/// `text` with `from` replaced by `to`, which must occur.
pub(super) fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the INF");
    text.replacen(from, to, 1)
}

fn problems(text: &str, arches: &[Arch]) -> Vec<InfProblem> {
    problems_in("inf/rswan.inf", text, arches)
}

/// The problems of a broken INF named `path`, each shown with the path and line.
pub(super) fn problems_in(path: &str, text: &str, arches: &[Arch]) -> Vec<InfProblem> {
    match check_text(text, Path::new(path), arches) {
        Ok(report) => panic!("the broken INF passed: {report:?}"),
        Err(e) => {
            let shown = e.to_string();
            for p in &e.problems {
                assert!(shown.contains(&format!("{path}:{}: {}", p.line, p.message)));
            }
            e.problems
        }
    }
}

pub(super) fn assert_problem(problems: &[InfProblem], line: usize, expected: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.line == line && p.message.contains(expected)),
        "expected `{expected}` at line {line} in {problems:#?}"
    );
}

#[test]
fn the_real_inf_passes_for_every_architecture() {
    let report = check_inf(&real_inf(), &Arch::ALL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.class, "Net");
    assert_eq!(report.class_guid, "{4D36E972-E325-11CE-BFC1-08002BE10318}");
    assert_eq!(report.catalog_file, "rswan.cat");
    parse::check_driver_ver(&[report.driver_date.clone(), report.driver_version.clone()]).unwrap();
    let devices: Vec<(Arch, &str, &str)> = report
        .devices
        .iter()
        .map(|d| (d.arch, d.hardware_id.as_str(), d.install_section.as_str()))
        .collect();
    assert_eq!(
        devices,
        [
            (Arch::X64, "rswan_pppoe", "rswan_ndi.NTamd64"),
            (Arch::Arm64, "rswan_pppoe", "rswan_ndi.NTarm64"),
            (Arch::X86, "rswan_pppoe", "rswan_ndi.NTx86"),
        ]
    );
    assert_eq!(report.hardware_ids, ["rswan_pppoe"]);
    assert_eq!(
        report.to_string(),
        format!(
            "Class Net {{4D36E972-E325-11CE-BFC1-08002BE10318}}, DriverVer {},{}, CatalogFile \
             rswan.cat; installs x64 rswan_pppoe via [rswan_ndi.NTamd64], arm64 rswan_pppoe via \
             [rswan_ndi.NTarm64], x86 rswan_pppoe via [rswan_ndi.NTx86]; copies rswan.sys; \
             services rswan [rswan_service] = %13%\\rswan.sys (type 1, start 3, error 1, \
             \"rswan PPPoE WAN driver\"); UpperRange ndiscowan, LowerRange nolower; CopyINF \
             none; DelService none",
            report.driver_date, report.driver_version
        )
    );
    assert_eq!(report.catalog_line, line_of(&real_text(), "CatalogFile ="));
    assert_eq!(report.services.len(), 1, "{:#?}", report.services);
    assert_eq!(report.services[0].binary_file(), "rswan.sys");
    assert_eq!(
        report.copied_files.into_iter().collect::<Vec<_>>(),
        ["rswan.sys"]
    );
}

/// A value of `key` in `section` of the real INF, resolved against [Strings].
fn value(inf: &Inf, section: &str, key: &str) -> String {
    let entry = inf
        .entries(section)
        .find(|e| {
            e.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
        .unwrap_or_else(|| panic!("[{section}] has no {key}"));
    entry.values.join(",")
}

/// The registry lines `HKR, subkey, name, flags, value` of the add-registry sections.
fn registry(inf: &Inf, sections: &[&str]) -> Vec<(String, String, String, String)> {
    sections
        .iter()
        .flat_map(|s| inf.entries(s))
        .map(|e| {
            assert_eq!(e.values[0], "HKR", "line {}", e.line);
            (
                e.values[1].clone(),
                e.values[2].clone(),
                e.values[3].clone(),
                e.values[4].clone(),
            )
        })
        .collect()
}

#[test]
fn the_real_inf_declares_a_hidden_virtual_condis_wan_miniport() {
    let (inf, problems) = Inf::parse(&real_text());
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(value(&inf, "Version", "PnpLockdown"), "1");
    for arch in Arch::ALL {
        let install = format!("rswan_ndi.{}", arch.inf_decoration());
        // network/ddinstall-section-in-a-network-inf-file: NCF_VIRTUAL | NCF_HIDDEN |
        // NCF_NOT_USER_REMOVABLE; IF_TYPE_PPP, NdisMediumCoWan, NdisPhysicalMediumUnspecified.
        assert_eq!(value(&inf, &install, "Characteristics"), "0x29");
        assert_eq!(value(&inf, &install, "*IfType"), "23");
        assert_eq!(value(&inf, &install, "*MediaType"), "12");
        assert_eq!(value(&inf, &install, "*PhysicalMediaType"), "0");
        assert_eq!(
            value(&inf, &install, "AddReg"),
            "rswan_ndi_reg,rswan_wan_reg,rswan_config_reg"
        );
        assert_eq!(
            value(&inf, &format!("{install}.Services"), "AddService"),
            "rswan,0x00000002,rswan_service"
        );
    }
    assert_eq!(value(&inf, "rswan_service", "ServiceType"), "1");
    assert_eq!(value(&inf, "rswan_service", "StartType"), "3");
    assert_eq!(value(&inf, "rswan_service", "ErrorControl"), "1");
    assert_eq!(
        value(&inf, "rswan_service", "ServiceBinary"),
        r"%13%\rswan.sys"
    );
    assert_eq!(value(&inf, "DestinationDirs", "rswan_files"), "13");
    // network/controlflags-section-in-a-network-inf-file: added by the installer, not the user.
    assert_eq!(
        value(&inf, "ControlFlags", "ExcludeFromSelect"),
        "rswan_pppoe"
    );
    let reg = registry(&inf, &["rswan_ndi_reg", "rswan_wan_reg"]);
    let expected = [
        ("Ndi", "Service", "0", "rswan"),
        (r"Ndi\Interfaces", "UpperRange", "0", "ndiscowan"),
        (r"Ndi\Interfaces", "LowerRange", "0", "nolower"),
        ("", "WanEndpoints", "0x00010001", "1"),
        ("", "MinWanEndpoints", "0x00010001", "0"),
        ("", "MaxWanEndpoints", "0x00010001", "3"),
        ("", "TapiLineName", "0", "%rswan.TapiLineName%"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(reg, expected);
}

#[test]
fn a_missing_architecture_fails() {
    let text = real_text();
    let no_decoration = edit(
        &text,
        "rswan, NTamd64, NTarm64, NTx86",
        "rswan, NTamd64, NTx86",
    );
    assert_problem(
        &problems(&no_decoration, &Arch::ALL),
        line_of(&no_decoration, "rswan, NTamd64, NTx86"),
        "[Manufacturer] lists no NTarm64 decoration for `rswan`, so the package installs nothing \
         on arm64: add `, NTarm64` to this line and a [rswan.NTarm64] Models section",
    );
    // The same INF is fine for a package that ships no arm64.
    check_text(&no_decoration, Path::new("x.inf"), &[Arch::X64, Arch::X86]).unwrap();

    let no_models = edit(&text, "[rswan.NTarm64]", "[rswan.NTarm64old]");
    assert_problem(
        &problems(&no_models, &Arch::ALL),
        line_of(&no_models, "rswan, NTamd64, NTarm64, NTx86"),
        "[Manufacturer] names the Models section [rswan.NTarm64] for arm64, which does not exist",
    );

    let no_install = edit(&text, "[rswan_ndi.NTx86]", "[rswan_ndi.NTx86old]");
    let models_line = line_of(&text, "[rswan.NTx86]") + 1;
    assert_problem(
        &problems(&no_install, &Arch::ALL),
        models_line,
        "x86 installs `rswan_ndi` from [rswan.NTx86], but there is no DDInstall section \
         [rswan_ndi.NTx86] (nor [rswan_ndi.NT] or [rswan_ndi]): add [rswan_ndi.NTx86]",
    );

    let no_services = edit(
        &text,
        "[rswan_ndi.NTamd64.Services]",
        "[rswan_ndi.NTamd64.Other]",
    );
    assert_problem(
        &problems(&no_services, &Arch::ALL),
        line_of(&text, "[rswan.NTamd64]") + 1,
        "[rswan_ndi.NTamd64] has no [rswan_ndi.NTamd64.Services] section",
    );
}

#[test]
fn an_unresolved_string_fails() {
    let text = edit(
        &real_text(),
        "DiskName           = \"rswan driver package\"\n",
        "",
    );
    let problems = problems(&text, &Arch::ALL);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "1 = %DiskName%"),
        "%DiskName% is not defined in [Strings]: add `DiskName = \"...\"` to [Strings]",
    );
    let text = edit(
        &real_text(),
        "ServiceBinary = %13%\\rswan.sys",
        "ServiceBinary = %13\\rswan.sys",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "ServiceBinary"),
        "has a % with no closing %",
    );
}

fn problems_of(text: &str) -> Vec<InfProblem> {
    problems(text, &Arch::ALL)
}

#[test]
fn a_duplicate_key_fails() {
    let text = edit(
        &real_text(),
        "PnpLockdown = 1\n",
        "PnpLockdown = 1\nclass = Net\n",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "class = Net"),
        &format!(
            "[Version] sets class again (first on line {}): keep one of them",
            line_of(&text, "Class       = Net")
        ),
    );
    let text = edit(
        &real_text(),
        "[Strings]\n",
        "[Strings]\nDiskName = \"other\"\n",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "DiskName           ="),
        "[Strings] sets DiskName again",
    );
}

#[test]
fn a_bad_driver_ver_fails() {
    let cases = [
        ("13/26/2026,0.1.0.0", "month 13 is not 1..12"),
        (
            "02/30/2026,0.1.0.0",
            "day 30 does not exist in month 2 of 2026",
        ),
        ("2026/11/26,0.1.0.0", "is not mm/dd/yyyy"),
        ("11/26/2026,0.1.0", "does not have four parts w.x.y.z"),
        (
            "11/26/2026,0.1.0.65535",
            "version part `65535` is not an integer from 0 to 65534",
        ),
        ("11/26/2026,0.0.0.0", "the version 0.0.0.0 is not valid"),
        ("11/26/2026", "it needs a date and a version"),
    ];
    for (driver_ver, expected) in cases {
        let text = edit(
            &real_text(),
            "DriverVer   = 11/26/2026,0.1.0.0",
            &format!("DriverVer   = {driver_ver}"),
        );
        let problems = problems_of(&text);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_problem(&problems, line_of(&text, "DriverVer   ="), expected);
        assert!(
            problems[0]
                .message
                .contains("write `DriverVer = MM/DD/YYYY,w.x.y.z`")
        );
    }
    // Leap years and the hyphen separator are fine.
    parse::check_driver_ver(&["02-29-2028".into(), "1.2.3.4".into()]).unwrap();
}

#[test]
fn a_missing_referenced_section_fails() {
    let text = edit(&real_text(), "[rswan_wan_reg]", "[rswan_wan_registry]");
    let problems = problems_of(&text);
    for arch in Arch::ALL {
        let install = format!("[rswan_ndi.{}]", arch.inf_decoration());
        let line = line_of(&text, &install) + 5;
        assert_problem(
            &problems,
            line,
            &format!(
                "AddReg in {install} names section [rswan_wan_reg], which does not exist: add \
                 [rswan_wan_reg] or correct the name"
            ),
        );
    }
    let text = edit(
        &real_text(),
        "rswan, 0x00000002, rswan_service\n",
        "rswan, 0x00000002, rswan_svc\n",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "rswan_svc"),
        "AddService in [rswan_ndi.NTamd64.Services] names section [rswan_svc]",
    );
}

#[test]
fn missing_version_entries_fail() {
    let text = edit(&real_text(), "CatalogFile = rswan.cat\n", "");
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "[Version]"),
        "[Version] has no CatalogFile, so Windows treats the package as unsigned",
    );
    let text = edit(&real_text(), "PnpLockdown = 1", "PnpLockdown = 0");
    assert_problem(
        &problems_of(&text),
        line_of(&text, "PnpLockdown ="),
        "set `PnpLockdown = 1`",
    );
    let text = edit(
        &real_text(),
        "Signature   = \"$WINDOWS NT$\"",
        "Signature = \"$Windows 95$\"",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "Signature ="),
        "it must be \"$WINDOWS NT$\"",
    );
    let text = edit(
        &real_text(),
        "{4D36E972-E325-11CE-BFC1-08002BE10318}",
        "{4D36E975-E325-11CE-BFC1-08002BE10318}",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "Class       = Net"),
        "Class = Net needs ClassGuid = {4D36E972-E325-11CE-BFC1-08002BE10318}",
    );
}

#[test]
fn uncovered_copied_files_fail() {
    let text = edit(&real_text(), "rswan.sys = 1\n", "");
    let problems = problems_of(&text);
    let file_line = line_of(&text, "[rswan_files]") + 1;
    assert_eq!(problems.len(), 3, "one per architecture: {problems:#?}");
    assert_problem(
        &problems,
        file_line,
        "rswan.sys is copied on arm64 but not listed in [SourceDisksFiles] (or \
         [SourceDisksFiles.arm64]): add `rswan.sys = 1` there",
    );
    // An architecture-specific list covers that architecture.
    let text = edit(
        &text,
        "[Strings]",
        "[SourceDisksFiles.x86]\nrswan.sys = 1\n\n[Strings]",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems.iter().all(|p| !p.message.contains("on x86")));

    let text = edit(&real_text(), "1 = %DiskName%", "2 = %DiskName%");
    assert_problem(
        &problems_of(&text),
        line_of(&text, "[rswan_files]") + 1,
        "rswan.sys is on disk `1`, which [SourceDisksNames] does not define",
    );
    let text = edit(&real_text(), "rswan_files = 13\n", "");
    assert_problem(
        &problems_of(&text),
        line_of(&text, "CopyFiles          = rswan_files"),
        "the CopyFiles list [rswan_files] has no destination: add `rswan_files = 13` to \
         [DestinationDirs]",
    );
}

#[test]
fn a_service_that_is_not_the_function_driver_fails() {
    let text = edit(
        &real_text(),
        "rswan, 0x00000002, rswan_service\n",
        "rswan, 0, rswan_service\n",
    );
    assert_problem(
        &problems_of(&text),
        line_of(&text, "[rswan_ndi.NTamd64.Services]"),
        "has no AddService with flag 0x00000002 (SPSVCINST_ASSOCSERVICE)",
    );
}

#[test]
fn the_parser_follows_the_inf_syntax_rules() {
    let text = "\
; a comment
[Version] ; comment after a header
Signature=\"$Windows NT$\"
[sec]
CopyFiles = \"Some;Dir\\\"\\ ; continued
  ,file.sys
HKR,,Example,,\"Display an \"\"example\"\" string\" ; quotes
HKR,,Event,0x00020000,\"%%SystemRoot%%\\x.dll\"
name = a, , c
[strings]
key = unquoted, with comma
";
    let (inf, problems) = Inf::parse(text);
    assert!(problems.is_empty(), "{problems:#?}");
    let entries: Vec<_> = inf.entries("SEC").collect();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0].line, 5);
    assert_eq!(entries[0].key.as_deref(), Some("CopyFiles"));
    assert_eq!(entries[0].values, ["Some;Dir\\", "file.sys"]);
    assert_eq!(entries[1].values[4], "Display an \"example\" string");
    assert_eq!(
        parse::tokens(&entries[2].text).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(entries[3].values, ["a", "", "c"]);
    let strings: Vec<_> = inf.entries("Strings").collect();
    assert_eq!(strings[0].text_value(), "unquoted, with comma");
    assert_eq!(parse::tokens("%a%%%b%c%").unwrap(), ["a", "c"]);

    let (_, problems) = Inf::parse("x = 1\n[open\n");
    assert_eq!(problems.len(), 2);
    assert!(problems[0].message.contains("is outside any section"));
    assert!(problems[1].message.contains("has no `]`") && problems[1].line == 2);
}

#[test]
fn utf16_infs_are_read() {
    let mut bytes = vec![0xff, 0xfe];
    for unit in real_text().encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    assert_eq!(parse::decode(&bytes).unwrap(), real_text());
    assert!(parse::decode(&[0xc3, 0x28]).is_err());
}

#[test]
fn an_unreadable_inf_names_the_file() {
    let missing = crate::repo_root().join("inf/no-such.inf");
    let err = check_inf(&missing, &Arch::ALL).unwrap_err();
    assert!(err.to_string().contains("no-such.inf"), "{err}");
    assert!(err.problems[0].message.starts_with("cannot read the INF"));
}

#[test]
fn network_inf_rules_fail_with_the_fix() {
    let text = real_text();
    let amd64 = line_of(&text, "[rswan_ndi.NTamd64]");

    let no_characteristics = edit(&text, "Characteristics    = 0x29\n*IfType", "*IfType");
    let problems = problems_of(&no_characteristics);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        amd64,
        "[rswan_ndi.NTamd64] has no Characteristics entry, which every DDInstall section of a \
         network INF must have",
    );

    let both = edit(
        &text,
        "Characteristics    = 0x29",
        "Characteristics    = 0x2d",
    );
    assert_problem(
        &problems_of(&both),
        amd64 + 1,
        "Characteristics 0x2d combines NCF_VIRTUAL (0x1), NCF_SOFTWARE_ENUMERATED (0x2) and \
         NCF_PHYSICAL (0x4), which are mutually exclusive",
    );
    let no_service = edit(
        &text,
        "Characteristics    = 0x29",
        "Characteristics    = 0x39",
    );
    assert_problem(
        &problems_of(&no_service),
        amd64 + 1,
        "has NCF_NO_SERVICE (0x10) on an adapter, which must always have a driver",
    );

    let no_upper = edit(
        &text,
        "HKR, Ndi\\Interfaces, UpperRange, 0, \"ndiscowan\"\n",
        "",
    );
    let problems = problems_of(&no_upper);
    assert_eq!(
        problems.len(),
        3,
        "one per DDInstall section: {problems:#?}"
    );
    assert_problem(
        &problems,
        amd64,
        "no add-registry-section of [rswan_ndi.NTamd64] sets UpperRange under Ndi\\Interfaces",
    );

    let wrong_service = edit(
        &text,
        "Service,    0, \"rswan\"",
        "Service,    0, \"other\"",
    );
    assert_problem(
        &problems_of(&wrong_service),
        amd64,
        "the Ndi Service value of [rswan_ndi.NTamd64] is `other`, but \
         [rswan_ndi.NTamd64.Services] adds rswan: they must match",
    );
}

/// The values the driver reads from the adapter's instance key (crates/config, issue 5 item 5)
/// are the ones the INF writes, each with the driver's default and registry type.
#[test]
fn the_real_inf_writes_the_drivers_configuration_defaults() {
    use rswan_config::{Kind, SETTINGS};
    let (inf, _) = Inf::parse(&real_text());
    let text_of = |token: &str| {
        let key = token.trim_matches('%');
        inf.entries("Strings")
            .find(|e| e.key.as_deref() == Some(key))
            .map(|e| e.text_value())
            .unwrap_or_else(|| token.to_string())
    };
    let written: Vec<(String, String, String)> = registry(&inf, &["rswan_config_reg"])
        .into_iter()
        .map(|(subkey, name, flags, value)| {
            assert_eq!(subkey, "", "{name} goes in the instance key itself");
            (name, flags, text_of(&value))
        })
        .collect();
    // install/inf-addreg-directive: 0x00010001 REG_DWORD, 0x00000000 REG_SZ, each with
    // FLG_ADDREG_NOCLOBBER (0x2) so that reinstalling keeps a changed value.
    let expected: Vec<(String, String, String)> = SETTINGS
        .iter()
        .map(|setting| {
            let (flags, default) = match setting.kind {
                Kind::Dword { default, .. } => ("0x00010003", default.to_string()),
                Kind::Text { default, .. } => ("0x00000002", default.to_string()),
            };
            (setting.name.to_string(), flags.to_string(), default)
        })
        .collect();
    assert_eq!(written, expected);
    // The values the project's issue names, as the driver's defaults are now.
    let names: Vec<&str> = written.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "PppoeLines",
            "LoopbackPairs",
            "ServiceName",
            "AcName",
            "AnswerIncoming",
            "MaxSessions",
            "MaxSessionsPerPeer"
        ]
    );
    // The adapter is hidden and has no NCF_HAS_UI, so no Advanced page would show Ndi\params.
    let params: Vec<usize> = inf
        .sections()
        .flat_map(|s| s.entries.iter())
        .filter(|e| {
            e.values.len() > 1
                && e.values[0].eq_ignore_ascii_case("HKR")
                && e.values[1].to_ascii_lowercase().starts_with("ndi\\params")
        })
        .map(|e| e.line)
        .collect();
    assert!(
        params.is_empty(),
        "Ndi\\params on lines {params:?}: no Advanced page shows them"
    );
}

#[test]
fn an_adapter_with_co_services_fails() {
    let text = edit(
        &real_text(),
        "HKR, Ndi,            Service,    0, \"rswan\"\n",
        "HKR, Ndi,            Service,    0, \"rswan\"\nHKR, Ndi, CoServices, 0x00010000, \"rswan\"\n",
    );
    let problems = problems_of(&text);
    assert_problem(
        &problems,
        line_of(&text, "HKR, Ndi, CoServices"),
        "an adapter has no CoServices value: \"only one service can be associated with an \
         adapter\"",
    );
}

#[test]
fn an_exclude_from_select_of_an_unknown_id_fails() {
    let text = edit(
        &real_text(),
        "ExcludeFromSelect = rswan_pppoe",
        "ExcludeFromSelect = rswan_pppoe, rswan_other",
    );
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "ExcludeFromSelect ="),
        "ExcludeFromSelect names `rswan_other`, which no Models section of this INF installs",
    );
    // `*` excludes every device.
    let star = edit(
        &real_text(),
        "ExcludeFromSelect = rswan_pppoe",
        "ExcludeFromSelect = *",
    );
    check_text(&star, Path::new("x.inf"), &Arch::ALL).unwrap();
}

#[test]
fn a_service_install_section_without_its_binary_fails() {
    let text = edit(&real_text(), "ServiceBinary = %13%\\rswan.sys\n", "");
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        line_of(&text, "[rswan_service]"),
        "[rswan_service] has no ServiceBinary: a service-install section needs ServiceType, \
         StartType, ErrorControl and ServiceBinary",
    );
}
