//! RAS's PPP engine behind NDISWAN on a connected VC. On Windows, RAS negotiates LCP,
//! authentication and IPCP, and NDISWAN carries its frames over the miniport's VC. Here the PPP
//! engine is a real one running outside the scenario child (lwIP's PPP, started by the test),
//! reached over a Unix stream socket; this module is NDISWAN's side of it: frames indicated on
//! the VC go to the engine, the engine's frames are sent on the VC within the send window.
//!
//! NDISWAN hands the miniport "simple PPP HDLC framing": PPP's HDLC framing without FCS,
//! stuffing or flags (WDK: "WAN Packet Framing"), so a frame sent on the VC starts with
//! Address and Control (FF 03) before the protocol field. Received frames are taken with or
//! without FF 03 (a PPPoE payload carries none, RFC 2516 section 7; which of the two NDISWAN
//! expects from a PPPoE miniport is not documented: unverified).
//!
//! The socket carries one PPP packet per record, protocol field first, each preceded by its
//! length as two bytes, big-endian ([`write_packet`], [`read_packet`]).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::kernel::events::{self, Event};
use crate::kernel::objects::Vc;
use crate::windows::ndiswan;

/// Address (all stations) and Control (UI) of an uncompressed PPP HDLC frame (RFC 1662).
pub const ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];
/// The longest PPP packet a record may carry.
pub const MAX_PACKET: usize = 4096;
/// How long one wait for an indication lasts, so the loop also serves the engine's frames.
const POLL: Duration = Duration::from_millis(5);
/// How long a send may stay uncompleted.
const SEND_LIMIT: Duration = Duration::from_secs(10);

/// Writes one PPP packet as a record.
pub fn write_packet(out: &mut impl Write, packet: &[u8]) -> io::Result<()> {
    let len = u16::try_from(packet.len())
        .ok()
        .filter(|&len| usize::from(len) <= MAX_PACKET)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "PPP packet too long"))?;
    let mut record = len.to_be_bytes().to_vec();
    record.extend_from_slice(packet);
    out.write_all(&record)?;
    out.flush()
}

/// Reads one record; `Ok(None)` when the stream ended between records.
pub fn read_packet(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = usize::from(u16::from_be_bytes(len));
    if len > MAX_PACKET {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {len}-byte PPP packet record"),
        ));
    }
    let mut packet = vec![0u8; len];
    input.read_exact(&mut packet)?;
    Ok(Some(packet))
}

/// A frame as NDISWAN sends it on the VC: FF 03, then the packet.
pub fn simple_hdlc_frame(packet: &[u8]) -> Vec<u8> {
    let mut frame = ADDRESS_CONTROL.to_vec();
    frame.extend_from_slice(packet);
    frame
}

/// The PPP packet of a frame indicated on the VC, with FF 03 removed if present.
pub fn packet_of(frame: &[u8]) -> &[u8] {
    frame.strip_prefix(&ADDRESS_CONTROL[..]).unwrap_or(frame)
}

/// How a RAS session on a VC ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RasEnd {
    /// The PPP engine closed its socket (its link went down and it exited).
    EngineClosed,
    /// The call manager dispatched a close of the call (the peer hung up: a PADT).
    RemoteClose { status: i32 },
    /// The time limit passed with the link still up.
    TimeLimit,
}

/// What a RAS session carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RasReport {
    pub end: RasEnd,
    /// Frames indicated on the VC and passed to the engine.
    pub to_engine: usize,
    /// The engine's frames sent on the VC.
    pub to_vc: usize,
    /// Sends that completed with a status other than success.
    pub failed_sends: usize,
}

/// NDISWAN's connection to the PPP engine.
#[derive(Debug)]
pub struct RasLink {
    writer: UnixStream,
    from_engine: Receiver<io::Result<Vec<u8>>>,
}

impl RasLink {
    /// Connects to the PPP engine listening on `socket`. The test that started the engine
    /// learns from the connection that the scenario is ready for a call.
    pub fn connect(socket: &Path) -> Result<RasLink, String> {
        let stream = UnixStream::connect(socket)
            .map_err(|e| format!("connecting to the PPP engine at {}: {e}", socket.display()))?;
        let writer = stream
            .try_clone()
            .map_err(|e| format!("cloning the PPP engine socket: {e}"))?;
        Ok(RasLink {
            writer,
            from_engine: read_in_background(stream),
        })
    }

