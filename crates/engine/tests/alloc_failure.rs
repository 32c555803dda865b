//! Building an engine fails cleanly when memory runs out: under every byte budget short of
//! what the pools need, `Engine::new` answers `OutOfMemory` (the driver's
//! NDIS_STATUS_RESOURCES) and gives back every byte it took; it never aborts in the allocation
//! error handler, which in the kernel is a bug check. The budgets step one byte at a time, so
//! each allocation of the engine is the one that fails for some budget.
//!
//! A plain `main` rather than the test harness (`harness = false`): the allocator is global,
//! and the harness's own thread allocates while a test runs, which would move the budget.
#![forbid(unsafe_code)]

mod common;

use cap::Cap;
use common::*;
use rswan_engine::{Config, ConfigError};
use std::alloc::System;

// A byte-limited allocator from a crate, so this test needs no `unsafe` of its own.
#[global_allocator]
static GLOBAL: Cap<System> = Cap::new(System, usize::MAX);

/// Builds an engine with at most `budget` more bytes than are allocated now; the result, and
/// whether every byte came back once it was dropped.
fn build_within(config: Config, budget: usize) -> (Result<(), ConfigError>, bool) {
    let before = GLOBAL.allocated();
    GLOBAL
        .set_limit(before + budget)
        .expect("a limit above the allocated bytes");
    let built = TestEngine::new(config).map(drop);
    GLOBAL.set_limit(usize::MAX).expect("no limit");
    (built, GLOBAL.allocated() == before)
}

fn main() {
    every_allocation_of_an_engine_may_fail_and_nothing_leaks();
    println!("alloc_failure: 1 passed, 0 failed");
}

fn every_allocation_of_an_engine_may_fail_and_nothing_leaks() {
    let config = small_config();
    // What a complete engine takes.
    let before = GLOBAL.allocated();
    let engine = TestEngine::new(config).expect("an engine");
    let needed = GLOBAL.allocated() - before;
    drop(engine);
    assert!(needed > 0);
    let mut failures = 0;
    for budget in 0..needed {
        let (built, freed) = build_within(config, budget);
        assert_eq!(built, Err(ConfigError::OutOfMemory), "budget {budget}");
        assert!(freed, "budget {budget}: bytes left allocated");
        failures += 1;
    }
    assert_eq!(build_within(config, needed), (Ok(()), true));
    assert_eq!(failures, needed);
    println!("an engine of {needed} bytes failed cleanly under each of {failures} smaller budgets");

    // Sizes beyond any memory (a VC queue and a session index of u32::MAX entries) are out of
    // memory too, not an overflow or an abort.
    for huge in [
        Config {
            queue_capacity: u32::MAX,
            ..config
        },
        Config {
            max_sessions: u32::MAX,
            ..config
        },
        Config {
            max_send_window: u32::MAX,
            receive_budget: u32::MAX,
            ..config
        },
    ] {
        assert_eq!(
            build_within(huge, 64 << 20),
            (Err(ConfigError::OutOfMemory), true),
            "{huge:?}"
        );
    }
}
