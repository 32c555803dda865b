//! Owned `NET_BUFFER_LIST`s and chains of them.
//!
//! NDIS passes NBLs as singly-linked chains (`NET_BUFFER_LIST_NEXT_NBL`) whose ownership moves
//! with the call: a send handed to the miniport belongs to it until it completes the NBL, a
//! received NBL to the protocol until it returns it. [`Nbl`] is that ownership as a value: it is
//! not `Copy`, so an NBL cannot be completed twice without an `unsafe` re-creation, and
//! [`NblChain`] is an owned queue of them (O(1) push at both ends, pop at the front).
//!
//! Nothing here calls NDIS, so every function may run at any IRQL <= DISPATCH_LEVEL.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

use crate::buffer::{Mdl, NetBuffer, NetBufferList};
use crate::types::NdisStatus;

/// One `NET_BUFFER_LIST` the driver owns, unlinked from any chain.
#[derive(Debug)]
pub struct Nbl(NonNull<NetBufferList>);

// SAFETY: ownership of an NBL may pass between processors; NDIS does exactly that.
unsafe impl Send for Nbl {}

impl Nbl {
    /// Takes ownership of one NBL and unlinks it (its `Next` becomes NULL).
    ///
    /// # Safety
    /// `nbl` is a valid NBL that the caller owns (NDIS gave it to the driver, or the driver
    /// allocated it) and nothing else will use it until it leaves through [`Nbl::into_raw`].
    pub unsafe fn from_raw(nbl: NonNull<NetBufferList>) -> Nbl {
        // SAFETY: the caller guarantees the NBL is valid and exclusively ours.
        unsafe { (*nbl.as_ptr()).next = ptr::null_mut() };
        Nbl(nbl)
    }

    /// Gives up ownership, for a call that hands the NBL back to NDIS.
    pub fn into_raw(self) -> NonNull<NetBufferList> {
        let nbl = self.0;
        core::mem::forget(self);
        nbl
    }

    /// The NBL's address, for diagnostics and identity checks only.
    pub fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }

    /// The NBL for an NDIS call that borrows it (the NBL stays owned).
    pub fn as_ptr(&mut self) -> *mut NetBufferList {
        self.0.as_ptr()
    }

    /// `ParentNetBufferList`: the original of a clone.
    pub fn parent(&self) -> *mut NetBufferList {
        self.get().parent_net_buffer_list
    }

    fn get(&self) -> &NetBufferList {
        // SAFETY: `Nbl` owns a valid NBL (invariant of `from_raw`).
        unsafe { self.0.as_ref() }
    }

    fn get_mut(&mut self) -> &mut NetBufferList {
        // SAFETY: `Nbl` owns a valid NBL exclusively (invariant of `from_raw`).
        unsafe { self.0.as_mut() }
    }

    /// `NET_BUFFER_LIST_STATUS`.
    pub fn status(&self) -> NdisStatus {
        self.get().status
    }

    /// Sets `NET_BUFFER_LIST_STATUS`, as every send completion must.
    pub fn set_status(&mut self, status: NdisStatus) {
        self.get_mut().status = status;
    }

    /// `SourceHandle`: for a CoNDIS receive indication it must be the VC handle.
    pub fn set_source_handle(&mut self, handle: crate::types::NdisHandle) {
        self.get_mut().source_handle = handle;
    }

    /// The NET_BUFFERs of the NBL, first to last.
    pub fn net_buffers(&self) -> NetBuffers<'_> {
        NetBuffers {
            next: self.get().first_net_buffer,
            _nbl: core::marker::PhantomData,
        }
    }

    /// The first NET_BUFFER, which is the whole packet for the NBLs of a WAN VC and of the
    /// driver's own pool.
    pub fn first_net_buffer(&mut self) -> Option<&mut NetBuffer> {
        // SAFETY: an owned NBL's NET_BUFFERs belong to it, and `&mut self` is exclusive.
        unsafe { self.get_mut().first_net_buffer.as_mut() }
    }

    /// `MiniportReserved`: two pointers of the owner's own, in an NBL the miniport allocated.
    pub fn miniport_reserved(&mut self) -> &mut [*mut c_void; 2] {
        &mut self.get_mut().miniport_reserved.0
    }

    /// `ProtocolReserved`: four pointers of the sender's own, in an NBL the protocol allocated.
    pub fn protocol_reserved(&mut self) -> &mut [*mut c_void; 4] {
        &mut self.get_mut().protocol_reserved.0
    }

    /// The NET_BUFFERs of the NBL, first to last, to move their data starts (each NET_BUFFER
    /// of a send is one frame).
    pub fn net_buffers_mut(&mut self) -> NetBuffersMut<'_> {
        NetBuffersMut {
            next: self.get_mut().first_net_buffer,
            _nbl: core::marker::PhantomData,
        }
    }

    /// [`retreat_net_buffer`] on the first NET_BUFFER.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn retreat(&mut self, bytes: u32) -> Result<&mut [u8], NdisStatus> {
        let nb = self
            .first_net_buffer()
            .ok_or(crate::types::status::INVALID_DATA)?;
        retreat_net_buffer(nb, bytes)
    }

    /// [`advance_net_buffer`] on the first NET_BUFFER.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn advance(&mut self, bytes: u32) {
        if let Some(nb) = self.first_net_buffer() {
            advance_net_buffer(nb, bytes);
        }
    }

    /// The MDL chain of the first NET_BUFFER (NULL when there is none).
    pub fn first_mdl_chain(&mut self) -> *mut Mdl {
        self.first_net_buffer()
            .map_or(ptr::null_mut(), |nb| nb.data.mdl_chain)
    }

    /// Copies the data of the first NET_BUFFER into `out` (see [`copy_net_buffer`]); `None`
    /// also when there is no NET_BUFFER.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn copy_first_net_buffer(&mut self, out: &mut [u8]) -> Option<usize> {
        copy_net_buffer(self.first_net_buffer()?, out)
    }

    /// Total data bytes of all NET_BUFFERs.
    pub fn data_length(&self) -> u64 {
        self.net_buffers()
            .map(|nb| u64::from(nb.data_length()))
            .sum()
    }
}

