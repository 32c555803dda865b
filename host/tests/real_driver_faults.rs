//! The real rswan.sys when memory runs out: each failable call (pool, NBL pool, work item and
//! timer allocations) from DriverEntry through MiniportInitializeEx, Restart, Pause, HaltEx and
//! unload fails once in turn. MiniportInitializeEx then fails with NDIS_STATUS_RESOURCES (WDK:
//! MiniportInitializeEx, "Return value": NDIS_STATUS_RESOURCES when it could not allocate the
//! resources it needs) and leaves nothing behind; no run crashes, bug-checks, breaks a
//! verifier rule or leaks (the scenario ends with the unload checks).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn run(n: u64) -> Outcome {
    child::run(
        Path::new(RUNNER),
        "lifecycle-faults",
        &image(),
        &[&n.to_string()],
    )
}

fn number(outcome: &Outcome, key: &str) -> u64 {
    outcome
        .observation(key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number"))
}

#[test]
fn each_allocation_of_adapter_initialization_fails_it_with_resources_and_leaks_nothing() {
    let clean = run(0);
    clean.expect_ok();
    let before = number(&clean, "faults.calls_before_initialize");
    let after = number(&clean, "faults.calls_after_initialize");
    let calls = number(&clean, "faults.calls");
    // The engine's pools alone are more than a hundred allocations (one ring pair per VC).
    assert!(
        after - before > 100,
        "MiniportInitializeEx made only {} failable calls",
        after - before
    );
    let resources = format!(
        "MiniportInitializeEx returned {:#010x}",
        rswan_ndis::status::RESOURCES as u32
    );
    for n in 1..=calls {
        let outcome = run(n);
        outcome.expect_ok();
        let injected = outcome.observation("faults.injected");
        assert_ne!(injected, "none", "call {n} was not made");
        let failed = outcome.report.observation("adapter.initialize_failed");
        if (before + 1..=after).contains(&n) {
            assert_eq!(failed, Some(resources.as_str()), "call {n}: {injected}");
        } else {
            assert_eq!(failed, None, "call {n}: {injected}");
        }
    }
}
