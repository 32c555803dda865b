//! The call-manager entry points (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS): NDPROXY opens the
//! TAPI-proxy address family, registers SAPs, creates VCs and makes, accepts and closes calls
//! through them. Each hands its work to the engine; unsupported ones (point-to-multipoint,
//! QoS changes) answer NDIS_STATUS_NOT_SUPPORTED, as the WDK asks (every handler must be set:
//! ns-ndis-_ndis_co_call_manager_optional_handlers).

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::Ordering;

use rswan_engine::ids::LineId;
use rswan_ndis::call_params::{self, parse_make_call};
use rswan_ndis::callmgr::{
    CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1, CoAddressFamily, CoCallManagerOptionalHandlers,
    CoCallParameters, CoSap, OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
    SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1, address_family, specific_parameter_bytes,
};
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::request::OidRequest;
use rswan_ndis::tapi::{AF_TAPI_SAP_TYPE, CoAfTapiSap};
use rswan_ndis::types::{NdisHandle, NdisObjectHeader, NdisStatus, status};

use crate::adapter::{Adapter, SapEntry, VcEntry};
use crate::egress::DriverEgress;
use crate::requests;

/// The handlers, for NdisSetOptionalHandlers in MiniportSetOptions.
pub fn handlers() -> CoCallManagerOptionalHandlers {
    CoCallManagerOptionalHandlers {
        header: NdisObjectHeader::new(
            OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
            CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
            SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
        ),
        reserved: 0,
        cm_create_vc: create_vc,
        cm_delete_vc: delete_vc,
        cm_open_af: open_af,
        cm_close_af: close_af,
        cm_register_sap: register_sap,
        cm_deregister_sap: deregister_sap,
        cm_make_call: make_call,
        cm_close_call: close_call,
        cm_incoming_call_complete: incoming_call_complete,
        cm_add_party: add_party,
        cm_drop_party: drop_party,
        cm_activate_vc_complete: activate_vc_complete,
        cm_deactivate_vc_complete: deactivate_vc_complete,
        cm_modify_call_qos: modify_call_qos,
        cm_oid_request: oid_request,
        cm_oid_request_complete: oid_request_complete,
        cm_notify_close_af_complete: notify_close_af_complete,
    }
}

/// The adapter behind an AF context (the driver gives its adapter as `CallMgrAfContext`).
///
/// # Safety
/// `context` is an AF context the driver returned from `open_af`, or the binding context NDIS
/// passes to `open_af` (the adapter context of MiniportInitializeEx).
unsafe fn adapter<'a>(context: NdisHandle) -> &'a Adapter {
    // SAFETY: per the caller; the adapter outlives every AF, VC and SAP on it.
    unsafe { &*context.cast::<Adapter>() }
}

/// The VC entry behind a VC context.
///
/// # Safety
/// `context` is a VC context the driver gave NDIS (`create_vc` or NdisMCmCreateVc).
unsafe fn vc_entry<'a>(context: NdisHandle) -> &'a VcEntry {
    // SAFETY: per the caller; entries live as long as their adapter.
    unsafe { &*context.cast::<VcEntry>() }
}

/// ProtocolCoCreateVc: NDPROXY creates a VC for an outgoing call. Never pends.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn create_vc(
    af_context: NdisHandle,
    ndis_vc_handle: NdisHandle,
    vc_context: *mut NdisHandle,
) -> NdisStatus {
    // SAFETY: NDIS passes back our AF context.
    let adapter = unsafe { adapter(af_context) };
    match adapter.engine.create_vc() {
        Ok(vc) => {
            let Some(entry) = adapter.vc_entry(vc) else {
                return status::FAILURE;
            };
            entry.attach(vc, ndis_vc_handle);
            let context: *const VcEntry = entry;
            // SAFETY: NDIS passes a valid out pointer.
            unsafe { *vc_context = context.cast_mut().cast() };
            dbg_print!(level::TRACE, "{vc:?}: created by the client");
            status::SUCCESS
        }
        Err(refused) => refused as NdisStatus,
    }
}

