//! Fault injection through a call's life (issue 6, "each allocation site and each NDIS call
//! that can fail fails once in turn"): with the adapter up and NDPROXY ready, the n-th failable
//! call (pool, NBL, MDL, timer, work item) made during one call's life fails, as its WDK page
//! allows. The life is a make call, frames both ways and a hang-up, on a PPPoE line (the far
//! end of the wire echoes every frame) or a loopback pair.
//!
//! What may happen to the life is bounded: the make call may fail, with its status reported;
//! a send may complete with NDIS_STATUS_RESOURCES; a frame may be lost. What must not: a hang,
//! a crash, a verifier stop, a second completion, a hang-up that does not complete, a leak at
//! unload, or a driver that cannot carry the next call (a second life, with the fault spent,
//! must go through whole).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rswan_ndis::status;
use rswan_ndis::wan::framing;

use super::{AC_MAC, ETHERNET_MAC, ETHERNET_NAME, FRAME_LIMIT, parse_number, step};
use crate::kernel::binding::Binding;
use crate::kernel::events::{self, Event};
use crate::kernel::faults;
use crate::kernel::objects::Vc;
use crate::report;
use crate::windows::{call, lower, ndiswan, ndproxy, wire_peer};

/// Frames each way in a life.
const FRAMES: u8 = 4;
/// How long a frame may take to come back before it counts as lost.
const LOST_AFTER: Duration = Duration::from_millis(300);

/// What one life came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Life {
    /// The status a failed make call reported.
    make_call_failed: Option<i32>,
    /// Sends completed with NDIS_STATUS_RESOURCES.
    sends_refused: u32,
    /// Frames that never arrived.
    lost: u32,
}

impl Life {
    fn whole(&self) -> bool {
        *self == Life::default()
    }

    fn describe(&self) -> String {
        match self.make_call_failed {
            Some(failed) => format!("make call failed {:#010x}", failed as u32),
            None => format!(
                "connected, {} send(s) refused, {} frame(s) lost",
                self.sends_refused, self.lost
            ),
        }
    }
}

/// A make call the fault failed must say why: NDIS_STATUS_RESOURCES, the status of an
/// allocation that failed (WDK: NdisCmMakeCallComplete, Status; "NDIS_STATUS_XXX values").
fn refused(failed: i32) -> i32 {
    if failed != status::RESOURCES {
        report::violation(
            "FAULT_STATUS",
            &format!(
                "the make call failed with {:#010x} after a failed allocation ({}); NDIS_STATUS_RESOURCES says what happened",
                failed as u32,
                faults::injected().unwrap_or_else(|| "no fault injected yet".to_owned())
            ),
        );
    }
    failed
}

/// Sends `frame` on `vc` and waits for its completion: SUCCESS, or RESOURCES (counted).
fn send(vc: &Vc, frame: &[u8], life: &mut Life) -> bool {
    let nbl = step(ndiswan::send(vc, frame));
    match step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT)) {
        status::SUCCESS => true,
        status::RESOURCES => {
            life.sends_refused += 1;
            false
        }
        other => report::error(&format!(
            "a send completed with {:#010x}; a failed allocation may only refuse it with NDIS_STATUS_RESOURCES",
            other as u32
        )),
    }
}

/// Waits for `frame` on `vc`; a frame that does not come is counted lost, any other is an
/// error.
fn expect(vc: &Vc, frame: &[u8], life: &mut Life) {
    match ndiswan::receive(vc, LOST_AFTER) {
        Ok(received) if received == frame => {}
        Ok(received) => report::error(&format!("expected {frame:02x?}, received {received:02x?}")),
        Err(_) => life.lost += 1,
    }
}

fn frame(direction: u8, n: u8) -> [u8; 6] {
    [0x00, 0x21, direction, n, 0xA5, 0x5A]
}

fn link_up(vc: &Vc, max_frame: u32) {
    let status = step(ndiswan::set_link_info(vc, max_frame, framing::PPP_FRAMING));
    if status != status::SUCCESS {
        report::error(&format!(
            "OID_WAN_CO_SET_LINK_INFO failed with {:#010x}",
            status as u32
        ));
    }
}

