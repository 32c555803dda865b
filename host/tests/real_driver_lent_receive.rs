//! PPPoE session frames reach NDISWAN without a copy through the real rswan.sys (scenario
//! `receive-lent`): an NBL the lower adapter indicates without NDIS_RECEIVE_FLAGS_RESOURCES is
//! the protocol's until NdisReturnNetBufferLists (WDK: ProtocolReceiveNetBufferLists), so the
//! driver lends its payload up in place and returns it when NDISWAN returns the frame; RESOURCES
//! indications, frames across buffers and NBLs of several frames are copied and returned at
//! once; pause and unbind wait for lent frames (WDK: "Pausing a Binding"). The host's verifier
//! stops the run on a lower NBL returned twice, never, while still lent up, kept after a
//! RESOURCES indication, or outstanding when a pause or close finishes.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::OnceLock;

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

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
    assert_eq!(
        outcome().observation("lent.zero_copy"),
        "in the lower adapter's buffer; the lower NBL came back after NDISWAN returned it"
    );
}

#[test]
fn a_resources_indication_is_copied_and_not_kept() {
    assert_eq!(
        outcome().observation("lent.resources"),
        "copied; the lower NBL was not kept"
    );
}

#[test]
fn frames_split_across_buffers_are_copied_and_returned_at_once() {
    for key in ["lent.split_headers", "lent.split_payload"] {
        assert_eq!(
            outcome().observation(key),
            "copied; the lower NBL was not kept",
            "{key}"
        );
    }
}

#[test]
fn an_nbl_of_several_frames_is_copied_and_returned_at_once() {
    assert_eq!(
        outcome().observation("lent.several_frames"),
        "both copied; the lower NBL was not kept"
    );
}

#[test]
fn a_binding_pause_waits_for_lent_frames_and_lending_resumes_after_restart() {
    assert_eq!(
        outcome().observation("lent.pause"),
        "waited for the lent frame; lends again after the restart"
    );
}

#[test]
fn a_lent_frame_held_across_the_vc_close_returns_its_lower_nbl_once() {
    assert_eq!(
        outcome().observation("lent.vc_closed"),
        "returned once when NDISWAN gave the frame back late; a frame of the closed session returned at once"
    );
}

#[test]
fn an_unbind_waits_for_lent_frames() {
    assert_eq!(
        outcome().observation("lent.unbind"),
        "waited for the lent frame"
    );
}
