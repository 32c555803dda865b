//! Rules between INFs: the real pair passes; broken pairs fail with the file, line and fix.

use std::path::{Path, PathBuf};

use super::super::tests::{edit, line_of};
use super::*;
use crate::arch::Arch;
use crate::inf_check::check_text;

const MINIPORT: &str = "inf/rswan.inf";
const PROTOCOL: &str = "inf/rswan_protocol.inf";

fn real(path: &str) -> String {
    std::fs::read_to_string(crate::repo_root().join(path)).unwrap()
}

/// Both INFs, each of which must pass on its own, as the package checks them.
fn reports(miniport: &str, protocol: &str) -> Vec<(PathBuf, InfReport)> {
    [(MINIPORT, miniport), (PROTOCOL, protocol)]
        .into_iter()
        .map(|(path, text)| {
            let report = check_text(text, Path::new(path), &Arch::ALL)
                .unwrap_or_else(|e| panic!("each INF must pass alone: {e}"));
            (PathBuf::from(path), report)
        })
        .collect()
}

/// The problems of a broken pair, each shown with its file and line.
fn problems(miniport: &str, protocol: &str) -> Vec<PackageProblem> {
    let error = check_package(&reports(miniport, protocol)).expect_err("the broken pair passed");
    let shown = error.to_string();
    for p in &error.problems {
        let place = match p.line {
            0 => format!("{}: ", p.path.display()),
            line => format!("{}:{line}: ", p.path.display()),
        };
        assert!(shown.contains(&format!("{place}{}", p.message)), "{shown}");
    }
    error.problems
}

fn assert_problem(problems: &[PackageProblem], path: &str, line: usize, expected: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.path == Path::new(path) && p.line == line && p.message.contains(expected)),
        "expected `{expected}` at {path}:{line} in {problems:#?}"
    );
}

#[test]
fn the_real_miniport_and_protocol_infs_agree() {
    check_package(&reports(&real(MINIPORT), &real(PROTOCOL))).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_second_catalog_fails() {
    let protocol = edit(
        &real(PROTOCOL),
        "CatalogFile = rswan.cat",
        "CatalogFile = other.cat",
    );
    let problems = problems(&real(MINIPORT), &protocol);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&protocol, "CatalogFile ="),
        "CatalogFile is other.cat, but rswan.inf names rswan.cat: the package has one catalog",
    );
}

#[test]
fn a_copy_inf_of_a_file_the_package_lacks_fails() {
    let protocol = real(PROTOCOL).replace("CopyINF         = rswan.inf", "CopyINF = rswan_mp.inf");
    let problems = problems(&real(MINIPORT), &protocol);
    assert_eq!(
        problems.len(),
        1,
        "both DDInstall sections name it once: {problems:#?}"
    );
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&protocol, "CopyINF = rswan_mp.inf"),
        "CopyINF names `rswan_mp.inf`, which the package does not ship (it ships rswan.inf, \
         rswan_protocol.inf): correct the name or add the INF to INF_FILES in \
         xtask/src/package.rs",
    );

    let outside = real(PROTOCOL).replace("CopyINF         = rswan.inf", r"CopyINF = ..\rswan.inf");
    assert_problem(
        &problems_of_protocol(&outside),
        PROTOCOL,
        line_of(&outside, "CopyINF ="),
        "CopyINF names `..\\rswan.inf`, which is not in this INF's folder or below it \
         (install/inf-copyinf-directive)",
    );

    let itself = real(PROTOCOL).replace(
        "CopyINF         = rswan.inf",
        "CopyINF = rswan.inf, RSWAN_PROTOCOL.INF",
    );
    assert_problem(
        &problems_of_protocol(&itself),
        PROTOCOL,
        line_of(&itself, "CopyINF ="),
        "CopyINF names this INF itself (`RSWAN_PROTOCOL.INF`)",
    );
}

fn problems_of_protocol(protocol: &str) -> Vec<PackageProblem> {
    problems(&real(MINIPORT), protocol)
}

#[test]
fn a_shared_service_written_differently_fails() {
    let start = real(PROTOCOL).replacen("StartType     = 3", "StartType     = 2", 1);
    let problems = problems_of_protocol(&start);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&start, "AddService = rswan, 0, rswan_service_store"),
        "service `rswan` ([rswan_service_store]) has StartType `2`, but rswan.inf adds the same \
         service ([rswan_service]) with `3`: the INFs write one service, so make every entry \
         equal (only the folder of ServiceBinary may differ)",
    );

    // The same number written in hexadecimal is the same entry.
    check_package(&reports(
        &real(MINIPORT),
        &real(PROTOCOL).replace("ServiceType   = 1", "ServiceType   = 0x1"),
    ))
    .unwrap_or_else(|e| panic!("{e}"));

    let name = edit(
        &real(PROTOCOL),
        "rswan.ServiceDesc   = \"rswan PPPoE WAN driver\"",
        "rswan.ServiceDesc   = \"rswan protocol\"",
    );
    assert_problem(
        &problems_of_protocol(&name),
        PROTOCOL,
        line_of(&name, "AddService = rswan, 0, rswan_service_sys32"),
        "service `rswan` ([rswan_service_sys32]) has DisplayName `rswan protocol`, but \
         rswan.inf adds the same service ([rswan_service]) with `rswan PPPoE WAN driver`",
    );
}

#[test]
fn halves_with_different_binaries_fail() {
    let protocol = real(PROTOCOL)
        .replace(r"%13%\rswan.sys", r"%13%\rswanp.sys")
        .replace(r"%12%\rswan.sys", r"%12%\rswanp.sys");
    let problems = problems_of_protocol(&protocol);
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&protocol, "CopyINF         = rswan.inf"),
        "this INF installs rswanp.sys but rswan.inf installs rswan.sys: a protocol INF and the \
         miniport INF it copies install one driver",
    );
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&protocol, "AddService = rswan, 0, rswan_service_store"),
        "service `rswan` ([rswan_service_store]) has ServiceBinary `%13%\\rswanp.sys`, but \
         rswan.inf adds the same service ([rswan_service]) with `%13%\\rswan.sys`",
    );
}

#[test]
fn deleting_the_shared_service_fails() {
    let protocol = format!(
        "{}\n[rswan_protocol_store.Remove.Services]\nDelService = rswan, 0x200\n",
        real(PROTOCOL)
    );
    let problems = problems_of_protocol(&protocol);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        PROTOCOL,
        line_of(&protocol, "DelService = rswan"),
        "DelService deletes `rswan`, which rswan.inf also installs: removing this component \
         would stop the other from loading (network/remove-section-in-a-network-inf-file); drop \
         the DelService",
    );
}

#[test]
fn a_protocol_that_binds_to_its_own_adapter_fails() {
    let protocol = edit(
        &real(PROTOCOL),
        "LowerRange, 0,          \"ndis5\"",
        "LowerRange, 0,          \"ndis5, NdisCoWan\"",
    );
    let problems = problems_of_protocol(&protocol);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_problem(
        &problems,
        PROTOCOL,
        0,
        "the protocol's LowerRange shares ndiscowan with the UpperRange of the adapter that \
         rswan.inf installs, so the protocol would bind to the package's own adapter",
    );
}
