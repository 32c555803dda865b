//! Answers to the general CoNDIS and WAN OIDs, as pure functions over byte buffers.
//!
//! The driver turns an `NDIS_OID_REQUEST` into an input or output slice (the only unsafe
//! step), calls these, and copies the [`RequestResult`] back. Rules kept here (WDK:
//! nc-ndis-miniport_co_oid_request, nc-ndis-protocol_co_oid_request, "Handling OIDs"):
//! - a query whose buffer is too small fails with `NDIS_STATUS_BUFFER_TOO_SHORT` and says in
//!   `BytesNeeded` how much it needs; a set with a wrong length fails with
//!   `NDIS_STATUS_INVALID_LENGTH` and the length it needs;
//! - an OID the driver does not know fails with `NDIS_STATUS_NOT_SUPPORTED`;
//! - every byte counted in `BytesWritten` was written by the answer (all fields, padding
//!   included), so no response carries memory the driver did not fill.
#![forbid(unsafe_code)]

use crate::oids::*;
use crate::types::{NdisOid, NdisStatus, status};
use crate::wan::{
    NdisCoLinkSpeed, NdisWanCoGetStatsInfo, NdisWanCoInfo, NdisWanCoLinkInfo, framing,
};

/// The outcome of one request, in the terms of `NDIS_OID_REQUEST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestResult {
    pub status: NdisStatus,
    /// `BytesWritten` of a query, `BytesRead` of a set.
    pub bytes_done: u32,
    pub bytes_needed: u32,
}

impl RequestResult {
    pub const fn success(bytes_done: usize) -> Self {
        RequestResult {
            status: status::SUCCESS,
            bytes_done: bytes_done as u32,
            bytes_needed: 0,
        }
    }

    pub const fn not_supported() -> Self {
        RequestResult {
            status: status::NOT_SUPPORTED,
            bytes_done: 0,
            bytes_needed: 0,
        }
    }

    /// A query buffer that is too small.
    pub const fn too_short(needed: usize) -> Self {
        RequestResult {
            status: status::BUFFER_TOO_SHORT,
            bytes_done: 0,
            bytes_needed: needed as u32,
        }
    }

    /// A set buffer whose length is wrong for the OID.
    pub const fn invalid_length(needed: usize) -> Self {
        RequestResult {
            status: status::INVALID_LENGTH,
            bytes_done: 0,
            bytes_needed: needed as u32,
        }
    }

    pub const fn failed(status: NdisStatus) -> Self {
        RequestResult {
            status,
            bytes_done: 0,
            bytes_needed: 0,
        }
    }
}

/// Copies a whole answer into `out`, or asks for a bigger buffer.
pub fn answer(out: &mut [u8], value: &[u8]) -> RequestResult {
    match out.get_mut(..value.len()) {
        Some(dest) => {
            dest.copy_from_slice(value);
            RequestResult::success(value.len())
        }
        None => RequestResult::too_short(value.len()),
    }
}

