//! Copies between host values and memory the driver names by address. Every function here is
//! `unsafe`: its contract is the WDK contract of the import that received the address (the
//! driver passes memory of the documented size). A driver that breaks it faults, and the
//! fault is reported against the import it called last.

/// Copies `len` bytes at `address`.
///
/// # Safety
/// `address` points to `len` readable bytes.
pub unsafe fn copy_in(address: usize, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    // SAFETY: per the contract; `bytes` is a separate allocation of `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(address as *const u8, bytes.as_mut_ptr(), len) };
    bytes
}

/// Copies `bytes` to `address`.
///
/// # Safety
/// `address` points to `bytes.len()` writable bytes.
pub unsafe fn copy_out(address: usize, bytes: &[u8]) {
    // SAFETY: per the contract; `bytes` is a separate allocation.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), address as *mut u8, bytes.len()) };
}

/// The structure at `address`, `len` bytes long but no more than its header's Size says.
///
/// # Safety
/// `address` points to an NDIS 6 structure (NDIS_OBJECT_HEADER first) of at least
/// `min(len, Header.Size)` readable bytes.
pub unsafe fn copy_structure(address: usize, len: usize) -> crate::kernel::raw::Raw {
    // SAFETY: every NDIS 6 structure starts with its 4-byte header.
    let header = unsafe { copy_in(address, 4) };
    let size = usize::from(u16::from_le_bytes([header[2], header[3]]));
    // SAFETY: the driver declares `size` bytes; `len` bounds what the host reads.
    crate::kernel::raw::Raw(unsafe { copy_in(address, size.min(len).max(4)) })
}

/// Writes one pointer-sized value (an out parameter such as a handle).
///
/// # Safety
/// `address` points to a writable, pointer-sized variable.
pub unsafe fn write_usize(address: usize, value: usize) {
    // SAFETY: per the contract.
    unsafe { (address as *mut usize).write_unaligned(value) };
}
