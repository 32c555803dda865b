//! NDIS.SYS exports.

use rswan_ndis::miniport::MiniportDriverCharacteristics;
use rswan_ndis::{NdisObjectHeader, NdisStatus, status};

use crate::kernel::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::kernel::miniport::{MiniportRegistration, SIZE_REVISION_2, SIZE_REVISION_3};
use crate::kernel::pool::{self, FREED_FILL, UNINITIALIZED_FILL};
use crate::kernel::sync::{self, Acquire};
use crate::kernel::{caller, deferred, kernel, require_irql_at_most};
use crate::loader::imports::lockword;
use crate::loader::{call_handler, handles, memory};
use crate::report;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        (
            "NdisMRegisterMiniportDriver",
            ndis_m_register_miniport_driver as *const () as usize,
        ),
        (
            "NdisMDeregisterMiniportDriver",
            ndis_m_deregister_miniport_driver as *const () as usize,
        ),
        (
            "NdisAllocateMemoryWithTagPriority",
            ndis_allocate_memory_with_tag_priority as *const () as usize,
        ),
        ("NdisFreeMemory", ndis_free_memory as *const () as usize),
        (
            "NdisFreeMemoryWithTagPriority",
            ndis_free_memory_with_tag_priority as *const () as usize,
        ),
        (
            "NdisAllocateSpinLock",
            ndis_allocate_spin_lock as *const () as usize,
        ),
        (
            "NdisFreeSpinLock",
            ndis_free_spin_lock as *const () as usize,
        ),
        (
            "NdisAcquireSpinLock",
            ndis_acquire_spin_lock as *const () as usize,
        ),
        (
            "NdisReleaseSpinLock",
            ndis_release_spin_lock as *const () as usize,
        ),
        (
            "NdisDprAcquireSpinLock",
            ndis_dpr_acquire_spin_lock as *const () as usize,
        ),
        (
            "NdisDprReleaseSpinLock",
            ndis_dpr_release_spin_lock as *const () as usize,
        ),
        (
            "NdisAllocateIoWorkItem",
            ndis_allocate_io_work_item as *const () as usize,
        ),
        (
            "NdisQueueIoWorkItem",
            ndis_queue_io_work_item as *const () as usize,
        ),
        (
            "NdisFreeIoWorkItem",
            ndis_free_io_work_item as *const () as usize,
        ),
        (
            "NdisSetTimerObject",
            ndis_set_timer_object as *const () as usize,
        ),
        (
            "NdisCancelTimerObject",
            ndis_cancel_timer_object as *const () as usize,
        ),
        (
            "NdisFreeTimerObject",
            ndis_free_timer_object as *const () as usize,
        ),
        (
            "NdisGetSystemUpTimeEx",
            ndis_get_system_up_time_ex as *const () as usize,
        ),
    ]
}

