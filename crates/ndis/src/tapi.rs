//! TAPI-proxy structures and constants (WDK: ndistapi.h; "TAPI extension OIDs for
//! connection-oriented NDIS"; previous-versions pages for CO_AF_TAPI_MAKE_CALL_PARAMETERS,
//! CO_AF_TAPI_INCOMING_CALL_PARAMETERS, CO_AF_TAPI_SAP, NDIS_VAR_DATA_DESC).
//!
//! The `LINE_*` structures are laid out at TAPI version 1.3 (`NDIS_TAPI_CURRENT_VERSION`
//! 0x00010003, the default of ndistapi.h): later versions append fields, and the variable-length
//! rules (`ulTotalSize` / `ulNeededSize` / `ulUsedSize`) let both sides agree on what was written.
//!
//! **`NDIS_VAR_DATA_DESC.Offset` is a `ULONG_PTR`.** The NDIS 5 documentation and mingw-w64's
//! ddk/ndistapi.h declare it `LONG`; windows-sys (generated from Microsoft's metadata of the
//! current SDK) and the current ntddndis.h (mingw-w64's own copy included) declare `ULONG_PTR`.
//! The two agree on x86 and differ on 64-bit (8 against 16 bytes), which moves every later field
//! of the TAPI call parameters. NDPROXY is built from the current headers, so `ULONG_PTR` is what
//! it passes; `tests/mingw_headers.rs` shows the conflict against the mingw-w64 header.

use crate::layout;

/// `NDIS_TAPI_CURRENT_VERSION` / `CO_TAPI_VERSION`.
pub const CO_TAPI_VERSION: u32 = 0x0001_0003;

/// `CO_TAPI_FLAG_*` of the call parameters and caps.
pub mod flags {
    pub const OUTGOING_CALL: u32 = 0x1;
    pub const INCOMING_CALL: u32 = 0x2;
    pub const USE_DEFAULT_CALLPARAMS: u32 = 0x4;
    /// In `CO_TAPI_CM_CAPS.ulFlags`: lines differ, query LINE_CAPS per line.
    pub const PER_LINE_CAPS: u32 = 0x1;
    /// In `CO_TAPI_LINE_CAPS.ulFlags`: addresses differ, query ADDRESS_CAPS per address.
    pub const PER_ADDRESS_CAPS: u32 = 0x1;
}

/// `AF_TAPI_SAP_TYPE`: `CO_SAP.SapType` of a `CO_AF_TAPI_SAP`.
pub const AF_TAPI_SAP_TYPE: u32 = 0x0000_8000;
/// `CO_TAPI_LINE_ID_UNSPECIFIED` / `CO_TAPI_ADDRESS_ID_UNSPECIFIED`.
pub const ID_UNSPECIFIED: u32 = 0xFFFF_FFFF;

/// `STRINGFORMAT_*`.
pub mod string_format {
    pub const ASCII: u32 = 1;
    pub const DBCS: u32 = 2;
    pub const UNICODE: u32 = 3;
    pub const BINARY: u32 = 4;
}

/// The TAPI `LINE*` constants the caps and call information use (tapi.h / ndistapi.h).
pub mod line {
    pub const ADDRESSMODE_ADDRESSID: u32 = 0x1;
    pub const BEARERMODE_DATA: u32 = 0x8;
    pub const MEDIAMODE_DIGITALDATA: u32 = 0x100;
    pub const ANSWERMODE_NONE: u32 = 0x1;
    pub const DEVCAPFLAGS_CLOSEDROP: u32 = 0x20;
    pub const ADDRESSSHARING_PRIVATE: u32 = 0x1;
    pub const ADDRCAPFLAGS_DIALED: u32 = 0x20;
    pub const CALLFEATURE_ANSWER: u32 = 0x4;
    pub const CALLFEATURE_DROP: u32 = 0x80;
    pub const CALLSTATE_IDLE: u32 = 0x1;
    pub const CALLSTATE_OFFERING: u32 = 0x2;
    pub const CALLSTATE_DIALING: u32 = 0x10;
    pub const CALLSTATE_CONNECTED: u32 = 0x100;
    pub const CALLSTATE_PROCEEDING: u32 = 0x200;
    pub const CALLSTATE_DISCONNECTED: u32 = 0x4000;
    pub const DISCONNECTMODE_NORMAL: u32 = 0x1;
    pub const DISCONNECTMODE_UNKNOWN: u32 = 0x2;
    pub const DISCONNECTMODE_BUSY: u32 = 0x20;
    pub const DISCONNECTMODE_NOANSWER: u32 = 0x40;
    pub const DISCONNECTMODE_UNREACHABLE: u32 = 0x100;
    pub const CALLORIGIN_OUTBOUND: u32 = 0x1;
    pub const CALLORIGIN_INBOUND: u32 = 0x80;
    pub const CALLREASON_DIRECT: u32 = 0x1;
}

