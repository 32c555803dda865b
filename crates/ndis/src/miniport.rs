//! The miniport side: driver characteristics, CoNDIS miniport characteristics, adapter
//! attributes and the handler types NDIS calls (WDK: ns-ndis-_ndis_miniport_driver_characteristics,
//! ns-ndis-_ndis_miniport_co_characteristics,
//! ns-ndis-_ndis_miniport_adapter_registration_attributes,
//! ns-ndis-_ndis_miniport_adapter_general_attributes).

use core::ffi::c_void;

use crate::buffer::NetBufferList;
use crate::callmgr::CoCallParameters;
use crate::layout;
use crate::request::OidRequest;
use crate::types::{
    DriverObject, NdisHandle, NdisObjectHeader, NdisOid, NdisPortNumber, NdisStatus,
};

/// The NDIS version rswan is written against: 6.20 (Windows 7 and later).
pub const NDIS_MAJOR_VERSION: u8 = 6;
pub const NDIS_MINOR_VERSION: u8 = 20;

/// `NDIS_OBJECT_TYPE_*` of the structures in this module.
pub mod object_type {
    pub const MINIPORT_DRIVER_CHARACTERISTICS: u8 = 0x8A;
    pub const MINIPORT_CO_CHARACTERISTICS: u8 = 0x91;
    pub const MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES: u8 = 0x9E;
    pub const MINIPORT_ADAPTER_GENERAL_ATTRIBUTES: u8 = 0x9F;
}

/// IRQL: PASSIVE_LEVEL (called from within `NdisMRegisterMiniportDriver`).
pub type SetOptionsHandler =
    unsafe extern "system" fn(driver_handle: NdisHandle, driver_context: NdisHandle) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL. `init_parameters` is an `NDIS_MINIPORT_INIT_PARAMETERS`.
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
/// IRQL: PASSIVE_LEVEL. `parameters` is an `NDIS_MINIPORT_PAUSE_PARAMETERS`.
pub type MiniportPauseHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, parameters: *mut c_void) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL. `parameters` is an `NDIS_MINIPORT_RESTART_PARAMETERS`.
pub type MiniportRestartHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, parameters: *mut c_void) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportOidRequestHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, request: *mut OidRequest) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportSendNetBufferListsHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    port_number: NdisPortNumber,
    send_flags: u32,
);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportReturnNetBufferListsHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    return_flags: u32,
);
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCancelSendHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, cancel_id: *mut c_void);
/// IRQL: <= DISPATCH_LEVEL. Returns a `BOOLEAN`.
pub type MiniportCheckForHangHandler = unsafe extern "system" fn(adapter_context: NdisHandle) -> u8;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportResetHandler =
    unsafe extern "system" fn(adapter_context: NdisHandle, addressing_reset: *mut u8) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL. `event` is an `NET_DEVICE_PNP_EVENT`.
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

layout!(MiniportDriverCharacteristics = "_NDIS_MINIPORT_DRIVER_CHARACTERISTICS", size 80 / 152 {
    header = "Header" @ 0 / 0,
    major_ndis_version = "MajorNdisVersion" @ 4 / 4,
    minor_ndis_version = "MinorNdisVersion" @ 5 / 5,
    major_driver_version = "MajorDriverVersion" @ 6 / 6,
    minor_driver_version = "MinorDriverVersion" @ 7 / 7,
    flags = "Flags" @ 8 / 8,
    set_options = "SetOptionsHandler" @ 12 / 16,
    initialize = "InitializeHandlerEx" @ 16 / 24,
    halt = "HaltHandlerEx" @ 20 / 32,
    unload = "UnloadHandler" @ 24 / 40,
    pause = "PauseHandler" @ 28 / 48,
    restart = "RestartHandler" @ 32 / 56,
    oid_request = "OidRequestHandler" @ 36 / 64,
    send_net_buffer_lists = "SendNetBufferListsHandler" @ 40 / 72,
    return_net_buffer_lists = "ReturnNetBufferListsHandler" @ 44 / 80,
    cancel_send = "CancelSendHandler" @ 48 / 88,
    check_for_hang = "CheckForHangHandlerEx" @ 52 / 96,
    reset = "ResetHandlerEx" @ 56 / 104,
    device_pnp_event_notify = "DevicePnPEventNotifyHandler" @ 60 / 112,
    shutdown = "ShutdownHandlerEx" @ 64 / 120,
    cancel_oid_request = "CancelOidRequestHandler" @ 68 / 128,
    direct_oid_request = "DirectOidRequestHandler" @ 72 / 136,
    cancel_direct_oid_request = "CancelDirectOidRequestHandler" @ 76 / 144,
});

