//! The PPPoE access concentrator (the answering side): PADO, PADS, PADT.
//!
//! Sans-IO like the client. Discovery costs no memory per peer until a PADR carries a valid
//! AC-Cookie: the cookie is SipHash-2-4 of the peer's MAC under a secret key, so the AC keeps
//! nothing per PADI and checks a PADR by recomputing it. Sessions live in a table whose
//! storage the caller provides (smoltcp's idiom for socket buffers): an array for a fixed
//! capacity, a borrowed slice, or pool memory sized at run time (the driver's `MaxSessions`);
//! the AC itself never allocates.

use core::time::Duration;

use crate::Output;
use crate::bytes::Name;
use crate::client::{ConfigError, TxBuffer};
use crate::counters::{Counters, bump};
use crate::peer_error::PeerError;
use crate::session::{DEFAULT_MAX_PAYLOAD, Session, negotiate_max_payload};
use crate::siphash::siphash24;
use crate::time::Instant;
use crate::wire::header::RESERVED_SESSION_ID;
use crate::wire::{Code, Discovery, DiscoveryWriter, Error, MacAddr, SessionFrame, TagType};

/// Services an AC can be configured to offer.
pub const MAX_SERVICES: usize = 4;
/// Length of the AC-Cookie (one SipHash-2-4 output).
pub const COOKIE_LEN: usize = 8;
/// A PADR repeated within this time of its PADS, before any session traffic, gets the same
/// session again (the client's PADS was lost): the span of rp-pppoe's PADR retries.
pub const PADR_REPEAT_WINDOW: Duration = Duration::from_secs(35);
/// Text of the AC-System-Error sent when a session limit refuses a PADR.
pub const SESSION_LIMIT_TEXT: &[u8] = b"session limit reached";
/// Text of the Service-Name-Error sent for a PADR asking for a service not offered.
pub const SERVICE_UNAVAILABLE_TEXT: &[u8] = b"service not offered";

/// The Service-Names an AC offers; empty means it serves any Service-Name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceList {
    names: [Name; MAX_SERVICES],
    len: usize,
}

impl ServiceList {
    pub fn new() -> ServiceList {
        ServiceList::default()
    }

    pub fn push(&mut self, name: &[u8]) -> Result<(), ConfigError> {
        let slot = self
            .names
            .get_mut(self.len)
            .ok_or(ConfigError::TooManyServices)?;
        *slot = Name::new(name).ok_or(ConfigError::TooLong)?;
        self.len += 1;
        Ok(())
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.names[..self.len].iter().map(Name::as_bytes)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a requested Service-Name is served: the empty name (any service) always is,
    /// and an empty list serves every name.
    pub fn serves(&self, requested: &[u8]) -> bool {
        requested.is_empty() || self.is_empty() || self.iter().any(|n| n == requested)
    }
}

/// A token bucket for PADIs: `burst` at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// How the AC answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcConfig {
    pub local_mac: MacAddr,
    /// Sent as AC-Name in every PADO, PADS and PADT.
    pub ac_name: Name,
    pub services: ServiceList,
    /// The secret of the AC-Cookie; pick it at random when the AC starts.
    pub cookie_key: [u8; 16],
    /// Sessions open at once (at most the table's capacity).
    pub max_sessions: usize,
    /// Sessions open at once for one peer MAC.
    pub max_sessions_per_peer: usize,
    /// RFC 4638: the largest PPP payload this AC carries, offered to clients that ask.
    pub max_payload: Option<u16>,
    /// PADIs answered per second; `None`: no limit.
    pub padi_rate: Option<RateLimit>,
    /// Where session ids start (pick it at random so ids are not reused across restarts).
    pub first_session_id: u16,
}

