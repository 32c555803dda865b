//! `rswan.sys`: an NDIS 6 CoNDIS WAN miniport with an integrated TAPI-proxy call manager above
//! and an NDIS protocol carrying PPP over Ethernet below.
//!
//! This crate is glue only: NDIS entry points that hand their work to the engine
//! (`rswan-engine`) and answer requests with the pure logic of `rswan-ndis`. All unsafe code of
//! the image is here and in `rswan-ndis`; every unsafe block states why it is sound.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod adapter;
mod allocator;
mod callmgr;
mod co;
mod deferred;
mod egress;
mod fallible;
mod frames;
mod lower;
mod miniport;
mod platform;
mod registry;
mod requests;
mod runtime;
mod transport;

use rswan_ndis::{DriverObject, NdisStatus, UnicodeString};

/// The tag of every pool allocation of the driver ('rswn' in a pool dump).
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"rswn");

/// The image's entry point (WDK: DriverEntry for NDIS miniport drivers).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called once by the kernel loader with a valid driver object and registry path.
#[unsafe(export_name = "DriverEntry")]
pub unsafe extern "system" fn driver_entry(
    driver_object: *mut DriverObject,
    registry_path: *mut UnicodeString,
) -> NdisStatus {
    // SAFETY: forwarded unchanged from the loader, which guarantees both pointers.
    let result = unsafe { miniport::register(driver_object, registry_path) };
    if result != rswan_ndis::status::SUCCESS {
        return result;
    }
    let result = lower::register();
    if result != rswan_ndis::status::SUCCESS {
        miniport::deregister();
    }
    result
}
