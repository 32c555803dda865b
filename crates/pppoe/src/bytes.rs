//! Fixed-capacity byte strings: names, cookies and error texts kept without allocation.

use core::fmt;

/// Up to `N` bytes stored inline.
#[derive(Clone, Copy)]
pub struct FixedBytes<const N: usize> {
    len: usize,
    bytes: [u8; N],
}

/// A Service-Name or AC-Name.
pub type Name = FixedBytes<NAME_CAPACITY>;
/// The text of an error tag from the peer (cut to this many bytes).
pub type ErrorText = FixedBytes<NAME_CAPACITY>;
/// Bytes of a Service-Name, AC-Name or error text kept.
pub const NAME_CAPACITY: usize = 128;

impl<const N: usize> FixedBytes<N> {
    pub const EMPTY: FixedBytes<N> = FixedBytes {
        len: 0,
        bytes: [0; N],
    };

    /// A copy of `value`, or `None` if it is longer than `N`.
    pub fn new(value: &[u8]) -> Option<FixedBytes<N>> {
        let mut out = FixedBytes::EMPTY;
        out.bytes.get_mut(..value.len())?.copy_from_slice(value);
        out.len = value.len();
        Some(out)
    }

    /// A copy of at most the first `N` bytes of `value`.
    pub fn truncated(value: &[u8]) -> FixedBytes<N> {
        let len = value.len().min(N);
        let mut out = FixedBytes::EMPTY;
        out.bytes[..len].copy_from_slice(&value[..len]);
        out.len = len;
        out
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The bytes as text, if they are UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

impl<const N: usize> Default for FixedBytes<N> {
    fn default() -> Self {
        FixedBytes::EMPTY
    }
}

impl<const N: usize> PartialEq for FixedBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for FixedBytes<N> {}

impl<const N: usize> PartialEq<[u8]> for FixedBytes<N> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

/// Shows the bytes as text; invalid UTF-8 becomes U+FFFD.
impl<const N: usize> fmt::Display for FixedBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for FixedBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}
