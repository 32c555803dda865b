//! The receive path of the loaded x64 rswan.sys, copying against lending, in the same run.
//! Prints figures; asserts nothing about time.
//!
//! A PPPoE call over the host's in-memory wire; the lower adapter indicates full-size session
//! frames (1492-byte PPPoE payloads) one at a time at DISPATCH_LEVEL, NDISWAN takes each
//! indication and returns it. Copied: every frame indicated with NDIS_RECEIVE_FLAGS_RESOURCES,
//! so the driver copies it into a frame of its own (what every frame cost before lending).
//! Lent: indicated without RESOURCES, so the driver lends the payload up in place and returns
//! the lower NBL when NDISWAN returns the frame. The two alternate in rounds within one child
//! process, with every verifier rule on (which weighs on both alike). Two figures each: the
//! time inside the driver's ProtocolReceiveNetBufferLists and MiniportReturnNetBufferLists (with
//! the host's NDIS functions they call), and the whole round trip through the host (its receive
//! DPC, NDISWAN's event queue), which the host's own bookkeeping dominates.
//!
//! Environment: `RSWAN_BENCH_RECEIVES` (default 20000) frames each way.

use std::path::Path;

use rswan_host::report::Ending;

fn main() {
    let frames: u64 = std::env::var("RSWAN_BENCH_RECEIVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let image = rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"));
    let runner = Path::new(env!("CARGO_BIN_EXE_rswan-host-run"));
    let outcome = rswan_host::child::run(runner, "receive-bench", &image, &[&frames.to_string()]);
    let figure =
        |key: &str| -> Option<f64> { outcome.report.observation(key).and_then(|s| s.parse().ok()) };
    let figures = (
        figure("bench.frames"),
        figure("bench.copy_seconds"),
        figure("bench.lent_seconds"),
        figure("bench.copy_driver_seconds"),
        figure("bench.lent_driver_seconds"),
    );
    let (Some(measured), Some(copy), Some(lent), Some(copy_driver), Some(lent_driver)) = figures
    else {
        println!("driver receive path: not measured: {}", outcome.describe());
        std::process::exit(1);
    };
    if outcome.report.ending != Ending::Ok {
        println!(
            "driver receive path: the run failed: {}",
            outcome.describe()
        );
        std::process::exit(1);
    }
    println!(
        "driver receive path ({measured} full-size PPPoE frames each way through the loaded image, verifier on):"
    );
    let per_frame = |seconds: f64| seconds / measured * 1e9;
    for (what, round_trip, driver) in [
        ("copied (RESOURCES)", copy, copy_driver),
        ("lent (zero-copy)  ", lent, lent_driver),
    ] {
        println!(
            "  {what}: {:.0} ns/frame inside the driver's receive and return entry points; {:.0} ns/frame round trip through the host",
            per_frame(driver),
            per_frame(round_trip)
        );
    }
    println!(
        "  ratio copied / lent: {:.2}x the time per frame inside the driver; {:.2}x round trip",
        copy_driver / lent_driver,
        copy / lent
    );
}
