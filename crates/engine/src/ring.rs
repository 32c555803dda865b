//! A bounded FIFO whose storage is allocated once, at initialisation.

use alloc::boxed::Box;

use crate::fallible::{self, OutOfMemory};
use crate::padding::GUARD_BYTES;

pub(crate) struct Ring<T> {
    /// `guard` unused slots, `capacity` slots in use, `guard` unused slots: the allocator may
    /// put another VC's ring right next to this one, written by another processor.
    slots: Box<[Option<T>]>,
    guard: usize,
    capacity: usize,
    /// Index of the oldest value, in `0..capacity`.
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    pub(crate) fn with_capacity(capacity: usize) -> Result<Self, OutOfMemory> {
        let guard = GUARD_BYTES.div_ceil(core::mem::size_of::<Option<T>>().max(1));
        let total = capacity.checked_add(2 * guard).ok_or(OutOfMemory)?;
        Ok(Self {
            slots: fallible::boxed_slice(total, |_| Ok(None))?,
            guard,
            capacity,
            head: 0,
            len: 0,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// `head + offset` wrapped into `0..capacity`, for `offset <= capacity` (no division: this
    /// runs once per packet).
    fn wrap(&self, offset: usize) -> usize {
        let at = self.head + offset;
        if at >= self.capacity {
            at - self.capacity
        } else {
            at
        }
    }

    /// Appends, or gives the value back when full.
    pub(crate) fn push(&mut self, value: T) -> Result<(), T> {
        if self.is_full() {
            return Err(value);
        }
        let tail = self.guard + self.wrap(self.len);
        self.slots[tail] = Some(value);
        self.len += 1;
        Ok(())
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.slots[self.guard + self.head].take();
        self.head = self.wrap(1);
        self.len -= 1;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn fifo_wraps_and_refuses_when_full() {
        let mut ring = Ring::with_capacity(3).unwrap();
        for round in 0..5u32 {
            assert!(ring.push(round * 10).is_ok());
            assert!(ring.push(round * 10 + 1).is_ok());
            assert_eq!(ring.pop(), Some(round * 10));
            assert_eq!(ring.pop(), Some(round * 10 + 1));
        }
        assert!(ring.push(1).is_ok() && ring.push(2).is_ok() && ring.push(3).is_ok());
        assert_eq!(ring.push(4), Err(4));
        assert!(ring.is_full());
        assert_eq!(ring.pop(), Some(1));
        assert!(ring.push(4).is_ok());
        assert_eq!(ring.pop(), Some(2));
        assert_eq!(ring.pop(), Some(3));
        assert_eq!(ring.pop(), Some(4));
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn guard_slots_stay_empty() {
        let mut ring = Ring::with_capacity(4).unwrap();
        assert!(ring.push(100).is_ok() && ring.push(101).is_ok());
        for n in 0..11u64 {
            assert!(ring.push(n).is_ok());
            assert!(ring.pop().is_some());
        }
        let (guard, capacity) = (ring.guard, ring.capacity);
        assert!(guard * core::mem::size_of::<Option<u64>>() >= crate::padding::GUARD_BYTES);
        assert!(ring.slots[..guard].iter().all(Option::is_none));
        assert!(ring.slots[guard + capacity..].iter().all(Option::is_none));
    }

    #[test]
    fn zero_capacity_is_always_full() {
        let mut ring: Ring<u8> = Ring::with_capacity(0).unwrap();
        assert_eq!(ring.push(1), Err(1));
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn a_capacity_beyond_the_address_space_is_out_of_memory() {
        assert!(Ring::<u64>::with_capacity(usize::MAX).is_err());
    }
}
