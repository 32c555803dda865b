//! The call-churn stress run (issue 6, "a stress test"): NDISWAN sends from several threads
//! at DISPATCH_LEVEL on every VC the driver can hold, PPPoE calls over the in-memory wire and
//! loopback pairs, while NDPROXY closes and reopens calls under the traffic, for a bounded
//! time. The closes are the point (KB Q219380: a close racing a send): a local CmCloseCall
//! while sends and their lower completions are in flight, a PADT from the access concentrator
//! while NDISWAN is still sending, and a loopback end hanging up on its sending peer.
//!
//! Besides the verifier rules that are always on, the run keeps books (crate::scenario::
//! call_churn::ledger) and stops at the first broken rule: a send completes only with SUCCESS,
//! or with a closing status once its call began to close; every frame arrives on its own call,
//! once, in order; nothing is lost on a call that stayed up; each local close sends a PADT;
//! and OID_WAN_CO_GET_STATS_INFO, per VC and adapter-wide, agrees with what NDISWAN counted.
#![forbid(unsafe_code)]

mod ledger;
mod traffic;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use core::mem::offset_of;

use rswan_ndis::status;
use rswan_ndis::tapi::{CoTapiLineCaps, LineDevCaps};
use rswan_ndis::wan::framing;

use super::{AC_MAC, ETHERNET_MAC, ETHERNET_NAME, FRAME_LIMIT, TAPI_CAPS_BUFFER, step};
use crate::kernel::binding::{self, Completion};
use crate::kernel::checks;
use crate::kernel::events::{self, Event};
use crate::kernel::objects::{self, Vc};
use crate::report;
use crate::windows::request::Request;
use crate::windows::{call, lower, ndiswan, ndproxy, wire_peer};
use ledger::Layout;
use traffic::{Command, Shared};

/// A small random source (xorshift64*) from a fixed seed, for the run's choices: which call
/// closes next and how, the pauses between, the length of each frame.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// The run's parameters: `<seconds> <senders> <pppoe-calls> <loopback-pairs>
/// [deferred|inline]`, the last saying how the lower adapter completes the driver's sends.
#[derive(Debug, Clone, Copy)]
struct Plan {
    duration: Duration,
    senders: usize,
    pppoe: u16,
    pairs: u16,
    lower_completion: Completion,
}

/// Threads of NDPROXY opening and closing calls.
const CHURNERS: usize = 2;
/// The longest pause of a churner between two close-and-reopen rounds.
const CHURN_PAUSE_MS: usize = 20;
/// The seed of the run's random choices.
const SEED: u64 = 0x005E_ED0F_C4A1_1C4E;
/// How long the books must stand still before the run counts as quiet.
const QUIET: Duration = Duration::from_millis(300);

fn plan(args: &[String]) -> Plan {
    let (seconds, senders, pppoe, pairs, completion) = match args {
        [seconds, senders, pppoe, pairs] => (seconds, senders, pppoe, pairs, "deferred"),
        [seconds, senders, pppoe, pairs, completion] => {
            (seconds, senders, pppoe, pairs, completion.as_str())
        }
        _ => report::error(
            "call-churn-stress needs <seconds> <senders> <pppoe-calls> <loopback-pairs> [deferred|inline]",
        ),
    };
    // Inline: the lower adapter completes each send inside NdisSendNetBufferLists, the
    // re-entry that deadlocked Ndiswan.sys in KB Q219380.
    let lower_completion = match completion {
        "deferred" => Completion::default(),
        "inline" => Completion::Inline,
        other => report::error(&format!(
            "`{other}`: the lower adapter completes sends `deferred` or `inline`"
        )),
    };
    let number = |text: &str| super::parse_number(text);
    let duration = seconds
        .parse()
        .map(Duration::from_secs_f64)
        .unwrap_or_else(|_| report::error(&format!("`{seconds}` is not a number of seconds")));
    let plan = Plan {
        duration,
        senders: number(senders),
        pppoe: number(pppoe) as u16,
        pairs: number(pairs) as u16,
        lower_completion,
    };
    if plan.senders == 0 || plan.pppoe + plan.pairs == 0 {
        report::error("call-churn-stress needs a sender and a call");
    }
    plan
}

