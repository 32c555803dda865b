//! Locks with a level, and the contexts that prove which levels are held.
//!
//! [`Entry`] is the root of one entry point's work: it owns the [`Batch`] and hands out a
//! [`Ctx`] at level [`Unlocked`]. [`Ctx::lock`] takes a lock of a higher level and returns a
//! [`Guard`], which derefs to the data and [`splits`](Guard::split) into the data plus a `Ctx` at
//! the guard's level, for the next lock. Each step borrows the previous one, so the borrow
//! checker makes guards drop in reverse order and keeps the entry (and its flush) out of reach
//! until every guard is gone. The order rule itself is in [`crate::lock_order`].

use crate::batch::{Batch, Egress};
use crate::lock_order::{ById, Level, LockAfter, Unlocked};
use crate::platform::{Platform, RawLock};
use core::fmt;
use core::marker::PhantomData;

/// A platform lock with a level of the lock order.
pub struct OrderedLock<L: Level, T: Send, P: Platform> {
    raw: P::Lock<T>,
    level: PhantomData<fn() -> L>,
}

impl<L: Level, T: Send, P: Platform> OrderedLock<L, T, P> {
    /// A new unlocked lock (initialisation only: the NDIS lock is allocated here).
    pub fn new(value: T) -> Self {
        Self {
            raw: <P::Lock<T> as RawLock<T>>::new(value),
            level: PhantomData,
        }
    }
}

impl<L: Level, T: Send, P: Platform> fmt::Debug for OrderedLock<L, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderedLock<{}>", L::NAME)
    }
}

/// The root of one entry point: owns the completion batch; no lock is held by it.
pub struct Entry<P: Platform> {
    batch: Batch<P>,
}

impl<P: Platform> Entry<P> {
    /// An entry with an empty batch.
    pub fn new() -> Self {
        Self {
            batch: Batch::new(),
        }
    }

    /// A context at level `Unlocked`, to take the first lock.
    pub fn ctx(&mut self) -> Ctx<'_, Unlocked, P> {
        Ctx {
            batch: &mut self.batch,
            level: PhantomData,
        }
    }

    /// The batch, to record events while no lock is held.
    pub fn batch(&mut self) -> &mut Batch<P> {
        &mut self.batch
    }

    /// Deliver every recorded event. Needs the entry back, so no guard can be alive.
    pub fn flush(&mut self, sink: &mut impl Egress<P>) {
        self.batch.drain_into(sink);
    }
}

impl<P: Platform> Default for Entry<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> Drop for Entry<P> {
    fn drop(&mut self) {
        // Dropping recorded events would lose completions: every path flushes before it ends.
        debug_assert!(
            self.batch.is_empty(),
            "entry dropped with unflushed events: {:?}",
            self.batch
        );
    }
}

impl<P: Platform> fmt::Debug for Entry<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry").field("batch", &self.batch).finish()
    }
}

/// Proof that `L` is the highest level held, and access to the batch. Made only by [`Entry`]
/// and [`Guard::split`]; used up by the lock it takes.
pub struct Ctx<'a, L: Level, P: Platform> {
    batch: &'a mut Batch<P>,
    level: PhantomData<fn() -> L>,
}

