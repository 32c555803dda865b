//! The real rswan.sys reads its settings from the adapter's registry key at
//! MiniportInitializeEx (WDK: NdisOpenConfigurationEx, NdisReadConfiguration,
//! NdisCloseConfiguration), here a file standing for the key (`RSWAN_REGISTRY`, see
//! rswan_host's configuration imports). The values set the lines NDPROXY sees in
//! OID_CO_TAPI_CM_CAPS and whether PPPoE clients are answered; a value out of range, of the
//! wrong type or empty where text is needed falls back to its default with a WARNING-level
//! DbgPrintEx line naming it. Every run ends with the unload checks: a configuration handle
//! left open would show as a pool leak.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

/// Runs `scenario` with the registry file `name` holding `lines` (a `.reg`-style text).
fn run_with_registry(name: &str, lines: &[&str], scenario: &str) -> Outcome {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("registry-{name}.reg"));
    child::run_with_registry(Path::new(RUNNER), scenario, &image(), &[], &file, lines)
}

fn adapter_up_line(outcome: &Outcome) -> String {
    outcome
        .driver_prints(2)
        .into_iter()
        .find(|line| line.starts_with("adapter up: "))
        .unwrap_or_else(|| panic!("no `adapter up` line: {}", outcome.describe()))
}

fn lines_of(outcome: &Outcome) -> u64 {
    outcome
        .observation("tapi.cm_caps.lines")
        .parse()
        .expect("a line count")
}

#[test]
fn an_empty_key_gives_the_defaults_two_pppoe_lines_and_one_loopback_pair() {
    let outcome = run_with_registry("empty", &[], "tapi-caps");
    outcome.expect_ok();
    assert_eq!(lines_of(&outcome), 4);
    assert_eq!(outcome.driver_prints(1), Vec::<String>::new());
    assert_eq!(
        adapter_up_line(&outcome),
        "adapter up: 2 PPPoE lines, 1 loopback pairs, AC-Name \"rswan\", Service-Name \"\", \
         answering on, 64 sessions per binding, 4 per peer"
    );
}

#[test]
fn values_in_range_set_the_lines_names_and_session_limits() {
    let outcome = run_with_registry(
        "in-range",
        &[
            "\"PppoeLines\"=dword:00000005",
            "\"LoopbackPairs\"=dword:00000003",
            "\"ServiceName\"=\"isp-1\"",
            "\"AcName\"=\"Zürich AC\"",
            "\"AnswerIncoming\"=dword:00000001",
            "\"MaxSessions\"=dword:00000006",
            "\"MaxSessionsPerPeer\"=dword:00000002",
        ],
        "tapi-caps",
    );
    outcome.expect_ok();
    assert_eq!(lines_of(&outcome), 5 + 2 * 3);
    assert_eq!(outcome.driver_prints(1), Vec::<String>::new());
    assert_eq!(
        adapter_up_line(&outcome),
        "adapter up: 5 PPPoE lines, 3 loopback pairs, AC-Name \"Zürich AC\", Service-Name \
         \"isp-1\", answering on, 6 sessions per binding, 2 per peer"
    );
}

#[test]
fn a_number_written_as_text_is_read_as_its_decimal_value() {
    // WDK NDIS_PARAMETER_TYPE: NdisParameterInteger is "an integer in decimal notation"; INF
    // AddReg lines often write numbers as REG_SZ.
    let outcome = run_with_registry(
        "decimal-text",
        &["\"PppoeLines\"=\"7\"", "\"LoopbackPairs\"=\"0\""],
        "tapi-caps",
    );
    outcome.expect_ok();
    assert_eq!(lines_of(&outcome), 7);
}

#[test]
fn values_out_of_range_fall_back_to_their_defaults_with_a_warning_each() {
    let outcome = run_with_registry(
        "out-of-range",
        &[
            "\"PppoeLines\"=dword:00000041",
            "\"LoopbackPairs\"=dword:00000002",
            "\"ServiceName\"=dword:00000001",
            "\"AcName\"=\"\"",
            "\"AnswerIncoming\"=dword:00000007",
            "\"MaxSessions\"=dword:00000041",
            "\"MaxSessionsPerPeer\"=dword:00000000",
        ],
        "tapi-caps",
    );
    outcome.expect_ok();
    // PppoeLines 65 is out of 0..=64: the default 2, with the 2 loopback pairs asked for.
    assert_eq!(lines_of(&outcome), 2 + 2 * 2);
    assert_eq!(
        outcome.driver_prints(1),
        [
            "registry: PppoeLines = 65 is out of range 0..=64; using 2",
            "registry: ServiceName has the wrong registry type; using \"\"",
            "registry: AcName is 0 bytes, fewer than 1; using \"rswan\"",
            "registry: AnswerIncoming = 7 is out of range 0..=1; using 1",
            "registry: MaxSessions = 65 is out of range 1..=64; using 64",
            "registry: MaxSessionsPerPeer = 0 is out of range 1..=64; using 4",
        ]
    );
    assert_eq!(
        adapter_up_line(&outcome),
        "adapter up: 2 PPPoE lines, 2 loopback pairs, AC-Name \"rswan\", Service-Name \"\", \
         answering on, 64 sessions per binding, 4 per peer"
    );
}

#[test]
fn no_line_at_all_falls_back_to_the_default_lines() {
    let outcome = run_with_registry(
        "no-lines",
        &[
            "\"PppoeLines\"=dword:00000000",
            "\"LoopbackPairs\"=dword:00000000",
        ],
        "tapi-caps",
    );
    outcome.expect_ok();
    assert_eq!(lines_of(&outcome), 4);
    assert_eq!(
        outcome.driver_prints(1),
        [
            "registry: PppoeLines = 0 with no other line; using 2",
            "registry: LoopbackPairs = 0 with no other line; using 1",
        ]
    );
}

#[test]
fn answer_incoming_zero_leaves_a_dialing_in_client_unanswered() {
    // The same scenario passes with the default (a_pppoe_client_dialing_in_is_answered_...
    // in real_driver_calls.rs); with answering off the client's PADIs get no PADO, so no
    // session and no incoming call come up within the scenario's limit.
    let outcome = run_with_registry(
        "answer-off",
        &["\"AnswerIncoming\"=dword:00000000"],
        "answer-wire",
    );
    let account = outcome.describe();
    assert!(
        account.contains("did not come up") && account.contains("session None"),
        "{account}"
    );
    assert!(adapter_up_line(&outcome).contains("answering off"));
}