impl AcConfig {
    /// A configuration serving any service, up to the table capacity, 4 sessions per peer,
    /// 100 PADIs per second (burst 50), no RFC 4638.
    pub fn new(
        local_mac: MacAddr,
        ac_name: &[u8],
        cookie_key: [u8; 16],
    ) -> Result<AcConfig, ConfigError> {
        Ok(AcConfig {
            local_mac,
            ac_name: Name::new(ac_name).ok_or(ConfigError::TooLong)?,
            services: ServiceList::new(),
            cookie_key,
            max_sessions: usize::MAX,
            max_sessions_per_peer: 4,
            max_payload: None,
            padi_rate: Some(RateLimit {
                per_second: 100,
                burst: 50,
            }),
            first_session_id: 1,
        })
    }
}

/// What the AC reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcEvent {
    /// A PADR with a valid cookie got a PADS: a session is up (an incoming call).
    SessionOpened {
        session: Session,
        service_name: Name,
    },
    /// The peer sent a PADT for the session (with its error tag, if any).
    SessionClosed {
        session: Session,
        error: Option<PeerError>,
    },
}

/// One slot of an AC's session table; the caller provides the table (see
/// [`AccessConcentrator::new`]), so it can live wherever the caller's memory does.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionSlot(Option<Entry>);

impl SessionSlot {
    /// A free slot, for building tables: `[SessionSlot::FREE; 8]`.
    pub const FREE: SessionSlot = SessionSlot(None);
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    session: Session,
    /// SipHash of the PADR's Host-Uniq, to recognise a repeated PADR.
    host_uniq_digest: Option<u64>,
    opened_at: Instant,
    traffic_seen: bool,
}

#[derive(Debug, Clone, Copy)]
struct TokenBucket {
    milli_tokens: u64,
    last: Instant,
}

