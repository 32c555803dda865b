//! The call-manager side of a CoNDIS miniport call manager (MCM): the optional handlers it
//! registers, the address family, SAP and call-parameter structures (WDK:
//! ns-ndis-_ndis_co_call_manager_optional_handlers, ns-ndis-_co_address_family, ns-ndis-_co_sap,
//! ns-ndis-_co_call_parameters, ns-ndis-_co_call_manager_parameters,
//! ns-ndis-_co_media_parameters, ns-ndis-_co_specific_parameters, ns-ndis-_co_flow_parameters).

use core::ffi::c_void;

use crate::layout;
use crate::request::OidRequest;
use crate::types::{NdisHandle, NdisObjectHeader, NdisStatus};

/// `NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS`.
pub const OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS: u8 = 0xA5;
/// `NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1`.
pub const CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1: u8 = 1;

/// ProtocolCoCreateVc. IRQL: PASSIVE_LEVEL. Never pends.
pub type CoCreateVcHandler = unsafe extern "system" fn(
    af_context: NdisHandle,
    ndis_vc_handle: NdisHandle,
    vc_context: *mut NdisHandle,
) -> NdisStatus;
/// ProtocolCoDeleteVc. IRQL: PASSIVE_LEVEL. Never pends.
pub type CoDeleteVcHandler = unsafe extern "system" fn(vc_context: NdisHandle) -> NdisStatus;
/// ProtocolCmOpenAf. IRQL: PASSIVE_LEVEL.
pub type CmOpenAfHandler = unsafe extern "system" fn(
    binding_context: NdisHandle,
    address_family: *mut CoAddressFamily,
    ndis_af_handle: NdisHandle,
    af_context: *mut NdisHandle,
) -> NdisStatus;
/// ProtocolCmCloseAf. IRQL: PASSIVE_LEVEL.
pub type CmCloseAfHandler = unsafe extern "system" fn(af_context: NdisHandle) -> NdisStatus;
/// ProtocolCmRegisterSap. IRQL: PASSIVE_LEVEL.
pub type CmRegisterSapHandler = unsafe extern "system" fn(
    af_context: NdisHandle,
    sap: *mut CoSap,
    ndis_sap_handle: NdisHandle,
    sap_context: *mut NdisHandle,
) -> NdisStatus;
/// ProtocolCmDeregisterSap. IRQL: PASSIVE_LEVEL.
pub type CmDeregisterSapHandler = unsafe extern "system" fn(sap_context: NdisHandle) -> NdisStatus;
/// ProtocolCmMakeCall. IRQL: PASSIVE_LEVEL.
pub type CmMakeCallHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
    ndis_party_handle: NdisHandle,
    party_context: *mut NdisHandle,
) -> NdisStatus;
/// ProtocolCmCloseCall. IRQL: <= DISPATCH_LEVEL.
pub type CmCloseCallHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    party_context: NdisHandle,
    close_data: *mut c_void,
    size: u32,
) -> NdisStatus;
/// ProtocolCmIncomingCallComplete. IRQL: <= DISPATCH_LEVEL.
pub type CmIncomingCallCompleteHandler = unsafe extern "system" fn(
    status: NdisStatus,
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
);
/// ProtocolCmAddParty. IRQL: <= DISPATCH_LEVEL.
pub type CmAddPartyHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
    ndis_party_handle: NdisHandle,
    party_context: *mut NdisHandle,
) -> NdisStatus;
/// ProtocolCmDropParty. IRQL: <= DISPATCH_LEVEL.
pub type CmDropPartyHandler = unsafe extern "system" fn(
    party_context: NdisHandle,
    close_data: *mut c_void,
    size: u32,
) -> NdisStatus;
/// ProtocolCmActivateVcComplete. IRQL: <= DISPATCH_LEVEL.
pub type CmActivateVcCompleteHandler = unsafe extern "system" fn(
    status: NdisStatus,
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
);
/// ProtocolCmDeactivateVcComplete. IRQL: <= DISPATCH_LEVEL.
pub type CmDeactivateVcCompleteHandler =
    unsafe extern "system" fn(status: NdisStatus, vc_context: NdisHandle);
/// ProtocolCmModifyCallQoS. IRQL: <= DISPATCH_LEVEL.
pub type CmModifyCallQosHandler = unsafe extern "system" fn(
    vc_context: NdisHandle,
    call_parameters: *mut CoCallParameters,
) -> NdisStatus;
/// ProtocolCoOidRequest. IRQL: <= DISPATCH_LEVEL.
pub type CoOidRequestHandler = unsafe extern "system" fn(
    af_context: NdisHandle,
    vc_context: NdisHandle,
    party_context: NdisHandle,
    request: *mut OidRequest,
) -> NdisStatus;
/// ProtocolCoOidRequestComplete. IRQL: <= DISPATCH_LEVEL.
pub type CoOidRequestCompleteHandler = unsafe extern "system" fn(
    af_context: NdisHandle,
    vc_context: NdisHandle,
    party_context: NdisHandle,
    request: *mut OidRequest,
    status: NdisStatus,
);
/// ProtocolCmNotifyCloseAfComplete. IRQL: PASSIVE_LEVEL.
pub type CmNotifyCloseAfCompleteHandler =
    unsafe extern "system" fn(status: NdisStatus, af_context: NdisHandle);