/// `words` as little-endian ULONGs (the byte order of every Windows architecture); `M` is
/// `4 * N`.
pub(crate) fn le_bytes<const N: usize, const M: usize>(words: [u32; N]) -> [u8; M] {
    const { assert!(M == 4 * N) };
    let mut out = [0u8; M];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// Writes `words` as little-endian ULONGs, or asks for a bigger buffer.
pub fn answer_ulongs<const N: usize>(out: &mut [u8], words: [u32; N]) -> RequestResult {
    let needed = 4 * N;
    let Some(dest) = out.get_mut(..needed) else {
        return RequestResult::too_short(needed);
    };
    for (chunk, word) in dest.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    RequestResult::success(needed)
}

/// Reads little-endian ULONGs from `input`, which must be exactly `4 * N` bytes long.
pub fn read_ulongs<const N: usize>(input: &[u8]) -> Option<[u32; N]> {
    if input.len() != 4 * N {
        return None;
    }
    let mut words = [0u32; N];
    for (word, bytes) in words.iter_mut().zip(input.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    Some(words)
}

impl NdisWanCoInfo {
    pub fn to_bytes(&self) -> [u8; 16] {
        le_bytes([
            self.max_frame_size,
            self.max_send_window,
            self.framing_bits,
            self.desired_accm,
        ])
    }
}

impl NdisWanCoLinkInfo {
    pub fn to_bytes(&self) -> [u8; 32] {
        le_bytes([
            self.max_send_frame_size,
            self.max_recv_frame_size,
            self.send_framing_bits,
            self.recv_framing_bits,
            self.send_compression_bits,
            self.recv_compression_bits,
            self.send_accm,
            self.recv_accm,
        ])
    }

    /// Parses the input of `OID_WAN_CO_SET_LINK_INFO`.
    pub fn from_bytes(input: &[u8]) -> Option<NdisWanCoLinkInfo> {
        let [
            max_send_frame_size,
            max_recv_frame_size,
            send_framing_bits,
            recv_framing_bits,
            send_compression_bits,
            recv_compression_bits,
            send_accm,
            recv_accm,
        ] = read_ulongs::<8>(input)?;
        Some(NdisWanCoLinkInfo {
            max_send_frame_size,
            max_recv_frame_size,
            send_framing_bits,
            recv_framing_bits,
            send_compression_bits,
            recv_compression_bits,
            send_accm,
            recv_accm,
        })
    }
}

impl NdisWanCoGetStatsInfo {
    /// The structure from its 14 `ULONG`s in the documented order (WDK:
    /// NDIS_WAN_CO_GET_STATS_INFO), as OID_WAN_CO_GET_STATS_INFO carries them.
    pub fn from_ulongs(values: [u32; 14]) -> Self {
        let [
            bytes_sent,
            bytes_rcvd,
            frames_sent,
            frames_rcvd,
            crc_errors,
            timeout_errors,
            alignment_errors,
            serial_overrun_errors,
            framing_errors,
            buffer_overrun_errors,
            bytes_transmitted_uncompressed,
            bytes_received_uncompressed,
            bytes_transmitted_compressed,
            bytes_received_compressed,
        ] = values;
        NdisWanCoGetStatsInfo {
            bytes_sent,
            bytes_rcvd,
            frames_sent,
            frames_rcvd,
            crc_errors,
            timeout_errors,
            alignment_errors,
            serial_overrun_errors,
            framing_errors,
            buffer_overrun_errors,
            bytes_transmitted_uncompressed,
            bytes_received_uncompressed,
            bytes_transmitted_compressed,
            bytes_received_compressed,
        }
    }
}

/// `NdisHardwareStatusReady`.
pub const HARDWARE_STATUS_READY: u32 = 0;
/// `NdisMediaStateConnected`: a WAN adapter is always "connected"; its lines come and go.
pub const MEDIA_STATE_CONNECTED: u32 = 0;

/// What the adapter-wide OIDs report.
#[derive(Debug, Clone, Copy)]
pub struct AdapterOidInfo<'a> {
    /// `OID_GEN_CO_VENDOR_ID`: IEEE OUI in the low three bytes and an adapter number in the
    /// high byte; 0xFFFFFF when the vendor has no OUI.
    pub vendor_id: u32,
    /// `OID_GEN_CO_VENDOR_DESCRIPTION`, without the NUL the answer adds.
    pub vendor_description: &'a [u8],
    /// `OID_GEN_CO_VENDOR_DRIVER_VERSION`: major in the high 16 bits.
    pub vendor_driver_version: u32,
    /// `OID_GEN_CO_DRIVER_VERSION`: the NDIS version, major in the high byte.
    pub ndis_version: u16,
    /// `OID_GEN_CO_MAC_OPTIONS`.
    pub mac_options: u32,
    /// `OID_GEN_CO_LINK_SPEED`, in 100 bit/s units.
    pub link_speed: NdisCoLinkSpeed,
    /// `OID_WAN_CO_GET_INFO`.
    pub wan_info: NdisWanCoInfo,
    /// `OID_WAN_PERMANENT_ADDRESS` and `OID_WAN_CURRENT_ADDRESS`.
    pub wan_address: [u8; 6],
    /// `OID_WAN_MEDIUM_SUBTYPE`.
    pub medium_subtype: u32,
    /// `OID_GEN_CO_SUPPORTED_LIST`.
    pub supported_oids: &'a [NdisOid],
}

/// The OIDs [`query_adapter`] and [`set_adapter`] answer, the per-VC WAN OIDs and the TAPI caps
/// OIDs: what `OID_GEN_CO_SUPPORTED_LIST` reports.
pub const SUPPORTED_OIDS: &[NdisOid] = &[
    OID_GEN_SUPPORTED_LIST,
    OID_GEN_HARDWARE_STATUS,
    OID_GEN_MEDIA_SUPPORTED,
    OID_GEN_MEDIA_IN_USE,
    OID_GEN_LINK_SPEED,
    OID_GEN_VENDOR_ID,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_GEN_DRIVER_VERSION,
    OID_GEN_VENDOR_DRIVER_VERSION,
    OID_GEN_MAC_OPTIONS,
    OID_GEN_MEDIA_CONNECT_STATUS,
    OID_GEN_CO_MINIMUM_LINK_SPEED,
    OID_GEN_PROTOCOL_OPTIONS,
    OID_GEN_CURRENT_LOOKAHEAD,
    OID_GEN_CURRENT_PACKET_FILTER,
    OID_WAN_CO_GET_INFO,
    OID_WAN_PERMANENT_ADDRESS,
    OID_WAN_CURRENT_ADDRESS,
    OID_WAN_MEDIUM_SUBTYPE,
    OID_WAN_CO_GET_LINK_INFO,
    OID_WAN_CO_SET_LINK_INFO,
    OID_WAN_CO_GET_STATS_INFO,
    OID_CO_TAPI_CM_CAPS,
    OID_CO_TAPI_LINE_CAPS,
    OID_CO_TAPI_ADDRESS_CAPS,
];

/// Answers an adapter-wide query (`MiniportCoOidRequest` with no VC).
pub fn query_adapter(oid: NdisOid, info: &AdapterOidInfo<'_>, out: &mut [u8]) -> RequestResult {
    match oid {
        OID_GEN_SUPPORTED_LIST => {
            let needed = 4 * info.supported_oids.len();
            let Some(dest) = out.get_mut(..needed) else {
                return RequestResult::too_short(needed);
            };
            for (chunk, oid) in dest.chunks_exact_mut(4).zip(info.supported_oids) {
                chunk.copy_from_slice(&oid.to_le_bytes());
            }
            RequestResult::success(needed)
        }
        OID_GEN_HARDWARE_STATUS => answer_ulongs(out, [HARDWARE_STATUS_READY]),
        OID_GEN_MEDIA_SUPPORTED | OID_GEN_MEDIA_IN_USE => {
            answer_ulongs(out, [crate::miniport::medium::CO_WAN])
        }
        OID_GEN_LINK_SPEED | OID_GEN_CO_MINIMUM_LINK_SPEED => {
            answer_ulongs(out, [info.link_speed.outbound, info.link_speed.inbound])
        }
        OID_GEN_VENDOR_ID => answer_ulongs(out, [info.vendor_id]),
        OID_GEN_VENDOR_DESCRIPTION => {
            let needed = info.vendor_description.len() + 1;
            let Some(dest) = out.get_mut(..needed) else {
                return RequestResult::too_short(needed);
            };
            let (text, nul) = dest.split_at_mut(needed - 1);
            text.copy_from_slice(info.vendor_description);
            nul[0] = 0;
            RequestResult::success(needed)
        }
        OID_GEN_DRIVER_VERSION => answer(out, &info.ndis_version.to_le_bytes()),
        OID_GEN_VENDOR_DRIVER_VERSION => answer_ulongs(out, [info.vendor_driver_version]),
        OID_GEN_MAC_OPTIONS => answer_ulongs(out, [info.mac_options]),
        OID_GEN_MEDIA_CONNECT_STATUS => answer_ulongs(out, [MEDIA_STATE_CONNECTED]),
        OID_WAN_CO_GET_INFO => answer(out, &info.wan_info.to_bytes()),
        OID_WAN_PERMANENT_ADDRESS | OID_WAN_CURRENT_ADDRESS => answer(out, &info.wan_address),
        OID_WAN_MEDIUM_SUBTYPE => answer_ulongs(out, [info.medium_subtype]),
        _ => RequestResult::not_supported(),
    }
}

/// Answers an adapter-wide set. The general sets a CoNDIS WAN miniport receives carry values it
/// has no use for (it has no lookahead and no packet filter); they succeed when well formed.
pub fn set_adapter(oid: NdisOid, input: &[u8]) -> RequestResult {
    match oid {
        OID_GEN_PROTOCOL_OPTIONS | OID_GEN_CURRENT_LOOKAHEAD | OID_GEN_CURRENT_PACKET_FILTER => {
            match read_ulongs::<1>(input) {
                Some(_) => RequestResult::success(4),
                None => RequestResult::invalid_length(4),
            }
        }
        _ => RequestResult::not_supported(),
    }
}

/// Why a link-info set was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkInfoError {
    /// The buffer is not one `NDIS_WAN_CO_SET_LINK_INFO` long.
    Length,
    /// The framing bits ask for something the VC does not offer (see [`check_link_info`]).
    Framing,
}

