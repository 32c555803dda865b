//! PPPoE wire formats (RFC 2516, RFC 4638): zero-copy views over received bytes and emitters
//! that write into caller buffers. Nothing here keeps state; the state machines live in
//! [`crate::client`] and [`crate::ac`].

pub mod discovery;
pub mod ethernet;
pub mod header;
pub mod session;
pub mod tag;

pub use discovery::{Discovery, DiscoveryWriter};
pub use ethernet::{ETHERTYPE_DISCOVERY, ETHERTYPE_SESSION, EthernetHeader, MacAddr};
pub use header::{Code, PppoeHeader};
pub use session::SessionFrame;
pub use tag::{Tag, TagType, Tags};

/// Ethernet header plus PPPoE header: the room a caller reserves before a PPP payload.
pub const FRAME_HEADER_LEN: usize = ethernet::HEADER_LEN + header::HEADER_LEN;

/// Why a frame was rejected, or why one could not be written.
///
/// Every malformed input maps to one of these; [`crate::Counters::record`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the Ethernet and PPPoE headers.
    Truncated,
    /// Not a PPPoE ethertype, or the discovery/session ethertype where the other was expected.
    UnknownEthertype(u16),
    /// The VER/TYPE byte is not 0x11 (RFC 2516: both fields MUST be 1).
    BadVersionType(u8),
    /// A code that the ethertype does not allow.
    UnknownCode(u8),
    /// The PPPoE LENGTH field points past the end of the frame.
    LengthPastEnd,
    /// A tag header or a tag value runs past the PPPoE payload.
    TagOverflow,
    /// A tag whose length its definition forbids (End-Of-List not empty, PPP-Max-Payload not 2
    /// bytes, Vendor-Specific without its 4-byte vendor id).
    BadTagLength(TagType),
    /// A tag that may appear at most once appears again.
    DuplicateTag(TagType),
    /// PADI, PADR, PADO and a successful PADS must carry a Service-Name.
    MissingServiceName,
    /// PADI, PADR and PADS carry exactly one Service-Name.
    DuplicateServiceName,
    /// A PADO must name its access concentrator.
    MissingAcName,
    /// A session id the code does not allow (non-zero in PADI/PADO/PADR, zero in PADT or a
    /// session frame, 0xffff anywhere: RFC 2516 reserves it).
    BadSessionId(u16),
    /// The source address is a group address or zero.
    BadSourceMac,
    /// Addressed to another station.
    NotForUs,
    /// A session frame or PADT from a MAC other than the session's peer.
    WrongPeer,
    /// A session frame or PADT for a session id that is not ours.
    WrongSession,
    /// A payload larger than the session's negotiated maximum.
    PayloadTooLarge,
    /// The caller's buffer lacks the header room in front of the payload.
    NoHeaderRoom,
    /// The output buffer cannot hold the frame.
    BufferTooSmall,
    /// No session is established to frame for.
    NoSession,
    /// A tag value or payload longer than a 16-bit length field can describe.
    TooLong,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Truncated => f.write_str("frame shorter than the PPPoE headers"),
            Error::UnknownEthertype(t) => write!(f, "ethertype {t:#06x} is not expected here"),
            Error::BadVersionType(v) => write!(f, "PPPoE VER/TYPE {v:#04x} is not 0x11"),
            Error::UnknownCode(c) => write!(f, "PPPoE code {c:#04x} not allowed here"),
            Error::LengthPastEnd => f.write_str("PPPoE length past the end of the frame"),
            Error::TagOverflow => f.write_str("tag runs past the end of the payload"),
            Error::BadTagLength(t) => write!(f, "{t:?} tag has a forbidden length"),
            Error::DuplicateTag(t) => write!(f, "duplicate {t:?} tag"),
            Error::MissingServiceName => f.write_str("missing Service-Name tag"),
            Error::DuplicateServiceName => f.write_str("more than one Service-Name tag"),
            Error::MissingAcName => f.write_str("PADO without AC-Name tag"),
            Error::BadSessionId(id) => write!(f, "session id {id:#06x} not allowed here"),
            Error::BadSourceMac => f.write_str("source MAC is not a unicast address"),
            Error::NotForUs => f.write_str("frame addressed to another station"),
            Error::WrongPeer => f.write_str("frame from a MAC that is not the session's peer"),
            Error::WrongSession => f.write_str("frame for another session id"),
            Error::PayloadTooLarge => f.write_str("payload larger than the session maximum"),
            Error::NoHeaderRoom => f.write_str("no header room in front of the payload"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::NoSession => f.write_str("no session established"),
            Error::TooLong => f.write_str("value too long for a 16-bit length"),
        }
    }
}
