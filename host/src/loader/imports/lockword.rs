//! The lock word of a KSPIN_LOCK (and of the KSPIN_LOCK inside an NDIS_SPIN_LOCK, followed by
//! its KIRQL OldIrql; WDK: NDIS_SPIN_LOCK). 0 is free, 1 is held. The host spins on it the way
//! a processor does, yielding so that the emulated processor holding it can run.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::kernel::irql::Irql;
use crate::report;

/// Offset of OldIrql in NDIS_SPIN_LOCK: after the pointer-sized KSPIN_LOCK.
const OLD_IRQL_OFFSET: usize = size_of::<usize>();

fn word<'a>(lock: usize) -> &'a AtomicUsize {
    if lock == 0 || !lock.is_multiple_of(align_of::<usize>()) {
        report::violation(
            "SPIN_LOCK",
            &format!("spin lock at {lock:#x} is NULL or misaligned"),
        );
    }
    // SAFETY: the driver passes the address of its KSPIN_LOCK (checked non-null and aligned),
    // which lives as long as the lock is used; every access to it is atomic.
    unsafe { AtomicUsize::from_ptr(lock as *mut usize) }
}

/// KeInitializeSpinLock / NdisAllocateSpinLock: the lock is free.
pub fn initialize(lock: usize) {
    word(lock).store(0, Ordering::Release);
}

/// Spins until the lock word is taken.
pub fn take(lock: usize) {
    let word = word(lock);
    while word
        .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
}

/// Frees the lock word.
pub fn give(lock: usize) {
    word(lock).store(0, Ordering::Release);
}

/// Writes NDIS_SPIN_LOCK.OldIrql.
pub fn store_old_irql(lock: usize, irql: Irql) {
    let field = (lock + OLD_IRQL_OFFSET) as *mut Irql;
    // SAFETY: `lock` is an NDIS_SPIN_LOCK (checked by `word` on acquisition), whose OldIrql
    // byte follows the lock word; only the holder writes it.
    unsafe { field.write_volatile(irql) };
}

/// Reads NDIS_SPIN_LOCK.OldIrql.
pub fn load_old_irql(lock: usize) -> Irql {
    let field = (lock + OLD_IRQL_OFFSET) as *const Irql;
    // SAFETY: as in `store_old_irql`; the holder reads what it wrote.
    unsafe { field.read_volatile() }
}
