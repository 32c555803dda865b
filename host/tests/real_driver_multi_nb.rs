//! NBLs with several NET_BUFFERs through the real rswan.sys. NDISWAN may chain several
//! NET_BUFFERs in one send NBL, and an Ethernet adapter several frames in one receive NBL; each
//! NET_BUFFER is one frame (WDK: "NET_BUFFER architecture"). The driver carries every one, in
//! order, and completes a send NBL exactly once (the unload checks count completions).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn run(scenario: &str) -> Outcome {
    child::run(Path::new(RUNNER), scenario, &image(), &[])
}

fn observations<'a>(outcome: &'a Outcome, key: &str) -> Vec<&'a str> {
    outcome
        .report
        .observations
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn every_frame_of_a_multi_buffer_send_crosses_a_loopback_call_in_order() {
    let outcome = run("loopback-multi-nb");
    outcome.expect_ok();
    // Both directions; the scenario compares the frames byte for byte.
    assert_eq!(
        observations(&outcome, "multi_nb.loopback"),
        [
            "3 frames in one NBL, received in order, completed 0x00000000",
            "3 frames in one NBL, received in order, completed 0x00000000",
        ]
    );
}

#[test]
fn every_frame_of_multi_buffer_nbls_crosses_a_pppoe_session_both_ways() {
    let outcome = run("dial-wire-multi-nb");
    outcome.expect_ok();
    assert_eq!(
        outcome.observation("multi_nb.pppoe_send"),
        "3 frames in one NBL, carried in order, completed 0x00000000"
    );
    assert_eq!(
        outcome.observation("multi_nb.pppoe_receive"),
        "2 frames in one NBL, indicated in order"
    );
    assert_eq!(
        outcome.observation("multi_nb.pppoe_receive_burst"),
        "32 one-frame NBLs, indicated in order"
    );
}
