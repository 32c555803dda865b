//! The real ARM64 rswan.sys in the host built for aarch64, run under qemu-aarch64 on this
//! x86-64 machine (rswan_host::qemu): DriverEntry registers the same CoNDIS miniport and call
//! manager as the x64 image does, unload gives everything back, and whole calls go through it:
//! a loopback call, senders on several processors, a PPPoE dial-out and a PPPoE answer over
//! the in-memory wire. Every import the driver calls passes an AArch64 thunk that poisons x18
//! while the host runs and restores it, and every return from driver code checks x18, so a
//! lost KPCR fails these tests. The image is the one `RSWAN_SYS_ARM64` names, else a release
//! build made for the test (rswan_host::image); the aarch64 runner is built by the test.
//! Missing tools are an error naming the Debian package, never a skip.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Mutex;

use rswan_host::child::Outcome;
use rswan_host::kernel::condis::CALL_MANAGER_HANDLER_NAMES;
use rswan_host::report::Ending;
use rswan_host::symbols::Symbols;

fn image() -> PathBuf {
    rswan_host::image::arm64().unwrap_or_else(|e| panic!("no ARM64 driver image: {e}"))
}

/// One emulated child at a time: each keeps a core busy translating, and the machine has few.
static EMULATOR: Mutex<()> = Mutex::new(());

fn run(scenario: &str, args: &[&str]) -> Outcome {
    let image = image();
    let _one = EMULATOR.lock().unwrap_or_else(|e| e.into_inner());
    rswan_host::qemu::run(scenario, &image, args)
        .unwrap_or_else(|e| panic!("cannot run the ARM64 image: {e}"))
}

fn number(outcome: &Outcome, key: &str) -> u64 {
    outcome
        .observation(key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number"))
}

/// `rva:0x...` of a handler that must be set, as an offset in the image.
fn handler_rva(outcome: &Outcome, key: &str) -> u32 {
    let value = outcome.observation(key);
    let hex = value
        .strip_prefix("rva:0x")
        .unwrap_or_else(|| panic!("{key} is {value}, not a handler in the image"));
    u32::from_str_radix(hex, 16).expect("a hex RVA")
}

#[test]
fn arm64_driver_entry_registers_an_ndis_6_20_miniport_with_a_call_manager() {
    let outcome = run("driver-entry", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("driver_entry.status"), "0x00000000");
    // WDK: NDIS_MINIPORT_DRIVER_CHARACTERISTICS, Header: type 0x8A, revision 2 for NDIS 6.1+
    // with NDIS_SIZEOF_..._REVISION_2 (152 bytes on 64-bit Windows, ARM64 as x64).
    assert_eq!(outcome.observation("miniport.header.type"), "0x8a");
    assert_eq!(outcome.observation("miniport.header.revision"), "2");
    assert_eq!(outcome.observation("miniport.header.size"), "152");
    assert_eq!(outcome.observation("miniport.ndis_version"), "6.20");
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
        assert!(handler_rva(&outcome, &format!("miniport.handler.{name}")) >= 0x1000);
    }
    assert_eq!(
        outcome.observation("miniport.handler.CheckForHangHandlerEx"),
        "NULL"
    );
    assert_eq!(outcome.observation("miniport.co_ndis"), "true");
    assert_eq!(outcome.observation("miniport.co.CoCreateVcHandler"), "NULL");
    assert_eq!(outcome.observation("miniport.co.CoDeleteVcHandler"), "NULL");
    for name in [
        "CoActivateVcHandler",
        "CoDeactivateVcHandler",
        "CoSendNetBufferListsHandler",
        "CoOidRequestHandler",
    ] {
        handler_rva(&outcome, &format!("miniport.co.{name}"));
    }
    for name in CALL_MANAGER_HANDLER_NAMES {
        handler_rva(&outcome, &format!("miniport.cm.{name}"));
    }
    assert_ne!(
        handler_rva(&outcome, "miniport.cm.CmOidRequestHandler"),
        handler_rva(&outcome, "miniport.co.CoOidRequestHandler"),
        "CmOidRequestHandler must not be MiniportCoOidRequest"
    );
}

#[test]
fn arm64_unload_deregisters_and_leaves_nothing_behind() {
    let outcome = run("driver-entry-unload", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("ndis.deregistrations"), "1");
}

#[test]
fn arm64_a_loopback_call_connects_carries_frames_both_ways_and_hangs_up() {
    let outcome = run("loopback-call", &[]);
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

#[test]
fn arm64_four_senders_at_dispatch_level_lose_and_duplicate_nothing() {
    // Each emulated processor's thread gets its own processor block in x18.
    let outcome = run("loopback-stress", &["4", "1000"]);
    outcome.expect_ok();
    assert_eq!(number(&outcome, "stress.received"), 4000);
    assert_eq!(number(&outcome, "stress.failed_completions"), 0);
    assert!(number(&outcome, "verifier.lock_acquisitions") > 4000);
}

#[test]
fn arm64_dialing_pppoe_over_the_wire_reaches_the_access_concentrator_and_hangs_up_with_padt() {
    let outcome = run("dial-wire", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "pppoe");
    assert!(number(&outcome, "pppoe.session") > 0);
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

#[test]
fn arm64_a_pppoe_client_dialing_in_is_answered_through_a_sap_and_its_padt_ends_the_call() {
    let outcome = run("answer-wire", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), "answered");
    assert!(number(&outcome, "pppoe.session") > 0);
    assert_eq!(
        outcome.observation("pppoe.closed"),
        "PADT from the client closed the call"
    );
}

#[test]
fn arm64_a_crash_in_the_real_image_is_decoded_and_symbolized_from_its_pdb() {
    let symbols = Symbols::for_image(&image());
    let Some(chkstk) = symbols.rva_of("__chkstk") else {
        panic!(
            "no __chkstk in the symbols of {} (is its .pdb beside it?)",
            image().display()
        );
    };
    // The ARM64 __chkstk takes the frame size / 16 in X15 (Microsoft: "Overview of ARM64 ABI
    // conventions", "Stack"); for a 1 GiB frame it probes off the end of the stack.
    let outcome = run(
        "call-rva-with-x15",
        &[
            &format!("{chkstk:#x}"),
            &format!("{:#x}", (1u64 << 30) / 16),
        ],
    );
    let Ending::Fault(registers) = &outcome.report.ending else {
        panic!("expected a fault, got: {}", outcome.describe());
    };
    assert_eq!(registers.get("signal").map(String::as_str), Some("11"));
    let text = outcome.describe();
    assert!(text.contains("(__chkstk+0x"), "{text}");
    // The AArch64 registers, with the frame size still in X15 and the KPCR in x18.
    assert!(text.contains(" x15=0x4000000 "), "{text}");
    assert!(text.contains(" x18=0x"), "{text}");
}