impl TokenBucket {
    fn take(&mut self, now: Instant, limit: RateLimit) -> bool {
        let elapsed = now.millis().saturating_sub(self.last.millis());
        self.last = self.last.max(now);
        let capacity = u64::from(limit.burst).saturating_mul(1000);
        let refill = elapsed.saturating_mul(u64::from(limit.per_second));
        self.milli_tokens = self.milli_tokens.saturating_add(refill).min(capacity);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// An access concentrator whose session table is `S`: `[SessionSlot; N]`,
/// `&mut [SessionSlot]`, `Box<[SessionSlot]>`, or anything else that lends a slice of slots.
#[derive(Debug, Clone)]
pub struct AccessConcentrator<S> {
    config: AcConfig,
    sessions: S,
    next_id: u16,
    padi_bucket: TokenBucket,
    counters: Counters,
}

impl<S: AsRef<[SessionSlot]> + AsMut<[SessionSlot]>> AccessConcentrator<S> {
    /// An AC holding its sessions in `table`: its length is the capacity, and whatever the
    /// slots held before is forgotten.
    pub fn new(config: AcConfig, mut table: S) -> Result<Self, ConfigError> {
        if !config.local_mac.is_unicast() {
            return Err(ConfigError::LocalMacNotUnicast);
        }
        if table.as_ref().is_empty()
            || config.max_sessions == 0
            || config.max_sessions_per_peer == 0
        {
            return Err(ConfigError::NoSessions);
        }
        if config.max_payload.is_some_and(|m| m < DEFAULT_MAX_PAYLOAD) {
            return Err(ConfigError::MaxPayloadTooSmall);
        }
        table.as_mut().fill(SessionSlot::FREE);
        let burst = config.padi_rate.map_or(0, |r| u64::from(r.burst));
        Ok(AccessConcentrator {
            config,
            sessions: table,
            next_id: config.first_session_id,
            padi_bucket: TokenBucket {
                milli_tokens: burst.saturating_mul(1000),
                last: Instant::ZERO,
            },
            counters: Counters::default(),
        })
    }

    /// Sessions the table holds at most.
    pub fn capacity(&self) -> usize {
        self.sessions.as_ref().len()
    }

    /// The AC's table back (to free it or to reuse it).
    pub fn into_table(self) -> S {
        self.sessions
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.sessions
            .as_ref()
            .iter()
            .filter_map(|slot| slot.0.as_ref())
    }

    fn slots_mut(&mut self) -> &mut [SessionSlot] {
        self.sessions.as_mut()
    }

    pub fn config(&self) -> &AcConfig {
        &self.config
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The open sessions.
    pub fn sessions(&self) -> impl Iterator<Item = Session> + '_ {
        self.entries().map(|e| e.session)
    }

    pub fn session_count(&self) -> usize {
        self.entries().count()
    }

    /// The open session with this id.
    pub fn session(&self, id: u16) -> Option<Session> {
        self.sessions().find(|s| s.id == id)
    }

    /// The AC-Cookie for a peer MAC.
    pub fn cookie_for(&self, peer: MacAddr) -> [u8; COOKIE_LEN] {
        let mut input = [0u8; 13];
        input[0] = b'C';
        input[1..7].copy_from_slice(&peer.0);
        input[7..13].copy_from_slice(&self.config.local_mac.0);
        siphash24(&self.config.cookie_key, &input).to_le_bytes()
    }

    /// Handles a received discovery frame (ethertype 0x8863): answers a PADI with a PADO and
    /// a PADR with a PADS, closes a session on its PADT.
    pub fn handle_frame(
        &mut self,
        now: Instant,
        frame: &[u8],
        tx: &mut TxBuffer,
    ) -> Output<AcEvent> {
        let d = match Discovery::parse(frame) {
            Ok(d) => d,
            Err(e) => {
                self.counters.record(e);
                return Output::none();
            }
        };
        let broadcast_ok = d.code == Code::Padi && d.dst == MacAddr::BROADCAST;
        if d.dst != self.config.local_mac && !broadcast_ok {
            self.counters.record(Error::NotForUs);
            return Output::none();
        }
        match d.code {
            Code::Padi => self.on_padi(now, &d, tx),
            Code::Padr => self.on_padr(now, &d, tx),
            Code::Padt => self.on_padt(&d),
            Code::Pado | Code::Pads => {
                bump(&mut self.counters.unexpected_code);
                Output::none()
            }
        }
    }

    /// Closes a session from our side; returns the length of the PADT written to `tx`
    /// (`None` if there is no such session).
    pub fn close_session(
        &mut self,
        id: u16,
        generic_error: Option<&[u8]>,
        tx: &mut TxBuffer,
    ) -> Option<usize> {
        let slot = self
            .slots_mut()
            .iter_mut()
            .find(|slot| slot.0.is_some_and(|e| e.session.id == id))?;
        let entry = slot.0.take()?;
        let written = self.write_padt(entry.session, generic_error, tx);
        self.emitted(written)
    }

    /// Finds the session of a session frame (ethertype 0x8864) and returns it with the PPP
    /// payload. A frame from another MAC or for another id is counted and refused; it never
    /// touches a session.
    pub fn decapsulate<'f>(&mut self, frame: &'f [u8]) -> Result<(Session, &'f [u8]), Error> {
        let result = self.find_session_of(frame);
        match result {
            Ok(index) => match self.slots_mut()[index].0.as_mut() {
                Some(entry) => {
                    let payload = entry.session.decapsulate(frame);
                    if payload.is_ok() {
                        entry.traffic_seen = true;
                    }
                    let session = entry.session;
                    self.count(payload.map(|p| (session, p)))
                }
                None => self.count(Err(Error::WrongSession)),
            },
            Err(e) => self.count(Err(e)),
        }
    }

    fn find_session_of(&self, frame: &[u8]) -> Result<usize, Error> {
        let parsed = SessionFrame::parse(frame)?;
        if parsed.dst != self.config.local_mac {
            return Err(Error::NotForUs);
        }
        let mut wrong_peer = false;
        for (i, slot) in self.sessions.as_ref().iter().enumerate() {
            if let Some(e) = &slot.0
                && e.session.id == parsed.session_id
            {
                if e.session.peer == parsed.src {
                    return Ok(i);
                }
                wrong_peer = true;
            }
        }
        Err(if wrong_peer {
            Error::WrongPeer
        } else {
            Error::WrongSession
        })
    }

    fn count<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &result {
            self.counters.record(*e);
        }
        result
    }

