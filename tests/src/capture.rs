//! Packet captures taken with dumpcap inside a test's namespace and read back with tshark, an
//! independent dissector: no malformed packet, and the PPPoE codes and tags the test expects.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
use rswan_packet_socket::PacketSocket;

use crate::netns::NetNs;
use crate::process::{Peer, run_checked, tool};

/// Time dumpcap gets to open the interface.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// dumpcap prints "Capturing on" some 15 ms before it really captures (measured here): the
/// test's traffic waits this long, and a marker frame then shows nothing was missed.
const SETTLE: Duration = Duration::from_millis(250);
/// libpcap's TPACKET_V3 ring hands packets to dumpcap one block at a time, a block at the
/// latest when its retire timeout (dumpcap's 250 ms read timeout) passes; dumpcap drops what it
/// has not read when it stops. So the last packets need this long before SIGINT.
const DRAIN: Duration = Duration::from_millis(1000);
/// IEEE 802 Local Experimental Ethertype 1: no PPPoE peer reads it.
const MARKER_ETHERTYPE: u16 = 0x88b5;
const START_MARKER: &[u8] = b"rswan-e2e capture start";
const END_MARKER: &[u8] = b"rswan-e2e capture end";
/// Time dumpcap gets to write the file and exit after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// PPPoE discovery codes (RFC 2516 section 5), as tshark prints `pppoe.code`.
pub const PADI: u8 = 0x09;
pub const PADO: u8 = 0x07;
pub const PADR: u8 = 0x19;
pub const PADS: u8 = 0x65;
pub const PADT: u8 = 0xa7;

/// Where captures are kept: `<target dir>/captures`.
pub fn captures_dir() -> &'static Path {
    Path::new(env!("E2E_CAPTURES_DIR"))
}

/// A running dumpcap.
#[derive(Debug)]
pub struct Capture {
    dumpcap: Peer,
    path: PathBuf,
    marker_socket: PacketSocket,
}

impl Capture {
    /// Starts capturing on `interface` of `ns` into `<captures dir>/<name>.pcapng` (`name`: the
    /// test's name) and waits until dumpcap has opened the interface.
    pub fn start(ns: &NetNs, interface: &str, name: &str) -> Capture {
        let dir = captures_dir();
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.pcapng"));
        // A file left by an earlier run must not pass for this run's capture.
        let _ = fs::remove_file(&path);
        let mut command = ns.command("dumpcap");
        command.args(["-q", "-i", interface, "-w"]).arg(&path);
        let dumpcap = Peer::spawn(&format!("dumpcap {name}"), command);
        dumpcap
            .wait_for("Capturing on", START_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut marker_socket = ns
            .enter(|| PacketSocket::open(interface, Duration::from_millis(1)))
            .unwrap_or_else(|e| panic!("open a packet socket on {interface}: {e}"));
        std::thread::sleep(SETTLE);
        send_marker(&mut marker_socket, START_MARKER);
        Capture {
            dumpcap,
            path,
            marker_socket,
        }
    }

    /// Stops dumpcap and returns the finished capture file.
    pub fn finish(mut self) -> CaptureFile {
        send_marker(&mut self.marker_socket, END_MARKER);
        std::thread::sleep(DRAIN);
        self.dumpcap.signal(Signal::SIGINT);
        let status = self.dumpcap.wait_exit(STOP_TIMEOUT);
        assert!(
            status.is_some(),
            "dumpcap did not stop: {}",
            self.dumpcap.output()
        );
        assert!(
            self.path.is_file(),
            "dumpcap wrote no {}: {}",
            self.path.display(),
            self.dumpcap.output()
        );
        CaptureFile {
            path: self.path.clone(),
        }
    }
}

/// A finished capture, read with tshark.
#[derive(Debug, Clone)]
pub struct CaptureFile {
    path: PathBuf,
}

impl CaptureFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The values of `fields` in every packet that matches the display filter, one row per
    /// packet; several occurrences of a field in one packet are joined with `,`.
    pub fn fields(&self, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
        let mut command = Command::new(tool("tshark"));
        command
            .arg("-r")
            .arg(&self.path)
            .args(["-Y", filter, "-T", "fields", "-E", "separator=|"])
            .args(["-E", "occurrence=a", "-E", "aggregator=,"]);
        for field in fields {
            command.args(["-e", field]);
        }
        run_checked(&mut command)
            .lines()
            .map(|line| line.split('|').map(str::to_owned).collect())
            .collect()
    }

    /// Packets matching the display filter.
    pub fn count(&self, filter: &str) -> usize {
        self.fields(filter, &["frame.number"]).len()
    }

