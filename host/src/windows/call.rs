//! NDPROXY's call management on the TAPI proxy AF (WDK: "Making Outgoing Calls", "Accepting
//! Incoming Calls", "CoNDIS TAPI Shutdown"; notes/tapi-proxy.md sections 2-3): create a VC,
//! make a call with CO_AF_TAPI_MAKE_CALL_PARAMETERS, register a SAP, accept an incoming call,
//! close the call, delete the VC. Pended handlers complete through the events the driver's
//! NdisCm*/NdisMCm* calls record.
#![forbid(unsafe_code)]

use core::mem::offset_of;

use rswan_ndis::callmgr::{
    CoCallManagerParameters, CoCallParameters, CoMediaParameters, CoSap, CoSpecificParameters,
    media_flags,
};
use rswan_ndis::status;
use rswan_ndis::tapi::{
    AF_TAPI_SAP_TYPE, CoAfTapiMakeCallParameters, CoAfTapiSap, NdisVarDataDesc, flags, line,
};

use crate::kernel::events::{self, Event};
use crate::kernel::kernel;
use crate::kernel::objects::{self, Creator, Vc};
use crate::loader::memmap::{self, peek_usize, poke, poke_u16, poke_u32, poke_usize};
use crate::loader::{call_handler, handles};
use crate::windows::ndproxy::{COMPLETION_LIMIT, OpenAf};

fn cm_handler(name: &str) -> Result<usize, String> {
    kernel()
        .miniport()
        .and_then(|m| m.call_manager)
        .map(|cm| cm.get(name))
        .ok_or_else(|| "the miniport registered no call manager handlers".to_owned())
}

fn returned(result: usize) -> i32 {
    result as u32 as i32
}

/// NdisCoCreateVc by NDPROXY: NDIS calls the MCM's ProtocolCoCreateVc (CmCreateVcHandler),
/// which never pends.
pub fn create_vc(af: &OpenAf) -> Result<Vc, String> {
    let handle = handles::next();
    let context_out = memmap::allocate(size_of::<usize>());
    let result = returned(call_handler(
        cm_handler("CmCreateVcHandler")?,
        &[af.context, handle, context_out],
        "ProtocolCoCreateVc",
    ));
    let context = peek_usize(context_out, "ProtocolVcContext");
    memmap::release(context_out);
    if result != status::SUCCESS {
        return Err(format!(
            "ProtocolCoCreateVc returned {:#010x}",
            result as u32
        ));
    }
    let vc = Vc {
        handle,
        context,
        creator: Creator::Client,
        active: false,
        af: af.handle,
    };
    objects::add_vc(vc);
    Ok(vc)
}

/// NdisCoDeleteVc by NDPROXY: ProtocolCoDeleteVc (CmDeleteVcHandler), which never pends.
pub fn delete_vc(vc: &Vc) -> Result<(), String> {
    let result = returned(call_handler(
        cm_handler("CmDeleteVcHandler")?,
        &[vc.context],
        "ProtocolCoDeleteVc",
    ));
    if result != status::SUCCESS {
        return Err(format!(
            "ProtocolCoDeleteVc returned {:#010x}",
            result as u32
        ));
    }
    objects::remove_vc(vc.handle);
    Ok(())
}