    fn on_padi(&mut self, now: Instant, d: &Discovery<'_>, tx: &mut TxBuffer) -> Output<AcEvent> {
        if let Some(limit) = self.config.padi_rate
            && !self.padi_bucket.take(now, limit)
        {
            bump(&mut self.counters.padi_rate_limited);
            return Output::none();
        }
        // PADI parsing guarantees exactly one Service-Name.
        let requested = d.service_name.unwrap_or_default();
        if !self.config.services.serves(requested) {
            // RFC 2516 5.2: an AC that cannot serve the PADI does not answer it.
            bump(&mut self.counters.service_unavailable);
            return Output::none();
        }
        let written = self.write_pado(d, requested, tx);
        self.emitted(written)
            .map_or(Output::none(), Output::transmit)
    }

    fn on_padr(&mut self, now: Instant, d: &Discovery<'_>, tx: &mut TxBuffer) -> Output<AcEvent> {
        let Some(cookie) = d.ac_cookie else {
            bump(&mut self.counters.padr_without_cookie);
            return Output::none();
        };
        if !constant_time_eq(cookie, &self.cookie_for(d.src)) {
            bump(&mut self.counters.padr_bad_cookie);
            return Output::none();
        }
        let requested = d.service_name.unwrap_or_default();
        if !self.config.services.serves(requested) {
            bump(&mut self.counters.service_unavailable);
            let written =
                self.write_pads_error(d, TagType::ServiceNameError, SERVICE_UNAVAILABLE_TEXT, tx);
            return self
                .emitted(written)
                .map_or(Output::none(), Output::transmit);
        }
        let digest = d.host_uniq.map(|h| siphash24(&self.config.cookie_key, h));
        let repeated = self.entries().find(|e| {
            e.session.peer == d.src
                && e.host_uniq_digest == digest
                && !e.traffic_seen
                && now.since(e.opened_at) < PADR_REPEAT_WINDOW
        });
        if let Some(entry) = repeated {
            let session = entry.session;
            bump(&mut self.counters.padr_retransmit);
            let written = self.write_pads(d, session, tx);
            return self
                .emitted(written)
                .map_or(Output::none(), Output::transmit);
        }
        let open = self.session_count();
        let of_peer = self.sessions().filter(|s| s.peer == d.src).count();
        let free_slot = self
            .sessions
            .as_ref()
            .iter()
            .position(|slot| slot.0.is_none());
        let slot = match free_slot {
            Some(slot) if open < self.config.max_sessions => slot,
            _ => {
                bump(&mut self.counters.session_limit);
                return self.refuse(d, tx);
            }
        };
        if of_peer >= self.config.max_sessions_per_peer {
            bump(&mut self.counters.peer_session_limit);
            return self.refuse(d, tx);
        }
        let Some(id) = self.allocate_id() else {
            bump(&mut self.counters.session_limit);
            return self.refuse(d, tx);
        };
        let session = Session {
            id,
            local: self.config.local_mac,
            peer: d.src,
            max_payload: negotiate_max_payload(self.config.max_payload, d.max_payload),
        };
        let written = self.write_pads(d, session, tx);
        let Some(len) = self.emitted(written) else {
            return Output::none();
        };
        self.slots_mut()[slot] = SessionSlot(Some(Entry {
            session,
            host_uniq_digest: digest,
            opened_at: now,
            traffic_seen: false,
        }));
        Output {
            transmit: Some(len),
            event: Some(AcEvent::SessionOpened {
                session,
                service_name: Name::truncated(requested),
            }),
        }
    }

    fn refuse(&mut self, d: &Discovery<'_>, tx: &mut TxBuffer) -> Output<AcEvent> {
        let written = self.write_pads_error(d, TagType::AcSystemError, SESSION_LIMIT_TEXT, tx);
        self.emitted(written)
            .map_or(Output::none(), Output::transmit)
    }

