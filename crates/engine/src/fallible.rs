//! Allocation that can fail. The engine allocates only while it is built, which in the kernel
//! is MiniportInitializeEx: out of pool memory it must answer NDIS_STATUS_RESOURCES, where an
//! infallible `Vec`/`collect` would end in the allocation error handler (a bug check).

use alloc::boxed::Box;
use alloc::vec::Vec;

/// The allocator had no room, or the size does not fit the address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OutOfMemory;

/// An empty vector with room for exactly `capacity` values.
pub(crate) fn vec_with_capacity<T>(capacity: usize) -> Result<Vec<T>, OutOfMemory> {
    let mut items = Vec::new();
    items.try_reserve_exact(capacity).map_err(|_| OutOfMemory)?;
    Ok(items)
}

/// `[make(0), .., make(len - 1)]` in one allocation. A failure of `make` (its own allocations)
/// or of the slice's drops everything made so far.
pub(crate) fn boxed_slice<T>(
    len: usize,
    mut make: impl FnMut(usize) -> Result<T, OutOfMemory>,
) -> Result<Box<[T]>, OutOfMemory> {
    let mut items = vec_with_capacity(len)?;
    for index in 0..len {
        items.push(make(index)?);
    }
    // The capacity is exactly `len`, so this does not reallocate.
    Ok(items.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_holds_what_make_made_in_order() {
        let slice = boxed_slice(4, |i| Ok(i * 10)).unwrap();
        assert_eq!(&*slice, &[0, 10, 20, 30]);
    }

    #[test]
    fn a_failing_make_fails_the_slice() {
        let result = boxed_slice(4, |i| if i == 2 { Err(OutOfMemory) } else { Ok(i) });
        assert_eq!(result, Err(OutOfMemory));
    }

    #[test]
    fn a_size_beyond_the_address_space_is_out_of_memory_not_a_panic() {
        assert_eq!(
            vec_with_capacity::<u64>(usize::MAX).err(),
            Some(OutOfMemory)
        );
    }
}
