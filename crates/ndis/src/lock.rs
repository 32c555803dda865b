//! NDIS spin locks (WDK: ns-ndis-_ndis_spin_lock, nf-ndis-ndisacquirespinlock) and a safe
//! lock around a value, the platform lock of the engine in the driver.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::imports::{
    NdisAcquireSpinLock, NdisAllocateSpinLock, NdisFreeSpinLock, NdisReleaseSpinLock,
};
use crate::layout;
use crate::types::{Kirql, KspinLock};

/// `NDIS_SPIN_LOCK`: the kernel spin lock and the IRQL to restore on release.
#[repr(C)]
#[derive(Debug)]
pub struct NdisSpinLock {
    pub spin_lock: KspinLock,
    pub old_irql: Kirql,
}

layout!(NdisSpinLock = "_NDIS_SPIN_LOCK", size 8 / 16 {
    spin_lock = "SpinLock" @ 0 / 0,
    old_irql = "OldIrql" @ 4 / 8,
});

/// A value guarded by an NDIS spin lock.
///
/// Taking it raises to DISPATCH_LEVEL and stores the previous IRQL *in the lock*, so when a
/// thread holds several, they must be released in the reverse order they were taken: the
/// engine's lock-order types guarantee that for every lock of the driver.
pub struct SpinLock<T> {
    raw: UnsafeCell<NdisSpinLock>,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, and a guard exists only while the NDIS
// spin lock is held, so at most one CPU touches the value at a time; `T: Send` lets it move
// between CPUs.
unsafe impl<T: Send> Send for SpinLock<T> {}
// SAFETY: as above: shared access to the lock hands out the value to one holder at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked lock.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// The lock is initialised here and then moved to where the caller keeps it. An unlocked
    /// `NDIS_SPIN_LOCK` is plain data that nobody references (`NdisAllocateSpinLock` only
    /// initialises the variable, WDK: nf-ndis-ndisallocatespinlock), so moving it is sound;
    /// once taken, it cannot move while the guard borrows it.
    pub fn new(value: T) -> Self {
        let lock = SpinLock {
            raw: UnsafeCell::new(NdisSpinLock {
                spin_lock: 0,
                old_irql: 0,
            }),
            value: UnsafeCell::new(value),
        };
        // SAFETY: `raw` is a valid NDIS_SPIN_LOCK that no one else can see yet.
        unsafe { NdisAllocateSpinLock(lock.raw.get()) };
        lock
    }

    /// Spins until the lock is held, at DISPATCH_LEVEL, and returns the guard.
    ///
    /// IRQL: <= DISPATCH_LEVEL on entry; the guard lives at DISPATCH_LEVEL and restores the
    /// entry IRQL when dropped. Never take a lock the current thread already holds.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: `raw` was initialised by `new` and lives as long as `self`; NDIS serialises
        // concurrent acquirers itself.
        unsafe { NdisAcquireSpinLock(self.raw.get()) };
        SpinLockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T> Drop for SpinLock<T> {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        // SAFETY: `&mut self` proves no guard is alive, so the lock is free; it was
        // initialised by `new` and is freed exactly once, here.
        unsafe { NdisFreeSpinLock(self.raw.get()) };
    }
}

impl<T> core::fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SpinLock")
    }
}

/// Proof that a [`SpinLock`] is held; releases it on drop. Not `Send`: a spin lock is released
/// on the processor that took it.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference to the value exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock and is borrowed mutably, so this is the only
        // reference to the value.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    /// IRQL: DISPATCH_LEVEL; returns at the IRQL the matching `lock` was called at.
    fn drop(&mut self) {
        // SAFETY: this guard's `lock` acquired the spin lock and it is released exactly once.
        unsafe { NdisReleaseSpinLock(self.lock.raw.get()) };
    }
}

impl<T> core::fmt::Debug for SpinLockGuard<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SpinLockGuard")
    }
}
