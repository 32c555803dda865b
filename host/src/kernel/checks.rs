//! The verifier state of the running scenario: every rule of crate::verifier fed from the
//! import implementations, and the stop that follows a violation (rendered with the image's
//! symbols, as Driver Verifier's bug check names the culprit).
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::report;
use crate::verifier::completion::{Kind, Tracker};
use crate::verifier::lock_order::{Held, LockOrder, ThreadKey};
use crate::verifier::pool::Pool;
use crate::verifier::{Site, Violation};

/// Everything the rules remember.
#[derive(Debug)]
pub struct Checks {
    pub locks: LockOrder,
    pub pool: Pool,
    pub upper_sends: Tracker,
    pub receives: Tracker,
    pub lower_sends: Tracker,
    pub lower_receives: Tracker,
    pub oid_requests: Tracker,
    /// The memory the data of each NBL indicated up (and not returned yet) describes, noted
    /// at the indication, for the lending rule (crate::verifier::lending).
    pub indicated_memory: HashMap<usize, Vec<(usize, usize)>>,
}

impl Default for Checks {
    fn default() -> Self {
        Self {
            locks: LockOrder::default(),
            pool: Pool::default(),
            upper_sends: Tracker::new(Kind::UpperSend),
            receives: Tracker::new(Kind::Receive),
            lower_sends: Tracker::new(Kind::LowerSend),
            lower_receives: Tracker::new(Kind::LowerReceive),
            oid_requests: Tracker::new(Kind::OidRequest),
            indicated_memory: HashMap::new(),
        }
    }
}

/// The checks of this process.
pub fn checks() -> MutexGuard<'static, Checks> {
    static CHECKS: OnceLock<Mutex<Checks>> = OnceLock::new();
    CHECKS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Stops the scenario on a violation, naming its sites with symbols.
pub fn enforce<T>(result: Result<T, Violation>) -> T {
    match result {
        Ok(value) => value,
        Err(violation) => stop(&violation),
    }
}

/// Stops the scenario with `violation`.
pub fn stop(violation: &Violation) -> ! {
    report::violation(
        violation.rule,
        &violation.render(|site| report::site(site.0)),
    )
}

/// This thread's key in the lock graph.
pub fn thread_key() -> ThreadKey {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: Cell<ThreadKey> = const { Cell::new(0) };
    }
    KEY.with(|key| {
        if key.get() == 0 {
            key.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        key.get()
    })
}

/// The driver spin locks the current thread holds.
pub fn held_locks() -> Vec<Held> {
    checks().locks.held(thread_key()).to_vec()
}

/// The KB Q219380 rule for `call` made at `site` on this thread.
pub fn no_lock_held(call: &str, site: Site) {
    let held = held_locks();
    enforce(crate::verifier::q219380::check_no_lock_held(
        &held, call, site,
    ));
}

/// The end-of-run checks of exactly-once completion: nothing handed over in either direction
/// is still outstanding.
pub fn check_all_completed(when: &str) {
    let result = {
        let checks = checks();
        [
            &checks.upper_sends,
            &checks.receives,
            &checks.lower_sends,
            &checks.lower_receives,
            &checks.oid_requests,
        ]
        .into_iter()
        .try_for_each(|tracker| tracker.check_drained(when))
    };
    enforce(result);
}

/// Starts a thread that enforces the NdisTimedDataSend rule while the scenario runs: no send
/// (up or down) outstanding longer than the documented 30 s.
pub fn start_send_watchdog() {
    use crate::verifier::completion::SEND_TIME_LIMIT;
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let now = std::time::Instant::now();
            let result = {
                let checks = checks();
                [&checks.upper_sends, &checks.lower_sends]
                    .into_iter()
                    .try_for_each(|tracker| tracker.check_age(now, SEND_TIME_LIMIT))
            };
            enforce(result);
        }
    });
}

/// The lending rule for a received NBL leaving the driver (returned, or reclaimed after a
/// RESOURCES indication): nothing indicated up may still describe its buffers.
pub fn check_reclaim(lower: usize, how: crate::verifier::lending::Reclaim, site: Site) {
    let lower_memory = crate::kernel::packets::host_nbl_memory(lower);
    let result = {
        let checks = checks();
        let up: Vec<(usize, Vec<(usize, usize)>)> = checks
            .indicated_memory
            .iter()
            .map(|(nbl, memory)| (*nbl, memory.clone()))
            .collect();
        crate::verifier::lending::check_reclaim(lower, &lower_memory, &up, how, site)
    };
    enforce(result);
}
