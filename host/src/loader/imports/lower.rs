//! NDIS.SYS exports of the protocol edge: opening and closing bindings to the host's Ethernet
//! adapters, sending frames down, giving received frames back, and OID requests to the
//! adapter. Sends, returns and requests are hand-offs, checked against the KB Q219380 rule.

use core::mem::offset_of;

use rswan_ndis::buffer::flags::{
    RETURN_DISPATCH_LEVEL, SEND_COMPLETE_DISPATCH_LEVEL, SEND_DISPATCH_LEVEL,
};
use rswan_ndis::protocol::OpenParameters;
use rswan_ndis::request::{OidRequest, QueryInformation, request_type};
use rswan_ndis::{NdisStatus, status};

use crate::kernel::binding::{self, Completion};
use crate::kernel::checks::{check_reclaim, checks, enforce, no_lock_held, stop};
use crate::kernel::events::{self, Event};
use crate::kernel::irql::{self, DISPATCH_LEVEL, PASSIVE_LEVEL};
use crate::kernel::{caller, kernel, packets, processors, require_irql_at_most};
use crate::loader::memmap::{peek_u32, peek_usize, poke, poke_u32};
use crate::loader::{call_handler, guest, handles};
use crate::verifier::lending::{Reclaim, check_binding_quiet};
use crate::verifier::{Site, Violation};

/// NdisMedium802_3.
const MEDIUM_802_3: u32 = 0;
/// OIDs the host adapter answers (documented values of ntddndis.h).
const OID_GEN_CURRENT_PACKET_FILTER: u32 = 0x0001_010E;
const OID_GEN_MAXIMUM_FRAME_SIZE: u32 = 0x0001_0106;
const OID_GEN_MAXIMUM_TOTAL_SIZE: u32 = 0x0001_0111;
const OID_802_3_PERMANENT_ADDRESS: u32 = 0x0101_0101;
const OID_802_3_CURRENT_ADDRESS: u32 = 0x0101_0102;
/// The adapter's MTU.
pub const MTU: u32 = 1500;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        (
            "NdisOpenAdapterEx",
            ndis_open_adapter_ex as *const () as usize,
        ),
        (
            "NdisCloseAdapterEx",
            ndis_close_adapter_ex as *const () as usize,
        ),
        (
            "NdisCompleteBindAdapterEx",
            ndis_complete_bind_adapter_ex as *const () as usize,
        ),
        (
            "NdisCompleteUnbindAdapterEx",
            ndis_complete_unbind_adapter_ex as *const () as usize,
        ),
        (
            "NdisSendNetBufferLists",
            ndis_send_net_buffer_lists as *const () as usize,
        ),
        (
            "NdisReturnNetBufferLists",
            ndis_return_net_buffer_lists as *const () as usize,
        ),
        ("NdisOidRequest", ndis_oid_request as *const () as usize),
    ]
}

fn violation(message: String) -> ! {
    stop(&Violation::new(
        "NDIS",
        format!("{message} (at {{site:0}})"),
        vec![caller()],
    ))
}

/// WDK: NdisOpenAdapterEx function. IRQL: PASSIVE_LEVEL, from ProtocolBindAdapterEx. The
/// host adapter is an Ethernet (NdisMedium802_3) adapter; it opens synchronously.
extern "efiapi" fn ndis_open_adapter_ex(
    protocol_handle: usize,
    protocol_binding_context: usize,
    open_parameters: usize,
    bind_context: usize,
    binding_handle: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisOpenAdapterEx");
    if kernel()
        .protocol()
        .is_none_or(|p| p.handle != protocol_handle)
    {
        violation(format!(
            "NdisOpenAdapterEx with NdisProtocolHandle {protocol_handle:#x}, which is no registered protocol's"
        ));
    }
    if open_parameters == 0 || binding_handle == 0 {
        violation("NdisOpenAdapterEx with a NULL pointer".into());
    }
    type O = OpenParameters;
    let mediums = peek_usize(open_parameters + offset_of!(O, medium_array), "MediumArray");
    let count = peek_u32(
        open_parameters + offset_of!(O, medium_array_size),
        "MediumArraySize",
    );
    let selected = peek_usize(
        open_parameters + offset_of!(O, selected_medium_index),
        "SelectedMediumIndex",
    );
    let index = (0..count)
        .find(|i| peek_u32(mediums + *i as usize * 4, "MediumArray entry") == MEDIUM_802_3);
    let Some(index) = index else {
        return status::UNSUPPORTED_MEDIA;
    };
    poke_u32(selected, index, "SelectedMediumIndex");
    let handle = handles::next();
    if let Err(message) = binding::open(bind_context, handle, protocol_binding_context) {
        violation(message);
    }
    // SAFETY: the driver passes a pointer to its NDIS_HANDLE (checked non-null).
    unsafe { guest::write_usize(binding_handle, handle) };
    status::SUCCESS
}

