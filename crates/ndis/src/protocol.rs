//! The protocol side (the lower edge, bound to Ethernet adapters): protocol driver
//! characteristics, bind and open parameters, PnP events and the handler types NDIS calls
//! (WDK: ns-ndis-_ndis_protocol_driver_characteristics, ns-ndis-_ndis_bind_parameters,
//! ns-ndis-_ndis_open_parameters, ns-netpnp-_net_pnp_event_notification).
//!
//! The lower edge is connectionless 802.3, so `NDIS_PROTOCOL_CO_CHARACTERISTICS` is not needed:
//! the call-manager handlers of the upper edge are registered by the miniport instead.

use core::ffi::c_void;

use crate::buffer::NetBufferList;
use crate::layout;
use crate::miniport::{MAX_PHYS_ADDRESS_LENGTH, SetOptionsHandler};
use crate::request::{OidRequest, StatusIndication};
use crate::types::{
    DeviceObject, NdisHandle, NdisObjectHeader, NdisPortNumber, NdisStatus, UnicodeString,
};

/// `NDIS_OBJECT_TYPE_*` of the structures in this module.
pub mod object_type {
    pub const BIND_PARAMETERS: u8 = 0x86;
    pub const OPEN_PARAMETERS: u8 = 0x87;
    pub const PROTOCOL_DRIVER_CHARACTERISTICS: u8 = 0x95;
}

/// ProtocolBindAdapterEx. IRQL: PASSIVE_LEVEL.
pub type ProtocolBindAdapterHandler = unsafe extern "system" fn(
    driver_context: NdisHandle,
    bind_context: NdisHandle,
    bind_parameters: *mut BindParameters,
) -> NdisStatus;
/// ProtocolUnbindAdapterEx. IRQL: PASSIVE_LEVEL.
pub type ProtocolUnbindAdapterHandler = unsafe extern "system" fn(
    unbind_context: NdisHandle,
    binding_context: NdisHandle,
) -> NdisStatus;
/// ProtocolOpenAdapterCompleteEx. IRQL: PASSIVE_LEVEL.
pub type ProtocolOpenAdapterCompleteHandler =
    unsafe extern "system" fn(binding_context: NdisHandle, status: NdisStatus);
/// ProtocolCloseAdapterCompleteEx. IRQL: PASSIVE_LEVEL.
pub type ProtocolCloseAdapterCompleteHandler =
    unsafe extern "system" fn(binding_context: NdisHandle);
/// ProtocolNetPnPEvent. IRQL: PASSIVE_LEVEL.
pub type ProtocolNetPnpEventHandler = unsafe extern "system" fn(
    binding_context: NdisHandle,
    notification: *mut NetPnpEventNotification,
) -> NdisStatus;
/// ProtocolUninstall. IRQL: PASSIVE_LEVEL.
pub type ProtocolUninstallHandler = unsafe extern "system" fn();
/// ProtocolOidRequestComplete. IRQL: <= DISPATCH_LEVEL.
pub type ProtocolOidRequestCompleteHandler = unsafe extern "system" fn(
    binding_context: NdisHandle,
    request: *mut OidRequest,
    status: NdisStatus,
);
/// ProtocolStatusEx. IRQL: <= DISPATCH_LEVEL.
pub type ProtocolStatusHandler =
    unsafe extern "system" fn(binding_context: NdisHandle, indication: *mut StatusIndication);
/// ProtocolReceiveNetBufferLists. IRQL: <= DISPATCH_LEVEL.
pub type ProtocolReceiveNetBufferListsHandler = unsafe extern "system" fn(
    binding_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    port_number: NdisPortNumber,
    number_of_net_buffer_lists: u32,
    receive_flags: u32,
);
/// ProtocolSendNetBufferListsComplete. IRQL: <= DISPATCH_LEVEL.
pub type ProtocolSendNetBufferListsCompleteHandler = unsafe extern "system" fn(
    binding_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    send_complete_flags: u32,
);

