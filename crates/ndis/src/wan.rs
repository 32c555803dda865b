//! CoNDIS WAN structures and constants (WDK: ns-ndiswan-_ndis_wan_co_info,
//! ns-ndiswan-_ndis_wan_co_set_link_info, ns-ndiswan-_ndis_wan_co_get_link_info,
//! ns-ndiswan-_ndis_wan_co_get_stats_info, ns-ndiswan-_wan_co_linkparams, "Indicating CoNDIS WAN
//! miniport driver status").

use crate::layout;
use crate::types::NdisStatus;

/// `FramingBits` of the WAN info and link info (ndiswan.h).
pub mod framing {
    pub const PPP_MULTILINK_FRAMING: u32 = 0x0000_0010;
    /// "should always be set" (WDK: OID_WAN_CO_GET_INFO).
    pub const PPP_FRAMING: u32 = 0x0000_0100;
    pub const PPP_COMPRESS_ADDRESS_CONTROL: u32 = 0x0000_0200;
    pub const PPP_COMPRESS_PROTOCOL_FIELD: u32 = 0x0000_0400;
    pub const PPP_ACCM_SUPPORTED: u32 = 0x0000_0800;
    pub const PASS_THROUGH_MODE: u32 = 0x1000_0000;
    /// The miniport answers the TAPI OIDs itself (through NDPROXY, for a CoNDIS WAN miniport).
    pub const TAPI_PROVIDER: u32 = 0x8000_0000;
}

/// Status codes of WAN indications (ndis.h).
pub mod wan_status {
    use super::NdisStatus;
    pub const WAN_CO_FRAGMENT: NdisStatus = 0x4001_0015;
    pub const WAN_CO_LINKPARAMS: NdisStatus = 0x4001_0016;
    pub const WAN_CO_MTULINKPARAMS: NdisStatus = 0x4001_0025;
}

/// `NDIS_WAN_MEDIUM_SUBTYPE` values (`OID_WAN_MEDIUM_SUBTYPE`).
pub mod medium_subtype {
    pub const SERIAL: u32 = 3;
    pub const PPPOE: u32 = 12;
}

/// `NDIS_WAN_CO_INFO`: the answer to `OID_WAN_CO_GET_INFO`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdisWanCoInfo {
    pub max_frame_size: u32,
    pub max_send_window: u32,
    pub framing_bits: u32,
    pub desired_accm: u32,
}

layout!(NdisWanCoInfo = "_NDIS_WAN_CO_INFO", size 16 / 16 {
    max_frame_size = "MaxFrameSize" @ 0 / 0,
    max_send_window = "MaxSendWindow" @ 4 / 4,
    framing_bits = "FramingBits" @ 8 / 8,
    desired_accm = "DesiredACCM" @ 12 / 12,
});

/// `NDIS_WAN_CO_SET_LINK_INFO` and `NDIS_WAN_CO_GET_LINK_INFO`, which have the same fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdisWanCoLinkInfo {
    pub max_send_frame_size: u32,
    pub max_recv_frame_size: u32,
    pub send_framing_bits: u32,
    pub recv_framing_bits: u32,
    /// Reserved: compression belongs to NDISWAN.
    pub send_compression_bits: u32,
    pub recv_compression_bits: u32,
    pub send_accm: u32,
    pub recv_accm: u32,
}

layout!(NdisWanCoLinkInfo = "_NDIS_WAN_CO_SET_LINK_INFO", size 32 / 32 {
    max_send_frame_size = "MaxSendFrameSize" @ 0 / 0,
    max_recv_frame_size = "MaxRecvFrameSize" @ 4 / 4,
    send_framing_bits = "SendFramingBits" @ 8 / 8,
    recv_framing_bits = "RecvFramingBits" @ 12 / 12,
    send_compression_bits = "SendCompressionBits" @ 16 / 16,
    recv_compression_bits = "RecvCompressionBits" @ 20 / 20,
    send_accm = "SendACCM" @ 24 / 24,
    recv_accm = "RecvACCM" @ 28 / 28,
});

/// `NDIS_WAN_CO_GET_STATS_INFO` as the WDK page documents it (14 counters).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdisWanCoGetStatsInfo {
    pub bytes_sent: u32,
    pub bytes_rcvd: u32,
    pub frames_sent: u32,
    pub frames_rcvd: u32,
    pub crc_errors: u32,
    pub timeout_errors: u32,
    pub alignment_errors: u32,
    pub serial_overrun_errors: u32,
    pub framing_errors: u32,
    pub buffer_overrun_errors: u32,
    pub bytes_transmitted_uncompressed: u32,
    pub bytes_received_uncompressed: u32,
    pub bytes_transmitted_compressed: u32,
    pub bytes_received_compressed: u32,
}

layout!(NdisWanCoGetStatsInfo = "_NDIS_WAN_CO_GET_STATS_INFO", size 56 / 56 {
    bytes_sent = "BytesSent" @ 0 / 0,
    bytes_rcvd = "BytesRcvd" @ 4 / 4,
    frames_sent = "FramesSent" @ 8 / 8,
    frames_rcvd = "FramesRcvd" @ 12 / 12,
    crc_errors = "CRCErrors" @ 16 / 16,
    timeout_errors = "TimeoutErrors" @ 20 / 20,
    alignment_errors = "AlignmentErrors" @ 24 / 24,
    serial_overrun_errors = "SerialOverrunErrors" @ 28 / 28,
    framing_errors = "FramingErrors" @ 32 / 32,
    buffer_overrun_errors = "BufferOverrunErrors" @ 36 / 36,
    bytes_transmitted_uncompressed = "BytesTransmittedUncompressed" @ 40 / 40,
    bytes_received_uncompressed = "BytesReceivedUncompressed" @ 44 / 44,
    bytes_transmitted_compressed = "BytesTransmittedCompressed" @ 48 / 48,
    bytes_received_compressed = "BytesReceivedCompressed" @ 52 / 52,
});

/// `WAN_CO_LINKPARAMS`: the buffer of an `NDIS_STATUS_WAN_CO_LINKPARAMS` indication. Speeds in
/// bytes per second; `send_window` 0 stops NDISWAN from sending on the VC.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WanCoLinkParams {
    pub transmit_speed: u32,
    pub receive_speed: u32,
    pub send_window: u32,
}

layout!(WanCoLinkParams = "_WAN_CO_LINKPARAMS", size 12 / 12 {
    transmit_speed = "TransmitSpeed" @ 0 / 0,
    receive_speed = "ReceiveSpeed" @ 4 / 4,
    send_window = "SendWindow" @ 8 / 8,
});

/// `NDIS_WAN_CO_FRAGMENT`: the buffer of an `NDIS_STATUS_WAN_CO_FRAGMENT` indication.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdisWanCoFragment {
    pub errors: u32,
}

layout!(NdisWanCoFragment = "_NDIS_WAN_CO_FRAGMENT", size 4 / 4 {
    errors = "Errors" @ 0 / 0,
});

/// `NDIS_CO_LINK_SPEED`: the answer to `OID_GEN_CO_LINK_SPEED`, in units of 100 bit/s.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NdisCoLinkSpeed {
    pub outbound: u32,
    pub inbound: u32,
}

layout!(NdisCoLinkSpeed = "_NDIS_CO_LINK_SPEED", size 8 / 8 {
    outbound = "Outbound" @ 0 / 0,
    inbound = "Inbound" @ 4 / 4,
});
