//! The image's global allocator: non-paged pool through `NdisAllocateMemoryWithTagPriority`
//! with the miniport driver handle. The engine allocates its pools with it, once per adapter at
//! initialisation; the data path allocates nothing from it.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use rswan_ndis::imports::{NdisAllocateMemoryWithTagPriority, NdisFreeMemory};
use rswan_ndis::memory::{MEMORY_ALLOCATION_ALIGNMENT, NORMAL_POOL_PRIORITY};

use crate::POOL_TAG;

/// The miniport driver handle, set as soon as NDIS hands it out (MiniportSetOptions) and
/// cleared at unload. Allocations without it fail.
static DRIVER_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// IRQL: any.
pub fn set_driver_handle(handle: *mut c_void) {
    DRIVER_HANDLE.store(handle, Ordering::Release);
}

struct NdisPool;

#[global_allocator]
static ALLOCATOR: NdisPool = NdisPool;

/// The bytes asked of NDIS for `layout`: over-aligned layouts get room to align and to keep
/// the original pointer just before the block.
fn pool_size(layout: Layout) -> Option<u32> {
    let extra = if layout.align() > MEMORY_ALLOCATION_ALIGNMENT {
        layout.align()
    } else {
        0
    };
    u32::try_from(layout.size().max(1).checked_add(extra)?).ok()
}

// SAFETY: `alloc` returns either NULL or a block of at least `layout.size()` bytes aligned to
// `layout.align()`, owned by the caller until `dealloc` gives it back with the same layout.
unsafe impl GlobalAlloc for NdisPool {
    /// IRQL: <= DISPATCH_LEVEL.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let handle = DRIVER_HANDLE.load(Ordering::Acquire);
        let Some(size) = pool_size(layout) else {
            return ptr::null_mut();
        };
        if handle.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: `handle` is the live miniport driver handle.
        let raw = unsafe {
            NdisAllocateMemoryWithTagPriority(handle, size, POOL_TAG, NORMAL_POOL_PRIORITY)
        }
        .cast::<u8>();
        if raw.is_null() || layout.align() <= MEMORY_ALLOCATION_ALIGNMENT {
            return raw;
        }
        // Pool blocks are MEMORY_ALLOCATION_ALIGNMENT-aligned, so aligning up moves by at least
        // that much, which leaves room for the original pointer just below the aligned block.
        let aligned = (raw as usize + layout.align()) & !(layout.align() - 1);
        let aligned = raw.wrapping_add(aligned - raw as usize);
        let slot = aligned.wrapping_sub(size_of::<usize>()).cast::<*mut u8>();
        // SAFETY: `slot` lies inside the block, past `raw`, and is pointer-aligned (both
        // `aligned` and MEMORY_ALLOCATION_ALIGNMENT are multiples of the pointer size).
        unsafe { slot.write(raw) };
        aligned
    }

    /// IRQL: <= DISPATCH_LEVEL.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(size) = pool_size(layout) else {
            return;
        };
        let raw = if layout.align() <= MEMORY_ALLOCATION_ALIGNMENT {
            ptr
        } else {
            let slot = ptr.wrapping_sub(size_of::<usize>()).cast::<*mut u8>();
            // SAFETY: `alloc` stored the original pointer right below this aligned block.
            unsafe { slot.read() }
        };
        // SAFETY: `raw` came from NdisAllocateMemoryWithTagPriority with `size` bytes and is
        // freed once (the caller's contract of `dealloc`).
        unsafe { NdisFreeMemory(raw.cast(), size, 0) };
    }
}