/// `NDIS_VAR_DATA_DESC`: `length` bytes at `offset` from the descriptor itself.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdisVarDataDesc {
    pub length: u16,
    pub maximum_length: u16,
    /// `ULONG_PTR` (see the module documentation).
    pub offset: usize,
}

layout!(NdisVarDataDesc = "_NDIS_VAR_DATA_DESC", size 8 / 16 {
    length = "Length" @ 0 / 0,
    maximum_length = "MaximumLength" @ 2 / 2,
    offset = "Offset" @ 4 / 8,
});

/// `LINE_DIAL_PARAMS`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineDialParams {
    pub dial_pause: u32,
    pub dial_speed: u32,
    pub digit_duration: u32,
    pub wait_for_dialtone: u32,
}

layout!(LineDialParams = "_LINE_DIAL_PARAMS", size 16 / 16 {
    dial_pause = "ulDialPause" @ 0 / 0,
    dial_speed = "ulDialSpeed" @ 4 / 4,
    digit_duration = "ulDigitDuration" @ 8 / 8,
    wait_for_dialtone = "ulWaitForDialtone" @ 12 / 12,
});

/// `LINE_DEV_CAPS` at TAPI version 1.3.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineDevCaps {
    pub total_size: u32,
    pub needed_size: u32,
    pub used_size: u32,
    pub provider_info_size: u32,
    pub provider_info_offset: u32,
    pub switch_info_size: u32,
    pub switch_info_offset: u32,
    pub permanent_line_id: u32,
    pub line_name_size: u32,
    pub line_name_offset: u32,
    pub string_format: u32,
    pub address_modes: u32,
    pub num_addresses: u32,
    pub bearer_modes: u32,
    pub max_rate: u32,
    pub media_modes: u32,
    pub generate_tone_modes: u32,
    pub generate_tone_max_num_freq: u32,
    pub generate_digit_modes: u32,
    pub monitor_tone_max_num_freq: u32,
    pub monitor_tone_max_num_entries: u32,
    pub monitor_digit_modes: u32,
    pub gather_digits_min_timeout: u32,
    pub gather_digits_max_timeout: u32,
    pub med_ctl_digit_max_list_size: u32,
    pub med_ctl_media_max_list_size: u32,
    pub med_ctl_tone_max_list_size: u32,
    pub med_ctl_call_state_max_list_size: u32,
    pub dev_cap_flags: u32,
    pub max_num_active_calls: u32,
    pub answer_mode: u32,
    pub ring_modes: u32,
    pub line_states: u32,
    pub uui_accept_size: u32,
    pub uui_answer_size: u32,
    pub uui_make_call_size: u32,
    pub uui_drop_size: u32,
    pub uui_send_user_user_info_size: u32,
    pub uui_call_info_size: u32,
    pub min_dial_params: LineDialParams,
    pub max_dial_params: LineDialParams,
    pub default_dial_params: LineDialParams,
    pub num_terminals: u32,
    pub terminal_caps_size: u32,
    pub terminal_caps_offset: u32,
    pub terminal_text_entry_size: u32,
    pub terminal_text_size: u32,
    pub terminal_text_offset: u32,
    pub dev_specific_size: u32,
    pub dev_specific_offset: u32,
}