/// CO_CALL_PARAMETERS for an outgoing call to `destination` on line `line_id`, in one arena
/// block: the call parameters, the call-manager parameters, the media parameters whose
/// MediaSpecific holds CO_AF_TAPI_MAKE_CALL_PARAMETERS, then the destination (ASCII, NUL
/// ended) its DestAddress describes. LineCallParams is empty (NDPROXY's defaults).
pub fn make_call_parameters(line_id: u32, destination: &str) -> usize {
    let call = 0;
    let manager = size_of::<CoCallParameters>();
    let media = manager + size_of::<CoCallManagerParameters>();
    let specific = media + offset_of!(CoMediaParameters, media_specific);
    let tapi = specific + offset_of!(CoSpecificParameters, parameters);
    let dest = tapi + size_of::<CoAfTapiMakeCallParameters>();
    let mut text = destination.as_bytes().to_vec();
    text.push(0);
    let total = dest + text.len();
    let block = memmap::allocate(total);
    poke_usize(
        block + call + offset_of!(CoCallParameters, call_mgr_parameters),
        block + manager,
        "CallMgrParameters",
    );
    poke_usize(
        block + call + offset_of!(CoCallParameters, media_parameters),
        block + media,
        "MediaParameters",
    );
    poke_u32(
        block + media + offset_of!(CoMediaParameters, flags),
        media_flags::TRANSMIT_VC | media_flags::RECEIVE_VC,
        "MediaParameters.Flags",
    );
    poke_u32(
        block + specific + offset_of!(CoSpecificParameters, length),
        (total - tapi) as u32,
        "MediaSpecific.Length",
    );
    type M = CoAfTapiMakeCallParameters;
    poke_u32(block + tapi + offset_of!(M, line_id), line_id, "ulLineID");
    poke_u32(block + tapi + offset_of!(M, address_id), 0, "ulAddressID");
    poke_u32(
        block + tapi + offset_of!(M, flags),
        flags::OUTGOING_CALL,
        "ulFlags",
    );
    let desc = tapi + offset_of!(M, dest_address);
    poke_u16(
        block + desc + offset_of!(NdisVarDataDesc, length),
        text.len() as u16,
        "DestAddress.Length",
    );
    poke_u16(
        block + desc + offset_of!(NdisVarDataDesc, maximum_length),
        text.len() as u16,
        "DestAddress.MaximumLength",
    );
    poke_usize(
        block + desc + offset_of!(NdisVarDataDesc, offset),
        dest - desc,
        "DestAddress.Offset",
    );
    poke(block + dest, &text, "destination");
    block
}

/// The outcome of a make call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub vc: Vc,
    /// Transmit and receive PeakBandwidth the MCM filled in (bytes/s).
    pub peak_bandwidth: (u32, u32),
}

/// A make call handed to the MCM, not yet known to be complete.
#[derive(Debug)]
pub struct PendingCall {
    vc: Vc,
    parameters: usize,
    /// What ProtocolCmMakeCall returned.
    returned: i32,
}

/// NdisClMakeCall by NDPROXY: ProtocolCmMakeCall. The MCM activates the VC and completes
/// with NdisCmMakeCallComplete, possibly only after the far end answered: finish with
/// [`PendingCall::finish`].
pub fn start_make_call(vc: &Vc, line_id: u32, destination: &str) -> Result<PendingCall, String> {
    let parameters = make_call_parameters(line_id, destination);
    let party_out = memmap::allocate(size_of::<usize>());
    let returned = returned(call_handler(
        cm_handler("CmMakeCallHandler")?,
        &[vc.context, parameters, 0, party_out],
        "ProtocolCmMakeCall",
    ));
    memmap::release(party_out);
    Ok(PendingCall {
        vc: *vc,
        parameters,
        returned,
    })
}

impl PendingCall {
    /// Waits for the completion (if the MCM pended) and checks the VC is active.
    pub fn finish(self) -> Result<Connected, String> {
        self.outcome()?
            .map_err(|failed| format!("the make call failed with {:#010x}", failed as u32))
    }

    /// Waits for the completion (if the MCM pended): the connected call, or the status the
    /// MCM failed it with (returned, or in NdisCmMakeCallComplete).
    pub fn outcome(self) -> Result<Result<Connected, i32>, String> {
        let made = match self.returned {
            status::PENDING => {
                let handle = self.vc.handle;
                match events::take(
                    COMPLETION_LIMIT,
                    |e| matches!(e, Event::MakeCallComplete { vc, .. } if *vc == handle),
                )? {
                    Event::MakeCallComplete { status, .. } => status,
                    other => return Err(format!("unexpected {other:?}")),
                }
            }
            returned => returned,
        };
        let manager = peek_usize(
            self.parameters + offset_of!(CoCallParameters, call_mgr_parameters),
            "CallMgrParameters",
        );
        type C = CoCallManagerParameters;
        let peak = |direction: usize| {
            memmap::peek_u32(
                manager
                    + direction
                    + offset_of!(rswan_ndis::callmgr::CoFlowParameters, peak_bandwidth),
                "PeakBandwidth",
            )
        };
        let peak_bandwidth = (peak(offset_of!(C, transmit)), peak(offset_of!(C, receive)));
        memmap::release(self.parameters);
        if made != status::SUCCESS {
            return Ok(Err(made));
        }
        let vc = objects::vc(self.vc.handle).ok_or("the VC vanished during the call")?;
        if !vc.active {
            return Err(
                "the call completed but the MCM never activated the VC (NdisMCmActivateVc)".into(),
            );
        }
        Ok(Ok(Connected { vc, peak_bandwidth }))
    }
}

