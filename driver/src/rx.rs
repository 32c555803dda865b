//! The driver's own receive NBLs: a frame to indicate up a VC is copied into a buffer of the
//! driver's, described by an MDL and an NBL of the driver's pool, so NDISWAN's sends and the
//! lower adapter's receives go back to their owners at once and never travel up another VC.
//! `MiniportReturnNetBufferLists` gives them back here.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use rswan_ndis::chain::Nbl;
use rswan_ndis::imports::{NdisAllocateMdl, NdisFreeMdl};
use rswan_ndis::memory::{NblPool, PoolBox};
use rswan_ndis::types::NdisHandle;

use crate::POOL_TAG;

/// The largest frame a receive buffer holds: a PPP frame of the largest Ethernet payload, and
/// room to spare (WDK: OID_WAN_CO_GET_INFO asks miniports to accept 32 bytes beyond
/// MaxFrameSize).
pub const RX_BUFFER_BYTES: usize = 1600;

struct RxBuffer {
    bytes: [u8; RX_BUFFER_BYTES],
}

/// Allocates receive NBLs and frees them when they come back.
pub struct RxPool {
    ndis_handle: NdisHandle,
    nbls: NblPool,
}

// SAFETY: the handle is an NDIS miniport handle usable from any processor, and the pool is Sync.
unsafe impl Send for RxPool {}
// SAFETY: as above; every operation goes through NDIS functions callable concurrently.
unsafe impl Sync for RxPool {}

impl RxPool {
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `miniport_handle` is the adapter's miniport handle and outlives the pool.
    pub unsafe fn new(miniport_handle: NdisHandle) -> Option<RxPool> {
        // SAFETY: forwarded from the caller.
        let nbls = unsafe { NblPool::new(miniport_handle, POOL_TAG, 0) }?;
        Some(RxPool {
            ndis_handle: miniport_handle,
            nbls,
        })
    }

    /// A receive NBL holding a copy of `fill`'s frame: `fill` writes into the buffer and returns
    /// the length, or `None` when the frame does not fit. `None` also when out of memory.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn take(&self, fill: impl FnOnce(&mut [u8]) -> Option<usize>) -> Option<Nbl> {
        let blank = RxBuffer {
            bytes: [0; RX_BUFFER_BYTES],
        };
        // SAFETY: `ndis_handle` is the live miniport handle (invariant of `new`).
        let mut buffer = unsafe { PoolBox::new(self.ndis_handle, POOL_TAG, blank) }.ok()?;
        let len = fill(&mut buffer.bytes)?;
        if len == 0 || len > RX_BUFFER_BYTES {
            return None;
        }
        let data = buffer.bytes.as_mut_ptr().cast::<c_void>();
        // SAFETY: `data` addresses `len` bytes of the buffer, which lives until `give_back`.
        let mdl = unsafe { NdisAllocateMdl(self.ndis_handle, data, len as u32) };
        if mdl.is_null() {
            return None;
        }
        // SAFETY: the MDL describes `len` bytes that stay valid until the NBL is freed.
        let Some(mut nbl) = (unsafe { self.nbls.allocate(mdl, 0, len) }) else {
            // SAFETY: the MDL was allocated above and is used by nothing else.
            unsafe { NdisFreeMdl(mdl) };
            return None;
        };
        nbl.miniport_reserved()[0] = buffer.into_raw().as_ptr().cast();
        Some(nbl)
    }

    /// Frees a receive NBL that came back (returned by NDISWAN or dropped by the engine), with
    /// its MDL and buffer.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `nbl` came from [`RxPool::take`] of this pool.
    pub unsafe fn give_back(&self, mut nbl: Nbl) {
        let buffer = nbl.miniport_reserved()[0].cast::<RxBuffer>();
        let mdl = nbl.first_mdl_chain();
        nbl.miniport_reserved()[0] = ptr::null_mut();
        // SAFETY: the NBL came from this pool's `take` (caller's guarantee).
        unsafe { self.nbls.free(nbl) };
        if !mdl.is_null() {
            // SAFETY: `take` allocated this MDL for the NBL just freed; nothing else uses it.
            unsafe { NdisFreeMdl(mdl) };
        }
        if let Some(buffer) = NonNull::new(buffer) {
            // SAFETY: `take` stored this `PoolBox<RxBuffer>` pointer; it is taken back once.
            drop(unsafe { PoolBox::from_raw(buffer) });
        }
    }
}
