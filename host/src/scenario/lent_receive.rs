//! PPPoE session frames received without a copy, through the real driver. An NBL the lower
//! adapter indicates without NDIS_RECEIVE_FLAGS_RESOURCES is the protocol's until it calls
//! NdisReturnNetBufferLists (WDK: ProtocolReceiveNetBufferLists), so the driver may indicate
//! the PPP payload up in place and return the lower NBL when NDISWAN returns the frame. With
//! RESOURCES, across buffers, or several frames in one NBL it copies and returns at once. A
//! binding's pause and unbind finish only once every lent NBL is back (WDK: "Pausing a
//! Binding"). The verifier's lending and exactly-once rules watch every step.
#![forbid(unsafe_code)]

use std::sync::mpsc;
use std::time::Duration;

use super::{AC_MAC, ETHERNET_MAC, ETHERNET_NAME, FRAME_LIMIT, step};
use crate::kernel::binding::Binding;
use crate::kernel::events::{self, Event};
use crate::kernel::objects::Vc;
use crate::kernel::packets;
use crate::report;
use crate::windows::lower::{self, Indicated, Indication};
use crate::windows::ndproxy::OpenAf;
use crate::windows::{call, ndiswan, ndproxy, wire_peer};

/// How long a pause or unbind is given to (wrongly) finish while NDISWAN holds a lent frame.
const HOLD: Duration = Duration::from_millis(300);
/// How long a return that must not have happened is waited for.
const NOT_YET: Duration = Duration::from_millis(50);

/// An LCP Echo-Request: a PPP frame as the AC sends it (no FF 03 in a PPPoE payload).
fn echo(n: u8) -> Vec<u8> {
    vec![0xc0, 0x21, 0x09, n, 0x00, 0x08, 0x00, 0x00, 0x00, n]
}

/// Whether every range of `inner` lies inside one of `outer`.
fn inside(inner: &[(usize, usize)], outer: &[(usize, usize)]) -> bool {
    !inner.is_empty()
        && inner
            .iter()
            .all(|i| outer.iter().any(|o| o.0 <= i.0 && i.1 <= o.1))
}

/// Whether no range of `a` shares a byte with one of `b`.
fn apart(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    a.iter().all(|x| b.iter().all(|y| x.1 <= y.0 || y.1 <= x.0))
}

/// Forgets returns already logged (an NBL address may be reused after its return).
fn forget_returns() {
    events::take_all(Duration::ZERO, |e| matches!(e, Event::LowerReturn { .. }));
}

/// Whether the adapter got `lower` back within `limit`.
fn returned(lower: usize, limit: Duration) -> bool {
    events::take(
        limit,
        |e| matches!(e, Event::LowerReturn { nbl } if *nbl == lower),
    )
    .is_ok()
}

/// One PPPoE call over the in-memory wire.
struct Call {
    peer: wire_peer::AcPeer,
    session: u16,
    vc: Vc,
}

fn dial(binding: &Binding, af: &OpenAf, mut peer: wire_peer::AcPeer) -> Call {
    let (session, vc) = super::dial_pppoe(binding, af, &mut peer);
    Call { peer, session, vc }
}

/// Indicates one session frame carrying `payload` the way `how` says, and takes NDISWAN's
/// indication of it without returning it: (what the adapter indicated, NDISWAN's NBL).
fn indicate(binding: &Binding, call: &Call, payload: &[u8], how: Indication) -> (Indicated, usize) {
    forget_returns();
    let frame = step(call.peer.session_frame(call.session, payload));
    let indicated = step(lower::indicate_with(binding, &[&frame], how));
    let (up, got) = step(ndiswan::take_indication(&call.vc, FRAME_LIMIT));
    if got != payload {
        report::error(&format!(
            "NDISWAN got {got:02x?} for the PPP frame {payload:02x?}"
        ));
    }
    (indicated, up)
}

