//! NDIS.SYS exports.

use rswan_ndis::buffer::{
    NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NetBufferListPoolParameters, OBJECT_TYPE_DEFAULT,
    SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
};
use rswan_ndis::miniport::MiniportDriverCharacteristics;
use rswan_ndis::protocol::ProtocolDriverCharacteristics;
use rswan_ndis::timer::{
    OBJECT_TYPE_TIMER_CHARACTERISTICS, SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
    TIMER_CHARACTERISTICS_REVISION_1, TimerCharacteristics,
};
use rswan_ndis::{NdisObjectHeader, NdisStatus, status};

use crate::kernel::irql::{DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::kernel::miniport::{MiniportRegistration, SIZE_REVISION_2, SIZE_REVISION_3};
use crate::kernel::pool::{self, FREED_FILL, UNINITIALIZED_FILL};
use crate::kernel::sync::{self, Acquire};
use crate::kernel::{
    RegisteredProtocol, caller, condis, deferred, faults, kernel, packets, protocol,
    require_irql_at_most, sync_event,
};
use crate::loader::imports::lockword;
use crate::loader::{call_handler, guest, handles, memmap, memory};
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
            "NdisRegisterProtocolDriver",
            ndis_register_protocol_driver as *const () as usize,
        ),
        (
            "NdisDeregisterProtocolDriver",
            ndis_deregister_protocol_driver as *const () as usize,
        ),
        (
            "NdisSetOptionalHandlers",
            ndis_set_optional_handlers as *const () as usize,
        ),
        (
            "NdisAllocateNetBufferListPool",
            ndis_allocate_net_buffer_list_pool as *const () as usize,
        ),
        (
            "NdisFreeNetBufferListPool",
            ndis_free_net_buffer_list_pool as *const () as usize,
        ),
        (
            "NdisAllocateNetBufferAndNetBufferList",
            ndis_allocate_net_buffer_and_net_buffer_list as *const () as usize,
        ),
        (
            "NdisFreeNetBufferList",
            ndis_free_net_buffer_list as *const () as usize,
        ),
        (
            "NdisAllocateCloneNetBufferList",
            ndis_allocate_clone_net_buffer_list as *const () as usize,
        ),
        (
            "NdisFreeCloneNetBufferList",
            ndis_free_clone_net_buffer_list as *const () as usize,
        ),
        ("NdisMSleep", ndis_m_sleep as *const () as usize),
        ("NdisAllocateMdl", ndis_allocate_mdl as *const () as usize),
        ("NdisFreeMdl", ndis_free_mdl as *const () as usize),
        (
            "NdisGetDataBuffer",
            ndis_get_data_buffer as *const () as usize,
        ),
        (
            "NdisRetreatNetBufferDataStart",
            ndis_retreat_net_buffer_data_start as *const () as usize,
        ),
        (
            "NdisAdvanceNetBufferDataStart",
            ndis_advance_net_buffer_data_start as *const () as usize,
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
            "NdisInitializeEvent",
            ndis_initialize_event as *const () as usize,
        ),
        ("NdisSetEvent", ndis_set_event as *const () as usize),
        ("NdisResetEvent", ndis_reset_event as *const () as usize),
        ("NdisWaitEvent", ndis_wait_event as *const () as usize),
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
            "NdisAllocateTimerObject",
            ndis_allocate_timer_object as *const () as usize,
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
extern "efiapi" fn ndis_m_register_miniport_driver(
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
extern "efiapi" fn ndis_m_deregister_miniport_driver(driver_handle: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMDeregisterMiniportDriver");
    if let Err(message) = kernel().deregister_miniport(driver_handle) {
        report::violation("NDIS", &message);
    }
}

/// WDK: NdisAllocateMemoryWithTagPriority function. IRQL: <= DISPATCH_LEVEL. The memory is
/// not zeroed; NULL on failure.
extern "efiapi" fn ndis_allocate_memory_with_tag_priority(
    _ndis_handle: usize,
    length: u32,
    tag: u32,
    _priority: u32,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateMemoryWithTagPriority");
    if faults::should_fail("NdisAllocateMemoryWithTagPriority") {
        return 0;
    }
    let block = memory::allocate(length as usize, UNINITIALIZED_FILL);
    if block != 0 {
        pool::allocated(block, length as usize, tag, caller());
    }
    block
}

/// WDK: NdisFreeMemory function. IRQL: <= DISPATCH_LEVEL (for nonpaged memory).
extern "efiapi" fn ndis_free_memory(block: usize, _length: u32, _memory_flags: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeMemory");
    let size = pool::freed(block, None, caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: NdisFreeMemoryWithTagPriority function. IRQL: <= DISPATCH_LEVEL. The tag must be the
/// one the memory was allocated with.
extern "efiapi" fn ndis_free_memory_with_tag_priority(_ndis_handle: usize, block: usize, tag: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeMemoryWithTagPriority");
    let size = pool::freed(block, Some(tag), caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: NdisAllocateSpinLock function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_allocate_spin_lock(lock: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateSpinLock");
    lockword::initialize(lock);
}

/// WDK: NdisFreeSpinLock function. IRQL: <= DISPATCH_LEVEL. The lock must not be held.
extern "efiapi" fn ndis_free_spin_lock(lock: usize) {
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
extern "efiapi" fn ndis_acquire_spin_lock(lock: usize) {
    let saved = sync::before_acquire(lock, caller(), Acquire::Raise, "NdisAcquireSpinLock");
    lockword::take(lock);
    sync::after_acquire();
    lockword::store_old_irql(lock, saved);
}

/// WDK: NdisReleaseSpinLock function. IRQL: DISPATCH_LEVEL; restores the IRQL the lock saved.
extern "efiapi" fn ndis_release_spin_lock(lock: usize) {
    sync::before_release(lock, caller(), Acquire::Raise, "NdisReleaseSpinLock");
    let saved = lockword::load_old_irql(lock);
    lockword::give(lock);
    sync::lower_to(saved);
}

/// WDK: NdisDprAcquireSpinLock function. IRQL: DISPATCH_LEVEL.
extern "efiapi" fn ndis_dpr_acquire_spin_lock(lock: usize) {
    sync::before_acquire(
        lock,
        caller(),
        Acquire::AtDispatch,
        "NdisDprAcquireSpinLock",
    );
    lockword::take(lock);
}

/// WDK: NdisDprReleaseSpinLock function. IRQL: DISPATCH_LEVEL.
extern "efiapi" fn ndis_dpr_release_spin_lock(lock: usize) {
    sync::before_release(
        lock,
        caller(),
        Acquire::AtDispatch,
        "NdisDprReleaseSpinLock",
    );
    lockword::give(lock);
}

/// WDK: NdisAllocateIoWorkItem function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_allocate_io_work_item(_ndis_object_handle: usize) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateIoWorkItem");
    if faults::should_fail("NdisAllocateIoWorkItem") {
        return 0;
    }
    deferred::allocate_work_item(caller())
}

/// WDK: NdisQueueIoWorkItem function. IRQL: <= DISPATCH_LEVEL. The routine
/// (NDIS_IO_WORKITEM_FUNCTION) runs at PASSIVE_LEVEL.
extern "efiapi" fn ndis_queue_io_work_item(work_item: usize, routine: usize, context: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisQueueIoWorkItem");
    deferred::queue_work_item(work_item, routine, context, caller());
}

/// WDK: NdisFreeIoWorkItem function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_free_io_work_item(work_item: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeIoWorkItem");
    deferred::free_work_item(work_item, caller());
}

/// WDK: NdisSetTimerObject function. IRQL: <= DISPATCH_LEVEL. Returns TRUE if the timer was
/// already in the timer queue.
extern "efiapi" fn ndis_set_timer_object(
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
extern "efiapi" fn ndis_cancel_timer_object(timer: usize) -> u8 {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCancelTimerObject");
    u8::from(deferred::cancel_timer(timer, caller()))
}

/// WDK: NdisFreeTimerObject function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_free_timer_object(timer: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisFreeTimerObject");
    deferred::free_timer(timer, caller());
}

/// WDK: NdisGetSystemUpTimeEx function. IRQL: any. Milliseconds since the host started.
extern "efiapi" fn ndis_get_system_up_time_ex(system_up_time: *mut i64) {
    let milliseconds = crate::kernel::up_time().as_millis() as i64;
    // SAFETY: the driver passes a pointer to its LARGE_INTEGER.
    unsafe { system_up_time.write_unaligned(milliseconds) };
}

/// WDK: NdisSetOptionalHandlers function. IRQL: PASSIVE_LEVEL. A miniport calls it from
/// MiniportSetOptions with NDIS_MINIPORT_CO_CHARACTERISTICS or
/// NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS; NDIS copies the structure.
extern "efiapi" fn ndis_set_optional_handlers(
    ndis_handle: usize,
    optional_handlers: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisSetOptionalHandlers");
    if optional_handlers == 0 {
        report::violation("NDIS", "NdisSetOptionalHandlers with a NULL structure");
    }
    // SAFETY: the driver passes one of the documented structures, each an NDIS_OBJECT_HEADER
    // followed by Header.Size bytes.
    let raw = unsafe { guest::copy_structure(optional_handlers, condis::LARGEST) };
    let result = condis::parse(&raw).and_then(|handlers| {
        report::observe(
            "ndis.set_optional_handlers",
            format!("{:#x}", raw.header().object_type),
        );
        kernel().set_optional_handlers(ndis_handle, handlers)
    });
    match result {
        Ok(()) => status::SUCCESS,
        Err(reason) => {
            report::observe("ndis.set_optional_handlers.rejected", &reason);
            status::FAILURE
        }
    }
}

/// Reads a UNICODE_STRING (Length in bytes, Buffer) the driver passed.
///
/// # Safety
/// `string` points to a UNICODE_STRING whose Buffer holds Length bytes.
unsafe fn read_unicode_string(string: usize) -> String {
    // SAFETY: per the contract: USHORT Length, USHORT MaximumLength, then the Buffer pointer
    // at pointer alignment.
    let raw = crate::kernel::raw::Raw(unsafe { guest::copy_in(string, 2 * size_of::<usize>()) });
    let length = usize::from(raw.u16_at(0));
    let buffer = raw.usize_at(size_of::<usize>());
    if buffer == 0 || length == 0 {
        return String::new();
    }
    // SAFETY: per the contract, Buffer holds Length bytes of UTF-16.
    let bytes = unsafe { guest::copy_in(buffer, length) };
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// WDK: NdisRegisterProtocolDriver function. IRQL: PASSIVE_LEVEL. NDIS copies the
/// characteristics and calls ProtocolSetOptions, if any, within this call.
extern "efiapi" fn ndis_register_protocol_driver(
    protocol_driver_context: usize,
    characteristics: usize,
    protocol_handle: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisRegisterProtocolDriver");
    if characteristics == 0 || protocol_handle == 0 {
        report::violation(
            "NDIS",
            "NdisRegisterProtocolDriver with a NULL characteristics or handle pointer",
        );
    }
    // SAFETY: the driver passes its NDIS_PROTOCOL_DRIVER_CHARACTERISTICS.
    let raw = unsafe { guest::copy_structure(characteristics, protocol::SIZE_REVISION_2) };
    let name_at = characteristics + core::mem::offset_of!(ProtocolDriverCharacteristics, name);
    // SAFETY: Name is an NDIS_STRING inside the characteristics.
    let name = unsafe { read_unicode_string(name_at) };
    let registration = match protocol::ProtocolRegistration::parse(&raw, name) {
        Ok(registration) => registration,
        Err(reason) => {
            report::observe("ndis.register_protocol.rejected", &reason);
            return crate::kernel::miniport::STATUS_BAD_CHARACTERISTICS;
        }
    };
    let handle = handles::next();
    let set_options = registration.get("SetOptionsHandler");
    if let Err(reason) = kernel().register_protocol(RegisteredProtocol {
        handle,
        context: protocol_driver_context,
        registration,
    }) {
        report::observe("ndis.register_protocol.rejected", &reason);
        return status::FAILURE;
    }
    if set_options != 0 {
        let set_status = call_handler(
            set_options,
            &[handle, protocol_driver_context],
            "ProtocolSetOptions",
        ) as u32 as NdisStatus;
        if set_status != status::SUCCESS {
            let _ = kernel().deregister_protocol(handle);
            report::observe(
                "ndis.register_protocol.rejected",
                format!("ProtocolSetOptions returned {:#010x}", set_status as u32),
            );
            return set_status;
        }
    }
    // SAFETY: the driver passes a pointer to its handle variable (checked non-null).
    unsafe { guest::write_usize(protocol_handle, handle) };
    status::SUCCESS
}

/// WDK: NdisDeregisterProtocolDriver function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_deregister_protocol_driver(protocol_handle: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisDeregisterProtocolDriver");
    if let Err(message) = kernel().deregister_protocol(protocol_handle) {
        report::violation("NDIS", &message);
    }
}

/// WDK: NdisAllocateTimerObject function. IRQL: <= DISPATCH_LEVEL. The characteristics
/// (NDIS_TIMER_CHARACTERISTICS, revision 1) name the timer function and its default context.
extern "efiapi" fn ndis_allocate_timer_object(
    _ndis_handle: usize,
    characteristics: usize,
    timer_object: usize,
) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateTimerObject");
    if characteristics == 0 || timer_object == 0 {
        report::violation("NDIS", "NdisAllocateTimerObject with a NULL pointer");
    }
    if faults::should_fail("NdisAllocateTimerObject") {
        return status::RESOURCES;
    }
    // SAFETY: the driver passes its NDIS_TIMER_CHARACTERISTICS.
    let raw =
        unsafe { guest::copy_structure(characteristics, SIZEOF_TIMER_CHARACTERISTICS_REVISION_1) };
    let header = raw.header();
    if header.object_type != OBJECT_TYPE_TIMER_CHARACTERISTICS
        || header.revision != TIMER_CHARACTERISTICS_REVISION_1
        || usize::from(header.size) != SIZEOF_TIMER_CHARACTERISTICS_REVISION_1
    {
        report::observe(
            "ndis.allocate_timer.rejected",
            format!("header {header:?} is not NDIS_TIMER_CHARACTERISTICS revision 1"),
        );
        return status::INVALID_PARAMETER;
    }
    let function = raw.usize_at(core::mem::offset_of!(TimerCharacteristics, timer_function));
    if function == 0 {
        report::observe("ndis.allocate_timer.rejected", "TimerFunction is NULL");
        return status::INVALID_PARAMETER;
    }
    let context = raw.usize_at(core::mem::offset_of!(
        TimerCharacteristics,
        function_context
    ));
    let handle = deferred::allocate_timer(function, context, caller());
    // SAFETY: the driver passes a pointer to its NDIS_HANDLE (checked non-null).
    unsafe { guest::write_usize(timer_object, handle) };
    status::SUCCESS
}

/// Stops the scenario with an NDIS rule `message`.
fn ndis_violation(message: &str) -> ! {
    report::violation("NDIS", message)
}

/// WDK: NdisAllocateNetBufferListPool function. IRQL: <= DISPATCH_LEVEL. NULL on failure.
extern "efiapi" fn ndis_allocate_net_buffer_list_pool(
    _ndis_handle: usize,
    parameters: usize,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferListPool");
    if faults::should_fail("NdisAllocateNetBufferListPool") {
        return 0;
    }
    if parameters == 0 {
        ndis_violation("NdisAllocateNetBufferListPool with NULL parameters");
    }
    // SAFETY: the driver passes its NET_BUFFER_LIST_POOL_PARAMETERS.
    let raw = unsafe {
        guest::copy_structure(
            parameters,
            SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        )
    };
    let header = raw.header();
    // NET_BUFFER_LIST_POOL_PARAMETERS: Header.Type NDIS_OBJECT_TYPE_DEFAULT, Revision 1,
    // Size NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1.
    if header.object_type != OBJECT_TYPE_DEFAULT
        || header.revision != NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1
        || usize::from(header.size) != SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1
    {
        report::observe(
            "ndis.allocate_nbl_pool.rejected",
            format!("header {header:?} is not NET_BUFFER_LIST_POOL_PARAMETERS revision 1"),
        );
        return 0;
    }
    type P = NetBufferListPoolParameters;
    packets::allocate_pool(packets::PoolParameters {
        allocate_net_buffer: raw.u8_at(core::mem::offset_of!(P, allocate_net_buffer)) != 0,
        context_size: raw.u16_at(core::mem::offset_of!(P, context_size)),
        tag: raw.u32_at(core::mem::offset_of!(P, pool_tag)),
        data_size: raw.u32_at(core::mem::offset_of!(P, data_size)),
    })
}

/// WDK: NdisFreeNetBufferListPool function. IRQL: <= DISPATCH_LEVEL. Every NBL of the pool
/// must have been freed.
extern "efiapi" fn ndis_free_net_buffer_list_pool(pool: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeNetBufferListPool");
    if let Err(message) = packets::free_pool(pool) {
        ndis_violation(&message);
    }
}

/// WDK: NdisAllocateNetBufferAndNetBufferList function. IRQL: <= DISPATCH_LEVEL. NULL on
/// failure.
extern "efiapi" fn ndis_allocate_net_buffer_and_net_buffer_list(
    pool: usize,
    context_size: u16,
    context_backfill: u16,
    mdl_chain: usize,
    data_offset: u32,
    data_length: usize,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateNetBufferAndNetBufferList");
    if faults::should_fail("NdisAllocateNetBufferAndNetBufferList") {
        return 0;
    }
    match packets::allocate_nbl(
        pool,
        context_size,
        context_backfill,
        mdl_chain,
        data_offset,
        data_length,
    ) {
        Ok(nbl) => nbl,
        Err(message) => ndis_violation(&message),
    }
}

/// WDK: NdisFreeNetBufferList function. IRQL: <= DISPATCH_LEVEL. Not while NDIS owns it (sent
/// down and not completed, or indicated up and not returned).
extern "efiapi" fn ndis_free_net_buffer_list(nbl: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeNetBufferList");
    {
        let checks = crate::kernel::checks::checks();
        if checks.lower_sends.is_outstanding(nbl) || checks.receives.is_outstanding(nbl) {
            drop(checks);
            crate::kernel::checks::stop(&crate::verifier::Violation::new(
                "NBL_COMPLETION",
                format!(
                    "NET_BUFFER_LIST {nbl:#x} freed at {{site:0}} while NDIS still owns it (sent down or indicated up and not yet given back)"
                ),
                vec![caller()],
            ));
        }
    }
    if let Err(message) = packets::free_nbl(nbl) {
        ndis_violation(&message);
    }
}

/// WDK: NdisAllocateMdl function. IRQL: <= DISPATCH_LEVEL. NULL on failure.
extern "efiapi" fn ndis_allocate_mdl(
    _ndis_handle: usize,
    virtual_address: usize,
    length: u32,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateMdl");
    if faults::should_fail("NdisAllocateMdl") {
        return 0;
    }
    if let Err(message) = memmap::check(virtual_address, length as usize, "NdisAllocateMdl buffer")
    {
        ndis_violation(&message);
    }
    packets::allocate_mdl(virtual_address, length)
}

/// WDK: NdisFreeMdl function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_free_mdl(mdl: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeMdl");
    if let Err(message) = packets::free_mdl(mdl) {
        ndis_violation(&message);
    }
}

/// WDK: NdisGetDataBuffer function. IRQL: <= DISPATCH_LEVEL. The alignment arguments only
/// matter for where NDIS may point into the MDL; the host never needs to copy for them.
extern "efiapi" fn ndis_get_data_buffer(
    net_buffer: usize,
    bytes_needed: u32,
    storage: usize,
    _align_multiple: u32,
    _align_offset: u32,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisGetDataBuffer");
    packets::get_data_buffer(net_buffer, bytes_needed, storage)
}

/// WDK: NdisRetreatNetBufferDataStart function. IRQL: <= DISPATCH_LEVEL. Only NDIS's own MDL
/// allocation is supported (AllocateMdlHandler NULL).
extern "efiapi" fn ndis_retreat_net_buffer_data_start(
    net_buffer: usize,
    data_offset_delta: u32,
    data_back_fill: u32,
    allocate_mdl_handler: usize,
) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisRetreatNetBufferDataStart");
    if allocate_mdl_handler != 0 {
        ndis_violation(
            "NdisRetreatNetBufferDataStart with a driver MDL allocator: the host supports only NDIS's own (NULL)",
        );
    }
    if packets::retreat(net_buffer, data_offset_delta, data_back_fill) {
        status::SUCCESS
    } else {
        status::RESOURCES
    }
}

/// WDK: NdisAdvanceNetBufferDataStart function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_advance_net_buffer_data_start(
    net_buffer: usize,
    data_offset_delta: u32,
    free_mdl: u8,
    free_mdl_handler: usize,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAdvanceNetBufferDataStart");
    if free_mdl_handler != 0 {
        ndis_violation(
            "NdisAdvanceNetBufferDataStart with a driver MDL free handler: the host supports only NDIS's own (NULL)",
        );
    }
    packets::advance(net_buffer, data_offset_delta, free_mdl != 0);
}

