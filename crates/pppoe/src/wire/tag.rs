//! Discovery tags: TAG_TYPE, TAG_LENGTH, TAG_VALUE (RFC 2516 appendix A, RFC 4638).

use super::Error;

/// Length of a tag header (type and length, 2 bytes each).
pub const TAG_HEADER_LEN: usize = 4;

/// The tag types this crate knows; any other value is kept as [`TagType::Other`] and ignored
/// by the state machines, as RFC 2516 asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagType {
    EndOfList,
    ServiceName,
    AcName,
    HostUniq,
    AcCookie,
    VendorSpecific,
    RelaySessionId,
    /// RFC 4638.
    PppMaxPayload,
    ServiceNameError,
    AcSystemError,
    GenericError,
    /// A type value none of the above has (constructing it with a known value makes it parse
    /// back as that known type).
    Other(u16),
}

impl TagType {
    /// The known tag types, in wire-value order.
    pub const KNOWN: [TagType; 11] = [
        TagType::EndOfList,
        TagType::ServiceName,
        TagType::AcName,
        TagType::HostUniq,
        TagType::AcCookie,
        TagType::VendorSpecific,
        TagType::RelaySessionId,
        TagType::PppMaxPayload,
        TagType::ServiceNameError,
        TagType::AcSystemError,
        TagType::GenericError,
    ];

    /// The TAG_TYPE value on the wire.
    pub fn to_u16(self) -> u16 {
        match self {
            TagType::EndOfList => 0x0000,
            TagType::ServiceName => 0x0101,
            TagType::AcName => 0x0102,
            TagType::HostUniq => 0x0103,
            TagType::AcCookie => 0x0104,
            TagType::VendorSpecific => 0x0105,
            TagType::RelaySessionId => 0x0110,
            TagType::PppMaxPayload => 0x0120,
            TagType::ServiceNameError => 0x0201,
            TagType::AcSystemError => 0x0202,
            TagType::GenericError => 0x0203,
            TagType::Other(value) => value,
        }
    }

    /// The tag type for a wire value.
    pub fn from_u16(value: u16) -> TagType {
        TagType::KNOWN
            .into_iter()
            .find(|t| t.to_u16() == value)
            .unwrap_or(TagType::Other(value))
    }
}

/// One tag: its type and a view of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    pub tag_type: TagType,
    pub value: &'a [u8],
}

/// Reads the tag at the start of `bytes`: the tag and the bytes after it.
pub fn read_tag(bytes: &[u8]) -> Result<(Tag<'_>, &[u8]), Error> {
    let (head, rest) = bytes
        .split_at_checked(TAG_HEADER_LEN)
        .ok_or(Error::TagOverflow)?;
    let tag_type = TagType::from_u16(u16::from_be_bytes([head[0], head[1]]));
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let (value, rest) = rest.split_at_checked(len).ok_or(Error::TagOverflow)?;
    Ok((Tag { tag_type, value }, rest))
}

/// The tags of a validated discovery payload, in wire order, up to End-Of-List.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tags<'a> {
    rest: &'a [u8],
}

impl<'a> Tags<'a> {
    /// Iterates over `payload`; stops at the end, at End-Of-List, or at the first malformed tag
    /// (use [`crate::wire::Discovery::parse`] to reject those instead).
    pub fn new(payload: &'a [u8]) -> Tags<'a> {
        Tags { rest: payload }
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        match read_tag(self.rest) {
            Ok((tag, rest)) if tag.tag_type != TagType::EndOfList => {
                self.rest = rest;
                Some(tag)
            }
            _ => {
                self.rest = &[];
                None
            }
        }
    }
}
