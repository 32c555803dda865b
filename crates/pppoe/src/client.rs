//! The PPPoE client (the dialing side): PADI, PADO selection, PADR, PADS, PADT.
//!
//! Sans-IO: every call takes `now` and a transmit buffer, and returns an [`Output`] that says
//! how many bytes of the buffer to send and which event happened. The caller owns the clock,
//! the socket and the timer (see [`Client::poll_timeout`]).

use core::time::Duration;

use crate::Output;
use crate::bytes::{FixedBytes, Name};
use crate::counters::{Counters, bump};
use crate::peer_error::PeerError;
use crate::session::{DEFAULT_MAX_PAYLOAD, Session, negotiate_max_payload};
use crate::time::Instant;
use crate::wire::{Code, Discovery, DiscoveryWriter, Error, MacAddr, TagType};

/// rp-pppoe's first PADI/PADR timeout; it doubles on every retry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// rp-pppoe's number of PADI (and PADR) transmissions before giving up.
pub const DEFAULT_ATTEMPTS: u8 = 3;
/// Host-Uniq bytes a client can be configured with.
pub const HOST_UNIQ_CAPACITY: usize = 32;
/// AC-Cookie and Relay-Session-Id bytes a client keeps to echo; a PADO with longer ones is
/// dropped (counted as `oversized_tag`).
pub const ECHO_CAPACITY: usize = 128;
/// Size of the transmit buffer the state machines write into (a full Ethernet frame).
pub const TX_BUFFER_LEN: usize = 1514;
/// A transmit buffer; every discovery frame the machines build fits in it.
pub type TxBuffer = [u8; TX_BUFFER_LEN];

/// The Host-Uniq value a client sends (empty: no Host-Uniq tag).
pub type HostUniq = FixedBytes<HOST_UNIQ_CAPACITY>;
type Echo = FixedBytes<ECHO_CAPACITY>;

/// A configuration the state machines refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The local MAC is a group address or zero.
    LocalMacNotUnicast,
    /// A name or Host-Uniq longer than its capacity.
    TooLong,
    /// Zero attempts or a zero timeout.
    NoRetries,
    /// PPP-Max-Payload below 1492 (RFC 4638 only raises the limit).
    MaxPayloadTooSmall,
    /// More services than [`crate::ac::MAX_SERVICES`].
    TooManyServices,
    /// A session limit of zero.
    NoSessions,
}

/// How the client dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    pub local_mac: MacAddr,
    /// The one Service-Name of the PADI and PADR; empty means any service.
    pub service_name: Name,
    /// Accept offers only from this AC-Name.
    pub ac_name: Option<Name>,
    /// Sent in PADI and PADR and required back in PADO and PADS; empty: not sent.
    pub host_uniq: HostUniq,
    /// RFC 4638: ask for a PPP payload above 1492 (the Ethernet MTU must be at least this
    /// plus 8).
    pub max_payload: Option<u16>,
    /// Timeout after the first PADI (and first PADR); doubles per retry.
    pub first_timeout: Duration,
    /// PADI transmissions before giving up, and PADR transmissions likewise.
    pub attempts: u8,
}

impl ClientConfig {
    /// A configuration with rp-pppoe's timing, no AC-Name filter, no RFC 4638.
    pub fn new(
        local_mac: MacAddr,
        service_name: &[u8],
        host_uniq: &[u8],
    ) -> Result<ClientConfig, ConfigError> {
        Ok(ClientConfig {
            local_mac,
            service_name: Name::new(service_name).ok_or(ConfigError::TooLong)?,
            ac_name: None,
            host_uniq: HostUniq::new(host_uniq).ok_or(ConfigError::TooLong)?,
            max_payload: None,
            first_timeout: DEFAULT_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
        })
    }
}

/// Why a dial failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No PADO came back to any PADI.
    NoAccessConcentrator,
    /// PADOs came, but none offered the service (or was from the AC-Name) asked for.
    NoMatchingOffer,
    /// The chosen AC never confirmed with a PADS.
    NoSessionConfirmation,
    /// A PADS with session id 0 and no error tag.
    SessionRefused,
    /// The AC's error tag (in the PADS, or in the PADOs when none was acceptable).
    Peer(PeerError),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::NoAccessConcentrator => f.write_str("no access concentrator answered"),
            Failure::NoMatchingOffer => {
                f.write_str("no access concentrator offered the requested service")
            }
            Failure::NoSessionConfirmation => {
                f.write_str("the access concentrator did not confirm the session")
            }
            Failure::SessionRefused => f.write_str("the access concentrator refused the session"),
            Failure::Peer(e) => write!(f, "access concentrator error: {e}"),
        }
    }
}

