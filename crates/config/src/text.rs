//! Text settings (Service-Name, AC-Name) kept inline: the registry gives UTF-16, PPPoE tags
//! carry UTF-8 (RFC 2516, Service-Name and AC-Name "UTF-8 string").

use core::fmt;

use crate::Problem;

/// Bytes of UTF-8 a text setting holds: the PPPoE crate's name capacity.
pub const TEXT_CAPACITY: usize = 128;

/// Up to [`TEXT_CAPACITY`] bytes of UTF-8.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text {
    bytes: [u8; TEXT_CAPACITY],
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            bytes: [0; TEXT_CAPACITY],
            len: 0,
        }
    }
}

impl Text {
    /// `None` if `text` is longer than [`TEXT_CAPACITY`] bytes.
    pub fn new(text: &str) -> Option<Text> {
        let mut out = Text::default();
        out.bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        out.len = text.len();
        Some(out)
    }

    /// UTF-16 code units (no NUL) as UTF-8.
    pub fn from_utf16(units: &[u16]) -> Result<Text, Problem> {
        let mut out = Text::default();
        let mut bytes = 0usize;
        for unit in char::decode_utf16(units.iter().copied()) {
            let c = unit.map_err(|_| Problem::NotUnicode)?;
            let mut buffer = [0u8; 4];
            let encoded = c.encode_utf8(&mut buffer).as_bytes();
            if let Some(room) = out.bytes.get_mut(bytes..bytes + encoded.len()) {
                room.copy_from_slice(encoded);
            }
            bytes += encoded.len();
        }
        if bytes > TEXT_CAPACITY {
            return Err(Problem::TooLong { bytes });
        }
        out.len = bytes;
        Ok(out)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn as_str(&self) -> &str {
        // Built only from `&str` or decoded UTF-16, so always UTF-8; the empty fallback is
        // never taken.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