    fn on_padt(&mut self, d: &Discovery<'_>) -> Output<AcEvent> {
        let found = self.slots_mut().iter_mut().find(|slot| {
            slot.0
                .is_some_and(|e| e.session.id == d.session_id && e.session.peer == d.src)
        });
        match found.and_then(|slot| slot.0.take()) {
            Some(entry) => Output::event(AcEvent::SessionClosed {
                session: entry.session,
                error: PeerError::from_discovery(d),
            }),
            None => {
                bump(&mut self.counters.padt_from_stranger);
                Output::none()
            }
        }
    }

    /// A fresh session id: the next in sequence that is neither 0, 0xffff nor in use.
    fn allocate_id(&mut self) -> Option<u16> {
        // Among capacity + 2 consecutive candidates at most capacity are in use and 2 are
        // reserved.
        for _ in 0..self.capacity().saturating_add(3) {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            let in_use = self.sessions().any(|s| s.id == id);
            if id != 0 && id != RESERVED_SESSION_ID && !in_use {
                return Some(id);
            }
        }
        None
    }

    fn emitted(&mut self, written: Result<usize, Error>) -> Option<usize> {
        match written {
            Ok(len) => Some(len),
            Err(e) => {
                self.counters.record(e);
                None
            }
        }
    }

    /// Host-Uniq and Relay-Session-Id echoed from the request.
    fn echo_tags(w: &mut DiscoveryWriter<'_>, d: &Discovery<'_>) -> Result<(), Error> {
        if let Some(h) = d.host_uniq {
            w.tag(TagType::HostUniq, h)?;
        }
        if let Some(r) = d.relay_session_id {
            w.tag(TagType::RelaySessionId, r)?;
        }
        Ok(())
    }

    fn write_pado(
        &self,
        d: &Discovery<'_>,
        requested: &[u8],
        tx: &mut TxBuffer,
    ) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, d.src, self.config.local_mac, Code::Pado, 0)?;
        w.tag(TagType::AcName, self.config.ac_name.as_bytes())?;
        w.tag(TagType::ServiceName, requested)?;
        for other in self.config.services.iter().filter(|s| *s != requested) {
            w.tag(TagType::ServiceName, other)?;
        }
        w.tag(TagType::AcCookie, &self.cookie_for(d.src))?;
        Self::echo_tags(&mut w, d)?;
        if let (Some(ours), Some(theirs)) = (self.config.max_payload, d.max_payload) {
            w.max_payload(ours.min(theirs))?;
        }
        Ok(w.finish())
    }

    fn write_pads(
        &self,
        d: &Discovery<'_>,
        session: Session,
        tx: &mut TxBuffer,
    ) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, d.src, self.config.local_mac, Code::Pads, session.id)?;
        w.tag(TagType::AcName, self.config.ac_name.as_bytes())?;
        w.tag(TagType::ServiceName, d.service_name.unwrap_or_default())?;
        Self::echo_tags(&mut w, d)?;
        if self.config.max_payload.is_some() && d.max_payload.is_some() {
            w.max_payload(session.max_payload)?;
        }
        Ok(w.finish())
    }

    fn write_pads_error(
        &self,
        d: &Discovery<'_>,
        error: TagType,
        text: &[u8],
        tx: &mut TxBuffer,
    ) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, d.src, self.config.local_mac, Code::Pads, 0)?;
        w.tag(TagType::AcName, self.config.ac_name.as_bytes())?;
        w.tag(error, text)?;
        Self::echo_tags(&mut w, d)?;
        Ok(w.finish())
    }

    fn write_padt(
        &self,
        session: Session,
        generic_error: Option<&[u8]>,
        tx: &mut TxBuffer,
    ) -> Result<usize, Error> {
        let mut w = DiscoveryWriter::new(tx, session.peer, session.local, Code::Padt, session.id)?;
        w.tag(TagType::AcName, self.config.ac_name.as_bytes())?;
        if let Some(text) = generic_error {
            w.tag(TagType::GenericError, text)?;
        }
        Ok(w.finish())
    }
}

/// Compares without an early exit, so the time taken does not reveal how much of a guessed
/// cookie was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
