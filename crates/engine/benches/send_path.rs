//! Per-packet cost of the send path: queue + dequeue (transmit) + complete, on one thread and
//! on two threads driving disjoint VCs, each as a ratio to copying a 1500-byte payload in the
//! same run. Prints figures; asserts nothing about time (issue 3's goals are printed with
//! whether this run met them).

use rswan_engine::batch::{Egress, Event, LinkParams};
use rswan_engine::ids::{BindingId, LineId, Route, SessionKey, TxTag, VcId};
use rswan_engine::platform::StdPlatform;
use rswan_engine::status::{PENDING, SUCCESS};
use rswan_engine::{Config, Engine};
use std::hint::black_box;
use std::time::Instant;

type P = StdPlatform<u64, u64>;

const PACKETS: u64 = 2_000_000;
const GOAL_NS: f64 = 100.0;
const GOAL_SCALING: f64 = 1.6;

/// Plays the lower edge: keeps transmitted frames to complete them in the same loop.
#[derive(Default)]
struct Lower {
    wire: Option<(TxTag, u64)>,
    completed: u64,
}

impl Egress<P> for Lower {
    fn deliver(&mut self, event: Event<P>) {
        match event {
            Event::Transmit { tag, packet, .. } => self.wire = Some((tag, packet)),
            Event::SendComplete { status, .. } => {
                assert_eq!(status, SUCCESS);
                self.completed += 1;
            }
            _ => {}
        }
    }
}

fn connect(engine: &Engine<P>, line: u32) -> VcId {
    let mut sink = |_: Event<P>| {};
    let vc = engine.create_vc().expect("vc");
    assert_eq!(engine.make_call(vc, LineId(line), &mut sink), PENDING);
    let key = SessionKey {
        session_id: line as u16 + 1,
        peer_mac: [2, 0, 0, 0, 0, line as u8],
        binding: BindingId(0),
    };
    let link = LinkParams {
        transmit_speed: 12_500_000,
        receive_speed: 12_500_000,
        send_window: 16,
    };
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key), link, &mut sink),
        PENDING
    );
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut sink), SUCCESS);
    vc
}

/// ns per packet for send + transmit_complete on one VC.
fn run(engine: &Engine<P>, vc: VcId, packets: u64) -> f64 {
    let mut lower = Lower::default();
    let start = Instant::now();
    for n in 0..packets {
        engine.send(vc, n, 1500, &mut lower);
        let (tag, packet) = lower.wire.take().expect("transmitted within the window");
        engine.transmit_complete(tag, packet, SUCCESS, &mut lower);
    }
    let ns = start.elapsed().as_nanos() as f64 / packets as f64;
    assert_eq!(lower.completed, packets);
    ns
}

fn copy_ns(packets: u64) -> f64 {
    let src = vec![0xA5u8; 1500];
    let mut dst = vec![0u8; 1500];
    let start = Instant::now();
    for n in 0..packets {
        let src = black_box(&src[..]);
        dst.copy_from_slice(src);
        dst[0] = n as u8;
        black_box(&mut dst);
    }
    start.elapsed().as_nanos() as f64 / packets as f64
}

fn main() {
    let engine: Engine<P> = Engine::new(Config {
        lines: 4,
        max_vcs: 4,
        ..Config::default()
    })
    .expect("config");
    engine.open_af();
    let a = connect(&engine, 0);
    let b = connect(&engine, 1);
    run(&engine, a, PACKETS / 10); // warm-up

    let copy = copy_ns(PACKETS);
    let one = run(&engine, a, PACKETS);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| run(&engine, a, PACKETS));
        s.spawn(|| run(&engine, b, PACKETS));
    });
    let two_elapsed = start.elapsed().as_nanos() as f64;
    let two_per_packet = two_elapsed / (2 * PACKETS) as f64; // wall time per packet, both threads
    let scaling = one / two_per_packet; // throughput of two threads over one

    println!("rswan-engine send path: queue + dequeue + complete, {PACKETS} packets per run");
    println!("  copy of a 1500-byte payload (baseline):      {copy:8.1} ns/packet");
    println!(
        "  one thread, one VC:                          {one:8.1} ns/packet = {:5.2} x copy",
        one / copy
    );
    println!(
        "  two threads, disjoint VCs (wall time):       {two_per_packet:8.1} ns/packet = {:5.2} x copy",
        two_per_packet / copy
    );
    println!("  2-thread / 1-thread throughput:              {scaling:8.2} x");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  goal: <= {GOAL_NS} ns/packet on one thread: {}",
        if one <= GOAL_NS { "met" } else { "NOT met" }
    );
    println!(
        "  goal: >= {GOAL_SCALING}x with two threads on disjoint VCs: {} ({cores} cores available)",
        if scaling >= GOAL_SCALING {
            "met"
        } else {
            "NOT met"
        }
    );
}