/// What the client reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// PADS received: the session is up; frame PPP with [`Session::encapsulate`].
    Established(Session),
    /// Discovery failed; the client is closed.
    Failed(Failure),
    /// The AC sent a PADT for our session (with its error tag, if any); the client is closed.
    Terminated(Option<PeerError>),
}

/// Where the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// PADI sent, waiting for a PADO.
    Discovering,
    /// PADR sent to an AC, waiting for its PADS.
    Requesting,
    /// PADS received.
    Established,
    /// Failed, terminated or closed.
    Closed,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Discovering,
    Requesting { ac: MacAddr },
    Established(Session),
    Closed,
}

/// The retransmission timer of PADI and PADR.
#[derive(Debug, Clone, Copy)]
struct Retry {
    sent: u8,
    timeout: Duration,
    deadline: Instant,
}

/// One dial: create it with [`Client::start`], feed it discovery frames and timeouts.
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    phase: Phase,
    retry: Retry,
    ac_cookie: Option<Echo>,
    relay_session_id: Option<Echo>,
    /// PADOs seen but not taken, to tell "nobody answered" from "nobody matched".
    offers_rejected: bool,
    last_peer_error: Option<PeerError>,
    counters: Counters,
}

impl Client {
    /// Validates `config` and writes the first PADI into `tx`; send `tx[..len]`.
    pub fn start(
        config: ClientConfig,
        now: Instant,
        tx: &mut TxBuffer,
    ) -> Result<(Client, usize), ConfigError> {
        Self::check(&config)?;
        let client = Client::fresh(config, now);
        let len = client.write_padi(tx).map_err(|_| ConfigError::TooLong)?;
        Ok((client, len))
    }

    /// [`Client::start`] with the client built in `slot`, where it is kept: a caller on a small
    /// stack (a kernel driver) does not hold a second copy of a kilobyte-sized client. `slot`
    /// is left `None` on an error.
    pub fn start_in(
        slot: &mut Option<Client>,
        config: ClientConfig,
        now: Instant,
        tx: &mut TxBuffer,
    ) -> Result<usize, ConfigError> {
        Self::check(&config)?;
        let client = slot.insert(Client::fresh(config, now));
        let written = client.write_padi(tx);
        written.map_err(|_| {
            *slot = None;
            ConfigError::TooLong
        })
    }

    fn check(config: &ClientConfig) -> Result<(), ConfigError> {
        if !config.local_mac.is_unicast() {
            return Err(ConfigError::LocalMacNotUnicast);
        }
        if config.attempts == 0 || config.first_timeout.is_zero() {
            return Err(ConfigError::NoRetries);
        }
        if config.max_payload.is_some_and(|m| m < DEFAULT_MAX_PAYLOAD) {
            return Err(ConfigError::MaxPayloadTooSmall);
        }
        Ok(())
    }

