//! Keeping apart in memory what different processors write, so that work on one VC does not
//! slow down work on another through a shared cache line ("false sharing").

use core::ops::{Deref, DerefMut};

/// Bytes that separate data of two processors: a cache line is 64 bytes, and the spatial
/// prefetcher of x86 processors pulls lines in pairs, so 128. Padding by size, not alignment,
/// asks nothing special of the kernel allocator.
pub(crate) const GUARD_BYTES: usize = 128;

/// A value followed by [`GUARD_BYTES`] that nothing touches: in an array of locks, the lock
/// word and data of one element never share a cache line with those of the next.
#[repr(C)]
pub(crate) struct Padded<T> {
    value: T,
    _guard: [u8; GUARD_BYTES],
}

impl<T> Padded<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            value,
            _guard: [0; GUARD_BYTES],
        }
    }
}

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Padded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_in_an_array_are_a_guard_apart() {
        let pair = [Padded::new(1u64), Padded::new(2u64)];
        let first_end = &*pair[0] as *const u64 as usize + core::mem::size_of::<u64>();
        let second = &*pair[1] as *const u64 as usize;
        assert!(second - first_end >= GUARD_BYTES);
        assert_eq!(*pair[1], 2);
    }
}