/// WDK: NdisMRegisterMiniportDriver function. IRQL: PASSIVE_LEVEL.
///
/// NDIS copies the characteristics, validates them (kernel::miniport), calls
/// MiniportSetOptions "within the context of" this call, and writes the driver handle.
extern "win64" fn ndis_m_register_miniport_driver(
    _driver_object: usize,
    _registry_path: usize,
    driver_context: usize,
    characteristics: *const u8,
    driver_handle: *mut usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMRegisterMiniportDriver");
    if characteristics.is_null() || driver_handle.is_null() {
        report::violation(
            "NDIS",
            "NdisMRegisterMiniportDriver with a NULL characteristics or handle pointer",
        );
    }
    // SAFETY: the driver passes its NDIS_MINIPORT_DRIVER_CHARACTERISTICS, which starts with
    // an NDIS_OBJECT_HEADER (a bad pointer faults and is reported against this import).
    let header = unsafe { characteristics.cast::<NdisObjectHeader>().read_unaligned() };
    // Copy no more than the header says the driver wrote, and no more than revision 3 holds.
    let mut copy = [0u8; SIZE_REVISION_3 as usize];
    let len = usize::from(header.size).min(copy.len());
    // SAFETY: the driver declares `header.size` readable bytes; `len` is at most that.
    unsafe { std::ptr::copy_nonoverlapping(characteristics, copy.as_mut_ptr(), len) };
    // SAFETY: `copy` is as large as the rswan-ndis structure; its handler fields are
    // Option<fn>, for which every bit pattern read here (zero or an address) is valid.
    let parsed = unsafe {
        copy.as_ptr()
            .cast::<MiniportDriverCharacteristics>()
            .read_unaligned()
    };
    let mut synchronous = [0u8; 8];
    synchronous.copy_from_slice(&copy[SIZE_REVISION_2 as usize..SIZE_REVISION_3 as usize]);
    let registration =
        MiniportRegistration::from_characteristics(&parsed, usize::from_le_bytes(synchronous));
    let handle = handles::next();
    if let Err(rejection) = kernel().register_miniport(registration, handle, driver_context) {
        report::observe("ndis.register_miniport.rejected", &rejection);
        return rejection.status;
    }
    let set_options = registration.handlers.set_options;
    let set_options_status = if set_options == 0 {
        status::SUCCESS
    } else {
        call_handler(set_options, &[handle, driver_context], "MiniportSetOptions") as u32
            as NdisStatus
    };
    match kernel().finish_miniport_registration(set_options_status) {
        Ok(()) => {
            // SAFETY: the driver passes a pointer to its handle variable (checked non-null).
            unsafe { driver_handle.write_unaligned(handle) };
            status::SUCCESS
        }
        Err(rejection) => {
            report::observe("ndis.register_miniport.rejected", &rejection);
            rejection.status
        }
    }
}

/// WDK: NdisMDeregisterMiniportDriver function. IRQL: PASSIVE_LEVEL.
extern "win64" fn ndis_m_deregister_miniport_driver(driver_handle: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMDeregisterMiniportDriver");
    if let Err(message) = kernel().deregister_miniport(driver_handle) {
        report::violation("NDIS", &message);
    }
}

/// WDK: NdisAllocateMemoryWithTagPriority function. IRQL: <= DISPATCH_LEVEL. The memory is
/// not zeroed; NULL on failure.
extern "win64" fn ndis_allocate_memory_with_tag_priority(
    _ndis_handle: usize,
    length: u32,
    tag: u32,
    _priority: u32,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateMemoryWithTagPriority");
    let block = memory::allocate(length as usize, UNINITIALIZED_FILL);
    if block != 0 {
        pool::allocated(block, length as usize, tag, caller());
    }
    block
}