/// `NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS`, revision 1. An MCM must set every handler
/// (WDK: ns-ndis-_ndis_co_call_manager_optional_handlers), which is why none is an `Option`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CoCallManagerOptionalHandlers {
    pub header: NdisObjectHeader,
    pub reserved: u32,
    pub cm_create_vc: CoCreateVcHandler,
    pub cm_delete_vc: CoDeleteVcHandler,
    pub cm_open_af: CmOpenAfHandler,
    pub cm_close_af: CmCloseAfHandler,
    pub cm_register_sap: CmRegisterSapHandler,
    pub cm_deregister_sap: CmDeregisterSapHandler,
    pub cm_make_call: CmMakeCallHandler,
    pub cm_close_call: CmCloseCallHandler,
    pub cm_incoming_call_complete: CmIncomingCallCompleteHandler,
    pub cm_add_party: CmAddPartyHandler,
    pub cm_drop_party: CmDropPartyHandler,
    pub cm_activate_vc_complete: CmActivateVcCompleteHandler,
    pub cm_deactivate_vc_complete: CmDeactivateVcCompleteHandler,
    pub cm_modify_call_qos: CmModifyCallQosHandler,
    pub cm_oid_request: CoOidRequestHandler,
    pub cm_oid_request_complete: CoOidRequestCompleteHandler,
    pub cm_notify_close_af_complete: CmNotifyCloseAfCompleteHandler,
}

layout!(CoCallManagerOptionalHandlers = "_NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS", size 76 / 144 {
    header = "Header" @ 0 / 0,
    reserved = "Reserved" @ 4 / 4,
    cm_create_vc = "CmCreateVcHandler" @ 8 / 8,
    cm_delete_vc = "CmDeleteVcHandler" @ 12 / 16,
    cm_open_af = "CmOpenAfHandler" @ 16 / 24,
    cm_close_af = "CmCloseAfHandler" @ 20 / 32,
    cm_register_sap = "CmRegisterSapHandler" @ 24 / 40,
    cm_deregister_sap = "CmDeregisterSapHandler" @ 28 / 48,
    cm_make_call = "CmMakeCallHandler" @ 32 / 56,
    cm_close_call = "CmCloseCallHandler" @ 36 / 64,
    cm_incoming_call_complete = "CmIncomingCallCompleteHandler" @ 40 / 72,
    cm_add_party = "CmAddPartyHandler" @ 44 / 80,
    cm_drop_party = "CmDropPartyHandler" @ 48 / 88,
    cm_activate_vc_complete = "CmActivateVcCompleteHandler" @ 52 / 96,
    cm_deactivate_vc_complete = "CmDeactivateVcCompleteHandler" @ 56 / 104,
    cm_modify_call_qos = "CmModifyCallQoSHandler" @ 60 / 112,
    cm_oid_request = "CmOidRequestHandler" @ 64 / 120,
    cm_oid_request_complete = "CmOidRequestCompleteHandler" @ 68 / 128,
    cm_notify_close_af_complete = "CmNotifyCloseAfCompleteHandler" @ 72 / 136,
});

/// `NDIS_SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1`.
pub const SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1: usize =
    crate::size_through!(CoCallManagerOptionalHandlers, cm_notify_close_af_complete);

/// `CO_ADDRESS_FAMILY`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoAddressFamily {
    /// `NDIS_AF`.
    pub address_family: u32,
    pub major_version: u32,
    pub minor_version: u32,
}

layout!(CoAddressFamily = "_CO_ADDRESS_FAMILY", size 12 / 12 {
    address_family = "AddressFamily" @ 0 / 0,
    major_version = "MajorVersion" @ 4 / 4,
    minor_version = "MinorVersion" @ 8 / 8,
});

/// `NDIS_AF` values.
pub mod address_family {
    /// `CO_ADDRESS_FAMILY_TAPI`: registered by NDPROXY itself.
    pub const TAPI: u32 = 0x800;
    /// `CO_ADDRESS_FAMILY_TAPI_PROXY`: the family an MCM registers for NDPROXY.
    pub const TAPI_PROXY: u32 = 0x801;
    /// `CO_ADDRESS_FAMILY_PROXY`: flag OR-ed into a family by a proxy.
    pub const PROXY: u32 = 0x8000_0000;
}

/// `CO_SAP`: a service access point; `sap_length` bytes of `sap` follow in place.
#[repr(C)]
#[derive(Debug)]
pub struct CoSap {
    pub sap_type: u32,
    pub sap_length: u32,
    pub sap: [u8; 1],
}

layout!(CoSap = "_CO_SAP", size 12 / 12 {
    sap_type = "SapType" @ 0 / 0,
    sap_length = "SapLength" @ 4 / 4,
    sap = "Sap" @ 8 / 8,
});

