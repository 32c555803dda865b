//! NDISWAN on a connected VC (WDK: "Sending Packets from a CoNDIS WAN Miniport Driver",
//! "Indicating Received Data from a CoNDIS WAN Miniport Driver", OID_WAN_CO_GET_INFO,
//! OID_WAN_CO_SET_LINK_INFO, NDIS_STATUS_WAN_CO_LINKPARAMS; notes/tapi-proxy.md section 4):
//! WAN OIDs through MiniportCoOidRequest, PPP frames sent with MiniportCoSendNetBufferLists
//! within the send window, received frames taken from the indications and given back with
//! MiniportReturnNetBufferLists.
#![forbid(unsafe_code)]

use std::time::Duration;

use rswan_ndis::buffer::flags::{RETURN_DISPATCH_LEVEL, SEND_DISPATCH_LEVEL};
use rswan_ndis::oid::read_ulongs;
use rswan_ndis::oids::{OID_WAN_CO_GET_INFO, OID_WAN_CO_GET_STATS_INFO, OID_WAN_CO_SET_LINK_INFO};
use rswan_ndis::status;
use rswan_ndis::wan::{NdisWanCoGetStatsInfo, wan_status};

use crate::kernel::checks::{checks, enforce};
use crate::kernel::events::{self, Event};
use crate::kernel::objects::{self, Vc};
use crate::kernel::{irql, kernel, packets};
use crate::loader::call_handler;
use crate::verifier::Site;
use crate::windows::request::{Answer, Request};

/// How long a pended WAN OID may take.
const COMPLETION_LIMIT: Duration = Duration::from_secs(10);
/// Free room NDISWAN leaves in front of each frame for the miniport's headers.
pub const SEND_BACKFILL: usize = 64;

/// The entry points NDISWAN reaches, and the adapter context they take.
#[derive(Debug, Clone, Copy)]
struct CoPath {
    adapter: usize,
    oid_request: usize,
    send: usize,
    returns: usize,
}

fn co_path() -> Result<CoPath, String> {
    let miniport = kernel()
        .miniport()
        .ok_or("no miniport driver is registered")?;
    let co = miniport
        .co_handlers
        .ok_or("the miniport registered no NDIS_MINIPORT_CO_CHARACTERISTICS")?;
    let adapter = objects::adapter()
        .and_then(|a| a.context)
        .ok_or("the adapter is not initialized")?;
    Ok(CoPath {
        adapter,
        oid_request: co.oid_request,
        send: co.send_net_buffer_lists,
        returns: miniport.registration.handlers.return_net_buffer_lists,
    })
}

/// A WAN OID to MiniportCoOidRequest, on `vc` or adapter-wide.
pub fn oid(vc: Option<&Vc>, request: &Request) -> Result<Answer, String> {
    let path = co_path()?;
    request.issue(
        path.oid_request,
        &[path.adapter, vc.map_or(0, |v| v.context), request.address],
        "MiniportCoOidRequest",
        |event, address| match event {
            Event::MiniportOidComplete { request, status } if *request == address => Some(*status),
            _ => None,
        },
        COMPLETION_LIMIT,
    )
}

/// NDIS_WAN_CO_INFO: MaxFrameSize, MaxSendWindow, FramingBits, DesiredACCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WanInfo {
    pub max_frame_size: u32,
    pub max_send_window: u32,
    pub framing_bits: u32,
    pub desired_accm: u32,
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// OID_WAN_CO_GET_INFO (adapter-wide).
pub fn get_info() -> Result<WanInfo, String> {
    let answer = oid(None, &Request::query(OID_WAN_CO_GET_INFO, 16))?;
    if answer.status != status::SUCCESS {
        return Err(format!(
            "OID_WAN_CO_GET_INFO failed with {:#010x}",
            answer.status as u32
        ));
    }
    Ok(WanInfo {
        max_frame_size: u32_at(&answer.data, 0),
        max_send_window: u32_at(&answer.data, 4),
        framing_bits: u32_at(&answer.data, 8),
        desired_accm: u32_at(&answer.data, 12),
    })
}

/// OID_WAN_CO_GET_STATS_INFO on `vc`, or adapter-wide (every VC since initialization).
pub fn stats_info(vc: Option<&Vc>) -> Result<NdisWanCoGetStatsInfo, String> {
    let size = size_of::<NdisWanCoGetStatsInfo>();
    let answer = oid(vc, &Request::query(OID_WAN_CO_GET_STATS_INFO, size))?;
    let ulongs = read_ulongs(&answer.data).filter(|_| answer.status == status::SUCCESS);
    let ulongs = ulongs.ok_or_else(|| {
        format!(
            "OID_WAN_CO_GET_STATS_INFO answered {:#010x} with {} bytes",
            answer.status as u32,
            answer.data.len()
        )
    })?;
    Ok(NdisWanCoGetStatsInfo::from_ulongs(ulongs))
}