/// `NDIS_PROTOCOL_DRIVER_CHARACTERISTICS`, revision 2 (NDIS 6.1 and later).
#[repr(C)]
#[derive(Debug)]
pub struct ProtocolDriverCharacteristics {
    pub header: NdisObjectHeader,
    pub major_ndis_version: u8,
    pub minor_ndis_version: u8,
    pub major_driver_version: u8,
    pub minor_driver_version: u8,
    pub flags: u32,
    pub name: UnicodeString,
    pub set_options: Option<SetOptionsHandler>,
    pub bind_adapter: Option<ProtocolBindAdapterHandler>,
    pub unbind_adapter: Option<ProtocolUnbindAdapterHandler>,
    pub open_adapter_complete: Option<ProtocolOpenAdapterCompleteHandler>,
    pub close_adapter_complete: Option<ProtocolCloseAdapterCompleteHandler>,
    pub net_pnp_event: Option<ProtocolNetPnpEventHandler>,
    pub uninstall: Option<ProtocolUninstallHandler>,
    pub oid_request_complete: Option<ProtocolOidRequestCompleteHandler>,
    pub status: Option<ProtocolStatusHandler>,
    pub receive_net_buffer_lists: Option<ProtocolReceiveNetBufferListsHandler>,
    pub send_net_buffer_lists_complete: Option<ProtocolSendNetBufferListsCompleteHandler>,
    pub direct_oid_request_complete: Option<ProtocolOidRequestCompleteHandler>,
}

layout!(ProtocolDriverCharacteristics = "_NDIS_PROTOCOL_DRIVER_CHARACTERISTICS", size 68 / 128 {
    header = "Header" @ 0 / 0,
    major_ndis_version = "MajorNdisVersion" @ 4 / 4,
    minor_ndis_version = "MinorNdisVersion" @ 5 / 5,
    major_driver_version = "MajorDriverVersion" @ 6 / 6,
    minor_driver_version = "MinorDriverVersion" @ 7 / 7,
    flags = "Flags" @ 8 / 8,
    name = "Name" @ 12 / 16,
    set_options = "SetOptionsHandler" @ 20 / 32,
    bind_adapter = "BindAdapterHandlerEx" @ 24 / 40,
    unbind_adapter = "UnbindAdapterHandlerEx" @ 28 / 48,
    open_adapter_complete = "OpenAdapterCompleteHandlerEx" @ 32 / 56,
    close_adapter_complete = "CloseAdapterCompleteHandlerEx" @ 36 / 64,
    net_pnp_event = "NetPnPEventHandler" @ 40 / 72,
    uninstall = "UninstallHandler" @ 44 / 80,
    oid_request_complete = "OidRequestCompleteHandler" @ 48 / 88,
    status = "StatusHandlerEx" @ 52 / 96,
    receive_net_buffer_lists = "ReceiveNetBufferListsHandler" @ 56 / 104,
    send_net_buffer_lists_complete = "SendNetBufferListsCompleteHandler" @ 60 / 112,
    direct_oid_request_complete = "DirectOidRequestCompleteHandler" @ 64 / 120,
});

/// `NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2`.
pub const PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
/// `NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2`.
pub const SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2: usize =
    crate::size_through!(ProtocolDriverCharacteristics, direct_oid_request_complete);

/// `NDIS_BIND_PARAMETERS` (revisions 1 and 2; NDIS fills it, the driver only reads it).
#[repr(C)]
#[derive(Debug)]
pub struct BindParameters {
    pub header: NdisObjectHeader,
    pub protocol_section: *mut UnicodeString,
    pub adapter_name: *mut UnicodeString,
    pub physical_device_object: *mut DeviceObject,
    /// `NDIS_MEDIUM`.
    pub media_type: u32,
    pub mtu_size: u32,
    pub max_xmit_link_speed: u64,
    pub xmit_link_speed: u64,
    pub max_rcv_link_speed: u64,
    pub rcv_link_speed: u64,
    pub media_connect_state: u32,
    pub media_duplex_state: u32,
    pub lookahead_size: u32,
    pub power_management_capabilities: *mut c_void,
    pub supported_packet_filters: u32,
    pub max_multicast_list_size: u32,
    pub mac_address_length: u16,
    pub current_mac_address: [u8; MAX_PHYS_ADDRESS_LENGTH],
    /// `NDIS_PHYSICAL_MEDIUM`.
    pub physical_medium_type: u32,
    pub rcv_scale_capabilities: *mut c_void,
    /// `NET_LUID`.
    pub bound_if_net_luid: u64,
    pub bound_if_index: u32,
    pub lowest_if_net_luid: u64,
    pub lowest_if_index: u32,
    pub access_type: u32,
    pub direction_type: u32,
    pub connection_type: u32,
    pub if_type: u16,
    pub if_connector_present: u8,
    pub active_ports: *mut c_void,
    pub data_back_fill_size: u32,
    pub context_back_fill_size: u32,
    pub mac_options: u32,
    pub compartment_id: u32,
    pub default_offload_configuration: *mut c_void,
    pub tcp_connection_offload_capabilities: *mut c_void,
    pub bound_adapter_name: *mut UnicodeString,
    /// Revision 2 (NDIS 6.20) only: check `header.revision` before reading.
    pub hd_split_current_config: *mut c_void,
}

