//! The real rswan.sys in the host: DriverEntry registers an NDIS 6.20 CoNDIS miniport with
//! an integrated call manager exactly as the WDK describes the registration, and unloading
//! gives everything back. The image is the one `RSWAN_SYS_X64` names, else a release build
//! made for the test (rswan_host::image).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};
use rswan_host::kernel::condis::CALL_MANAGER_HANDLER_NAMES;

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn run(scenario: &str) -> Outcome {
    child::run(Path::new(RUNNER), scenario, &image(), &[])
}

fn run_with(scenario: &str, args: &[&str]) -> Outcome {
    child::run(Path::new(RUNNER), scenario, &image(), args)
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
fn driver_entry_registers_an_ndis_6_20_miniport_with_a_call_manager() {
    let outcome = run("driver-entry");
    outcome.expect_ok();
    assert_eq!(outcome.observation("driver_entry.status"), "0x00000000");
    // WDK: NDIS_MINIPORT_DRIVER_CHARACTERISTICS, Header: type 0x8A, revision 2 for NDIS 6.1+
    // with NDIS_SIZEOF_..._REVISION_2 (152 bytes on x64).
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
        assert!(handler_rva(&outcome, &format!("miniport.handler.{name}")) >= 0x1000);
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
fn unload_deregisters_and_leaves_nothing_behind() {
    // The scenario fails on a leak of pool, NBLs, MDLs, timers or work items, or a
    // registration left behind.
    let outcome = run("driver-entry-unload");
    outcome.expect_ok();
    assert_eq!(outcome.observation("ndis.deregistrations"), "1");
}

#[test]
fn every_failable_call_of_driver_entry_fails_once_without_a_crash_or_a_leak() {
    // A run with no fault counts the failable calls (allocations and the like) DriverEntry
    // and unload make; then each of them fails in turn. DriverEntry may fail with it, but
    // must leave nothing registered and nothing allocated; if it succeeds, unload must.
    let clean = run_with("driver-entry-faults", &["0"]);
    clean.expect_ok();
    let calls: u64 = clean.observation("faults.calls").parse().expect("a count");
    for n in 1..=calls {
        let outcome = run_with("driver-entry-faults", &[&n.to_string()]);
        outcome.expect_ok();
        assert_ne!(outcome.observation("faults.injected"), "none", "call {n}");
    }
}