impl Drop for Nbl {
    /// An NBL must leave through [`Nbl::into_raw`] (completed, returned or freed): dropping it
    /// would lose it, which NDIS never forgives. Debug builds and host tests catch that here.
    fn drop(&mut self) {
        debug_assert!(
            false,
            "NBL {:#x} dropped instead of handed back",
            self.addr()
        );
    }
}

/// Moves a NET_BUFFER's data start back by `bytes` (NdisRetreatNetBufferDataStart, which adds
/// an MDL when there is no room in front) and returns those bytes, contiguous, for the caller
/// to fill with a header.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn retreat_net_buffer(nb: &mut NetBuffer, bytes: u32) -> Result<&mut [u8], NdisStatus> {
    let nb: *mut NetBuffer = nb;
    // SAFETY: `nb` is a NET_BUFFER the caller owns (it holds `&mut`); NULL asks for NDIS's own
    // MDL allocator.
    let status =
        unsafe { crate::imports::NdisRetreatNetBufferDataStart(nb, bytes, 0, ptr::null_mut()) };
    if status != crate::types::status::SUCCESS {
        return Err(status);
    }
    // SAFETY: as above; NULL storage asks for a pointer into the data itself.
    let head = unsafe { crate::imports::NdisGetDataBuffer(nb, bytes, ptr::null_mut(), 1, 0) };
    if head.is_null() {
        // Not contiguous: undo the retreat so the NET_BUFFER is as it was.
        // SAFETY: as above; TRUE frees an MDL the retreat may have added.
        unsafe { crate::imports::NdisAdvanceNetBufferDataStart(nb, bytes, 1, ptr::null_mut()) };
        return Err(crate::types::status::RESOURCES);
    }
    // SAFETY: NDIS returned `bytes` contiguous bytes at the new data start, which belong to the
    // NET_BUFFER and are not otherwise referenced while it is borrowed.
    Ok(unsafe { core::slice::from_raw_parts_mut(head.cast::<u8>(), bytes as usize) })
}

/// Undoes [`retreat_net_buffer`] (or drops bytes from the front): moves the data start forward
/// by `bytes` and frees an MDL a retreat added, if any.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn advance_net_buffer(nb: &mut NetBuffer, bytes: u32) {
    let nb: *mut NetBuffer = nb;
    // SAFETY: `nb` is a NET_BUFFER the caller owns, whose data holds at least `bytes` bytes.
    unsafe { crate::imports::NdisAdvanceNetBufferDataStart(nb, bytes, 1, ptr::null_mut()) };
}