layout!(BindParameters = "_NDIS_BIND_PARAMETERS", size 208 / 256 {
    header = "Header" @ 0 / 0,
    protocol_section = "ProtocolSection" @ 4 / 8,
    adapter_name = "AdapterName" @ 8 / 16,
    physical_device_object = "PhysicalDeviceObject" @ 12 / 24,
    media_type = "MediaType" @ 16 / 32,
    mtu_size = "MtuSize" @ 20 / 36,
    max_xmit_link_speed = "MaxXmitLinkSpeed" @ 24 / 40,
    xmit_link_speed = "XmitLinkSpeed" @ 32 / 48,
    max_rcv_link_speed = "MaxRcvLinkSpeed" @ 40 / 56,
    rcv_link_speed = "RcvLinkSpeed" @ 48 / 64,
    media_connect_state = "MediaConnectState" @ 56 / 72,
    media_duplex_state = "MediaDuplexState" @ 60 / 76,
    lookahead_size = "LookaheadSize" @ 64 / 80,
    power_management_capabilities = "PowerManagementCapabilities" @ 68 / 88,
    supported_packet_filters = "SupportedPacketFilters" @ 72 / 96,
    max_multicast_list_size = "MaxMulticastListSize" @ 76 / 100,
    mac_address_length = "MacAddressLength" @ 80 / 104,
    current_mac_address = "CurrentMacAddress" @ 82 / 106,
    physical_medium_type = "PhysicalMediumType" @ 116 / 140,
    rcv_scale_capabilities = "RcvScaleCapabilities" @ 120 / 144,
    bound_if_net_luid = "BoundIfNetluid" @ 128 / 152,
    bound_if_index = "BoundIfIndex" @ 136 / 160,
    lowest_if_net_luid = "LowestIfNetluid" @ 144 / 168,
    lowest_if_index = "LowestIfIndex" @ 152 / 176,
    access_type = "AccessType" @ 156 / 180,
    direction_type = "DirectionType" @ 160 / 184,
    connection_type = "ConnectionType" @ 164 / 188,
    if_type = "IfType" @ 168 / 192,
    if_connector_present = "IfConnectorPresent" @ 170 / 194,
    active_ports = "ActivePorts" @ 172 / 200,
    data_back_fill_size = "DataBackFillSize" @ 176 / 208,
    context_back_fill_size = "ContextBackFillSize" @ 180 / 212,
    mac_options = "MacOptions" @ 184 / 216,
    compartment_id = "CompartmentId" @ 188 / 220,
    default_offload_configuration = "DefaultOffloadConfiguration" @ 192 / 224,
    tcp_connection_offload_capabilities = "TcpConnectionOffloadCapabilities" @ 196 / 232,
    bound_adapter_name = "BoundAdapterName" @ 200 / 240,
    hd_split_current_config = "HDSplitCurrentConfig" @ 204 / 248,
});

/// `NDIS_BIND_PARAMETERS_REVISION_2`: the first revision with `HDSplitCurrentConfig`.
pub const BIND_PARAMETERS_REVISION_2: u8 = 2;

