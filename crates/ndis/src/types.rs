//! Basic NDIS and kernel types shared by every other module.

use core::ffi::c_void;

/// `NDIS_STATUS`: an NTSTATUS-compatible 32-bit status code.
pub type NdisStatus = i32;
/// `NDIS_HANDLE`: an opaque handle owned by NDIS or by the driver.
pub type NdisHandle = *mut c_void;
/// `NDIS_OID`: an object identifier of an OID request.
pub type NdisOid = u32;
/// `NDIS_PORT_NUMBER`.
pub type NdisPortNumber = u32;
/// `KIRQL`.
pub type Kirql = u8;
/// `KSPIN_LOCK` (a `ULONG_PTR`).
pub type KspinLock = usize;
/// `NDIS_PHYSICAL_ADDRESS` (a `LARGE_INTEGER`).
pub type PhysicalAddress = i64;

/// `NDIS_STATUS` values, as documented for ndis.h (WDK: "NDIS_STATUS values"). The test
/// `tests/mingw_headers.rs` compares each with the value the mingw-w64 headers give.
pub mod status {
    use super::NdisStatus;

    pub const SUCCESS: NdisStatus = 0;
    pub const PENDING: NdisStatus = 0x0000_0103;
    pub const NOT_ACCEPTED: NdisStatus = 0x0001_0003;
    pub const FAILURE: NdisStatus = 0xC000_0001_u32 as i32;
    pub const INVALID_PARAMETER: NdisStatus = 0xC000_000D_u32 as i32;
    pub const RESOURCES: NdisStatus = 0xC000_009A_u32 as i32;
    pub const NOT_SUPPORTED: NdisStatus = 0xC000_00BB_u32 as i32;
    pub const INVALID_STATE: NdisStatus = 0xC000_0184_u32 as i32;
    pub const CLOSING: NdisStatus = 0xC001_0002_u32 as i32;
    pub const REQUEST_ABORTED: NdisStatus = 0xC001_000C_u32 as i32;
    pub const ADAPTER_NOT_READY: NdisStatus = 0xC001_0011_u32 as i32;
    pub const INVALID_LENGTH: NdisStatus = 0xC001_0014_u32 as i32;
    pub const INVALID_DATA: NdisStatus = 0xC001_0015_u32 as i32;
    pub const BUFFER_TOO_SHORT: NdisStatus = 0xC001_0016_u32 as i32;
    pub const INVALID_OID: NdisStatus = 0xC001_0017_u32 as i32;
    pub const UNSUPPORTED_MEDIA: NdisStatus = 0xC001_0019_u32 as i32;
    pub const NO_ROUTE_TO_DESTINATION: NdisStatus = 0xC001_0029_u32 as i32;
    pub const PAUSED: NdisStatus = 0xC023_002A_u32 as i32;
}

/// `NDIS_OBJECT_HEADER`: the type, revision and size that open every NDIS 6 structure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdisObjectHeader {
    pub object_type: u8,
    pub revision: u8,
    pub size: u16,
}

impl NdisObjectHeader {
    /// A header for a structure of `object_type` at `revision`, `size` bytes long (the
    /// documented `NDIS_SIZEOF_..._REVISION_n`, which the caller computes with
    /// [`size_through`](crate::layout::size_through)).
    pub const fn new(object_type: u8, revision: u8, size: usize) -> Self {
        assert!(size <= u16::MAX as usize);
        NdisObjectHeader {
            object_type,
            revision,
            size: size as u16,
        }
    }
}

/// `UNICODE_STRING` (`NDIS_STRING`): a counted UTF-16 string, lengths in bytes.
#[repr(C)]
#[derive(Debug)]
pub struct UnicodeString {
    pub length: u16,
    pub maximum_length: u16,
    pub buffer: *mut u16,
}

/// `GUID`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Guid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

/// `LIST_ENTRY`.
#[repr(C)]
#[derive(Debug)]
pub struct ListEntry {
    pub flink: *mut ListEntry,
    pub blink: *mut ListEntry,
}

/// `DRIVER_OBJECT`: opaque here; the driver only passes it through to NDIS.
#[repr(C)]
#[derive(Debug)]
pub struct DriverObject {
    _opaque: [u8; 0],
}

/// `DEVICE_OBJECT`: opaque here.
#[repr(C)]
#[derive(Debug)]
pub struct DeviceObject {
    _opaque: [u8; 0],
}
