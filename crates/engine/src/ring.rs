//! A bounded FIFO whose storage is allocated once, at initialisation.

use alloc::boxed::Box;
use alloc::vec::Vec;

pub(crate) struct Ring<T> {
    slots: Box<[Option<T>]>,
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut slots = Vec::with_capacity(capacity);
        slots.resize_with(capacity, || None);
        Self {
            slots: slots.into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    /// Appends, or gives the value back when full.
    pub(crate) fn push(&mut self, value: T) -> Result<(), T> {
        if self.is_full() {
            return Err(value);
        }
        let tail = (self.head + self.len) % self.slots.len();
        self.slots[tail] = Some(value);
        self.len += 1;
        Ok(())
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.slots[self.head].take();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn fifo_wraps_and_refuses_when_full() {
        let mut ring = Ring::with_capacity(3);
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
    }

    #[test]
    fn zero_capacity_is_always_full() {
        let mut ring: Ring<u8> = Ring::with_capacity(0);
        assert_eq!(ring.push(1), Err(1));
        assert_eq!(ring.pop(), None);
    }
}