impl LinkInfoError {
    pub fn result(self) -> RequestResult {
        match self {
            LinkInfoError::Length => RequestResult::invalid_length(32),
            LinkInfoError::Framing => RequestResult::failed(status::INVALID_DATA),
        }
    }
}

/// Parses and checks an `OID_WAN_CO_SET_LINK_INFO` against what `OID_WAN_CO_GET_INFO`
/// offered. Both directions must use PPP framing and only bits that were offered: the WDK asks
/// for `NDIS_STATUS_INVALID_DATA` when send and receive framing are incompatible; reading that
/// as "not both the offered PPP framing" is an inference [I].
pub fn check_link_info(
    input: &[u8],
    offered: &NdisWanCoInfo,
) -> Result<NdisWanCoLinkInfo, LinkInfoError> {
    let info = NdisWanCoLinkInfo::from_bytes(input).ok_or(LinkInfoError::Length)?;
    let allowed = offered.framing_bits & !framing::TAPI_PROVIDER;
    let acceptable = |bits: u32| bits & framing::PPP_FRAMING != 0 && bits & !allowed == 0;
    if acceptable(info.send_framing_bits) && acceptable(info.recv_framing_bits) {
        Ok(info)
    } else {
        Err(LinkInfoError::Framing)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn info() -> AdapterOidInfo<'static> {
        AdapterOidInfo {
            vendor_id: 0x00FF_FFFF,
            vendor_description: b"rswan PPPoE",
            vendor_driver_version: 0x0001_0002,
            ndis_version: 0x0614,
            mac_options: 8,
            link_speed: NdisCoLinkSpeed {
                outbound: 1_000_000,
                inbound: 1_000_000,
            },
            wan_info: NdisWanCoInfo {
                max_frame_size: 1492,
                max_send_window: 16,
                framing_bits: framing::PPP_FRAMING | framing::TAPI_PROVIDER,
                desired_accm: 0,
            },
            wan_address: [0x02, 0, 0x5e, 0x10, 0, 1],
            medium_subtype: crate::wan::medium_subtype::PPPOE,
            supported_oids: SUPPORTED_OIDS,
        }
    }

    #[test]
    fn wan_co_get_info_is_four_little_endian_ulongs() {
        let mut out = [0xAAu8; 20];
        let result = query_adapter(OID_WAN_CO_GET_INFO, &info(), &mut out);
        assert_eq!(result, RequestResult::success(16));
        assert_eq!(&out[..4], &1492u32.to_le_bytes());
        assert_eq!(&out[4..8], &16u32.to_le_bytes());
        assert_eq!(&out[8..12], &0x8000_0100u32.to_le_bytes());
        assert_eq!(&out[12..16], &[0; 4]);
        assert_eq!(
            &out[16..],
            &[0xAA; 4],
            "nothing past BytesWritten is touched"
        );
    }

    #[test]
    fn a_short_query_buffer_asks_for_the_whole_answer_and_writes_nothing() {
        let mut out = [0xAAu8; 15];
        let result = query_adapter(OID_WAN_CO_GET_INFO, &info(), &mut out);
        assert_eq!(result.status, status::BUFFER_TOO_SHORT);
        assert_eq!(result.bytes_needed, 16);
        assert_eq!(result.bytes_done, 0);
        assert_eq!(out, [0xAA; 15]);
    }

    #[test]
    fn unknown_oids_are_not_supported() {
        let mut out = [0u8; 64];
        for oid in [
            0x0101_0101,
            OID_WAN_CO_GET_COMP_INFO,
            OID_CO_TAPI_REPORT_DIGITS,
        ] {
            assert_eq!(
                query_adapter(oid, &info(), &mut out),
                RequestResult::not_supported()
            );
        }
        assert_eq!(
            set_adapter(OID_WAN_CO_SET_COMP_INFO, &[0; 8]),
            RequestResult::not_supported()
        );
    }

    #[test]
    fn the_vendor_description_ends_in_one_nul() {
        let mut out = [0xAAu8; 32];
        let result = query_adapter(OID_GEN_VENDOR_DESCRIPTION, &info(), &mut out);
        assert_eq!(result, RequestResult::success(12));
        assert_eq!(&out[..12], b"rswan PPPoE\0");
        let mut tight = [0u8; 11];
        assert_eq!(
            query_adapter(OID_GEN_VENDOR_DESCRIPTION, &info(), &mut tight),
            RequestResult::too_short(12)
        );
    }

    #[test]
    fn the_supported_list_names_every_answered_oid_once() {
        let mut out = [0u8; 256];
        let result = query_adapter(OID_GEN_SUPPORTED_LIST, &info(), &mut out);
        assert_eq!(result.bytes_done as usize, 4 * SUPPORTED_OIDS.len());
        let listed: std::vec::Vec<u32> = out[..result.bytes_done as usize]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(listed, SUPPORTED_OIDS);
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), listed.len());
        // Every adapter-wide OID in the list is really answered.
        let mut scratch = [0u8; 256];
        for oid in listed {
            let vc_or_tapi = matches!(
                oid,
                OID_WAN_CO_GET_LINK_INFO
                    | OID_WAN_CO_SET_LINK_INFO
                    | OID_WAN_CO_GET_STATS_INFO
                    | OID_CO_TAPI_CM_CAPS
                    | OID_CO_TAPI_LINE_CAPS
                    | OID_CO_TAPI_ADDRESS_CAPS
            );
            let set_only = matches!(
                oid,
                OID_GEN_PROTOCOL_OPTIONS
                    | OID_GEN_CURRENT_LOOKAHEAD
                    | OID_GEN_CURRENT_PACKET_FILTER
            );
            if set_only {
                assert_eq!(
                    set_adapter(oid, &[0; 4]).status,
                    status::SUCCESS,
                    "{oid:#x}"
                );
            } else if !vc_or_tapi {
                let r = query_adapter(oid, &info(), &mut scratch);
                assert_eq!(r.status, status::SUCCESS, "{oid:#x}");
            }
        }
    }

    #[test]
    fn sets_with_a_wrong_length_say_what_they_need() {
        assert_eq!(
            set_adapter(OID_GEN_CURRENT_PACKET_FILTER, &[1, 0, 0]),
            RequestResult::invalid_length(4)
        );
        assert_eq!(
            set_adapter(OID_GEN_CURRENT_LOOKAHEAD, &[0; 4]),
            RequestResult::success(4)
        );
    }

    #[test]
    fn link_info_round_trips_through_its_wire_form() {
        let link = NdisWanCoLinkInfo {
            max_send_frame_size: 1492,
            max_recv_frame_size: 1500,
            send_framing_bits: framing::PPP_FRAMING,
            recv_framing_bits: framing::PPP_FRAMING,
            send_compression_bits: 0,
            recv_compression_bits: 0,
            send_accm: 0xFFFF_FFFF,
            recv_accm: 0,
        };
        let bytes = link.to_bytes();
        assert_eq!(NdisWanCoLinkInfo::from_bytes(&bytes), Some(link));
        assert_eq!(check_link_info(&bytes, &info().wan_info), Ok(link));
    }

    #[test]
    fn link_info_without_ppp_framing_or_with_unoffered_bits_is_invalid_data() {
        let offered = info().wan_info;
        let mut link = NdisWanCoLinkInfo {
            send_framing_bits: framing::PPP_FRAMING,
            recv_framing_bits: 0,
            ..Default::default()
        };
        assert_eq!(
            check_link_info(&link.to_bytes(), &offered),
            Err(LinkInfoError::Framing)
        );
        link.recv_framing_bits = framing::PPP_FRAMING | framing::PPP_COMPRESS_ADDRESS_CONTROL;
        assert_eq!(
            check_link_info(&link.to_bytes(), &offered),
            Err(LinkInfoError::Framing)
        );
        assert_eq!(LinkInfoError::Framing.result().status, status::INVALID_DATA);
        assert_eq!(
            check_link_info(&[0; 31], &offered),
            Err(LinkInfoError::Length)
        );
        assert_eq!(
            LinkInfoError::Length.result(),
            RequestResult::invalid_length(32)
        );
    }

    #[test]
    fn stats_are_fourteen_ulongs_in_documented_order() {
        let stats = NdisWanCoGetStatsInfo::from_ulongs(core::array::from_fn(|i| i as u32 + 1));
        // Each field holds its position, and its offset in the layout is 4 bytes a position.
        let base = core::ptr::addr_of!(stats) as usize;
        for (field, position) in [
            (&stats.bytes_sent, 1),
            (&stats.frames_rcvd, 4),
            (&stats.crc_errors, 5),
            (&stats.buffer_overrun_errors, 10),
            (&stats.bytes_received_compressed, 14),
        ] {
            assert_eq!(*field, position);
            assert_eq!(
                core::ptr::from_ref(field) as usize - base,
                4 * (position - 1) as usize
            );
        }
    }
}