    /// Panics unless the capture is complete (it starts and ends with the markers
    /// [`Capture`] sent around the test's traffic) and tshark decodes every packet with no
    /// malformed packet and no expert error.
    pub fn assert_well_formed(&self) {
        let frames = self.fields("frame", &["eth.type", "data.data"]);
        let marker = |row: Option<&Vec<String>>, text: &[u8]| {
            row.is_some_and(|r| {
                r[0] == format!("0x{MARKER_ETHERTYPE:04x}") && r[1].starts_with(&hex(text))
            })
        };
        assert!(
            marker(frames.first(), START_MARKER) && marker(frames.last(), END_MARKER),
            "{} lost packets at its start or end: {} frames, first {:?}, last {:?}",
            self.path.display(),
            frames.len(),
            frames.first(),
            frames.last()
        );
        let bad = self.fields(
            "_ws.malformed || _ws.expert.severity >= error",
            &["frame.number", "_ws.col.protocol", "_ws.col.info"],
        );
        assert!(
            bad.is_empty(),
            "tshark flags packets of {} as malformed: {bad:?}",
            self.path.display()
        );
    }

    /// The PPPoE discovery codes in capture order.
    pub fn discovery_codes(&self) -> Vec<u8> {
        self.fields("pppoed", &["pppoe.code"])
            .iter()
            .map(|row| parse_number(&row[0]))
            .collect()
    }

    /// Every Service-Name (tag 0x0101) in discovery packets with code `code`, in order. Read
    /// from the tag bytes tshark delimits (`pppoed.tags_raw`): tshark shows no field for an
    /// empty Service-Name, which means "any service".
    pub fn service_names(&self, code: u8) -> Vec<String> {
        const SERVICE_NAME: u16 = 0x0101;
        let mut command = Command::new(tool("tshark"));
        command.arg("-r").arg(&self.path).args([
            "-Y",
            &format!("pppoe.code == {code}"),
            "-T",
            "json",
            "-x",
        ]);
        let json = run_checked(&mut command);
        json.split("\"pppoed.tags_raw\": [")
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
            .flat_map(|hex| tag_values(&unhex(hex), SERVICE_NAME))
            .map(|value| String::from_utf8_lossy(&value).into_owned())
            .collect()
    }

    /// The text of every tag `field` (e.g. `pppoed.tags.ac_cookie`) in discovery packets with
    /// code `code`, one entry per packet that has it.
    pub fn discovery_tag(&self, code: u8, field: &str) -> Vec<String> {
        self.fields(&format!("pppoe.code == {code} && {field}"), &[field])
            .into_iter()
            .map(|mut row| row.swap_remove(0))
            .collect()
    }
}

/// The values of every tag of type `tag_type` in `tags` (PPPoE TLVs), in order.
fn tag_values(mut tags: &[u8], tag_type: u16) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    while let [t0, t1, l0, l1, rest @ ..] = tags {
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let Some(value) = rest.get(..len) else { break };
        if u16::from_be_bytes([*t0, *t1]) == tag_type {
            values.push(value.to_vec());
        }
        tags = &rest[len..];
    }
    values
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("tshark prints hex"))
        .collect()
}

/// Broadcasts a marker frame from the capturing interface.
fn send_marker(socket: &mut PacketSocket, text: &[u8]) {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&socket.mac());
    frame.extend_from_slice(&MARKER_ETHERTYPE.to_be_bytes());
    frame.extend_from_slice(text);
    frame.resize(frame.len().max(60), 0);
    socket
        .send(&frame)
        .unwrap_or_else(|e| panic!("send a capture marker: {e}"));
}

/// Bytes as tshark prints an FT_BYTES field: lowercase hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a number as tshark prints it: decimal, or hex with `0x`.
fn parse_number(text: &str) -> u8 {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|e| panic!("tshark printed {text:?} for a code: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{parse_number, tag_values, unhex};

    #[test]
    fn tags_are_found_by_type() {
        let tags =
            unhex("01020007727377616e414301010000010100075465737453766301040008925898812af8ca64");
        assert_eq!(
            tag_values(&tags, 0x0101),
            [b"".to_vec(), b"TestSvc".to_vec()]
        );
        assert_eq!(tag_values(&tags, 0x0102), [b"rswanAC".to_vec()]);
        assert_eq!(
            tag_values(&tags[..tags.len() - 1], 0x0104),
            Vec::<Vec<u8>>::new()
        );
    }

    #[test]
    fn tshark_numbers_parse_in_hex_and_decimal() {
        assert_eq!(parse_number("0x09"), 9);
        assert_eq!(parse_number("0xa7"), 0xa7);
        assert_eq!(parse_number("101"), 101);
    }
}
