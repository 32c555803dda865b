//! OID requests and status indications (WDK: ns-ndis-_ndis_oid_request,
//! ns-ndis-_ndis_status_indication).

use core::ffi::c_void;
use core::mem::size_of;

use crate::layout;
use crate::types::{Guid, NdisHandle, NdisObjectHeader, NdisOid, NdisPortNumber, NdisStatus};

/// `NDIS_OBJECT_TYPE_OID_REQUEST`.
pub const OBJECT_TYPE_OID_REQUEST: u8 = 0x96;
/// `NDIS_OBJECT_TYPE_STATUS_INDICATION`.
pub const OBJECT_TYPE_STATUS_INDICATION: u8 = 0x98;
/// `NDIS_STATUS_INDICATION_REVISION_1`.
pub const STATUS_INDICATION_REVISION_1: u8 = 1;

/// `NDIS_REQUEST_TYPE` values.
pub mod request_type {
    pub const QUERY_INFORMATION: u32 = 0;
    pub const SET_INFORMATION: u32 = 1;
    pub const QUERY_STATISTICS: u32 = 2;
    pub const METHOD: u32 = 12;
}

/// `DATA.QUERY_INFORMATION` of an OID request (also used for `NdisRequestQueryStatistics`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct QueryInformation {
    pub oid: NdisOid,
    pub information_buffer: *mut c_void,
    pub information_buffer_length: u32,
    pub bytes_written: u32,
    pub bytes_needed: u32,
}

/// `DATA.SET_INFORMATION` of an OID request.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SetInformation {
    pub oid: NdisOid,
    pub information_buffer: *mut c_void,
    pub information_buffer_length: u32,
    pub bytes_read: u32,
    pub bytes_needed: u32,
}

/// `DATA.METHOD_INFORMATION` of an OID request.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MethodInformation {
    pub oid: NdisOid,
    pub method_id: u32,
    pub information_buffer: *mut c_void,
    pub input_buffer_length: u32,
    pub output_buffer_length: u32,
    pub bytes_written: u32,
    pub bytes_read: u32,
    pub bytes_needed: u32,
}

/// The `DATA` union of `NDIS_OID_REQUEST`; `RequestType` says which member is valid. `oid`
/// sits at offset 0 in all three.
#[repr(C)]
#[derive(Clone, Copy)]
pub union OidRequestData {
    pub query: QueryInformation,
    pub set: SetInformation,
    pub method: MethodInformation,
}

impl core::fmt::Debug for OidRequestData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OidRequestData")
    }
}

layout!(QueryInformation = "_QUERY", size 20 / 32 {
    oid = "Oid" @ 0 / 0,
    information_buffer = "InformationBuffer" @ 4 / 8,
    information_buffer_length = "InformationBufferLength" @ 8 / 16,
    bytes_written = "BytesWritten" @ 12 / 20,
    bytes_needed = "BytesNeeded" @ 16 / 24,
});

layout!(SetInformation = "_SET", size 20 / 32 {
    oid = "Oid" @ 0 / 0,
    information_buffer = "InformationBuffer" @ 4 / 8,
    information_buffer_length = "InformationBufferLength" @ 8 / 16,
    bytes_read = "BytesRead" @ 12 / 20,
    bytes_needed = "BytesNeeded" @ 16 / 24,
});

layout!(MethodInformation = "_METHOD", size 32 / 40 {
    oid = "Oid" @ 0 / 0,
    method_id = "MethodId" @ 4 / 4,
    information_buffer = "InformationBuffer" @ 8 / 8,
    input_buffer_length = "InputBufferLength" @ 12 / 16,
    output_buffer_length = "OutputBufferLength" @ 16 / 20,
    bytes_written = "BytesWritten" @ 20 / 24,
    bytes_read = "BytesRead" @ 24 / 28,
    bytes_needed = "BytesNeeded" @ 28 / 32,
});

/// `NDIS_OID_REQUEST_NDIS_RESERVED_SIZE`, in pointers.
const NDIS_RESERVED_POINTERS: usize = 16;

/// `NDIS_OID_REQUEST`, revision 1 (every field a miniport reads or writes).
#[repr(C)]
#[derive(Debug)]
pub struct OidRequest {
    pub header: NdisObjectHeader,
    /// `NDIS_REQUEST_TYPE`, see [`request_type`].
    pub request_type: u32,
    pub port_number: NdisPortNumber,
    pub timeout: u32,
    pub request_id: *mut c_void,
    pub request_handle: NdisHandle,
    pub data: OidRequestData,
    pub ndis_reserved: [u8; NDIS_RESERVED_POINTERS * size_of::<usize>()],
    pub miniport_reserved: [u8; 2 * size_of::<usize>()],
    pub source_reserved: [u8; 2 * size_of::<usize>()],
    pub supported_revision: u8,
    pub reserved1: u8,
    pub reserved2: u16,
}

layout!(OidRequest = "_NDIS_OID_REQUEST", size 140 / 240 {
    header = "Header" @ 0 / 0,
    request_type = "RequestType" @ 4 / 4,
    port_number = "PortNumber" @ 8 / 8,
    timeout = "Timeout" @ 12 / 12,
    request_id = "RequestId" @ 16 / 16,
    request_handle = "RequestHandle" @ 20 / 24,
    data = "DATA" @ 24 / 32,
    ndis_reserved = "NdisReserved" @ 56 / 72,
    miniport_reserved = "MiniportReserved" @ 120 / 200,
    source_reserved = "SourceReserved" @ 128 / 216,
    supported_revision = "SupportedRevision" @ 136 / 232,
    reserved1 = "Reserved1" @ 137 / 233,
    reserved2 = "Reserved2" @ 138 / 234,
});

/// `NDIS_STATUS_INDICATION`, revision 1.
#[repr(C)]
#[derive(Debug)]
pub struct StatusIndication {
    pub header: NdisObjectHeader,
    pub source_handle: NdisHandle,
    pub port_number: NdisPortNumber,
    pub status_code: NdisStatus,
    pub flags: u32,
    pub destination_handle: NdisHandle,
    pub request_id: *mut c_void,
    pub status_buffer: *mut c_void,
    pub status_buffer_size: u32,
    pub guid: Guid,
    pub ndis_reserved: [*mut c_void; 4],
}

layout!(StatusIndication = "_NDIS_STATUS_INDICATION", size 68 / 112 {
    header = "Header" @ 0 / 0,
    source_handle = "SourceHandle" @ 4 / 8,
    port_number = "PortNumber" @ 8 / 16,
    status_code = "StatusCode" @ 12 / 20,
    flags = "Flags" @ 16 / 24,
    destination_handle = "DestinationHandle" @ 20 / 32,
    request_id = "RequestId" @ 24 / 40,
    status_buffer = "StatusBuffer" @ 28 / 48,
    status_buffer_size = "StatusBufferSize" @ 32 / 56,
    guid = "Guid" @ 36 / 60,
    ndis_reserved = "NdisReserved" @ 52 / 80,
});

/// `NDIS_SIZEOF_STATUS_INDICATION_REVISION_1`.
pub const SIZEOF_STATUS_INDICATION_REVISION_1: usize =
    crate::size_through!(StatusIndication, ndis_reserved);
