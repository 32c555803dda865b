//! Fault injection into the real rswan.sys through a call's life (issue 6): for a PPPoE call
//! over the in-memory wire and for a loopback call, each failable call the driver makes
//! between the make call and the hang-up (pool, NBL, MDL, clone, timer, work item) fails once
//! in turn, one child process per failure. Each run must end cleanly: the operation that met
//! the failure reports NDIS_STATUS_RESOURCES (a refused send, a failed make call) or loses a
//! frame, nothing hangs or crashes, no verifier rule breaks, the next call goes through whole
//! and nothing leaks at unload (rswan_host::scenario's call-life-faults).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rswan_host::child::{self, Outcome};
use rswan_host::report::Ending;

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");
/// A run takes a fraction of a second; a hang is reported by the scenario itself well before.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// More failable calls than a call's life makes: the sweep must end before.
const MOST_FAULTS: u32 = 200;
/// Failed runs after which the sweep stops: enough to see the pattern.
const MOST_FAILED: usize = 20;

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn observation<'a>(outcome: &'a Outcome, key: &str) -> Option<&'a str> {
    outcome.report.observation(key)
}

/// Fails the 1st, 2nd, ... failable call of a `kind` call's life until a run makes no
/// failable call at the n-th place; panics with every run that did not end cleanly.
fn sweep(kind: &str) {
    let image = image();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for n in 1..=MOST_FAULTS {
        let outcome = child::run_with_timeout(
            Path::new(RUNNER),
            "call-life-faults",
            &image,
            &[kind, &n.to_string()],
            RUN_LIMIT,
        );
        let site = observation(&outcome, "faults.injected_at").unwrap_or("no failable call");
        if outcome.report.ending != Ending::Ok {
            failed.push(format!("fault {n} ({site}): {}", outcome.describe()));
            assert!(
                failed.len() < MOST_FAILED,
                "{kind}: the first {MOST_FAILED} failed runs:\n{}",
                failed.join("\n")
            );
            continue;
        }
        if outcome.observation("faults.injected") == "none" {
            eprintln!(
                "{kind}: {} failable calls in a life\n{}",
                n - 1,
                passed.join("\n")
            );
            assert!(failed.is_empty(), "{kind}:\n{}", failed.join("\n"));
            assert!(
                n > 3,
                "only {} failable calls in a {kind} call's life",
                n - 1
            );
            return;
        }
        passed.push(format!(
            "fault {n} ({site}): {}",
            outcome.observation("life.first")
        ));
    }
    panic!("a {kind} call's life made more than {MOST_FAULTS} failable calls");
}

#[test]
fn each_failable_call_of_a_pppoe_calls_life_fails_once_and_the_driver_recovers() {
    sweep("pppoe");
}

#[test]
fn each_failable_call_of_a_loopback_calls_life_fails_once_and_the_driver_recovers() {
    sweep("loopback");
}
