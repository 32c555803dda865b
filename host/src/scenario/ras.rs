//! Whole calls with RAS's PPP engine on the VC (crate::windows::ras): the loaded driver dials
//! or answers a real PPPoE peer through an AF_PACKET adapter on an interface, and a real PPP
//! engine, listening on a Unix socket the test made, negotiates LCP, authentication and IPCP
//! through the driver with the far end.
#![forbid(unsafe_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use rswan_ndis::wan::framing;

use super::{FRAME_LIMIT, parse_number, step};
use crate::kernel::objects::Vc;
use crate::report;
use crate::windows::ras::{RasEnd, RasLink};
use crate::windows::{call, lower, ndiswan, ndproxy, packet_wire};

/// `dial-ras <interface>... <service> <socket> <seconds>` and `answer-ras <interface> <socket>
/// <seconds>`: the part between bringing the adapter up and taking it down.
pub(super) fn run(name: &str, args: &[String]) {
    match (name, args) {
        ("dial-ras", [interfaces @ .., service, socket, seconds]) if !interfaces.is_empty() => {
            dial(interfaces, service, Path::new(socket), seconds_of(seconds));
        }
        ("answer-ras", [interface, socket, seconds]) => {
            answer(interface, Path::new(socket), seconds_of(seconds));
        }
        _ => report::error(&format!(
            "{name} needs {}",
            if name == "dial-ras" {
                "<interface>... <service> <socket> <seconds>"
            } else {
                "<interface> <socket> <seconds>"
            }
        )),
    }
}

fn seconds_of(text: &str) -> Duration {
    Duration::from_secs(parse_number(text) as u64)
}

/// Binds an adapter on every interface and dials `service` on PPPoE line 0 (the driver
/// searches them all); hands the call to RAS's PPP engine until the engine hangs up (NDPROXY
/// then closes the call: the driver sends PADT), the peer hangs up (PADT: the driver
/// dispatches a close), or `hold` passes. Observes the interface the PADS crossed as
/// `call.connected`.
fn dial(interfaces: &[String], service: &str, socket: &Path, hold: Duration) {
    let ras = step(RasLink::connect(socket));
    let mut bindings = Vec::new();
    let mut bridges = Vec::new();
    for interface in interfaces {
        let (ethernet, packet_socket) = step(packet_wire::adapter(interface));
        let binding = step(lower::bind(&ethernet));
        bridges.push(packet_wire::Bridge::start(binding.clone(), packet_socket));
        bindings.push(binding);
    }
    let af = step(ndproxy::open_af());
    let vc = step(call::create_vc(&af));
    let connected = step(step(call::start_make_call(&vc, 0, service)).finish());
    let (bridges, chosen) = observe_session(bridges);
    report::observe("call.connected", &interfaces[chosen]);
    carry(ras, &connected.vc, hold);
    step(call::close_call(&connected.vc));
    report::observe("call.closed", "by NDPROXY");
    step(call::delete_vc(&connected.vc));
    step(ndproxy::close_af(af));
    for bridge in bridges {
        step(bridge.stop());
    }
    for binding in &bindings {
        step(lower::unbind(binding));
    }
}

/// Registers a SAP on PPPoE line 0, accepts the call the driver's access concentrator
/// dispatches when a client dials in, and hands it to RAS's PPP engine until the client hangs
/// up (PADT) or the engine does, or `hold` passes.
fn answer(interface: &str, socket: &Path, hold: Duration) {
    let (ethernet, packet_socket) = step(packet_wire::adapter(interface));
    let binding = step(lower::bind(&ethernet));
    let bridge = packet_wire::Bridge::start(binding.clone(), packet_socket);
    let af = step(ndproxy::open_af());
    let sap = step(call::register_sap(&af, 0));
    // Connected only now: the engine's test starts the client once the SAP listens.
    let ras = step(RasLink::connect(socket));
    let vc = step(call::accept_incoming(&sap, hold));
    report::observe("call.connected", "answered");
    let (mut bridges, _) = observe_session(vec![bridge]);
    let bridge = bridges.remove(0);
    carry(ras, &vc, hold);
    step(call::close_call(&vc));
    report::observe("call.closed", "by NDPROXY");
    step(call::deregister_sap(sap));
    step(ndproxy::close_af(af));
    step(bridge.stop());
    step(lower::unbind(&binding));
}

/// The session id of the PADS that opened the call, and which bridge it crossed. A bridge
/// may pass the PADS on a moment after the call is connected (the driver sends it, then
/// dispatches the call at once).
fn observe_session(bridges: Vec<packet_wire::Bridge>) -> (Vec<packet_wire::Bridge>, usize) {
    let deadline = Instant::now() + FRAME_LIMIT;
    while Instant::now() < deadline {
        let crossed = bridges
            .iter()
            .enumerate()
            .find_map(|(index, bridge)| Some((index, bridge.pads_session()?)));
        if let Some((index, id)) = crossed {
            report::observe("pppoe.session", format!("{id:#06x}"));
            return (bridges, index);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let bridged: Vec<String> = bridges
        .into_iter()
        .map(|bridge| match bridge.stop() {
            Ok(()) => "the bridge ran".to_owned(),
            Err(e) => format!("the bridge failed: {e}"),
        })
        .collect();
    report::error(&format!(
        "the call is connected but no PADS crossed an adapter ({})",
        bridged.join(", ")
    ))
}

/// NDISWAN's part of a connected call: the WAN info and link parameters, PPP framing on the
/// VC, then RAS's frames both ways until the link ends.
fn carry(ras: RasLink, vc: &Vc, hold: Duration) {
    let info = step(ndiswan::get_info());
    let params = step(ndiswan::link_params(vc, FRAME_LIMIT));
    report::observe(
        "wan.link",
        format!(
            "max_frame={} send_window={} speed={}",
            info.max_frame_size, params.send_window, params.transmit_speed
        ),
    );
    step(ndiswan::set_link_info(
        vc,
        info.max_frame_size,
        framing::PPP_FRAMING,
    ));
    let carried = step(ras.run(vc, params.send_window as usize, hold));
    report::observe("ras.to_engine", carried.to_engine);
    report::observe("ras.to_vc", carried.to_vc);
    report::observe("ras.failed_sends", carried.failed_sends);
    match carried.end {
        RasEnd::EngineClosed => report::observe("ras.end", "the PPP engine hung up"),
        RasEnd::RemoteClose { status } => report::observe(
            "ras.end",
            format!(
                "the peer hung up (close dispatched, status {:#010x})",
                status as u32
            ),
        ),
        RasEnd::TimeLimit => report::observe("ras.end", "hold time over"),
    }
}
