//! rswan's PPPoE engines (crates/pppoe, sans-IO) driven over a real interface: a [`Wire`]
//! (packet socket plus clock), [`dial`] for the client, [`answer`] for the access concentrator,
//! and [`relay`], which carries a PPPoE session's PPP packets to and from a PPP engine behind a
//! [`FramedPipe`] (lwIP in RFC 1662 framing).

use std::fmt;
use std::io;
use std::time::{Duration, Instant as StdInstant};

use rswan_packet_socket::{MAX_FRAME_BYTES, PacketSocket};
use rswan_pppoe::wire::ethernet::{ETHERTYPE_DISCOVERY, ETHERTYPE_SESSION};
use rswan_pppoe::{
    AcEvent, AccessConcentrator, Client, ClientConfig, ClientEvent, Failure, HEADER_ROOM, Instant,
    MacAddr, Output, PeerError, Session, SessionSlot, TX_BUFFER_LEN, TxBuffer,
};

use crate::lwip::FramedPipe;
use crate::netns::NetNs;

/// How long one receive waits, so loops also serve timers and pipes.
const RECEIVE_SLICE: Duration = Duration::from_millis(5);

/// A packet socket on one interface, with the clock the state machines are fed.
#[derive(Debug)]
pub struct Wire {
    socket: PacketSocket,
    origin: StdInstant,
    tx: TxBuffer,
    rx: Vec<u8>,
    /// Session frames (0x8864) that arrived while a caller only wanted discovery, kept for
    /// [`relay`]: a peer may send LCP right after PADS.
    early_session_frames: Vec<Vec<u8>>,
}

impl Wire {
    /// Opens a packet socket on `interface` inside `ns`.
    pub fn open(ns: &NetNs, interface: &str) -> Wire {
        let socket = ns
            .enter(|| PacketSocket::open(interface, RECEIVE_SLICE))
            .unwrap_or_else(|e| panic!("open a packet socket on {interface}: {e}"));
        Wire {
            socket,
            origin: StdInstant::now(),
            tx: [0; TX_BUFFER_LEN],
            rx: vec![0; MAX_FRAME_BYTES],
            early_session_frames: Vec::new(),
        }
    }

    pub fn mac(&self) -> MacAddr {
        MacAddr(self.socket.mac())
    }

    /// Milliseconds since the wire was opened, as the state machines take time.
    pub fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn send(&mut self, frame: &[u8]) {
        self.socket
            .send(frame)
            .unwrap_or_else(|e| panic!("send on {}: {e}", self.socket.interface()));
    }

    fn send_tx(&mut self, len: Option<usize>) {
        if let Some(len) = len {
            let frame = self.tx[..len].to_vec();
            self.send(&frame);
        }
    }

    /// The next received frame and its ethertype, waiting at most [`RECEIVE_SLICE`].
    fn receive(&mut self) -> Option<(u16, Vec<u8>)> {
        let len = self
            .socket
            .recv(&mut self.rx)
            .unwrap_or_else(|e| panic!("receive on {}: {e}", self.socket.interface()))?;
        let frame = self.rx[..len].to_vec();
        Some((u16::from_be_bytes([frame[12], frame[13]]), frame))
    }

    /// Frames a PPP packet for a session and sends it.
    fn send_session_packet(&mut self, session: &Session, packet: &[u8]) {
        let mut frame = vec![0u8; HEADER_ROOM + packet.len()];
        frame[HEADER_ROOM..].copy_from_slice(packet);
        let len = session
            .encapsulate(&mut frame, packet.len())
            .unwrap_or_else(|e| panic!("encapsulate a {}-byte PPP packet: {e:?}", packet.len()));
        self.send(&frame[..len]);
    }
}

/// Why a dial did not give a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialError {
    /// The client gave up, with its reason (boxed: it carries the AC's error text).
    Failed(Box<Failure>),
    /// The test's own deadline passed first.
    TimedOut,
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::Failed(failure) => write!(f, "dial failed: {failure}"),
            DialError::TimedOut => f.write_str("dial did not finish before the test deadline"),
        }
    }
}