/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2`.
pub const MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
/// `NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2`: through `CancelDirectOidRequestHandler`.
pub const SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: usize =
    crate::size_through!(MiniportDriverCharacteristics, cancel_direct_oid_request);

/// IRQL: PASSIVE_LEVEL. Must be NULL for an MCM (NDIS calls ProtocolCoCreateVc instead).
pub type MiniportCoCreateVcHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    ndis_vc_handle: NdisHandle,
    vc_context: *mut NdisHandle,
) -> NdisStatus;
/// IRQL: PASSIVE_LEVEL. Must be NULL for an MCM.
pub type MiniportCoDeleteVcHandler =
    unsafe extern "system" fn(vc_context: NdisHandle) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCoActivateVcHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCoDeactivateVcHandler =
    unsafe extern "system" fn(vc_context: NdisHandle) -> NdisStatus;
/// IRQL: <= DISPATCH_LEVEL.
pub type MiniportCoSendNetBufferListsHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    send_flags: u32,
);
/// IRQL: <= DISPATCH_LEVEL. `vc_context` is NULL for a request not bound to a VC.
pub type MiniportCoOidRequestHandler = unsafe extern "system" fn(
    adapter_context: NdisHandle,
    vc_context: NdisHandle,
    request: *mut OidRequest,
) -> NdisStatus;

/// `NDIS_MINIPORT_CO_CHARACTERISTICS`, revision 1; registered from MiniportSetOptions with
/// `NdisSetOptionalHandlers`, which copies it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MiniportCoCharacteristics {
    pub header: NdisObjectHeader,
    pub flags: u32,
    pub co_create_vc: Option<MiniportCoCreateVcHandler>,
    pub co_delete_vc: Option<MiniportCoDeleteVcHandler>,
    pub co_activate_vc: Option<MiniportCoActivateVcHandler>,
    pub co_deactivate_vc: Option<MiniportCoDeactivateVcHandler>,
    pub co_send_net_buffer_lists: Option<MiniportCoSendNetBufferListsHandler>,
    pub co_oid_request: Option<MiniportCoOidRequestHandler>,
}

layout!(MiniportCoCharacteristics = "_NDIS_MINIPORT_CO_CHARACTERISTICS", size 32 / 56 {
    header = "Header" @ 0 / 0,
    flags = "Flags" @ 4 / 4,
    co_create_vc = "CoCreateVcHandler" @ 8 / 8,
    co_delete_vc = "CoDeleteVcHandler" @ 12 / 16,
    co_activate_vc = "CoActivateVcHandler" @ 16 / 24,
    co_deactivate_vc = "CoDeactivateVcHandler" @ 20 / 32,
    co_send_net_buffer_lists = "CoSendNetBufferListsHandler" @ 24 / 40,
    co_oid_request = "CoOidRequestHandler" @ 28 / 48,
});

/// `NDIS_MINIPORT_CO_CHARACTERISTICS_REVISION_1`.
pub const MINIPORT_CO_CHARACTERISTICS_REVISION_1: u8 = 1;
/// `NDIS_SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1`.
pub const SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1: usize =
    crate::size_through!(MiniportCoCharacteristics, co_oid_request);

/// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES`, revision 1.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MiniportAdapterRegistrationAttributes {
    pub header: NdisObjectHeader,
    pub miniport_adapter_context: NdisHandle,
    pub attribute_flags: u32,
    pub check_for_hang_time_in_seconds: u32,
    /// `NDIS_INTERFACE_TYPE`.
    pub interface_type: u32,
}

