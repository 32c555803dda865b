//! Basic NDIS and kernel types shared by every other module.

use core::ffi::c_void;

/// `NDIS_STATUS`: an NTSTATUS-compatible 32-bit status code.
pub type NdisStatus = i32;
/// `NDIS_HANDLE`: an opaque handle owned by NDIS or by the driver.
pub type NdisHandle = *mut c_void;

/// NDIS status codes, from the documented values of ndis.h.
pub mod status {
    use super::NdisStatus;

    pub const SUCCESS: NdisStatus = 0;
    pub const PENDING: NdisStatus = 0x0000_0103;
    pub const NOT_ACCEPTED: NdisStatus = 0x0001_0003;
    pub const FAILURE: NdisStatus = 0xC000_0001_u32 as i32;
    pub const RESOURCES: NdisStatus = 0xC000_009A_u32 as i32;
    pub const NOT_SUPPORTED: NdisStatus = 0xC000_00BB_u32 as i32;
    pub const CLOSING: NdisStatus = 0xC001_0002_u32 as i32;
    pub const INVALID_LENGTH: NdisStatus = 0xC001_0014_u32 as i32;
    pub const INVALID_DATA: NdisStatus = 0xC001_0015_u32 as i32;
    pub const BUFFER_TOO_SHORT: NdisStatus = 0xC001_0016_u32 as i32;
}

/// `NDIS_OBJECT_HEADER`: the type, revision and size that open every NDIS 6 structure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdisObjectHeader {
    pub object_type: u8,
    pub revision: u8,
    pub size: u16,
}

/// `UNICODE_STRING`: a counted UTF-16 string (lengths in bytes).
#[repr(C)]
#[derive(Debug)]
pub struct UnicodeString {
    pub length: u16,
    pub maximum_length: u16,
    pub buffer: *mut u16,
}

/// `DRIVER_OBJECT`: opaque here; the driver only passes it through to NDIS.
#[repr(C)]
#[derive(Debug)]
pub struct DriverObject {
    _opaque: [u8; 0],
}
