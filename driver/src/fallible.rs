//! Allocation that can fail: a kernel driver answers NDIS_STATUS_RESOURCES when pool memory runs
//! out, where `collect` would end in the allocation error handler (a bug check).

use alloc::boxed::Box;
use alloc::vec::Vec;

/// `[f(0), .., f(len - 1)]` in one allocation, or `None` when the pool has no room for it.
pub fn boxed_slice<T>(len: usize, f: impl FnMut(usize) -> T) -> Option<Box<[T]>> {
    let mut items = Vec::new();
    items.try_reserve_exact(len).ok()?;
    items.extend((0..len).map(f));
    // The capacity is exactly `len`, so this does not reallocate.
    Some(items.into_boxed_slice())
}
