//! Call-manager work that NDIS allows only at PASSIVE_LEVEL (NdisMCmCreateVc, NdisMCmDeleteVc:
//! WDK nf-ndis-ndismcmcreatevc, nf-ndis-ndismcmdeletevc) but that the engine may ask for from a
//! DISPATCH_LEVEL path (a PADR or PADT arriving in a receive indication). Such work is queued
//! here and done by an NDIS I/O work item, in order.

use alloc::boxed::Box;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use rswan_engine::ids::{LineId, VcId};
use rswan_engine::lock_order::Adapter as AdapterLevel;
use rswan_engine::sync::{Entry, OrderedLock};
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::imports as ndis;
use rswan_ndis::timer::IoWorkItem;
use rswan_ndis::types::NdisHandle;

use crate::adapter::Adapter;
use crate::egress::DriverEgress;
use crate::platform::NdisPlatform;

/// Work waiting for PASSIVE_LEVEL.
#[derive(Clone, Copy)]
pub enum Deferred {
    /// NdisMCmCreateVc then NdisMCmDispatchIncomingCall for an incoming call.
    Dispatch { vc: VcId, line: LineId },
    /// NdisMCmDeleteVc of a call-manager VC (its handle, taken when the engine deleted it).
    Delete { vc: VcId, handle: NdisHandle },
}

// SAFETY: the handle is an NDIS VC handle, usable from any thread.
unsafe impl Send for Deferred {}

/// More than the VCs of an adapter can ask for at once (each VC asks at most twice).
const CAPACITY: usize = 128;

struct Queue {
    /// A ring of `CAPACITY` slots, in pool memory (2 KB would be a large value to build on the
    /// kernel stack).
    items: Box<[Option<Deferred>]>,
    head: usize,
    len: usize,
}

pub struct DeferredWork {
    queue: OrderedLock<AdapterLevel, Queue, NdisPlatform>,
    item: IoWorkItem,
    scheduled: AtomicBool,
    running: AtomicU32,
}

impl DeferredWork {
    /// IRQL: PASSIVE_LEVEL.
    ///
    /// # Safety
    /// `miniport` is the adapter's handle and outlives the work.
    pub unsafe fn new(miniport: NdisHandle) -> Option<DeferredWork> {
        // SAFETY: per the caller.
        let item = unsafe { IoWorkItem::new(miniport) }?;
        let items = crate::fallible::boxed_slice(CAPACITY, |_| None)?;
        Some(DeferredWork {
            queue: OrderedLock::new(Queue {
                items,
                head: 0,
                len: 0,
            }),
            item,
            scheduled: AtomicBool::new(false),
            running: AtomicU32::new(0),
        })
    }

    /// Queues `work` for the work item; returns it back when the queue is full.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn push(&self, adapter: &Adapter, work: Deferred) -> Result<(), Deferred> {
        {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut queue = entry.ctx().lock(&self.queue);
            if queue.len == CAPACITY {
                return Err(work);
            }
            let tail = (queue.head + queue.len) % CAPACITY;
            queue.items[tail] = Some(work);
            queue.len += 1;
        }
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let context: *const Adapter = adapter;
            // SAFETY: the item is not queued (`scheduled` was false); the adapter outlives it
            // (halt waits in `quiesce`).
            unsafe { self.item.queue(run, context.cast_mut().cast()) };
        }
        Ok(())
    }

    fn pop(&self) -> Option<Deferred> {
        let mut entry = Entry::<NdisPlatform>::new();
        let mut queue = entry.ctx().lock(&self.queue);
        if queue.len == 0 {
            return None;
        }
        let head = queue.head;
        let work = queue.items[head].take();
        queue.head = (head + 1) % CAPACITY;
        queue.len -= 1;
        work
    }

    /// Waits until no work is queued or running; the adapter may go afterwards.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn quiesce(&self) {
        while self.scheduled.load(Ordering::Acquire) || self.running.load(Ordering::Acquire) != 0 {
            // SAFETY: PASSIVE_LEVEL, as this function requires.
            unsafe { ndis::NdisMSleep(100) };
        }
    }
}

/// The work item's routine.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn run(context: *mut c_void, _work_item: NdisHandle) {
    // SAFETY: the context is the adapter, which `quiesce` keeps alive while work is pending.
    let adapter = unsafe { &*context.cast::<Adapter>() };
    let work = &adapter.deferred;
    work.running.fetch_add(1, Ordering::AcqRel);
    // Cleared before draining, so work pushed from now on schedules the item again.
    work.scheduled.store(false, Ordering::Release);
    let mut egress = DriverEgress::passive(adapter);
    while let Some(item) = work.pop() {
        match item {
            Deferred::Dispatch { vc, line } => egress.dispatch_incoming_call(vc, line),
            Deferred::Delete { vc, handle } => {
                // SAFETY: the call manager created this VC with NdisMCmCreateVc and deletes it
                // once, here, at PASSIVE_LEVEL.
                let result = unsafe { ndis::NdisMCmDeleteVc(handle) };
                dbg_print!(level::TRACE, "{vc:?}: deleted -> {result:#x}");
            }
        }
    }
    work.running.fetch_sub(1, Ordering::AcqRel);
}