layout!(LineDevCaps = "_LINE_DEV_CAPS", size 236 / 236 {
    total_size = "ulTotalSize" @ 0 / 0,
    needed_size = "ulNeededSize" @ 4 / 4,
    used_size = "ulUsedSize" @ 8 / 8,
    provider_info_size = "ulProviderInfoSize" @ 12 / 12,
    provider_info_offset = "ulProviderInfoOffset" @ 16 / 16,
    switch_info_size = "ulSwitchInfoSize" @ 20 / 20,
    switch_info_offset = "ulSwitchInfoOffset" @ 24 / 24,
    permanent_line_id = "ulPermanentLineID" @ 28 / 28,
    line_name_size = "ulLineNameSize" @ 32 / 32,
    line_name_offset = "ulLineNameOffset" @ 36 / 36,
    string_format = "ulStringFormat" @ 40 / 40,
    address_modes = "ulAddressModes" @ 44 / 44,
    num_addresses = "ulNumAddresses" @ 48 / 48,
    bearer_modes = "ulBearerModes" @ 52 / 52,
    max_rate = "ulMaxRate" @ 56 / 56,
    media_modes = "ulMediaModes" @ 60 / 60,
    generate_tone_modes = "ulGenerateToneModes" @ 64 / 64,
    generate_tone_max_num_freq = "ulGenerateToneMaxNumFreq" @ 68 / 68,
    generate_digit_modes = "ulGenerateDigitModes" @ 72 / 72,
    monitor_tone_max_num_freq = "ulMonitorToneMaxNumFreq" @ 76 / 76,
    monitor_tone_max_num_entries = "ulMonitorToneMaxNumEntries" @ 80 / 80,
    monitor_digit_modes = "ulMonitorDigitModes" @ 84 / 84,
    gather_digits_min_timeout = "ulGatherDigitsMinTimeout" @ 88 / 88,
    gather_digits_max_timeout = "ulGatherDigitsMaxTimeout" @ 92 / 92,
    med_ctl_digit_max_list_size = "ulMedCtlDigitMaxListSize" @ 96 / 96,
    med_ctl_media_max_list_size = "ulMedCtlMediaMaxListSize" @ 100 / 100,
    med_ctl_tone_max_list_size = "ulMedCtlToneMaxListSize" @ 104 / 104,
    med_ctl_call_state_max_list_size = "ulMedCtlCallStateMaxListSize" @ 108 / 108,
    dev_cap_flags = "ulDevCapFlags" @ 112 / 112,
    max_num_active_calls = "ulMaxNumActiveCalls" @ 116 / 116,
    answer_mode = "ulAnswerMode" @ 120 / 120,
    ring_modes = "ulRingModes" @ 124 / 124,
    line_states = "ulLineStates" @ 128 / 128,
    uui_accept_size = "ulUUIAcceptSize" @ 132 / 132,
    uui_answer_size = "ulUUIAnswerSize" @ 136 / 136,
    uui_make_call_size = "ulUUIMakeCallSize" @ 140 / 140,
    uui_drop_size = "ulUUIDropSize" @ 144 / 144,
    uui_send_user_user_info_size = "ulUUISendUserUserInfoSize" @ 148 / 148,
    uui_call_info_size = "ulUUICallInfoSize" @ 152 / 152,
    min_dial_params = "MinDialParams" @ 156 / 156,
    max_dial_params = "MaxDialParams" @ 172 / 172,
    default_dial_params = "DefaultDialParams" @ 188 / 188,
    num_terminals = "ulNumTerminals" @ 204 / 204,
    terminal_caps_size = "ulTerminalCapsSize" @ 208 / 208,
    terminal_caps_offset = "ulTerminalCapsOffset" @ 212 / 212,
    terminal_text_entry_size = "ulTerminalTextEntrySize" @ 216 / 216,
    terminal_text_size = "ulTerminalTextSize" @ 220 / 220,
    terminal_text_offset = "ulTerminalTextOffset" @ 224 / 224,
    dev_specific_size = "ulDevSpecificSize" @ 228 / 228,
    dev_specific_offset = "ulDevSpecificOffset" @ 232 / 232,
});

