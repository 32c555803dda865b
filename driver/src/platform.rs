//! The engine's platform in the kernel: NDIS spin locks, and NBLs as its packets.

use rswan_engine::platform::{Platform, RawLock};
use rswan_ndis::chain::Nbl;
use rswan_ndis::lock::{SpinLock, SpinLockGuard};

/// An engine lock: an NDIS spin lock around the value. The engine's lock-order types decide
/// when each is taken and make them release in reverse order, as NDIS spin locks require.
pub struct NdisLock<T>(SpinLock<T>);

impl<T: Send> RawLock<T> for NdisLock<T> {
    type Guard<'a>
        = SpinLockGuard<'a, T>
    where
        Self: 'a;

    /// IRQL: <= DISPATCH_LEVEL.
    fn new(value: T) -> Self {
        NdisLock(SpinLock::new(value))
    }

    /// IRQL: <= DISPATCH_LEVEL; the guard runs at DISPATCH_LEVEL.
    fn lock(&self) -> SpinLockGuard<'_, T> {
        self.0.lock()
    }
}

/// The kernel platform. Sends are NDISWAN's NBLs; received frames are NBLs of the driver's own
/// receive pool (see [`crate::rx`]).
pub struct NdisPlatform;

impl Platform for NdisPlatform {
    type Lock<T: Send> = NdisLock<T>;
    type Tx = Nbl;
    type Rx = Nbl;
}