/// The common case: the frame NDISWAN gets is the lower adapter's buffer, and the lower NBL
/// comes back only once NDISWAN returned it (here at DISPATCH_LEVEL, with
/// NDIS_RETURN_FLAGS_DISPATCH_LEVEL, which the driver passes on).
fn zero_copy(binding: &Binding, call: &Call, n: u8) -> String {
    let (lower, up) = indicate(binding, call, &echo(n), Indication::default());
    let up_memory = packets::nbl_data_memory(up);
    if !inside(&up_memory, &lower.memory) {
        report::error(&format!(
            "the frame NDISWAN got ({up_memory:x?}) is not in the lower adapter's buffers ({:x?}): it was copied",
            lower.memory
        ));
    }
    if returned(lower.nbl, NOT_YET) {
        report::error("the lower NBL came back while NDISWAN still held the frame lent from it");
    }
    step(ndiswan::return_indicated(up, true));
    if !returned(lower.nbl, FRAME_LIMIT) {
        report::error("the lower NBL did not come back after NDISWAN returned the lent frame");
    }
    "in the lower adapter's buffer; the lower NBL came back after NDISWAN returned it".into()
}

/// A frame the driver must copy: NDISWAN's frame is in none of the lower NBL's buffers, and
/// the lower NBL is back before NDISWAN returns anything (with RESOURCES it is the adapter's
/// again as the handler returns, and the verifier checks nothing kept it).
fn copied(binding: &Binding, call: &Call, n: u8, how: Indication) -> String {
    let (lower, up) = indicate(binding, call, &echo(n), how);
    if !apart(&packets::nbl_data_memory(up), &lower.memory) {
        report::error(&format!(
            "{how:?}: the frame NDISWAN got points into the lower adapter's buffers"
        ));
    }
    if !how.resources && !returned(lower.nbl, FRAME_LIMIT) {
        report::error(&format!("{how:?}: the lower NBL was not returned at once"));
    }
    step(ndiswan::return_indicated(up, false));
    "copied; the lower NBL was not kept".into()
}

/// Two frames in one NBL: both reach NDISWAN, copied, and the NBL goes back at once.
fn several_frames(binding: &Binding, call: &Call) -> String {
    forget_returns();
    let frames: Vec<Vec<u8>> = [echo(20), echo(21)]
        .iter()
        .map(|payload| step(call.peer.session_frame(call.session, payload)))
        .collect();
    let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let lower = step(lower::indicate_with(
        binding,
        &frames,
        Indication::default(),
    ));
    let mut ups = Vec::new();
    for n in [20, 21] {
        let (up, got) = step(ndiswan::take_indication(&call.vc, FRAME_LIMIT));
        if got != echo(n) || !apart(&packets::nbl_data_memory(up), &lower.memory) {
            report::error("a frame of a two-frame NBL was lost, reordered or lent");
        }
        ups.push(up);
    }
    if !returned(lower.nbl, FRAME_LIMIT) {
        report::error("the two-frame NBL was not returned at once");
    }
    for up in ups {
        step(ndiswan::return_indicated(up, false));
    }
    "both copied; the lower NBL was not kept".into()
}

/// Runs `job` on a thread of its own and says whether it is still running after [`HOLD`];
/// the receiver gets its outcome.
fn start_blocking(
    job: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> mpsc::Receiver<Result<(), String>> {
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(job());
    });
    outcome
}

/// A pause with a lent frame out waits for it, finishes once NDISWAN returns it, and the
/// binding lends again after its restart.
fn pause_waits(binding: &Binding, call: &Call) -> String {
    let (lower, up) = indicate(binding, call, &echo(30), Indication::default());
    let pausing = binding.clone();
    let outcome = start_blocking(move || lower::pause(&pausing));
    if outcome.recv_timeout(HOLD).is_ok() {
        report::error("the binding's pause finished while NDISWAN held a frame lent from it");
    }
    step(ndiswan::return_indicated(up, false));
    match outcome.recv_timeout(FRAME_LIMIT) {
        Ok(result) => step(result),
        Err(_) => report::error("the pause did not finish after the lent frame came back"),
    }
    if !returned(lower.nbl, FRAME_LIMIT) {
        report::error("the lent frame's lower NBL did not come back before the pause finished");
    }
    step(lower::restart(binding));
    zero_copy(binding, call, 31);
    "waited for the lent frame; lends again after the restart".into()
}

