//! OID values (WDK: the OID_* pages under "NDIS OIDs"; values as in ntddndis.h). The test
//! `tests/mingw_headers.rs` compares each with the mingw-w64 headers.

use crate::types::NdisOid;

// General objects; a CoNDIS miniport is asked for them under their OID_GEN_CO_* names, which
// ntddndis.h defines as the same values.
pub const OID_GEN_SUPPORTED_LIST: NdisOid = 0x0001_0101;
pub const OID_GEN_HARDWARE_STATUS: NdisOid = 0x0001_0102;
pub const OID_GEN_MEDIA_SUPPORTED: NdisOid = 0x0001_0103;
pub const OID_GEN_MEDIA_IN_USE: NdisOid = 0x0001_0104;
pub const OID_GEN_MAXIMUM_LOOKAHEAD: NdisOid = 0x0001_0105;
pub const OID_GEN_MAXIMUM_FRAME_SIZE: NdisOid = 0x0001_0106;
pub const OID_GEN_LINK_SPEED: NdisOid = 0x0001_0107;
pub const OID_GEN_VENDOR_ID: NdisOid = 0x0001_010C;
pub const OID_GEN_VENDOR_DESCRIPTION: NdisOid = 0x0001_010D;
pub const OID_GEN_CURRENT_PACKET_FILTER: NdisOid = 0x0001_010E;
pub const OID_GEN_CURRENT_LOOKAHEAD: NdisOid = 0x0001_010F;
pub const OID_GEN_DRIVER_VERSION: NdisOid = 0x0001_0110;
pub const OID_GEN_MAXIMUM_TOTAL_SIZE: NdisOid = 0x0001_0111;
pub const OID_GEN_PROTOCOL_OPTIONS: NdisOid = 0x0001_0112;
pub const OID_GEN_MAC_OPTIONS: NdisOid = 0x0001_0113;
pub const OID_GEN_MEDIA_CONNECT_STATUS: NdisOid = 0x0001_0114;
pub const OID_GEN_VENDOR_DRIVER_VERSION: NdisOid = 0x0001_0116;
pub const OID_GEN_PHYSICAL_MEDIUM: NdisOid = 0x0001_0202;
pub const OID_GEN_XMIT_OK: NdisOid = 0x0002_0101;
pub const OID_GEN_RCV_OK: NdisOid = 0x0002_0102;
pub const OID_GEN_XMIT_ERROR: NdisOid = 0x0002_0103;
pub const OID_GEN_RCV_ERROR: NdisOid = 0x0002_0104;
pub const OID_GEN_RCV_NO_BUFFER: NdisOid = 0x0002_0105;
pub const OID_GEN_CO_MINIMUM_LINK_SPEED: NdisOid = 0x0002_0120;

// WAN objects (WDK: "WAN-specific OIDs for CoNDIS WAN miniport drivers").
pub const OID_WAN_PERMANENT_ADDRESS: NdisOid = 0x0401_0101;
pub const OID_WAN_CURRENT_ADDRESS: NdisOid = 0x0401_0102;
pub const OID_WAN_MEDIUM_SUBTYPE: NdisOid = 0x0401_0105;
pub const OID_WAN_CO_GET_INFO: NdisOid = 0x0401_0180;
pub const OID_WAN_CO_SET_LINK_INFO: NdisOid = 0x0401_0181;
pub const OID_WAN_CO_GET_LINK_INFO: NdisOid = 0x0401_0182;
pub const OID_WAN_CO_GET_COMP_INFO: NdisOid = 0x0401_0280;
pub const OID_WAN_CO_SET_COMP_INFO: NdisOid = 0x0401_0281;
pub const OID_WAN_CO_GET_STATS_INFO: NdisOid = 0x0401_0282;

// TAPI extensions for CoNDIS (WDK: "TAPI extension OIDs for connection-oriented NDIS").
pub const OID_CO_TAPI_CM_CAPS: NdisOid = 0xFE00_1001;
pub const OID_CO_TAPI_LINE_CAPS: NdisOid = 0xFE00_1002;
pub const OID_CO_TAPI_ADDRESS_CAPS: NdisOid = 0xFE00_1003;
pub const OID_CO_TAPI_TRANSLATE_TAPI_CALLPARAMS: NdisOid = 0xFE00_1004;
pub const OID_CO_TAPI_TRANSLATE_NDIS_CALLPARAMS: NdisOid = 0xFE00_1005;
pub const OID_CO_TAPI_TRANSLATE_TAPI_SAP: NdisOid = 0xFE00_1006;
pub const OID_CO_TAPI_GET_CALL_DIAGNOSTICS: NdisOid = 0xFE00_1007;
pub const OID_CO_TAPI_REPORT_DIGITS: NdisOid = 0xFE00_1008;
pub const OID_CO_TAPI_DONT_REPORT_DIGITS: NdisOid = 0xFE00_1009;