/// `LINE_ADDRESS_CAPS` at TAPI version 1.3.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineAddressCaps {
    pub total_size: u32,
    pub needed_size: u32,
    pub used_size: u32,
    pub line_device_id: u32,
    pub address_size: u32,
    pub address_offset: u32,
    pub dev_specific_size: u32,
    pub dev_specific_offset: u32,
    pub address_sharing: u32,
    pub address_states: u32,
    pub call_info_states: u32,
    pub caller_id_flags: u32,
    pub called_id_flags: u32,
    pub connected_id_flags: u32,
    pub redirection_id_flags: u32,
    pub redirecting_id_flags: u32,
    pub call_states: u32,
    pub dial_tone_modes: u32,
    pub busy_modes: u32,
    pub special_info: u32,
    pub disconnect_modes: u32,
    pub max_num_active_calls: u32,
    pub max_num_on_hold_calls: u32,
    pub max_num_on_hold_pending_calls: u32,
    pub max_num_conference: u32,
    pub max_num_trans_conf: u32,
    pub addr_cap_flags: u32,
    pub call_features: u32,
    pub remove_from_conf_caps: u32,
    pub remove_from_conf_state: u32,
    pub transfer_modes: u32,
    pub park_modes: u32,
    pub forward_modes: u32,
    pub max_forward_entries: u32,
    pub max_specific_entries: u32,
    pub min_fwd_num_rings: u32,
    pub max_fwd_num_rings: u32,
    pub max_call_completions: u32,
    pub call_completion_conds: u32,
    pub call_completion_modes: u32,
    pub num_completion_messages: u32,
    pub completion_msg_text_entry_size: u32,
    pub completion_msg_text_size: u32,
    pub completion_msg_text_offset: u32,
}

layout!(LineAddressCaps = "_LINE_ADDRESS_CAPS", size 176 / 176 {
    total_size = "ulTotalSize" @ 0 / 0,
    needed_size = "ulNeededSize" @ 4 / 4,
    used_size = "ulUsedSize" @ 8 / 8,
    line_device_id = "ulLineDeviceID" @ 12 / 12,
    address_size = "ulAddressSize" @ 16 / 16,
    address_offset = "ulAddressOffset" @ 20 / 20,
    dev_specific_size = "ulDevSpecificSize" @ 24 / 24,
    dev_specific_offset = "ulDevSpecificOffset" @ 28 / 28,
    address_sharing = "ulAddressSharing" @ 32 / 32,
    address_states = "ulAddressStates" @ 36 / 36,
    call_info_states = "ulCallInfoStates" @ 40 / 40,
    caller_id_flags = "ulCallerIDFlags" @ 44 / 44,
    called_id_flags = "ulCalledIDFlags" @ 48 / 48,
    connected_id_flags = "ulConnectedIDFlags" @ 52 / 52,
    redirection_id_flags = "ulRedirectionIDFlags" @ 56 / 56,
    redirecting_id_flags = "ulRedirectingIDFlags" @ 60 / 60,
    call_states = "ulCallStates" @ 64 / 64,
    dial_tone_modes = "ulDialToneModes" @ 68 / 68,
    busy_modes = "ulBusyModes" @ 72 / 72,
    special_info = "ulSpecialInfo" @ 76 / 76,
    disconnect_modes = "ulDisconnectModes" @ 80 / 80,
    max_num_active_calls = "ulMaxNumActiveCalls" @ 84 / 84,
    max_num_on_hold_calls = "ulMaxNumOnHoldCalls" @ 88 / 88,
    max_num_on_hold_pending_calls = "ulMaxNumOnHoldPendingCalls" @ 92 / 92,
    max_num_conference = "ulMaxNumConference" @ 96 / 96,
    max_num_trans_conf = "ulMaxNumTransConf" @ 100 / 100,
    addr_cap_flags = "ulAddrCapFlags" @ 104 / 104,
    call_features = "ulCallFeatures" @ 108 / 108,
    remove_from_conf_caps = "ulRemoveFromConfCaps" @ 112 / 112,
    remove_from_conf_state = "ulRemoveFromConfState" @ 116 / 116,
    transfer_modes = "ulTransferModes" @ 120 / 120,
    park_modes = "ulParkModes" @ 124 / 124,
    forward_modes = "ulForwardModes" @ 128 / 128,
    max_forward_entries = "ulMaxForwardEntries" @ 132 / 132,
    max_specific_entries = "ulMaxSpecificEntries" @ 136 / 136,
    min_fwd_num_rings = "ulMinFwdNumRings" @ 140 / 140,
    max_fwd_num_rings = "ulMaxFwdNumRings" @ 144 / 144,
    max_call_completions = "ulMaxCallCompletions" @ 148 / 148,
    call_completion_conds = "ulCallCompletionConds" @ 152 / 152,
    call_completion_modes = "ulCallCompletionModes" @ 156 / 156,
    num_completion_messages = "ulNumCompletionMessages" @ 160 / 160,
    completion_msg_text_entry_size = "ulCompletionMsgTextEntrySize" @ 164 / 164,
    completion_msg_text_size = "ulCompletionMsgTextSize" @ 168 / 168,
    completion_msg_text_offset = "ulCompletionMsgTextOffset" @ 172 / 172,
});

