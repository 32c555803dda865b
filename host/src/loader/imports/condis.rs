//! NDIS.SYS exports of the CoNDIS miniport and its integrated call manager: adapter
//! attributes, the address family, VCs, the completions and dispatches of call management,
//! and the data path (send completion, receive indication, status). Every function that
//! hands something to another driver first checks the KB Q219380 rule (no driver spin lock
//! held), then records an event for the Windows side.

use core::mem::offset_of;

use rswan_ndis::buffer::flags::{RECEIVE_RESOURCES, SEND_COMPLETE_DISPATCH_LEVEL};
use rswan_ndis::callmgr::CoAddressFamily;
use rswan_ndis::request::{OBJECT_TYPE_STATUS_INDICATION, StatusIndication};
use rswan_ndis::{NdisStatus, status};

use crate::kernel::checks::{checks, enforce, no_lock_held, stop};
use crate::kernel::events::{self, Event};
use crate::kernel::irql::{self, DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::kernel::objects::{self, Creator, Vc};
use crate::kernel::{caller, packets, require_irql_at_most};
use crate::loader::{guest, handles, memmap};
use crate::report;
use crate::verifier::Violation;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        (
            "NdisMSetMiniportAttributes",
            ndis_m_set_miniport_attributes as *const () as usize,
        ),
        (
            "NdisMPauseComplete",
            ndis_m_pause_complete as *const () as usize,
        ),
        (
            "NdisMCmRegisterAddressFamilyEx",
            ndis_m_cm_register_address_family_ex as *const () as usize,
        ),
        (
            "NdisCmOpenAddressFamilyComplete",
            ndis_cm_open_address_family_complete as *const () as usize,
        ),
        (
            "NdisCmCloseAddressFamilyComplete",
            ndis_cm_close_address_family_complete as *const () as usize,
        ),
        (
            "NdisCmRegisterSapComplete",
            ndis_cm_register_sap_complete as *const () as usize,
        ),
        (
            "NdisCmDeregisterSapComplete",
            ndis_cm_deregister_sap_complete as *const () as usize,
        ),
        (
            "NdisCmMakeCallComplete",
            ndis_cm_make_call_complete as *const () as usize,
        ),
        (
            "NdisCmCloseCallComplete",
            ndis_cm_close_call_complete as *const () as usize,
        ),
        (
            "NdisCmDispatchIncomingCall",
            ndis_cm_dispatch_incoming_call as *const () as usize,
        ),
        (
            "NdisCmDispatchCallConnected",
            ndis_cm_dispatch_call_connected as *const () as usize,
        ),
        (
            "NdisCmDispatchIncomingCloseCall",
            ndis_cm_dispatch_incoming_close_call as *const () as usize,
        ),
        (
            "NdisCmNotifyCloseAddressFamily",
            ndis_cm_notify_close_address_family as *const () as usize,
        ),
        (
            "NdisMCmActivateVc",
            ndis_m_cm_activate_vc as *const () as usize,
        ),
        (
            "NdisMCmDeactivateVc",
            ndis_m_cm_deactivate_vc as *const () as usize,
        ),
        ("NdisMCmCreateVc", ndis_m_cm_create_vc as *const () as usize),
        ("NdisMCmDeleteVc", ndis_m_cm_delete_vc as *const () as usize),
        (
            "NdisCoOidRequestComplete",
            ndis_co_oid_request_complete as *const () as usize,
        ),
        (
            "NdisMCoOidRequestComplete",
            ndis_m_co_oid_request_complete as *const () as usize,
        ),
        (
            "NdisMCoSendNetBufferListsComplete",
            ndis_m_co_send_net_buffer_lists_complete as *const () as usize,
        ),
        (
            "NdisMCoIndicateReceiveNetBufferLists",
            ndis_m_co_indicate_receive_net_buffer_lists as *const () as usize,
        ),
        (
            "NdisMCoIndicateStatusEx",
            ndis_m_co_indicate_status_ex as *const () as usize,
        ),
    ]
}

fn violation(message: String) -> ! {
    stop(&Violation::new(
        "NDIS",
        format!("{message} (at {{site:0}})"),
        vec![caller()],
    ))
}

