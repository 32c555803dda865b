//! The far end of the in-memory wire: a PPPoE access concentrator (rswan-pppoe's, the same
//! state machine the driver's answering side uses, on its own MAC) that answers the
//! driver's discovery and carries PPP payloads in its sessions (RFC 2516). Frames the driver
//! sends are taken from the host adapter's wire (crate::kernel::binding); the AC's replies
//! are indicated to the driver as received frames.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rswan_pppoe::{
    AcEvent, AccessConcentrator, HEADER_ROOM, MacAddr, Session, SessionSlot, TX_BUFFER_LEN,
    TxBuffer,
};

use crate::kernel::binding::{self, Binding};
use crate::windows::lower;

/// PPPoE discovery and session ethertypes.
const ETHERTYPE_DISCOVERY: u16 = 0x8863;
const ETHERTYPE_SESSION: u16 = 0x8864;
/// Sessions the peer holds at once.
const SESSIONS: usize = 64;

/// What the peer saw on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    SessionOpened(u16),
    SessionClosed(u16),
    /// A PPP payload (protocol field first) received in a session.
    Ppp {
        session: u16,
        payload: Vec<u8>,
    },
}

/// The access concentrator at the far end of one host adapter's wire.
#[derive(Debug)]
pub struct AcPeer {
    ac: AccessConcentrator<Box<[SessionSlot]>>,
    adapter_name: String,
    /// The PPPoE code of every discovery frame the driver sent it, in order.
    codes: Vec<u8>,
    /// The PPPoE code of every discovery frame it sent the driver, in order.
    answers: Vec<u8>,
    started: Instant,
    /// The Service-Name each open session was requested with.
    services: HashMap<u16, Vec<u8>>,
}

impl AcPeer {
    /// An AC with rswan-pppoe's default limits (4 sessions per peer MAC).
    pub fn new(adapter_name: &str, mac: [u8; 6], ac_name: &str) -> Result<Self, String> {
        Self::with_sessions_per_peer(adapter_name, mac, ac_name, 4)
    }

    /// An AC that opens up to `per_peer` sessions (at most its table's capacity) for one peer
    /// MAC: the driver dials all its PPPoE lines from the one MAC of its binding.
    pub fn with_sessions_per_peer(
        adapter_name: &str,
        mac: [u8; 6],
        ac_name: &str,
        per_peer: usize,
    ) -> Result<Self, String> {
        if per_peer > SESSIONS {
            return Err(format!(
                "the wire's AC holds {SESSIONS} sessions, not {per_peer}"
            ));
        }
        let mut config = rswan_pppoe::ac::AcConfig::new(MacAddr(mac), ac_name.as_bytes(), [7; 16])
            .map_err(|e| format!("{e:?}"))?;
        config.max_sessions_per_peer = per_peer;
        Ok(Self {
            ac: AccessConcentrator::new(config, vec![SessionSlot::FREE; SESSIONS].into())
                .map_err(|e| format!("{e:?}"))?,
            adapter_name: adapter_name.to_owned(),
            codes: Vec::new(),
            answers: Vec::new(),
            started: Instant::now(),
            services: HashMap::new(),
        })
    }

