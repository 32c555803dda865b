//! Memory the host hands the driver: pool blocks. Each block is 16-byte aligned
//! (MEMORY_ALLOCATION_ALIGNMENT on 64-bit Windows) and its size is kept by the pool
//! bookkeeping (crate::kernel::pool), which the free needs.

use std::alloc::Layout;

const ALIGN: usize = 16;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(1), ALIGN).expect("a pool size fits a layout")
}

/// A new block of `size` bytes, every byte set to `fill`; 0 if the host is out of memory.
pub fn allocate(size: usize, fill: u8) -> usize {
    let layout = layout(size);
    // SAFETY: the layout has a non-zero size.
    let block = unsafe { std::alloc::alloc(layout) };
    if block.is_null() {
        return 0;
    }
    // SAFETY: `block` is a fresh allocation of `layout.size()` bytes.
    unsafe { block.write_bytes(fill, layout.size()) };
    block as usize
}

/// Releases a block from [`allocate`] of `size` bytes, filling it with `fill` first so that a
/// use after free reads an obvious pattern.
pub fn release(address: usize, size: usize, fill: u8) {
    let layout = layout(size);
    let block = address as *mut u8;
    // SAFETY: `address` came from `allocate` with this size (the pool bookkeeping checked the
    // free against a live allocation before the caller got here).
    unsafe { block.write_bytes(fill, layout.size()) };
    // SAFETY: as above; the block is released once (the bookkeeping removed it).
    unsafe { std::alloc::dealloc(block, layout) };
}