/// The VC of `handle`, or a violation naming `function`.
fn known_vc(handle: usize, function: &str) -> Vc {
    objects::vc(handle).unwrap_or_else(|| {
        violation(format!(
            "{function}({handle:#x}) with a handle that is no live VC's"
        ))
    })
}

/// WDK: NdisMSetMiniportAttributes function. IRQL: PASSIVE_LEVEL, from
/// MiniportInitializeEx.
extern "efiapi" fn ndis_m_set_miniport_attributes(
    adapter_handle: usize,
    attributes: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMSetMiniportAttributes");
    if attributes == 0 {
        violation("NdisMSetMiniportAttributes with NULL attributes".into());
    }
    // SAFETY: the driver passes one of the NDIS_MINIPORT_ADAPTER_*_ATTRIBUTES structures,
    // each an NDIS_OBJECT_HEADER followed by Header.Size bytes.
    let raw = unsafe { guest::copy_structure(attributes, 512) };
    match objects::set_attributes(adapter_handle, &raw) {
        Ok(()) => status::SUCCESS,
        Err(reason) => {
            report::observe("ndis.set_miniport_attributes.rejected", &reason);
            status::INVALID_PARAMETER
        }
    }
}

/// WDK: NdisMPauseComplete function. IRQL: <= DISPATCH_LEVEL. Completes a MiniportPause
/// that returned NDIS_STATUS_PENDING.
extern "efiapi" fn ndis_m_pause_complete(adapter_handle: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMPauseComplete");
    no_lock_held("NdisMPauseComplete", caller());
    events::push(Event::PauseComplete {
        adapter: adapter_handle,
    });
}

/// WDK: NdisMCmRegisterAddressFamilyEx function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_m_cm_register_address_family_ex(
    adapter_handle: usize,
    address_family: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMCmRegisterAddressFamilyEx");
    if address_family == 0 {
        violation("NdisMCmRegisterAddressFamilyEx with a NULL CO_ADDRESS_FAMILY".into());
    }
    // SAFETY: the driver passes its CO_ADDRESS_FAMILY.
    let raw = crate::kernel::raw::Raw(unsafe {
        guest::copy_in(address_family, size_of::<CoAddressFamily>())
    });
    let family = (
        raw.u32_at(offset_of!(CoAddressFamily, address_family)),
        raw.u32_at(offset_of!(CoAddressFamily, major_version)),
        raw.u32_at(offset_of!(CoAddressFamily, minor_version)),
    );
    match objects::register_family(adapter_handle, family) {
        Ok(()) => status::SUCCESS,
        Err(reason) => violation(reason),
    }
}

/// WDK: NdisCmOpenAddressFamilyComplete (NdisMCmOpenAddressFamilyComplete). IRQL: <=
/// DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_open_address_family_complete(
    status: NdisStatus,
    af: usize,
    af_context: usize,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmOpenAddressFamilyComplete");
    no_lock_held("NdisCmOpenAddressFamilyComplete", caller());
    events::push(Event::OpenAfComplete {
        status,
        af,
        af_context,
    });
}

/// WDK: NdisCmCloseAddressFamilyComplete (NdisMCmCloseAddressFamilyComplete). IRQL: <=
/// DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_close_address_family_complete(status: NdisStatus, af: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmCloseAddressFamilyComplete");
    no_lock_held("NdisCmCloseAddressFamilyComplete", caller());
    events::push(Event::CloseAfComplete { status, af });
}

/// WDK: NdisCmRegisterSapComplete (NdisMCmRegisterSapComplete). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_register_sap_complete(
    status: NdisStatus,
    sap: usize,
    sap_context: usize,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmRegisterSapComplete");
    no_lock_held("NdisCmRegisterSapComplete", caller());
    events::push(Event::RegisterSapComplete {
        status,
        sap,
        sap_context,
    });
}

/// WDK: NdisCmDeregisterSapComplete (NdisMCmDeregisterSapComplete). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_deregister_sap_complete(status: NdisStatus, sap: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmDeregisterSapComplete");
    no_lock_held("NdisCmDeregisterSapComplete", caller());
    events::push(Event::DeregisterSapComplete { status, sap });
}