/// The far end of the wire, on a thread of its own: an access concentrator that echoes every
/// PPP frame back into its session.
struct EchoPeer {
    running: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl EchoPeer {
    fn start(binding: Binding) -> Self {
        let mut peer = step(wire_peer::AcPeer::new(
            ETHERNET_NAME,
            AC_MAC,
            "rswan-faults-ac",
        ));
        let running = Arc::new(AtomicBool::new(true));
        let still = Arc::clone(&running);
        let thread = std::thread::spawn(move || {
            while still.load(Ordering::Acquire) {
                for seen in step(peer.pump(&binding)) {
                    if let wire_peer::Seen::Ppp { session, payload } = seen {
                        // A session the AC closed meanwhile has nobody to echo to.
                        let _ = peer.send_ppp(&binding, session, &payload);
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Self { running, thread }
    }

    fn stop(self) {
        self.running.store(false, Ordering::Release);
        self.thread
            .join()
            .unwrap_or_else(|_| report::error("the echo peer panicked"));
    }
}

/// One PPPoE call: dial `line`, frames echoed by the far end, hang up.
fn pppoe_life(af: &ndproxy::OpenAf, line: u32, max_frame: u32) -> Life {
    let mut life = Life::default();
    let vc = step(call::create_vc(af));
    let made = step(step(call::start_make_call(&vc, line, "isp")).outcome());
    let connected = match made {
        Ok(connected) => connected.vc,
        Err(failed) => {
            life.make_call_failed = Some(refused(failed));
            step(call::delete_vc(&vc));
            return life;
        }
    };
    link_up(&connected, max_frame);
    for n in 0..FRAMES {
        let frame = frame(0, n);
        if send(&connected, &frame, &mut life) {
            expect(&connected, &frame, &mut life);
        }
    }
    step(call::close_call(&connected));
    step(call::delete_vc(&connected));
    life
}

/// One loopback call: the caller's end dials its pair, the answering end accepts, frames
/// both ways, the caller hangs up and the answering end closes after the remote close.
fn loopback_life(af: &ndproxy::OpenAf, sap: &call::Sap, lines: (u32, u32), max_frame: u32) -> Life {
    let mut life = Life::default();
    let outgoing = step(call::create_vc(af));
    let pending = step(call::start_make_call(&outgoing, lines.0, "loopback"));
    let (sap_handle, vc_handle) = (sap.handle, outgoing.handle);
    let ringing =
        move |e: &Event| matches!(e, Event::IncomingCall { sap, .. } if *sap == sap_handle);
    // The pair rings, or the make call fails first.
    events::wait_for(FRAME_LIMIT, |e| {
        ringing(e) || matches!(e, Event::MakeCallComplete { vc, .. } if *vc == vc_handle)
    });
    let incoming = events::wait_for(Duration::ZERO, ringing)
        .then(|| step(call::accept_incoming(sap, FRAME_LIMIT)));
    let caller = match step(pending.outcome()) {
        Ok(connected) => connected.vc,
        Err(failed) => {
            life.make_call_failed = Some(refused(failed));
            if let Some(incoming) = incoming {
                step(call::close_call(&incoming));
            }
            step(call::delete_vc(&outgoing));
            return life;
        }
    };
    let Some(answerer) = incoming else {
        report::error("the loopback call connected without ringing its pair");
    };
    link_up(&caller, max_frame);
    link_up(&answerer, max_frame);
    for n in 0..FRAMES {
        for (direction, from, to) in [(0, &caller, &answerer), (1, &answerer, &caller)] {
            let frame = frame(direction, n);
            if send(from, &frame, &mut life) {
                expect(to, &frame, &mut life);
            }
        }
    }
    step(call::close_call(&caller));
    let handle = answerer.handle;
    step(events::take(
        FRAME_LIMIT,
        |e| matches!(e, Event::IncomingCloseCall { vc, .. } if *vc == handle),
    ));
    step(call::close_call(&answerer));
    step(call::delete_vc(&caller));
    life
}

/// The scenario, between adapter_up and adapter_down: `<pppoe|loopback> <n>`.
pub(super) fn call_life_faults(args: &[String]) {
    let [kind, n] = args else {
        report::error("call-life-faults needs <pppoe|loopback> <n>");
    };
    let n = parse_number(n) as u64;
    let binding = step(lower::bind(&lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    }));
    let af = step(ndproxy::open_af());
    let max_frame = step(ndiswan::get_info()).max_frame_size;
    let (pppoe_lines, loopback_pairs) = super::call_churn::lines(&af);
    let (peer, sap, pair) = match kind.as_str() {
        "pppoe" => (Some(EchoPeer::start(binding.clone())), None, None),
        "loopback" => {
            let Some(&pair) = loopback_pairs.first() else {
                report::error("the driver has no loopback pair");
            };
            (
                None,
                Some(step(call::register_sap(&af, pair.1))),
                Some(pair),
            )
        }
        other => report::error(&format!("no call kind `{other}`: pppoe or loopback")),
    };
    let life = || match (sap, pair) {
        (Some(sap), Some(pair)) => loopback_life(&af, &sap, pair, max_frame),
        _ => match pppoe_lines.first() {
            Some(&line) => pppoe_life(&af, line, max_frame),
            None => report::error("the driver has no PPPoE line"),
        },
    };
    let base = faults::failable_calls();
    faults::fail_at(base + n);
    let first = life();
    // The fault is spent or never came: nothing fails from here on.
    faults::fail_at(u64::MAX);
    report::observe("faults.life_calls", faults::failable_calls() - base);
    report::observe(
        "faults.injected",
        faults::injected().unwrap_or_else(|| "none".to_owned()),
    );
    report::observe("life.first", first.describe());
    let second = life();
    if !second.whole() {
        report::error(&format!(
            "with the fault spent, the next call did not go through whole: {}",
            second.describe()
        ));
    }
    if let Some(sap) = sap {
        step(call::deregister_sap(sap));
    }
    if let Some(peer) = peer {
        peer.stop();
    }
    step(ndproxy::close_af(af));
    unbind_within(binding, UNBIND_LIMIT);
}

/// How long ProtocolUnbindAdapterEx may take with nothing outstanding on the binding.
const UNBIND_LIMIT: Duration = Duration::from_secs(3);

/// ProtocolUnbindAdapterEx from a thread of its own, so a driver that never returns from it
/// is reported with what it waits for instead of hanging the run.
fn unbind_within(binding: Binding, limit: Duration) {
    let handle = binding.handle;
    let unbinding = std::thread::spawn(move || lower::unbind(&binding));
    let deadline = std::time::Instant::now() + limit;
    while !unbinding.is_finished() {
        if std::time::Instant::now() > deadline {
            report::violation(
                "UNBIND_HANG",
                &format!(
                    "ProtocolUnbindAdapterEx has not returned after {} s, while the adapter holds {} of the binding's sends: the driver waits for sends that are not outstanding ({})",
                    limit.as_secs(),
                    crate::kernel::binding::outstanding_sends(handle),
                    faults::injected().unwrap_or_else(|| "no fault injected".to_owned())
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    step(
        unbinding
            .join()
            .unwrap_or_else(|_| Err("the unbind thread panicked".into())),
    );
}
