//! An `AF_PACKET` raw socket bound to one named Linux interface.
//!
//! It sends and receives whole Ethernet frames (destination MAC first, no FCS), waits at most a
//! fixed receive timeout, and knows the interface's MAC address. This is the lower edge that
//! lets rswan's `no_std` engines run against real peers on Linux (tests, and the host that plays
//! NDIS). The raw system calls live in `pnet_datalink`; this crate has no `unsafe`.
//!
//! The socket belongs to the network namespace of the thread that opens it (see `setns(2)`): open
//! it from a thread that has entered the namespace, then use it from any thread.
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::time::Duration;

use pnet_datalink::{Channel, Config, DataLinkReceiver, DataLinkSender, NetworkInterface};

/// Largest frame sent or received: a jumbo frame, for RFC 4638 PPP-Max-Payload above 1492.
pub const MAX_FRAME_BYTES: usize = 9216;

/// A raw Ethernet socket on one interface.
pub struct PacketSocket {
    interface: String,
    mac: [u8; 6],
    sender: Box<dyn DataLinkSender>,
    receiver: Box<dyn DataLinkReceiver>,
}

impl fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSocket")
            .field("interface", &self.interface)
            .field("mac", &format_mac(&self.mac))
            .finish_non_exhaustive()
    }
}

impl PacketSocket {
    /// Opens a raw socket on `interface` (in the calling thread's network namespace) that sees
    /// every ethertype. [`PacketSocket::recv`] waits at most `receive_timeout` for a frame.
    pub fn open(interface: &str, receive_timeout: Duration) -> io::Result<Self> {
        let found = find_interface(interface)?;
        let mac = found
            .mac
            .map(|m| m.octets())
            .filter(|m| *m != [0; 6])
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("interface {interface} has no Ethernet address"),
                )
            })?;
        let config = Config {
            read_timeout: Some(receive_timeout),
            read_buffer_size: MAX_FRAME_BYTES,
            write_buffer_size: MAX_FRAME_BYTES,
            promiscuous: false,
            ..Config::default()
        };
        match pnet_datalink::channel(&found, config)? {
            Channel::Ethernet(sender, receiver) => Ok(Self {
                interface: interface.to_owned(),
                mac,
                sender,
                receiver,
            }),
            _ => Err(io::Error::other(format!(
                "interface {interface} did not give an Ethernet channel"
            ))),
        }
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends one whole Ethernet frame (destination, source, ethertype, payload).
    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        if frame.len() < 14 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an Ethernet frame has at least 14 header bytes",
            ));
        }
        self.sender
            .send_to(frame, None)
            .unwrap_or_else(|| Err(io::Error::other("the packet socket refused the frame")))
    }

    /// Waits at most the receive timeout for the next frame that arrived on the interface and
    /// copies it into `buf` (a mutable copy, so engines can decapsulate in place). Returns the
    /// frame's length, or `Ok(None)` on timeout. Frames this host sent itself, which a raw socket
    /// also sees, are skipped: their source is the interface's own MAC.
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            let frame = match self.receiver.next() {
                Ok(frame) => frame,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(None),
                Err(e) => return Err(e),
            };
            if frame.len() < 14 || frame[6..12] == self.mac {
                continue;
            }
            let copy = buf.get_mut(..frame.len()).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("a {}-byte frame does not fit the buffer", frame.len()),
                )
            })?;
            copy.copy_from_slice(frame);
            return Ok(Some(frame.len()));
        }
    }
}

fn find_interface(name: &str) -> io::Result<NetworkInterface> {
    pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no interface named {name} in this network namespace"),
            )
        })
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_interface_is_not_found() {
        let err = PacketSocket::open("rswan-none0", Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("rswan-none0"), "{err}");
    }

    #[test]
    fn loopback_has_no_ethernet_address() {
        let err = PacketSocket::open("lo", Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn mac_is_formatted_with_colons() {
        assert_eq!(
            format_mac(&[0x02, 0, 0xab, 0x10, 0xff, 1]),
            "02:00:ab:10:ff:01"
        );
    }
}
