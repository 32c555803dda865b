//! The lwIP PPP program (tests/lwip-ppp), the PPP engine that stands where Windows RAS stands,
//! run as a subprocess that speaks RFC 1662 framing on stdin/stdout; and [`FramedPipe`], which
//! turns such a byte stream into whole PPP packets.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::Duration;

use crate::hdlc::{self, Decoder, FrameError};
use crate::pppoe_link::SessionEnd;
use crate::process::Peer;

/// How lwIP authenticates (the client accepts only this protocol; the server asks for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Pap,
    Chap,
}

/// The program's command line.
#[derive(Debug, Clone)]
pub struct LwipOptions {
    pub server: bool,
    pub user: String,
    pub password: String,
    pub auth: Auth,
    /// Server only: its address, the address it gives the client, the DNS it announces.
    pub addresses: Option<ServerAddresses>,
    /// Never negotiate ACFC (needed behind rp-pppoe, which strips the first two bytes).
    pub no_acfc: bool,
    /// Never negotiate an ACCM, so every control character stays escaped (needed behind
    /// rp-pppoe, which drops the protocol field of a frame whose Control byte 0x03 is not
    /// escaped).
    pub no_accm: bool,
    /// ICMP echo replies to wait for from the peer once IPCP is up.
    pub ping: u32,
    /// Close the link with LCP Terminate-Request once up (and the pings are answered).
    pub hangup: bool,
}

#[derive(Debug, Clone)]
pub struct ServerAddresses {
    pub local: String,
    pub peer: String,
    pub dns: String,
}

impl LwipOptions {
    pub fn client(user: &str, password: &str, auth: Auth) -> LwipOptions {
        LwipOptions {
            server: false,
            user: user.to_owned(),
            password: password.to_owned(),
            auth,
            addresses: None,
            no_acfc: false,
            no_accm: false,
            ping: 0,
            hangup: false,
        }
    }

    pub fn server(user: &str, password: &str, auth: Auth, addresses: ServerAddresses) -> Self {
        LwipOptions {
            server: true,
            addresses: Some(addresses),
            ..LwipOptions::client(user, password, auth)
        }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(crate::lwip_ppp_program());
        command
            .args(["--role", if self.server { "server" } else { "client" }])
            .args(["--user", &self.user, "--password", &self.password])
            .args([
                "--auth",
                match self.auth {
                    Auth::Pap => "pap",
                    Auth::Chap => "chap",
                },
            ]);
        if let Some(a) = &self.addresses {
            command.args(["--local", &a.local, "--peer", &a.peer, "--dns", &a.dns]);
        }
        if self.no_acfc {
            command.arg("--no-acfc");
        }
        if self.no_accm {
            command.arg("--no-accm");
        }
        if self.ping > 0 {
            command.args(["--ping", &self.ping.to_string()]);
        }
        if self.hangup {
            command.arg("--hangup");
        }
        command
    }

    /// Starts lwIP with the given stdin and stdout.
    pub fn spawn(&self, label: &str, stdin: Stdio, stdout: Stdio) -> Peer {
        Peer::spawn_with_stdio(label, self.command(), stdin, stdout)
    }

    /// Starts lwIP on pipes and returns it with a [`FramedPipe`] to talk PPP to it.
    pub fn spawn_framed(&self, label: &str) -> (Peer, FramedPipe) {
        let mut peer = self.spawn(label, Stdio::piped(), Stdio::piped());
        let stdin = peer.take_stdin().expect("stdin is piped");
        let stdout = peer.take_stdout().expect("stdout is piped");
        (peer, FramedPipe::new(stdin, stdout))
    }
}

/// The address lwIP reports in `IPCP up local=<ip> peer=<ip> dns=<ip>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcpUp {
    pub local: String,
    pub peer: String,
    pub dns: String,
}