    fn now(&self) -> rswan_pppoe::Instant {
        rswan_pppoe::Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    /// Handles every frame the driver sent since the last call; replies go back to the
    /// driver through `binding`.
    pub fn pump(&mut self, binding: &Binding) -> Result<Vec<Seen>, String> {
        let mut seen = Vec::new();
        for frame in binding::take_transmitted(&self.adapter_name) {
            let ethertype = frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
            match ethertype {
                Some(ETHERTYPE_DISCOVERY) => {
                    self.codes.extend(frame.get(15));
                    let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
                    let output = self.ac.handle_frame(self.now(), &frame, &mut tx);
                    if let Some(len) = output.transmit {
                        self.answers.push(tx[15]);
                        lower::indicate(binding, &tx[..len])?;
                    }
                    match output.event {
                        Some(AcEvent::SessionOpened {
                            session,
                            service_name,
                        }) => {
                            self.services
                                .insert(session.id, service_name.as_bytes().to_vec());
                            seen.push(Seen::SessionOpened(session.id));
                        }
                        Some(AcEvent::SessionClosed { session, .. }) => {
                            self.services.remove(&session.id);
                            seen.push(Seen::SessionClosed(session.id));
                        }
                        None => {}
                    }
                }
                Some(ETHERTYPE_SESSION) => {
                    if let Ok((session, payload)) = self.ac.decapsulate(&frame) {
                        seen.push(Seen::Ppp {
                            session: session.id,
                            payload: payload.to_vec(),
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(seen)
    }

    /// Pumps until `wanted` accepts something seen, or `limit` passes.
    pub fn pump_until(
        &mut self,
        binding: &Binding,
        limit: Duration,
        wanted: impl Fn(&Seen) -> bool,
    ) -> Result<Seen, String> {
        let deadline = Instant::now() + limit;
        let mut all = Vec::new();
        loop {
            for seen in self.pump(binding)? {
                if wanted(&seen) {
                    return Ok(seen);
                }
                all.push(seen);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the peer did not see what it waited for in {:.1} s; it saw {all:?}",
                    limit.as_secs_f64()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The PPPoE codes (0x09 PADI, 0x19 PADR, 0xa7 PADT) of the discovery frames the driver
    /// sent this AC so far.
    pub fn discovery_codes(&self) -> &[u8] {
        &self.codes
    }

    /// The PPPoE codes (0x07 PADO, 0x65 PADS) of the discovery frames it answered with.
    pub fn answer_codes(&self) -> &[u8] {
        &self.answers
    }

    /// Sessions open now.
    pub fn session_count(&self) -> usize {
        self.ac.session_count()
    }

    /// The open session with this id.
    pub fn session(&self, id: u16) -> Option<Session> {
        self.ac.session(id)
    }

    /// The Service-Name the open session `id` was requested with.
    pub fn service(&self, id: u16) -> Option<&[u8]> {
        self.services.get(&id).map(Vec::as_slice)
    }

    /// Hangs up session `id` from the AC's side: a PADT to the driver (RFC 2516 section 5.5).
    pub fn close_session(&mut self, binding: &Binding, id: u16) -> Result<(), String> {
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        let len = self
            .ac
            .close_session(id, None, &mut tx)
            .ok_or_else(|| format!("no session {id} to close"))?;
        self.services.remove(&id);
        lower::indicate(binding, &tx[..len])
    }

    /// Sends a PPP payload (protocol field first) to the driver in session `id`.
    pub fn send_ppp(&mut self, binding: &Binding, id: u16, payload: &[u8]) -> Result<(), String> {
        lower::indicate(binding, &self.session_frame(id, payload)?)
    }

    /// The Ethernet frame carrying `payload` in session `id` to the driver.
    pub fn session_frame(&self, id: u16, payload: &[u8]) -> Result<Vec<u8>, String> {
        let session = self.session(id).ok_or("no such session")?;
        let mut buffer = vec![0u8; HEADER_ROOM + payload.len()];
        buffer[HEADER_ROOM..].copy_from_slice(payload);
        let len = session
            .encapsulate(&mut buffer, payload.len())
            .map_err(|e| format!("{e:?}"))?;
        buffer.truncate(len);
        Ok(buffer)
    }

    /// Frames the peer refused, by reason (its counters).
    pub fn counters(&self) -> String {
        format!("{:?}", self.ac.counters())
    }
}

/// What the dialing client at the far end saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSeen {
    Established(u16),
    Failed(String),
    Terminated,
    Ppp(Vec<u8>),
}

/// A PPPoE client at the far end of the wire (rswan-pppoe's), dialing the driver's access
/// concentrator.
#[derive(Debug)]
pub struct ClientPeer {
    client: rswan_pppoe::Client,
    adapter_name: String,
    started: Instant,
}

impl ClientPeer {
    /// Starts discovery: the first PADI goes to the driver.
    pub fn dial(
        binding: &Binding,
        adapter_name: &str,
        mac: [u8; 6],
        service: &str,
    ) -> Result<Self, String> {
        let config = rswan_pppoe::ClientConfig::new(MacAddr(mac), service.as_bytes(), b"host")
            .map_err(|e| format!("{e:?}"))?;
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        let (client, len) = rswan_pppoe::Client::start(config, rswan_pppoe::Instant::ZERO, &mut tx)
            .map_err(|e| format!("{e:?}"))?;
        lower::indicate(binding, &tx[..len])?;
        Ok(Self {
            client,
            adapter_name: adapter_name.to_owned(),
            started: Instant::now(),
        })
    }

    fn now(&self) -> rswan_pppoe::Instant {
        rswan_pppoe::Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    fn event(output: rswan_pppoe::Output<rswan_pppoe::ClientEvent>) -> Option<ClientSeen> {
        match output.event? {
            rswan_pppoe::ClientEvent::Established(session) => {
                Some(ClientSeen::Established(session.id))
            }
            rswan_pppoe::ClientEvent::Failed(failure) => {
                Some(ClientSeen::Failed(failure.to_string()))
            }
            rswan_pppoe::ClientEvent::Terminated(_) => Some(ClientSeen::Terminated),
        }
    }

    /// Handles the driver's frames and the client's retransmission timer.
    pub fn pump(&mut self, binding: &Binding) -> Result<Vec<ClientSeen>, String> {
        let mut seen = Vec::new();
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        let output = self.client.handle_timeout(self.now(), &mut tx);
        if let Some(len) = output.transmit {
            lower::indicate(binding, &tx[..len])?;
        }
        seen.extend(Self::event(output));
        for frame in binding::take_transmitted(&self.adapter_name) {
            match frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]])) {
                Some(ETHERTYPE_DISCOVERY) => {
                    let output = self.client.handle_frame(self.now(), &frame, &mut tx);
                    if let Some(len) = output.transmit {
                        lower::indicate(binding, &tx[..len])?;
                    }
                    seen.extend(Self::event(output));
                }
                Some(ETHERTYPE_SESSION) => {
                    if let Ok(payload) = self.client.decapsulate(&frame) {
                        seen.push(ClientSeen::Ppp(payload.to_vec()));
                    }
                }
                _ => {}
            }
        }
        Ok(seen)
    }

    /// Sends a PPP payload (protocol field first) to the driver in the session.
    pub fn send_ppp(&mut self, binding: &Binding, payload: &[u8]) -> Result<(), String> {
        let mut buffer = vec![0u8; HEADER_ROOM + payload.len()];
        buffer[HEADER_ROOM..].copy_from_slice(payload);
        let len = self
            .client
            .encapsulate(&mut buffer, payload.len())
            .map_err(|e| format!("{e:?}"))?;
        lower::indicate(binding, &buffer[..len])
    }

    /// Hangs up: a PADT to the driver.
    pub fn hang_up(&mut self, binding: &Binding) -> Result<(), String> {
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        let len = self
            .client
            .close(&mut tx, None)
            .ok_or("no session to close")?;
        lower::indicate(binding, &tx[..len])
    }
}