/// The `ul...Size` / `ul...Offset` pairs of `LINE_CALL_INFO`, in order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct VarField {
    pub size: u32,
    pub offset: u32,
}

/// A caller/called/connected/redirection/redirecting identity of `LINE_CALL_INFO`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineCallParty {
    pub flags: u32,
    pub id: VarField,
    pub name: VarField,
}

/// `LINE_CALL_INFO` at TAPI version 1.3 (what an incoming call's
/// `CO_AF_TAPI_INCOMING_CALL_PARAMETERS.LineCallInfo` points to).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineCallInfo {
    pub total_size: u32,
    pub needed_size: u32,
    pub used_size: u32,
    pub h_line: u32,
    pub line_device_id: u32,
    pub address_id: u32,
    pub bearer_mode: u32,
    pub rate: u32,
    pub media_mode: u32,
    pub app_specific: u32,
    pub call_id: u32,
    pub related_call_id: u32,
    pub call_param_flags: u32,
    pub call_states: u32,
    pub monitor_digit_modes: u32,
    pub monitor_media_modes: u32,
    pub dial_params: LineDialParams,
    pub origin: u32,
    pub reason: u32,
    pub completion_id: u32,
    pub num_owners: u32,
    pub num_monitors: u32,
    pub country_code: u32,
    pub trunk: u32,
    pub caller_id: LineCallParty,
    pub called_id: LineCallParty,
    pub connected_id: LineCallParty,
    pub redirection_id: LineCallParty,
    pub redirecting_id: LineCallParty,
    pub app_name: VarField,
    pub displayable_address: VarField,
    pub called_party: VarField,
    pub comment: VarField,
    pub display: VarField,
    pub user_user_info: VarField,
    pub high_level_comp: VarField,
    pub low_level_comp: VarField,
    pub charging_info: VarField,
    pub terminal_modes: VarField,
    pub dev_specific: VarField,
}