    /// Carries frames between the engine and `vc` until the engine closes the socket, the
    /// call is closed from the far end, or `limit` passes. At most `send_window` sends are
    /// outstanding at once (NDISWAN honours the VC's SendWindow: WDK "Sending Packets from a
    /// CoNDIS WAN Miniport Driver").
    pub fn run(
        mut self,
        vc: &Vc,
        send_window: usize,
        limit: Duration,
    ) -> Result<RasReport, String> {
        let deadline = Instant::now() + limit;
        let mut report = RasReport {
            end: RasEnd::TimeLimit,
            to_engine: 0,
            to_vc: 0,
            failed_sends: 0,
        };
        let mut outstanding = VecDeque::new();
        let handle = vc.handle;
        let end = loop {
            if let Ok(Event::IncomingCloseCall { status, .. }) = events::take(
                Duration::ZERO,
                |e| matches!(e, Event::IncomingCloseCall { vc, .. } if *vc == handle),
            ) {
                break RasEnd::RemoteClose { status };
            }
            if let Ok(frame) = ndiswan::receive(vc, POLL) {
                // The engine may have gone; its end is seen below.
                if write_packet(&mut self.writer, packet_of(&frame)).is_ok() {
                    report.to_engine += 1;
                }
            }
            let mut closed = false;
            loop {
                match self.from_engine.recv_timeout(Duration::ZERO) {
                    Ok(Ok(packet)) => {
                        if outstanding.len() >= send_window.max(1) {
                            let nbl = outstanding.pop_front().unwrap_or_default();
                            report.failed_sends +=
                                usize::from(ndiswan::wait_send_complete(nbl, SEND_LIMIT)? != 0);
                        }
                        outstanding.push_back(ndiswan::send(vc, &simple_hdlc_frame(&packet))?);
                        report.to_vc += 1;
                    }
                    Ok(Err(e)) => return Err(format!("from the PPP engine: {e}")),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            if closed {
                break RasEnd::EngineClosed;
            }
            if Instant::now() >= deadline {
                break RasEnd::TimeLimit;
            }
        };
        for nbl in outstanding {
            report.failed_sends += usize::from(ndiswan::wait_send_complete(nbl, SEND_LIMIT)? != 0);
        }
        report.end = end;
        Ok(report)
    }
}

/// The engine's packets, read by a thread; the channel closes when the engine closes the
/// socket.
fn read_in_background(mut stream: UnixStream) -> Receiver<io::Result<Vec<u8>>> {
    let (sender, packets) = mpsc::channel();
    std::thread::spawn(move || {
        loop {
            let packet = match read_packet(&mut stream) {
                Ok(Some(packet)) => Ok(packet),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let failed = packet.is_err();
            if sender.send(packet).is_err() || failed {
                return;
            }
        }
    });
    packets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_end_cleanly() {
        let mut stream = Vec::new();
        write_packet(&mut stream, &[0xc0, 0x21, 1, 1, 0, 4]).unwrap();
        write_packet(&mut stream, &[]).unwrap();
        assert_eq!(&stream[..2], &[0, 6]);
        let mut input = stream.as_slice();
        assert_eq!(
            read_packet(&mut input).unwrap(),
            Some(vec![0xc0, 0x21, 1, 1, 0, 4])
        );
        assert_eq!(read_packet(&mut input).unwrap(), Some(vec![]));
        assert_eq!(read_packet(&mut input).unwrap(), None);
    }

    #[test]
    fn a_cut_record_and_an_oversized_one_are_errors() {
        let mut input: &[u8] = &[0, 6, 0xc0, 0x21];
        assert!(read_packet(&mut input).is_err());
        let mut input: &[u8] = &[0xff, 0xff];
        assert_eq!(
            read_packet(&mut input).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert!(write_packet(&mut Vec::new(), &vec![0; MAX_PACKET + 1]).is_err());
    }

    #[test]
    fn ndiswan_frames_carry_address_and_control() {
        let frame = simple_hdlc_frame(&[0x80, 0x21, 1]);
        assert_eq!(frame, [0xff, 0x03, 0x80, 0x21, 1]);
        assert_eq!(packet_of(&frame), &[0x80, 0x21, 1]);
        assert_eq!(packet_of(&[0xc0, 0x21, 9]), &[0xc0, 0x21, 9]);
    }
}