layout!(MiniportAdapterRegistrationAttributes = "_NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES", size 20 / 32 {
    header = "Header" @ 0 / 0,
    miniport_adapter_context = "MiniportAdapterContext" @ 4 / 8,
    attribute_flags = "AttributeFlags" @ 8 / 16,
    check_for_hang_time_in_seconds = "CheckForHangTimeInSeconds" @ 12 / 20,
    interface_type = "InterfaceType" @ 16 / 24,
});

/// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1`.
pub const MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: u8 = 1;
/// `NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1`.
pub const SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: usize =
    crate::size_through!(MiniportAdapterRegistrationAttributes, interface_type);

/// `NDIS_MINIPORT_ATTRIBUTES_*` flags of `AttributeFlags`.
pub mod attribute_flags {
    pub const HARDWARE_DEVICE: u32 = 0x1;
    pub const NDIS_WDM: u32 = 0x2;
    pub const SURPRISE_REMOVE_OK: u32 = 0x4;
    pub const NOT_CO_NDIS: u32 = 0x8;
    pub const DO_NOT_BIND_TO_ALL_CO: u32 = 0x10;
    pub const NO_HALT_ON_SUSPEND: u32 = 0x20;
}

/// `NdisInterfaceInternal`: the `NDIS_INTERFACE_TYPE` of a virtual adapter.
pub const INTERFACE_TYPE_INTERNAL: u32 = 0;

/// `NDIS_MAX_PHYS_ADDRESS_LENGTH`.
pub const MAX_PHYS_ADDRESS_LENGTH: usize = 32;

/// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES`, revision 2 (NDIS 6.20).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MiniportAdapterGeneralAttributes {
    pub header: NdisObjectHeader,
    pub flags: u32,
    /// `NDIS_MEDIUM`.
    pub media_type: u32,
    /// `NDIS_PHYSICAL_MEDIUM`.
    pub physical_medium_type: u32,
    pub mtu_size: u32,
    pub max_xmit_link_speed: u64,
    pub xmit_link_speed: u64,
    pub max_rcv_link_speed: u64,
    pub rcv_link_speed: u64,
    /// `NDIS_MEDIA_CONNECT_STATE`.
    pub media_connect_state: u32,
    /// `NDIS_MEDIA_DUPLEX_STATE`.
    pub media_duplex_state: u32,
    pub lookahead_size: u32,
    pub power_management_capabilities: *mut c_void,
    pub mac_options: u32,
    pub supported_packet_filters: u32,
    pub max_multicast_list_size: u32,
    pub mac_address_length: u16,
    pub permanent_mac_address: [u8; MAX_PHYS_ADDRESS_LENGTH],
    pub current_mac_address: [u8; MAX_PHYS_ADDRESS_LENGTH],
    pub recv_scale_capabilities: *mut c_void,
    /// `NET_IF_ACCESS_TYPE`.
    pub access_type: u32,
    /// `NET_IF_DIRECTION_TYPE`.
    pub direction_type: u32,
    /// `NET_IF_CONNECTION_TYPE`.
    pub connection_type: u32,
    /// `NET_IFTYPE`.
    pub if_type: u16,
    pub if_connector_present: u8,
    pub supported_statistics: u32,
    pub supported_pause_functions: u32,
    pub data_back_fill_size: u32,
    pub context_back_fill_size: u32,
    pub supported_oid_list: *const NdisOid,
    pub supported_oid_list_length: u32,
    pub auto_negotiation_flags: u32,
    pub power_management_capabilities_ex: *mut c_void,
}

