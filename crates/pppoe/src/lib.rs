//! PPP over Ethernet (RFC 2516, with RFC 4638 PPP-Max-Payload) for rswan.
//!
//! `no_std`, no allocation, no `unsafe`. Layers, as in smoltcp:
//! - [`wire`]: zero-copy parsing and emitting of Ethernet, PPPoE discovery and session headers
//!   and tags; every malformed input is an [`Error`], never a panic.
//! - [`client`] and [`ac`]: sans-IO discovery state machines. They take the time and received
//!   frames, write frames to send into a caller buffer, and return events.
//! - [`session`]: in-place framing of PPP payloads for an established [`Session`].
//! - [`Counters`]: one counter per rejection reason.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod ac;
pub mod bytes;
pub mod client;
pub mod counters;
pub mod peer_error;
pub mod session;
pub mod siphash;
pub mod time;
pub mod wire;

pub use ac::{AcConfig, AcEvent, AccessConcentrator, RateLimit, ServiceList, SessionSlot};
pub use bytes::{ErrorText, FixedBytes, Name};
pub use client::{
    Client, ClientConfig, ClientEvent, ClientState, ConfigError, Failure, TX_BUFFER_LEN, TxBuffer,
};
pub use counters::Counters;
pub use peer_error::{PeerError, PeerErrorKind};
pub use session::{DEFAULT_MAX_PAYLOAD, HEADER_ROOM, Session};
pub use time::Instant;
pub use wire::{Error, MacAddr};

/// What one call into a state machine produced: a frame to send (its length at the start of
/// the caller's transmit buffer) and/or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "it may hold a frame to send or an event"]
pub struct Output<E> {
    pub transmit: Option<usize>,
    pub event: Option<E>,
}

impl<E> Output<E> {
    pub const fn none() -> Self {
        Output {
            transmit: None,
            event: None,
        }
    }

    pub const fn transmit(len: usize) -> Self {
        Output {
            transmit: Some(len),
            event: None,
        }
    }

    pub const fn event(event: E) -> Self {
        Output {
            transmit: None,
            event: Some(event),
        }
    }
}
