//! Registration of the NDIS 6 miniport and its entry points.
//!
//! At this stage every adapter-level handler answers `NDIS_STATUS_NOT_SUPPORTED` (or does
//! nothing where NDIS expects no status): nothing pretends to succeed.

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use rswan_ndis::imports::{NdisMDeregisterMiniportDriver, NdisMRegisterMiniportDriver};
use rswan_ndis::miniport::{
    MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, MiniportDriverCharacteristics, NDIS_MAJOR_VERSION,
    NDIS_MINOR_VERSION, SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, object_type,
};
use rswan_ndis::{DriverObject, NdisHandle, NdisObjectHeader, NdisStatus, UnicodeString, status};

/// The handle `NdisMRegisterMiniportDriver` returned; Unload gives it back.
static DRIVER_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// Registers the miniport driver with NDIS.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `driver_object` and `registry_path` are the ones the loader passed to `DriverEntry`.
pub unsafe fn register(
    driver_object: *mut DriverObject,
    registry_path: *mut UnicodeString,
) -> NdisStatus {
    let characteristics = MiniportDriverCharacteristics {
        header: NdisObjectHeader::new(
            object_type::MINIPORT_DRIVER_CHARACTERISTICS,
            MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
            SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
        ),
        major_ndis_version: NDIS_MAJOR_VERSION,
        minor_ndis_version: NDIS_MINOR_VERSION,
        major_driver_version: 0,
        minor_driver_version: 1,
        flags: 0,
        set_options: Some(set_options),
        initialize: Some(initialize),
        halt: Some(halt),
        unload: Some(unload),
        pause: Some(pause),
        restart: Some(restart),
        oid_request: Some(oid_request),
        // A CoNDIS miniport sends on VCs (MiniportCoSendNetBufferLists), never here.
        send_net_buffer_lists: None,
        return_net_buffer_lists: Some(return_net_buffer_lists),
        cancel_send: Some(cancel_send),
        // Must be NULL for a virtual miniport (WDK: MiniportCheckForHangEx).
        check_for_hang: None,
        reset: None,
        device_pnp_event_notify: Some(device_pnp_event_notify),
        shutdown: Some(shutdown),
        cancel_oid_request: Some(cancel_oid_request),
        direct_oid_request: None,
        cancel_direct_oid_request: None,
    };
    let mut handle: NdisHandle = ptr::null_mut();
    // SAFETY: the characteristics are complete and NDIS copies them before returning; the
    // driver object and registry path come from the loader; `handle` is a valid out pointer.
    let status = unsafe {
        NdisMRegisterMiniportDriver(
            driver_object,
            registry_path,
            ptr::null_mut(),
            &characteristics,
            &mut handle,
        )
    };
    if status == status::SUCCESS {
        DRIVER_HANDLE.store(handle, Ordering::Release);
    }
    status
}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn set_options(_driver: NdisHandle, _context: NdisHandle) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn initialize(
    _miniport: NdisHandle,
    _context: NdisHandle,
    _parameters: *mut c_void,
) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn halt(_adapter: NdisHandle, _action: u32) {}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn unload(_driver_object: *mut DriverObject) {
    let handle = DRIVER_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !handle.is_null() {
        // SAFETY: `handle` came from a successful NdisMRegisterMiniportDriver and is given
        // back exactly once (the swap above clears it).
        unsafe { NdisMDeregisterMiniportDriver(handle) }
    }
}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn pause(_adapter: NdisHandle, _parameters: *mut c_void) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn restart(_adapter: NdisHandle, _parameters: *mut c_void) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request(
    _adapter: NdisHandle,
    _request: *mut rswan_ndis::request::OidRequest,
) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// IRQL: <= DISPATCH_LEVEL. The driver indicates no receives yet, so none come back.
unsafe extern "system" fn return_net_buffer_lists(
    _adapter: NdisHandle,
    _nbls: *mut rswan_ndis::buffer::NetBufferList,
    _flags: u32,
) {
}

/// IRQL: <= DISPATCH_LEVEL. Nothing is queued yet, so there is nothing to cancel.
unsafe extern "system" fn cancel_send(_adapter: NdisHandle, _cancel_id: *mut c_void) {}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn device_pnp_event_notify(_adapter: NdisHandle, _event: *mut c_void) {}

/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn shutdown(_adapter: NdisHandle, _action: u32) {}

/// IRQL: <= DISPATCH_LEVEL. No request ever pends yet, so there is nothing to cancel.
unsafe extern "system" fn cancel_oid_request(_adapter: NdisHandle, _request_id: *mut c_void) {}
