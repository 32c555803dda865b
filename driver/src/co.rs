//! The CoNDIS miniport entry points (NDIS_MINIPORT_CO_CHARACTERISTICS). For an MCM the VCs are
//! created through the call manager (CoCreateVc and CoDeleteVc are NULL); the miniport side
//! activates them, carries NDISWAN's sends and answers the WAN OIDs.

use rswan_ndis::buffer::NetBufferList;
use rswan_ndis::callmgr::CoCallParameters;
use rswan_ndis::chain::NblChain;
use rswan_ndis::miniport::{
    MINIPORT_CO_CHARACTERISTICS_REVISION_1, MiniportCoCharacteristics,
    SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1, object_type,
};
use rswan_ndis::request::OidRequest;
use rswan_ndis::types::{NdisHandle, NdisObjectHeader, NdisStatus, status};

use crate::adapter::{Adapter, VcEntry};
use crate::egress::DriverEgress;
use crate::requests;

/// The handlers, for NdisSetOptionalHandlers in MiniportSetOptions.
pub fn characteristics() -> MiniportCoCharacteristics {
    MiniportCoCharacteristics {
        header: NdisObjectHeader::new(
            object_type::MINIPORT_CO_CHARACTERISTICS,
            MINIPORT_CO_CHARACTERISTICS_REVISION_1,
            SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
        ),
        flags: 0,
        // An MCM's VCs are created and deleted through ProtocolCoCreateVc/ProtocolCoDeleteVc
        // (WDK: ns-ndis-_ndis_miniport_co_characteristics).
        co_create_vc: None,
        co_delete_vc: None,
        co_activate_vc: Some(activate_vc),
        co_deactivate_vc: Some(deactivate_vc),
        co_send_net_buffer_lists: Some(send_net_buffer_lists),
        co_oid_request: Some(oid_request),
    }
}

/// MiniportCoActivateVc: NDIS's side of NdisMCmActivateVc. The call manager prepared the VC
/// already, so there is nothing left to do.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn activate_vc(
    _vc_context: NdisHandle,
    _parameters: *mut CoCallParameters,
) -> NdisStatus {
    status::SUCCESS
}

/// MiniportCoDeactivateVc: as `activate_vc`.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn deactivate_vc(_vc_context: NdisHandle) -> NdisStatus {
    status::SUCCESS
}

/// MiniportCoSendNetBufferLists: each NBL is one send of the engine's VC queue (its NET_BUFFERs
/// are one frame each, all carried), completed (in order, exactly once) through
/// `NdisMCoSendNetBufferListsComplete`.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn send_net_buffer_lists(
    vc_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    _send_flags: u32,
) {
    // SAFETY: NDIS passes back our VC context.
    let entry = unsafe { &*vc_context.cast::<VcEntry>() };
    let adapter = entry.adapter();
    // SAFETY: NDIS hands the chain to the miniport, which owns it until it completes each NBL.
    let chain = unsafe { NblChain::from_raw(net_buffer_lists) };
    let mut egress = DriverEgress::new(adapter);
    for nbl in chain {
        let len = nbl.data_length().min(u64::from(u32::MAX)) as u32;
        match entry.vc() {
            Some(vc) => adapter.engine.send(vc, nbl, len, &mut egress),
            None => {
                // A VC context always holds a VC while NDIS can send on it; should that ever
                // break, the send is still completed rather than lost.
                let mut nbl = nbl;
                nbl.set_status(status::CLOSING);
                // SAFETY: the VC handle is NDIS's, the NBL ours to complete, once.
                unsafe {
                    rswan_ndis::imports::NdisMCoSendNetBufferListsComplete(
                        entry.handle(),
                        nbl.into_raw().as_ptr(),
                        0,
                    )
                };
            }
        }
    }
}

/// MiniportCoOidRequest: NDISWAN's WAN OIDs, on the adapter (no VC) or on a VC.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request(
    adapter_context: NdisHandle,
    vc_context: NdisHandle,
    request: *mut OidRequest,
) -> NdisStatus {
    // SAFETY: NDIS passes back the adapter context of MiniportInitializeEx.
    let adapter = unsafe { &*adapter_context.cast::<Adapter>() };
    // SAFETY: a non-NULL VC context is one of ours.
    let vc = (!vc_context.is_null()).then(|| unsafe { &*vc_context.cast::<VcEntry>() });
    // SAFETY: the request is live and its buffer ours until we return (never pended).
    unsafe { requests::answer(adapter, vc, request) }
}