/// Copies a NET_BUFFER's data into `out` through `NdisGetDataBuffer`, which maps the MDLs;
/// returns its length, or `None` when the data does not fit.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn copy_net_buffer(nb: &mut NetBuffer, out: &mut [u8]) -> Option<usize> {
    let len = nb.data_length() as usize;
    if len > out.len() {
        return None;
    }
    if len == 0 {
        return Some(0);
    }
    let nb: *mut NetBuffer = nb;
    // SAFETY: `nb` is a NET_BUFFER the caller may read (it holds `&mut`); `out` has room for
    // `len` bytes, so NDIS may copy the data there when it is not contiguous.
    let data =
        unsafe { crate::imports::NdisGetDataBuffer(nb, len as u32, out.as_mut_ptr().cast(), 1, 0) };
    let data = data.cast::<u8>().cast_const();
    if data.is_null() {
        return None;
    }
    if data != out.as_ptr() {
        // SAFETY: NDIS returned `len` contiguous readable bytes of the NET_BUFFER, which cannot
        // overlap `out` (the caller's own buffer).
        unsafe { ptr::copy_nonoverlapping(data, out.as_mut_ptr(), len) };
    }
    Some(len)
}

/// Iterator over the NET_BUFFERs of an [`Nbl`].
#[derive(Debug)]
pub struct NetBuffers<'a> {
    next: *mut NetBuffer,
    _nbl: core::marker::PhantomData<&'a Nbl>,
}

impl<'a> Iterator for NetBuffers<'a> {
    type Item = &'a NetBuffer;

    fn next(&mut self) -> Option<&'a NetBuffer> {
        // SAFETY: the NET_BUFFERs of an owned NBL are valid for as long as it is borrowed.
        let nb = unsafe { self.next.as_ref() }?;
        self.next = nb.data.next;
        Some(nb)
    }
}

/// Iterator over the NET_BUFFERs of an [`Nbl`], for changes.
#[derive(Debug)]
pub struct NetBuffersMut<'a> {
    next: *mut NetBuffer,
    _nbl: core::marker::PhantomData<&'a mut Nbl>,
}

impl<'a> Iterator for NetBuffersMut<'a> {
    type Item = &'a mut NetBuffer;

    fn next(&mut self) -> Option<&'a mut NetBuffer> {
        // SAFETY: the NET_BUFFERs of an owned NBL are valid while it is borrowed mutably, and
        // each is handed out once: the link to the next is read before this one is.
        let nb = unsafe { self.next.as_mut() }?;
        self.next = nb.data.next;
        Some(nb)
    }
}

/// An owned chain of NBLs, in order.
#[derive(Debug, Default)]
pub struct NblChain {
    head: Option<NonNull<NetBufferList>>,
    tail: Option<NonNull<NetBufferList>>,
    len: usize,
}

// SAFETY: the chain owns its NBLs exclusively (see `Nbl`).
unsafe impl Send for NblChain {}

impl NblChain {
    /// An empty chain.
    pub const fn new() -> NblChain {
        NblChain {
            head: None,
            tail: None,
            len: 0,
        }
    }

    /// Takes ownership of a chain NDIS handed over (NULL is the empty chain).
    ///
    /// # Safety
    /// `head` starts a valid, NULL-terminated, acyclic chain of NBLs that the caller owns, and
    /// nothing else will use them until they leave through [`NblChain::into_raw`] or
    /// [`NblChain::pop_front`].
    pub unsafe fn from_raw(head: *mut NetBufferList) -> NblChain {
        let mut chain = NblChain::new();
        let mut next = head;
        while let Some(nbl) = NonNull::new(next) {
            // SAFETY: every element of the chain is a valid NBL (caller's guarantee).
            next = unsafe { (*nbl.as_ptr()).next };
            // SAFETY: as above; the element is now unlinked from the rest and owned by us.
            chain.push_back(unsafe { Nbl::from_raw(nbl) });
        }
        chain
    }

