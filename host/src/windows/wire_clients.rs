//! Many PPPoE clients (rswan-pppoe's) at the far end of one host adapter's wire, each on its
//! own MAC, dialing the driver's access concentrator at once. The frames the driver sends are
//! taken from the wire once and handed to the client whose MAC they are addressed to, as a
//! switch would.
#![forbid(unsafe_code)]

use std::time::Instant;

use rswan_pppoe::{Client, ClientConfig, ClientEvent, MacAddr, TX_BUFFER_LEN, TxBuffer};

use crate::kernel::binding::{self, Binding};
use crate::windows::lower;

const ETHERTYPE_DISCOVERY: u16 = 0x8863;

/// What happened to one client, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// PADS with a session id.
    Established(u16),
    /// Discovery failed (the client's failure text, e.g. the AC's error tag).
    Failed(String),
    /// The AC sent a PADT for the session.
    Terminated,
}

/// The clients on one wire.
#[derive(Debug)]
pub struct ClientCrowd {
    clients: Vec<(MacAddr, Client)>,
    adapter_name: String,
    started: Instant,
}

impl ClientCrowd {
    /// Starts one client per MAC in `macs` (Service-Name empty: any); their PADIs go to the
    /// driver.
    pub fn dial(binding: &Binding, adapter_name: &str, macs: &[[u8; 6]]) -> Result<Self, String> {
        let mut clients = Vec::new();
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        for mac in macs {
            let config =
                ClientConfig::new(MacAddr(*mac), b"", &mac[3..]).map_err(|e| format!("{e:?}"))?;
            let (client, len) = Client::start(config, rswan_pppoe::Instant::ZERO, &mut tx)
                .map_err(|e| format!("{e:?}"))?;
            lower::indicate(binding, &tx[..len])?;
            clients.push((MacAddr(*mac), client));
        }
        Ok(Self {
            clients,
            adapter_name: adapter_name.to_owned(),
            started: Instant::now(),
        })
    }

    fn now(&self) -> rswan_pppoe::Instant {
        rswan_pppoe::Instant::from_millis(self.started.elapsed().as_millis() as u64)
    }

    /// Handles the driver's discovery frames and the clients' timers; returns what happened,
    /// as (client index, outcome).
    pub fn pump(&mut self, binding: &Binding) -> Result<Vec<(usize, Outcome)>, String> {
        let now = self.now();
        let mut seen = Vec::new();
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        for (index, (_, client)) in self.clients.iter_mut().enumerate() {
            let output = client.handle_timeout(now, &mut tx);
            if let Some(len) = output.transmit {
                lower::indicate(binding, &tx[..len])?;
            }
            seen.extend(output.event.map(|e| (index, outcome(e))));
        }
        for frame in binding::take_transmitted(&self.adapter_name) {
            let ethertype = frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
            let Some(dst) = frame.get(..6) else { continue };
            if ethertype != Some(ETHERTYPE_DISCOVERY) {
                continue;
            }
            let Some(index) = self.clients.iter().position(|(mac, _)| mac.0 == dst) else {
                continue;
            };
            let output = self.clients[index].1.handle_frame(now, &frame, &mut tx);
            if let Some(len) = output.transmit {
                lower::indicate(binding, &tx[..len])?;
            }
            seen.extend(output.event.map(|e| (index, outcome(e))));
        }
        Ok(seen)
    }

    /// Hangs up client `index`'s session: a PADT to the driver.
    pub fn hang_up(&mut self, binding: &Binding, index: usize) -> Result<(), String> {
        let mut tx: TxBuffer = [0; TX_BUFFER_LEN];
        let client = &mut self.clients.get_mut(index).ok_or("no such client")?.1;
        let len = client.close(&mut tx, None).ok_or("no session to close")?;
        lower::indicate(binding, &tx[..len])
    }
}

fn outcome(event: ClientEvent) -> Outcome {
    match event {
        ClientEvent::Established(session) => Outcome::Established(session.id),
        ClientEvent::Failed(failure) => Outcome::Failed(failure.to_string()),
        ClientEvent::Terminated(_) => Outcome::Terminated,
    }
}