/// The driver's lines by kind, from the names in their LINE_DEV_CAPS: PPPoE lines, and
/// loopback pairs (the two ends of a pair are consecutive lines named ...A and ...B).
pub(super) fn lines(af: &ndproxy::OpenAf) -> (Vec<u32>, Vec<(u32, u32)>) {
    let cm = step(ndproxy::oid(
        af,
        &Request::query(ndproxy::OID_CO_TAPI_CM_CAPS, 12),
    ));
    let count = cm
        .data
        .get(4..8)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut names = Vec::new();
    for line in 0..count {
        let caps = step(ndproxy::oid(
            af,
            &Request::query_with(
                ndproxy::OID_CO_TAPI_LINE_CAPS,
                &line.to_le_bytes(),
                TAPI_CAPS_BUFFER,
            ),
        ));
        let base = offset_of!(CoTapiLineCaps, line_dev_caps);
        let field = |at: usize| {
            caps.data
                .get(base + at..base + at + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let size = field(offset_of!(LineDevCaps, line_name_size));
        let offset = base + field(offset_of!(LineDevCaps, line_name_offset));
        let name = caps
            .data
            .get(offset..offset + size)
            .map(|b| String::from_utf8_lossy(b).trim_end_matches('\0').to_owned())
            .unwrap_or_default();
        names.push(name);
    }
    report::observe("tapi.lines", count);
    let pppoe = (0..count)
        .filter(|&l| names[l as usize].contains("PPPoE"))
        .collect();
    let pairs = (0..count.saturating_sub(1))
        .filter(|&l| {
            let (a, b) = (&names[l as usize], &names[l as usize + 1]);
            a.contains("loopback") && a.ends_with('A') && b.strip_suffix('B') == a.strip_suffix('A')
        })
        .map(|l| (l, l + 1))
        .collect();
    (pppoe, pairs)
}

/// One call of the run and the slots of its ends.
#[derive(Debug, Clone, Copy)]
enum Spec {
    Pppoe {
        slot: u16,
        line: u32,
    },
    Loopback {
        caller: u16,
        answerer: u16,
        caller_line: u32,
        sap: call::Sap,
    },
}

/// A connected call.
#[derive(Debug, Clone, Copy)]
enum Open {
    Pppoe { call: u32, vc: Vc },
    Loopback { call: u32, caller: Vc, answerer: Vc },
}

/// How a call is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// NDPROXY closes a PPPoE call (CmCloseCall): the driver sends the PADT.
    PppoeLocal,
    /// The AC sends a PADT: the driver dispatches an incoming close, then NDPROXY closes.
    PppoeRemote,
    /// NDPROXY closes the calling end; the answering end sees the remote close.
    LoopbackCaller,
    /// NDPROXY closes the answering end; the calling end, still sending, sees the remote close.
    LoopbackAnswerer,
}

impl Close {
    const ALL: [Close; 4] = [
        Close::PppoeLocal,
        Close::PppoeRemote,
        Close::LoopbackCaller,
        Close::LoopbackAnswerer,
    ];

    fn name(self) -> &'static str {
        match self {
            Close::PppoeLocal => "pppoe_local",
            Close::PppoeRemote => "pppoe_padt",
            Close::LoopbackCaller => "loopback_caller",
            Close::LoopbackAnswerer => "loopback_answerer",
        }
    }
}

/// Counts of what NDPROXY did, by kind.
#[derive(Debug, Default)]
struct Tally {
    opened: AtomicU64,
    closes: [AtomicU64; 4],
}

