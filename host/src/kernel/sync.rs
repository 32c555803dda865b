//! Spin locks with IRQL bookkeeping (WDK: NdisAcquireSpinLock, NdisReleaseSpinLock,
//! NdisDprAcquireSpinLock, NdisDprReleaseSpinLock, KeAcquireSpinLockRaiseToDpc,
//! KeReleaseSpinLock). The rules run before the host spins, so an inverted order is reported
//! as a cycle instead of hanging the scenario.
#![forbid(unsafe_code)]

use super::checks::{checks, enforce, thread_key};
use super::irql::{self, DISPATCH_LEVEL, Irql};
use crate::verifier::{self, Site};

/// How a lock is being taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// From IRQL <= DISPATCH_LEVEL, raising to DISPATCH_LEVEL.
    Raise,
    /// At DISPATCH_LEVEL already (the Dpr variants).
    AtDispatch,
}

/// Checks the rules for acquiring `lock` at `site` and returns the IRQL to save (the caller
/// then spins on the lock word and raises to DISPATCH_LEVEL).
pub fn before_acquire(lock: usize, site: Site, how: Acquire, function: &str) -> Irql {
    let current = irql::current();
    match how {
        Acquire::Raise => enforce(verifier::irql::at_most(
            current,
            DISPATCH_LEVEL,
            function,
            site,
        )),
        Acquire::AtDispatch => enforce(verifier::irql::at_dispatch(current, function, site)),
    }
    enforce(checks().locks.acquire(thread_key(), lock, site));
    current
}

/// After the lock word is taken: the thread runs at DISPATCH_LEVEL.
pub fn after_acquire() {
    irql::set(DISPATCH_LEVEL);
}

/// Checks the rules for releasing `lock` at `site`; the caller then clears the lock word and
/// lowers the IRQL to the saved value with [`lower_to`].
pub fn before_release(lock: usize, site: Site, how: Acquire, function: &str) {
    let current = irql::current();
    if how == Acquire::AtDispatch {
        enforce(verifier::irql::at_dispatch(current, function, site));
    } else if current != DISPATCH_LEVEL {
        super::checks::stop(&verifier::Violation::new(
            "IRQL",
            format!(
                "{function} at {{site:0}} called at {}, but a held spin lock keeps the thread at DISPATCH_LEVEL",
                irql::name(current)
            ),
            vec![site],
        ));
    }
    enforce(checks().locks.release(thread_key(), lock, site));
}

/// Restores the IRQL saved at acquisition.
pub fn lower_to(saved: Irql) {
    irql::set(saved);
}