/// ProtocolCoDeleteVc. Never pends.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn delete_vc(vc_context: NdisHandle) -> NdisStatus {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let Some(vc) = entry.vc() else {
        return status::INVALID_PARAMETER;
    };
    let result = entry.adapter().engine.delete_vc(vc);
    if result == rswan_engine::status::SUCCESS {
        entry.detach();
    }
    dbg_print!(level::TRACE, "{vc:?}: delete -> {result:#x}");
    result as NdisStatus
}

/// ProtocolCmOpenAf: NDPROXY opens the TAPI-proxy address family the adapter registered.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn open_af(
    binding_context: NdisHandle,
    family: *mut CoAddressFamily,
    ndis_af_handle: NdisHandle,
    af_context: *mut NdisHandle,
) -> NdisStatus {
    // SAFETY: for an MCM the binding context is the adapter context.
    let adapter = unsafe { adapter(binding_context) };
    // SAFETY: NDIS passes the family of the open.
    let family = unsafe { *family };
    if family.address_family != address_family::TAPI_PROXY {
        return status::NOT_SUPPORTED;
    }
    let result = adapter.engine.open_af();
    if result == rswan_engine::status::SUCCESS {
        adapter.af_handle.store(ndis_af_handle, Ordering::Release);
        adapter.af_closed.reset();
        // SAFETY: NDIS passes a valid out pointer.
        unsafe { *af_context = binding_context };
    }
    dbg_print!(level::TRACE, "address family opened -> {result:#x}");
    result as NdisStatus
}

/// ProtocolCmCloseAf.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn close_af(af_context: NdisHandle) -> NdisStatus {
    // SAFETY: NDIS passes back our AF context.
    let adapter = unsafe { adapter(af_context) };
    let result = adapter.engine.close_af();
    if result == rswan_engine::status::SUCCESS {
        adapter.af_handle.store(ptr::null_mut(), Ordering::Release);
    }
    dbg_print!(level::TRACE, "address family closed -> {result:#x}");
    result as NdisStatus
}

/// ProtocolCmRegisterSap: NDPROXY listens on a line (lineOpen); the SAP is a `CO_AF_TAPI_SAP`
/// (WDK: "Accepting incoming calls").
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn register_sap(
    af_context: NdisHandle,
    sap: *mut CoSap,
    ndis_sap_handle: NdisHandle,
    sap_context: *mut NdisHandle,
) -> NdisStatus {
    // SAFETY: NDIS passes back our AF context.
    let adapter = unsafe { adapter(af_context) };
    // SAFETY: NDIS passes a valid CO_SAP.
    let sap_type = unsafe { (*sap).sap_type };
    // SAFETY: SapLength bytes of the SAP follow its header.
    let bytes = unsafe { sap_bytes(sap) };
    if sap_type != AF_TAPI_SAP_TYPE || bytes.len() < core::mem::size_of::<CoAfTapiSap>() {
        return status::INVALID_DATA;
    }
    let line_id = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let Some(entry) = adapter.sap_entry(line_id) else {
        return status::INVALID_DATA;
    };
    let lines = match entry.line {
        Some(line) => line.0..line.0 + 1,
        None => 0..adapter.lines.count(),
    };
    for line in lines {
        let result = adapter.engine.register_sap(LineId(line));
        if result != rswan_engine::status::SUCCESS {
            return result as NdisStatus;
        }
    }
    entry.ndis_handle.store(ndis_sap_handle, Ordering::Release);
    let context: *const SapEntry = entry;
    // SAFETY: NDIS passes a valid out pointer.
    unsafe { *sap_context = context.cast_mut().cast() };
    dbg_print!(level::TRACE, "SAP registered for line {line_id:#x}");
    status::SUCCESS
}