impl Tally {
    fn closed(&self, how: Close) {
        self.closes[how as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// NDPROXY on the TAPI proxy AF, opening and closing the run's calls.
struct Ndproxy {
    af: Arc<ndproxy::OpenAf>,
    shared: Arc<Shared>,
    ac: mpsc::Sender<Command>,
    next_call: AtomicU32,
    tally: Tally,
    max_frame: u32,
}

impl Ndproxy {
    fn connected(&self, call: u32, ends: &[(u16, Vc)]) {
        for (_, vc) in ends {
            let status = step(ndiswan::set_link_info(
                vc,
                self.max_frame,
                framing::PPP_FRAMING,
            ));
            if status != status::SUCCESS {
                report::error(&format!(
                    "OID_WAN_CO_SET_LINK_INFO failed with {:#010x}",
                    status as u32
                ));
            }
        }
        let handles: Vec<_> = ends.iter().map(|(slot, vc)| (*slot, vc.handle)).collect();
        self.shared.ledger().connected(call, &handles);
        for (slot, vc) in ends {
            self.shared.open_gate(*slot, *vc, call);
        }
        self.tally.opened.fetch_add(1, Ordering::Relaxed);
    }

    fn open(&self, spec: Spec) -> Open {
        let call = self.next_call.fetch_add(1, Ordering::Relaxed);
        match spec {
            Spec::Pppoe { slot, line } => {
                let vc = step(call::create_vc(&self.af));
                let service = traffic::service_name(slot, call);
                let connected = step(step(call::start_make_call(&vc, line, &service)).finish());
                self.connected(call, &[(slot, connected.vc)]);
                Open::Pppoe {
                    call,
                    vc: connected.vc,
                }
            }
            Spec::Loopback {
                caller,
                answerer,
                caller_line,
                sap,
            } => {
                let outgoing = step(call::create_vc(&self.af));
                let pending = step(call::start_make_call(&outgoing, caller_line, "loopback"));
                let incoming = step(call::accept_incoming(&sap, FRAME_LIMIT));
                let connected = step(pending.finish());
                self.connected(call, &[(caller, connected.vc), (answerer, incoming)]);
                Open::Loopback {
                    call,
                    caller: connected.vc,
                    answerer: incoming,
                }
            }
        }
    }

    /// The slot's statistics, now that its call's counters are final.
    fn snapshot(&self, slot: u16, call: u32, vc: &Vc) {
        let stats = step(ndiswan::stats_info(Some(vc)));
        self.shared.ledger().snapshot(slot, call, stats);
    }

    /// NDPROXY's close of a client VC's call, then NdisCoDeleteVc once NDISWAN stopped.
    fn close_and_delete(&self, slot: u16, call: u32, vc: &Vc) {
        step(call::close_call(vc));
        self.delete(slot, call, vc);
    }

    /// NdisCoDeleteVc of a client VC whose call has closed, once NDISWAN stopped sending on
    /// it: NDIS allows it as soon as the close-call request completed (WDK: NdisCoDeleteVc,
    /// remarks), whatever the driver is still finishing on other processors.
    fn delete(&self, slot: u16, call: u32, vc: &Vc) {
        self.shared.close_gate(slot);
        self.snapshot(slot, call, vc);
        if let Err(refused) = call::delete_vc(vc) {
            report::violation(
                "CO_DELETE_VC",
                &format!(
                    "NdisCoDeleteVc of VC {:#x} (slot {slot}) right after its call {call} finished closing: {refused} \
                     (WDK: NdisCoDeleteVc remarks: once the close-call request completed, the creator deletes the VC)",
                    vc.handle
                ),
            );
        }
    }

    fn close(&self, spec: Spec, open: Open, how: Close) {
        match (spec, open) {
            (Spec::Pppoe { slot, .. }, Open::Pppoe { call, vc }) => {
                self.shared.ledger().closing(call, how.name());
                if how == Close::PppoeRemote {
                    let (sent, done) = mpsc::channel();
                    if self.ac.send(Command::HangUp { slot, sent }).is_err() {
                        report::error("the access concentrator is gone");
                    }
                    step(done.recv_timeout(FRAME_LIMIT).unwrap_or_else(|_| {
                        Err("the access concentrator did not hang up in time".into())
                    }));
                    incoming_close(&vc);
                } else {
                    self.shared.ledger().closed_locally(call);
                }
                self.close_and_delete(slot, call, &vc);
            }
            (
                Spec::Loopback {
                    caller: caller_slot,
                    answerer: answerer_slot,
                    ..
                },
                Open::Loopback {
                    call,
                    caller,
                    answerer,
                },
            ) => {
                self.shared.ledger().closing(call, how.name());
                if how == Close::LoopbackAnswerer {
                    // The driver deletes the answering VC as the close completes, so NDISWAN
                    // stops on it first; its peer keeps sending into the remote close.
                    self.shared.close_gate(answerer_slot);
                    close_answering_end(&answerer);
                    incoming_close(&caller);
                    self.close_and_delete(caller_slot, call, &caller);
                } else {
                    step(call::close_call(&caller));
                    incoming_close(&answerer);
                    self.shared.close_gate(answerer_slot);
                    close_answering_end(&answerer);
                    self.delete(caller_slot, call, &caller);
                }
            }
            _ => report::error("a call of one kind was closed as another"),
        }
        self.tally.closed(how);
    }

    /// Opens `specs`, waits at `start` for every churner (and again while the scenario counts
    /// the VCs they opened), then closes and reopens one of them at a time (a random one, a
    /// random way) until `until`; returns them all open.
    fn churn(
        &self,
        specs: Vec<Spec>,
        start: &Barrier,
        until: Instant,
        mut rng: Rng,
    ) -> Vec<(Spec, Open)> {
        let mut calls: Vec<_> = specs.into_iter().map(|s| (s, self.open(s))).collect();
        start.wait();
        start.wait();
        while Instant::now() < until && !calls.is_empty() {
            let index = rng.between(0, calls.len() - 1);
            let (spec, open) = calls[index];
            let how = match (spec, rng.between(0, 1)) {
                (Spec::Pppoe { .. }, 0) => Close::PppoeLocal,
                (Spec::Pppoe { .. }, _) => Close::PppoeRemote,
                (Spec::Loopback { .. }, 0) => Close::LoopbackCaller,
                (Spec::Loopback { .. }, _) => Close::LoopbackAnswerer,
            };
            self.close(spec, open, how);
            calls[index].1 = self.open(spec);
            std::thread::sleep(Duration::from_millis(rng.between(0, CHURN_PAUSE_MS) as u64));
        }
        calls
    }
}

/// Waits for the driver's incoming close on `vc` (NdisCmDispatchIncomingCloseCall).
fn incoming_close(vc: &Vc) {
    let handle = vc.handle;
    step(events::take(
        FRAME_LIMIT,
        |e| matches!(e, Event::IncomingCloseCall { vc, .. } if *vc == handle),
    ));
}

/// NDPROXY closes the answering end of a loopback call; the driver created that VC, so it
/// deletes it too (NdisMCmDeleteVc).
fn close_answering_end(vc: &Vc) {
    step(call::close_call(vc));
    let handle = vc.handle;
    step(events::take(
        FRAME_LIMIT,
        |e| matches!(e, Event::VcDeletedByDriver { vc } if *vc == handle),
    ));
}

/// Waits until neither completions nor arrivals move for [`QUIET`].
fn wait_quiet(shared: &Shared) {
    let deadline = Instant::now() + FRAME_LIMIT;
    let mut last = shared.ledger().progress();
    let mut still_since = Instant::now();
    while still_since.elapsed() < QUIET {
        std::thread::sleep(Duration::from_millis(20));
        let now = shared.ledger().progress();
        if now != last {
            last = now;
            still_since = Instant::now();
        }
        if Instant::now() > deadline {
            report::error("frames were still moving long after the senders stopped");
        }
    }
}

/// The scenario, between adapter_up and adapter_down.
pub(super) fn call_churn_stress(args: &[String]) {
    let plan = plan(args);
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    binding::set_completion(plan.lower_completion);
    report::observe(
        "stress.lower_completion",
        format!("{:?}", plan.lower_completion),
    );
    let binding = step(lower::bind(&ethernet));
    let af = step(ndproxy::open_af());
    let (pppoe_lines, loopback_pairs) = lines(&af);
    if pppoe_lines.len() < usize::from(plan.pppoe) || loopback_pairs.len() < usize::from(plan.pairs)
    {
        report::error(&format!(
            "the run needs {} PPPoE lines and {} loopback pairs; the driver has {} and {} \
             (its line counts come from the adapter's configuration)",
            plan.pppoe,
            plan.pairs,
            pppoe_lines.len(),
            loopback_pairs.len()
        ));
    }
    let layout = Layout {
        pppoe: plan.pppoe,
        pairs: plan.pairs,
    };
    let mut specs: Vec<Spec> = (0..plan.pppoe)
        .map(|slot| Spec::Pppoe {
            slot,
            line: pppoe_lines[usize::from(slot)],
        })
        .collect();
    for (pair, &(caller_line, answer_line)) in loopback_pairs
        .iter()
        .take(usize::from(plan.pairs))
        .enumerate()
    {
        let caller = plan.pppoe + 2 * pair as u16;
        specs.push(Spec::Loopback {
            caller,
            answerer: caller + 1,
            caller_line,
            sap: step(call::register_sap(&af, answer_line)),
        });
    }
    let info = step(ndiswan::get_info());
    let shared = Shared::new(layout);
    let peer = step(wire_peer::AcPeer::with_sessions_per_peer(
        ETHERNET_NAME,
        AC_MAC,
        "rswan-stress-ac",
        usize::from(plan.pppoe).max(1),
    ));
    let (ac, commands) = mpsc::channel();
    let access_concentrator = traffic::start_access_concentrator(
        Arc::clone(&shared),
        peer,
        binding.clone(),
        commands,
        Rng::new(SEED ^ 0xAC),
    );
    let receiver = traffic::start_receiver(Arc::clone(&shared));
    let ndproxy = Arc::new(Ndproxy {
        af: Arc::new(af),
        shared: Arc::clone(&shared),
        ac,
        next_call: AtomicU32::new(1),
        tally: Tally::default(),
        max_frame: info.max_frame_size,
    });

    let start = Arc::new(Barrier::new(CHURNERS + 1));
    let begun = Instant::now();
    let until = begun + plan.duration;
    let churners: Vec<_> = (0..CHURNERS)
        .map(|index| {
            let mine: Vec<Spec> = specs
                .iter()
                .copied()
                .skip(index)
                .step_by(CHURNERS)
                .collect();
            let (ndproxy, start) = (Arc::clone(&ndproxy), Arc::clone(&start));
            let rng = Rng::new(SEED ^ (index as u64 + 1) << 8);
            std::thread::spawn(move || ndproxy.churn(mine, &start, until, rng))
        })
        .collect();
    start.wait();
    report::observe(
        "stress.setup_seconds",
        format!("{:.2}", begun.elapsed().as_secs_f64()),
    );
    // Counted between the two waits: every call is open and none has begun to churn.
    report::observe("stress.vcs_at_start", objects::vc_count());
    start.wait();
    let traffic_began = Instant::now();
    let senders: Vec<_> = (0..plan.senders)
        .map(|index| {
            let slots = (0..layout.slots())
                .skip(index)
                .step_by(plan.senders)
                .collect();
            traffic::start_sender(
                Arc::clone(&shared),
                slots,
                Rng::new(SEED ^ (index as u64 + 1) << 16),
            )
        })
        .collect();
    let mut open_calls = Vec::new();
    for churner in churners {
        open_calls.extend(
            churner
                .join()
                .unwrap_or_else(|_| report::error("a churner panicked")),
        );
    }
    shared.stop_sending();
    for sender in senders {
        sender
            .join()
            .unwrap_or_else(|_| report::error("a sender panicked"));
    }
    report::observe(
        "stress.seconds",
        format!("{:.2}", traffic_began.elapsed().as_secs_f64()),
    );
    wait_quiet(&shared);

    // The lock-order graph as the run left it (the adapter's locks leave it when halt frees
    // their memory): distinct locks, acquisitions and ordered pairs the rule checked.
    let (locks, acquisitions, orders) = checks::checks().locks.stats();
    report::observe(
        "stress.lock_graph",
        format!("{locks} locks, {acquisitions} acquisitions, {orders} ordered pairs"),
    );
    report::observe("stress.lock_orders", orders);
    let adapter_stats = step(ndiswan::stats_info(None));
    for (spec, open) in &open_calls {
        match (spec, open) {
            (Spec::Pppoe { slot, .. }, Open::Pppoe { call, vc }) => {
                ndproxy.snapshot(*slot, *call, vc)
            }
            (
                Spec::Loopback {
                    caller: c,
                    answerer: a,
                    ..
                },
                Open::Loopback {
                    call,
                    caller,
                    answerer,
                },
            ) => {
                ndproxy.snapshot(*c, *call, caller);
                ndproxy.snapshot(*a, *call, answerer);
            }
            _ => report::error("a call of one kind was opened as another"),
        }
    }
    {
        let ledger = shared.ledger();
        traffic::enforce(ledger.check_every_send_completed());
        traffic::enforce(ledger.check_nothing_lost_on_open_calls());
        traffic::enforce(ledger.check_adapter_statistics(&adapter_stats));
        let totals = ledger.totals();
        report::observe("stress.frames_sent", totals.sent);
        report::observe("stress.frames_succeeded", totals.succeeded);
        report::observe("stress.frames_failed_closing", totals.closing);
        report::observe("stress.frames_failed_not_accepted", totals.not_accepted);
        report::observe(
            "stress.frames_received_by_ndiswan",
            ledger.received_totals().0,
        );
        report::observe(
            "stress.frames_received_by_ac",
            ledger.received_by_ac_total(),
        );
        report::observe("stress.calls", ledger.calls());
    }
    let tally = &ndproxy.tally;
    report::observe("stress.calls_opened", tally.opened.load(Ordering::Relaxed));
    {
        let ledger = shared.ledger();
        for how in Close::ALL {
            report::observe(
                &format!("stress.closed.{}", how.name()),
                tally.closes[how as usize].load(Ordering::Relaxed),
            );
            report::observe(
                &format!("stress.sends_failed_by_close.{}", how.name()),
                ledger
                    .failed_by_close()
                    .get(how.name())
                    .copied()
                    .unwrap_or(0),
            );
        }
    }

    for (spec, open) in open_calls {
        let how = match spec {
            Spec::Pppoe { .. } => Close::PppoeLocal,
            Spec::Loopback { .. } => Close::LoopbackCaller,
        };
        ndproxy.close(spec, open, how);
    }
    for spec in &specs {
        if let Spec::Loopback { sap, .. } = spec {
            step(call::deregister_sap(*sap));
        }
    }
    wait_quiet(&shared);
    shared.stop_running();
    access_concentrator
        .join()
        .unwrap_or_else(|_| report::error("the access concentrator panicked"));
    receiver
        .join()
        .unwrap_or_else(|_| report::error("the receive side panicked"));
    {
        let ledger = shared.ledger();
        traffic::enforce(ledger.check_every_send_completed());
        traffic::enforce(ledger.check_vc_statistics());
        traffic::enforce(ledger.check_padts());
        report::observe("stress.statistics_checked_vcs", ledger.snapshots());
    }
    let Ok(ndproxy) = Arc::try_unwrap(ndproxy) else {
        report::error("NDPROXY is still in use at the end of the run");
    };
    let Ok(af) = Arc::try_unwrap(ndproxy.af) else {
        report::error("the AF is still in use at the end of the run");
    };
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
}
