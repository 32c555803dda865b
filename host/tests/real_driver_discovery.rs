//! The real rswan.sys finding and answering PPPoE peers beyond one adapter and one table:
//! - answering: one Ethernet binding answers as many clients at once as the `MaxSessions`
//!   setting (read from the registry stand-in, `RSWAN_REGISTRY`) and the listening lines
//!   allow, well past the old fixed table of 8; the session past `MaxSessions` gets rswan-pppoe's
//!   refusal (a PADS with session id 0 and AC-System-Error, RFC 2516 section 5.4), and the
//!   session table, sized from the setting in pool memory, is freed at unbind;
//! - dialing: with two bound adapters the dial sends PADI on both, takes the first PADO and
//!   sends PADR on that adapter only (as rp-pppoe's per-interface discovery does; Windows'
//!   own PPPoE miniport's behaviour is not documented: unverified), follows adapters that
//!   come and go during discovery, and fails after the client's retries when nobody answers,
//!   with the reason in the DbgPrintEx output.
//!
//! Every run ends with the unload checks: no pool allocation left, every NBL and OID
//! completed once, the lock order kept.
#![forbid(unsafe_code)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

/// PPPoE discovery codes (RFC 2516 section 5) as the scenarios print them.
const PADI: &str = "0x09";
const PADO: &str = "0x07";
const PADR: &str = "0x19";
const PADT: &str = "0xa7";

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

/// Runs `scenario` with the registry file `name` (unique per test) holding `values`.
fn run_with_registry(name: &str, values: &[&str], scenario: &str, args: &[&str]) -> Outcome {
    let file =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("registry-discovery-{name}.reg"));
    child::run_with_registry(Path::new(RUNNER), scenario, &image(), args, &file, values)
}

/// Time for the scenario child: a dial nobody answers takes 35 s of the client's real-time
/// retries, which must fit with room to spare on a loaded machine.
const DIAL_SEARCH_TIMEOUT: Duration = Duration::from_secs(150);

fn dial_search(plan: &str) -> Outcome {
    child::run_with_timeout(
        Path::new(RUNNER),
        "dial-search",
        &image(),
        &[plan],
        DIAL_SEARCH_TIMEOUT,
    )
}

/// `PppoeLines` = 20 (0x14).
const TWENTY_LINES: &str = "\"PppoeLines\"=dword:00000014";

#[test]
fn one_binding_answers_twenty_clients_at_once_on_twenty_lines_and_refuses_the_one_no_line_takes() {
    // MaxSessions is left at its default (64): the twenty-first client's session opens in the
    // AC, no listening line takes its call, and the driver ends it with a PADT.
    let outcome = run_with_registry("twenty", &[TWENTY_LINES], "answer-many", &["20", "21"]);
    outcome.expect_ok();
    for client in 0..20 {
        assert_eq!(
            outcome.observation(&format!("client.{client}")),
            "established",
            "client {client}"
        );
    }
    assert_eq!(outcome.observation("client.20"), "established, terminated");
    assert_eq!(common::number(&outcome, "answer.sessions"), 20);
    assert_eq!(common::number(&outcome, "answer.connected"), 20);
    assert_eq!(common::number(&outcome, "answer.closed"), 20);
    let warnings = outcome.driver_prints(1);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].ends_with("refused: no free line"),
        "{warnings:?}"
    );
    assert!(
        outcome
            .driver_prints(2)
            .iter()
            .any(|line| line.contains("64 sessions per binding"))
    );
}

#[test]
fn the_session_beyond_max_sessions_gets_a_pads_refusal_with_ac_system_error() {
    let outcome = run_with_registry(
        "five",
        &[TWENTY_LINES, "\"MaxSessions\"=dword:00000005"],
        "answer-many",
        &["20", "6"],
    );
    outcome.expect_ok();
    for client in 0..5 {
        assert_eq!(
            outcome.observation(&format!("client.{client}")),
            "established"
        );
    }
    // rswan-pppoe's refusal: a PADS with session id 0 and AC-System-Error "session limit
    // reached" (rswan_pppoe::ac::SESSION_LIMIT_TEXT), which the client reports as its failure.
    assert_eq!(
        outcome.observation("client.5"),
        "failed: access concentrator error: AC-System-Error: session limit reached"
    );
    assert_eq!(common::number(&outcome, "answer.sessions"), 5);
    assert_eq!(common::number(&outcome, "answer.connected"), 5);
}