/// The `SapLength` bytes of a SAP.
///
/// # Safety
/// `sap` points to a valid `CO_SAP` followed by its `SapLength` bytes.
unsafe fn sap_bytes<'a>(sap: *const CoSap) -> &'a [u8] {
    // SAFETY: per the caller.
    let length = unsafe { (*sap).sap_length } as usize;
    // SAFETY: the bytes start at `Sap` and are derived from the whole structure's pointer.
    let start = unsafe { ptr::addr_of!((*sap).sap) }.cast::<u8>();
    // SAFETY: per the caller.
    unsafe { core::slice::from_raw_parts(start, length) }
}

/// ProtocolCmDeregisterSap.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn deregister_sap(sap_context: NdisHandle) -> NdisStatus {
    // SAFETY: NDIS passes back our SAP context, a SapEntry of a live adapter.
    let entry = unsafe { &*sap_context.cast::<SapEntry>() };
    // SAFETY: the entry's adapter pointer was set when the adapter was built.
    let adapter = unsafe { &*entry.adapter };
    let lines = match entry.line {
        Some(line) => line.0..line.0 + 1,
        None => 0..adapter.lines.count(),
    };
    for line in lines {
        adapter.engine.deregister_sap(LineId(line));
    }
    entry.ndis_handle.store(ptr::null_mut(), Ordering::Release);
    status::SUCCESS
}

/// ProtocolCmMakeCall: the line comes from the `CO_AF_TAPI_MAKE_CALL_PARAMETERS` in the media
/// parameters, the only call parameters that are meaningful (WDK: "Making outgoing calls").
/// A loopback line dials its peer inside the driver; a PPPoE line starts discovery.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn make_call(
    vc_context: NdisHandle,
    parameters: *mut CoCallParameters,
    _party: NdisHandle,
    _party_context: *mut NdisHandle,
) -> NdisStatus {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let adapter = entry.adapter();
    let Some(vc) = entry.vc() else {
        return status::INVALID_PARAMETER;
    };
    // SAFETY: NDPROXY's call parameters are valid for the duration of the make call.
    let Some(media) = (unsafe { parameters.as_ref() }).and_then(|p| {
        // SAFETY: as above.
        unsafe { p.media_parameters.as_ref() }
    }) else {
        return status::INVALID_DATA;
    };
    // SAFETY: MediaSpecific is followed by its Length bytes (the CO_SPECIFIC_PARAMETERS rule).
    let specific = unsafe { specific_parameter_bytes(&media.media_specific) };
    let call = match parse_make_call(specific) {
        Ok(call) => call,
        Err(error) => {
            dbg_print!(level::ERROR, "{vc:?}: bad make-call parameters {error:?}");
            return status::INVALID_DATA;
        }
    };
    let mut dest = [0u8; 64];
    let dest_len = call_params::dest_text(call.dest_address, &mut dest);
    dbg_print!(
        level::TRACE,
        "{vc:?}: make call on line {} to {:?}",
        call.line_id,
        core::str::from_utf8(&dest[..dest_len]).unwrap_or("?")
    );
    entry.call_parameters.store(parameters, Ordering::Release);
    entry.set_service(&dest[..dest_len]);
    let line = LineId(call.line_id);
    let mut egress = DriverEgress::passive(adapter);
    let result = match adapter.lines.loopback_peer(line) {
        Some(peer) => adapter.engine.dial_loopback(vc, line, peer, &mut egress),
        None => adapter.engine.make_call(vc, line, &mut egress),
    };
    result as NdisStatus
}

/// ProtocolCmCloseCall.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn close_call(
    vc_context: NdisHandle,
    _party_context: NdisHandle,
    _close_data: *mut c_void,
    _size: u32,
) -> NdisStatus {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let Some(vc) = entry.vc() else {
        return status::INVALID_PARAMETER;
    };
    dbg_print!(level::TRACE, "{vc:?}: close call");
    let adapter = entry.adapter();
    adapter
        .engine
        .close_call(vc, &mut DriverEgress::new(adapter)) as NdisStatus
}

