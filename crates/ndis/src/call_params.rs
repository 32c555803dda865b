//! The TAPI call parameters an MCM reads and writes, as pure functions over bytes (WDK:
//! "Making outgoing calls", "Accepting incoming calls", "Specifying parameters for an incoming
//! call"; ns-ndis-_co_call_parameters and the CO_AF_TAPI_* previous-versions pages).
//!
//! - An outgoing call's `CO_AF_TAPI_MAKE_CALL_PARAMETERS` arrives in
//!   `CO_CALL_PARAMETERS.MediaParameters->MediaSpecific.Parameters`: [`parse_make_call`] reads
//!   it from those `Length` bytes.
//! - An incoming call's parameters are the driver's to build: [`build_incoming_call`] lays out
//!   `CO_CALL_PARAMETERS`, its call-manager and media parameters, the
//!   `CO_AF_TAPI_INCOMING_CALL_PARAMETERS` and its `LINE_CALL_INFO` in one buffer whose address
//!   the caller gives, so the embedded pointers are right without any `unsafe` here.
//!
//! `NDIS_VAR_DATA_DESC.Offset` counts from the descriptor itself and is a `ULONG_PTR` (see
//! [`crate::tapi`]); everything is little-endian, as on every Windows architecture.
#![forbid(unsafe_code)]

use core::mem::{offset_of, size_of};

use crate::callmgr::{
    CoCallManagerParameters, CoCallParameters, CoFlowParameters, CoMediaParameters,
    CoSpecificParameters, media_flags,
};
use crate::tapi::{
    CoAfTapiIncomingCallParameters, CoAfTapiMakeCallParameters, LineCallInfo, NdisVarDataDesc,
    flags, line,
};

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_usize(bytes: &[u8], at: usize) -> Option<usize> {
    const N: usize = size_of::<usize>();
    let b = bytes.get(at..at.checked_add(N)?)?;
    let mut raw = [0u8; N];
    raw.copy_from_slice(b);
    Some(usize::from_le_bytes(raw))
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn put_usize(bytes: &mut [u8], at: usize, value: usize) {
    bytes[at..at + size_of::<usize>()].copy_from_slice(&value.to_le_bytes());
}

/// Reads the data an `NDIS_VAR_DATA_DESC` at `desc` (an offset into `bytes`) describes.
fn var_data(bytes: &[u8], desc: usize) -> Option<&[u8]> {
    let length = read_u16(bytes, desc + offset_of!(NdisVarDataDesc, length))? as usize;
    if length == 0 {
        return Some(&[]);
    }
    let offset = read_usize(bytes, desc + offset_of!(NdisVarDataDesc, offset))?;
    let start = desc.checked_add(offset)?;
    bytes.get(start..start.checked_add(length)?)
}

/// What an outgoing call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MakeCall<'a> {
    pub line_id: u32,
    pub address_id: u32,
    /// The address given to lineMakeCall: for PPPoE, the service name (RAS phonebook
    /// "PhoneNumber"). Its encoding (ANSI or UTF-16) is not documented: see [`dest_text`].
    pub dest_address: &'a [u8],
    /// The `LINE_CALL_PARAMS`, if any.
    pub line_call_params: &'a [u8],
}

/// Why the media-specific parameters of a make call were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MakeCallError {
    /// Shorter than a `CO_AF_TAPI_MAKE_CALL_PARAMETERS`.
    Truncated,
    /// `ulFlags` is not `CO_TAPI_FLAG_OUTGOING_CALL` (the only value the WDK allows).
    Flags(u32),
    /// A descriptor points outside the parameters.
    Descriptor,
}

