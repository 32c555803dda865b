//! A host Ethernet adapter backed by an AF_PACKET socket on a named Linux interface (a veth
//! in a network namespace the test made): what the driver sends on the adapter goes out of
//! the interface, and every frame the interface receives is indicated to the driver. This is
//! how the loaded rswan.sys meets real, independent PPPoE peers.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rswan_packet_socket::PacketSocket;
use rswan_pppoe::wire::{Code, Discovery};

use crate::kernel::binding::{self, Binding};
use crate::windows::lower;

/// How long one receive waits before the bridge looks at the driver's side again.
const POLL: Duration = Duration::from_millis(2);
/// The largest Ethernet frame the bridge carries.
const MAX_FRAME: usize = 1514;

/// The interface's adapter, to bind before starting the bridge.
pub fn adapter(interface: &str) -> Result<(lower::Adapter, PacketSocket), String> {
    let socket = PacketSocket::open(interface, POLL)
        .map_err(|e| format!("opening a packet socket on {interface}: {e}"))?;
    Ok((
        lower::Adapter {
            name: interface.to_owned(),
            mac: socket.mac(),
        },
        socket,
    ))
}

/// No PADS seen yet (session ids are 16 bits).
const NO_SESSION: u32 = u32::MAX;

/// Moves frames between the binding's wire and the interface until dropped. Like a NIC's
/// counters, it notes the session id of the last PADS that crossed it, either way.
#[derive(Debug)]
pub struct Bridge {
    stop: Arc<AtomicBool>,
    pads_session: Arc<AtomicU32>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl Bridge {
    pub fn start(binding: Binding, mut socket: PacketSocket) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::clone(&stop);
        let pads_session = Arc::new(AtomicU32::new(NO_SESSION));
        let seen = Arc::clone(&pads_session);
        let note = move |frame: &[u8]| {
            if let Some(pads) = Discovery::parse(frame)
                .ok()
                .filter(|d| d.code == Code::Pads)
            {
                seen.store(u32::from(pads.session_id), Ordering::Relaxed);
            }
        };
        let thread = std::thread::spawn(move || -> Result<(), String> {
            let mut buffer = vec![0u8; MAX_FRAME];
            let transmit = |socket: &mut PacketSocket| -> Result<(), String> {
                for frame in binding::take_transmitted(&binding.adapter_name) {
                    note(&frame);
                    socket
                        .send(&frame)
                        .map_err(|e| format!("sending on {}: {e}", binding.adapter_name))?;
                }
                Ok(())
            };
            while !running.load(Ordering::Relaxed) {
                transmit(&mut socket)?;
                let received = socket
                    .recv(&mut buffer)
                    .map_err(|e| format!("receiving on {}: {e}", binding.adapter_name))?;
                if let Some(len) = received {
                    note(&buffer[..len]);
                    lower::indicate(&binding, &buffer[..len])?;
                }
            }
            // What the driver sent last (a PADT as it hung up) still goes out.
            transmit(&mut socket)
        });
        Self {
            stop,
            pads_session,
            thread: Some(thread),
        }
    }

    /// The session id of the last PADS that crossed the bridge (RFC 2516 section 5.4).
    pub fn pads_session(&self) -> Option<u16> {
        u16::try_from(self.pads_session.load(Ordering::Relaxed)).ok()
    }

    /// Stops the bridge; the error of its thread, if it failed.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the bridge thread panicked".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