/// ProtocolCmIncomingCallComplete: the client accepted or refused an incoming call.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn incoming_call_complete(
    result: NdisStatus,
    vc_context: NdisHandle,
    _parameters: *mut CoCallParameters,
) {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let Some(vc) = entry.vc() else { return };
    dbg_print!(level::TRACE, "{vc:?}: incoming call answered {result:#x}");
    let adapter = entry.adapter();
    adapter
        .engine
        .incoming_call_complete(vc, result as u32, &mut DriverEgress::new(adapter));
}

/// ProtocolCmAddParty: rswan's VCs are point to point.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn add_party(
    _vc_context: NdisHandle,
    _parameters: *mut CoCallParameters,
    _party: NdisHandle,
    _party_context: *mut NdisHandle,
) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// ProtocolCmDropParty: rswan's VCs are point to point.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn drop_party(
    _party_context: NdisHandle,
    _close_data: *mut c_void,
    _size: u32,
) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// ProtocolCmActivateVcComplete. The WDK says NDIS never calls it for an MCM; the notes record
/// a page that says otherwise, so it is handled like a returned NdisMCmActivateVc.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn activate_vc_complete(
    result: NdisStatus,
    vc_context: NdisHandle,
    _parameters: *mut CoCallParameters,
) {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let Some(vc) = entry.vc() else { return };
    let adapter = entry.adapter();
    adapter
        .engine
        .activate_vc_complete(vc, result as u32, &mut DriverEgress::new(adapter));
}

/// ProtocolCmDeactivateVcComplete: as `activate_vc_complete`.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn deactivate_vc_complete(_result: NdisStatus, vc_context: NdisHandle) {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { vc_entry(vc_context) };
    let Some(vc) = entry.vc() else { return };
    let adapter = entry.adapter();
    adapter
        .engine
        .deactivate_vc_complete(vc, &mut DriverEgress::new(adapter));
}

/// ProtocolCmModifyCallQoS: the link's speed is what PPPoE gives; nothing to negotiate.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn modify_call_qos(
    _vc_context: NdisHandle,
    _parameters: *mut CoCallParameters,
) -> NdisStatus {
    status::NOT_SUPPORTED
}

/// ProtocolCoOidRequest: NDPROXY's TAPI OIDs (and any other) to the call manager. A separate
/// function from MiniportCoOidRequest, as the WDK requires.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request(
    af_context: NdisHandle,
    vc_context: NdisHandle,
    _party_context: NdisHandle,
    request: *mut OidRequest,
) -> NdisStatus {
    // SAFETY: NDIS passes back our AF context.
    let adapter = unsafe { adapter(af_context) };
    // SAFETY: a non-NULL VC context is one of ours.
    let vc = (!vc_context.is_null()).then(|| unsafe { vc_entry(vc_context) });
    // SAFETY: the request is live and its buffer ours until we return (never pended).
    unsafe { requests::answer(adapter, vc, request) }
}

/// ProtocolCoOidRequestComplete: the call manager never sends OID requests of its own.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request_complete(
    _af_context: NdisHandle,
    _vc_context: NdisHandle,
    _party_context: NdisHandle,
    _request: *mut OidRequest,
    result: NdisStatus,
) {
    dbg_print!(
        level::ERROR,
        "unexpected call-manager OID completion {result:#x}"
    );
}

/// ProtocolCmNotifyCloseAfComplete: the AF close asked for in MiniportHaltEx is done.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn notify_close_af_complete(result: NdisStatus, af_context: NdisHandle) {
    // SAFETY: NDIS passes back our AF context.
    let adapter = unsafe { adapter(af_context) };
    dbg_print!(level::TRACE, "address family close notified -> {result:#x}");
    adapter.af_closed.set();
}
