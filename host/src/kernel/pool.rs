//! Pool allocations with tags (WDK: ExAllocatePool2, ExFreePoolWithTag,
//! NdisAllocateMemoryWithTagPriority, NdisFreeMemory). The memory itself comes from the
//! loader; this module keeps the bookkeeping the verifier checks at unload.
#![forbid(unsafe_code)]

use super::checks::{checks, enforce};
use crate::verifier::Site;
use crate::verifier::pool::Allocation;

/// `POOL_FLAG_UNINITIALIZED` (WDK: POOL_FLAGS): ExAllocatePool2 zeroes unless this is set.
pub const POOL_FLAG_UNINITIALIZED: u64 = 0x0000_0000_0000_0002;
/// The byte uninitialized pool is filled with, so a driver that reads memory it never wrote
/// sees an obvious pattern instead of zeros that hide the bug.
pub const UNINITIALIZED_FILL: u8 = 0xCD;
/// The byte freed pool is filled with before it is released.
pub const FREED_FILL: u8 = 0xDD;

/// Records an allocation the loader made.
pub fn allocated(address: usize, size: usize, tag: u32, site: Site) {
    checks()
        .pool
        .allocated(address, Allocation { size, tag, site });
}

/// Checks and records a free; returns the size to release. Spin locks inside the block are
/// forgotten (their address may name a new lock later).
pub fn freed(address: usize, tag: Option<u32>, site: Site) -> usize {
    let mut checks = checks();
    let allocation = enforce(checks.pool.freed(address, tag, site));
    enforce(checks.locks.forget_range(address, allocation.size, site));
    allocation.size
}

/// The unload-time check: nothing may be left.
pub fn check_no_leaks() {
    let result = checks().pool.check_no_leaks();
    enforce(result);
}

pub fn live_allocations() -> usize {
    checks().pool.live()
}

/// Bytes the driver holds in pool allocations now (to show what a step allocated and freed).
pub fn live_bytes() -> usize {
    checks().pool.live_bytes()
}
