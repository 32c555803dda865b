//! The real ARM64 rswan.sys in the host built for aarch64, run under qemu-aarch64 on this
//! x86-64 machine (rswan_host::qemu): DriverEntry registers the same CoNDIS miniport and call
//! manager as the x64 image does, unload gives everything back, and whole calls go through it:
//! a loopback call, senders on several processors, a PPPoE dial-out (also one searching two
//! adapters) and a PPPoE answer over the in-memory wire, and received session frames lent to
//! NDISWAN without a copy. Every import the driver calls passes an AArch64 thunk that poisons
//! x18 while the host runs and restores it, and every return from driver code checks x18, so a
//! lost KPCR fails these tests. The image is the one `RSWAN_SYS_ARM64` names, else a release
//! build made for the test (rswan_host::image); the aarch64 runner is built by the test.
//! Missing tools are an error naming the Debian package, never a skip.
#![forbid(unsafe_code)]

mod common;

use std::path::PathBuf;
use std::sync::Mutex;

use rswan_host::child::Outcome;
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

#[test]
fn arm64_driver_entry_registers_an_ndis_6_20_miniport_with_a_call_manager() {
    let outcome = run("driver-entry", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("driver_entry.status"), "0x00000000");
    common::check_registration(&outcome);
}

#[test]
fn arm64_unload_deregisters_and_leaves_nothing_behind() {
    let outcome = run("driver-entry-unload", &[]);
    outcome.expect_ok();
    assert_eq!(outcome.observation("ndis.deregistrations"), "1");
}

#[test]
fn arm64_a_loopback_call_connects_carries_frames_both_ways_and_hangs_up() {
    common::check_loopback_call(&run("loopback-call", &[]));
}

#[test]
fn arm64_four_senders_at_dispatch_level_lose_and_duplicate_nothing() {
    // Each emulated processor's thread gets its own processor block in x18.
    common::check_loopback_stress(&run("loopback-stress", &["4", "1000"]), 4000);
}

#[test]
fn arm64_dialing_pppoe_over_the_wire_reaches_the_access_concentrator_and_hangs_up_with_padt() {
    let outcome = run("dial-wire", &[]);
    common::check_dial_wire(&outcome);
    common::check_stack_within_budget(&outcome, "arm64 dial-wire");
}

#[test]
fn arm64_a_pppoe_client_dialing_in_is_answered_through_a_sap_and_its_padt_ends_the_call() {
    let outcome = run("answer-wire", &[]);
    common::check_answer_wire(&outcome);
    common::check_stack_within_budget(&outcome, "arm64 answer-wire");
}

#[test]
fn arm64_a_dial_over_two_adapters_finds_the_access_concentrator_behind_the_second() {
    common::check_dial_search_second(&run("dial-search", &["second"]));
}

#[test]
fn arm64_session_frames_are_lent_without_a_copy_or_copied_and_every_lower_nbl_returns_once() {
    common::check_lent_receive(&run("receive-lent", &[]));
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