impl IpcpUp {
    /// Parses lwIP's `IPCP up ...` line.
    pub fn parse(line: &str) -> Option<IpcpUp> {
        let rest = line.strip_prefix("IPCP up ")?;
        let value = |key: &str| {
            rest.split_whitespace()
                .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        Some(IpcpUp {
            local: value("local")?,
            peer: value("peer")?,
            dns: value("dns")?,
        })
    }
}

/// Waits for lwIP to report IPCP up (or fail) and returns the addresses.
pub fn wait_ipcp_up(lwip: &Peer, timeout: Duration) -> Result<IpcpUp, String> {
    let line = lwip.wait_for_line("IPCP up or PPP DOWN", timeout, |l| {
        l.starts_with("IPCP up ") || l.starts_with("PPP DOWN")
    })?;
    IpcpUp::parse(&line).ok_or_else(|| format!("{}: {line}", lwip.label()))
}

/// The last PPP phase lwIP reported (`PHASE <name>`), if any.
pub fn last_phase(lwip: &Peer) -> Option<String> {
    lwip.lines()
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("PHASE ").map(str::to_owned))
}

/// Why a session behind lwIP ended, for a person: how the PPPoE session ended and, when the
/// peer ended it, the PPP phase lwIP was in (a PADT during authentication is a refused login).
pub fn describe_end(end: &SessionEnd, lwip: &Peer) -> String {
    match (end, last_phase(lwip)) {
        (SessionEnd::PeerTerminated(_), Some(phase)) => format!("{end} in PPP phase {phase}"),
        _ => end.to_string(),
    }
}

/// Whole PPP packets over an RFC 1662 byte stream: [`FramedPipe::send`] frames a packet onto
/// the writer; a thread decodes the reader into packets (Address and Control removed).
#[derive(Debug)]
pub struct FramedPipe {
    writer: Box<dyn WriteDebug>,
    packets: Receiver<Result<Vec<u8>, FrameError>>,
}

/// `Write` that can be shown in a `Debug` derive.
trait WriteDebug: Write + Send + std::fmt::Debug {}
impl<T: Write + Send + std::fmt::Debug> WriteDebug for T {}

impl FramedPipe {
    pub fn new<W, R>(writer: W, mut reader: R) -> FramedPipe
    where
        W: Write + Send + std::fmt::Debug + 'static,
        R: Read + Send + 'static,
    {
        let (sender, packets) = mpsc::channel();
        thread::spawn(move || {
            let mut decoder = Decoder::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                for frame in decoder.push(&buf[..n]) {
                    let packet = frame.map(|f| hdlc::strip_address_control(&f).to_vec());
                    if sender.send(packet).is_err() {
                        return;
                    }
                }
            }
        });
        FramedPipe {
            writer: Box::new(writer),
            packets,
        }
    }

    /// Frames and writes one PPP packet (protocol field first).
    pub fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        self.writer.write_all(&hdlc::encode(packet))?;
        self.writer.flush()
    }

    /// The next decoded packet, waiting at most `timeout`; `Ok(None)` on timeout. A frame
    /// with a bad FCS or escape is an error: the peers here never send one.
    pub fn recv(&self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        match self.packets.recv_timeout(timeout) {
            Ok(packet) => packet.map(Some).map_err(frame_error),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(closed()),
        }
    }

    /// The next decoded packet if one is waiting.
    pub fn try_recv(&self) -> io::Result<Option<Vec<u8>>> {
        match self.packets.try_recv() {
            Ok(packet) => packet.map(Some).map_err(frame_error),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(closed()),
        }
    }
}

fn frame_error(e: FrameError) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("bad RFC 1662 frame: {e:?}"),
    )
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the PPP byte stream ended")
}

#[cfg(test)]
mod tests {
    use super::IpcpUp;

    #[test]
    fn ipcp_up_line_parses() {
        assert_eq!(
            IpcpUp::parse("IPCP up local=10.10.10.1 peer=10.10.10.254 dns=10.0.0.53"),
            Some(IpcpUp {
                local: "10.10.10.1".into(),
                peer: "10.10.10.254".into(),
                dns: "10.0.0.53".into(),
            })
        );
        assert_eq!(IpcpUp::parse("PPP DOWN reason=authfail"), None);
    }
}