layout!(LineCallInfo = "_LINE_CALL_INFO", size 296 / 296 {
    total_size = "ulTotalSize" @ 0 / 0,
    needed_size = "ulNeededSize" @ 4 / 4,
    used_size = "ulUsedSize" @ 8 / 8,
    h_line = "hLine" @ 12 / 12,
    line_device_id = "ulLineDeviceID" @ 16 / 16,
    address_id = "ulAddressID" @ 20 / 20,
    bearer_mode = "ulBearerMode" @ 24 / 24,
    rate = "ulRate" @ 28 / 28,
    media_mode = "ulMediaMode" @ 32 / 32,
    app_specific = "ulAppSpecific" @ 36 / 36,
    call_id = "ulCallID" @ 40 / 40,
    related_call_id = "ulRelatedCallID" @ 44 / 44,
    call_param_flags = "ulCallParamFlags" @ 48 / 48,
    call_states = "ulCallStates" @ 52 / 52,
    monitor_digit_modes = "ulMonitorDigitModes" @ 56 / 56,
    monitor_media_modes = "ulMonitorMediaModes" @ 60 / 60,
    dial_params = "DialParams" @ 64 / 64,
    origin = "ulOrigin" @ 80 / 80,
    reason = "ulReason" @ 84 / 84,
    completion_id = "ulCompletionID" @ 88 / 88,
    num_owners = "ulNumOwners" @ 92 / 92,
    num_monitors = "ulNumMonitors" @ 96 / 96,
    country_code = "ulCountryCode" @ 100 / 100,
    trunk = "ulTrunk" @ 104 / 104,
    caller_id.flags = "ulCallerIDFlags" @ 108 / 108,
    caller_id.id.size = "ulCallerIDSize" @ 112 / 112,
    caller_id.id.offset = "ulCallerIDOffset" @ 116 / 116,
    caller_id.name.size = "ulCallerIDNameSize" @ 120 / 120,
    caller_id.name.offset = "ulCallerIDNameOffset" @ 124 / 124,
    called_id.flags = "ulCalledIDFlags" @ 128 / 128,
    called_id.id.size = "ulCalledIDSize" @ 132 / 132,
    called_id.id.offset = "ulCalledIDOffset" @ 136 / 136,
    called_id.name.size = "ulCalledIDNameSize" @ 140 / 140,
    called_id.name.offset = "ulCalledIDNameOffset" @ 144 / 144,
    connected_id.flags = "ulConnectedIDFlags" @ 148 / 148,
    connected_id.id.size = "ulConnectedIDSize" @ 152 / 152,
    connected_id.id.offset = "ulConnectedIDOffset" @ 156 / 156,
    connected_id.name.size = "ulConnectedIDNameSize" @ 160 / 160,
    connected_id.name.offset = "ulConnectedIDNameOffset" @ 164 / 164,
    redirection_id.flags = "ulRedirectionIDFlags" @ 168 / 168,
    redirection_id.id.size = "ulRedirectionIDSize" @ 172 / 172,
    redirection_id.id.offset = "ulRedirectionIDOffset" @ 176 / 176,
    redirection_id.name.size = "ulRedirectionIDNameSize" @ 180 / 180,
    redirection_id.name.offset = "ulRedirectionIDNameOffset" @ 184 / 184,
    redirecting_id.flags = "ulRedirectingIDFlags" @ 188 / 188,
    redirecting_id.id.size = "ulRedirectingIDSize" @ 192 / 192,
    redirecting_id.id.offset = "ulRedirectingIDOffset" @ 196 / 196,
    redirecting_id.name.size = "ulRedirectingIDNameSize" @ 200 / 200,
    redirecting_id.name.offset = "ulRedirectingIDNameOffset" @ 204 / 204,
    app_name.size = "ulAppNameSize" @ 208 / 208,
    app_name.offset = "ulAppNameOffset" @ 212 / 212,
    displayable_address.size = "ulDisplayableAddressSize" @ 216 / 216,
    displayable_address.offset = "ulDisplayableAddressOffset" @ 220 / 220,
    called_party.size = "ulCalledPartySize" @ 224 / 224,
    called_party.offset = "ulCalledPartyOffset" @ 228 / 228,
    comment.size = "ulCommentSize" @ 232 / 232,
    comment.offset = "ulCommentOffset" @ 236 / 236,
    display.size = "ulDisplaySize" @ 240 / 240,
    display.offset = "ulDisplayOffset" @ 244 / 244,
    user_user_info.size = "ulUserUserInfoSize" @ 248 / 248,
    user_user_info.offset = "ulUserUserInfoOffset" @ 252 / 252,
    high_level_comp.size = "ulHighLevelCompSize" @ 256 / 256,
    high_level_comp.offset = "ulHighLevelCompOffset" @ 260 / 260,
    low_level_comp.size = "ulLowLevelCompSize" @ 264 / 264,
    low_level_comp.offset = "ulLowLevelCompOffset" @ 268 / 268,
    charging_info.size = "ulChargingInfoSize" @ 272 / 272,
    charging_info.offset = "ulChargingInfoOffset" @ 276 / 276,
    terminal_modes.size = "ulTerminalModesSize" @ 280 / 280,
    terminal_modes.offset = "ulTerminalModesOffset" @ 284 / 284,
    dev_specific.size = "ulDevSpecificSize" @ 288 / 288,
    dev_specific.offset = "ulDevSpecificOffset" @ 292 / 292,
});

