//! Checks shared by the tests that run the real image natively (x64) and under qemu-aarch64
//! (ARM64): a scenario must leave the same observations whichever architecture ran it. Each
//! test file uses the part it needs.
#![allow(dead_code)]

use rswan_host::child::Outcome;
use rswan_host::kernel::condis::CALL_MANAGER_HANDLER_NAMES;

pub fn number(outcome: &Outcome, key: &str) -> u64 {
    outcome
        .observation(key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number"))
}

/// `rva:0x...` of a handler that must be set, as an offset in the image.
pub fn handler_rva(outcome: &Outcome, key: &str) -> u32 {
    let value = outcome.observation(key);
    let hex = value
        .strip_prefix("rva:0x")
        .unwrap_or_else(|| panic!("{key} is {value}, not a handler in the image"));
    u32::from_str_radix(hex, 16).expect("a hex RVA")
}

/// DriverEntry registered an NDIS 6.20 CoNDIS miniport with an integrated call manager as the
/// WDK describes it.
pub fn check_registration(outcome: &Outcome) {
    // WDK: NDIS_MINIPORT_DRIVER_CHARACTERISTICS, Header: type 0x8A, revision 2 for NDIS 6.1+
    // with NDIS_SIZEOF_..._REVISION_2 (152 bytes on 64-bit Windows, ARM64 as x64).
    assert_eq!(outcome.observation("miniport.header.type"), "0x8a");
    assert_eq!(outcome.observation("miniport.header.revision"), "2");
    assert_eq!(outcome.observation("miniport.header.size"), "152");
    assert_eq!(outcome.observation("miniport.ndis_version"), "6.20");
    // The handlers the characteristics page marks Required point into the image.
    for name in [
        "InitializeHandlerEx",
        "HaltHandlerEx",
        "UnloadHandler",
        "PauseHandler",
        "RestartHandler",
        "ReturnNetBufferListsHandler",
        "CancelSendHandler",
        "DevicePnPEventNotifyHandler",
        "ShutdownHandlerEx",
        "CancelOidRequestHandler",
        "SetOptionsHandler",
    ] {
        assert!(handler_rva(outcome, &format!("miniport.handler.{name}")) >= 0x1000);
    }
    // A virtual miniport leaves CheckForHangHandlerEx NULL.
    assert_eq!(
        outcome.observation("miniport.handler.CheckForHangHandlerEx"),
        "NULL"
    );
    // MiniportSetOptions registered NDIS_MINIPORT_CO_CHARACTERISTICS (an MCM: no
    // CoCreateVc/CoDeleteVc) and every call-manager handler.
    assert_eq!(outcome.observation("miniport.co_ndis"), "true");
    assert_eq!(outcome.observation("miniport.co.CoCreateVcHandler"), "NULL");
    assert_eq!(outcome.observation("miniport.co.CoDeleteVcHandler"), "NULL");
    for name in [
        "CoActivateVcHandler",
        "CoDeactivateVcHandler",
        "CoSendNetBufferListsHandler",
        "CoOidRequestHandler",
    ] {
        handler_rva(outcome, &format!("miniport.co.{name}"));
    }
    for name in CALL_MANAGER_HANDLER_NAMES {
        handler_rva(outcome, &format!("miniport.cm.{name}"));
    }
    assert_ne!(
        handler_rva(outcome, "miniport.cm.CmOidRequestHandler"),
        handler_rva(outcome, "miniport.co.CoOidRequestHandler"),
        "CmOidRequestHandler must not be MiniportCoOidRequest"
    );
}

/// The `loopback-call` scenario: both ends connected, a frame each way, the caller hung up.
pub fn check_loopback_call(outcome: &Outcome) {
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "both ends");
    let frames: Vec<&str> = outcome
        .report
        .observations
        .iter()
        .filter(|(k, _)| k == "wan.frame")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        frames,
        [
            "6 bytes, completed 0x00000000",
            "6 bytes, completed 0x00000000"
        ]
    );
    assert_eq!(outcome.observation("call.closed"), "caller");
}

