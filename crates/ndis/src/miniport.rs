//! Miniport driver registration: `NDIS_MINIPORT_DRIVER_CHARACTERISTICS` and its handler types
//! (WDK: ns-ndis-_ndis_miniport_driver_characteristics).

use core::ffi::c_void;

use crate::types::{DriverObject, NdisHandle, NdisObjectHeader, NdisStatus};

/// `NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS`.
pub const OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS: u8 = 0x8A;
/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2` (NDIS 6.20: adds the direct OID handlers).
pub const MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
/// `NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2`: through `CancelDirectOidRequestHandler`.
pub const SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u16 =
    core::mem::size_of::<MiniportDriverCharacteristics>() as u16;

/// The NDIS version rswan is written against: 6.20 (Windows 7 and later).
pub const NDIS_MAJOR_VERSION: u8 = 6;
pub const NDIS_MINOR_VERSION: u8 = 20;

/// IRQL: PASSIVE_LEVEL (called from within `NdisMRegisterMiniportDriver`).
pub type SetOptionsHandler =
    unsafe extern "system" fn(driver_handle: NdisHandle, driver_context: NdisHandle) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL.
pub type MiniportInitializeHandler = unsafe extern "system" fn(
    miniport_handle: NdisHandle,
    driver_context: NdisHandle,
    init_parameters: *mut c_void,
) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL. `halt_action` is an `NDIS_HALT_ACTION`.
pub type MiniportHaltHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, halt_action: u32);
/// IRQL: PASSIVE_LEVEL.
pub type MiniportUnloadHandler = unsafe extern "system" fn(driver_object: *mut DriverObject);
/// IRQL: PASSIVE_LEVEL.
pub type MiniportPauseHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, parameters: *mut c_void) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL.
pub type MiniportRestartHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, parameters: *mut c_void) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportOidRequestHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, request: *mut c_void) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportSendNetBufferListsHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    net_buffer_lists: *mut c_void,
    port_number: u32,
    send_flags: u32,
);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportReturnNetBufferListsHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    net_buffer_lists: *mut c_void,
    flags: u32,
);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCancelSendHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, cancel_id: *mut c_void);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCheckForHangHandler = unsafe extern "system" fn(adapter_context: NdisHandle) -> u8;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportResetHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, addressing_reset: *mut u8) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL.
pub type MiniportDevicePnpEventNotifyHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, event: *mut c_void);
/// IRQL: PASSIVE_LEVEL, or any IRQL on a bug-check shutdown.
pub type MiniportShutdownHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, shutdown_action: u32);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCancelOidRequestHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, request_id: *mut c_void);

/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS`, revision 2 (NDIS 6.20).
///
/// NDIS copies this structure inside `NdisMRegisterMiniportDriver`, so it may live on the stack.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MiniportDriverCharacteristics {
    pub header: NdisObjectHeader,
    pub major_ndis_version: u8,
    pub minor_ndis_version: u8,
    pub major_driver_version: u8,
    pub minor_driver_version: u8,
    pub flags: u32,
    pub set_options: Option<SetOptionsHandler>,
    pub initialize: Option<MiniportInitializeHandler>,
    pub halt: Option<MiniportHaltHandler>,
    pub unload: Option<MiniportUnloadHandler>,
    pub pause: Option<MiniportPauseHandler>,
    pub restart: Option<MiniportRestartHandler>,
    pub oid_request: Option<MiniportOidRequestHandler>,
    pub send_net_buffer_lists: Option<MiniportSendNetBufferListsHandler>,
    pub return_net_buffer_lists: Option<MiniportReturnNetBufferListsHandler>,
    pub cancel_send: Option<MiniportCancelSendHandler>,
    pub check_for_hang: Option<MiniportCheckForHangHandler>,
    pub reset: Option<MiniportResetHandler>,
    pub device_pnp_event_notify: Option<MiniportDevicePnpEventNotifyHandler>,
    pub shutdown: Option<MiniportShutdownHandler>,
    pub cancel_oid_request: Option<MiniportCancelOidRequestHandler>,
    pub direct_oid_request: Option<MiniportOidRequestHandler>,
    pub cancel_direct_oid_request: Option<MiniportCancelOidRequestHandler>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    /// Documented field order, sizes computed for the pointer width of the build: 152 bytes on
    /// 64-bit and 84 on 32-bit (header 4 + 4 version bytes + Flags, then 17 handlers).
    #[test]
    fn miniport_driver_characteristics_layout() {
        let ptr = size_of::<usize>();
        assert_eq!(offset_of!(MiniportDriverCharacteristics, flags), 8);
        let first_handler = if ptr == 8 { 16 } else { 12 };
        assert_eq!(
            offset_of!(MiniportDriverCharacteristics, set_options),
            first_handler
        );
        assert_eq!(
            offset_of!(MiniportDriverCharacteristics, cancel_oid_request),
            first_handler + 14 * ptr
        );
        assert_eq!(
            size_of::<MiniportDriverCharacteristics>(),
            first_handler + 17 * ptr
        );
        if ptr == 8 {
            assert_eq!(SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, 152);
        }
    }
}