/// `LINE_CALL_PARAMS` at TAPI version 1.3 (what `CO_AF_TAPI_MAKE_CALL_PARAMETERS.LineCallParams`
/// points to).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct LineCallParams {
    pub total_size: u32,
    pub bearer_mode: u32,
    pub min_rate: u32,
    pub max_rate: u32,
    pub media_mode: u32,
    pub call_param_flags: u32,
    pub address_mode: u32,
    pub address_id: u32,
    pub dial_params: LineDialParams,
    pub orig_address: VarField,
    pub displayable_address: VarField,
    pub called_party: VarField,
    pub comment: VarField,
    pub user_user_info: VarField,
    pub high_level_comp: VarField,
    pub low_level_comp: VarField,
    pub dev_specific: VarField,
}

layout!(LineCallParams = "_LINE_CALL_PARAMS", size 112 / 112 {
    total_size = "ulTotalSize" @ 0 / 0,
    bearer_mode = "ulBearerMode" @ 4 / 4,
    min_rate = "ulMinRate" @ 8 / 8,
    max_rate = "ulMaxRate" @ 12 / 12,
    media_mode = "ulMediaMode" @ 16 / 16,
    call_param_flags = "ulCallParamFlags" @ 20 / 20,
    address_mode = "ulAddressMode" @ 24 / 24,
    address_id = "ulAddressID" @ 28 / 28,
    dial_params = "DialParams" @ 32 / 32,
    orig_address.size = "ulOrigAddressSize" @ 48 / 48,
    orig_address.offset = "ulOrigAddressOffset" @ 52 / 52,
    displayable_address.size = "ulDisplayableAddressSize" @ 56 / 56,
    displayable_address.offset = "ulDisplayableAddressOffset" @ 60 / 60,
    called_party.size = "ulCalledPartySize" @ 64 / 64,
    called_party.offset = "ulCalledPartyOffset" @ 68 / 68,
    comment.size = "ulCommentSize" @ 72 / 72,
    comment.offset = "ulCommentOffset" @ 76 / 76,
    user_user_info.size = "ulUserUserInfoSize" @ 80 / 80,
    user_user_info.offset = "ulUserUserInfoOffset" @ 84 / 84,
    high_level_comp.size = "ulHighLevelCompSize" @ 88 / 88,
    high_level_comp.offset = "ulHighLevelCompOffset" @ 92 / 92,
    low_level_comp.size = "ulLowLevelCompSize" @ 96 / 96,
    low_level_comp.offset = "ulLowLevelCompOffset" @ 100 / 100,
    dev_specific.size = "ulDevSpecificSize" @ 104 / 104,
    dev_specific.offset = "ulDevSpecificOffset" @ 108 / 108,
});

/// `VAR_STRING` (the answer of `NdisCoGetTapiCallId`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct VarString {
    pub total_size: u32,
    pub needed_size: u32,
    pub used_size: u32,
    pub string_format: u32,
    pub string_size: u32,
    pub string_offset: u32,
}

layout!(VarString = "_VAR_STRING", size 24 / 24 {
    total_size = "ulTotalSize" @ 0 / 0,
    needed_size = "ulNeededSize" @ 4 / 4,
    used_size = "ulUsedSize" @ 8 / 8,
    string_format = "ulStringFormat" @ 12 / 12,
    string_size = "ulStringSize" @ 16 / 16,
    string_offset = "ulStringOffset" @ 20 / 20,
});

/// `CO_TAPI_CM_CAPS`: the answer to `OID_CO_TAPI_CM_CAPS`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoTapiCmCaps {
    pub co_tapi_version: u32,
    pub num_lines: u32,
    pub flags: u32,
}

layout!(CoTapiCmCaps = "_CO_TAPI_CM_CAPS", size 12 / 12 {
    co_tapi_version = "ulCoTapiVersion" @ 0 / 0,
    num_lines = "ulNumLines" @ 4 / 4,
    flags = "ulFlags" @ 8 / 8,
});