    /// Gives up ownership of the whole chain as a NULL-terminated list (NULL when empty),
    /// for a call that hands it back to NDIS.
    pub fn into_raw(mut self) -> *mut NetBufferList {
        self.tail = None;
        self.len = 0;
        self.head.take().map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one NBL.
    pub fn push_back(&mut self, nbl: Nbl) {
        let nbl = nbl.into_raw();
        match self.tail {
            // SAFETY: `tail` is an NBL the chain owns; linking `nbl` after it keeps the chain
            // NULL-terminated because `nbl` was unlinked when it became an `Nbl`.
            Some(tail) => unsafe { (*tail.as_ptr()).next = nbl.as_ptr() },
            None => self.head = Some(nbl),
        }
        self.tail = Some(nbl);
        self.len += 1;
    }

    /// Prepends one NBL (to put back what was taken from the front).
    pub fn push_front(&mut self, nbl: Nbl) {
        let nbl = nbl.into_raw();
        // SAFETY: `nbl` was owned by the `Nbl` and is now owned by the chain.
        unsafe { (*nbl.as_ptr()).next = self.head.map_or(ptr::null_mut(), NonNull::as_ptr) };
        if self.head.is_none() {
            self.tail = Some(nbl);
        }
        self.head = Some(nbl);
        self.len += 1;
    }

    /// Removes and returns the first NBL, unlinked.
    pub fn pop_front(&mut self) -> Option<Nbl> {
        let head = self.head?;
        // SAFETY: `head` is an NBL the chain owns.
        let next = unsafe { (*head.as_ptr()).next };
        self.head = NonNull::new(next);
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        // SAFETY: `head` is now out of the chain and owned by the caller alone.
        Some(unsafe { Nbl::from_raw(head) })
    }

    /// Moves every NBL of `other` to the end of this chain.
    pub fn append(&mut self, other: &mut NblChain) {
        let Some(other_head) = other.head.take() else {
            return;
        };
        match self.tail {
            // SAFETY: `tail` is owned by this chain and `other_head` starts a chain now owned
            // by it too (taken from `other`, which is emptied below).
            Some(tail) => unsafe { (*tail.as_ptr()).next = other_head.as_ptr() },
            None => self.head = Some(other_head),
        }
        self.tail = other.tail.take();
        self.len += core::mem::take(&mut other.len);
    }

    /// Sets the status of every NBL (before completing the chain).
    pub fn set_status_all(&mut self, status: NdisStatus) {
        let mut next = self.head;
        while let Some(nbl) = next {
            // SAFETY: every element is an NBL the chain owns; `&mut self` is exclusive.
            let nbl = unsafe { &mut *nbl.as_ptr() };
            nbl.status = status;
            next = NonNull::new(nbl.next);
        }
    }
}

impl Drop for NblChain {
    /// Like [`Nbl`]: a chain must be emptied or handed back, never dropped with NBLs in it.
    fn drop(&mut self) {
        debug_assert!(
            self.is_empty(),
            "{} NBLs dropped instead of handed back",
            self.len
        );
    }
}

impl Iterator for NblChain {
    type Item = Nbl;

