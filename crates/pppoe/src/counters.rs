//! One counter per reason a frame was rejected or dropped, so every bad input is visible.

use crate::wire::Error;

/// Rejection and drop counters of one client or access concentrator. All wrap at `u64::MAX`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Shorter than the Ethernet and PPPoE headers.
    pub truncated: u64,
    /// Ethertype not the one expected.
    pub wrong_ethertype: u64,
    /// VER/TYPE byte not 0x11.
    pub bad_version_type: u64,
    /// A code the ethertype does not allow.
    pub unknown_code: u64,
    /// PPPoE LENGTH past the end of the frame.
    pub length_past_end: u64,
    /// A tag header or value past the end of the payload.
    pub tag_overflow: u64,
    /// A tag with a length its definition forbids.
    pub bad_tag_length: u64,
    /// A single-use tag seen twice.
    pub duplicate_tag: u64,
    pub missing_service_name: u64,
    pub duplicate_service_name: u64,
    pub missing_ac_name: u64,
    /// A session id the code does not allow.
    pub bad_session_id: u64,
    /// Source MAC is a group address or zero.
    pub bad_source_mac: u64,
    /// Addressed to another station.
    pub not_for_us: u64,
    /// A session frame from a MAC that is not the session's peer.
    pub wrong_peer: u64,
    /// A session frame for a session id we do not have.
    pub wrong_session: u64,
    /// A session payload larger than negotiated.
    pub payload_too_large: u64,
    /// A frame could not be written (buffer, length or session missing).
    pub emit_failed: u64,
    /// A discovery code this role never receives (a PADI at a client, a PADO at an AC).
    pub unexpected_code: u64,
    /// A PADT whose (session id, source MAC) matches no session of ours.
    pub padt_from_stranger: u64,
    /// Client: a PADO while not waiting for one.
    pub unexpected_pado: u64,
    /// Client: a PADO or PADS whose Host-Uniq is not ours.
    pub host_uniq_mismatch: u64,
    /// Client: a PADO that does not offer the Service-Name asked for.
    pub service_mismatch: u64,
    /// Client: a PADO from an AC other than the one configured.
    pub ac_name_mismatch: u64,
    /// Client: a PADO carrying an error tag.
    pub offer_with_error: u64,
    /// Client: a PADS while not waiting for one, or from another AC.
    pub unexpected_pads: u64,
    /// Client: a PADS with session id 0 (RFC 2516: the AC refused).
    pub pads_session_zero: u64,
    /// Client: an AC-Cookie or Relay-Session-Id longer than the client stores.
    pub oversized_tag: u64,
    /// Client: PADI or PADR sent again after a timeout.
    pub retransmissions: u64,
    /// AC: a PADI over the rate limit.
    pub padi_rate_limited: u64,
    /// AC: a PADI or PADR for a service this AC does not offer.
    pub service_unavailable: u64,
    /// AC: a PADR without an AC-Cookie.
    pub padr_without_cookie: u64,
    /// AC: a PADR whose AC-Cookie is not the one for its source MAC.
    pub padr_bad_cookie: u64,
    /// AC: a PADR refused because the session table or limit is full.
    pub session_limit: u64,
    /// AC: a PADR refused because its MAC has as many sessions as allowed.
    pub peer_session_limit: u64,
    /// AC: a repeated PADR answered with the PADS of the session it already opened.
    pub padr_retransmit: u64,
}

/// Adds one, wrapping.
pub(crate) fn bump(counter: &mut u64) {
    *counter = counter.wrapping_add(1);
}

impl Counters {
    /// Counts a codec or framing error under its reason.
    pub fn record(&mut self, error: Error) {
        let counter = match error {
            Error::Truncated => &mut self.truncated,
            Error::UnknownEthertype(_) => &mut self.wrong_ethertype,
            Error::BadVersionType(_) => &mut self.bad_version_type,
            Error::UnknownCode(_) => &mut self.unknown_code,
            Error::LengthPastEnd => &mut self.length_past_end,
            Error::TagOverflow => &mut self.tag_overflow,
            Error::BadTagLength(_) => &mut self.bad_tag_length,
            Error::DuplicateTag(_) => &mut self.duplicate_tag,
            Error::MissingServiceName => &mut self.missing_service_name,
            Error::DuplicateServiceName => &mut self.duplicate_service_name,
            Error::MissingAcName => &mut self.missing_ac_name,
            Error::BadSessionId(_) => &mut self.bad_session_id,
            Error::BadSourceMac => &mut self.bad_source_mac,
            Error::NotForUs => &mut self.not_for_us,
            Error::WrongPeer => &mut self.wrong_peer,
            Error::WrongSession => &mut self.wrong_session,
            Error::PayloadTooLarge => &mut self.payload_too_large,
            Error::NoHeaderRoom | Error::BufferTooSmall | Error::TooLong | Error::NoSession => {
                &mut self.emit_failed
            }
        };
        bump(counter);
    }
}