#[test]
fn the_session_table_is_sized_from_max_sessions_in_pool_memory_and_freed_at_unbind() {
    let bytes = |max: u32| {
        let value = format!("\"MaxSessions\"=dword:{max:08x}");
        let outcome = run_with_registry(
            &format!("table-{max}"),
            &[TWENTY_LINES, &value],
            "answer-many",
            &["20", "1"],
        );
        outcome.expect_ok();
        assert_eq!(outcome.observation("client.0"), "established");
        // Everything the binding allocated, the table among it, is back in the pool once the
        // binding is gone (and the unload check found no leak at all).
        assert_eq!(outcome.observation("pool.bytes_after_unbind"), "0");
        common::number(&outcome, "pool.bytes_of_binding") as usize
    };
    let (most, few) = (bytes(64), bytes(5));
    // 59 more sessions: 59 more table slots and 59 more VC entries, nothing else.
    let slot = size_of::<rswan_pppoe::SessionSlot>();
    let grown = most - few;
    assert!(
        (59 * slot..=59 * (slot + 16)).contains(&grown),
        "{most} - {few} bytes for 59 sessions of {slot} bytes each"
    );
}

#[test]
fn a_dial_finds_the_access_concentrator_behind_the_second_adapter_with_padr_there_only() {
    // PADI on both adapters; PADR (and the closing PADT) on the second only.
    common::check_dial_search_second(&dial_search("second"));
}

#[test]
fn with_access_concentrators_behind_both_adapters_one_session_comes_up_and_the_other_gets_no_padr()
{
    let outcome = dial_search("both");
    outcome.expect_ok();
    let chosen = outcome.observation("call.connected").to_owned();
    let other = if chosen == "first" { "second" } else { "first" };
    assert!(chosen == "first" || chosen == "second", "{chosen}");
    assert_eq!(
        outcome.observation(&format!("wire.{chosen}.codes")),
        format!("{PADI} {PADR} {PADT}")
    );
    // The other AC offered too (its PADO reached the driver) and never heard of it again.
    assert_eq!(outcome.observation(&format!("wire.{other}.codes")), PADI);
    assert_eq!(outcome.observation(&format!("wire.{other}.answers")), PADO);
    assert_eq!(
        common::number(&outcome, &format!("wire.{other}.sessions_open")),
        0
    );
    let taken: Vec<String> = outcome
        .driver_prints(2)
        .into_iter()
        .filter(|line| line.contains("PADO taken"))
        .collect();
    assert_eq!(taken.len(), 1, "{taken:?}");
}

#[test]
fn with_no_access_concentrator_anywhere_the_dial_fails_after_the_retries_with_the_reason_printed() {
    let outcome = dial_search("none");
    outcome.expect_ok();
    // NDIS_STATUS_FAILURE: the engine's status for a dial that timed out (DownCause::Timeout).
    assert_eq!(outcome.observation("call.failed"), "0xc0000001");
    // rp-pppoe's timing: three PADIs per adapter, 5 + 10 + 20 s before giving up.
    let three = format!("{PADI} {PADI} {PADI}");
    assert_eq!(outcome.observation("wire.first.codes"), three);
    assert_eq!(outcome.observation("wire.second.codes"), three);
    assert!(common::number(&outcome, "call.ended_after_seconds") >= 35);
    assert!(
        outcome
            .driver_prints(1)
            .iter()
            .any(|line| line.ends_with("discovery failed: no access concentrator answered")),
        "{:?}",
        outcome.driver_prints(1)
    );
}

#[test]
fn an_adapter_bound_during_discovery_is_searched_too() {
    let outcome = dial_search("second-binds-late");
    outcome.expect_ok();
    assert_eq!(outcome.observation("wire.second.bound"), "during discovery");
    assert_eq!(outcome.observation("call.connected"), "second");
    assert_eq!(outcome.observation("wire.first.codes"), PADI);
    assert_eq!(
        outcome.observation("wire.second.codes"),
        format!("{PADI} {PADR} {PADT}")
    );
}

#[test]
fn an_adapter_leaving_during_discovery_leaves_the_dial_to_the_other() {
    let outcome = dial_search("first-leaves");
    outcome.expect_ok();
    assert_eq!(
        outcome.observation("call.after_first_left"),
        "still dialing"
    );
    assert_eq!(outcome.observation("call.connected"), "second");
}

#[test]
fn the_dial_fails_when_its_last_adapter_leaves_during_discovery() {
    let outcome = dial_search("all-leave");
    outcome.expect_ok();
    assert_eq!(
        outcome.observation("call.after_first_left"),
        "still dialing"
    );
    // NDIS_STATUS_CLOSING: the engine's status for a call whose binding went away
    // (DownCause::LowerUnbind), at once: no adapter saw a second PADI, which the client's
    // first retry would have sent 5 s after the first.
    assert_eq!(outcome.observation("call.failed"), "0xc0010002");
    assert_eq!(outcome.observation("wire.first.codes"), PADI);
    assert_eq!(outcome.observation("wire.second.codes"), PADI);
    assert!(
        outcome
            .driver_prints(1)
            .iter()
            .any(|line| line.contains("went away during discovery")),
        "{:?}",
        outcome.driver_prints(1)
    );
}