/// WDK: NdisCmMakeCallComplete (NdisMCmMakeCallComplete). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_make_call_complete(
    status: NdisStatus,
    vc: usize,
    _party: usize,
    _party_context: usize,
    call_parameters: usize,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmMakeCallComplete");
    no_lock_held("NdisCmMakeCallComplete", caller());
    known_vc(vc, "NdisCmMakeCallComplete");
    events::push(Event::MakeCallComplete {
        status,
        vc,
        call_parameters,
    });
}

/// WDK: NdisCmCloseCallComplete (NdisMCmCloseCallComplete). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_close_call_complete(status: NdisStatus, vc: usize, _party: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmCloseCallComplete");
    no_lock_held("NdisCmCloseCallComplete", caller());
    let known = known_vc(vc, "NdisCmCloseCallComplete");
    // Deactivating a VC comes before completing the close (WDK: "Deactivating a VC").
    if known.active {
        violation(format!(
            "NdisCmCloseCallComplete({vc:#x}) on a VC that is still active: deactivate it first"
        ));
    }
    events::push(Event::CloseCallComplete { status, vc });
}

/// WDK: NdisCmDispatchIncomingCall (NdisMCmDispatchIncomingCall). IRQL: <= DISPATCH_LEVEL.
/// NDPROXY answers later (ProtocolCmIncomingCallComplete), so this returns PENDING.
extern "efiapi" fn ndis_cm_dispatch_incoming_call(
    sap: usize,
    vc: usize,
    call_parameters: usize,
) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmDispatchIncomingCall");
    no_lock_held("NdisCmDispatchIncomingCall", caller());
    known_vc(vc, "NdisCmDispatchIncomingCall");
    events::push(Event::IncomingCall {
        sap,
        vc,
        call_parameters,
    });
    status::PENDING
}

/// WDK: NdisCmDispatchCallConnected (NdisMCmDispatchCallConnected). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_dispatch_call_connected(vc: usize) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmDispatchCallConnected");
    no_lock_held("NdisCmDispatchCallConnected", caller());
    known_vc(vc, "NdisCmDispatchCallConnected");
    events::push(Event::CallConnected { vc });
}

/// WDK: NdisCmDispatchIncomingCloseCall (NdisMCmDispatchIncomingCloseCall). IRQL: <=
/// DISPATCH_LEVEL.
extern "efiapi" fn ndis_cm_dispatch_incoming_close_call(
    close_status: NdisStatus,
    vc: usize,
    _buffer: usize,
    _size: u32,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCmDispatchIncomingCloseCall");
    no_lock_held("NdisCmDispatchIncomingCloseCall", caller());
    known_vc(vc, "NdisCmDispatchIncomingCloseCall");
    events::push(Event::IncomingCloseCall {
        status: close_status,
        vc,
    });
}

/// WDK: NdisCmNotifyCloseAddressFamily (NdisMCmNotifyCloseAddressFamily). IRQL:
/// PASSIVE_LEVEL. NDPROXY closes the AF later, so this returns PENDING.
extern "efiapi" fn ndis_cm_notify_close_address_family(af: usize) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisCmNotifyCloseAddressFamily");
    no_lock_held("NdisCmNotifyCloseAddressFamily", caller());
    events::push(Event::NotifyCloseAf { af });
    status::PENDING
}

/// WDK: NdisMCmActivateVc function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_m_cm_activate_vc(vc: usize, _call_parameters: usize) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCmActivateVc");
    no_lock_held("NdisMCmActivateVc", caller());
    known_vc(vc, "NdisMCmActivateVc");
    objects::set_active(vc, true);
    events::push(Event::VcActivated { vc });
    status::SUCCESS
}

/// WDK: NdisMCmDeactivateVc function. IRQL: <= DISPATCH_LEVEL. NDIS_STATUS_NOT_ACCEPTED if
/// the VC is not active; sends on it must have completed first (WDK: "Deactivating a VC").
extern "efiapi" fn ndis_m_cm_deactivate_vc(vc: usize) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCmDeactivateVc");
    no_lock_held("NdisMCmDeactivateVc", caller());
    known_vc(vc, "NdisMCmDeactivateVc");
    if objects::set_active(vc, false) != Some(true) {
        return status::NOT_ACCEPTED;
    }
    events::push(Event::VcDeactivated { vc });
    status::SUCCESS
}

