//! Packet data structures: `MDL`, `NET_BUFFER`, `NET_BUFFER_LIST` and the NBL pool parameters
//! (WDK: ns-wdm-_mdl, ns-ndis-_net_buffer, ns-ndis-_net_buffer_list,
//! ns-ndis-_net_buffer_list_pool_parameters).
//!
//! NDIS allocates these; the driver reads and links the fields drivers are documented to touch
//! (the `NET_BUFFER_LIST_NEXT_NBL`, `NET_BUFFER_LIST_FIRST_NB`, `NET_BUFFER_NEXT_NB`,
//! `NET_BUFFER_DATA_LENGTH`, ... macros of ndis.h) and never creates one by value.

use core::ffi::c_void;

use crate::layout;
use crate::types::{NdisHandle, NdisObjectHeader, NdisStatus, PhysicalAddress};

/// A field declared `DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT)`: 16 bytes on 64-bit Windows,
/// 8 on x86.
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(16)))]
#[cfg_attr(target_pointer_width = "32", repr(align(8)))]
#[derive(Debug, Clone, Copy)]
pub struct AllocationAligned<T>(pub T);

/// `MDL`: one virtually contiguous piece of a packet.
#[repr(C)]
#[derive(Debug)]
pub struct Mdl {
    pub next: *mut Mdl,
    pub size: i16,
    pub mdl_flags: i16,
    pub process: *mut c_void,
    pub mapped_system_va: *mut c_void,
    pub start_va: *mut c_void,
    pub byte_count: u32,
    pub byte_offset: u32,
}

layout!(Mdl = "_MDL", size 28 / 48 {
    next = "Next" @ 0 / 0,
    size = "Size" @ 4 / 8,
    mdl_flags = "MdlFlags" @ 6 / 10,
    process = "Process" @ 8 / 16,
    mapped_system_va = "MappedSystemVa" @ 12 / 24,
    start_va = "StartVa" @ 16 / 32,
    byte_count = "ByteCount" @ 20 / 40,
    byte_offset = "ByteOffset" @ 24 / 44,
});

/// `MDL.MdlFlags` bits that `MmGetSystemAddressForMdlSafe` tests (WDK: wdm.h).
pub mod mdl_flags {
    pub const MAPPED_TO_SYSTEM_VA: i16 = 0x0001;
    pub const SOURCE_IS_NONPAGED_POOL: i16 = 0x0004;
}

/// `NET_BUFFER_DATA`: the first part of `NET_BUFFER`, which C overlays with an
/// `SLIST_HEADER` that only NDIS uses.
#[repr(C)]
#[derive(Debug)]
pub struct NetBufferData {
    pub next: *mut NetBuffer,
    pub current_mdl: *mut Mdl,
    pub current_mdl_offset: u32,
    /// `union { ULONG DataLength; SIZE_T stDataLength; }`: NDIS writes the `ULONG`, so only the
    /// low 32 bits are meaningful (see [`NetBuffer::data_length`]).
    pub data_length: usize,
    pub mdl_chain: *mut Mdl,
    pub data_offset: u32,
}

/// `NET_BUFFER` (NDIS 6.20 and later: with `SharedMemoryInfo`).
#[repr(C)]
#[derive(Debug)]
pub struct NetBuffer {
    pub data: NetBufferData,
    pub checksum_bias: u16,
    pub reserved: u16,
    pub ndis_pool_handle: NdisHandle,
    pub ndis_reserved: AllocationAligned<[*mut c_void; 2]>,
    pub protocol_reserved: AllocationAligned<[*mut c_void; 6]>,
    pub miniport_reserved: AllocationAligned<[*mut c_void; 4]>,
    pub data_physical_address: PhysicalAddress,
    pub shared_memory_info: *mut c_void,
}

