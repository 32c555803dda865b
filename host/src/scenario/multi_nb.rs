//! NBLs that hold several NET_BUFFERs, through the real driver. NDISWAN may chain several
//! NET_BUFFERs in one send NBL and an Ethernet adapter several frames in one receive NBL; each
//! NET_BUFFER is one frame (WDK: "NET_BUFFER architecture"). Every frame must cross, in order,
//! and a send NBL completes once, for all its frames.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::{AC_MAC, ETHERNET_MAC, ETHERNET_NAME, FRAME_LIMIT, connect_loopback, hang_up, step};
use crate::report;
use crate::windows::{call, lower, ndiswan, ndproxy, wire_peer};

/// The frames of one send: an LCP Configure-Request, an LCP Echo-Request behind HDLC Address
/// and Control (FF 03, which NDISWAN may put in front: WDK "WAN Packet Framing"), and an IPv4
/// datagram's first bytes.
const SEND: [&[u8]; 3] = [
    b"\xc0\x21\x01\x01\x00\x04",
    b"\xff\x03\xc0\x21\x09\x02\x00\x08\x00\x00\x00\x00",
    b"\x00\x21\x45\x00\x00\x14\x00\x00",
];

/// How many one-frame NBLs the access concentrator's burst holds.
const RECEIVE_BURST: u8 = 32;

fn check_frames(what: &str, got: &[Vec<u8>], expected: &[&[u8]]) {
    if got.len() != expected.len() || got.iter().zip(expected).any(|(g, e)| g != e) {
        report::error(&format!(
            "{what}: expected {expected:02x?} in this order, got {got:02x?}"
        ));
    }
}

/// One NBL of three frames each way over a loopback call: the other end receives the three,
/// in order, byte for byte; the send completes once with NDIS_STATUS_SUCCESS.
pub fn loopback() {
    let call = connect_loopback();
    for (from, to) in [
        (&call.outgoing, &call.incoming),
        (&call.incoming, &call.outgoing),
    ] {
        let nbl = step(ndiswan::send_frames_at(from, &SEND, false));
        let received: Vec<Vec<u8>> = SEND
            .iter()
            .map(|_| step(ndiswan::receive(to, FRAME_LIMIT)))
            .collect();
        let status = step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT));
        check_frames("the loopback peer", &received, &SEND);
        report::observe(
            "multi_nb.loopback",
            format!(
                "{} frames in one NBL, received in order, completed {:#010x}",
                received.len(),
                status as u32
            ),
        );
    }
    hang_up(call);
}

/// A PPPoE call over the in-memory wire: one send NBL of three frames reaches the access
/// concentrator as three session frames in order (FF 03 taken off: a PPPoE payload starts at
/// the protocol field, RFC 2516 section 7), completing once; one receive NBL holding two of
/// the AC's session frames reaches NDISWAN as two frames in order, and so does a burst of
/// one-frame NBLs indicated back to back.
pub fn dial_wire() {
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    let binding = step(lower::bind(&ethernet));
    let mut peer = step(wire_peer::AcPeer::new(
        ETHERNET_NAME,
        AC_MAC,
        "rswan-host-ac",
    ));
    let af = step(ndproxy::open_af());
    let (session, vc) = super::dial_pppoe(&binding, &af, &mut peer);

    let nbl = step(ndiswan::send_frames_at(&vc, &SEND, false));
    let deadline = Instant::now() + FRAME_LIMIT;
    let mut carried = Vec::new();
    while carried.len() < SEND.len() && Instant::now() < deadline {
        for seen in step(peer.pump(&binding)) {
            if let wire_peer::Seen::Ppp {
                session: s,
                payload,
            } = seen
                && s == session
            {
                carried.push(payload);
            }
        }
    }
    let status = step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT));
    let unframed: Vec<&[u8]> = SEND
        .iter()
        .map(|frame| frame.strip_prefix(b"\xff\x03").unwrap_or(frame))
        .collect();
    check_frames("the access concentrator", &carried, &unframed);
    report::observe(
        "multi_nb.pppoe_send",
        format!(
            "{} frames in one NBL, carried in order, completed {:#010x}",
            carried.len(),
            status as u32
        ),
    );

    let replies: [&[u8]; 2] = [
        b"\xc0\x21\x02\x01\x00\x04",
        b"\xc0\x21\x0a\x02\x00\x08\x00\x00\x00\x00",
    ];
    let frames: Vec<Vec<u8>> = replies
        .iter()
        .map(|payload| step(peer.session_frame(session, payload)))
        .collect();
    let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    step(lower::indicate_frames(&binding, &frames));
    let received: Vec<Vec<u8>> = replies
        .iter()
        .map(|_| step(ndiswan::receive(&vc, FRAME_LIMIT)))
        .collect();
    check_frames("NDISWAN", &received, &replies);
    report::observe(
        "multi_nb.pppoe_receive",
        format!("{} frames in one NBL, indicated in order", received.len()),
    );

    // A burst of one-frame NBLs: an adapter indicates one receive queue in order, so NDISWAN
    // sees the frames in the order they came off the wire (a PADT never overtakes a PADS).
    let burst: Vec<Vec<u8>> = (0..RECEIVE_BURST)
        .map(|n| vec![0xc0, 0x21, 0x0a, n, 0x00, 0x08, 0x00, 0x00, 0x00, n])
        .collect();
    for payload in &burst {
        step(lower::indicate(
            &binding,
            &step(peer.session_frame(session, payload)),
        ));
    }
    let received: Vec<Vec<u8>> = burst
        .iter()
        .map(|_| step(ndiswan::receive(&vc, FRAME_LIMIT)))
        .collect();
    let burst: Vec<&[u8]> = burst.iter().map(Vec::as_slice).collect();
    check_frames("NDISWAN", &received, &burst);
    report::observe(
        "multi_nb.pppoe_receive_burst",
        format!("{} one-frame NBLs, indicated in order", received.len()),
    );

    step(call::close_call(&vc));
    step(peer.pump_until(&binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::SessionClosed(_))
    }));
    step(call::delete_vc(&vc));
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
}