/// A make call to completion.
pub fn make_call(vc: &Vc, line_id: u32, destination: &str) -> Result<Connected, String> {
    start_make_call(vc, line_id, destination)?.finish()
}

/// NdisClCloseCall by NDPROXY: ProtocolCmCloseCall, which "should return PENDING"; the MCM
/// deactivates the VC and completes with NdisCmCloseCallComplete.
pub fn close_call(vc: &Vc) -> Result<(), String> {
    let result = returned(call_handler(
        cm_handler("CmCloseCallHandler")?,
        &[vc.context, 0, 0, 0],
        "ProtocolCmCloseCall",
    ));
    match result {
        status::SUCCESS => Ok(()),
        status::PENDING => {
            let handle = vc.handle;
            match events::take(
                COMPLETION_LIMIT,
                |e| matches!(e, Event::CloseCallComplete { vc, .. } if *vc == handle),
            )? {
                Event::CloseCallComplete {
                    status: status::SUCCESS,
                    ..
                } => Ok(()),
                other => Err(format!("closing the call completed with {other:?}")),
            }
        }
        other => Err(format!(
            "ProtocolCmCloseCall returned {:#010x}",
            other as u32
        )),
    }
}

/// A registered SAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sap {
    pub handle: usize,
    pub context: usize,
}

/// NdisClRegisterSap by NDPROXY for line `line_id` (CO_SAP of type AF_TAPI_SAP_TYPE holding a
/// CO_AF_TAPI_SAP): ProtocolCmRegisterSap, completed by NdisCmRegisterSapComplete if pended.
pub fn register_sap(af: &OpenAf, line_id: u32) -> Result<Sap, String> {
    let sap = memmap::allocate(offset_of!(CoSap, sap) + size_of::<CoAfTapiSap>());
    poke_u32(
        sap + offset_of!(CoSap, sap_type),
        AF_TAPI_SAP_TYPE,
        "SapType",
    );
    poke_u32(
        sap + offset_of!(CoSap, sap_length),
        size_of::<CoAfTapiSap>() as u32,
        "SapLength",
    );
    let body = sap + offset_of!(CoSap, sap);
    poke_u32(body + offset_of!(CoAfTapiSap, line_id), line_id, "ulLineID");
    poke_u32(body + offset_of!(CoAfTapiSap, address_id), 0, "ulAddressID");
    poke_u32(
        body + offset_of!(CoAfTapiSap, media_modes),
        line::MEDIAMODE_DIGITALDATA,
        "ulMediaModes",
    );
    let handle = handles::next();
    let context_out = memmap::allocate(size_of::<usize>());
    let result = returned(call_handler(
        cm_handler("CmRegisterSapHandler")?,
        &[af.context, sap, handle, context_out],
        "ProtocolCmRegisterSap",
    ));
    let context = peek_usize(context_out, "CallMgrSapContext");
    memmap::release(context_out);
    memmap::release(sap);
    match result {
        status::SUCCESS => Ok(Sap { handle, context }),
        status::PENDING => match events::take(
            COMPLETION_LIMIT,
            |e| matches!(e, Event::RegisterSapComplete { sap, .. } if *sap == handle),
        )? {
            Event::RegisterSapComplete {
                status: status::SUCCESS,
                sap_context,
                ..
            } => Ok(Sap {
                handle,
                context: sap_context,
            }),
            other => Err(format!("registering the SAP completed with {other:?}")),
        },
        other => Err(format!(
            "ProtocolCmRegisterSap returned {:#010x}",
            other as u32
        )),
    }
}

