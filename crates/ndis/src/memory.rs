//! Pool memory and NBL pools (WDK: nf-ndis-ndisallocatememorywithtagpriority,
//! nf-ndis-ndisallocatenetbufferlistpool).

use core::ffi::c_void;
use core::mem::{align_of, size_of};
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::buffer::{
    Mdl, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NetBufferListPoolParameters,
    OBJECT_TYPE_DEFAULT, PROTOCOL_ID_DEFAULT, SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
};
use crate::chain::Nbl;
use crate::imports::{
    NdisAllocateMemoryWithTagPriority, NdisAllocateNetBufferAndNetBufferList,
    NdisAllocateNetBufferListPool, NdisFreeMemory, NdisFreeNetBufferList,
    NdisFreeNetBufferListPool,
};
use crate::types::{NdisHandle, NdisObjectHeader};

/// `NormalPoolPriority` of `EX_POOL_PRIORITY`.
pub const NORMAL_POOL_PRIORITY: u32 = 16;
/// `MEMORY_ALLOCATION_ALIGNMENT`: what pool allocations are aligned to.
pub const MEMORY_ALLOCATION_ALIGNMENT: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

/// A `T` in non-paged pool memory from `NdisAllocateMemoryWithTagPriority`, freed on drop.
/// Its address is stable, so it can be the context NDIS hands back to the driver.
pub struct PoolBox<T> {
    ptr: NonNull<T>,
}

// SAFETY: `PoolBox<T>` owns its `T` like `Box<T>` does.
unsafe impl<T: Send> Send for PoolBox<T> {}
// SAFETY: shared access only hands out `&T`.
unsafe impl<T: Sync> Sync for PoolBox<T> {}

impl<T> PoolBox<T> {
    /// Moves `value` into pool memory, or gives it back when the pool is exhausted.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a miniport adapter, miniport driver or protocol driver handle.
    pub unsafe fn new(ndis_handle: NdisHandle, tag: u32, value: T) -> Result<PoolBox<T>, T> {
        const { assert!(align_of::<T>() <= MEMORY_ALLOCATION_ALIGNMENT) };
        let Ok(size) = u32::try_from(size_of::<T>().max(1)) else {
            return Err(value);
        };
        // SAFETY: the caller vouches for the handle.
        let raw = unsafe {
            NdisAllocateMemoryWithTagPriority(ndis_handle, size, tag, NORMAL_POOL_PRIORITY)
        };
        let Some(ptr) = NonNull::new(raw.cast::<T>()) else {
            return Err(value);
        };
        // SAFETY: `ptr` is a fresh allocation of `size_of::<T>()` bytes, aligned to
        // MEMORY_ALLOCATION_ALIGNMENT, which covers `T` (checked above).
        unsafe { ptr.as_ptr().write(value) };
        Ok(PoolBox { ptr })
    }

    /// Allocates pool memory for a `T`, then writes `make()` into it: a large value is built
    /// where it will live instead of on the kernel stack first (when `make` is inlined the
    /// compiler writes it in place). `None`, with `make` not called, when the pool is exhausted.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a miniport adapter, miniport driver or protocol driver handle.
    #[inline(always)]
    pub unsafe fn new_with(
        ndis_handle: NdisHandle,
        tag: u32,
        make: impl FnOnce() -> T,
    ) -> Option<PoolBox<T>> {
        const { assert!(align_of::<T>() <= MEMORY_ALLOCATION_ALIGNMENT) };
        let size = u32::try_from(size_of::<T>().max(1)).ok()?;
        // SAFETY: the caller vouches for the handle.
        let raw = unsafe {
            NdisAllocateMemoryWithTagPriority(ndis_handle, size, tag, NORMAL_POOL_PRIORITY)
        };
        let ptr = NonNull::new(raw.cast::<T>())?;
        // SAFETY: `ptr` is a fresh allocation of `size_of::<T>()` bytes, aligned to
        // MEMORY_ALLOCATION_ALIGNMENT, which covers `T` (checked above).
        unsafe { ptr.as_ptr().write(make()) };
        Some(PoolBox { ptr })
    }

    /// The address, to pass to NDIS as a context.
    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Gives up ownership; [`PoolBox::from_raw`] takes it back.
    pub fn into_raw(self) -> NonNull<T> {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }

    /// Takes back ownership of what [`PoolBox::into_raw`] gave up.
    ///
    /// # Safety
    /// `ptr` came from `PoolBox::<T>::into_raw` and is taken back once.
    pub unsafe fn from_raw(ptr: NonNull<T>) -> PoolBox<T> {
        PoolBox { ptr }
    }
}

