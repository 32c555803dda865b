//! The receive path of the loaded x64 rswan.sys, copying against lending, in the same run.
//! Prints figures; asserts nothing about time.
//!
//! A PPPoE call over the host's in-memory wire; the lower adapter indicates full-size session
//! frames (1492-byte PPPoE payloads) one at a time at DISPATCH_LEVEL, NDISWAN takes each
//! indication and returns it. Copied: every frame indicated with NDIS_RECEIVE_FLAGS_RESOURCES,
//! so the driver copies it into a frame of its own (what every frame cost before lending).
//! Lent: indicated without RESOURCES, so the driver lends the payload up in place and returns
//! the lower NBL when NDISWAN returns the frame. The two alternate in rounds within one child
//! process, with every verifier rule on (which weighs on both alike).
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
    );
    let (Some(measured), Some(copy), Some(lent)) = figures else {
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
    for (what, seconds) in [("copied (RESOURCES)", copy), ("lent (zero-copy)", lent)] {
        println!(
            "  {what}: {:.0} ns/frame ({:.0} frames/s)",
            seconds / measured * 1e9,
            measured / seconds
        );
    }
    println!(
        "  ratio copied / lent: {:.2}x the time per frame",
        copy / lent
    );
}
