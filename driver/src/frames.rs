//! The driver's own frames, described by an MDL (or a lower NET_BUFFER's MDLs) and an NBL of the
//! driver's pool. A frame to indicate up a VC is either
//! - **lent**: the PPPoE payload of a received session frame, described in place in the lower
//!   adapter's buffer (rswan_ndis::lend), when the lower binding let the driver keep the NBL
//!   (no NDIS_RECEIVE_FLAGS_RESOURCES) and the frame qualifies (see
//!   `Transport::receive_owned`); the lower NBL goes back to its binding when the frame comes
//!   back here; or
//! - **copied** into a buffer of the driver's: every other received frame, and loopback frames.
//!
//! Discovery frames to send on a lower binding are copied too. So NDISWAN's sends and the lower
//! adapter's copied receives go back to their owners at once and never travel up another VC.
//! Frames come back here: received ones through `MiniportReturnNetBufferLists` (or the engine
//! dropping them: a closing VC, an unknown session), sent ones through
//! `ProtocolSendNetBufferListsComplete`.

use core::ffi::c_void;
use core::ops::Range;
use core::ptr::{self, NonNull};

use rswan_ndis::chain::Nbl;
use rswan_ndis::imports::{NdisAllocateMdl, NdisFreeMdl};
use rswan_ndis::lend;
use rswan_ndis::memory::{NblPool, PoolBox};
use rswan_ndis::types::NdisHandle;

use crate::POOL_TAG;
use crate::lower::{self, Binding};

/// The largest frame a buffer holds: an Ethernet frame of the largest payload, and room to
/// spare (WDK: OID_WAN_CO_GET_INFO asks miniports to accept 32 bytes beyond MaxFrameSize).
pub const FRAME_BUFFER_BYTES: usize = 1600;

struct FrameBuffer {
    bytes: [u8; FRAME_BUFFER_BYTES],
}

/// Allocates the driver's frame NBLs and frees them when they come back.
pub struct FramePool {
    ndis_handle: NdisHandle,
    nbls: NblPool,
}

// SAFETY: the handle is an NDIS miniport handle usable from any processor, and the pool is Sync.
unsafe impl Send for FramePool {}
// SAFETY: as above; every operation goes through NDIS functions callable concurrently.
unsafe impl Sync for FramePool {}

impl FramePool {
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `miniport_handle` is the adapter's miniport handle and outlives the pool.
    pub unsafe fn new(miniport_handle: NdisHandle) -> Option<FramePool> {
        // SAFETY: forwarded from the caller.
        let nbls = unsafe { NblPool::new(miniport_handle, POOL_TAG, 0, true) }?;
        Some(FramePool {
            ndis_handle: miniport_handle,
            nbls,
        })
    }

    /// An NBL holding a frame `fill` writes into the buffer: `fill` returns the range of the
    /// buffer the NBL's data is (a received PPPoE frame starts past its headers), or `None`
    /// when the frame does not fit. `None` also when out of memory.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn take(&self, fill: impl FnOnce(&mut [u8]) -> Option<Range<usize>>) -> Option<Nbl> {
        let blank = FrameBuffer {
            bytes: [0; FRAME_BUFFER_BYTES],
        };
        // SAFETY: `ndis_handle` is the live miniport handle (invariant of `new`).
        let mut buffer = unsafe { PoolBox::new(self.ndis_handle, POOL_TAG, blank) }.ok()?;
        let range = fill(&mut buffer.bytes)?;
        if range.is_empty() || range.end > FRAME_BUFFER_BYTES {
            return None;
        }
        let data = buffer.bytes.as_mut_ptr().cast::<c_void>();
        // SAFETY: `data` addresses `range.end` bytes of the buffer, which lives until
        // `give_back`.
        let mdl = unsafe { NdisAllocateMdl(self.ndis_handle, data, range.end as u32) };
        if mdl.is_null() {
            return None;
        }
        // SAFETY: the MDL describes `range.end` bytes that stay valid until the NBL is freed.
        let allocated = unsafe { self.nbls.allocate(mdl, range.start as u32, range.len()) };
        let Some(mut nbl) = allocated else {
            // SAFETY: the MDL was allocated above and is used by nothing else.
            unsafe { NdisFreeMdl(mdl) };
            return None;
        };
        nbl.miniport_reserved()[0] = buffer.into_raw().as_ptr().cast();
        Some(nbl)
    }

    /// Lends `length` bytes of the received `lower` NBL's frame, from `skip` bytes in, as a
    /// frame of this pool that remembers `binding` (rswan_ndis::lend); `Err(lower)` when it
    /// cannot. The caller has counted the loan on the binding (`Binding::begin_lend`).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `lower` was indicated on `binding` without NDIS_RECEIVE_FLAGS_RESOURCES and is not
    /// returned; `binding` stays alive while the loan is counted on it.
    pub unsafe fn lend(
        &self,
        lower: Nbl,
        binding: &Binding,
        skip: u32,
        length: u32,
    ) -> Result<Nbl, Nbl> {
        let owner = NonNull::from(binding).cast();
        // SAFETY: forwarded from the caller; every NBL of this pool comes back through
        // `give_back`, which ends a loan.
        unsafe { self.nbls.lend(lower, owner, skip, length) }
    }

    /// Frees a frame NBL that came back (returned by NDISWAN, dropped by the engine, or sent),
    /// with its MDL and buffer; a lent frame's lower NBL goes back to its binding, with
    /// NDIS_RETURN_FLAGS_DISPATCH_LEVEL when `at_dispatch` (true only when the caller knows it
    /// runs at DISPATCH_LEVEL: WDK NdisReturnNetBufferLists, "Dispatch IRQL Tracking").
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `nbl` came from [`FramePool::take`] or [`FramePool::lend`] of this pool.
    pub unsafe fn give_back(&self, mut nbl: Nbl, at_dispatch: bool) {
        if lend::is_lent(&mut nbl) {
            // SAFETY: a lent frame of this pool came from `lend` (caller's guarantee).
            match unsafe { self.nbls.end_loan(nbl) } {
                // SAFETY: the owner `lend` stored is the binding, alive while its loan counts.
                Some(loan) => unsafe { lower::return_lent(loan, at_dispatch) },
                None => rswan_ndis::dbg_print!(
                    rswan_ndis::debug::level::ERROR,
                    "a lent frame lost its lower NBL"
                ),
            }
            return;
        }
        let buffer = nbl.miniport_reserved()[0].cast::<FrameBuffer>();
        let mdl = nbl.first_mdl_chain();
        nbl.miniport_reserved()[0] = ptr::null_mut();
        // SAFETY: the NBL came from this pool's `take` (caller's guarantee).
        unsafe { self.nbls.free(nbl) };
        if !mdl.is_null() {
            // SAFETY: `take` allocated this MDL for the NBL just freed; nothing else uses it.
            unsafe { NdisFreeMdl(mdl) };
        }
        if let Some(buffer) = NonNull::new(buffer) {
            // SAFETY: `take` stored this `PoolBox<FrameBuffer>` pointer; it is taken back once.
            drop(unsafe { PoolBox::from_raw(buffer) });
        }
    }
}
