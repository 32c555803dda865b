//! Per-packet cost of the send path: queue + dequeue (transmit) + complete, on one thread and
//! on two threads driving disjoint VCs, each as a ratio to copying a 1500-byte payload in the
//! same run. Prints figures; asserts nothing about time (issue 3's goals are printed with
//! whether this run met them).
//!
//! The machine this runs on may be shared, so each figure is measured in several rounds (copy,
//! one thread, two threads, interleaved) and the best and the median are printed; the goals are
//! judged on the best round, the least disturbed by other load. Two threads start together
//! behind a barrier, so thread start-up is outside the timed region, and each thread reports
//! the CPU time it got and how long it waited for a CPU (Linux `/proc/thread-self/schedstat`),
//! which tells apart a slow engine from a busy machine.
//!
//! Environment: `RSWAN_BENCH_PACKETS` (default 2000000) packets per run, `RSWAN_BENCH_ROUNDS`
//! (default 5) rounds. For a figure that load does not disturb, count instructions with
//! callgrind on the one-thread loop alone (`RSWAN_BENCH_ONLY=one` skips everything else):
//! `RSWAN_BENCH_ONLY=one RSWAN_BENCH_PACKETS=100000 valgrind --tool=callgrind
//! --toggle-collect=rswan_engine::send_loop::run <bench executable>`, then divide the total by the packets.

use rswan_engine::ids::VcId;
use rswan_engine::send_loop::{LoopPlatform, connect, run};
use rswan_engine::{Config, Engine};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

type P = LoopPlatform;

const GOAL_NS: f64 = 100.0;
const GOAL_SCALING: f64 = 1.6;

/// Time on a CPU and time waiting for one, of the calling thread (Linux only).
#[derive(Clone, Copy, Default)]
struct Sched {
    on_cpu: Duration,
    waiting: Duration,
}

fn sched() -> Option<Sched> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some(Sched {
        on_cpu: Duration::from_nanos(fields.next()??),
        waiting: Duration::from_nanos(fields.next()??),
    })
}

/// One thread's timed run: wall time, and the scheduler's account of it.
struct Timed {
    wall: Duration,
    sched: Option<Sched>,
}

fn timed_run(engine: &Engine<P>, vc: VcId, packets: u64, start: Option<&Barrier>) -> Timed {
    if let Some(barrier) = start {
        barrier.wait();
    }
    let before = sched();
    let began = Instant::now();
    run(engine, vc, packets);
    let wall = began.elapsed();
    let sched = before.zip(sched()).map(|(b, a)| Sched {
        on_cpu: a.on_cpu - b.on_cpu,
        waiting: a.waiting - b.waiting,
    });
    Timed { wall, sched }
}

/// ns per 1500-byte copy; `start`: wait there first (two copiers start together).
fn copy_ns(packets: u64, start: Option<&Barrier>) -> f64 {
    let src = vec![0xA5u8; 1500];
    let mut dst = vec![0u8; 1500];
    if let Some(barrier) = start {
        barrier.wait();
    }
    let start = Instant::now();
    for n in 0..packets {
        let src = black_box(&src[..]);
        dst.copy_from_slice(src);
        dst[0] = n as u8;
        black_box(&mut dst);
    }
    start.elapsed().as_nanos() as f64 / packets as f64
}

fn per_packet(d: Duration, packets: u64) -> f64 {
    d.as_nanos() as f64 / packets as f64
}

/// One round's figures.
struct Round {
    copy: f64,
    /// Wall time per copy of two threads copying at once: how far this machine lets two
    /// threads scale right now, whatever they run.
    copy_two: f64,
    one: f64,
    /// CPU time per packet of the one-thread run, and the share of it spent waiting for a CPU.
    one_cpu: Option<(f64, f64)>,
    /// Wall time per packet of both threads together.
    two: f64,
    /// CPU time per packet of each thread in the two-thread run, and the share of the run it
    /// spent waiting for a CPU.
    two_cpu: Option<[(f64, f64); 2]>,
}

