//! The one lock order of rswan. Every spin lock of the driver has a level listed here.
//!
//! **The rule:** a lock may be taken only while every lock already held has a LOWER level than
//! it, and locks are released in the reverse order they were taken. Two locks of the same level
//! (two lines, two VCs) are never taken one inside the other ad hoc: only
//! [`Ctx::lock_pair`](crate::sync::Ctx::lock_pair) takes both, in id order, and releases them in
//! reverse.
//!
//! ```text
//!   level            guards                                             by id?
//!   0 Unlocked       (nothing held: where every entry point starts)
//!   1 Globals        the binding table (bind/unbind of lower adapters)
//!   2 Adapter        miniport adapter phase, pause/halt bookkeeping, VC pool free list
//!   3 AddressFamily  the TAPI-proxy address family and SAP registrations
//!   4 Line           one line: its current call and whether it listens           yes
//!   5 Vc             one VC: call phase, send queue, send window, outbox, stats   yes
//!   6 SessionShard   one shard of the PPPoE session index
//!   7 Binding        one lower (Ethernet) binding: phase and pause bookkeeping
//! ```
//!
//! The send and receive paths take one VC lock at a time (the receive path also one session
//! shard lock before it, not nested); the VC send queue shares the VC lock, so a packet costs one
//! lock per step. Nothing leaves the driver while any of these is held (see [`crate::batch`]).
//!
//! The levels are types. [`LockAfter<L>`] is implemented for a level exactly when it comes after
//! `L`, so the compiler checks the order; the traits are sealed, so no level can be added outside
//! this file. The tests below are `compile_fail` doctests: each shows a misuse that must not
//! build. (Every doctest uses the `std` platform of the host.)
//!
//! An inversion (a line taken while a VC is held) does not compile:
//! ```compile_fail,E0277
//! use rswan_engine::{lock_order::{Line, Vc}, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let vc: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let line: OrderedLock<Line, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let mut vc_guard = entry.ctx().lock(&vc);
//! let (_, cx) = vc_guard.split();
//! let _line_guard = cx.lock(&line);
//! ```
//!
//! Skipping a level and coming back to it later is an inversion too (Adapter after Vc):
//! ```compile_fail,E0277
//! use rswan_engine::{lock_order::{Adapter, Vc}, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let adapter: OrderedLock<Adapter, u32, P> = OrderedLock::new(0);
//! let vc: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let mut vc_guard = entry.ctx().lock(&vc); // skips Globals..Line: allowed
//! let (_, cx) = vc_guard.split();
//! let _adapter_guard = cx.lock(&adapter); // but the skipped levels are now closed
//! ```
//!
//! A duplicated level: two VCs taken one inside the other ad hoc does not compile
//! (use [`Ctx::lock_pair`](crate::sync::Ctx::lock_pair)):
//! ```compile_fail,E0277
//! use rswan_engine::{lock_order::Vc, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let a: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let b: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let mut first = entry.ctx().lock(&a);
//! let (_, cx) = first.split();
//! let _second = cx.lock(&b);
//! ```
//!
//! Two same-level locks taken side by side from one context (not nested, still ad hoc) do not
//! compile either: a context is used up by the lock it takes.
//! ```compile_fail,E0382
//! use rswan_engine::{lock_order::Vc, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let a: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let b: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let cx = entry.ctx();
//! let _first = cx.lock(&a);
//! let _second = cx.lock(&b);
//! ```
//!
//! A level that is not in this file cannot exist (the trait is sealed):
//! ```compile_fail,E0277
//! use rswan_engine::lock_order::{Level, LockAfter, Unlocked};
//! enum Rogue {}
//! impl Level for Rogue { const RANK: u8 = 9; const NAME: &'static str = "rogue"; }
//! ```
//!
//! Nor can a context claiming a level be made up without taking its lock:
//! ```compile_fail,E0451
//! use rswan_engine::{lock_order::Vc, platform::StdPlatform, sync::Ctx};
//! let _forged: Ctx<'static, Vc, StdPlatform> = Ctx { batch: panic!(), level: core::marker::PhantomData };
//! ```
//!
//! Guards release in reverse order: the outer guard cannot go while an inner one lives.
//! ```compile_fail,E0505
//! use rswan_engine::{lock_order::{Line, Vc}, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let line: OrderedLock<Line, u32, P> = OrderedLock::new(0);
//! let vc: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let mut line_guard = entry.ctx().lock(&line);
//! let (_, cx) = line_guard.split();
//! let vc_guard = cx.lock(&vc);
//! drop(line_guard);
//! drop(vc_guard);
//! ```
//!
//! The legal shape, for contrast: levels upward, two VCs through the helper.
//! ```
//! use rswan_engine::{lock_order::{Line, Vc}, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let line: OrderedLock<Line, u32, P> = OrderedLock::new(0);
//! let vcs: [OrderedLock<Vc, u32, P>; 2] = [OrderedLock::new(1), OrderedLock::new(2)];
//! let mut entry = Entry::<P>::new();
//! let mut line_guard = entry.ctx().lock(&line);
//! let (line_data, cx) = line_guard.split();
//! let mut pair = cx.lock_pair(&vcs[1], &vcs[0]).expect("two distinct locks");
//! let (b, a) = pair.both();
//! *line_data = *a + *b;
//! drop(pair);
//! drop(line_guard);
//! ```