/// Dials with rswan's client: PADI, PADO, PADR, PADS. Returns the client in its established
/// state.
pub fn dial(wire: &mut Wire, config: ClientConfig, timeout: Duration) -> Result<Client, DialError> {
    let deadline = StdInstant::now() + timeout;
    let (mut client, padi) =
        Client::start(config, wire.now(), &mut wire.tx).expect("a valid client configuration");
    wire.send_tx(Some(padi));
    while StdInstant::now() < deadline {
        let output = match wire.receive() {
            Some((ETHERTYPE_DISCOVERY, frame)) => {
                client.handle_frame(wire.now(), &frame, &mut wire.tx)
            }
            Some((ETHERTYPE_SESSION, frame)) => {
                wire.early_session_frames.push(frame);
                Output::none()
            }
            _ => client.handle_timeout(wire.now(), &mut wire.tx),
        };
        wire.send_tx(output.transmit);
        match output.event {
            Some(ClientEvent::Established(_)) => return Ok(client),
            Some(ClientEvent::Failed(failure)) => return Err(DialError::Failed(Box::new(failure))),
            Some(ClientEvent::Terminated(_)) | None => {}
        }
    }
    Err(DialError::TimedOut)
}

/// Ends an established dial from our side with a PADT.
pub fn hang_up(wire: &mut Wire, client: &mut Client) {
    let padt = client.close(&mut wire.tx, None);
    assert!(padt.is_some(), "hang_up needs an established session");
    wire.send_tx(padt);
}

/// What [`answer`] has seen so far.
#[derive(Debug, Clone, Copy)]
pub struct AnswerProgress<'a> {
    /// Every event the AC reported, in order.
    pub events: &'a [AcEvent],
    /// Session frames received and kept for [`relay`].
    pub session_frames: usize,
}

/// Runs rswan's access concentrator on the wire until `done` says so (checked between
/// frames) or `timeout` passes; returns every event it reported, in order.
pub fn answer<S: AsRef<[SessionSlot]> + AsMut<[SessionSlot]>>(
    wire: &mut Wire,
    ac: &mut AccessConcentrator<S>,
    timeout: Duration,
    mut done: impl FnMut(AnswerProgress<'_>) -> bool,
) -> Result<Vec<AcEvent>, Vec<AcEvent>> {
    let deadline = StdInstant::now() + timeout;
    let mut events = Vec::new();
    loop {
        let progress = AnswerProgress {
            events: &events,
            session_frames: wire.early_session_frames.len(),
        };
        if done(progress) {
            break;
        }
        if StdInstant::now() >= deadline {
            return Err(events);
        }
        match wire.receive() {
            Some((ETHERTYPE_DISCOVERY, frame)) => {
                let output = ac.handle_frame(wire.now(), &frame, &mut wire.tx);
                wire.send_tx(output.transmit);
                events.extend(output.event);
            }
            Some((ETHERTYPE_SESSION, frame)) => wire.early_session_frames.push(frame),
            _ => {}
        }
    }
    Ok(events)
}

/// How a relayed session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The peer sent a PADT for the session, with its error tag if any.
    PeerTerminated(Option<PeerError>),
    /// The PPP engine exited, or the caller's stop condition came true.
    Stopped,
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::PeerTerminated(None) => f.write_str("the peer ended the session (PADT)"),
            SessionEnd::PeerTerminated(Some(error)) => {
                write!(f, "the peer ended the session (PADT): {error}")
            }
            SessionEnd::Stopped => f.write_str("the local PPP engine stopped"),
        }
    }
}

/// What [`relay`] carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayReport {
    pub end: SessionEnd,
    /// PPP packets from the wire to the PPP engine.
    pub to_engine: usize,
    /// PPP packets from the PPP engine to the wire.
    pub to_wire: usize,
}

/// One end of a PPPoE session as [`relay`] sees it: the client's, or the AC's for one session.
pub trait SessionEndpoint {
    fn session(&self) -> Session;
    /// The PPP payload of a session frame of this session; other frames are refused.
    fn decapsulate<'f>(&mut self, frame: &'f [u8]) -> Option<&'f [u8]>;
    /// Handles a discovery frame during the session; `Some` when it ended the session.
    fn discovery(
        &mut self,
        now: Instant,
        frame: &[u8],
        tx: &mut TxBuffer,
    ) -> (Option<usize>, Option<SessionEnd>);
}

impl SessionEndpoint for Client {
    fn session(&self) -> Session {
        Client::session(self).expect("an established client")
    }

    fn decapsulate<'f>(&mut self, frame: &'f [u8]) -> Option<&'f [u8]> {
        Client::decapsulate(self, frame).ok()
    }

    fn discovery(
        &mut self,
        now: Instant,
        frame: &[u8],
        tx: &mut TxBuffer,
    ) -> (Option<usize>, Option<SessionEnd>) {
        let output = self.handle_frame(now, frame, tx);
        let end = match output.event {
            Some(ClientEvent::Terminated(error)) => Some(SessionEnd::PeerTerminated(error)),
            _ => None,
        };
        (output.transmit, end)
    }
}