/// OID_WAN_CO_SET_LINK_INFO on `vc`: frame sizes, PPP framing both ways, no compression bits,
/// ACCM 0 (NDIS_WAN_CO_SET_LINK_INFO, 8 ULONGs).
pub fn set_link_info(vc: &Vc, max_frame: u32, framing_bits: u32) -> Result<i32, String> {
    let mut data = Vec::new();
    for value in [max_frame, max_frame, framing_bits, framing_bits, 0, 0, 0, 0] {
        data.extend_from_slice(&value.to_le_bytes());
    }
    Ok(oid(Some(vc), &Request::set(OID_WAN_CO_SET_LINK_INFO, &data))?.status)
}

/// Sends one PPP frame on `vc` (MiniportCoSendNetBufferLists at PASSIVE_LEVEL): the NBL's
/// SourceHandle is the VC handle, as the sender sets it. Returns the NBL; its completion
/// arrives as an [`Event::SendComplete`].
pub fn send(vc: &Vc, frame: &[u8]) -> Result<usize, String> {
    send_at(vc, frame, false)
}

/// Sends one PPP frame on `vc`, at DISPATCH_LEVEL with NDIS_SEND_FLAGS_DISPATCH_LEVEL when
/// `at_dispatch` (how NDISWAN sends from its own DPCs).
pub fn send_at(vc: &Vc, frame: &[u8], at_dispatch: bool) -> Result<usize, String> {
    send_frames_at(vc, &[frame], at_dispatch)
}

/// Sends PPP frames on `vc` in one NBL, one NET_BUFFER each (NDISWAN may chain several
/// NET_BUFFERs in an NBL; WDK "NET_BUFFER architecture": each is one frame). The NBL completes
/// once.
pub fn send_frames_at(vc: &Vc, frames: &[&[u8]], at_dispatch: bool) -> Result<usize, String> {
    let path = co_path()?;
    let nbl = packets::host_nbl_of(frames, SEND_BACKFILL);
    packets::set_source_handle(nbl, vc.handle);
    enforce(checks().upper_sends.handed_over(nbl, Site(0)));
    let flags = if at_dispatch {
        irql::set(irql::DISPATCH_LEVEL);
        SEND_DISPATCH_LEVEL
    } else {
        0
    };
    call_handler(
        path.send,
        &[vc.context, nbl, flags as usize],
        "MiniportCoSendNetBufferLists",
    );
    if at_dispatch {
        irql::set(irql::PASSIVE_LEVEL);
    }
    Ok(nbl)
}

/// Waits for the completion of `nbl` and frees it; returns its completion status.
pub fn wait_send_complete(nbl: usize, limit: Duration) -> Result<i32, String> {
    let Event::SendComplete { status, .. } = events::take(
        limit,
        |e| matches!(e, Event::SendComplete { nbl: n, .. } if *n == nbl),
    )?
    else {
        return Err("unexpected event".into());
    };
    packets::free_host_nbl(nbl)?;
    Ok(status)
}

/// A send the driver completed: the NBL (already freed) and its completion status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCompletion {
    pub nbl: usize,
    pub status: i32,
}

/// Takes every completion of the sends `mine` accepts, waiting up to `limit` for the first,
/// and frees their NBLs (NDISWAN's bulk form of [`wait_send_complete`]).
pub fn take_send_completions(
    limit: Duration,
    mine: impl Fn(usize) -> bool,
) -> Result<Vec<SendCompletion>, String> {
    let mut completions = Vec::new();
    for event in events::take_all(
        limit,
        |e| matches!(e, Event::SendComplete { nbl, .. } if mine(*nbl)),
    ) {
        if let Event::SendComplete { nbl, status, .. } = event {
            packets::free_host_nbl(nbl)?;
            completions.push(SendCompletion { nbl, status });
        }
    }
    Ok(completions)
}

/// Gives an indicated NBL back (MiniportReturnNetBufferLists) unless the driver kept it.
fn give_back(nbl: usize, kept: bool) -> Result<(), String> {
    if !kept {
        return_indicated(nbl, false)?;
    }
    Ok(())
}

