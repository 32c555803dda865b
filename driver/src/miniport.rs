//! The miniport driver: registration and the adapter-wide entry points
//! (NDIS_MINIPORT_DRIVER_CHARACTERISTICS).

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use rswan_ndis::buffer::{NetBufferList, flags};
use rswan_ndis::callmgr::CoAddressFamily;
use rswan_ndis::callmgr::address_family;
use rswan_ndis::chain::NblChain;
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::imports as ndis;
use rswan_ndis::memory::PoolBox;
use rswan_ndis::miniport::{
    INTERFACE_TYPE_INTERNAL, MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
    MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, MiniportAdapterRegistrationAttributes,
    MiniportDriverCharacteristics, NDIS_MAJOR_VERSION, NDIS_MINOR_VERSION,
    SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
    SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, object_type,
};
use rswan_ndis::request::OidRequest;
use rswan_ndis::{DriverObject, NdisHandle, NdisObjectHeader, NdisStatus, UnicodeString, status};

use crate::adapter::{Adapter, CreateError, pause_state};
use crate::egress::DriverEgress;
use crate::{allocator, callmgr, co, registry, requests};

/// The handle `NdisMRegisterMiniportDriver` returned; Unload gives it back.
static DRIVER_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// Registers the miniport driver with NDIS.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `driver_object` and `registry_path` are the ones the loader passed to `DriverEntry`.
pub unsafe fn register(
    driver_object: *mut DriverObject,
    registry_path: *mut UnicodeString,
) -> NdisStatus {
    let characteristics = MiniportDriverCharacteristics {
        header: NdisObjectHeader::new(
            object_type::MINIPORT_DRIVER_CHARACTERISTICS,
            MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
            SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
        ),
        major_ndis_version: NDIS_MAJOR_VERSION,
        minor_ndis_version: NDIS_MINOR_VERSION,
        major_driver_version: 0,
        minor_driver_version: 1,
        flags: 0,
        set_options: Some(set_options),
        initialize: Some(initialize),
        halt: Some(halt),
        unload: Some(unload),
        pause: Some(pause),
        restart: Some(restart),
        oid_request: Some(oid_request),
        // A CoNDIS miniport sends on VCs (MiniportCoSendNetBufferLists), never here.
        send_net_buffer_lists: None,
        return_net_buffer_lists: Some(return_net_buffer_lists),
        cancel_send: Some(cancel_send),
        // Must be NULL for a virtual miniport (WDK: MiniportCheckForHangEx).
        check_for_hang: None,
        reset: None,
        device_pnp_event_notify: Some(device_pnp_event_notify),
        shutdown: Some(shutdown),
        cancel_oid_request: Some(cancel_oid_request),
        direct_oid_request: None,
        cancel_direct_oid_request: None,
    };
    let mut handle: NdisHandle = ptr::null_mut();
    // SAFETY: the characteristics are complete and NDIS copies them before returning; the
    // driver object and registry path come from the loader; `handle` is a valid out pointer.
    let result = unsafe {
        ndis::NdisMRegisterMiniportDriver(
            driver_object,
            registry_path,
            ptr::null_mut(),
            &characteristics,
            &mut handle,
        )
    };
    if result == status::SUCCESS {
        DRIVER_HANDLE.store(handle, Ordering::Release);
        allocator::set_driver_handle(handle);
    }
    dbg_print!(level::TRACE, "miniport driver registered -> {result:#x}");
    result
}

/// MiniportSetOptions: the CoNDIS miniport handlers and the call-manager handlers (WDK:
/// "CoNDIS MCM registration": NdisSetOptionalHandlers once for each).
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn set_options(
    driver_handle: NdisHandle,
    _context: NdisHandle,
) -> NdisStatus {
    allocator::set_driver_handle(driver_handle);
    let co = co::characteristics();
    // SAFETY: the structure is complete and NDIS copies it.
    let result = unsafe { ndis::NdisSetOptionalHandlers(driver_handle, &co.header) };
    if result != status::SUCCESS {
        dbg_print!(level::ERROR, "CoNDIS handlers refused: {result:#x}");
        return result;
    }
    let cm = callmgr::handlers();
    // SAFETY: as above.
    let result = unsafe { ndis::NdisSetOptionalHandlers(driver_handle, &cm.header) };
    if result != status::SUCCESS {
        dbg_print!(level::ERROR, "call-manager handlers refused: {result:#x}");
    }
    result
}