/// `CO_TAPI_LINE_CAPS`: `ulLineID` in, the rest out.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoTapiLineCaps {
    pub line_id: u32,
    pub flags: u32,
    pub line_dev_caps: LineDevCaps,
}

layout!(CoTapiLineCaps = "_CO_TAPI_LINE_CAPS", size 244 / 244 {
    line_id = "ulLineID" @ 0 / 0,
    flags = "ulFlags" @ 4 / 4,
    line_dev_caps = "LineDevCaps" @ 8 / 8,
});

/// `CO_TAPI_ADDRESS_CAPS`: `ulLineID` and `ulAddressID` in, the rest out.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoTapiAddressCaps {
    pub line_id: u32,
    pub address_id: u32,
    pub flags: u32,
    pub line_address_caps: LineAddressCaps,
}

layout!(CoTapiAddressCaps = "_CO_TAPI_ADDRESS_CAPS", size 188 / 188 {
    line_id = "ulLineID" @ 0 / 0,
    address_id = "ulAddressID" @ 4 / 4,
    flags = "ulFlags" @ 8 / 8,
    line_address_caps = "LineAddressCaps" @ 12 / 12,
});

/// `CO_TAPI_CALL_DIAGNOSTICS`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoTapiCallDiagnostics {
    pub origin: u32,
    pub reason: u32,
    pub diag_info: NdisVarDataDesc,
}

layout!(CoTapiCallDiagnostics = "_CO_TAPI_CALL_DIAGNOSTICS", size 16 / 24 {
    origin = "ulOrigin" @ 0 / 0,
    reason = "ulReason" @ 4 / 4,
    diag_info = "DiagInfo" @ 8 / 8,
});

/// `CO_AF_TAPI_MAKE_CALL_PARAMETERS`: the media-specific parameters of an outgoing call.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoAfTapiMakeCallParameters {
    pub line_id: u32,
    pub address_id: u32,
    pub flags: u32,
    /// The address given to lineMakeCall (for PPPoE, the service name).
    pub dest_address: NdisVarDataDesc,
    /// A `LINE_CALL_PARAMS`.
    pub line_call_params: NdisVarDataDesc,
}

layout!(CoAfTapiMakeCallParameters = "_CO_AF_TAPI_MAKE_CALL_PARAMETERS", size 28 / 48 {
    line_id = "ulLineID" @ 0 / 0,
    address_id = "ulAddressID" @ 4 / 4,
    flags = "ulFlags" @ 8 / 8,
    dest_address = "DestAddress" @ 12 / 16,
    line_call_params = "LineCallParams" @ 20 / 32,
});

/// `CO_AF_TAPI_INCOMING_CALL_PARAMETERS`: the media-specific parameters of an incoming call.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoAfTapiIncomingCallParameters {
    pub line_id: u32,
    pub address_id: u32,
    pub flags: u32,
    /// A `LINE_CALL_INFO`.
    pub line_call_info: NdisVarDataDesc,
}

layout!(CoAfTapiIncomingCallParameters = "_CO_AF_TAPI_INCOMING_CALL_PARAMETERS", size 20 / 32 {
    line_id = "ulLineID" @ 0 / 0,
    address_id = "ulAddressID" @ 4 / 4,
    flags = "ulFlags" @ 8 / 8,
    line_call_info = "LineCallInfo" @ 12 / 16,
});

/// `CO_AF_TAPI_SAP`: what NDPROXY registers as the SAP of a line it opens (previous-versions
/// page ff545376). ndistapi.h and the OID_CO_TAPI_TRANSLATE_TAPI_SAP page give this name to the
/// translate-SAP structure instead; this is the documented three-ULONG one.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoAfTapiSap {
    pub line_id: u32,
    pub address_id: u32,
    pub media_modes: u32,
}

layout!(CoAfTapiSap = "CO_AF_TAPI_SAP", size 12 / 12 {
    line_id = "ulLineID" @ 0 / 0,
    address_id = "ulAddressID" @ 4 / 4,
    media_modes = "ulMediaModes" @ 8 / 8,
});