/// The `loopback-stress` scenario with `frames` sent in all: none lost, none failed, and the
/// lock rules saw the driver's spin locks at work.
pub fn check_loopback_stress(outcome: &Outcome, frames: u64) {
    outcome.expect_ok();
    assert_eq!(number(outcome, "stress.received"), frames);
    assert_eq!(number(outcome, "stress.failed_completions"), 0);
    assert!(number(outcome, "verifier.lock_acquisitions") > frames);
}

/// The `dial-wire` scenario: discovery, PPP both ways over the session, PADT, unbind.
pub fn check_dial_wire(outcome: &Outcome) {
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "pppoe");
    assert!(number(outcome, "pppoe.session") > 0);
    assert_eq!(
        outcome.observation("pppoe.up"),
        "LCP request carried to the AC"
    );
    assert_eq!(
        outcome.observation("pppoe.down"),
        "LCP ack carried to NDISWAN"
    );
    assert_eq!(outcome.observation("pppoe.closed"), "PADT seen by the AC");
}

/// The `dial-search second` scenario: two adapters, the AC behind the second; PADI (0x09) on
/// both, PADR (0x19) and the closing PADT (0xa7) on the second only, where the AC answered
/// with PADO (0x07) and PADS (0x65).
pub fn check_dial_search_second(outcome: &Outcome) {
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "second");
    assert_eq!(outcome.observation("wire.first.codes"), "0x09");
    assert_eq!(outcome.observation("wire.second.codes"), "0x09 0x19 0xa7");
    assert_eq!(outcome.observation("wire.second.answers"), "0x07 0x65");
}

/// The `answer-wire` scenario: a client dialing in is answered through the SAP, PPP goes both
/// ways, and its PADT ends the call.
pub fn check_answer_wire(outcome: &Outcome) {
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "answered");
    assert!(number(outcome, "pppoe.session") > 0);
    assert_eq!(
        outcome.observation("pppoe.up"),
        "LCP request carried to NDISWAN"
    );
    assert_eq!(
        outcome.observation("pppoe.down"),
        "LCP ack carried to the client"
    );
    assert_eq!(
        outcome.observation("pppoe.closed"),
        "PADT from the client closed the call"
    );
}

/// What the `receive-lent` scenario observes for each of its cases when the driver lends and
/// copies as it should.
pub const LENT_RECEIVE: [(&str, &str); 8] = [
    (
        "lent.zero_copy",
        "in the lower adapter's buffer; the lower NBL came back after NDISWAN returned it",
    ),
    ("lent.resources", "copied; the lower NBL was not kept"),
    ("lent.split_headers", "copied; the lower NBL was not kept"),
    ("lent.split_payload", "copied; the lower NBL was not kept"),
    (
        "lent.several_frames",
        "both copied; the lower NBL was not kept",
    ),
    (
        "lent.pause",
        "waited for the lent frame; lends again after the restart",
    ),
    (
        "lent.vc_closed",
        "returned once when NDISWAN gave the frame back late; a frame of the closed session returned at once",
    ),
    ("lent.unbind", "waited for the lent frame"),
];

/// The `receive-lent` scenario: every case as [`LENT_RECEIVE`] says.
pub fn check_lent_receive(outcome: &Outcome) {
    outcome.expect_ok();
    for (key, expected) in LENT_RECEIVE {
        assert_eq!(outcome.observation(key), expected, "{key}");
    }
}

/// The driver's stack, measured at its import calls (rswan_host::loader::stack), went deeper
/// than nothing and stayed within the verifier's STACK budget (24 KB x64 kernel stack less the
/// reserve for NDIS and its callers; ARM64 as x64, unverified). Prints the figures.
pub fn check_stack_within_budget(outcome: &Outcome, scenario: &str) {
    let deepest = number(outcome, "stack.driver_max_bytes");
    let entry = outcome.observation("stack.driver_max_entry");
    let budget = number(outcome, "stack.budget_bytes");
    println!("{scenario}: deepest driver stack {deepest} bytes in {entry} (budget {budget})");
    assert!(deepest > 0, "{scenario}: no driver stack depth measured");
    assert!(
        deepest <= budget,
        "{scenario}: {deepest} > {budget} in {entry}"
    );
    assert!(budget > 0 && budget < 24 * 1024);
}