/// MiniportInitializeEx: the adapter's state, its registration and general attributes (a
/// virtual CoWan adapter that NDPROXY binds to, so neither HARDWARE_DEVICE nor
/// DO_NOT_BIND_TO_ALL_CO nor NOT_CO_NDIS), and the TAPI-proxy address family.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn initialize(
    miniport: NdisHandle,
    _driver_context: NdisHandle,
    _parameters: *mut c_void,
) -> NdisStatus {
    // SAFETY: `miniport` is the handle NDIS passed to MiniportInitializeEx.
    let settings = match unsafe { registry::read_settings(miniport) } {
        Ok(settings) => settings,
        Err(error) => {
            dbg_print!(level::ERROR, "registry settings not read: {error:#x}");
            return error;
        }
    };
    // SAFETY: as above.
    let mut adapter = match unsafe { Adapter::create(miniport, &settings) } {
        Ok(adapter) => adapter,
        Err(CreateError::Resources) => {
            dbg_print!(level::ERROR, "adapter state: out of memory");
            return status::RESOURCES;
        }
        Err(CreateError::Config(error)) => {
            dbg_print!(
                level::ERROR,
                "adapter state: engine configuration {error:?}"
            );
            return status::FAILURE;
        }
    };
    let context = adapter.as_ptr();

    let registration = MiniportAdapterRegistrationAttributes {
        header: NdisObjectHeader::new(
            object_type::MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
            MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
            SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
        ),
        miniport_adapter_context: context.cast(),
        attribute_flags: 0,
        check_for_hang_time_in_seconds: 0,
        interface_type: INTERFACE_TYPE_INTERNAL,
    };
    // SAFETY: complete attributes, copied by NDIS; the context is the adapter's stable address.
    let result = unsafe { ndis::NdisMSetMiniportAttributes(miniport, &registration.header) };
    if result != status::SUCCESS {
        dbg_print!(level::ERROR, "registration attributes refused: {result:#x}");
        return result;
    }
    let general = adapter.general_attributes();
    // SAFETY: complete attributes, copied by NDIS; the OID list is a static.
    let result = unsafe { ndis::NdisMSetMiniportAttributes(miniport, &general.header) };
    if result != status::SUCCESS {
        dbg_print!(level::ERROR, "general attributes refused: {result:#x}");
        return result;
    }
    // The AF version is not documented for TAPI_PROXY; NDIS's own version is what rswan
    // registers [I].
    let family = CoAddressFamily {
        address_family: address_family::TAPI_PROXY,
        major_version: u32::from(NDIS_MAJOR_VERSION),
        minor_version: u32::from(NDIS_MINOR_VERSION),
    };
    // SAFETY: the adapter handle is live; NDIS copies the family.
    let result = unsafe { ndis::NdisMCmRegisterAddressFamilyEx(miniport, &family) };
    if result != status::SUCCESS {
        dbg_print!(
            level::ERROR,
            "TAPI-proxy address family refused: {result:#x}"
        );
        return result;
    }
    // SAFETY: the adapter is at its final address and lives until halt stops the transport.
    if !unsafe { adapter.transport.start(miniport, context) } {
        dbg_print!(level::ERROR, "no discovery timer");
        return status::RESOURCES;
    }
    // From here NDIS owns the context until MiniportHaltEx.
    let adapter = adapter.into_raw();
    // SAFETY: just given up by the box, alive until halt.
    let adapter = unsafe { adapter.as_ref() };
    if !crate::lower::attach_adapter(adapter) {
        dbg_print!(
            level::WARNING,
            "a second adapter: its PPPoE lines have no Ethernet binding"
        );
    }
    dbg_print!(
        level::TRACE,
        "adapter up: {} PPPoE lines, {} loopback pairs, AC-Name \"{}\", Service-Name \"{}\", \
         answering {}, {} sessions per binding, {} per peer",
        settings.pppoe_lines,
        settings.loopback_pairs,
        settings.ac_name,
        settings.service_name,
        if settings.answer_incoming {
            "on"
        } else {
            "off"
        },
        settings.max_sessions,
        settings.max_sessions_per_peer
    );
    status::SUCCESS
}

/// The adapter behind an adapter context.
///
/// # Safety
/// `context` is the adapter context MiniportInitializeEx registered, not yet halted.
unsafe fn adapter<'a>(context: NdisHandle) -> &'a Adapter {
    // SAFETY: per the caller.
    unsafe { &*context.cast::<Adapter>() }
}

/// MiniportHaltEx: every call goes down and every send completes (the engine's HaltReady),
/// NDPROXY closes the address family (NdisMCmNotifyCloseAddressFamily, WDK:
/// nf-ndis-ndismcmnotifycloseaddressfamily), then the adapter's memory goes.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn halt(context: NdisHandle, action: u32) {
    // SAFETY: NDIS passes the adapter context; halt is the last call on it.
    let adapter_ref = unsafe { adapter(context) };
    dbg_print!(level::TRACE, "halt (action {action})");
    let mut egress = DriverEgress::passive(adapter_ref);
    if adapter_ref.engine.halt(&mut egress) == rswan_engine::status::PENDING {
        adapter_ref.halt_ready.wait(0);
    }
    // A halting engine takes no new incoming call, so after this no VC is created or deleted
    // behind the address family's back.
    adapter_ref.deferred.quiesce();
    let af = adapter_ref.af_handle.load(Ordering::Acquire);
    if !af.is_null() {
        // SAFETY: the AF handle is NDPROXY's open address family on this adapter.
        let result = unsafe { ndis::NdisCmNotifyCloseAddressFamily(af) };
        if result == status::PENDING {
            adapter_ref.af_closed.wait(0);
        }
    }
    crate::lower::detach_adapter(adapter_ref);
    adapter_ref.transport.stop();
    adapter_ref.deferred.quiesce();
    let Some(raw) = NonNull::new(context.cast::<Adapter>()) else {
        return;
    };
    // SAFETY: the context came from `PoolBox::into_raw` in MiniportInitializeEx, and NDIS
    // makes no further call on the adapter after halt.
    drop(unsafe { PoolBox::from_raw(raw) });
}

