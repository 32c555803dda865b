//! Session frames (ethertype 0x8864): the PPPoE header in front of a PPP frame.

use super::ethernet::{self, ETHERTYPE_SESSION, EthernetHeader, MacAddr};
use super::header::{PppoeHeader, RESERVED_SESSION_ID, SESSION_CODE};
use super::{Error, FRAME_HEADER_LEN};

/// A parsed session frame: addresses, session id and where the PPP payload lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFrame {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub session_id: u16,
    /// Length of the PPP payload (protocol field included), which starts at
    /// [`FRAME_HEADER_LEN`].
    pub payload_len: usize,
}

impl SessionFrame {
    /// Parses the headers of a session frame; bytes past the PPPoE LENGTH are Ethernet padding.
    pub fn parse(frame: &[u8]) -> Result<SessionFrame, Error> {
        let (eth, rest) = EthernetHeader::parse(frame)?;
        if eth.ethertype != ETHERTYPE_SESSION {
            return Err(Error::UnknownEthertype(eth.ethertype));
        }
        let (hdr, payload) = PppoeHeader::parse(rest)?;
        if hdr.code != SESSION_CODE {
            return Err(Error::UnknownCode(hdr.code));
        }
        if !eth.src.is_unicast() {
            return Err(Error::BadSourceMac);
        }
        if hdr.session_id == 0 || hdr.session_id == RESERVED_SESSION_ID {
            return Err(Error::BadSessionId(hdr.session_id));
        }
        Ok(SessionFrame {
            dst: eth.dst,
            src: eth.src,
            session_id: hdr.session_id,
            payload_len: payload.len(),
        })
    }

    /// The byte range of the PPP payload inside the frame.
    pub fn payload_range(&self) -> core::ops::Range<usize> {
        FRAME_HEADER_LEN..FRAME_HEADER_LEN + self.payload_len
    }

    /// Writes Ethernet and PPPoE session headers into the first [`FRAME_HEADER_LEN`] bytes of
    /// `buf`, for a payload of `payload_len` bytes that follows them.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<(), Error> {
        let length = u16::try_from(self.payload_len).map_err(|_| Error::TooLong)?;
        let head = buf
            .get_mut(..FRAME_HEADER_LEN)
            .ok_or(Error::BufferTooSmall)?;
        EthernetHeader {
            dst: self.dst,
            src: self.src,
            ethertype: ETHERTYPE_SESSION,
        }
        .emit(head)?;
        PppoeHeader {
            code: SESSION_CODE,
            session_id: self.session_id,
            length,
        }
        .emit(&mut head[ethernet::HEADER_LEN..])
    }
}