fn round(engine: &Engine<P>, a: VcId, b: VcId, packets: u64) -> Round {
    let copy = copy_ns(packets, None);
    let barrier = Barrier::new(2);
    let copy_two = std::thread::scope(|s| {
        let x = s.spawn(|| copy_ns(packets, Some(&barrier)));
        let y = s.spawn(|| copy_ns(packets, Some(&barrier)));
        let (x, y) = (x.join().expect("copier"), y.join().expect("copier"));
        x.max(y) / 2.0
    });
    let alone = timed_run(engine, a, packets, None);
    let one = per_packet(alone.wall, packets);
    let barrier = Barrier::new(2);
    let (ta, tb) = std::thread::scope(|s| {
        let ta = s.spawn(|| timed_run(engine, a, packets, Some(&barrier)));
        let tb = s.spawn(|| timed_run(engine, b, packets, Some(&barrier)));
        (ta.join().expect("thread a"), tb.join().expect("thread b"))
    });
    // Both start at the barrier; the pair is done when the slower one is.
    let two = per_packet(ta.wall.max(tb.wall), 2 * packets);
    let cpu = |t: &Timed| -> Option<(f64, f64)> {
        t.sched.map(|s| {
            (
                per_packet(s.on_cpu, packets),
                s.waiting.as_secs_f64() / t.wall.as_secs_f64(),
            )
        })
    };
    let one_cpu = cpu(&alone);
    let two_cpu = cpu(&ta).zip(cpu(&tb)).map(|(x, y)| [x, y]);
    Round {
        copy,
        copy_two,
        one,
        one_cpu,
        two,
        two_cpu,
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

fn best(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(f64::INFINITY, f64::min)
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let packets = env_u64("RSWAN_BENCH_PACKETS", 2_000_000).max(1);
    let rounds = env_u64("RSWAN_BENCH_ROUNDS", 5).max(1);
    let engine: Engine<P> = Engine::new(Config {
        lines: 4,
        max_vcs: 4,
        ..Config::default()
    })
    .expect("config");
    engine.open_af();
    let a = connect(&engine, 0);
    let b = connect(&engine, 1);

    if let Ok(only) = std::env::var("RSWAN_BENCH_ONLY") {
        assert_eq!(only, "one", "RSWAN_BENCH_ONLY takes only `one`");
        run(&engine, a, packets);
        println!("rswan-engine send path: {packets} packets through run() on one thread");
        return;
    }

    run(&engine, a, packets / 10); // warm-up
    let all: Vec<Round> = (0..rounds).map(|_| round(&engine, a, b, packets)).collect();

    let copy = best(all.iter().map(|r| r.copy));
    let one = best(all.iter().map(|r| r.one));
    let two = best(all.iter().map(|r| r.two));
    let scaling = one / two; // throughput of two threads over one, best rounds
    let median_scaling = median(all.iter().map(|r| r.one / r.two));

    println!(
        "rswan-engine send path: queue + dequeue + complete, {packets} packets per run, \
         {rounds} rounds (best / median)"
    );
    println!(
        "  copy of a 1500-byte payload (baseline):      {copy:8.1} / {:8.1} ns/packet",
        median(all.iter().map(|r| r.copy))
    );
    println!(
        "  one thread, one VC:                          {one:8.1} / {:8.1} ns/packet = {:5.2} / {:5.2} x copy",
        median(all.iter().map(|r| r.one)),
        best(all.iter().map(|r| r.one / r.copy)),
        median(all.iter().map(|r| r.one / r.copy)),
    );
    println!(
        "  two threads, disjoint VCs (wall time):       {two:8.1} / {:8.1} ns/packet = {:5.2} / {:5.2} x copy",
        median(all.iter().map(|r| r.two)),
        best(all.iter().map(|r| r.two / r.copy)),
        median(all.iter().map(|r| r.two / r.copy)),
    );
    println!(
        "  2-thread / 1-thread throughput:              {scaling:8.2} / {median_scaling:8.2} x"
    );
    let copy_scaling = copy / best(all.iter().map(|r| r.copy_two));
    println!(
        "  2-thread / 1-thread, copying (the machine):  {copy_scaling:8.2} / {:8.2} x",
        median(all.iter().map(|r| r.copy / r.copy_two))
    );
    // What the scheduler says: CPU time per packet (it grows when threads contend for a lock
    // or a cache line) and the share of the run spent waiting for a CPU (other load).
    let sched = all
        .iter()
        .all(|r| r.one_cpu.is_some() && r.two_cpu.is_some());
    let (one_cpu, one_wait, two_cpu, two_wait) = if sched {
        let one = |i: usize| median(all.iter().filter_map(|r| r.one_cpu.map(|c| [c.0, c.1][i])));
        let two = |i: usize| {
            median(all.iter().filter_map(|r| {
                r.two_cpu
                    .map(|c| [c[0].0.max(c[1].0), c[0].1.max(c[1].1)][i])
            }))
        };
        println!(
            "  CPU time per packet (median), one thread:    {:8.1} ns; it waited for a CPU {:.0}% \
             of its run",
            one(0),
            one(1) * 100.0
        );
        println!(
            "  CPU time per packet (median), two threads:   {:8.1} ns (the slower); a thread \
             waited for a CPU {:.0}% of its run",
            two(0),
            two(1) * 100.0
        );
        (Some(one(0)), one(1), Some(two(0)), two(1))
    } else {
        (None, 0.0, None, 0.0)
    };

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    println!(
        "  goal: <= {GOAL_NS} ns/packet on one thread: {} ({one:.1} ns, wall clock)",
        verdict(one <= GOAL_NS)
    );
    if let Some(cpu) = one_cpu {
        println!(
            "        by CPU time: {} ({cpu:.1} ns; the thread waited {:.0}% for a CPU)",
            verdict(cpu <= GOAL_NS),
            one_wait * 100.0
        );
    }
    println!(
        "  goal: >= {GOAL_SCALING}x with two threads on disjoint VCs: {} ({scaling:.2}x, wall \
         clock, {cores} cores available; two threads copying got {copy_scaling:.2}x)",
        verdict(scaling >= GOAL_SCALING)
    );
    if let (Some(one), Some(two)) = (one_cpu, two_cpu) {
        // Each thread on a core of its own would move a packet per its CPU time per packet.
        let by_cpu = 2.0 * one / two;
        println!(
            "        by CPU time (a core each): {} ({by_cpu:.2}x; the threads waited {:.0}% for a \
             CPU)",
            verdict(by_cpu >= GOAL_SCALING),
            two_wait * 100.0
        );
    }
}