    fn next(&mut self) -> Option<Nbl> {
        self.pop_front()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::buffer::blank;
    use std::boxed::Box;
    use std::vec::Vec;

    /// NBLs in boxes, linked the way NDIS hands them over; returns the head and the boxes'
    /// addresses in order.
    fn linked(count: usize) -> (*mut NetBufferList, Vec<*mut NetBufferList>) {
        let nbls: Vec<*mut NetBufferList> = (0..count)
            .map(|_| Box::into_raw(Box::new(blank::net_buffer_list(ptr::null_mut()))))
            .collect();
        for pair in nbls.windows(2) {
            // SAFETY: both are live boxes owned by this test.
            unsafe { (*pair[0]).next = pair[1] };
        }
        (nbls.first().copied().unwrap_or(ptr::null_mut()), nbls)
    }

    fn free(nbls: Vec<*mut NetBufferList>) {
        for nbl in nbls {
            // SAFETY: each came from Box::into_raw in `linked` and is freed once.
            drop(unsafe { Box::from_raw(nbl) });
        }
    }

    fn addrs(chain: NblChain) -> Vec<usize> {
        chain.map(|nbl| nbl.into_raw().as_ptr() as usize).collect()
    }

    #[test]
    fn a_chain_from_ndis_keeps_its_order_and_length() {
        let (head, nbls) = linked(3);
        // SAFETY: the test owns the three linked NBLs.
        let chain = unsafe { NblChain::from_raw(head) };
        assert_eq!(chain.len(), 3);
        let expected: Vec<usize> = nbls.iter().map(|p| *p as usize).collect();
        assert_eq!(addrs(chain), expected);
        free(nbls);
    }

    #[test]
    fn a_null_chain_is_empty_and_gives_back_null() {
        // SAFETY: NULL is the empty chain.
        let chain = unsafe { NblChain::from_raw(ptr::null_mut()) };
        assert!(chain.is_empty());
        assert!(chain.into_raw().is_null());
    }

    #[test]
    fn popped_nbls_are_unlinked_and_the_rest_stays_a_chain() {
        let (head, nbls) = linked(3);
        // SAFETY: the test owns the three linked NBLs.
        let mut chain = unsafe { NblChain::from_raw(head) };
        let first = chain.pop_front().unwrap().into_raw();
        // SAFETY: the NBL is still a live box.
        assert!(unsafe { (*nbls[0]).next.is_null() });
        assert_eq!(first.as_ptr(), nbls[0]);
        assert_eq!(chain.len(), 2);
        let raw = chain.into_raw();
        assert_eq!(raw, nbls[1]);
        // SAFETY: live boxes.
        assert_eq!(unsafe { (*nbls[1]).next }, nbls[2]);
        // SAFETY: live boxes.
        assert!(unsafe { (*nbls[2]).next }.is_null());
        free(nbls);
    }

    #[test]
    fn push_front_append_and_status_build_one_null_terminated_chain() {
        let (head_a, a) = linked(2);
        let (head_b, b) = linked(2);
        // SAFETY: the test owns both chains.
        let mut chain_a = unsafe { NblChain::from_raw(head_a) };
        // SAFETY: as above.
        let mut chain_b = unsafe { NblChain::from_raw(head_b) };
        let taken = chain_a.pop_front().unwrap();
        chain_a.append(&mut chain_b);
        assert!(chain_b.is_empty());
        assert!(chain_b.into_raw().is_null());
        chain_a.push_front(taken);
        chain_a.set_status_all(crate::types::status::CLOSING);
        assert_eq!(chain_a.len(), 4);
        let raw = chain_a.into_raw();
        let mut seen = Vec::new();
        let mut next = raw;
        while !next.is_null() {
            // SAFETY: live boxes linked by the chain.
            let nbl = unsafe { &*next };
            assert_eq!(nbl.status, crate::types::status::CLOSING);
            seen.push(next);
            next = nbl.next;
        }
        assert_eq!(seen, [a[0], a[1], b[0], b[1]]);
        free(a);
        free(b);
    }

    #[test]
    fn data_length_adds_every_net_buffer() {
        let second = Box::into_raw(Box::new(blank::net_buffer(40, ptr::null_mut())));
        let first = Box::into_raw(Box::new(blank::net_buffer(1492, second)));
        let nbl = Box::into_raw(Box::new(blank::net_buffer_list(first)));
        // SAFETY: the test owns the NBL and its two NET_BUFFERs.
        let mut owned = unsafe { Nbl::from_raw(NonNull::new(nbl).unwrap()) };
        assert_eq!(owned.data_length(), 1532);
        assert_eq!(owned.net_buffers().count(), 2);
        for nb in owned.net_buffers_mut() {
            nb.data.data_length -= 40;
        }
        let lengths: Vec<u32> = owned.net_buffers().map(|nb| nb.data_length()).collect();
        assert_eq!(lengths, [1452, 0]);
        for nb in owned.net_buffers_mut() {
            nb.data.data_length += 40;
        }
        assert_eq!(owned.first_net_buffer().unwrap().data_length(), 1492);
        owned.set_status(crate::types::status::SUCCESS);
        assert_eq!(owned.status(), 0);
        let raw = owned.into_raw().as_ptr();
        for nb in [first, second] {
            // SAFETY: each came from Box::into_raw above and is freed once.
            drop(unsafe { Box::from_raw(nb) });
        }
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(raw) });
    }
}
