//! The error tags an AC or client sends (Service-Name-Error, AC-System-Error, Generic-Error).

use crate::bytes::ErrorText;
use crate::wire::Discovery;
use core::fmt;

/// Which error tag the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerErrorKind {
    /// Service-Name-Error (0x0201): the service asked for cannot be given.
    ServiceName,
    /// AC-System-Error (0x0202): the AC failed, e.g. out of resources.
    AcSystem,
    /// Generic-Error (0x0203).
    Generic,
}

/// An error tag and its text (UTF-8 per RFC 2516, cut to [`crate::bytes::NAME_CAPACITY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerError {
    pub kind: PeerErrorKind,
    pub text: ErrorText,
}

impl PeerError {
    /// The first error tag of a discovery packet, in the order Service-Name-Error,
    /// AC-System-Error, Generic-Error.
    pub fn from_discovery(d: &Discovery<'_>) -> Option<PeerError> {
        let (kind, text) = if let Some(t) = d.service_name_error {
            (PeerErrorKind::ServiceName, t)
        } else if let Some(t) = d.ac_system_error {
            (PeerErrorKind::AcSystem, t)
        } else {
            (PeerErrorKind::Generic, d.generic_error?)
        };
        Some(PeerError {
            kind,
            text: ErrorText::truncated(text),
        })
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.kind {
            PeerErrorKind::ServiceName => "Service-Name-Error",
            PeerErrorKind::AcSystem => "AC-System-Error",
            PeerErrorKind::Generic => "Generic-Error",
        };
        write!(f, "{tag}: {}", self.text)
    }
}