/// WDK: NdisMCmCreateVc function. IRQL: <= DISPATCH_LEVEL (the page's req.irql; rswan-ndis
/// notes PASSIVE_LEVEL). The client (NDPROXY) learns of the VC through its
/// ProtocolCoCreateVc, which the host plays.
extern "efiapi" fn ndis_m_cm_create_vc(
    _adapter_handle: usize,
    af: usize,
    vc_context: usize,
    vc_handle: usize,
) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCmCreateVc");
    no_lock_held("NdisMCmCreateVc", caller());
    if vc_handle == 0 {
        violation("NdisMCmCreateVc with a NULL NdisVcHandle pointer".into());
    }
    let handle = handles::next();
    objects::add_vc(Vc {
        handle,
        context: vc_context,
        creator: Creator::CallManager,
        active: false,
        af,
    });
    // SAFETY: the driver passes a pointer to its NDIS_HANDLE (checked non-null).
    unsafe { guest::write_usize(vc_handle, handle) };
    events::push(Event::VcCreatedByDriver {
        vc: handle,
        vc_context,
    });
    status::SUCCESS
}

/// WDK: NdisMCmDeleteVc function. IRQL: <= DISPATCH_LEVEL. Only a VC the MCM created;
/// NDIS_STATUS_NOT_ACCEPTED while it is still active.
extern "efiapi" fn ndis_m_cm_delete_vc(vc: usize) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCmDeleteVc");
    no_lock_held("NdisMCmDeleteVc", caller());
    let known = known_vc(vc, "NdisMCmDeleteVc");
    if known.creator != Creator::CallManager {
        violation(format!(
            "NdisMCmDeleteVc({vc:#x}) of a VC the client created: the client deletes it with NdisCoDeleteVc"
        ));
    }
    if known.active {
        report::observe(
            "ndis.delete_vc.not_accepted",
            format!("NdisMCmDeleteVc({vc:#x}) of an active VC"),
        );
        return status::NOT_ACCEPTED;
    }
    objects::remove_vc(vc);
    events::push(Event::VcDeletedByDriver { vc });
    status::SUCCESS
}

fn complete_oid(request: usize) {
    enforce(checks().oid_requests.completed(request, caller()));
}

/// WDK: NdisCoOidRequestComplete (NdisMCmOidRequestComplete). IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_co_oid_request_complete(
    _af: usize,
    _vc: usize,
    _party: usize,
    request: usize,
    status: NdisStatus,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisCoOidRequestComplete");
    no_lock_held("NdisCoOidRequestComplete", caller());
    complete_oid(request);
    events::push(Event::CmOidComplete { request, status });
}

/// WDK: NdisMCoOidRequestComplete function. IRQL: <= DISPATCH_LEVEL.
extern "efiapi" fn ndis_m_co_oid_request_complete(
    _adapter_handle: usize,
    _vc: usize,
    request: usize,
    status: NdisStatus,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCoOidRequestComplete");
    no_lock_held("NdisMCoOidRequestComplete", caller());
    complete_oid(request);
    events::push(Event::MiniportOidComplete { request, status });
}

/// WDK: NdisMCoSendNetBufferListsComplete function. IRQL: <= DISPATCH_LEVEL. The
/// DISPATCH_LEVEL flag may be clear at any IRQL, but set only at DISPATCH_LEVEL (WDK:
/// "Dispatch IRQL Tracking": clear it when the IRQL is unknown).
extern "efiapi" fn ndis_m_co_send_net_buffer_lists_complete(vc: usize, nbls: usize, flags: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCoSendNetBufferListsComplete");
    let site = caller();
    no_lock_held("NdisMCoSendNetBufferListsComplete", site);
    if flags & SEND_COMPLETE_DISPATCH_LEVEL != 0 && irql::current() != DISPATCH_LEVEL {
        violation(format!(
            "NdisMCoSendNetBufferListsComplete with NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL at {} (WDK: Dispatch IRQL Tracking)",
            irql::name(irql::current())
        ));
    }
    known_vc(vc, "NdisMCoSendNetBufferListsComplete");
    let chain = packets::chain(nbls).unwrap_or_else(|message| violation(message));
    for nbl in chain {
        enforce(checks().upper_sends.completed(nbl, site));
        // The sender set SourceHandle to its VC handle; the miniport must leave it (WDK:
        // "Sending NET_BUFFER Structures from CoNDIS Drivers").
        let source = packets::source_handle(nbl);
        if source != vc {
            violation(format!(
                "NET_BUFFER_LIST {nbl:#x} completed on VC {vc:#x} but its SourceHandle is {source:#x}"
            ));
        }
        events::push(Event::SendComplete {
            vc,
            nbl,
            status: packets::status(nbl),
        });
    }
}