/// Gives back `nbl`, an NBL the driver indicated up (MiniportReturnNetBufferLists), at
/// DISPATCH_LEVEL with NDIS_RETURN_FLAGS_DISPATCH_LEVEL when `at_dispatch` (as NDISWAN returns
/// from its DPCs), else at PASSIVE_LEVEL. For a receive taken with [`take_indication`].
pub fn return_indicated(nbl: usize, at_dispatch: bool) -> Result<(), String> {
    let path = co_path()?;
    {
        let mut checks = checks();
        enforce(checks.receives.completed(nbl, Site(0)));
        checks.indicated_memory.remove(&nbl);
    }
    packets::set_next_nbl(nbl, 0);
    let flags = if at_dispatch {
        irql::set(irql::DISPATCH_LEVEL);
        RETURN_DISPATCH_LEVEL
    } else {
        0
    };
    let started = std::time::Instant::now();
    call_handler(
        path.returns,
        &[path.adapter, nbl, flags as usize],
        "MiniportReturnNetBufferLists",
    );
    crate::windows::lower::count_receive_path(started.elapsed());
    if at_dispatch {
        irql::set(irql::PASSIVE_LEVEL);
    }
    Ok(())
}

/// The next receive indication on `vc`: (NBL, frame, whether the driver indicated it with
/// NDIS_RECEIVE_FLAGS_RESOURCES and so keeps it).
fn next_receive(vc: &Vc, limit: Duration) -> Result<(usize, Vec<u8>, bool), String> {
    let handle = vc.handle;
    let Event::Receive {
        nbl, frame, kept, ..
    } = events::take(
        limit,
        |e| matches!(e, Event::Receive { vc, .. } if *vc == handle),
    )?
    else {
        return Err("unexpected event".into());
    };
    Ok((nbl, frame, kept))
}

/// A receive indication on `vc`, taken without giving its NBL back: (NBL, frame). The caller
/// returns it with [`return_indicated`] (the driver may not have kept it: RESOURCES is not
/// used by the driver's indications, which the scenario checks).
pub fn take_indication(vc: &Vc, limit: Duration) -> Result<(usize, Vec<u8>), String> {
    let (nbl, frame, kept) = next_receive(vc, limit)?;
    if kept {
        return Err(format!(
            "NBL {nbl:#x} was indicated with NDIS_RECEIVE_FLAGS_RESOURCES; it cannot be held"
        ));
    }
    Ok((nbl, frame))
}

/// Waits for a frame indicated on `vc`, gives its NBL back (MiniportReturnNetBufferLists)
/// unless the driver kept it, and returns the frame.
pub fn receive(vc: &Vc, limit: Duration) -> Result<Vec<u8>, String> {
    let (nbl, frame, kept) = next_receive(vc, limit)?;
    give_back(nbl, kept)?;
    Ok(frame)
}

/// Takes every frame indicated on any VC, waiting up to `limit` for the first, and gives
/// each NBL back; returns (VC handle, frame) in the order the driver indicated them.
pub fn take_receives(limit: Duration) -> Result<Vec<(usize, Vec<u8>)>, String> {
    let mut frames = Vec::new();
    for event in events::take_all(limit, |e| matches!(e, Event::Receive { .. })) {
        if let Event::Receive {
            vc,
            nbl,
            frame,
            kept,
        } = event
        {
            give_back(nbl, kept)?;
            frames.push((vc, frame));
        }
    }
    Ok(frames)
}

/// WAN_CO_LINKPARAMS: TransmitSpeed, ReceiveSpeed (bytes/s), SendWindow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkParams {
    pub transmit_speed: u32,
    pub receive_speed: u32,
    pub send_window: u32,
}

/// Waits for NDIS_STATUS_WAN_CO_LINKPARAMS on `vc`.
pub fn link_params(vc: &Vc, limit: Duration) -> Result<LinkParams, String> {
    let handle = vc.handle;
    let Event::Status { buffer, .. } = events::take(
        limit,
        |e| matches!(e, Event::Status { vc, code, .. } if *vc == handle && *code == wan_status::WAN_CO_LINKPARAMS),
    )?
    else {
        return Err("unexpected event".into());
    };
    Ok(LinkParams {
        transmit_speed: u32_at(&buffer, 0),
        receive_speed: u32_at(&buffer, 4),
        send_window: u32_at(&buffer, 8),
    })
}

/// Takes every frame already indicated on `vc` (giving each NBL back); returns them.
pub fn drain_receives(vc: &Vc) -> Result<Vec<Vec<u8>>, String> {
    let mut frames = Vec::new();
    while let Ok(frame) = receive(vc, Duration::from_millis(1)) {
        frames.push(frame);
    }
    Ok(frames)
}
