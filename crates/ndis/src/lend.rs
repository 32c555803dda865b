//! Received frames lent upward without a copy: an NBL of the driver's own pool whose NET_BUFFER
//! describes part of the memory of a NET_BUFFER the lower binding indicated, and which holds on
//! to that lower NBL until it is freed.
//!
//! Invariants of a lent NBL (one made by [`NblPool::lend`]):
//! - Its one NET_BUFFER starts at the lower NET_BUFFER's `CurrentMdl`, `skip` bytes past
//!   `CurrentMdlOffset`, and spans `length` bytes that lie inside the lower NET_BUFFER's data;
//!   it uses the lower MDLs themselves (no MDL of its own), so the lower NBL must stay with the
//!   driver (not returned) for as long as the lent NBL exists.
//! - `MiniportReserved[0]` holds the lower NBL (owned, unlinked from its chain) and
//!   `MiniportReserved[1]` the owner the caller named (the lower binding), never NULL: the lent
//!   NBL is the driver's own, allocated by its miniport half, so its `MiniportReserved` is the
//!   driver's (WDK: ns-ndis-_net_buffer_list, NET_BUFFER_LIST_MINIPORT_RESERVED). The lower
//!   NBL's own `ProtocolReserved` is not used: NDIS calls ProtocolReceiveNetBufferLists of every
//!   protocol bound for the frame type with the miniport's NBLs ("Receiving Network Data"), and
//!   only one driver can use `ProtocolReserved` (NET_BUFFER_LIST_PROTOCOL_RESERVED).
//! - Frames of the driver's pool that are not lent keep `MiniportReserved[1]` NULL, so
//!   [`is_lent`] tells the two apart.
//! - [`NblPool::end_loan`] frees the lent NBL and hands the lower NBL back to the caller, who
//!   returns it to its binding with `NdisReturnNetBufferLists`, exactly once.
//!
//! IRQL: every function here runs at <= DISPATCH_LEVEL.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use crate::buffer::{NetBuffer, NetBufferList};
use crate::chain::Nbl;
use crate::memory::NblPool;

/// What a lent NBL held: the lower NBL, for `NdisReturnNetBufferLists`, and its owner.
#[derive(Debug)]
pub struct Loan {
    pub lower: Nbl,
    pub owner: NonNull<c_void>,
}

/// Whether `nbl` (of the driver's pool) is a lent one.
///
/// IRQL: any (reads the NBL only).
pub fn is_lent(nbl: &mut Nbl) -> bool {
    !nbl.miniport_reserved()[1].is_null()
}

/// The only NET_BUFFER of `nbl`, or `None` when it has none or several (an NBL of several
/// frames is not lent: each lent NBL holds one lower NBL, returned once).
///
/// IRQL: any (reads the NBL only).
pub fn single_net_buffer(nbl: &mut Nbl) -> Option<&mut NetBuffer> {
    let nb = nbl.first_net_buffer()?;
    nb.data.next.is_null().then_some(nb)
}

/// The whole data of `nb` when it lies in its current MDL, read in place (NdisGetDataBuffer
/// without storage, which maps the MDL and returns NULL when the data is not contiguous there).
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn contiguous_data(nb: &mut NetBuffer) -> Option<&[u8]> {
    let len = nb.data_length();
    if len == 0 {
        return None;
    }
    let raw: *mut NetBuffer = nb;
    // SAFETY: `nb` is a NET_BUFFER the caller may read (it holds `&mut`); NULL storage asks
    // for a pointer into the data itself.
    let data = unsafe { crate::imports::NdisGetDataBuffer(raw, len, ptr::null_mut(), 1, 0) };
    if data.is_null() {
        return None;
    }
    // SAFETY: NDIS returned `len` contiguous readable bytes of the NET_BUFFER's data, which live
    // as long as the NET_BUFFER is borrowed.
    Some(unsafe { core::slice::from_raw_parts(data.cast::<u8>().cast_const(), len as usize) })
}

