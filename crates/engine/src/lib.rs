//! # rswan-engine: the deadlock-free WAN engine
//!
//! Lines, calls and VCs as state machines; per-VC send queues and send windows; the PPPoE
//! session index; statistics: everything of rswan's send and receive paths that is not NDIS
//! glue, in `no_std` Rust with no `unsafe`, generic over a small [`platform::Platform`] so the
//! driver runs it on NDIS spin locks and the tests on `std` and `loom` locks.
//!
//! It exists because of Microsoft KB Q219380: an NT 4.0 RAS server deadlocked in the code
//! behind `NdisWanSend` and hung up on every connecting client. Two rules make that class of
//! bug impossible here, and the types enforce both.
//!
//! ## Rule 1: one lock order, enforced by types
//! Every lock is an [`sync::OrderedLock`] with a level from [`lock_order`], the one file that
//! lists the total order. Taking a lock needs a [`sync::Ctx`] proving that only lower levels
//! are held; the guard it returns borrows that context, so guards drop in reverse order (NDIS
//! spin locks keep the old IRQL in the lock and must). Two locks of one level (two lines, two
//! VCs) are taken only by [`sync::Ctx::lock_pair`], in id order. An inversion, a same-level
//! lock taken ad hoc, a level invented outside `lock_order.rs`, a forged context and an
//! out-of-order release are `compile_fail` doctests in [`lock_order`].
//!
//! ## Rule 2: nothing leaves the driver while a driver lock is held
//! Send completions, transmits to the lower binding, receive and status indications, call and
//! OID completions are recorded as [`batch::Event`]s in the [`batch::Batch`] of the entry
//! point's [`sync::Entry`], and delivered to the driver's [`batch::Egress`] by
//! [`sync::Entry::flush`], which needs the entry back and so cannot be written while a guard
//! is alive (a `compile_fail` doctest in [`batch`]). The egress may call back into the engine
//! (an inline lower completion, a receive that triggers a send): it finds no lock held.
//! Per VC, one entry at a time owns the VC's "pump" and delivers its events, so a VC's events
//! reach NDIS in order and re-entry returns at once instead of recursing.
//!
//! ## Using it from the driver
//! Build one [`Engine`] per miniport adapter at initialisation (the only allocation, and a
//! fallible one: [`ConfigError::OutOfMemory`] becomes NDIS_STATUS_RESOURCES), then call
//! one operation per NDIS entry point with an `Egress` that makes the NDIS calls named on each
//! [`batch::Event`] variant. Operations that finish later return [`status::PENDING`] and deliver
//! exactly one completion event. Handles are plain integers ([`ids::VcId::to_raw`] is the
//! `MiniportVcContext`; [`ids::TxTag`] rides in a transmitted NBL).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod batch;
mod engine;
mod fallible;
pub mod ids;
pub mod lock_order;
mod padding;
pub mod platform;
mod ring;
#[cfg(feature = "std")]
pub mod send_loop;
mod session;
pub mod state;
pub mod stats;
pub mod status;
pub mod sync;

pub use engine::{AdapterPhase, BindingPhase, Config, ConfigError, Engine, VcOwner};
pub use engine::{DownCause, ReceiveError};
pub use session::InsertError;