/// NDISWAN still holds a lent frame when the call closes and the VC goes: the lower NBL comes
/// back, once, when NDISWAN returns the frame late. A frame that arrives after the session
/// closed is lent and dropped by the engine, and its lower NBL comes back at once.
fn vc_closes_under_a_lent_frame(binding: &Binding, call: &mut Call) -> String {
    let stale = step(call.peer.session_frame(call.session, &echo(40)));
    let (lower, up) = indicate(binding, call, &echo(41), Indication::default());
    step(call::close_call(&call.vc));
    step(call.peer.pump_until(binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::SessionClosed(_))
    }));
    step(call::delete_vc(&call.vc));
    if returned(lower.nbl, NOT_YET) {
        report::error("the lower NBL came back at the call's close while NDISWAN held the frame");
    }
    step(ndiswan::return_indicated(up, false));
    if !returned(lower.nbl, FRAME_LIMIT) {
        report::error("the lower NBL did not come back when NDISWAN returned the frame late");
    }
    forget_returns();
    let dropped = step(lower::indicate_with(
        binding,
        &[&stale],
        Indication::default(),
    ));
    if !returned(dropped.nbl, FRAME_LIMIT) {
        report::error("a frame of a closed session was not returned at once");
    }
    if ndiswan::take_indication(&call.vc, NOT_YET).is_ok() {
        report::error("a frame of a closed session reached NDISWAN");
    }
    "returned once when NDISWAN gave the frame back late; a frame of the closed session returned at once".into()
}

/// An unbind with a lent frame out (its session still up) waits for the frame.
fn unbind_waits(binding: Binding, call: &Call) -> String {
    let (lower, up) = indicate(&binding, call, &echo(50), Indication::default());
    let unbinding = binding.clone();
    let outcome = start_blocking(move || lower::unbind(&unbinding));
    // The unbind ends the session: NDPROXY is told, and closes the call.
    let handle = call.vc.handle;
    step(
        events::take(
            FRAME_LIMIT,
            |e| matches!(e, Event::IncomingCloseCall { vc, .. } if *vc == handle),
        )
        .map(|_| ()),
    );
    step(call::close_call(&call.vc));
    step(call::delete_vc(&call.vc));
    if outcome.recv_timeout(HOLD).is_ok() {
        report::error("the unbind finished while NDISWAN held a frame lent from the binding");
    }
    step(ndiswan::return_indicated(up, false));
    match outcome.recv_timeout(FRAME_LIMIT) {
        Ok(result) => step(result),
        Err(_) => report::error("the unbind did not finish after the lent frame came back"),
    }
    if !returned(lower.nbl, Duration::ZERO) {
        report::error("the lent frame's lower NBL was not returned before the unbind finished");
    }
    "waited for the lent frame".into()
}

/// The Ethernet adapter bound, with the host's access concentrator on its wire, and a call
/// dialed through it.
fn bind_and_dial() -> (Binding, OpenAf, Call) {
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    let binding = step(lower::bind(&ethernet));
    let peer = step(wire_peer::AcPeer::new(
        ETHERNET_NAME,
        AC_MAC,
        "rswan-host-ac",
    ));
    let af = step(ndproxy::open_af());
    let call = dial(&binding, &af, peer);
    (binding, af, call)
}

