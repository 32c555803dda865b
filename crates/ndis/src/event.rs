//! NDIS events (WDK: nf-ndis-ndisinitializeevent, nf-ndis-ndissetevent, nf-ndis-ndiswaitevent):
//! how a PASSIVE_LEVEL entry point (MiniportHaltEx) waits for a completion that arrives on
//! another thread.

use core::cell::UnsafeCell;

use crate::imports::{NdisInitializeEvent, NdisResetEvent, NdisSetEvent, NdisWaitEvent};
use crate::layout;
use crate::memory::PoolBox;
use crate::types::{ListEntry, NdisHandle};

/// `DISPATCHER_HEADER`, as an opaque header: its first union is four bytes of type and flags.
#[repr(C)]
#[derive(Debug)]
pub struct DispatcherHeader {
    pub lock: i32,
    pub signal_state: i32,
    pub wait_list_head: ListEntry,
}

/// `KEVENT`.
#[repr(C)]
#[derive(Debug)]
pub struct Kevent {
    pub header: DispatcherHeader,
}

layout!(Kevent = "_KEVENT", size 16 / 24 {
    header = "Header" @ 0 / 0,
});

/// `NDIS_EVENT`.
#[repr(C)]
#[derive(Debug)]
pub struct NdisEvent {
    pub event: Kevent,
}

layout!(NdisEvent = "_NDIS_EVENT", size 16 / 24 {
    event = "Event" @ 0 / 0,
});

/// An initialised NDIS event in pool memory. A `KEVENT` links to itself (its wait list head),
/// so it must never move once initialised: it lives in its own allocation, and this handle may
/// move freely.
pub struct Event {
    raw: PoolBox<UnsafeCell<NdisEvent>>,
}

// SAFETY: NDIS events are made to be set on one processor and waited on from another.
unsafe impl Send for Event {}
// SAFETY: as above; every operation goes through NDIS, which synchronises them.
unsafe impl Sync for Event {}

impl Event {
    /// A new, not signalled event, or `None` when out of memory.
    ///
    /// IRQL: PASSIVE_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a miniport adapter, miniport driver or protocol driver handle.
    pub unsafe fn new(ndis_handle: NdisHandle, tag: u32) -> Option<Event> {
        let blank = UnsafeCell::new(NdisEvent {
            event: Kevent {
                header: DispatcherHeader {
                    lock: 0,
                    signal_state: 0,
                    wait_list_head: ListEntry {
                        flink: core::ptr::null_mut(),
                        blink: core::ptr::null_mut(),
                    },
                },
            },
        });
        // SAFETY: the caller vouches for the handle.
        let raw = unsafe { PoolBox::new(ndis_handle, tag, blank) }.ok()?;
        // SAFETY: the event is at its final address (its own pool allocation) and not yet
        // visible to anyone else.
        unsafe { NdisInitializeEvent(raw.get()) };
        Some(Event { raw })
    }

    fn ptr(&self) -> *mut NdisEvent {
        self.raw.get()
    }

    /// Signals the event, releasing its waiter.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set(&self) {
        // SAFETY: the event was initialised by `new` and lives as long as `self`.
        unsafe { NdisSetEvent(self.ptr()) };
    }

    /// Returns the event to the not-signalled state.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn reset(&self) {
        // SAFETY: as in `set`.
        unsafe { NdisResetEvent(self.ptr()) };
    }

    /// Waits until the event is signalled, or `timeout_ms` milliseconds (0: no limit). Returns
    /// whether it was signalled.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn wait(&self, timeout_ms: u32) -> bool {
        // SAFETY: as in `set`; the caller is at PASSIVE_LEVEL, as the signature documents.
        unsafe { NdisWaitEvent(self.ptr(), timeout_ms) != 0 }
    }
}

impl core::fmt::Debug for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Event({:p})", self.ptr())
    }
}
