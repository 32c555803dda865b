//! rswan-packet-socket on a veth pair between two namespaces: whole Ethernet frames go both
//! ways, the MAC is the interface's, a quiet wire times out, and a host's own frames are not
//! handed back to it. Also checks the namespace and capture helpers the interop tests use.

use std::time::{Duration, Instant};

use rswan_e2e::capture::{Capture, captures_dir};
use rswan_e2e::netns::TestNet;
use rswan_packet_socket::{MAX_FRAME_BYTES, PacketSocket};

/// IEEE 802 "Local Experimental Ethertype 2": nothing on the veth answers it (type 1 marks
/// the capture's start and end).
const EXPERIMENTAL_ETHERTYPE: [u8; 2] = [0x88, 0xb6];
const RECEIVE_TIMEOUT: Duration = Duration::from_millis(200);

fn frame(dst: [u8; 6], src: [u8; 6], body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::from(dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&EXPERIMENTAL_ETHERTYPE);
    frame.extend_from_slice(body);
    // Pad to the Ethernet minimum so both ends see the same bytes.
    frame.resize(frame.len().max(60), 0);
    frame
}

/// The next frame with our ethertype (the kernel may send others, e.g. none with IPv6 off).
fn receive(socket: &mut PacketSocket, deadline: Instant) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; MAX_FRAME_BYTES];
    while Instant::now() < deadline {
        if let Some(len) = socket.recv(&mut buf).expect("receive")
            && buf[12..14] == EXPERIMENTAL_ETHERTYPE
        {
            return Some(buf[..len].to_vec());
        }
    }
    None
}

#[test]
fn frames_cross_a_veth_pair_between_namespaces() {
    let net = TestNet::new();
    let capture = Capture::start(
        &net.server,
        &net.server_if,
        "frames_cross_a_veth_pair_between_namespaces",
    );
    let mut client = net
        .client
        .enter(|| PacketSocket::open(&net.client_if, RECEIVE_TIMEOUT))
        .expect("open the client socket");
    let mut server = net
        .server
        .enter(|| PacketSocket::open(&net.server_if, RECEIVE_TIMEOUT))
        .expect("open the server socket");
    assert_eq!(client.mac(), net.client.mac(&net.client_if));
    assert_eq!(server.mac(), net.server.mac(&net.server_if));

    let deadline = Instant::now() + Duration::from_secs(10);
    let hello = frame(server.mac(), client.mac(), b"hello from the client");
    client.send(&hello).expect("send");
    assert_eq!(receive(&mut server, deadline).as_deref(), Some(&hello[..]));
    let reply = frame([0xff; 6], server.mac(), b"broadcast reply");
    server.send(&reply).expect("send");
    assert_eq!(receive(&mut client, deadline).as_deref(), Some(&reply[..]));

    // The server's own broadcast is not handed back to it, and nothing else is pending.
    let mut buf = vec![0u8; MAX_FRAME_BYTES];
    let started = Instant::now();
    assert_eq!(server.recv(&mut buf).expect("receive"), None);
    assert!(started.elapsed() >= RECEIVE_TIMEOUT - Duration::from_millis(20));

    assert!(client.send(&[0u8; 10]).is_err(), "a runt frame is refused");
    let mut small = [0u8; 16];
    client.send(&hello).expect("send");
    assert!(
        server.recv(&mut small).is_err(),
        "a frame larger than the buffer is an error, not a truncation"
    );

    let capture = capture.finish();
    assert_eq!(
        capture.path(),
        captures_dir().join("frames_cross_a_veth_pair_between_namespaces.pcapng")
    );
    capture.assert_well_formed();
    assert_eq!(capture.count("eth.type == 0x88b6"), 3);
}