/// WDK: NdisMCoIndicateReceiveNetBufferLists function. IRQL: <= DISPATCH_LEVEL. The count
/// must match the chain and each NBL's SourceHandle must be the VC handle. With
/// NDIS_RECEIVE_FLAGS_RESOURCES the driver keeps the NBLs (the host copies them now);
/// without, they come back through MiniportReturnNetBufferLists.
extern "efiapi" fn ndis_m_co_indicate_receive_net_buffer_lists(
    vc: usize,
    nbls: usize,
    count: u32,
    flags: u32,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCoIndicateReceiveNetBufferLists");
    let site = caller();
    no_lock_held("NdisMCoIndicateReceiveNetBufferLists", site);
    let known = known_vc(vc, "NdisMCoIndicateReceiveNetBufferLists");
    if !known.active {
        violation(format!(
            "NdisMCoIndicateReceiveNetBufferLists on VC {vc:#x}, which is not active"
        ));
    }
    let chain = packets::chain(nbls).unwrap_or_else(|message| violation(message));
    if chain.len() != count as usize {
        violation(format!(
            "NdisMCoIndicateReceiveNetBufferLists says {count} NBL(s) but the chain has {}",
            chain.len()
        ));
    }
    let kept = flags & RECEIVE_RESOURCES != 0;
    for nbl in chain {
        let source = packets::source_handle(nbl);
        if source != vc {
            violation(format!(
                "indicated NET_BUFFER_LIST {nbl:#x} has SourceHandle {source:#x}, not the VC handle {vc:#x}"
            ));
        }
        if !kept {
            let memory = packets::nbl_data_memory(nbl);
            let mut checks = checks();
            enforce(checks.receives.handed_over(nbl, site));
            checks.indicated_memory.insert(nbl, memory);
        }
        events::push(Event::Receive {
            vc,
            nbl,
            frame: packets::nbl_bytes(nbl),
            kept,
        });
    }
}

/// WDK: NdisMCoIndicateStatusEx function. IRQL: <= DISPATCH_LEVEL. The indication is an
/// NDIS_STATUS_INDICATION (Header.Type NDIS_OBJECT_TYPE_STATUS_INDICATION).
extern "efiapi" fn ndis_m_co_indicate_status_ex(
    _adapter_handle: usize,
    vc: usize,
    indication: usize,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisMCoIndicateStatusEx");
    no_lock_held("NdisMCoIndicateStatusEx", caller());
    if indication == 0 {
        violation("NdisMCoIndicateStatusEx with a NULL indication".into());
    }
    // SAFETY: the driver passes its NDIS_STATUS_INDICATION.
    let raw = unsafe { guest::copy_structure(indication, size_of::<StatusIndication>()) };
    if raw.header().object_type != OBJECT_TYPE_STATUS_INDICATION {
        violation(format!(
            "NdisMCoIndicateStatusEx with Header.Type {:#x}, not NDIS_OBJECT_TYPE_STATUS_INDICATION",
            raw.header().object_type
        ));
    }
    if vc != 0 {
        known_vc(vc, "NdisMCoIndicateStatusEx");
    }
    let code = raw.u32_at(offset_of!(StatusIndication, status_code)) as i32;
    let buffer = raw.usize_at(offset_of!(StatusIndication, status_buffer));
    let size = raw.u32_at(offset_of!(StatusIndication, status_buffer_size)) as usize;
    let bytes = if buffer == 0 || size == 0 {
        Vec::new()
    } else {
        memmap::peek(buffer, size, "NDIS_STATUS_INDICATION.StatusBuffer")
    };
    events::push(Event::Status {
        vc,
        code,
        buffer: bytes,
    });
}
