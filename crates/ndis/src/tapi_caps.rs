//! Answers to the TAPI caps OIDs NDPROXY sends after opening the address family
//! (`OID_CO_TAPI_CM_CAPS`, `OID_CO_TAPI_LINE_CAPS`, `OID_CO_TAPI_ADDRESS_CAPS`; WDK:
//! "CoNDIS TAPI initialization", oid-co-tapi-line-caps, oid-co-tapi-address-caps), as pure
//! functions over the request buffer.
//!
//! The `LINE_DEV_CAPS` and `LINE_ADDRESS_CAPS` inside follow TAPI's variable-length rules
//! (learn.microsoft.com/windows/win32/tapi/memory-allocation):
//! - the requester's `ulTotalSize` bounds what the provider writes; the WDK does not say who
//!   sets it inside the OID buffer, so a value that does not fit the buffer is replaced by the
//!   buffer's room [I];
//! - the provider sets `ulNeededSize` (everything it has) and `ulUsedSize` (what it wrote);
//! - variable data follows the fixed part, each `ul...Offset` counts from the start of the
//!   `LINE_*` structure, and data that does not fit is left out whole (size and offset 0).
//!
//! A buffer too small for the fixed part fails with `NDIS_STATUS_BUFFER_TOO_SHORT` and the
//! full size in `BytesNeeded`; one that holds the fixed part succeeds even if some variable
//! data had to be left out, as a TAPI provider does (`ulNeededSize` > `ulTotalSize` tells the
//! requester to ask again) [I: the WDK does not say which NDPROXY expects].
#![forbid(unsafe_code)]

use core::mem::{offset_of, size_of};

use crate::oid::{RequestResult, le_bytes};
use crate::tapi::{
    CO_TAPI_VERSION, CoTapiAddressCaps, CoTapiLineCaps, LineAddressCaps, LineDevCaps, line,
    string_format,
};
use crate::types::status;

/// How one line presents itself to TAPI.
#[derive(Debug, Clone, Copy)]
pub struct LineDescription<'a> {
    /// The line's name, ASCII, without a NUL (the answer adds it).
    pub name: &'a [u8],
    /// `ulProviderInfo`: NUL-separated ASCII fields, e.g. `b"PPPoE\0rswan\0"` (the layout WAN
    /// lines use, "MediaName\0ProviderName\0", is documented for NDIS WAN TAPI; using it here is
    /// an inference [I]).
    pub provider_info: &'a [u8],
    /// `ulMaxRate`, bits per second.
    pub max_rate_bps: u32,
}

/// `OID_CO_TAPI_CM_CAPS`: the TAPI version and the number of lines, all alike.
pub fn answer_cm_caps(num_lines: u32, out: &mut [u8]) -> RequestResult {
    let words: [u8; 12] = le_bytes([CO_TAPI_VERSION, num_lines, 0]);
    crate::oid::answer(out, &words)
}

