//! NDIS 6 / CoNDIS / TAPI-proxy bindings for rswan.
//!
//! Hand-written from the public WDK documentation (learn.microsoft.com, the ndis.h DDI
//! reference) and the documented values of the public headers: the windows-sys crates carry
//! only the NDIS 5-era API, and wdk-sys generates its bindings from an installed WDK on a
//! Windows host, which this Linux build does not have.
//!
//! - Raw structures, with their documented 32- and 64-bit layouts checked at compile time
//!   ([`layout`]): [`buffer`] (MDL, NET_BUFFER, NET_BUFFER_LIST), [`miniport`], [`callmgr`],
//!   [`protocol`], [`request`], [`wan`], [`tapi`], [`lock`], [`event`], [`timer`]; constants in [`oids`]
//!   and next to each structure.
//! - Every function imported from the kernel, in [`imports`].
//! - Thin safe wrappers, each documenting its IRQL: [`chain`] (owned NBLs and NBL queues),
//!   [`lend`] (received frames lent upward without a copy),
//!   [`lock::SpinLock`], [`event::Event`], [`timer::Timer`], [`timer::IoWorkItem`], [`memory::PoolBox`],
//!   [`memory::NblPool`], [`configuration::Configuration`] (registry values), [`debug`]
//!   (DbgPrintEx lines).
//! - Pure request logic without `unsafe`, tested on the host: [`oid`] (general and WAN OIDs),
//!   [`call_params`] (TAPI make-call parsing, incoming-call parameter blocks)
//!   and [`tapi_caps`] (the TAPI caps OIDs).
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod layout;

pub mod buffer;
pub mod call_params;
pub mod callmgr;
pub mod chain;
pub mod configuration;
pub mod debug;
pub mod event;
pub mod imports;
pub mod lend;
pub mod lock;
pub mod memory;
pub mod miniport;
pub mod oid;
pub mod oids;
pub mod protocol;
pub mod request;
pub mod tapi;
pub mod tapi_caps;
pub mod timer;
pub mod types;
pub mod wan;

pub use types::*;
