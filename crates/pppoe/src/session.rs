//! An established PPPoE session and its framing: headers written into reserved room in front
//! of the PPP payload, and stripped by returning a subslice. The payload is never copied.

use crate::wire::{Error, FRAME_HEADER_LEN, MacAddr, SessionFrame};

/// Header room a caller reserves in front of a PPP payload: Ethernet (14) + PPPoE (6).
pub const HEADER_ROOM: usize = FRAME_HEADER_LEN;
/// The largest PPP payload without RFC 4638: 1500 minus the PPPoE and PPP protocol headers
/// (RFC 2516 section 7: the MRU MUST NOT be negotiated above 1492).
pub const DEFAULT_MAX_PAYLOAD: u16 = 1492;
/// Bytes of the PPP protocol field, which the PPPoE payload carries besides the information.
pub const PPP_PROTOCOL_LEN: usize = 2;

/// What discovery agreed: who talks to whom under which id, and the largest PPP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    /// The session id (never 0 or 0xffff).
    pub id: u16,
    /// Our MAC.
    pub local: MacAddr,
    /// The peer's MAC (the AC for a client, the client for an AC).
    pub peer: MacAddr,
    /// Largest PPP information field (the MRU): 1492, or more when both sides sent
    /// PPP-Max-Payload (RFC 4638).
    pub max_payload: u16,
}

impl Session {
    /// The largest PPPoE payload (PPP protocol field plus information) of this session.
    pub fn max_frame_payload(&self) -> usize {
        usize::from(self.max_payload) + PPP_PROTOCOL_LEN
    }

    /// Writes the Ethernet and PPPoE session headers into `buf[..HEADER_ROOM]`, in front of
    /// the `payload_len` bytes of PPP frame (protocol field first) that the caller already
    /// placed at `buf[HEADER_ROOM..]`. Returns the frame length.
    pub fn encapsulate(&self, buf: &mut [u8], payload_len: usize) -> Result<usize, Error> {
        if payload_len > self.max_frame_payload() {
            return Err(Error::PayloadTooLarge);
        }
        let frame_len = HEADER_ROOM + payload_len;
        if buf.len() < frame_len {
            return Err(Error::NoHeaderRoom);
        }
        SessionFrame {
            dst: self.peer,
            src: self.local,
            session_id: self.id,
            payload_len,
        }
        .emit_header(buf)?;
        Ok(frame_len)
    }

    /// Checks that `frame` is a session frame of this session (our MAC, the peer's MAC, our
    /// id, a payload within the negotiated size) and returns its PPP payload.
    pub fn decapsulate<'f>(&self, frame: &'f [u8]) -> Result<&'f [u8], Error> {
        let range = self.check(frame)?;
        frame.get(range).ok_or(Error::Truncated)
    }

    /// [`Session::decapsulate`] for a mutable frame, so the PPP layer can work in place.
    pub fn decapsulate_mut<'f>(&self, frame: &'f mut [u8]) -> Result<&'f mut [u8], Error> {
        let range = self.check(frame)?;
        frame.get_mut(range).ok_or(Error::Truncated)
    }

    fn check(&self, frame: &[u8]) -> Result<core::ops::Range<usize>, Error> {
        let parsed = SessionFrame::parse(frame)?;
        if parsed.dst != self.local {
            return Err(Error::NotForUs);
        }
        if parsed.session_id != self.id {
            return Err(Error::WrongSession);
        }
        if parsed.src != self.peer {
            return Err(Error::WrongPeer);
        }
        if parsed.payload_len > self.max_frame_payload() {
            return Err(Error::PayloadTooLarge);
        }
        Ok(parsed.payload_range())
    }
}

/// The session's largest PPP payload given what each side sent in PPP-Max-Payload: only when
/// both sent it may it exceed 1492 (RFC 4638), and then never beyond the smaller value.
pub fn negotiate_max_payload(ours: Option<u16>, theirs: Option<u16>) -> u16 {
    match (ours, theirs) {
        (Some(a), Some(b)) => a.min(b).max(DEFAULT_MAX_PAYLOAD),
        _ => DEFAULT_MAX_PAYLOAD,
    }
}