/// WDK: NdisFreeMemory function. IRQL: <= DISPATCH_LEVEL (for nonpaged memory).
extern "win64" fn ndis_free_memory(block: usize, _length: u32, _memory_flags: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeMemory");
    let size = pool::freed(block, None, caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: NdisFreeMemoryWithTagPriority function. IRQL: <= DISPATCH_LEVEL. The tag must be the
/// one the memory was allocated with.
extern "win64" fn ndis_free_memory_with_tag_priority(_ndis_handle: usize, block: usize, tag: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeMemoryWithTagPriority");
    let size = pool::freed(block, Some(tag), caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: NdisAllocateSpinLock function. IRQL: <= DISPATCH_LEVEL.
extern "win64" fn ndis_allocate_spin_lock(lock: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateSpinLock");
    lockword::initialize(lock);
}

/// WDK: NdisFreeSpinLock function. IRQL: <= DISPATCH_LEVEL. The lock must not be held.
extern "win64" fn ndis_free_spin_lock(lock: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeSpinLock");
    let site = caller();
    crate::kernel::checks::enforce(crate::kernel::checks::checks().locks.forget_range(
        lock,
        size_of::<usize>(),
        site,
    ));
}

/// WDK: NdisAcquireSpinLock function. IRQL: <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL and
/// saves the previous IRQL in the lock.
extern "win64" fn ndis_acquire_spin_lock(lock: usize) {
    let saved = sync::before_acquire(lock, caller(), Acquire::Raise, "NdisAcquireSpinLock");
    lockword::take(lock);
    sync::after_acquire();
    lockword::store_old_irql(lock, saved);
}

/// WDK: NdisReleaseSpinLock function. IRQL: DISPATCH_LEVEL; restores the IRQL the lock saved.
extern "win64" fn ndis_release_spin_lock(lock: usize) {
    sync::before_release(lock, caller(), Acquire::Raise, "NdisReleaseSpinLock");
    let saved = lockword::load_old_irql(lock);
    lockword::give(lock);
    sync::lower_to(saved);
}

/// WDK: NdisDprAcquireSpinLock function. IRQL: DISPATCH_LEVEL.
extern "win64" fn ndis_dpr_acquire_spin_lock(lock: usize) {
    sync::before_acquire(
        lock,
        caller(),
        Acquire::AtDispatch,
        "NdisDprAcquireSpinLock",
    );
    lockword::take(lock);
}

/// WDK: NdisDprReleaseSpinLock function. IRQL: DISPATCH_LEVEL.
extern "win64" fn ndis_dpr_release_spin_lock(lock: usize) {
    sync::before_release(
        lock,
        caller(),
        Acquire::AtDispatch,
        "NdisDprReleaseSpinLock",
    );
    lockword::give(lock);
}

/// WDK: NdisAllocateIoWorkItem function. IRQL: <= DISPATCH_LEVEL.
extern "win64" fn ndis_allocate_io_work_item(_ndis_object_handle: usize) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateIoWorkItem");
    deferred::allocate_work_item(caller())
}

/// WDK: NdisQueueIoWorkItem function. IRQL: <= DISPATCH_LEVEL. The routine
/// (NDIS_IO_WORKITEM_FUNCTION) runs at PASSIVE_LEVEL.
extern "win64" fn ndis_queue_io_work_item(work_item: usize, routine: usize, context: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisQueueIoWorkItem");
    deferred::queue_work_item(work_item, routine, context, caller());
}

/// WDK: NdisFreeIoWorkItem function. IRQL: <= DISPATCH_LEVEL.
extern "win64" fn ndis_free_io_work_item(work_item: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeIoWorkItem");
    deferred::free_work_item(work_item, caller());
}

/// WDK: NdisSetTimerObject function. IRQL: <= DISPATCH_LEVEL. Returns TRUE if the timer was
/// already in the timer queue.
extern "win64" fn ndis_set_timer_object(
    timer: usize,
    due_time: i64,
    milliseconds_period: u32,
    function_context: usize,
) -> u8 {
    require_irql_at_most(DISPATCH_LEVEL, "NdisSetTimerObject");
    u8::from(deferred::set_timer(
        timer,
        due_time,
        milliseconds_period,
        function_context,
        caller(),
    ))
}

/// WDK: NdisCancelTimerObject function. IRQL: <= DISPATCH_LEVEL. Returns TRUE if the timer
/// was in the queue.
extern "win64" fn ndis_cancel_timer_object(timer: usize) -> u8 {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCancelTimerObject");
    u8::from(deferred::cancel_timer(timer, caller()))
}

/// WDK: NdisFreeTimerObject function. IRQL: PASSIVE_LEVEL.
extern "win64" fn ndis_free_timer_object(timer: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisFreeTimerObject");
    deferred::free_timer(timer, caller());
}

/// WDK: NdisGetSystemUpTimeEx function. IRQL: any. Milliseconds since the host started.
extern "win64" fn ndis_get_system_up_time_ex(system_up_time: *mut i64) {
    let milliseconds = crate::kernel::up_time().as_millis() as i64;
    // SAFETY: the driver passes a pointer to its LARGE_INTEGER.
    unsafe { system_up_time.write_unaligned(milliseconds) };
}
