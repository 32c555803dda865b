//! The data path allocates nothing: a counting global allocator watches send, transmit
//! completion (inline, as a lower edge may do it), receive and indication on a live call.

mod common;

use common::*;
use rswan_engine::batch::{Egress, Event};
use rswan_engine::status::SUCCESS;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

// A counting allocator from a crate, so this test needs no `unsafe` of its own.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Completes transmits inline and counts everything, allocating nothing.
struct Quiet<'a> {
    engine: &'a TestEngine,
    completed: u64,
    indicated: u64,
}

impl Egress<P> for Quiet<'_> {
    fn deliver(&mut self, event: Event<P>) {
        match event {
            Event::Transmit { tag, packet, .. } => {
                let engine = self.engine;
                engine.transmit_complete(tag, packet, SUCCESS, self);
            }
            Event::SendComplete { status, .. } => {
                assert_eq!(status, SUCCESS);
                self.completed += 1;
            }
            Event::IndicateReceive { .. } => self.indicated += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn data_path_allocates_nothing() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let a = connect(&engine, 0, 1, 4, &mut log);
    let b = connect(&engine, 1, 2, 4, &mut log);
    let mut sink = Quiet {
        engine: &engine,
        completed: 0,
        indicated: 0,
    };
    let region = Region::new(GLOBAL);
    for n in 0..10_000u64 {
        engine.send(a, Tx(n), 1500, &mut sink);
        engine.send(b, Tx(n), 64, &mut sink);
        engine.receive(key(1), Rx(n), 1500, &mut sink);
        engine.receive(key(2), Rx(n), 64, &mut sink);
    }
    let stats = engine.vc_stats(a);
    let change = region.change();
    assert_eq!(
        change.allocations + change.reallocations,
        0,
        "the data path allocated: {change:?}"
    );
    assert_eq!(sink.completed, 20_000);
    assert_eq!(sink.indicated, 20_000);
    assert_eq!(stats.unwrap().wan.frames_sent, 10_000);
    // The counter works: an allocation in a region is seen.
    let region = Region::new(GLOBAL);
    let v = std::hint::black_box(vec![1u8; 16]);
    assert_eq!(region.change().allocations, 1);
    drop(v);
}
