//! Frames per second through the loaded x64 rswan.sys, as a ratio to the engine alone in the
//! same run. Prints figures; asserts nothing about time.
//!
//! - Through the image: NDISWAN sends PPP frames at DISPATCH_LEVEL on one loopback call
//!   (MiniportCoSendNetBufferLists), the driver carries each to the other line of the pair and
//!   indicates it (NdisMCoIndicateReceiveNetBufferLists), NDISWAN gives it back and the send
//!   completes: the whole data path of the image in the host, with every verifier rule on.
//! - The engine alone: rswan-engine's send, transmit and transmit-complete of one frame on a
//!   PPPoE route, in this process (what issue 3's send-path benchmark times).
//!
//! Environment: `RSWAN_BENCH_FRAMES` (default 20000) frames through the image,
//! `RSWAN_BENCH_PACKETS` (default 1000000) packets through the engine alone.

use std::path::Path;
use std::time::Instant;

use rswan_host::report::Ending;

use rswan_engine::send_loop::{self, LoopPlatform};
use rswan_engine::{Config, Engine};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seconds per packet through the engine alone.
fn engine_alone(packets: u64) -> f64 {
    let engine = Engine::<LoopPlatform>::new(Config::default()).expect("the default configuration");
    engine.open_af();
    let vc = send_loop::connect(&engine, 0);
    let started = Instant::now();
    send_loop::run(&engine, vc, packets);
    started.elapsed().as_secs_f64() / packets as f64
}

fn main() {
    let frames = env_number("RSWAN_BENCH_FRAMES", 20_000);
    let packets = env_number("RSWAN_BENCH_PACKETS", 1_000_000);
    let image = rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"));
    let runner = Path::new(env!("CARGO_BIN_EXE_rswan-host-run"));
    let outcome = rswan_host::child::run(
        runner,
        "loopback-stress",
        &image,
        &["1", &frames.to_string()],
    );
    let alone = engine_alone(packets);
    println!(
        "driver send path ({frames} frames through the loaded image, loopback call, verifier on):"
    );
    println!(
        "  engine alone: {:.0} ns/packet ({:.0} packets/s)",
        alone * 1e9,
        1.0 / alone
    );
    let seconds: Option<f64> = outcome
        .report
        .observation("stress.seconds")
        .and_then(|s| s.parse().ok());
    let Some(seconds) = seconds.filter(|_| outcome.report.ending == Ending::Ok) else {
        // Without a working image there is no figure: say why, and fail the run.
        println!("  image: not measured: {}", outcome.describe());
        std::process::exit(1);
    };
    let through_image = seconds / frames as f64;
    println!(
        "  image: {:.0} ns/frame ({:.0} frames/s)",
        through_image * 1e9,
        1.0 / through_image
    );
    println!(
        "  ratio image / engine alone: {:.1}x the time per frame",
        through_image / alone
    );
}