mod sealed {
    pub trait Sealed {}
}

/// A lock level. Sealed: the levels are exactly the types of this file.
pub trait Level: sealed::Sealed + 'static {
    /// Position in the total order (0 = nothing held).
    const RANK: u8;
    /// The name used in diagnostics.
    const NAME: &'static str;
}

/// Implemented by a level `Self` that may be taken while `Held` is the highest level held.
pub trait LockAfter<Held: Level>: Level {}

/// Levels whose locks come in tables (lines, VCs): two of them are taken together only through
/// [`Ctx::lock_pair`](crate::sync::Ctx::lock_pair), in id order.
pub trait ById: Level {}

macro_rules! levels {
    ($($(#[$doc:meta])* $name:ident = $rank:literal),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl sealed::Sealed for $name {}
            impl Level for $name {
                const RANK: u8 = $rank;
                const NAME: &'static str = stringify!($name);
            }
        )*
    };
}

/// Implements `LockAfter<Lower>` for every level that comes after `Lower` in the list.
macro_rules! total_order {
    ($lower:ident $(, $higher:ident)*) => {
        $(impl LockAfter<$lower> for $higher {})*
        total_order!($($higher),*);
    };
    () => {};
}

levels! {
    /// No lock held: the level of every entry point.
    Unlocked = 0,
    /// Driver globals: the table of lower bindings.
    Globals = 1,
    /// The miniport adapter.
    Adapter = 2,
    /// The TAPI-proxy address family and its SAPs.
    AddressFamily = 3,
    /// One line (by id).
    Line = 4,
    /// One VC, with its send queue (by id).
    Vc = 5,
    /// One shard of the PPPoE session index.
    SessionShard = 6,
    /// One lower binding.
    Binding = 7,
}

total_order!(
    Unlocked,
    Globals,
    Adapter,
    AddressFamily,
    Line,
    Vc,
    SessionShard,
    Binding
);

impl ById for Line {}
impl ById for Vc {}

#[cfg(test)]
mod tests {
    use super::*;

    fn after<A: LockAfter<B>, B: Level>() -> (u8, u8) {
        (A::RANK, B::RANK)
    }

    #[test]
    fn every_pair_in_the_order_is_increasing() {
        for (a, b) in [
            after::<Globals, Unlocked>(),
            after::<Binding, Unlocked>(),
            after::<Adapter, Globals>(),
            after::<Line, AddressFamily>(),
            after::<Vc, Line>(),
            after::<SessionShard, Vc>(),
            after::<Binding, Vc>(),
            after::<Binding, SessionShard>(),
        ] {
            assert!(a > b);
        }
        assert_eq!(Vc::NAME, "Vc");
    }
}