impl<'a, L: Level, P: Platform> Ctx<'a, L, P> {
    /// Take `lock`, of a level after `L`.
    pub fn lock<M, T>(self, lock: &'a OrderedLock<M, T, P>) -> Guard<'a, M, T, P>
    where
        M: LockAfter<L>,
        T: Send,
    {
        Guard {
            data: lock.raw.lock(),
            batch: self.batch,
            level: PhantomData,
        }
    }

    /// Take two locks of the same by-id level: the one at the lower address (lower index in
    /// its pool) first. `None` if both are the same lock.
    pub fn lock_pair<M, T>(
        self,
        a: &'a OrderedLock<M, T, P>,
        b: &'a OrderedLock<M, T, P>,
    ) -> Option<PairGuard<'a, M, T, P>>
    where
        M: LockAfter<L> + ById,
        T: Send,
    {
        let (first, second) = match (a as *const OrderedLock<M, T, P>).cmp(&(b as *const _)) {
            core::cmp::Ordering::Equal => return None,
            core::cmp::Ordering::Less => (a, b),
            core::cmp::Ordering::Greater => (b, a),
        };
        let earlier = first.raw.lock();
        let later = second.raw.lock();
        Some(PairGuard {
            later,
            earlier,
            a_first: core::ptr::eq(first, a),
            batch: self.batch,
            level: PhantomData,
        })
    }

    /// A shorter-lived context at the same level, to take a lock and release it again.
    pub fn reborrow(&mut self) -> Ctx<'_, L, P> {
        Ctx {
            batch: self.batch,
            level: PhantomData,
        }
    }

    /// The batch of the entry point.
    pub fn batch(&mut self) -> &mut Batch<P> {
        self.batch
    }
}

impl<L: Level, P: Platform> fmt::Debug for Ctx<'_, L, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ctx<{}>", L::NAME)
    }
}

/// A held lock of level `L`. Derefs to the data; release by dropping.
pub struct Guard<'a, L: Level, T: Send + 'a, P: Platform> {
    data: <P::Lock<T> as RawLock<T>>::Guard<'a>,
    batch: &'a mut Batch<P>,
    level: PhantomData<fn() -> L>,
}

impl<'a, L: Level, T: Send + 'a, P: Platform> Guard<'a, L, T, P> {
    /// The data and a context at this guard's level, to take a higher lock while it is held.
    pub fn split(&mut self) -> (&mut T, Ctx<'_, L, P>) {
        (
            &mut self.data,
            Ctx {
                batch: self.batch,
                level: PhantomData,
            },
        )
    }

    /// The batch of the entry point.
    pub fn batch(&mut self) -> &mut Batch<P> {
        self.batch
    }
}

impl<'a, L: Level, T: Send + 'a, P: Platform> core::ops::Deref for Guard<'a, L, T, P> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<'a, L: Level, T: Send + 'a, P: Platform> core::ops::DerefMut for Guard<'a, L, T, P> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<'a, L: Level, T: Send + 'a, P: Platform> fmt::Debug for Guard<'a, L, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guard<{}>", L::NAME)
    }
}

/// Two held locks of one by-id level, released in reverse order of taking.
pub struct PairGuard<'a, L: Level, T: Send + 'a, P: Platform> {
    // Field order is drop order: the lock taken second is released first.
    later: <P::Lock<T> as RawLock<T>>::Guard<'a>,
    earlier: <P::Lock<T> as RawLock<T>>::Guard<'a>,
    a_first: bool,
    batch: &'a mut Batch<P>,
    level: PhantomData<fn() -> L>,
}

impl<'a, L: Level, T: Send + 'a, P: Platform> PairGuard<'a, L, T, P> {
    /// The data of `a` and `b`, in the order they were passed to `lock_pair`.
    pub fn both(&mut self) -> (&mut T, &mut T) {
        if self.a_first {
            (&mut self.earlier, &mut self.later)
        } else {
            (&mut self.later, &mut self.earlier)
        }
    }

    /// Both data and a context at this level, to take a higher lock while both are held.
    pub fn split(&mut self) -> ((&mut T, &mut T), Ctx<'_, L, P>) {
        let data = if self.a_first {
            (&mut *self.earlier, &mut *self.later)
        } else {
            (&mut *self.later, &mut *self.earlier)
        };
        (
            data,
            Ctx {
                batch: self.batch,
                level: PhantomData,
            },
        )
    }
}

impl<'a, L: Level, T: Send + 'a, P: Platform> fmt::Debug for PairGuard<'a, L, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PairGuard<{}>", L::NAME)
    }
}