/// WDK: NdisInitializeEvent function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_initialize_event(event: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisInitializeEvent");
    sync_event::initialize(event);
}

/// WDK: NdisSetEvent function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_set_event(event: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisSetEvent");
    sync_event::set(event);
}

/// WDK: NdisResetEvent function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_reset_event(event: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisResetEvent");
    sync_event::reset(event);
}

/// WDK: NdisWaitEvent function. IRQL: PASSIVE_LEVEL. TRUE if the event was signalled; a wait
/// without limit that outlasts the host's bound is a lost completion.
extern "efiapi" fn ndis_wait_event(event: usize, milliseconds: u32) -> u8 {
    require_irql_at_most(PASSIVE_LEVEL, "NdisWaitEvent");
    match sync_event::wait(event, milliseconds) {
        sync_event::Wait::Signalled => 1,
        sync_event::Wait::TimedOut => 0,
        sync_event::Wait::Stuck => crate::kernel::checks::stop(&crate::verifier::Violation::new(
            "LOST_COMPLETION",
            format!(
                "NdisWaitEvent without a limit at {{site:0}} still unsignalled after {} s: the completion it waits for never came",
                sync_event::UNBOUNDED_WAIT_LIMIT.as_secs()
            ),
            vec![caller()],
        )),
    }
}