impl NblPool {
    /// Lends `length` bytes of the one NET_BUFFER of `lower`, from `skip` bytes into its data,
    /// as a new NBL of this pool (see the module invariants); `Err(lower)` gives the lower NBL
    /// back untouched when it has no single NET_BUFFER, the range is not inside its data, or
    /// the pool is out of NBLs.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `lower` is a received NBL the driver may keep (indicated without
    /// NDIS_RECEIVE_FLAGS_RESOURCES and not yet returned), and this pool's NBLs come back
    /// through [`NblPool::end_loan`] (or `free` after checking [`is_lent`]).
    pub unsafe fn lend(
        &self,
        mut lower: Nbl,
        owner: NonNull<c_void>,
        skip: u32,
        length: u32,
    ) -> Result<Nbl, Nbl> {
        let Some(nb) = single_net_buffer(&mut lower) else {
            return Err(lower);
        };
        if skip
            .checked_add(length)
            .is_none_or(|end| end > nb.data_length())
            || length == 0
        {
            return Err(lower);
        }
        let mdl = nb.data.current_mdl;
        let Some(offset) = nb.data.current_mdl_offset.checked_add(skip) else {
            return Err(lower);
        };
        // SAFETY: the range lies inside the lower NET_BUFFER's data (checked above), whose
        // MDLs stay valid while the lower NBL is kept, which is until the lent NBL is freed
        // (it holds the lower NBL).
        let lent = unsafe { self.allocate(mdl, offset, length as usize) };
        let Some(mut lent) = lent else {
            return Err(lower);
        };
        let reserved = lent.miniport_reserved();
        reserved[0] = lower.into_raw().as_ptr().cast();
        reserved[1] = owner.as_ptr();
        Ok(lent)
    }

    /// Frees a lent NBL that came back and hands over what it held.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// `None` only if the reserved slots were overwritten, which the invariants rule out.
    ///
    /// # Safety
    /// `lent` came from [`NblPool::lend`] of this pool.
    pub unsafe fn end_loan(&self, mut lent: Nbl) -> Option<Loan> {
        let reserved = *lent.miniport_reserved();
        *lent.miniport_reserved() = [ptr::null_mut(); 2];
        // SAFETY: the NBL came from this pool's `lend` (caller's guarantee); its NET_BUFFER
        // uses the lower NBL's MDLs, which `free` leaves alone.
        unsafe { self.free(lent) };
        let lower = NonNull::new(reserved[0].cast::<NetBufferList>());
        let owner = NonNull::new(reserved[1]);
        let (lower, owner) = (lower?, owner?);
        // SAFETY: `lend` took ownership of the lower NBL into the reserved slot, and it is
        // taken out once, here, as the lent NBL is freed.
        let lower = unsafe { Nbl::from_raw(lower) };
        Some(Loan { lower, owner })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::buffer::blank;
    use std::boxed::Box;

    fn nb(next: *mut NetBuffer) -> *mut NetBuffer {
        Box::into_raw(Box::new(blank::net_buffer(60, next)))
    }

    fn nbl(first: *mut NetBuffer) -> Nbl {
        let raw = Box::into_raw(Box::new(blank::net_buffer_list(first)));
        // SAFETY: a fresh box owned by the test.
        unsafe { Nbl::from_raw(NonNull::new(raw).unwrap()) }
    }

    fn free(nbl: Nbl, nbs: &[*mut NetBuffer]) {
        for nb in nbs {
            // SAFETY: each came from Box::into_raw in `nb` and is freed once.
            drop(unsafe { Box::from_raw(*nb) });
        }
        // SAFETY: as above, from `nbl`.
        drop(unsafe { Box::from_raw(nbl.into_raw().as_ptr()) });
    }

    #[test]
    fn only_an_nbl_of_one_net_buffer_has_a_single_one() {
        let one = nb(ptr::null_mut());
        let mut single = nbl(one);
        assert!(single_net_buffer(&mut single).is_some());
        let second = nb(ptr::null_mut());
        let first = nb(second);
        let mut double = nbl(first);
        assert!(single_net_buffer(&mut double).is_none());
        let mut empty = nbl(ptr::null_mut());
        assert!(single_net_buffer(&mut empty).is_none());
        free(single, &[one]);
        free(double, &[first, second]);
        free(empty, &[]);
    }

    #[test]
    fn a_frame_is_lent_exactly_when_its_owner_slot_is_set() {
        let mut frame = nbl(ptr::null_mut());
        frame.miniport_reserved()[0] = 0x1000 as *mut c_void;
        assert!(!is_lent(&mut frame), "a copied frame keeps slot 1 NULL");
        frame.miniport_reserved()[1] = 0x2000 as *mut c_void;
        assert!(is_lent(&mut frame));
        *frame.miniport_reserved() = [ptr::null_mut(); 2];
        free(frame, &[]);
    }
}
