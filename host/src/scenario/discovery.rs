//! PPPoE discovery at scale and across adapters: many clients dialing in on one Ethernet
//! binding at once (the access concentrator's session table, sized from `MaxSessions`), and
//! one dial searching every bound adapter for an access concentrator.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::kernel::events::{self, Event};
use crate::kernel::{binding, pool, processors};
use crate::report;
use crate::windows::wire_clients::{ClientCrowd, Outcome};
use crate::windows::{call, lower, ndproxy, wire_peer};

use super::{ETHERNET_MAC, ETHERNET_NAME, FRAME_LIMIT, IDLE_LIMIT, parse_number, step};

/// The second Ethernet adapter of the two-adapter scenarios.
const SECOND_NAME: &str = r"\DEVICE\{5257414E-0000-0000-0000-000000000002}";
const SECOND_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x00, 0x02];
/// The access concentrators behind the first and the second adapter.
const FIRST_AC_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x01, 0xAC];
const SECOND_AC_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x02, 0xAC];
/// Well over the client's retries, 5 + 10 + 20 s (rp-pppoe's timing, rswan-pppoe's default),
/// for a loaded machine (the child's own time limit in the tests is longer still).
const DISCOVERY_LIMIT: Duration = Duration::from_secs(100);

fn client_mac(index: usize) -> [u8; 6] {
    [0x02, 0x52, 0x57, 0x10, 0x00, index as u8]
}

