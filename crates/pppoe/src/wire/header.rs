//! The 6-byte PPPoE header shared by discovery and session frames (RFC 2516 section 4).

use super::Error;

/// Length of the PPPoE header.
pub const HEADER_LEN: usize = 6;
/// VER = 1 and TYPE = 1 in one byte.
pub const VERSION_TYPE: u8 = 0x11;
/// The code of every session frame.
pub const SESSION_CODE: u8 = 0x00;
/// Session id 0xffff is reserved (RFC 2516 section 4).
pub const RESERVED_SESSION_ID: u16 = 0xffff;

/// The discovery codes (RFC 2516 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// PPPoE Active Discovery Initiation, client to broadcast.
    Padi,
    /// PPPoE Active Discovery Offer, access concentrator to client.
    Pado,
    /// PPPoE Active Discovery Request, client to access concentrator.
    Padr,
    /// PPPoE Active Discovery Session-confirmation, access concentrator to client.
    Pads,
    /// PPPoE Active Discovery Terminate, either way.
    Padt,
}

impl Code {
    /// Every discovery code, for tests and iteration.
    pub const ALL: [Code; 5] = [Code::Padi, Code::Pado, Code::Padr, Code::Pads, Code::Padt];

    /// The code byte on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            Code::Padi => 0x09,
            Code::Pado => 0x07,
            Code::Padr => 0x19,
            Code::Pads => 0x65,
            Code::Padt => 0xa7,
        }
    }

    /// The discovery code for a byte, if it is one.
    pub fn from_u8(byte: u8) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.to_u8() == byte)
    }
}

/// The fields of a PPPoE header (VER/TYPE is always 0x11 once parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PppoeHeader {
    pub code: u8,
    pub session_id: u16,
    /// Length of the PPPoE payload that follows the header.
    pub length: u16,
}

impl PppoeHeader {
    /// Parses the header at the start of `bytes` and returns it with exactly its payload
    /// (bytes past LENGTH are Ethernet padding and are dropped).
    pub fn parse(bytes: &[u8]) -> Result<(PppoeHeader, &[u8]), Error> {
        let (head, rest) = bytes.split_at_checked(HEADER_LEN).ok_or(Error::Truncated)?;
        if head[0] != VERSION_TYPE {
            return Err(Error::BadVersionType(head[0]));
        }
        let header = PppoeHeader {
            code: head[1],
            session_id: u16::from_be_bytes([head[2], head[3]]),
            length: u16::from_be_bytes([head[4], head[5]]),
        };
        let payload = rest
            .get(..usize::from(header.length))
            .ok_or(Error::LengthPastEnd)?;
        Ok((header, payload))
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let head = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        head[0] = VERSION_TYPE;
        head[1] = self.code;
        head[2..4].copy_from_slice(&self.session_id.to_be_bytes());
        head[4..6].copy_from_slice(&self.length.to_be_bytes());
        Ok(())
    }
}
