//! The real rswan.sys in the host: DriverEntry registers an NDIS 6.20 CoNDIS miniport with
//! an integrated call manager exactly as the WDK describes the registration, and unloading
//! gives everything back. The image is the one `RSWAN_SYS_X64` names, else a release build
//! made for the test (rswan_host::image).
#![forbid(unsafe_code)]

mod common;

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};

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

#[test]
fn driver_entry_registers_an_ndis_6_20_miniport_with_a_call_manager() {
    let outcome = run("driver-entry");
    outcome.expect_ok();
    assert_eq!(outcome.observation("driver_entry.status"), "0x00000000");
    common::check_registration(&outcome);
}

#[test]
fn unload_deregisters_and_leaves_nothing_behind() {
    // The scenario fails on a leak of pool, NBLs, MDLs, timers or work items, or a
    // registration left behind.
    let outcome = run("driver-entry-unload");
    outcome.expect_ok();
    common::check_registration(&outcome);
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