/// MiniportDriverUnload.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn unload(_driver_object: *mut DriverObject) {
    crate::lower::deregister();
    deregister();
}

/// Gives back the miniport driver registration (at unload, or when DriverEntry fails after
/// registering).
///
/// IRQL: PASSIVE_LEVEL.
pub fn deregister() {
    let handle = DRIVER_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !handle.is_null() {
        // SAFETY: `handle` came from a successful NdisMRegisterMiniportDriver and is given
        // back exactly once (the swap above clears it).
        unsafe { ndis::NdisMDeregisterMiniportDriver(handle) }
    }
    allocator::set_driver_handle(ptr::null_mut());
}

/// MiniportPause: sends complete with NDIS_STATUS_PAUSED and the pause completes when none is
/// outstanding ("Pausing a miniport adapter"); synchronously if that is already so.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn pause(context: NdisHandle, _parameters: *mut c_void) -> NdisStatus {
    // SAFETY: NDIS passes the adapter context.
    let adapter = unsafe { adapter(context) };
    adapter.pause.store(pause_state::IN_CALL, Ordering::Release);
    let result = adapter.engine.pause(&mut DriverEgress::passive(adapter));
    if result != rswan_engine::status::PENDING {
        adapter.pause.store(pause_state::IDLE, Ordering::Release);
        return result as NdisStatus;
    }
    match adapter.pause.compare_exchange(
        pause_state::IN_CALL,
        pause_state::PENDING,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => status::PENDING,
        Err(_) => {
            adapter.pause.store(pause_state::IDLE, Ordering::Release);
            status::SUCCESS
        }
    }
}

/// MiniportRestart. An NDIS 6 adapter starts in the Paused state and NDIS restarts it after
/// MiniportInitializeEx ("Miniport adapter states and operations"); the engine starts running,
/// so that first restart has nothing to do.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn restart(context: NdisHandle, _parameters: *mut c_void) -> NdisStatus {
    // SAFETY: NDIS passes the adapter context.
    let adapter = unsafe { adapter(context) };
    if adapter.engine.adapter_phase() == rswan_engine::AdapterPhase::Running {
        return status::SUCCESS;
    }
    adapter.engine.restart(&mut DriverEgress::passive(adapter)) as NdisStatus
}

/// MiniportOidRequest: adapter-wide requests (a CoNDIS miniport usually gets them through
/// MiniportCoOidRequest; both answer alike).
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request(context: NdisHandle, request: *mut OidRequest) -> NdisStatus {
    // SAFETY: NDIS passes the adapter context.
    let adapter = unsafe { adapter(context) };
    // SAFETY: the request is live and its buffer ours until we return (never pended).
    unsafe { requests::answer(adapter, None, request) }
}

/// MiniportReturnNetBufferLists: NDISWAN gives back receive indications (a lent one's lower
/// NBL goes back to its binding from here).
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn return_net_buffer_lists(
    context: NdisHandle,
    nbls: *mut NetBufferList,
    flags: u32,
) {
    // SAFETY: NDIS passes the adapter context.
    let adapter = unsafe { adapter(context) };
    // NDIS_RETURN_FLAGS_DISPATCH_LEVEL says this runs at DISPATCH_LEVEL, so the lower NBL of a
    // lent frame goes back with the same claim.
    let at_dispatch = flags & flags::RETURN_DISPATCH_LEVEL != 0;
    // SAFETY: NDIS returns a chain of the NBLs this miniport indicated, all now ours again.
    for nbl in unsafe { NblChain::from_raw(nbls) } {
        // SAFETY: every NBL the miniport indicates comes from its receive pool.
        unsafe { adapter.frames.give_back(nbl, at_dispatch) };
    }
}

/// MiniportCancelSend: sends wait at most for the send window of their VC, and a closing call
/// completes them all, so there is no separate cancellation.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn cancel_send(_context: NdisHandle, _cancel_id: *mut c_void) {}

/// MiniportDevicePnPEventNotify: a virtual adapter has no device events to act on.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn device_pnp_event_notify(_context: NdisHandle, _event: *mut c_void) {}

/// MiniportShutdownEx: no hardware to quiesce.
///
/// IRQL: PASSIVE_LEVEL, or any IRQL on a bug-check shutdown.
unsafe extern "system" fn shutdown(_context: NdisHandle, _action: u32) {}

/// MiniportCancelOidRequest: requests are answered before their entry point returns, so none
/// is ever pending to cancel.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn cancel_oid_request(_context: NdisHandle, _request_id: *mut c_void) {}
