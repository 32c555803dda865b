//! PPPoE session frames reach NDISWAN without a copy through the real rswan.sys (scenario
//! `receive-lent`): an NBL the lower adapter indicates without NDIS_RECEIVE_FLAGS_RESOURCES is
//! the protocol's until NdisReturnNetBufferLists (WDK: ProtocolReceiveNetBufferLists), so the
//! driver lends its payload up in place and returns it when NDISWAN returns the frame; RESOURCES
//! indications, frames across buffers and NBLs of several frames are copied and returned at
//! once; pause and unbind wait for lent frames (WDK: "Pausing a Binding"). The host's verifier
//! stops the run on a lower NBL returned twice, never, while still lent up, kept after a
//! RESOURCES indication, or outstanding when a pause or close finishes.
#![forbid(unsafe_code)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

/// What the scenario observed for `key`, and what it should have.
fn case(key: &str) -> (&'static str, &'static str) {
    let expected = common::LENT_RECEIVE
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no expectation for {key}"));
    (outcome().observation(key), expected)
}

/// The scenario runs once; each test checks one of its cases.
fn outcome() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let image = rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"));
        let outcome = child::run(Path::new(RUNNER), "receive-lent", &image, &[]);
        outcome.expect_ok();
        outcome
    })
}

#[test]
fn the_frame_ndiswan_gets_is_the_lower_adapters_buffer_returned_only_after_ndiswan_returns_it() {
    let (got, want) = case("lent.zero_copy");
    assert_eq!(got, want);
}

#[test]
fn a_resources_indication_is_copied_and_not_kept() {
    let (got, want) = case("lent.resources");
    assert_eq!(got, want);
}

#[test]
fn frames_split_across_buffers_are_copied_and_returned_at_once() {
    for key in ["lent.split_headers", "lent.split_payload"] {
        let (got, want) = case(key);
        assert_eq!(got, want, "{key}");
    }
}

#[test]
fn an_nbl_of_several_frames_is_copied_and_returned_at_once() {
    let (got, want) = case("lent.several_frames");
    assert_eq!(got, want);
}

#[test]
fn a_binding_pause_waits_for_lent_frames_and_lending_resumes_after_restart() {
    let (got, want) = case("lent.pause");
    assert_eq!(got, want);
}

#[test]
fn a_lent_frame_held_across_the_vc_close_returns_its_lower_nbl_once() {
    let (got, want) = case("lent.vc_closed");
    assert_eq!(got, want);
}

#[test]
fn an_unbind_waits_for_lent_frames() {
    let (got, want) = case("lent.unbind");
    assert_eq!(got, want);
}