/// WDK: NdisCloseAdapterEx function. IRQL: PASSIVE_LEVEL. Closes synchronously. "Protocol
/// drivers should wait for all send requests and OID requests that they originated to
/// complete before calling NdisCloseAdapterEx."; received NBLs must be back too (no return
/// can follow the close: NdisReturnNetBufferLists takes the binding handle).
extern "efiapi" fn ndis_close_adapter_ex(binding_handle: usize) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisCloseAdapterEx");
    let outstanding = binding::outstanding_sends(binding_handle);
    if outstanding > 0 {
        violation(format!(
            "NdisCloseAdapterEx({binding_handle:#x}) with {outstanding} send(s) on the binding not yet completed (WDK: NdisCloseAdapterEx remarks: wait for them first)"
        ));
    }
    enforce(check_binding_quiet(
        "NdisCloseAdapterEx",
        binding_handle,
        binding::outstanding_receives(binding_handle),
        caller(),
    ));
    match binding::close(binding_handle) {
        Ok(_) => status::SUCCESS,
        Err(message) => violation(message),
    }
}

/// WDK: NdisCompleteBindAdapterEx function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_complete_bind_adapter_ex(_bind_context: usize, status: NdisStatus) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisCompleteBindAdapterEx");
    no_lock_held("NdisCompleteBindAdapterEx", caller());
    events::push(Event::BindComplete { status });
}

/// WDK: NdisCompleteUnbindAdapterEx function. IRQL: PASSIVE_LEVEL.
extern "efiapi" fn ndis_complete_unbind_adapter_ex(_unbind_context: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisCompleteUnbindAdapterEx");
    no_lock_held("NdisCompleteUnbindAdapterEx", caller());
    events::push(Event::UnbindComplete);
}

/// Completes sent NBLs to the protocol (ProtocolSendNetBufferListsComplete) at the current
/// IRQL.
pub fn complete_sends(binding_handle: usize, binding_context: usize, nbls: Vec<usize>) {
    binding::count_sends(binding_handle, -(nbls.len() as isize));
    let Some(protocol) = kernel().protocol() else {
        return;
    };
    for (index, &nbl) in nbls.iter().enumerate() {
        packets::set_status(nbl, status::SUCCESS);
        packets::set_next_nbl(nbl, nbls.get(index + 1).copied().unwrap_or(0));
        enforce(checks().lower_sends.completed(nbl, Site(0)));
    }
    let flags = if irql::current() == DISPATCH_LEVEL {
        SEND_COMPLETE_DISPATCH_LEVEL
    } else {
        0
    };
    call_handler(
        protocol
            .registration
            .get("SendNetBufferListsCompleteHandler"),
        &[binding_context, nbls[0], flags as usize],
        "ProtocolSendNetBufferListsComplete",
    );
}

/// WDK: NdisSendNetBufferLists function. IRQL: <= DISPATCH_LEVEL;
/// NDIS_SEND_FLAGS_DISPATCH_LEVEL set only at DISPATCH_LEVEL (WDK: "Dispatch IRQL
/// Tracking"). The frames go on the adapter's wire; the adapter completes them later from a
/// DPC, or inline (binding::Completion).
extern "efiapi" fn ndis_send_net_buffer_lists(
    binding_handle: usize,
    nbls: usize,
    _port: u32,
    flags: u32,
) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisSendNetBufferLists");
    let site = caller();
    no_lock_held("NdisSendNetBufferLists", site);
    if flags & SEND_DISPATCH_LEVEL != 0 && irql::current() != DISPATCH_LEVEL {
        violation(format!(
            "NdisSendNetBufferLists with NDIS_SEND_FLAGS_DISPATCH_LEVEL at {} (WDK: Dispatch IRQL Tracking)",
            irql::name(irql::current())
        ));
    }
    let Some(binding) = binding::binding(binding_handle) else {
        violation(format!(
            "NdisSendNetBufferLists({binding_handle:#x}) on a binding that is not open"
        ));
    };
    let chain = packets::chain(nbls).unwrap_or_else(|m| violation(m));
    binding::count_sends(binding_handle, chain.len() as isize);
    for &nbl in &chain {
        enforce(checks().lower_sends.handed_over(nbl, site));
        // Each NET_BUFFER is one frame on the wire (WDK: "NET_BUFFER architecture").
        for nb in packets::net_buffers(nbl) {
            binding::transmit(&binding.adapter_name, packets::net_buffer_bytes(nb));
        }
        let frame = packets::nbl_bytes(nbl);
        events::push(Event::LowerSend {
            binding: binding_handle,
            nbl,
            frame,
        });
    }
    match binding::completion() {
        Completion::Inline => complete_sends(binding_handle, binding.context, chain),
        Completion::Deferred(latency) => processors::queue_timer(
            std::time::Instant::now() + latency,
            "the lower adapter's send completion",
            move || complete_sends(binding_handle, binding.context, chain),
        ),
    }
}

