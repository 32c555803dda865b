//! Worker threads that stand for the machine's processors. Deferred work runs on them the way
//! Windows runs it: DPCs and timer functions at DISPATCH_LEVEL (WDK: "Introduction to DPC
//! Objects", NDIS_TIMER_FUNCTION), I/O work items at PASSIVE_LEVEL (WDK: NDIS_IO_WORKITEM_
//! FUNCTION). With two or more of them, driver code truly runs concurrently with itself and
//! with the scenario thread, which is what the lock rules need to see.
//!
//! After each job the processor checks what a returning DPC or work item must leave behind:
//! the IRQL it was called at and no spin lock held.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::checks::{held_locks, stop};
use super::irql::{self, DISPATCH_LEVEL, Irql, PASSIVE_LEVEL};
use crate::verifier::Violation;

/// How many processors the host emulates.
pub const PROCESSORS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// A queued job and what it stands for (for messages).
struct Queued {
    what: String,
    job: Job,
}

#[derive(Default)]
struct Queues {
    dpcs: VecDeque<Queued>,
    work_items: VecDeque<Queued>,
    /// Due time and sequence number -> job.
    timers: BTreeMap<(Instant, u64), Queued>,
    next_sequence: u64,
    running: usize,
    /// Of `running`, the jobs at DISPATCH_LEVEL (DPCs and timer functions).
    running_dispatch: usize,
}

impl Queues {
    fn idle(&self) -> bool {
        self.dpcs.is_empty() && self.work_items.is_empty() && self.running == 0
    }
}

struct Shared {
    queues: Mutex<Queues>,
    wake: Condvar,
    idle: Condvar,
}

/// The processors of this process, started on first use.
fn shared() -> &'static Arc<Shared> {
    static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
    SHARED.get_or_init(|| {
        let shared = Arc::new(Shared {
            queues: Mutex::default(),
            wake: Condvar::new(),
            idle: Condvar::new(),
        });
        for number in 0..PROCESSORS {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("processor-{number}"))
                .spawn(move || processor(&shared))
                .expect("starting a processor thread");
        }
        shared
    })
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Queues> {
    shared.queues.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs at `level`, then checks what the job left behind.
fn run_at(level: Irql, queued: Queued) {
    crate::loader::cpu::enter();
    irql::set(level);
    (queued.job)();
    let after = irql::current();
    if after != level {
        stop(&Violation::new(
            "IRQL",
            format!(
                "{} returned at {}; it was called at {}",
                queued.what,
                irql::name(after),
                irql::name(level)
            ),
            Vec::new(),
        ));
    }
    if let Some(held) = held_locks().first() {
        stop(&Violation::new(
            "LOCK_HELD_ON_RETURN",
            format!(
                "{} returned still holding spin lock {:#x} (acquired at {{site:0}})",
                queued.what, held.lock
            ),
            vec![held.site],
        ));
    }
    irql::set(PASSIVE_LEVEL);
}

fn processor(shared: &Shared) {
    crate::loader::cpu::enter();
    let mut queues = lock(shared);
    loop {
        let now = Instant::now();
        let due_timer = queues
            .timers
            .first_key_value()
            .filter(|((due, _), _)| *due <= now)
            .map(|(key, _)| *key);
        let next = if let Some(dpc) = queues.dpcs.pop_front() {
            Some((DISPATCH_LEVEL, dpc))
        } else if let Some(key) = due_timer {
            queues.timers.remove(&key).map(|t| (DISPATCH_LEVEL, t))
        } else {
            queues.work_items.pop_front().map(|w| (PASSIVE_LEVEL, w))
        };
        match next {
            Some((level, queued)) => {
                queues.running += 1;
                queues.running_dispatch += usize::from(level == DISPATCH_LEVEL);
                drop(queues);
                run_at(level, queued);
                queues = lock(shared);
                queues.running -= 1;
                queues.running_dispatch -= usize::from(level == DISPATCH_LEVEL);
                if queues.idle() {
                    shared.idle.notify_all();
                }
            }
            None => {
                let timeout = queues
                    .timers
                    .first_key_value()
                    .map_or(Duration::from_millis(100), |((due, _), _)| {
                        due.saturating_duration_since(now)
                    });
                queues = shared
                    .wake
                    .wait_timeout(queues, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

/// Queues `job` to run at DISPATCH_LEVEL on a processor.
pub fn queue_dpc(what: impl Into<String>, job: impl FnOnce() + Send + 'static) {
    let shared = shared();
    lock(shared).dpcs.push_back(Queued {
        what: what.into(),
        job: Box::new(job),
    });
    shared.wake.notify_one();
}

/// Queues `job` to run at PASSIVE_LEVEL on a processor.
pub fn queue_work_item(what: impl Into<String>, job: impl FnOnce() + Send + 'static) {
    let shared = shared();
    lock(shared).work_items.push_back(Queued {
        what: what.into(),
        job: Box::new(job),
    });
    shared.wake.notify_one();
}

/// Runs `job` at DISPATCH_LEVEL on a processor at `due`.
pub fn queue_timer(due: Instant, what: impl Into<String>, job: impl FnOnce() + Send + 'static) {
    let shared = shared();
    let mut queues = lock(shared);
    let sequence = queues.next_sequence;
    queues.next_sequence += 1;
    queues.timers.insert(
        (due, sequence),
        Queued {
            what: what.into(),
            job: Box::new(job),
        },
    );
    drop(queues);
    shared.wake.notify_all();
}

/// KeFlushQueuedDpcs: waits until no DPC is queued or running, counting timer functions that
/// are due (an expiry is a DPC once its time has come); false after `limit`. Called from a
/// DPC itself it would wait for itself, so the caller is PASSIVE_LEVEL code.
pub fn flush_dpcs(limit: Duration) -> bool {
    let shared = shared();
    let deadline = Instant::now() + limit;
    let mut queues = lock(shared);
    loop {
        let now = Instant::now();
        let due = queues
            .timers
            .first_key_value()
            .is_some_and(|((due, _), _)| *due <= now);
        if queues.dpcs.is_empty() && queues.running_dispatch == 0 && !due {
            return true;
        }
        if now >= deadline {
            return false;
        }
        queues = shared
            .idle
            .wait_timeout(queues, Duration::from_millis(5).min(deadline - now))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Waits until no DPC or work item is queued or running (timers may still be pending), or
/// `limit` passes; false on timeout.
pub fn wait_idle(limit: Duration) -> bool {
    let shared = shared();
    let deadline = Instant::now() + limit;
    let mut queues = lock(shared);
    while !queues.idle() {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        queues = shared
            .idle
            .wait_timeout(queues, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    true
}