/// `CO_FLOW_PARAMETERS` (the `FLOWSPEC` of qos.h): rates in bytes per second.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoFlowParameters {
    pub token_rate: u32,
    pub token_bucket_size: u32,
    pub peak_bandwidth: u32,
    pub latency: u32,
    pub delay_variation: u32,
    /// `SERVICETYPE`.
    pub service_type: u32,
    pub max_sdu_size: u32,
    pub minimum_policed_size: u32,
}

layout!(CoFlowParameters = "_flowspec", size 32 / 32 {
    token_rate = "TokenRate" @ 0 / 0,
    token_bucket_size = "TokenBucketSize" @ 4 / 4,
    peak_bandwidth = "PeakBandwidth" @ 8 / 8,
    latency = "Latency" @ 12 / 12,
    delay_variation = "DelayVariation" @ 16 / 16,
    service_type = "ServiceType" @ 20 / 20,
    max_sdu_size = "MaxSduSize" @ 24 / 24,
    minimum_policed_size = "MinimumPolicedSize" @ 28 / 28,
});

/// `CO_SPECIFIC_PARAMETERS`: `length` bytes of `parameters` follow in place.
#[repr(C)]
#[derive(Debug)]
pub struct CoSpecificParameters {
    pub param_type: u32,
    pub length: u32,
    pub parameters: [u8; 1],
}

layout!(CoSpecificParameters = "_CO_SPECIFIC_PARAMETERS", size 12 / 12 {
    param_type = "ParamType" @ 0 / 0,
    length = "Length" @ 4 / 4,
    parameters = "Parameters" @ 8 / 8,
});

/// `CO_CALL_MANAGER_PARAMETERS`.
#[repr(C)]
#[derive(Debug)]
pub struct CoCallManagerParameters {
    pub transmit: CoFlowParameters,
    pub receive: CoFlowParameters,
    pub call_mgr_specific: CoSpecificParameters,
}

layout!(CoCallManagerParameters = "_CO_CALL_MANAGER_PARAMETERS", size 76 / 76 {
    transmit = "Transmit" @ 0 / 0,
    receive = "Receive" @ 32 / 32,
    call_mgr_specific = "CallMgrSpecific" @ 64 / 64,
});

/// `CO_MEDIA_PARAMETERS`.
#[repr(C)]
#[derive(Debug)]
pub struct CoMediaParameters {
    pub flags: u32,
    pub receive_priority: u32,
    pub receive_size_hint: u32,
    pub media_specific: CoSpecificParameters,
}

layout!(CoMediaParameters = "_CO_MEDIA_PARAMETERS", size 24 / 24 {
    flags = "Flags" @ 0 / 0,
    receive_priority = "ReceivePriority" @ 4 / 4,
    receive_size_hint = "ReceiveSizeHint" @ 8 / 8,
    media_specific = "MediaSpecific" @ 12 / 12,
});

/// `CO_CALL_PARAMETERS`.
#[repr(C)]
#[derive(Debug)]
pub struct CoCallParameters {
    pub flags: u32,
    pub call_mgr_parameters: *mut CoCallManagerParameters,
    pub media_parameters: *mut CoMediaParameters,
}

layout!(CoCallParameters = "_CO_CALL_PARAMETERS", size 12 / 24 {
    flags = "Flags" @ 0 / 0,
    call_mgr_parameters = "CallMgrParameters" @ 4 / 8,
    media_parameters = "MediaParameters" @ 8 / 16,
});

/// `CO_CALL_PARAMETERS.Flags` bits.
pub mod call_flags {
    pub const PERMANENT_VC: u32 = 0x1;
    pub const CALL_PARAMETERS_CHANGED: u32 = 0x2;
    pub const QUERY_CALL_PARAMETERS: u32 = 0x4;
    pub const BROADCAST_VC: u32 = 0x8;
    pub const MULTIPOINT_VC: u32 = 0x10;
}

/// `CO_MEDIA_PARAMETERS.Flags` bits.
pub mod media_flags {
    pub const TRANSMIT_VC: u32 = 0x4;
    pub const RECEIVE_VC: u32 = 0x8;
}

/// The `length` bytes that follow a `CO_SPECIFIC_PARAMETERS` header.
///
/// # Safety
/// `specific` points to a valid `CO_SPECIFIC_PARAMETERS` whose `Length` bytes of `Parameters`
/// are readable and not written for `'a`.
pub unsafe fn specific_parameter_bytes<'a>(specific: *const CoSpecificParameters) -> &'a [u8] {
    // SAFETY: the caller guarantees that `specific` is valid to read.
    let length = unsafe { (*specific).length } as usize;
    // SAFETY: `Parameters` is a field of the valid structure; the pointer is derived from the
    // whole structure, so it may cover the `length` bytes the caller guarantees are there.
    let start = unsafe { core::ptr::addr_of!((*specific).parameters) }.cast::<u8>();
    // SAFETY: the caller guarantees `length` readable bytes at `start` for `'a`.
    unsafe { core::slice::from_raw_parts(start, length) }
}