/// NdisClDeregisterSap: ProtocolCmDeregisterSap, completed by NdisCmDeregisterSapComplete.
pub fn deregister_sap(sap: Sap) -> Result<(), String> {
    let result = returned(call_handler(
        cm_handler("CmDeregisterSapHandler")?,
        &[sap.context],
        "ProtocolCmDeregisterSap",
    ));
    match result {
        status::SUCCESS => Ok(()),
        status::PENDING => match events::take(
            COMPLETION_LIMIT,
            |e| matches!(e, Event::DeregisterSapComplete { sap: s, .. } if *s == sap.handle),
        )? {
            Event::DeregisterSapComplete {
                status: status::SUCCESS,
                ..
            } => Ok(()),
            other => Err(format!("deregistering the SAP completed with {other:?}")),
        },
        other => Err(format!(
            "ProtocolCmDeregisterSap returned {:#010x}",
            other as u32
        )),
    }
}

/// Accepts a dispatched incoming call on `vc` (ProtocolCmIncomingCallComplete with
/// NDIS_STATUS_SUCCESS and the call parameters the MCM dispatched); the MCM then reports the
/// call connected (NdisCmDispatchCallConnected).
pub fn accept_dispatched(vc: usize, call_parameters: usize) -> Result<(), String> {
    let known = objects::vc(vc).ok_or("the incoming call is on an unknown VC")?;
    call_handler(
        cm_handler("CmIncomingCallCompleteHandler")?,
        &[
            status::SUCCESS as u32 as usize,
            known.context,
            call_parameters,
        ],
        "ProtocolCmIncomingCallComplete",
    );
    Ok(())
}

/// Waits for the MCM to dispatch an incoming call on `sap`, accepts it
/// (ProtocolCmIncomingCallComplete with NDIS_STATUS_SUCCESS) and waits until the call is
/// connected (NdisCmDispatchCallConnected). Activation may come before the dispatch or after
/// the accept (notes/tapi-proxy.md, conflict 3): both are accepted.
pub fn accept_incoming(sap: &Sap, limit: std::time::Duration) -> Result<Vc, String> {
    let handle = sap.handle;
    let Event::IncomingCall {
        vc,
        call_parameters,
        ..
    } = events::take(
        limit,
        |e| matches!(e, Event::IncomingCall { sap, .. } if *sap == handle),
    )?
    else {
        return Err("unexpected event".into());
    };
    let known = objects::vc(vc).ok_or("the incoming call is on an unknown VC")?;
    call_handler(
        cm_handler("CmIncomingCallCompleteHandler")?,
        &[
            status::SUCCESS as u32 as usize,
            known.context,
            call_parameters,
        ],
        "ProtocolCmIncomingCallComplete",
    );
    events::take(
        COMPLETION_LIMIT,
        |e| matches!(e, Event::CallConnected { vc: v } if *v == vc),
    )?;
    let known = objects::vc(vc).ok_or("the VC vanished")?;
    if !known.active {
        return Err("the incoming call connected on a VC that was never activated".into());
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_call_parameters_parse_as_the_driver_reads_them() {
        let block = make_call_parameters(2, "isp");
        let media = peek_usize(
            block + offset_of!(CoCallParameters, media_parameters),
            "MediaParameters",
        );
        let specific = media + offset_of!(CoMediaParameters, media_specific);
        let length = memmap::peek_u32(
            specific + offset_of!(CoSpecificParameters, length),
            "Length",
        );
        let bytes = memmap::peek(
            specific + offset_of!(CoSpecificParameters, parameters),
            length as usize,
            "Parameters",
        );
        type M = CoAfTapiMakeCallParameters;
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!(u32_at(offset_of!(M, line_id)), 2);
        assert_eq!(u32_at(offset_of!(M, flags)), flags::OUTGOING_CALL);
        // DestAddress: Length, then Offset counted from the descriptor itself.
        let desc = offset_of!(M, dest_address);
        let length = u16::from_le_bytes([bytes[desc], bytes[desc + 1]]) as usize;
        let offset = usize::from_le_bytes(
            bytes[desc + offset_of!(NdisVarDataDesc, offset)..][..size_of::<usize>()]
                .try_into()
                .unwrap(),
        );
        assert_eq!(&bytes[desc + offset..desc + offset + length], b"isp\0");
        let lcp = offset_of!(M, line_call_params);
        assert_eq!(u16::from_le_bytes([bytes[lcp], bytes[lcp + 1]]), 0);
        memmap::release(block);
    }
}
