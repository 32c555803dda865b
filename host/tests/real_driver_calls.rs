//! The real rswan.sys as Windows drives it: NDIS brings the adapter up and down, NDPROXY
//! opens the TAPI proxy family and reads the caps, calls a loopback line from its pair,
//! NDISWAN moves PPP frames over the VCs, alone and from several processors at once; over an
//! Ethernet adapter whose in-memory wire ends in a PPPoE peer, the driver dials out, answers a
//! client dialing in, and shrugs off malformed frames. Every run ends with the unload checks
//! (no leak, every NBL and OID completed once) and the verifier rules on throughout.
#![forbid(unsafe_code)]

mod common;

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn run(scenario: &str, args: &[&str]) -> Outcome {
    child::run(Path::new(RUNNER), scenario, &image(), args)
}

#[test]
fn the_adapter_initializes_as_a_condis_wan_adapter_with_the_tapi_proxy_family() {
    let outcome = run("adapter-lifecycle", &[]);
    outcome.expect_ok();
    // NdisMediumCoWan (12) and IF_TYPE_PPP (23): the inbox WAN Miniport (PPPOE)'s values.
    assert_eq!(outcome.observation("adapter.media_type"), "12");
    assert_eq!(outcome.observation("adapter.if_type"), "23");
    // CO_ADDRESS_FAMILY_TAPI_PROXY, registered from MiniportInitializeEx.
    assert!(
        outcome
            .observation("adapter.address_family")
            .starts_with("0x801 "),
        "{}",
        outcome.observation("adapter.address_family")
    );
}

#[test]
fn ndproxy_reads_cm_line_and_address_caps() {
    let outcome = run("tapi-caps", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("tapi.cm_caps.status"), "0x00000000");
    // CO_TAPI_VERSION (notes/tapi-proxy.md: NDIS_TAPI_CURRENT_VERSION 0x00010003).
    assert_eq!(outcome.observation("tapi.cm_caps.version"), "0x10003");
    let lines = common::number(&outcome, "tapi.cm_caps.lines");
    assert!(lines >= 2, "{lines} lines");
    for line in 0..lines.min(8) {
        assert_eq!(
            outcome.observation(&format!("tapi.line_caps.{line}.status")),
            "0x00000000"
        );
        assert_eq!(
            outcome.observation(&format!("tapi.line_caps.{line}.num_addresses")),
            "1"
        );
        assert_eq!(
            outcome.observation(&format!("tapi.address_caps.{line}.status")),
            "0x00000000"
        );
    }
}

#[test]
fn a_loopback_call_connects_carries_frames_both_ways_and_hangs_up() {
    common::check_loopback_call(&run("loopback-call", &[]));
}

#[test]
fn four_senders_at_dispatch_level_lose_and_duplicate_nothing() {
    common::check_loopback_stress(&run("loopback-stress", &["4", "2000"]), 8000);
}

#[test]
fn dialing_pppoe_over_the_wire_reaches_the_access_concentrator_and_hangs_up_with_padt() {
    // The driver's protocol edge binds the host Ethernet adapter; the far end of its wire is
    // a PPPoE access concentrator. Discovery, PPP both ways over the session, PADT, unbind.
    let outcome = run("dial-wire", &[]);
    common::check_dial_wire(&outcome);
    common::check_stack_within_budget(&outcome, "x64 dial-wire");
}

#[test]
fn a_pppoe_client_dialing_in_is_answered_through_a_sap_and_its_padt_ends_the_call() {
    let outcome = run("answer-wire", &[]);
    common::check_answer_wire(&outcome);
    common::check_stack_within_budget(&outcome, "x64 answer-wire");
}

#[test]
fn malformed_and_stray_frames_from_the_wire_change_nothing_and_a_dial_still_works() {
    let outcome = run("garbage-then-dial-wire", &[]);
    outcome.expect_ok();
    assert_eq!(common::number(&outcome, "wire.garbage_frames"), 11);
    assert_eq!(outcome.observation("pppoe.closed"), "PADT seen by the AC");
}