layout!(NetBuffer = "_NET_BUFFER", size 96 / 176 {
    data.next = "Next" @ 0 / 0,
    data.current_mdl = "CurrentMdl" @ 4 / 8,
    data.current_mdl_offset = "CurrentMdlOffset" @ 8 / 16,
    data.data_length = "DataLength" @ 12 / 24,
    data.mdl_chain = "MdlChain" @ 16 / 32,
    data.data_offset = "DataOffset" @ 20 / 40,
    checksum_bias = "ChecksumBias" @ 24 / 48,
    reserved = "Reserved" @ 26 / 50,
    ndis_pool_handle = "NdisPoolHandle" @ 28 / 56,
    ndis_reserved = "NdisReserved" @ 32 / 64,
    protocol_reserved = "ProtocolReserved" @ 40 / 80,
    miniport_reserved = "MiniportReserved" @ 64 / 128,
    data_physical_address = "DataPhysicalAddress" @ 80 / 160,
    shared_memory_info = "SharedMemoryInfo" @ 88 / 168,
});

impl NetBuffer {
    /// `NET_BUFFER_DATA_LENGTH`: the bytes of used data space.
    pub fn data_length(&self) -> u32 {
        // Only the ULONG half of the union is written by NDIS; truncation is the intent.
        self.data.data_length as u32
    }
}

/// Indices into `NET_BUFFER_LIST.NetBufferListInfo` (WDK: ne-ndis-_ndis_net_buffer_list_info).
/// These are the NDIS 6.0 entries; later NDIS versions append more, never reorder them.
pub mod nbl_info {
    pub const TCP_IP_CHECKSUM: usize = 0;
    pub const IPSEC_OFFLOAD_V1: usize = 1;
    pub const TCP_LARGE_SEND: usize = 2;
    pub const CLASSIFICATION_HANDLE: usize = 3;
    pub const IEEE_8021Q: usize = 4;
    pub const CANCEL_ID: usize = 5;
    pub const MEDIA_SPECIFIC_INFORMATION: usize = 6;
    pub const FRAME_TYPE: usize = 7;
    pub const HASH_VALUE: usize = 8;
    pub const HASH_INFO: usize = 9;
    pub const WFP: usize = 10;
    /// How many entries every NDIS 6 `NET_BUFFER_LIST` has at least.
    pub const COUNT_NDIS60: usize = 11;
}

/// `NET_BUFFER_LIST`. The `NetBufferListInfo` array is longer in later NDIS versions, so the
/// structure's size is not fixed: only NDIS allocates it.
#[repr(C)]
#[derive(Debug)]
pub struct NetBufferList {
    pub next: *mut NetBufferList,
    pub first_net_buffer: *mut NetBuffer,
    pub context: *mut c_void,
    pub parent_net_buffer_list: *mut NetBufferList,
    pub ndis_pool_handle: NdisHandle,
    pub ndis_reserved: AllocationAligned<[*mut c_void; 2]>,
    pub protocol_reserved: AllocationAligned<[*mut c_void; 4]>,
    pub miniport_reserved: AllocationAligned<[*mut c_void; 2]>,
    pub scratch: *mut c_void,
    pub source_handle: NdisHandle,
    pub nbl_flags: u32,
    pub child_ref_count: i32,
    pub flags: u32,
    pub status: NdisStatus,
    pub net_buffer_list_info: [*mut c_void; nbl_info::COUNT_NDIS60],
}

layout!(NetBufferList = "_NET_BUFFER_LIST", size _ {
    next = "Next" @ 0 / 0,
    first_net_buffer = "FirstNetBuffer" @ 4 / 8,
    context = "Context" @ 8 / 16,
    parent_net_buffer_list = "ParentNetBufferList" @ 12 / 24,
    ndis_pool_handle = "NdisPoolHandle" @ 16 / 32,
    ndis_reserved = "NdisReserved" @ 24 / 48,
    protocol_reserved = "ProtocolReserved" @ 32 / 64,
    miniport_reserved = "MiniportReserved" @ 48 / 96,
    scratch = "Scratch" @ 56 / 112,
    source_handle = "SourceHandle" @ 60 / 120,
    nbl_flags = "NblFlags" @ 64 / 128,
    child_ref_count = "ChildRefCount" @ 68 / 132,
    flags = "Flags" @ 72 / 136,
    status = "Status" @ 76 / 140,
    net_buffer_list_info = "NetBufferListInfo" @ 80 / 144,
});

/// Zeroed NET_BUFFERs and NET_BUFFER_LISTs for the crate's unit tests, which walk chains the
/// way NDIS links them without NDIS.
#[cfg(test)]
pub(crate) mod blank {
    use core::ptr;

    use super::{AllocationAligned, NetBuffer, NetBufferData, NetBufferList, nbl_info};

