//! RAS's PPP engine for the loaded driver: the Unix socket that rswan-host's scenario child
//! (NDISWAN on the driver's VC, `dial-ras` and `answer-ras`) connects to, and the relay from it
//! to lwIP's PPP behind an RFC 1662 framer ([`FramedPipe`]). Packets cross the socket as the
//! records of `rswan_host::windows::ras`.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rswan_host::windows::ras::{read_packet, write_packet};

use crate::lwip::FramedPipe;

/// How often [`RasSocket::accept`] looks again, and how long one wait for lwIP lasts.
const POLL: Duration = Duration::from_millis(5);

/// The socket the scenario child connects to.
#[derive(Debug)]
pub struct RasSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl RasSocket {
    /// Listens on `<dir>/ras.sock`.
    pub fn bind(dir: &Path) -> Result<RasSocket, String> {
        let path = dir.join("ras.sock");
        let listener =
            UnixListener::bind(&path).map_err(|e| format!("listen on {}: {e}", path.display()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("make {} non-blocking: {e}", path.display()))?;
        Ok(RasSocket { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the scenario child to connect (it then is ready for a call). Gives up when
    /// `gone` says the child has ended, or after `timeout`.
    pub fn accept(&self, timeout: Duration, gone: impl Fn() -> bool) -> Result<UnixStream, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream
                        .set_nonblocking(false)
                        .map_err(|e| format!("make the NDISWAN socket blocking: {e}"))?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("accept on {}: {e}", self.path.display())),
            }
            if gone() {
                return Err("the scenario ended before it connected to RAS".into());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the scenario did not connect to RAS within {timeout:?}"
                ));
            }
            thread::sleep(POLL);
        }
    }
}

/// What the relay carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carried {
    /// Packets NDISWAN passed up to the engine.
    pub to_engine: usize,
    /// Packets the engine sent down to NDISWAN.
    pub from_engine: usize,
}

/// Relays PPP packets between NDISWAN's socket and the engine behind `pipe` until either
/// closes (NDISWAN when the call is over, lwIP when its link is down), then closes both so
/// the other side ends too. A frame from lwIP that fails its FCS, or `timeout` passing, is an
/// error.
pub fn relay(
    stream: UnixStream,
    mut pipe: FramedPipe,
    timeout: Duration,
) -> Result<Carried, String> {
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("clone the NDISWAN socket: {e}"))?;
    let (sender, from_ndiswan) = mpsc::channel();
    let mut reader = stream;
    thread::spawn(move || {
        while let Ok(Some(packet)) = read_packet(&mut reader) {
            if sender.send(packet).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut carried = Carried {
        to_engine: 0,
        from_engine: 0,
    };
    let outcome = loop {
        let ndiswan_closed = loop {
            match from_ndiswan.try_recv() {
                Ok(packet) => {
                    // lwIP may have exited; its closed output ends the relay below.
                    if pipe.send(&packet).is_ok() {
                        carried.to_engine += 1;
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break false,
                Err(mpsc::TryRecvError::Disconnected) => break true,
            }
        };
        if ndiswan_closed {
            break Ok(carried);
        }
        match pipe.recv(POLL) {
            Ok(Some(packet)) => {
                // NDISWAN may have closed; that ends the relay above.
                if write_packet(&mut writer, &packet).is_ok() {
                    carried.from_engine += 1;
                }
            }
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break Ok(carried),
            Err(e) => break Err(format!("from lwIP: {e}")),
        }
        if Instant::now() >= deadline {
            break Err(format!(
                "the link was still up after {timeout:?} ({carried:?})"
            ));
        }
    };
    let _ = writer.shutdown(Shutdown::Both);
    drop(pipe);
    outcome
}
