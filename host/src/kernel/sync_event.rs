//! NDIS events (WDK: NdisInitializeEvent, NdisSetEvent, NdisResetEvent, NdisWaitEvent): a
//! notification event that stays signalled until reset. The state lives in the driver's
//! NDIS_EVENT (KEVENT's SignalState), every change made under one host lock, and waiters
//! sleep on a condition variable instead of spinning. A wait "without limit" is bounded by
//! the host: a completion that never comes fails the scenario instead of hanging it.
#![forbid(unsafe_code)]

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::loader::memmap::{peek_u32, poke_u32};

/// The longest the host lets an unbounded NdisWaitEvent wait.
pub const UNBOUNDED_WAIT_LIMIT: Duration = Duration::from_secs(30);

/// NDIS_EVENT is a KEVENT, whose DISPATCHER_HEADER starts with 4 bytes of type and flags and
/// then the LONG SignalState (wdm.h).
const SIGNAL_STATE: usize = 4;

struct Events {
    lock: Mutex<()>,
    changed: Condvar,
}

fn events() -> &'static Events {
    static EVENTS: OnceLock<Events> = OnceLock::new();
    EVENTS.get_or_init(|| Events {
        lock: Mutex::new(()),
        changed: Condvar::new(),
    })
}

fn set_state(event: usize, signalled: bool) {
    let events = events();
    let _guard = events.lock.lock().unwrap_or_else(|e| e.into_inner());
    poke_u32(
        event + SIGNAL_STATE,
        u32::from(signalled),
        "NDIS_EVENT SignalState",
    );
    events.changed.notify_all();
}

/// NdisInitializeEvent: not signalled.
pub fn initialize(event: usize) {
    set_state(event, false);
}

/// NdisSetEvent.
pub fn set(event: usize) {
    set_state(event, true);
}

/// NdisResetEvent.
pub fn reset(event: usize) {
    set_state(event, false);
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Signalled,
    TimedOut,
    /// An unbounded wait passed [`UNBOUNDED_WAIT_LIMIT`].
    Stuck,
}

/// NdisWaitEvent: `milliseconds` 0 waits without limit.
pub fn wait(event: usize, milliseconds: u32) -> Wait {
    let events = events();
    let limit = if milliseconds == 0 {
        UNBOUNDED_WAIT_LIMIT
    } else {
        Duration::from_millis(u64::from(milliseconds))
    };
    let deadline = Instant::now() + limit;
    let mut guard = events.lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if peek_u32(event + SIGNAL_STATE, "NDIS_EVENT SignalState") != 0 {
            return Wait::Signalled;
        }
        let now = Instant::now();
        if now >= deadline {
            return if milliseconds == 0 {
                Wait::Stuck
            } else {
                Wait::TimedOut
            };
        }
        guard = events
            .changed
            .wait_timeout(guard, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}