/// `NDIS_OPEN_PARAMETERS`, revision 1, for `NdisOpenAdapterEx`.
#[repr(C)]
#[derive(Debug)]
pub struct OpenParameters {
    pub header: NdisObjectHeader,
    pub adapter_name: *mut UnicodeString,
    /// `NDIS_MEDIUM` array.
    pub medium_array: *mut u32,
    pub medium_array_size: u32,
    pub selected_medium_index: *mut u32,
    /// `NET_FRAME_TYPE` (EtherType, network byte order as a USHORT) array.
    pub frame_type_array: *mut u16,
    pub frame_type_array_size: u32,
}

layout!(OpenParameters = "_NDIS_OPEN_PARAMETERS", size 28 / 56 {
    header = "Header" @ 0 / 0,
    adapter_name = "AdapterName" @ 4 / 8,
    medium_array = "MediumArray" @ 8 / 16,
    medium_array_size = "MediumArraySize" @ 12 / 24,
    selected_medium_index = "SelectedMediumIndex" @ 16 / 32,
    frame_type_array = "FrameTypeArray" @ 20 / 40,
    frame_type_array_size = "FrameTypeArraySize" @ 24 / 48,
});

/// `NDIS_OPEN_PARAMETERS_REVISION_1`.
pub const OPEN_PARAMETERS_REVISION_1: u8 = 1;
/// `NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1`.
pub const SIZEOF_OPEN_PARAMETERS_REVISION_1: usize =
    crate::size_through!(OpenParameters, frame_type_array_size);

/// `NET_PNP_EVENT`.
#[repr(C)]
#[derive(Debug)]
pub struct NetPnpEvent {
    /// `NET_PNP_EVENT_CODE`, see [`net_event`].
    pub net_event: u32,
    pub buffer: *mut c_void,
    pub buffer_length: u32,
    pub ndis_reserved: [usize; 4],
    pub transport_reserved: [usize; 4],
    pub tdi_reserved: [usize; 4],
    pub tdi_client_reserved: [usize; 4],
}

layout!(NetPnpEvent = "_NET_PNP_EVENT", size 76 / 152 {
    net_event = "NetEvent" @ 0 / 0,
    buffer = "Buffer" @ 4 / 8,
    buffer_length = "BufferLength" @ 8 / 16,
    ndis_reserved = "NdisReserved" @ 12 / 24,
    transport_reserved = "TransportReserved" @ 28 / 56,
    tdi_reserved = "TdiReserved" @ 44 / 88,
    tdi_client_reserved = "TdiClientReserved" @ 60 / 120,
});

/// `NET_PNP_EVENT_NOTIFICATION`, revision 1 (later revisions append fields NDIS fills; the
/// driver reads only these).
#[repr(C)]
#[derive(Debug)]
pub struct NetPnpEventNotification {
    pub header: NdisObjectHeader,
    pub port_number: NdisPortNumber,
    pub net_pnp_event: NetPnpEvent,
}

layout!(NetPnpEventNotification = "_NET_PNP_EVENT_NOTIFICATION", size 84 / 160 {
    header = "Header" @ 0 / 0,
    port_number = "PortNumber" @ 4 / 4,
    net_pnp_event = "NetPnPEvent" @ 8 / 8,
});

/// `NET_PNP_EVENT_CODE` values.
pub mod net_event {
    pub const SET_POWER: u32 = 0;
    pub const QUERY_POWER: u32 = 1;
    pub const QUERY_REMOVE_DEVICE: u32 = 2;
    pub const CANCEL_REMOVE_DEVICE: u32 = 3;
    pub const RECONFIGURE: u32 = 4;
    pub const BIND_LIST: u32 = 5;
    pub const BINDS_COMPLETE: u32 = 6;
    pub const PNP_CAPABILITIES: u32 = 7;
    pub const PAUSE: u32 = 8;
    pub const RESTART: u32 = 9;
}

/// `NDIS_PACKET_TYPE_*` bits of `OID_GEN_CURRENT_PACKET_FILTER`.
pub mod packet_filter {
    pub const DIRECTED: u32 = 0x1;
    pub const MULTICAST: u32 = 0x2;
    pub const BROADCAST: u32 = 0x8;
}