    /// A client in discovery, its first PADI counted as sent at `now`.
    fn fresh(config: ClientConfig, now: Instant) -> Client {
        Client {
            config,
            phase: Phase::Discovering,
            retry: Retry {
                sent: 1,
                timeout: config.first_timeout,
                deadline: now + config.first_timeout,
            },
            ac_cookie: None,
            relay_session_id: None,
            offers_rejected: false,
            last_peer_error: None,
            counters: Counters::default(),
        }
    }

    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::Discovering => ClientState::Discovering,
            Phase::Requesting { .. } => ClientState::Requesting,
            Phase::Established(_) => ClientState::Established,
            Phase::Closed => ClientState::Closed,
        }
    }

    /// The session, once established and until closed.
    pub fn session(&self) -> Option<Session> {
        match self.phase {
            Phase::Established(s) => Some(s),
            _ => None,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// When [`Client::handle_timeout`] must be called next, if a retransmission is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Discovering | Phase::Requesting { .. } => Some(self.retry.deadline),
            Phase::Established(_) | Phase::Closed => None,
        }
    }

    /// Retransmits the PADI or PADR whose timeout passed (doubling it), or fails once all
    /// attempts are spent. Calls before the deadline do nothing.
    pub fn handle_timeout(&mut self, now: Instant, tx: &mut TxBuffer) -> Output<ClientEvent> {
        let Some(deadline) = self.poll_timeout() else {
            return Output::none();
        };
        if now < deadline {
            return Output::none();
        }
        if self.retry.sent >= self.config.attempts {
            let failure = match self.phase {
                Phase::Requesting { .. } => Failure::NoSessionConfirmation,
                _ => match self.last_peer_error {
                    Some(e) => Failure::Peer(e),
                    None if self.offers_rejected => Failure::NoMatchingOffer,
                    None => Failure::NoAccessConcentrator,
                },
            };
            self.phase = Phase::Closed;
            return Output::event(ClientEvent::Failed(failure));
        }
        self.retry.sent += 1;
        self.retry.timeout = self.retry.timeout.saturating_mul(2);
        self.retry.deadline = now + self.retry.timeout;
        bump(&mut self.counters.retransmissions);
        let written = match self.phase {
            Phase::Requesting { ac } => self.write_padr(ac, tx),
            _ => self.write_padi(tx),
        };
        self.transmit(written)
    }

    /// Handles a received discovery frame (ethertype 0x8863).
    pub fn handle_frame(
        &mut self,
        now: Instant,
        frame: &[u8],
        tx: &mut TxBuffer,
    ) -> Output<ClientEvent> {
        let d = match Discovery::parse(frame) {
            Ok(d) => d,
            Err(e) => {
                self.counters.record(e);
                return Output::none();
            }
        };
        if d.dst != self.config.local_mac {
            self.counters.record(Error::NotForUs);
            return Output::none();
        }
        match d.code {
            Code::Pado => self.on_pado(now, &d, tx),
            Code::Pads => self.on_pads(&d),
            Code::Padt => self.on_padt(&d),
            Code::Padi | Code::Padr => {
                bump(&mut self.counters.unexpected_code);
                Output::none()
            }
        }
    }

    /// Ends the dial: sends a PADT (with a Generic-Error text if given) when a session is
    /// up, and stops retransmitting otherwise. Returns the PADT's length in `tx`.
    pub fn close(&mut self, tx: &mut TxBuffer, generic_error: Option<&[u8]>) -> Option<usize> {
        let phase = core::mem::replace(&mut self.phase, Phase::Closed);
        let Phase::Established(session) = phase else {
            return None;
        };
        let written = self.write_padt(session, generic_error, tx);
        self.transmit(written).transmit
    }

    /// Frames a PPP payload for the established session (see [`Session::encapsulate`]).
    pub fn encapsulate(&mut self, buf: &mut [u8], payload_len: usize) -> Result<usize, Error> {
        let result = match self.session() {
            Some(s) => s.encapsulate(buf, payload_len),
            None => Err(Error::NoSession),
        };
        self.count(result)
    }

    /// Returns the PPP payload of a session frame (ethertype 0x8864) of our session; a frame
    /// of another session or MAC is counted and refused.
    pub fn decapsulate<'f>(&mut self, frame: &'f [u8]) -> Result<&'f [u8], Error> {
        let result = match self.session() {
            Some(s) => s.decapsulate(frame),
            None => Err(Error::NoSession),
        };
        self.count(result)
    }

    fn count<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &result {
            self.counters.record(*e);
        }
        result
    }

    fn host_uniq_matches(&mut self, d: &Discovery<'_>) -> bool {
        let ours = &self.config.host_uniq;
        let matches = match d.host_uniq {
            Some(theirs) => !ours.is_empty() && ours.as_bytes() == theirs,
            None => ours.is_empty(),
        };
        if !matches {
            bump(&mut self.counters.host_uniq_mismatch);
        }
        matches
    }

    fn on_pado(
        &mut self,
        now: Instant,
        d: &Discovery<'_>,
        tx: &mut TxBuffer,
    ) -> Output<ClientEvent> {
        if !matches!(self.phase, Phase::Discovering) {
            bump(&mut self.counters.unexpected_pado);
            return Output::none();
        }
        if !self.host_uniq_matches(d) {
            return Output::none();
        }
        if let Some(e) = PeerError::from_discovery(d) {
            self.last_peer_error = Some(e);
            bump(&mut self.counters.offer_with_error);
            return Output::none();
        }
        if let Some(wanted) = &self.config.ac_name
            && d.ac_name != Some(wanted.as_bytes())
        {
            self.offers_rejected = true;
            bump(&mut self.counters.ac_name_mismatch);
            return Output::none();
        }
        let wanted = self.config.service_name.as_bytes();
        // Any AC serves "any service"; a named service must be among those offered.
        if !wanted.is_empty() && !d.service_names().any(|s| s == wanted) {
            self.offers_rejected = true;
            bump(&mut self.counters.service_mismatch);
            return Output::none();
        }
        let echo = |value: Option<&[u8]>| match value {
            None => Ok(None),
            Some(v) => Echo::new(v).map(Some).ok_or(()),
        };
        let (Ok(cookie), Ok(relay)) = (echo(d.ac_cookie), echo(d.relay_session_id)) else {
            bump(&mut self.counters.oversized_tag);
            return Output::none();
        };
        self.ac_cookie = cookie;
        self.relay_session_id = relay;
        self.phase = Phase::Requesting { ac: d.src };
        self.retry = Retry {
            sent: 1,
            timeout: self.config.first_timeout,
            deadline: now + self.config.first_timeout,
        };
        let written = self.write_padr(d.src, tx);
        self.transmit(written)
    }

    fn on_pads(&mut self, d: &Discovery<'_>) -> Output<ClientEvent> {
        let Phase::Requesting { ac } = self.phase else {
            bump(&mut self.counters.unexpected_pads);
            return Output::none();
        };
        if d.src != ac {
            bump(&mut self.counters.unexpected_pads);
            return Output::none();
        }
        if !self.host_uniq_matches(d) {
            return Output::none();
        }
        self.phase = Phase::Closed;
        if d.session_id == 0 {
            bump(&mut self.counters.pads_session_zero);
            let failure = match PeerError::from_discovery(d) {
                Some(e) => Failure::Peer(e),
                None => Failure::SessionRefused,
            };
            return Output::event(ClientEvent::Failed(failure));
        }
        let session = Session {
            id: d.session_id,
            local: self.config.local_mac,
            peer: ac,
            max_payload: negotiate_max_payload(self.config.max_payload, d.max_payload),
        };
        self.phase = Phase::Established(session);
        Output::event(ClientEvent::Established(session))
    }

    fn on_padt(&mut self, d: &Discovery<'_>) -> Output<ClientEvent> {
        match self.phase {
            Phase::Established(s) if s.id == d.session_id && s.peer == d.src => {
                self.phase = Phase::Closed;
                Output::event(ClientEvent::Terminated(PeerError::from_discovery(d)))
            }
            _ => {
                bump(&mut self.counters.padt_from_stranger);
                Output::none()
            }
        }
    }

    fn write_padi(&self, tx: &mut TxBuffer) -> Result<usize, Error> {
        let mut w =
            DiscoveryWriter::new(tx, MacAddr::BROADCAST, self.config.local_mac, Code::Padi, 0)?;
        self.common_tags(&mut w)?;
        Ok(w.finish())
    }

    fn write_padr(&self, ac: MacAddr, tx: &mut TxBuffer) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, ac, self.config.local_mac, Code::Padr, 0)?;
        self.common_tags(&mut w)?;
        if let Some(cookie) = &self.ac_cookie {
            w.tag(TagType::AcCookie, cookie.as_bytes())?;
        }
        if let Some(relay) = &self.relay_session_id {
            w.tag(TagType::RelaySessionId, relay.as_bytes())?;
        }
        Ok(w.finish())
    }

    fn write_padt(
        &self,
        session: Session,
        generic_error: Option<&[u8]>,
        tx: &mut TxBuffer,
    ) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, session.peer, session.local, Code::Padt, session.id)?;
        if !self.config.host_uniq.is_empty() {
            w.tag(TagType::HostUniq, self.config.host_uniq.as_bytes())?;
        }
        if let Some(text) = generic_error {
            w.tag(TagType::GenericError, text)?;
        }
        Ok(w.finish())
    }

    /// Service-Name, Host-Uniq and PPP-Max-Payload, shared by PADI and PADR.
    fn common_tags(&self, w: &mut DiscoveryWriter<'_>) -> Result<(), Error> {
        w.tag(TagType::ServiceName, self.config.service_name.as_bytes())?;
        if !self.config.host_uniq.is_empty() {
            w.tag(TagType::HostUniq, self.config.host_uniq.as_bytes())?;
        }
        if let Some(max) = self.config.max_payload {
            w.max_payload(max)?;
        }
        Ok(())
    }

    fn transmit(&mut self, written: Result<usize, Error>) -> Output<ClientEvent> {
        match written {
            Ok(len) => Output::transmit(len),
            Err(e) => {
                self.counters.record(e);
                Output::none()
            }
        }
    }
}