/// `answer-many <lines> <clients>`: NDPROXY listens on PPPoE lines 0..lines, `clients`
/// clients on their own MACs dial in on one binding at once; every call the driver dispatches
/// is accepted. Observes each client's outcome, the calls connected, and the pool bytes the
/// binding held; then the clients hang up and the binding goes.
pub fn answer_many(args: &[String]) {
    let [lines, clients] = args else {
        report::error("answer-many needs <lines> <clients>");
    };
    let (lines, clients) = (parse_number(lines) as u32, parse_number(clients));
    let before_bind = pool::live_bytes();
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    let binding = step(lower::bind(&ethernet));
    report::observe(
        "pool.bytes_of_binding",
        pool::live_bytes().saturating_sub(before_bind),
    );
    let af = step(ndproxy::open_af());
    let saps: Vec<call::Sap> = (0..lines)
        .map(|line| step(call::register_sap(&af, line)))
        .collect();
    let macs: Vec<[u8; 6]> = (0..clients).map(client_mac).collect();
    let mut crowd = step(ClientCrowd::dial(&binding, ETHERNET_NAME, &macs));
    let mut outcomes: BTreeMap<usize, Vec<Outcome>> = BTreeMap::new();
    let mut answered = Vec::new();
    let mut connected = Vec::new();
    let deadline = Instant::now() + FRAME_LIMIT;
    loop {
        for (index, outcome) in step(crowd.pump(&binding)) {
            outcomes.entry(index).or_default().push(outcome);
        }
        for event in events::take_all(Duration::from_millis(2), |e| {
            matches!(e, Event::IncomingCall { .. } | Event::CallConnected { .. })
        }) {
            match event {
                Event::IncomingCall {
                    vc,
                    call_parameters,
                    sap,
                } => {
                    if !saps.iter().any(|s| s.handle == sap) {
                        report::error("an incoming call on a SAP NDPROXY never registered");
                    }
                    step(call::accept_dispatched(vc, call_parameters));
                    answered.push(vc);
                }
                Event::CallConnected { vc } => connected.push(vc),
                _ => {}
            }
        }
        let alive = outcomes
            .values()
            .filter(|o| matches!(o.last(), Some(Outcome::Established(_))))
            .count();
        let settled = outcomes.len() == clients && alive == connected.len();
        if settled && answered.len() == connected.len() {
            break;
        }
        if Instant::now() > deadline {
            report::error(&format!(
                "not settled in {} s: outcomes {outcomes:?}, answered {}, connected {}",
                FRAME_LIMIT.as_secs(),
                answered.len(),
                connected.len()
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    for (index, seen) in &outcomes {
        let text: Vec<String> = seen
            .iter()
            .map(|o| match o {
                Outcome::Established(_) => "established".to_owned(),
                Outcome::Failed(why) => format!("failed: {why}"),
                Outcome::Terminated => "terminated".to_owned(),
            })
            .collect();
        report::observe(&format!("client.{index}"), text.join(", "));
    }
    let sessions: std::collections::BTreeSet<u16> = outcomes
        .values()
        .filter_map(|o| match o.last() {
            Some(Outcome::Established(id)) => Some(*id),
            _ => None,
        })
        .collect();
    report::observe("answer.sessions", sessions.len());
    report::observe("answer.connected", connected.len());
    // Every client with a session hangs up; each call the driver dispatched closes.
    for (index, seen) in &outcomes {
        if matches!(seen.last(), Some(Outcome::Established(_))) {
            step(crowd.hang_up(&binding, *index));
        }
    }
    for vc in &connected {
        step(events::take(
            FRAME_LIMIT,
            |e| matches!(e, Event::IncomingCloseCall { vc: v, .. } if v == vc),
        ));
        let known = crate::kernel::objects::vc(*vc)
            .unwrap_or_else(|| report::error("a connected VC vanished"));
        step(call::close_call(&known));
    }
    report::observe("answer.closed", connected.len());
    for sap in saps {
        step(call::deregister_sap(sap));
    }
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
    if !processors::wait_idle(IDLE_LIMIT) {
        report::error("the driver did not finish after the unbind");
    }
    report::observe(
        "pool.bytes_after_unbind",
        pool::live_bytes() as i64 - before_bind as i64,
    );
}

/// How a `dial-search` run goes: where ACs answer, and which adapters come or go while the
/// dial is searching.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// An AC behind the first and behind the second adapter.
    acs: [bool; 2],
    /// The second adapter is bound only once the dial's PADI went out on the first.
    second_binds_late: bool,
    /// The first adapter is unbound once its PADI went out, before the second's AC answers.
    first_leaves: bool,
    /// Then the second adapter is unbound too.
    second_leaves: bool,
}

impl Plan {
    fn named(name: &str) -> Option<Plan> {
        let plan = |acs, second_binds_late, first_leaves, second_leaves| Plan {
            acs,
            second_binds_late,
            first_leaves,
            second_leaves,
        };
        Some(match name {
            "second" => plan([false, true], false, false, false),
            "both" => plan([true, true], false, false, false),
            "none" => plan([false, false], false, false, false),
            "second-binds-late" => plan([false, true], true, false, false),
            "first-leaves" => plan([false, true], false, true, false),
            "all-leave" => plan([false, false], false, true, true),
            _ => return None,
        })
    }
}

/// One adapter's wire: its binding while bound, the AC behind it (if any), and the discovery
/// codes the driver sent where no AC took them.
struct Wire {
    name: &'static str,
    mac: [u8; 6],
    binding: Option<binding::Binding>,
    peer: Option<wire_peer::AcPeer>,
    unanswered: Vec<u8>,
}

impl Wire {
    fn new(name: &'static str, mac: [u8; 6], ac: Option<[u8; 6]>) -> Wire {
        Wire {
            name,
            mac,
            binding: None,
            peer: ac.map(|ac| step(wire_peer::AcPeer::new(name, ac, "rswan-host-ac"))),
            unanswered: Vec::new(),
        }
    }

    fn bind(&mut self) {
        self.binding = Some(step(lower::bind(&lower::Adapter {
            name: self.name.to_owned(),
            mac: self.mac,
        })));
    }

    fn unbind(&mut self) {
        if let Some(binding) = self.binding.take() {
            step(lower::unbind(&binding));
        }
    }

    /// Lets the AC answer what the driver sent (or records it where none listens); the
    /// session id of a session the AC opened.
    fn pump(&mut self) -> Option<u16> {
        let Some(binding) = &self.binding else {
            return None;
        };
        let Some(peer) = &mut self.peer else {
            let sent = binding::take_transmitted(self.name);
            self.unanswered
                .extend(sent.iter().filter_map(|f| f.get(15).copied()));
            return None;
        };
        step(peer.pump(binding))
            .into_iter()
            .find_map(|seen| match seen {
                wire_peer::Seen::SessionOpened(id) => Some(id),
                _ => None,
            })
    }

    /// The codes the driver sent on this wire, in order.
    fn codes(&mut self) -> Vec<u8> {
        match &self.peer {
            Some(peer) => peer.discovery_codes().to_vec(),
            None => {
                let sent = binding::take_transmitted(self.name);
                self.unanswered
                    .extend(sent.iter().filter_map(|f| f.get(15).copied()));
                self.unanswered.clone()
            }
        }
    }
}

fn hex_codes(codes: &[u8]) -> String {
    let text: Vec<String> = codes.iter().map(|c| format!("{c:#04x}")).collect();
    text.join(" ")
}

/// Waits until the driver sent a PADI on a wire where no AC listens.
fn wait_for_padi(wire: &mut Wire) {
    let deadline = Instant::now() + FRAME_LIMIT;
    while !wire.unanswered.contains(&0x09) {
        wire.pump();
        if Instant::now() > deadline {
            report::error(&format!("no PADI on {} in time", wire.name));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether the make call on `handle` completed within `limit`.
fn make_call_completed(handle: usize, limit: Duration) -> bool {
    events::wait_for(
        limit,
        |e| matches!(e, Event::MakeCallComplete { vc, .. } if *vc == handle),
    )
}

/// `dial-search <plan>`: two Ethernet adapters; the plan says behind which an access
/// concentrator answers (`second`, `both`, `none`) and which adapters come or go while the
/// dial searches (`second-binds-late`, `first-leaves`, `all-leave`). NDPROXY dials PPPoE line
/// 0; observes the discovery codes the driver sent on each wire, those each AC answered with,
/// and how the call ended.
pub fn dial_search(args: &[String]) {
    let [name] = args else {
        report::error("dial-search needs <plan>");
    };
    let plan = Plan::named(name)
        .unwrap_or_else(|| report::error(&format!("dial-search: unknown plan `{name}`")));
    let mut wires = [
        Wire::new(
            ETHERNET_NAME,
            ETHERNET_MAC,
            plan.acs[0].then_some(FIRST_AC_MAC),
        ),
        Wire::new(
            SECOND_NAME,
            SECOND_MAC,
            plan.acs[1].then_some(SECOND_AC_MAC),
        ),
    ];
    wires[0].bind();
    if !plan.second_binds_late {
        wires[1].bind();
    }
    let af = step(ndproxy::open_af());
    let vc = step(call::create_vc(&af));
    let handle = vc.handle;
    let pending = step(call::start_make_call(&vc, 0, "isp"));
    if plan.second_binds_late {
        wait_for_padi(&mut wires[0]);
        wires[1].bind();
        report::observe("wire.second.bound", "during discovery");
    }
    if plan.first_leaves {
        wait_for_padi(&mut wires[0]);
        wires[0].unbind();
        // Another binding still searches: the dial goes on.
        if make_call_completed(handle, Duration::from_millis(300)) {
            report::observe("call.after_first_left", "completed");
        } else {
            report::observe("call.after_first_left", "still dialing");
        }
    }
    if plan.second_leaves {
        wires[1].unbind();
    }
    let deadline = Instant::now() + DISCOVERY_LIMIT;
    let mut opened = None;
    while !make_call_completed(handle, Duration::from_millis(2)) {
        for (index, wire) in wires.iter_mut().enumerate() {
            if let Some(id) = wire.pump() {
                opened = Some((index, id));
            }
        }
        if Instant::now() > deadline {
            report::error("the dial neither connected nor failed");
        }
    }
    let elapsed = pending_outcome(pending, &mut wires, opened);
    report::observe("call.ended_after_seconds", elapsed);
    for (index, wire) in wires.iter_mut().enumerate() {
        let side = ["first", "second"][index];
        let codes = wire.codes();
        report::observe(&format!("wire.{side}.codes"), hex_codes(&codes));
        if let Some(peer) = &wire.peer {
            report::observe(
                &format!("wire.{side}.answers"),
                hex_codes(peer.answer_codes()),
            );
            report::observe(&format!("wire.{side}.sessions_open"), peer.session_count());
        }
    }
    step(call::delete_vc(&vc));
    step(ndproxy::close_af(af));
    for wire in &mut wires {
        wire.unbind();
    }
}

/// Observes how the make call ended; a connected call is carried on briefly (a late PADO
/// from another AC must change nothing) and closed with a PADT. Returns the seconds since the
/// up time began, rounded, for the tests to see the client's retries took their time.
fn pending_outcome(
    pending: call::PendingCall,
    wires: &mut [Wire; 2],
    opened: Option<(usize, u16)>,
) -> u64 {
    match step(pending.outcome()) {
        Ok(connected) => {
            let (index, session) =
                opened.unwrap_or_else(|| report::error("connected without a session"));
            report::observe("call.connected", ["first", "second"][index]);
            report::observe("pppoe.session", session);
            // Let every frame in flight reach the driver and the ACs answer it.
            for _ in 0..3 {
                if !processors::wait_idle(IDLE_LIMIT) {
                    report::error("the driver did not go idle");
                }
                for wire in wires.iter_mut() {
                    wire.pump();
                }
            }
            step(call::close_call(&connected.vc));
            let wire = &mut wires[index];
            if let (Some(binding), Some(peer)) = (&wire.binding, &mut wire.peer) {
                step(peer.pump_until(binding, FRAME_LIMIT, |seen| {
                    matches!(seen, wire_peer::Seen::SessionClosed(_))
                }));
            }
        }
        Err(status) => report::observe("call.failed", format!("{:#010x}", status as u32)),
    }
    crate::kernel::up_time().as_secs()
}