layout!(MiniportAdapterGeneralAttributes = "_NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES", size 208 / 224 {
    header = "Header" @ 0 / 0,
    flags = "Flags" @ 4 / 4,
    media_type = "MediaType" @ 8 / 8,
    physical_medium_type = "PhysicalMediumType" @ 12 / 12,
    mtu_size = "MtuSize" @ 16 / 16,
    max_xmit_link_speed = "MaxXmitLinkSpeed" @ 24 / 24,
    xmit_link_speed = "XmitLinkSpeed" @ 32 / 32,
    max_rcv_link_speed = "MaxRcvLinkSpeed" @ 40 / 40,
    rcv_link_speed = "RcvLinkSpeed" @ 48 / 48,
    media_connect_state = "MediaConnectState" @ 56 / 56,
    media_duplex_state = "MediaDuplexState" @ 60 / 60,
    lookahead_size = "LookaheadSize" @ 64 / 64,
    power_management_capabilities = "PowerManagementCapabilities" @ 68 / 72,
    mac_options = "MacOptions" @ 72 / 80,
    supported_packet_filters = "SupportedPacketFilters" @ 76 / 84,
    max_multicast_list_size = "MaxMulticastListSize" @ 80 / 88,
    mac_address_length = "MacAddressLength" @ 84 / 92,
    permanent_mac_address = "PermanentMacAddress" @ 86 / 94,
    current_mac_address = "CurrentMacAddress" @ 118 / 126,
    recv_scale_capabilities = "RecvScaleCapabilities" @ 152 / 160,
    access_type = "AccessType" @ 156 / 168,
    direction_type = "DirectionType" @ 160 / 172,
    connection_type = "ConnectionType" @ 164 / 176,
    if_type = "IfType" @ 168 / 180,
    if_connector_present = "IfConnectorPresent" @ 170 / 182,
    supported_statistics = "SupportedStatistics" @ 172 / 184,
    supported_pause_functions = "SupportedPauseFunctions" @ 176 / 188,
    data_back_fill_size = "DataBackFillSize" @ 180 / 192,
    context_back_fill_size = "ContextBackFillSize" @ 184 / 196,
    supported_oid_list = "SupportedOidList" @ 188 / 200,
    supported_oid_list_length = "SupportedOidListLength" @ 192 / 208,
    auto_negotiation_flags = "AutoNegotiationFlags" @ 196 / 212,
    power_management_capabilities_ex = "PowerManagementCapabilitiesEx" @ 200 / 216,
});

/// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2`.
pub const MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2: u8 = 2;
/// `NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2`.
pub const SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2: usize = crate::size_through!(
    MiniportAdapterGeneralAttributes,
    power_management_capabilities_ex
);

/// `NDIS_MEDIUM` values.
pub mod medium {
    pub const IEEE_802_3: u32 = 0;
    pub const WAN: u32 = 3;
    pub const CO_WAN: u32 = 12;
}

/// Interface values of the general attributes (WDK: ns-ndis-_ndis_miniport_adapter_general_attributes,
/// ifdef.h, ipifcons.h).
pub mod interface {
    /// `NdisPhysicalMediumUnspecified`.
    pub const PHYSICAL_MEDIUM_UNSPECIFIED: u32 = 0;
    /// `MediaConnectStateConnected`.
    pub const MEDIA_CONNECT_STATE_CONNECTED: u32 = 1;
    /// `MediaDuplexStateFull`.
    pub const MEDIA_DUPLEX_STATE_FULL: u32 = 2;
    /// `NET_IF_ACCESS_POINT_TO_POINT`.
    pub const ACCESS_POINT_TO_POINT: u32 = 3;
    /// `NET_IF_DIRECTION_SENDRECEIVE`.
    pub const DIRECTION_SENDRECEIVE: u32 = 0;
    /// `NET_IF_CONNECTION_DEMAND`: a dial-up connection.
    pub const CONNECTION_DEMAND: u32 = 3;
    /// `IF_TYPE_PPP`.
    pub const IF_TYPE_PPP: u16 = 23;
    /// `NDIS_MAC_OPTION_NO_LOOPBACK`: the miniport never loops sends back.
    pub const MAC_OPTION_NO_LOOPBACK: u32 = 0x8;
}

/// `NDIS_HALT_ACTION` and `NDIS_SHUTDOWN_ACTION` values a driver may log.
pub mod action {
    pub const HALT_DEVICE_DISABLED: u32 = 0;
    pub const SHUTDOWN_POWER_OFF: u32 = 0;
    pub const SHUTDOWN_BUGCHECK: u32 = 1;
}