fn put(region: &mut [u8], offset: usize, value: u32) {
    region[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn get(buffer: &[u8], offset: usize) -> Option<u32> {
    let bytes = buffer.get(offset..offset + 4)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The variable part of a `LINE_*` structure being filled.
struct VarData<'b> {
    /// The structure, `ulTotalSize` bytes long.
    region: &'b mut [u8],
    used: usize,
    needed: usize,
}

impl<'b> VarData<'b> {
    fn new(region: &'b mut [u8], fixed: usize) -> Self {
        VarData {
            region,
            used: fixed,
            needed: fixed,
        }
    }

    /// Appends `pieces` as one field if it fits whole; returns its (size, offset).
    fn place(&mut self, pieces: &[&[u8]]) -> (u32, u32) {
        let len: usize = pieces.iter().map(|p| p.len()).sum();
        self.needed += len;
        let start = self.used;
        let Some(dest) = self.region.get_mut(start..start + len) else {
            return (0, 0);
        };
        let mut at = 0;
        for piece in pieces {
            dest[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        }
        self.used += len;
        (len as u32, start as u32)
    }
}

/// Splits the OID buffer into its header and the `LINE_*` structure, sized by the rules above;
/// `None` when the fixed part does not fit.
fn line_region(buffer: &mut [u8], header: usize, fixed: usize) -> Option<&mut [u8]> {
    let room = buffer.len().checked_sub(header)?;
    if room < fixed {
        return None;
    }
    let requested = get(buffer, header).map_or(0, |v| v as usize);
    let total = if (fixed..=room).contains(&requested) {
        requested
    } else {
        room
    };
    Some(&mut buffer[header..header + total])
}

/// `OID_CO_TAPI_LINE_CAPS`: `buffer` is the request's buffer, `ulLineID` in, the rest out.
pub fn answer_line_caps<'a>(
    buffer: &mut [u8],
    num_lines: u32,
    describe: impl Fn(u32) -> LineDescription<'a>,
) -> RequestResult {
    let header = offset_of!(CoTapiLineCaps, line_dev_caps);
    let fixed = size_of::<LineDevCaps>();
    let line_id = get(buffer, offset_of!(CoTapiLineCaps, line_id));
    let description = describe(line_id.filter(|id| *id < num_lines).unwrap_or(0));
    let variable = description.provider_info.len() + description.name.len() + 1;
    if line_id.is_some_and(|id| id >= num_lines) {
        return RequestResult::failed(status::INVALID_DATA);
    }
    let Some(region) = line_region(buffer, header, fixed) else {
        return RequestResult::too_short(header + fixed + variable);
    };
    let line_id = line_id.unwrap_or(0);
    let total = region.len();
    region[..fixed].fill(0);
    let mut var = VarData::new(region, fixed);
    let (provider_size, provider_offset) = var.place(&[description.provider_info]);
    let (name_size, name_offset) = var.place(&[description.name, b"\0"]);
    let (used, needed) = (var.used, var.needed);
    let caps = &mut buffer[header..header + total];
    for (offset, value) in [
        (offset_of!(LineDevCaps, total_size), total as u32),
        (offset_of!(LineDevCaps, needed_size), needed as u32),
        (offset_of!(LineDevCaps, used_size), used as u32),
        (offset_of!(LineDevCaps, provider_info_size), provider_size),
        (
            offset_of!(LineDevCaps, provider_info_offset),
            provider_offset,
        ),
        (offset_of!(LineDevCaps, permanent_line_id), line_id),
        (offset_of!(LineDevCaps, line_name_size), name_size),
        (offset_of!(LineDevCaps, line_name_offset), name_offset),
        (offset_of!(LineDevCaps, string_format), string_format::ASCII),
        (
            offset_of!(LineDevCaps, address_modes),
            line::ADDRESSMODE_ADDRESSID,
        ),
        (offset_of!(LineDevCaps, num_addresses), 1),
        (offset_of!(LineDevCaps, bearer_modes), line::BEARERMODE_DATA),
        (offset_of!(LineDevCaps, max_rate), description.max_rate_bps),
        (
            offset_of!(LineDevCaps, media_modes),
            line::MEDIAMODE_DIGITALDATA,
        ),
        (
            offset_of!(LineDevCaps, dev_cap_flags),
            line::DEVCAPFLAGS_CLOSEDROP,
        ),
        (offset_of!(LineDevCaps, max_num_active_calls), 1),
        (offset_of!(LineDevCaps, answer_mode), line::ANSWERMODE_NONE),
    ] {
        put(caps, offset, value);
    }
    put(buffer, offset_of!(CoTapiLineCaps, line_id), line_id);
    put(buffer, offset_of!(CoTapiLineCaps, flags), 0);
    RequestResult {
        status: status::SUCCESS,
        bytes_done: (header + used) as u32,
        bytes_needed: (header + needed) as u32,
    }
}

/// The call states an rswan address goes through.
const CALL_STATES: u32 = line::CALLSTATE_IDLE
    | line::CALLSTATE_OFFERING
    | line::CALLSTATE_DIALING
    | line::CALLSTATE_PROCEEDING
    | line::CALLSTATE_CONNECTED
    | line::CALLSTATE_DISCONNECTED;

/// The reasons an rswan call can end with.
const DISCONNECT_MODES: u32 = line::DISCONNECTMODE_NORMAL
    | line::DISCONNECTMODE_UNKNOWN
    | line::DISCONNECTMODE_BUSY
    | line::DISCONNECTMODE_NOANSWER
    | line::DISCONNECTMODE_UNREACHABLE;

/// `OID_CO_TAPI_ADDRESS_CAPS`: `ulLineID` and `ulAddressID` in, the rest out. Every line has
/// one address (`ulNumAddresses` 1), able to carry one call.
pub fn answer_address_caps(buffer: &mut [u8], num_lines: u32) -> RequestResult {
    let header = offset_of!(CoTapiAddressCaps, line_address_caps);
    let fixed = size_of::<LineAddressCaps>();
    let line_id = get(buffer, offset_of!(CoTapiAddressCaps, line_id));
    let address_id = get(buffer, offset_of!(CoTapiAddressCaps, address_id));
    if line_id.is_some_and(|id| id >= num_lines) || address_id.is_some_and(|id| id != 0) {
        return RequestResult::failed(status::INVALID_DATA);
    }
    let Some(region) = line_region(buffer, header, fixed) else {
        return RequestResult::too_short(header + fixed);
    };
    let total = region.len();
    region[..fixed].fill(0);
    for (offset, value) in [
        (offset_of!(LineAddressCaps, total_size), total as u32),
        (offset_of!(LineAddressCaps, needed_size), fixed as u32),
        (offset_of!(LineAddressCaps, used_size), fixed as u32),
        (
            offset_of!(LineAddressCaps, line_device_id),
            line_id.unwrap_or(0),
        ),
        (
            offset_of!(LineAddressCaps, address_sharing),
            line::ADDRESSSHARING_PRIVATE,
        ),
        (offset_of!(LineAddressCaps, call_states), CALL_STATES),
        (
            offset_of!(LineAddressCaps, disconnect_modes),
            DISCONNECT_MODES,
        ),
        (offset_of!(LineAddressCaps, max_num_active_calls), 1),
        (
            offset_of!(LineAddressCaps, addr_cap_flags),
            line::ADDRCAPFLAGS_DIALED,
        ),
        (
            offset_of!(LineAddressCaps, call_features),
            line::CALLFEATURE_ANSWER | line::CALLFEATURE_DROP,
        ),
    ] {
        put(region, offset, value);
    }
    put(buffer, offset_of!(CoTapiAddressCaps, flags), 0);
    RequestResult::success(header + fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: &[u8] = b"PPPoE\0rswan\0";

    fn describe(line_id: u32) -> LineDescription<'static> {
        LineDescription {
            name: if line_id == 0 {
                b"rswan PPPoE 0"
            } else {
                b"rswan PPPoE 1"
            },
            provider_info: PROVIDER,
            max_rate_bps: 100_000_000,
        }
    }

    /// Offsets from the tapi-proxy facts sheet (computed from the documented field order).
    const DEV_CAPS: usize = 8;

    #[test]
    fn cm_caps_report_version_1_3_and_the_line_count() {
        let mut out = [0xAAu8; 12];
        assert_eq!(answer_cm_caps(2, &mut out), RequestResult::success(12));
        assert_eq!(get(&out, 0), Some(0x0001_0003));
        assert_eq!(get(&out, 4), Some(2));
        assert_eq!(get(&out, 8), Some(0));
        assert_eq!(
            answer_cm_caps(2, &mut [0; 11]),
            RequestResult::too_short(12)
        );
    }

    #[test]
    fn line_caps_fill_the_fixed_part_and_both_strings() {
        let mut buffer = [0xAAu8; 400];
        buffer[..4].copy_from_slice(&1u32.to_le_bytes());
        buffer[DEV_CAPS..DEV_CAPS + 4].copy_from_slice(&0u32.to_le_bytes());
        let result = answer_line_caps(&mut buffer, 2, describe);
        let strings = PROVIDER.len() + b"rswan PPPoE 1\0".len();
        assert_eq!(result.status, status::SUCCESS);
        assert_eq!(result.bytes_done as usize, 8 + 236 + strings);
        assert_eq!(result.bytes_needed, result.bytes_done);
        let caps = &buffer[DEV_CAPS..];
        assert_eq!(
            get(caps, 0),
            Some(392),
            "ulTotalSize: the room of the buffer"
        );
        assert_eq!(get(caps, 4), Some((236 + strings) as u32));
        assert_eq!(get(caps, 8), Some((236 + strings) as u32));
        assert_eq!(get(caps, 28), Some(1), "ulPermanentLineID");
        assert_eq!(get(caps, 40), Some(string_format::ASCII));
        assert_eq!(get(caps, 44), Some(line::ADDRESSMODE_ADDRESSID));
        assert_eq!(get(caps, 48), Some(1), "ulNumAddresses");
        assert_eq!(get(caps, 52), Some(line::BEARERMODE_DATA));
        assert_eq!(get(caps, 56), Some(100_000_000));
        assert_eq!(get(caps, 60), Some(line::MEDIAMODE_DIGITALDATA));
        assert_eq!(get(caps, 116), Some(1), "ulMaxNumActiveCalls");
        let provider = (
            get(caps, 12).unwrap() as usize,
            get(caps, 16).unwrap() as usize,
        );
        assert_eq!(&caps[provider.1..provider.1 + provider.0], PROVIDER);
        let name = (
            get(caps, 32).unwrap() as usize,
            get(caps, 36).unwrap() as usize,
        );
        assert_eq!(&caps[name.1..name.1 + name.0], b"rswan PPPoE 1\0");
        assert_eq!(
            provider.1, 236,
            "variable data starts right after the fixed part"
        );
        // Nothing was left as it was in the written range.
        assert!(
            !buffer[..result.bytes_done as usize]
                .windows(4)
                .any(|w| w == [0xAA; 4])
        );
        assert_eq!(buffer[result.bytes_done as usize], 0xAA);
    }

    #[test]
    fn line_caps_leave_out_whole_strings_that_do_not_fit_and_say_what_is_needed() {
        let mut buffer = [0xAAu8; 8 + 236 + 14];
        buffer[..4].copy_from_slice(&0u32.to_le_bytes());
        let result = answer_line_caps(&mut buffer, 1, describe);
        let caps = &buffer[DEV_CAPS..];
        let needed = 236 + PROVIDER.len() + 14;
        assert_eq!(result.status, status::SUCCESS);
        assert_eq!(get(caps, 4), Some(needed as u32), "ulNeededSize");
        assert_eq!(
            get(caps, 8),
            Some(236 + 12),
            "ulUsedSize: the provider info fit"
        );
        assert_eq!(
            (get(caps, 32), get(caps, 36)),
            (Some(0), Some(0)),
            "no name"
        );
        assert_eq!(result.bytes_needed as usize, 8 + needed);
        assert_eq!(result.bytes_done as usize, 8 + 236 + 12);
    }

    #[test]
    fn a_requested_total_size_inside_the_buffer_bounds_the_answer() {
        let mut buffer = [0xAAu8; 400];
        buffer[..4].copy_from_slice(&0u32.to_le_bytes());
        buffer[DEV_CAPS..DEV_CAPS + 4].copy_from_slice(&240u32.to_le_bytes());
        let result = answer_line_caps(&mut buffer, 1, describe);
        assert_eq!(get(&buffer[DEV_CAPS..], 0), Some(240));
        assert_eq!(result.bytes_done, 8 + 236, "neither string fits in 4 bytes");
        assert_eq!(buffer[8 + 236], 0xAA, "nothing written past ulTotalSize");
    }

    #[test]
    fn line_caps_too_small_for_the_fixed_part_fail_with_the_full_size() {
        let mut buffer = [0xAAu8; 100];
        buffer[..4].copy_from_slice(&0u32.to_le_bytes());
        let result = answer_line_caps(&mut buffer, 1, describe);
        assert_eq!(result.status, status::BUFFER_TOO_SHORT);
        assert_eq!(result.bytes_needed as usize, 8 + 236 + 12 + 14);
        assert_eq!(&buffer[4..], &[0xAA; 96]);
    }

    #[test]
    fn an_unknown_line_is_invalid_data() {
        let mut buffer = [0u8; 400];
        buffer[..4].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(
            answer_line_caps(&mut buffer, 2, describe).status,
            status::INVALID_DATA
        );
        let mut address = [0u8; 200];
        address[..4].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(
            answer_address_caps(&mut address, 2).status,
            status::INVALID_DATA
        );
        address[..4].copy_from_slice(&0u32.to_le_bytes());
        address[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            answer_address_caps(&mut address, 2).status,
            status::INVALID_DATA
        );
    }

    #[test]
    fn address_caps_describe_one_private_address_with_one_call() {
        let mut buffer = [0xAAu8; 188];
        buffer[..8].copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        let result = answer_address_caps(&mut buffer, 2);
        assert_eq!(result, RequestResult::success(188));
        let caps = &buffer[12..];
        assert_eq!(get(caps, 0), Some(176));
        assert_eq!(get(caps, 4), Some(176));
        assert_eq!(get(caps, 8), Some(176));
        assert_eq!(get(caps, 12), Some(1), "ulLineDeviceID");
        assert_eq!(get(caps, 32), Some(line::ADDRESSSHARING_PRIVATE));
        assert_eq!(get(caps, 64), Some(CALL_STATES));
        assert_eq!(get(caps, 80), Some(DISCONNECT_MODES));
        assert_eq!(get(caps, 84), Some(1), "ulMaxNumActiveCalls");
        assert_eq!(get(caps, 104), Some(line::ADDRCAPFLAGS_DIALED));
        assert_eq!(
            get(caps, 108),
            Some(line::CALLFEATURE_ANSWER | line::CALLFEATURE_DROP)
        );
        assert_eq!(get(&buffer, 8), Some(0), "ulFlags");
        assert!(!buffer.windows(4).any(|w| w == [0xAA; 4]));
        assert_eq!(
            answer_address_caps(&mut [0u8; 187], 2),
            RequestResult::too_short(188)
        );
    }
}
