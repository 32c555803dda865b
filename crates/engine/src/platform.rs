//! What the engine needs from the platform: a spin lock and the two packet handle types.
//!
//! The driver implements [`Platform`] over NDIS spin locks (`NdisAcquireSpinLock` keeps the old
//! IRQL in the lock, which is why guards must drop in reverse order: the lock-order types see to
//! it) and over its `NET_BUFFER_LIST` handles. Host tests use `std` (feature `std`) or `loom`
//! locks through the same trait, so loom checks the very code the driver runs.

use core::ops::DerefMut;

/// A mutual-exclusion lock around a `T`. Never re-entrant; the engine never asks it to be.
pub trait RawLock<T>: Send + Sync + Sized {
    /// Held while alive; releases the lock on drop.
    type Guard<'a>: DerefMut<Target = T>
    where
        Self: 'a;
    /// A new, unlocked lock. Called at initialisation only.
    fn new(value: T) -> Self;
    /// Spins (or blocks, on the host) until the lock is held.
    fn lock(&self) -> Self::Guard<'_>;
}

/// The platform the engine runs on.
pub trait Platform: Sized + 'static {
    /// The lock family (an NDIS spin lock in the driver).
    type Lock<T: Send>: RawLock<T>;
    /// A send handed down by NDISWAN (the driver's `NET_BUFFER_LIST`), owned by the engine until
    /// it comes back out in exactly one [`Event::SendComplete`](crate::batch::Event).
    type Tx: Send;
    /// A received frame to indicate up a VC, owned by the engine until it comes back out in
    /// exactly one [`Event::IndicateReceive`](crate::batch::Event) or
    /// [`Event::ReceiveDropped`](crate::batch::Event).
    type Rx: Send;
}

#[cfg(feature = "std")]
pub use host::StdPlatform;

#[cfg(feature = "std")]
mod host {
    extern crate std;

    use super::{Platform, RawLock};
    use core::marker::PhantomData;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    impl<T: Send> RawLock<T> for Mutex<T> {
        type Guard<'a>
            = MutexGuard<'a, T>
        where
            T: 'a;

        fn new(value: T) -> Self {
            Mutex::new(value)
        }

        fn lock(&self) -> MutexGuard<'_, T> {
            // A panic while a guard was alive already failed the test that caused it.
            Mutex::lock(self).unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// The host platform: `std::sync::Mutex` locks and caller-chosen packet handles.
    pub struct StdPlatform<Tx = u64, Rx = u64>(PhantomData<fn() -> (Tx, Rx)>);

    impl<Tx, Rx> core::fmt::Debug for StdPlatform<Tx, Rx> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("StdPlatform")
        }
    }

    impl<Tx: Send + 'static, Rx: Send + 'static> Platform for StdPlatform<Tx, Rx> {
        type Lock<T: Send> = Mutex<T>;
        type Tx = Tx;
        type Rx = Rx;
    }
}