    /// A NET_BUFFER of `length` bytes (no MDL) linked to `next`.
    pub fn net_buffer(length: usize, next: *mut NetBuffer) -> NetBuffer {
        NetBuffer {
            data: NetBufferData {
                next,
                current_mdl: ptr::null_mut(),
                current_mdl_offset: 0,
                data_length: length,
                mdl_chain: ptr::null_mut(),
                data_offset: 0,
            },
            checksum_bias: 0,
            reserved: 0,
            ndis_pool_handle: ptr::null_mut(),
            ndis_reserved: AllocationAligned([ptr::null_mut(); 2]),
            protocol_reserved: AllocationAligned([ptr::null_mut(); 6]),
            miniport_reserved: AllocationAligned([ptr::null_mut(); 4]),
            data_physical_address: 0,
            shared_memory_info: ptr::null_mut(),
        }
    }

    /// A NET_BUFFER_LIST whose first NET_BUFFER is `first`.
    pub fn net_buffer_list(first: *mut NetBuffer) -> NetBufferList {
        NetBufferList {
            next: ptr::null_mut(),
            first_net_buffer: first,
            context: ptr::null_mut(),
            parent_net_buffer_list: ptr::null_mut(),
            ndis_pool_handle: ptr::null_mut(),
            ndis_reserved: AllocationAligned([ptr::null_mut(); 2]),
            protocol_reserved: AllocationAligned([ptr::null_mut(); 4]),
            miniport_reserved: AllocationAligned([ptr::null_mut(); 2]),
            scratch: ptr::null_mut(),
            source_handle: ptr::null_mut(),
            nbl_flags: 0,
            child_ref_count: 0,
            flags: 0,
            status: 0,
            net_buffer_list_info: [ptr::null_mut(); nbl_info::COUNT_NDIS60],
        }
    }
}

/// `NDIS_OBJECT_TYPE_DEFAULT`, the header type of the pool parameters.
pub const OBJECT_TYPE_DEFAULT: u8 = 0x80;
/// `NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1`.
pub const NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: u8 = 1;
/// `NDIS_PROTOCOL_ID_DEFAULT`.
pub const PROTOCOL_ID_DEFAULT: u8 = 0;

/// `NET_BUFFER_LIST_POOL_PARAMETERS`, for `NdisAllocateNetBufferListPool`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NetBufferListPoolParameters {
    pub header: NdisObjectHeader,
    pub protocol_id: u8,
    /// `BOOLEAN fAllocateNetBuffer`: each NBL comes with one NET_BUFFER.
    pub allocate_net_buffer: u8,
    pub context_size: u16,
    pub pool_tag: u32,
    /// Bytes of data each NET_BUFFER gets with it (0: the caller supplies MDLs).
    pub data_size: u32,
}

layout!(NetBufferListPoolParameters = "_NET_BUFFER_LIST_POOL_PARAMETERS", size 16 / 16 {
    header = "Header" @ 0 / 0,
    protocol_id = "ProtocolId" @ 4 / 4,
    allocate_net_buffer = "fAllocateNetBuffer" @ 5 / 5,
    context_size = "ContextSize" @ 6 / 6,
    pool_tag = "PoolTag" @ 8 / 8,
    data_size = "DataSize" @ 12 / 12,
});

/// `NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1`.
pub const SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: usize =
    crate::size_through!(NetBufferListPoolParameters, data_size);

/// Flags of the send, send-complete, receive and return entry points (WDK: the
/// `NDIS_SEND_FLAGS_*`, `NDIS_SEND_COMPLETE_FLAGS_*`, `NDIS_RECEIVE_FLAGS_*` and
/// `NDIS_RETURN_FLAGS_*` values of ndis.h).
pub mod flags {
    pub const SEND_DISPATCH_LEVEL: u32 = 0x1;
    pub const SEND_CHECK_FOR_LOOPBACK: u32 = 0x2;
    pub const SEND_COMPLETE_DISPATCH_LEVEL: u32 = 0x1;
    pub const RECEIVE_DISPATCH_LEVEL: u32 = 0x1;
    pub const RECEIVE_RESOURCES: u32 = 0x2;
    pub const RETURN_DISPATCH_LEVEL: u32 = 0x1;
}