/// Every case on one binding, each observed as `lent.<case>`.
pub fn run() {
    let (binding, af, mut call) = bind_and_dial();
    report::observe("lent.zero_copy", zero_copy(&binding, &call, 1));
    let resources = Indication {
        resources: true,
        split_at: None,
    };
    report::observe("lent.resources", copied(&binding, &call, 2, resources));
    // 10 bytes: the Ethernet header straddles the two buffers; 24: the headers are whole in
    // the first and the payload straddles.
    for (key, split) in [("lent.split_headers", 10), ("lent.split_payload", 24)] {
        let how = Indication {
            resources: false,
            split_at: Some(split),
        };
        report::observe(key, copied(&binding, &call, split as u8, how));
    }
    report::observe("lent.several_frames", several_frames(&binding, &call));
    report::observe("lent.pause", pause_waits(&binding, &call));
    report::observe(
        "lent.vc_closed",
        vc_closes_under_a_lent_frame(&binding, &mut call),
    );
    let call = dial(&binding, &af, call.peer);
    report::observe("lent.unbind", unbind_waits(binding, &call));
    step(ndproxy::close_af(af));
}

/// A full-size PPP frame (an IPv4 datagram of the largest PPPoE payload, RFC 2516's 1492
/// bytes less the protocol field).
fn full_size(n: u64) -> Vec<u8> {
    let mut frame = vec![0x00, 0x21];
    frame.extend((0..1490u32).map(|i| (i as u64 ^ n) as u8));
    frame
}

/// Seconds for `frames` full-size session frames, each indicated the way `how` says, taken by
/// NDISWAN and returned, one after the other: (the whole round trip through the host, the part
/// spent inside the driver's receive and return entry points).
fn time_receives(binding: &Binding, call: &Call, frames: u64, how: Indication) -> (f64, f64) {
    let payloads: Vec<Vec<u8>> = (0..8).map(full_size).collect();
    let wire: Vec<Vec<u8>> = payloads
        .iter()
        .map(|payload| step(call.peer.session_frame(call.session, payload)))
        .collect();
    lower::take_receive_path_time();
    let started = std::time::Instant::now();
    for n in 0..frames as usize {
        let lower = step(lower::indicate_with(binding, &[&wire[n % wire.len()]], how));
        let (up, got) = step(ndiswan::take_indication(&call.vc, FRAME_LIMIT));
        if got != payloads[n % payloads.len()] {
            report::error("a benchmark frame reached NDISWAN changed");
        }
        step(ndiswan::return_indicated(up, true));
        // Taken as it comes, so the event log stays short for both ways of receiving.
        if !how.resources && !returned(lower.nbl, FRAME_LIMIT) {
            report::error("a lent benchmark frame's lower NBL did not come back");
        }
    }
    (
        started.elapsed().as_secs_f64(),
        lower::take_receive_path_time().as_secs_f64(),
    )
}

/// The receive path copying (every frame indicated with RESOURCES, so the driver copies it)
/// and lending (no RESOURCES), `frames` full-size frames each, alternating in rounds so both
/// see the same machine; observed as `bench.copy_seconds` and `bench.lent_seconds` (round
/// trips) and `bench.copy_driver_seconds` and `bench.lent_driver_seconds` (inside the driver).
pub fn bench(frames: u64) {
    let (binding, af, call) = bind_and_dial();
    let copy = Indication {
        resources: true,
        split_at: None,
    };
    const ROUNDS: u64 = 4;
    let per_round = frames.div_ceil(ROUNDS);
    let (mut copy_seconds, mut lent_seconds) = ((0.0, 0.0), (0.0, 0.0));
    for _ in 0..ROUNDS {
        let copied = time_receives(&binding, &call, per_round, copy);
        let lent = time_receives(&binding, &call, per_round, Indication::default());
        copy_seconds = (copy_seconds.0 + copied.0, copy_seconds.1 + copied.1);
        lent_seconds = (lent_seconds.0 + lent.0, lent_seconds.1 + lent.1);
    }
    report::observe("bench.frames", per_round * ROUNDS);
    report::observe("bench.copy_seconds", copy_seconds.0);
    report::observe("bench.lent_seconds", lent_seconds.0);
    report::observe("bench.copy_driver_seconds", copy_seconds.1);
    report::observe("bench.lent_driver_seconds", lent_seconds.1);
    step(call::close_call(&call.vc));
    let mut peer = call.peer;
    step(peer.pump_until(&binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::SessionClosed(_))
    }));
    step(call::delete_vc(&call.vc));
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
}