/// Parses the `Length` bytes of `MediaSpecific.Parameters` of an outgoing call.
pub fn parse_make_call(bytes: &[u8]) -> Result<MakeCall<'_>, MakeCallError> {
    if bytes.len() < size_of::<CoAfTapiMakeCallParameters>() {
        return Err(MakeCallError::Truncated);
    }
    let field = |at| read_u32(bytes, at).ok_or(MakeCallError::Truncated);
    let line_id = field(offset_of!(CoAfTapiMakeCallParameters, line_id))?;
    let address_id = field(offset_of!(CoAfTapiMakeCallParameters, address_id))?;
    let call_flags = field(offset_of!(CoAfTapiMakeCallParameters, flags))?;
    if call_flags != flags::OUTGOING_CALL {
        return Err(MakeCallError::Flags(call_flags));
    }
    let dest_address = var_data(bytes, offset_of!(CoAfTapiMakeCallParameters, dest_address))
        .ok_or(MakeCallError::Descriptor)?;
    let line_call_params = var_data(
        bytes,
        offset_of!(CoAfTapiMakeCallParameters, line_call_params),
    )
    .ok_or(MakeCallError::Descriptor)?;
    Ok(MakeCall {
        line_id,
        address_id,
        dest_address,
        line_call_params,
    })
}

/// The destination address as bytes of text: UTF-16LE is recognised by its zero high bytes and
/// narrowed when it is ASCII; a trailing NUL is removed. (The WDK does not say which encoding
/// NDPROXY uses [?]; this accepts both.)
pub fn dest_text(raw: &[u8], out: &mut [u8]) -> usize {
    let looks_utf16 =
        raw.len() >= 2 && raw.len().is_multiple_of(2) && raw.chunks_exact(2).all(|c| c[1] == 0);
    let mut len = 0;
    let mut push = |byte: u8| {
        if let Some(slot) = out.get_mut(len) {
            *slot = byte;
            len += 1;
        }
    };
    if looks_utf16 {
        raw.chunks_exact(2).map(|c| c[0]).for_each(&mut push);
    } else {
        raw.iter().copied().for_each(&mut push);
    }
    while len > 0 && out[len - 1] == 0 {
        len -= 1;
    }
    len
}

/// Offsets of the parts of an incoming call's parameter block (see [`build_incoming_call`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingLayout {
    pub call_manager: usize,
    pub media: usize,
    pub tapi: usize,
    pub line_call_info: usize,
    pub total: usize,
}

const fn round_up(value: usize, to: usize) -> usize {
    value.div_ceil(to) * to
}

/// Where everything goes. `CO_MEDIA_PARAMETERS` needs 4-byte alignment only, and its
/// `MediaSpecific.Parameters` lies 20 bytes in; placing it 4 bytes past an 8-byte boundary puts
/// the TAPI structure (whose descriptor holds a `ULONG_PTR`) on an 8-byte boundary.
pub const fn incoming_layout() -> IncomingLayout {
    let call_manager = round_up(size_of::<CoCallParameters>(), 8);
    let after_cm = round_up(call_manager + size_of::<CoCallManagerParameters>(), 8);
    let media = after_cm + 4;
    let tapi = media
        + offset_of!(CoMediaParameters, media_specific)
        + offset_of!(CoSpecificParameters, parameters);
    let line_call_info = round_up(tapi + size_of::<CoAfTapiIncomingCallParameters>(), 8);
    let total = line_call_info + size_of::<LineCallInfo>();
    IncomingLayout {
        call_manager,
        media,
        tapi,
        line_call_info,
        total,
    }
}

/// The bytes [`build_incoming_call`] needs.
pub const INCOMING_CALL_BYTES: usize = incoming_layout().total;

/// What an incoming call reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomingCall {
    pub line_id: u32,
    /// Both directions, bytes per second (the flow specs' `PeakBandwidth`).
    pub bytes_per_second: u32,
    /// The largest frame, for `MaxSduSize` and `ReceiveSizeHint`.
    pub max_frame_size: u32,
}

