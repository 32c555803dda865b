//! NDIS timer objects and I/O work items (WDK: ns-ndis-_ndis_timer_characteristics,
//! nf-ndis-ndisallocatetimerobject, nf-ndis-ndisallocateioworkitem).

use core::ffi::c_void;

use crate::imports::{
    IoWorkItemRoutine, NdisAllocateIoWorkItem, NdisAllocateTimerObject, NdisCancelTimerObject,
    NdisFreeIoWorkItem, NdisFreeTimerObject, NdisQueueIoWorkItem, NdisSetTimerObject,
};
use crate::layout;
use crate::types::{NdisHandle, NdisObjectHeader, NdisStatus, status};

/// `NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS`.
pub const OBJECT_TYPE_TIMER_CHARACTERISTICS: u8 = 0x97;
/// `NDIS_TIMER_CHARACTERISTICS_REVISION_1`.
pub const TIMER_CHARACTERISTICS_REVISION_1: u8 = 1;

/// `NDIS_TIMER_FUNCTION`. IRQL: DISPATCH_LEVEL.
pub type TimerFunction = unsafe extern "system" fn(
    system_specific1: *mut c_void,
    function_context: *mut c_void,
    system_specific2: *mut c_void,
    system_specific3: *mut c_void,
);

/// `NDIS_TIMER_CHARACTERISTICS`, revision 1.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TimerCharacteristics {
    pub header: NdisObjectHeader,
    pub allocation_tag: u32,
    pub timer_function: Option<TimerFunction>,
    pub function_context: *mut c_void,
}

layout!(TimerCharacteristics = "_NDIS_TIMER_CHARACTERISTICS", size 16 / 24 {
    header = "Header" @ 0 / 0,
    allocation_tag = "AllocationTag" @ 4 / 4,
    timer_function = "TimerFunction" @ 8 / 8,
    function_context = "FunctionContext" @ 12 / 16,
});

/// `NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1`.
pub const SIZEOF_TIMER_CHARACTERISTICS_REVISION_1: usize =
    crate::size_through!(TimerCharacteristics, function_context);

/// An NDIS timer object; freed (after a cancel) on drop.
#[derive(Debug)]
pub struct Timer {
    handle: NdisHandle,
}

// SAFETY: an NDIS timer object may be set and cancelled from any processor.
unsafe impl Send for Timer {}
// SAFETY: as above; NDIS serialises the operations on one timer object.
unsafe impl Sync for Timer {}

impl Timer {
    /// Allocates a timer that calls `function(.., context, ..)` at DISPATCH_LEVEL when it fires.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a miniport adapter, miniport driver or protocol driver handle; `context`
    /// stays valid for `function` until the timer is dropped (the drop cancels it and frees it,
    /// which waits for a running callback to finish).
    pub unsafe fn new(
        ndis_handle: NdisHandle,
        tag: u32,
        function: TimerFunction,
        context: *mut c_void,
    ) -> Result<Timer, NdisStatus> {
        let characteristics = TimerCharacteristics {
            header: NdisObjectHeader::new(
                OBJECT_TYPE_TIMER_CHARACTERISTICS,
                TIMER_CHARACTERISTICS_REVISION_1,
                SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
            ),
            allocation_tag: tag,
            timer_function: Some(function),
            function_context: context,
        };
        let mut handle: NdisHandle = core::ptr::null_mut();
        // SAFETY: the characteristics are complete and NDIS copies them; the caller vouches
        // for the handle; `handle` is a valid out pointer.
        let result = unsafe { NdisAllocateTimerObject(ndis_handle, &characteristics, &mut handle) };
        if result == status::SUCCESS {
            Ok(Timer { handle })
        } else {
            Err(result)
        }
    }

    /// (Re)arms the timer to fire once, `milliseconds` from now. Returns whether it was already
    /// queued (and is now re-armed).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_once_ms(&self, milliseconds: u32) -> bool {
        // Negative due times are relative, in 100 ns units.
        let due = -(i64::from(milliseconds) * 10_000);
        // SAFETY: `handle` is a live timer object; a null context keeps the one given at
        // allocation.
        unsafe { NdisSetTimerObject(self.handle, due, 0, core::ptr::null_mut()) != 0 }
    }

    /// Arms the timer to fire every `milliseconds`, the first time `milliseconds` from now.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_periodic_ms(&self, milliseconds: u32) -> bool {
        let due = -(i64::from(milliseconds) * 10_000);
        // SAFETY: `handle` is a live timer object; a null context keeps the one given at
        // allocation.
        unsafe { NdisSetTimerObject(self.handle, due, milliseconds, core::ptr::null_mut()) != 0 }
    }

    /// Cancels the timer and returns once a callback already running has finished
    /// (KeFlushQueuedDpcs): after this the callback's context may go.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn cancel_and_wait(&self) {
        self.cancel();
        // SAFETY: no precondition beyond PASSIVE_LEVEL, which this function requires.
        unsafe { crate::imports::KeFlushQueuedDpcs() };
    }

    /// Cancels the timer if it is queued; returns whether it was.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn cancel(&self) -> bool {
        // SAFETY: `handle` is a live timer object.
        unsafe { NdisCancelTimerObject(self.handle) != 0 }
    }
}

impl Drop for Timer {
    /// IRQL: PASSIVE_LEVEL (NdisFreeTimerObject).
    fn drop(&mut self) {
        self.cancel();
        // SAFETY: `handle` is a live timer object, freed exactly once, here.
        unsafe { NdisFreeTimerObject(self.handle) };
    }
}

/// An NDIS I/O work item: runs a routine at PASSIVE_LEVEL in a system thread.
#[derive(Debug)]
pub struct IoWorkItem {
    handle: NdisHandle,
}

// SAFETY: a work item may be queued from any processor.
unsafe impl Send for IoWorkItem {}
// SAFETY: as above.
unsafe impl Sync for IoWorkItem {}

impl IoWorkItem {
    /// Allocates a work item, or `None` when out of memory.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `ndis_object_handle` is a miniport adapter or protocol binding handle (or a driver
    /// handle) that outlives the work item.
    pub unsafe fn new(ndis_object_handle: NdisHandle) -> Option<IoWorkItem> {
        // SAFETY: the caller vouches for the handle.
        let handle = unsafe { NdisAllocateIoWorkItem(ndis_object_handle) };
        (!handle.is_null()).then(|| IoWorkItem { handle })
    }

    /// Queues `routine(context, ..)`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    ///
    /// # Safety
    /// The item is not queued already; `context` stays valid until `routine` has run; the item
    /// is not dropped before `routine` has started.
    pub unsafe fn queue(&self, routine: IoWorkItemRoutine, context: *mut c_void) {
        // SAFETY: `handle` is a live work item; the caller covers queueing and the context.
        unsafe { NdisQueueIoWorkItem(self.handle, routine, context) };
    }
}

impl Drop for IoWorkItem {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        // SAFETY: `handle` is a live work item, freed exactly once, here.
        unsafe { NdisFreeIoWorkItem(self.handle) };
    }
}