/// WDK: NdisReturnNetBufferLists function. IRQL: <= DISPATCH_LEVEL;
/// NDIS_RETURN_FLAGS_DISPATCH_LEVEL set only at DISPATCH_LEVEL ("Dispatch IRQL Tracking").
/// Gives back NBLs the adapter indicated without NDIS_RECEIVE_FLAGS_RESOURCES, each to the
/// binding it was indicated on ("All of the NET_BUFFER_LIST structures ... must be from the
/// binding that this handle identifies"), once, and not while an NBL the driver indicated up
/// still describes its data (crate::verifier::lending).
extern "efiapi" fn ndis_return_net_buffer_lists(binding_handle: usize, nbls: usize, flags: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "NdisReturnNetBufferLists");
    let site = caller();
    no_lock_held("NdisReturnNetBufferLists", site);
    if flags & RETURN_DISPATCH_LEVEL != 0 && irql::current() != DISPATCH_LEVEL {
        violation(format!(
            "NdisReturnNetBufferLists with NDIS_RETURN_FLAGS_DISPATCH_LEVEL at {} (WDK: Dispatch IRQL Tracking)",
            irql::name(irql::current())
        ));
    }
    if binding::binding(binding_handle).is_none() {
        violation(format!(
            "NdisReturnNetBufferLists({binding_handle:#x}) on a binding that is not open"
        ));
    }
    for nbl in packets::chain(nbls).unwrap_or_else(|m| violation(m)) {
        enforce(checks().lower_receives.completed(nbl, site));
        match binding::take_received(nbl) {
            Some(handle) if handle != binding_handle => violation(format!(
                "NdisReturnNetBufferLists({binding_handle:#x}) of NET_BUFFER_LIST {nbl:#x}, which was indicated on binding {handle:#x}"
            )),
            _ => {}
        }
        check_reclaim(nbl, Reclaim::Returned, site);
        events::push(Event::LowerReturn { nbl });
        if let Err(message) = packets::free_host_nbl(nbl) {
            violation(message);
        }
    }
}

/// WDK: NdisOidRequest function. IRQL: <= DISPATCH_LEVEL (PASSIVE for most OIDs). The host
/// Ethernet adapter answers the few OIDs a PPPoE protocol needs, synchronously.
extern "efiapi" fn ndis_oid_request(binding_handle: usize, request: usize) -> NdisStatus {
    require_irql_at_most(DISPATCH_LEVEL, "NdisOidRequest");
    no_lock_held("NdisOidRequest", caller());
    let Some(binding) = binding::binding(binding_handle) else {
        violation(format!(
            "NdisOidRequest({binding_handle:#x}) on a binding that is not open"
        ));
    };
    let data = request + offset_of!(OidRequest, data);
    let kind = peek_u32(
        request + offset_of!(OidRequest, request_type),
        "RequestType",
    );
    let oid = peek_u32(data + offset_of!(QueryInformation, oid), "Oid");
    let buffer = peek_usize(
        data + offset_of!(QueryInformation, information_buffer),
        "InformationBuffer",
    );
    let length = peek_u32(
        data + offset_of!(QueryInformation, information_buffer_length),
        "InformationBufferLength",
    ) as usize;
    let done = data + offset_of!(QueryInformation, bytes_written);
    let needed = data + offset_of!(QueryInformation, bytes_needed);
    let answer: Option<Vec<u8>> = match (kind, oid) {
        (request_type::SET_INFORMATION, OID_GEN_CURRENT_PACKET_FILTER) => {
            poke_u32(done, length.min(4) as u32, "BytesRead");
            return status::SUCCESS;
        }
        (
            request_type::QUERY_INFORMATION,
            OID_802_3_CURRENT_ADDRESS | OID_802_3_PERMANENT_ADDRESS,
        ) => Some(binding.mac.to_vec()),
        (request_type::QUERY_INFORMATION, OID_GEN_MAXIMUM_FRAME_SIZE) => {
            Some(MTU.to_le_bytes().to_vec())
        }
        (request_type::QUERY_INFORMATION, OID_GEN_MAXIMUM_TOTAL_SIZE) => {
            Some((MTU + 14).to_le_bytes().to_vec())
        }
        _ => None,
    };
    let Some(answer) = answer else {
        return status::NOT_SUPPORTED;
    };
    if length < answer.len() {
        poke_u32(needed, answer.len() as u32, "BytesNeeded");
        return status::BUFFER_TOO_SHORT;
    }
    poke(buffer, &answer, "InformationBuffer");
    poke_u32(done, answer.len() as u32, "BytesWritten");
    status::SUCCESS
}
