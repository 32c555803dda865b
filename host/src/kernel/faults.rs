//! Fault injection: the Nth call, counted over every import that is allowed to fail (pool and
//! packet allocations, timer and work-item allocation), fails the way its WDK page says it
//! can (NULL, or NDIS_STATUS_RESOURCES). A test runs a scenario once per N, so every
//! allocation site of the driver meets a failure exactly once.
#![forbid(unsafe_code)]

use std::sync::Mutex;

#[derive(Debug, Default)]
struct Plan {
    /// The 1-based index of the failable call to fail, if any.
    fail_at: Option<u64>,
    calls: u64,
    injected: Option<String>,
}

static PLAN: Mutex<Plan> = Mutex::new(Plan {
    fail_at: None,
    calls: 0,
    injected: None,
});

fn plan() -> std::sync::MutexGuard<'static, Plan> {
    PLAN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fails the `n`th failable call (1-based).
pub fn fail_at(n: u64) {
    plan().fail_at = Some(n);
}

/// Called by each import that may fail, naming itself: true if this call must fail.
pub fn should_fail(function: &str) -> bool {
    let mut plan = plan();
    plan.calls += 1;
    if plan.fail_at == Some(plan.calls) {
        let site = crate::report::site(crate::loader::cpu::last_caller());
        let injected = format!("{function} called at {site}");
        crate::report::observe("faults.injected_at", &injected);
        plan.injected = Some(injected);
        return true;
    }
    false
}

/// How many failable calls were made.
pub fn failable_calls() -> u64 {
    plan().calls
}

/// The function whose call was failed, if the planned call happened.
pub fn injected() -> Option<String> {
    plan().injected.clone()
}