/// The access concentrator's side of one of its sessions.
#[derive(Debug)]
pub struct AcSession<'a, S> {
    pub ac: &'a mut AccessConcentrator<S>,
    pub session: Session,
}

impl<S: AsRef<[SessionSlot]> + AsMut<[SessionSlot]>> SessionEndpoint for AcSession<'_, S> {
    fn session(&self) -> Session {
        self.session
    }

    fn decapsulate<'f>(&mut self, frame: &'f [u8]) -> Option<&'f [u8]> {
        match self.ac.decapsulate(frame) {
            Ok((session, payload)) if session == self.session => Some(payload),
            _ => None,
        }
    }

    fn discovery(
        &mut self,
        now: Instant,
        frame: &[u8],
        tx: &mut TxBuffer,
    ) -> (Option<usize>, Option<SessionEnd>) {
        let output = self.ac.handle_frame(now, frame, tx);
        let end = match output.event {
            Some(AcEvent::SessionClosed { session, error }) if session == self.session => {
                Some(SessionEnd::PeerTerminated(error))
            }
            _ => None,
        };
        (output.transmit, end)
    }
}

/// Carries PPP packets between the session on the wire and the PPP engine behind `pipe` until
/// the peer ends the session, the engine closes its output (it exited), `stop` says so, or
/// `timeout` passes (an error naming what was carried).
pub fn relay(
    wire: &mut Wire,
    endpoint: &mut impl SessionEndpoint,
    pipe: &mut FramedPipe,
    timeout: Duration,
    mut stop: impl FnMut() -> bool,
) -> Result<RelayReport, String> {
    let deadline = StdInstant::now() + timeout;
    let session = endpoint.session();
    let mut report = RelayReport {
        end: SessionEnd::Stopped,
        to_engine: 0,
        to_wire: 0,
    };
    let mut pending = std::mem::take(&mut wire.early_session_frames);
    pending.reverse();
    loop {
        let received = match pending.pop() {
            Some(frame) => Some((ETHERTYPE_SESSION, frame)),
            None => wire.receive(),
        };
        match received {
            Some((ETHERTYPE_SESSION, frame)) => {
                if let Some(packet) = endpoint.decapsulate(&frame) {
                    // The engine may already have exited; `stop` reports that.
                    if pipe.send(packet).is_ok() {
                        report.to_engine += 1;
                    }
                }
            }
            Some((ETHERTYPE_DISCOVERY, frame)) => {
                let (transmit, end) = endpoint.discovery(wire.now(), &frame, &mut wire.tx);
                wire.send_tx(transmit);
                if let Some(end) = end {
                    report.end = end;
                    return Ok(report);
                }
            }
            _ => {}
        }
        loop {
            match pipe.try_recv() {
                Ok(Some(packet)) => {
                    wire.send_session_packet(&session, &packet);
                    report.to_wire += 1;
                }
                Ok(None) => break,
                // The engine exited, and everything it wrote has been sent.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(report),
                Err(e) => return Err(format!("from the PPP engine: {e}")),
            }
        }
        if stop() {
            return Ok(report);
        }
        if StdInstant::now() >= deadline {
            return Err(format!(
                "the session was still up after {timeout:?}: {report:?}"
            ));
        }
    }
}

/// Waits for the peer to end the session with a PADT, with no PPP engine behind it (session
/// frames are dropped).
pub fn await_peer_end(
    wire: &mut Wire,
    endpoint: &mut impl SessionEndpoint,
    timeout: Duration,
) -> Result<SessionEnd, String> {
    let deadline = StdInstant::now() + timeout;
    while StdInstant::now() < deadline {
        if let Some((ETHERTYPE_DISCOVERY, frame)) = wire.receive() {
            let (transmit, end) = endpoint.discovery(wire.now(), &frame, &mut wire.tx);
            wire.send_tx(transmit);
            if let Some(end) = end {
                return Ok(end);
            }
        }
    }
    Err(format!(
        "the peer did not end the session within {timeout:?}"
    ))
}

/// A fresh AC-Cookie key: std's per-process random hash keys, mixed with the time.
pub fn random_key() -> [u8; 16] {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let low = state.hash_one(nanos);
    let high = state.hash_one(low);
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&low.to_le_bytes());
    key[8..].copy_from_slice(&high.to_le_bytes());
    key
}