/// WDK: NdisAllocateCloneNetBufferList function. IRQL: <= DISPATCH_LEVEL. A new NBL whose
/// NET_BUFFERs describe the same data as the original's; NULL pools mean NDIS's own.
extern "efiapi" fn ndis_allocate_clone_net_buffer_list(
    original: usize,
    nbl_pool: usize,
    _nb_pool: usize,
    flags: u32,
) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "NdisAllocateCloneNetBufferList");
    if faults::should_fail("NdisAllocateCloneNetBufferList") {
        return 0;
    }
    match packets::clone_nbl(original, nbl_pool, flags) {
        Ok(clone) => clone,
        Err(message) => ndis_violation(&message),
    }
}

/// WDK: NdisFreeCloneNetBufferList function. IRQL: <= DISPATCH_LEVEL. The flags are those of
/// the allocation.
extern "efiapi" fn ndis_free_clone_net_buffer_list(clone: usize, flags: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisFreeCloneNetBufferList");
    {
        let checks = crate::kernel::checks::checks();
        if checks.lower_sends.is_outstanding(clone) || checks.receives.is_outstanding(clone) {
            drop(checks);
            ndis_violation(&format!(
                "clone NET_BUFFER_LIST {clone:#x} freed while NDIS still owns it"
            ));
        }
    }
    if let Err(message) = packets::free_clone(clone, flags) {
        ndis_violation(&message);
    }
}

/// WDK: NdisMSleep function. IRQL: PASSIVE_LEVEL. Waits at least the given microseconds.
extern "efiapi" fn ndis_m_sleep(microseconds: u32) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMSleep");
    std::thread::sleep(std::time::Duration::from_micros(u64::from(microseconds)));
}