impl<T> Deref for PoolBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialised `T`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for PoolBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the box owns an initialised `T` exclusively.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for PoolBox<T> {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        // SAFETY: the box owns an initialised `T`, dropped once here.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        let size = size_of::<T>().max(1) as u32;
        // SAFETY: the memory came from NdisAllocateMemoryWithTagPriority with this size and
        // is freed once.
        unsafe { NdisFreeMemory(self.ptr.as_ptr().cast::<c_void>(), size, 0) };
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for PoolBox<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

/// An NBL pool whose NBLs each come with one NET_BUFFER; freed on drop.
#[derive(Debug)]
pub struct NblPool {
    handle: NdisHandle,
}

// SAFETY: NBL pools may be used from any processor.
unsafe impl Send for NblPool {}
// SAFETY: as above; NDIS serialises allocations from one pool.
unsafe impl Sync for NblPool {}

impl NblPool {
    /// A pool of NBLs with no data of their own (the caller supplies MDLs), each with one
    /// NET_BUFFER when `with_net_buffer` (for [`NblPool::allocate`]) or none (for
    /// [`NblPool::clone_nbl`]); `None` when out of memory.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a miniport adapter or protocol binding handle (or a driver handle).
    pub unsafe fn new(
        ndis_handle: NdisHandle,
        tag: u32,
        context_size: u16,
        with_net_buffer: bool,
    ) -> Option<NblPool> {
        let parameters = NetBufferListPoolParameters {
            header: NdisObjectHeader::new(
                OBJECT_TYPE_DEFAULT,
                NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            ),
            protocol_id: PROTOCOL_ID_DEFAULT,
            allocate_net_buffer: u8::from(with_net_buffer),
            context_size,
            pool_tag: tag,
            data_size: 0,
        };
        // SAFETY: the caller vouches for the handle; the parameters are complete.
        let handle = unsafe { NdisAllocateNetBufferListPool(ndis_handle, &parameters) };
        (!handle.is_null()).then(|| NblPool { handle })
    }

    /// An NBL with one NET_BUFFER describing `length` bytes of `mdl_chain` from `offset`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `mdl_chain` describes at least `offset + length` bytes that stay valid until the NBL is
    /// freed with [`NblPool::free`].
    pub unsafe fn allocate(&self, mdl_chain: *mut Mdl, offset: u32, length: usize) -> Option<Nbl> {
        // SAFETY: `handle` is a live pool; the caller covers the MDL chain.
        let nbl = unsafe {
            NdisAllocateNetBufferAndNetBufferList(self.handle, 0, 0, mdl_chain, offset, length)
        };
        // SAFETY: a fresh NBL from our pool belongs to us alone.
        NonNull::new(nbl).map(|nbl| unsafe { Nbl::from_raw(nbl) })
    }

    /// Frees an NBL allocated from this pool (not its MDLs).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `nbl` came from [`NblPool::allocate`] of this pool.
    pub unsafe fn free(&self, nbl: Nbl) {
        // SAFETY: the NBL is owned, so nothing else uses it; the caller guarantees it came
        // from this pool; it is freed once because `Nbl` is consumed.
        unsafe { NdisFreeNetBufferList(nbl.into_raw().as_ptr()) };
    }
}

impl NblPool {
    /// A clone of `original` from this pool: new NBL, NET_BUFFERs and MDLs describing the same
    /// data (WDK: nf-ndis-ndisallocateclonenetbufferlist), so the clone can be sent on another
    /// path and its data start moved without touching the original's NET_BUFFERs.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `original` stays alive and its data unchanged until the clone is freed with
    /// [`NblPool::free_clone`].
    pub unsafe fn clone_nbl(&self, original: &mut Nbl) -> Option<Nbl> {
        let raw = original.as_ptr();
        // SAFETY: `raw` is a valid owned NBL; the caller keeps it alive for the clone.
        let clone = unsafe {
            crate::imports::NdisAllocateCloneNetBufferList(
                raw,
                self.handle,
                core::ptr::null_mut(),
                0,
            )
        };
        // SAFETY: a fresh clone belongs to us alone.
        NonNull::new(clone).map(|clone| unsafe { Nbl::from_raw(clone) })
    }

    /// Frees a clone made by [`NblPool::clone_nbl`] (its own NET_BUFFERs and MDLs, not the
    /// original's data).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `clone` came from `clone_nbl` of this pool, and every MDL added to it since was removed.
    pub unsafe fn free_clone(&self, clone: Nbl) {
        // SAFETY: per the caller, with the flags of the allocation (0).
        unsafe { crate::imports::NdisFreeCloneNetBufferList(clone.into_raw().as_ptr(), 0) };
    }
}

impl Drop for NblPool {
    /// IRQL: <= DISPATCH_LEVEL. Every NBL of the pool must have been freed.
    fn drop(&mut self) {
        // SAFETY: `handle` is a live pool, freed once here.
        unsafe { NdisFreeNetBufferListPool(self.handle) };
    }
}