/// Writes an incoming call's complete `CO_CALL_PARAMETERS` into `block`, which lives at address
/// `base` (8-byte aligned) and is at least [`INCOMING_CALL_BYTES`] long. Every byte up to
/// `INCOMING_CALL_BYTES` is written. Returns the length used.
pub fn build_incoming_call(block: &mut [u8], base: usize, call: &IncomingCall) -> usize {
    let layout = incoming_layout();
    assert!(
        base.is_multiple_of(8),
        "the parameter block must be 8-byte aligned"
    );
    let block = &mut block[..layout.total];
    block.fill(0);

    put_u32(block, offset_of!(CoCallParameters, flags), 0);
    put_usize(
        block,
        offset_of!(CoCallParameters, call_mgr_parameters),
        base + layout.call_manager,
    );
    put_usize(
        block,
        offset_of!(CoCallParameters, media_parameters),
        base + layout.media,
    );

    for flow in [
        offset_of!(CoCallManagerParameters, transmit),
        offset_of!(CoCallManagerParameters, receive),
    ] {
        let at = layout.call_manager + flow;
        put_u32(
            block,
            at + offset_of!(CoFlowParameters, token_rate),
            call.bytes_per_second,
        );
        put_u32(
            block,
            at + offset_of!(CoFlowParameters, peak_bandwidth),
            call.bytes_per_second,
        );
        put_u32(
            block,
            at + offset_of!(CoFlowParameters, max_sdu_size),
            call.max_frame_size,
        );
    }

    let media = layout.media;
    put_u32(
        block,
        media + offset_of!(CoMediaParameters, flags),
        media_flags::TRANSMIT_VC | media_flags::RECEIVE_VC,
    );
    put_u32(
        block,
        media + offset_of!(CoMediaParameters, receive_size_hint),
        call.max_frame_size,
    );
    let specific = media + offset_of!(CoMediaParameters, media_specific);
    let tapi_and_info = (layout.total - layout.tapi) as u32;
    put_u32(
        block,
        specific + offset_of!(CoSpecificParameters, length),
        tapi_and_info,
    );

    let tapi = layout.tapi;
    put_u32(
        block,
        tapi + offset_of!(CoAfTapiIncomingCallParameters, line_id),
        call.line_id,
    );
    put_u32(
        block,
        tapi + offset_of!(CoAfTapiIncomingCallParameters, flags),
        flags::INCOMING_CALL,
    );
    let desc = tapi + offset_of!(CoAfTapiIncomingCallParameters, line_call_info);
    let info_len = size_of::<LineCallInfo>() as u16;
    put_u16(block, desc + offset_of!(NdisVarDataDesc, length), info_len);
    put_u16(
        block,
        desc + offset_of!(NdisVarDataDesc, maximum_length),
        info_len,
    );
    put_usize(
        block,
        desc + offset_of!(NdisVarDataDesc, offset),
        layout.line_call_info - desc,
    );

    let info = layout.line_call_info;
    for (field, value) in [
        (offset_of!(LineCallInfo, total_size), u32::from(info_len)),
        (offset_of!(LineCallInfo, needed_size), u32::from(info_len)),
        (offset_of!(LineCallInfo, used_size), u32::from(info_len)),
        (offset_of!(LineCallInfo, line_device_id), call.line_id),
        (offset_of!(LineCallInfo, bearer_mode), line::BEARERMODE_DATA),
        (
            offset_of!(LineCallInfo, rate),
            call.bytes_per_second.saturating_mul(8),
        ),
        (
            offset_of!(LineCallInfo, media_mode),
            line::MEDIAMODE_DIGITALDATA,
        ),
        (
            offset_of!(LineCallInfo, call_states),
            line::CALLSTATE_OFFERING,
        ),
        (offset_of!(LineCallInfo, origin), line::CALLORIGIN_INBOUND),
        (offset_of!(LineCallInfo, reason), line::CALLREASON_DIRECT),
    ] {
        put_u32(block, info + field, value);
    }
    layout.total
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn make_call_bytes(flags_value: u32, dest: &[u8]) -> Vec<u8> {
        let fixed = size_of::<CoAfTapiMakeCallParameters>();
        let mut bytes = std::vec![0u8; fixed + dest.len()];
        put_u32(&mut bytes, 0, 3);
        put_u32(&mut bytes, 8, flags_value);
        let desc = offset_of!(CoAfTapiMakeCallParameters, dest_address);
        put_u16(&mut bytes, desc, dest.len() as u16);
        put_u16(&mut bytes, desc + 2, dest.len() as u16);
        put_usize(
            &mut bytes,
            desc + offset_of!(NdisVarDataDesc, offset),
            fixed - desc,
        );
        bytes[fixed..].copy_from_slice(dest);
        bytes
    }

    #[test]
    fn a_make_call_yields_its_line_and_destination() {
        let bytes = make_call_bytes(flags::OUTGOING_CALL, b"isp-service\0");
        let call = parse_make_call(&bytes).unwrap();
        assert_eq!(call.line_id, 3);
        assert_eq!(call.dest_address, b"isp-service\0");
        assert!(call.line_call_params.is_empty());
        let mut text = [0u8; 32];
        let n = dest_text(call.dest_address, &mut text);
        assert_eq!(&text[..n], b"isp-service");
    }

    #[test]
    fn a_utf16_destination_is_narrowed() {
        let wide: Vec<u8> = "dsl\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut text = [0u8; 8];
        let n = dest_text(&wide, &mut text);
        assert_eq!(&text[..n], b"dsl");
    }

    #[test]
    fn bad_make_calls_are_refused() {
        assert_eq!(parse_make_call(&[0; 8]), Err(MakeCallError::Truncated));
        let bytes = make_call_bytes(flags::INCOMING_CALL, b"x");
        assert_eq!(parse_make_call(&bytes), Err(MakeCallError::Flags(2)));
        let mut bytes = make_call_bytes(flags::OUTGOING_CALL, b"abc");
        let desc = offset_of!(CoAfTapiMakeCallParameters, dest_address);
        put_u16(&mut bytes, desc, 200);
        assert_eq!(parse_make_call(&bytes), Err(MakeCallError::Descriptor));
    }

    #[test]
    fn the_incoming_block_links_its_parts_and_fills_every_byte() {
        let base = 0x1000_0000usize;
        let mut block = std::vec![0xAAu8; INCOMING_CALL_BYTES + 8];
        let call = IncomingCall {
            line_id: 1,
            bytes_per_second: 1_250_000,
            max_frame_size: 1492,
        };
        let used = build_incoming_call(&mut block, base, &call);
        assert_eq!(used, INCOMING_CALL_BYTES);
        assert_eq!(block[used], 0xAA, "nothing written past the block");
        let layout = incoming_layout();
        let ptr = |at| read_usize(&block, at).unwrap();
        assert_eq!(
            ptr(offset_of!(CoCallParameters, call_mgr_parameters)),
            base + layout.call_manager
        );
        assert_eq!(
            ptr(offset_of!(CoCallParameters, media_parameters)),
            base + layout.media
        );
        assert_eq!(
            (base + layout.tapi) % 8,
            0,
            "the TAPI structure is 8-byte aligned"
        );
        let peak = layout.call_manager + offset_of!(CoFlowParameters, peak_bandwidth);
        assert_eq!(read_u32(&block, peak), Some(1_250_000));
        // The media-specific bytes parse back with the descriptor rules.
        let specific = layout.media + offset_of!(CoMediaParameters, media_specific);
        let length = read_u32(&block, specific + 4).unwrap() as usize;
        let tapi = &block[layout.tapi..layout.tapi + length];
        assert_eq!(read_u32(tapi, 0), Some(1));
        assert_eq!(read_u32(tapi, 8), Some(flags::INCOMING_CALL));
        let info = var_data(
            tapi,
            offset_of!(CoAfTapiIncomingCallParameters, line_call_info),
        )
        .unwrap();
        assert_eq!(info.len(), size_of::<LineCallInfo>());
        assert_eq!(
            read_u32(info, offset_of!(LineCallInfo, line_device_id)),
            Some(1)
        );
        assert_eq!(
            read_u32(info, offset_of!(LineCallInfo, origin)),
            Some(line::CALLORIGIN_INBOUND)
        );
        assert_eq!(
            read_u32(info, offset_of!(LineCallInfo, media_mode)),
            Some(line::MEDIAMODE_DIGITALDATA)
        );
    }
}
