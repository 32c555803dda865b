//! The traffic of the call-churn stress run, on threads of its own: NDISWAN's senders (at
//! DISPATCH_LEVEL, each on its own slots, a window of frames per VC), NDISWAN's receive side
//! (every indication booked and given back) and the PPPoE access concentrator at the far end of
//! the wire (discovery, each session's frames booked, a frame at a time sent down each session,
//! PADTs on request). Calls come and go under them: a slot's [`Gate`] says which VC, if any,
//! NDISWAN may send on.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use super::Rng;
use super::ledger::{Broken, Direction, Flow, Layout, Ledger, TAG_LEN, Tag};
use crate::kernel::binding::Binding;
use crate::kernel::events::{self, Event};
use crate::kernel::objects::{self, Vc};
use crate::report;
use crate::scenario::step;
use crate::windows::ndiswan;
use crate::windows::wire_peer::{AcPeer, Seen};

/// Frames NDISWAN keeps outstanding on one VC: half the driver's MaxSendWindow, so two
/// senders' worth never overruns it.
const WINDOW: usize = 8;
/// The longest frame sent (the shortest is the tag alone).
const MAX_FRAME: usize = 200;
/// How long the senders may take to see their last sends complete once told to stop.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Stops the run on a broken rule of the books.
pub fn enforce(result: Result<(), Broken>) {
    if let Err(broken) = result {
        report::violation(broken.rule, &broken.detail);
    }
}

/// NDISWAN's view of one slot: the VC of its current call, while NDISWAN may send on it.
#[derive(Debug, Default)]
struct Gate {
    vc: Option<Vc>,
    call: u32,
    next_seq: u32,
}

/// What the run's threads share.
#[derive(Debug)]
pub struct Shared {
    gates: Vec<Mutex<Gate>>,
    ledger: Mutex<Ledger>,
    /// Senders send (and the AC sends down) while set.
    sending: AtomicBool,
    /// The receive side and the AC run while set.
    running: AtomicBool,
}

impl Shared {
    pub fn new(layout: Layout) -> Arc<Self> {
        Arc::new(Self {
            gates: (0..layout.slots()).map(|_| Mutex::default()).collect(),
            ledger: Mutex::new(Ledger::new(layout)),
            sending: AtomicBool::new(true),
            running: AtomicBool::new(true),
        })
    }

    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gate(&self, slot: u16) -> MutexGuard<'_, Gate> {
        self.gates[usize::from(slot)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// NDISWAN may send on `vc`, the slot's end of `call`, numbering frames from 0.
    pub fn open_gate(&self, slot: u16, vc: Vc, call: u32) {
        *self.gate(slot) = Gate {
            vc: Some(vc),
            call,
            next_seq: 0,
        };
    }

    /// NDISWAN stops sending on the slot's VC; a send under way finishes first (it holds the
    /// gate), so the VC can then be deleted.
    pub fn close_gate(&self, slot: u16) {
        self.gate(slot).vc = None;
    }

    pub fn stop_sending(&self) {
        self.sending.store(false, Ordering::Release);
    }

    fn sending(&self) -> bool {
        self.sending.load(Ordering::Acquire)
    }

    pub fn stop_running(&self) {
        self.running.store(false, Ordering::Release);
    }

    fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }
}

/// One frame NDISWAN has handed to the driver.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    tag: Tag,
    len: usize,
}

/// Starts a sender on `slots`: round after round, one frame on each slot whose gate is open,
/// whose VC NDIS still has active, and whose window has room; completions booked as they
/// come. Once sending stops, it waits for its last completions and ends.
pub fn start_sender(
    shared: Arc<Shared>,
    slots: Vec<u16>,
    mut rng: Rng,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut in_flight: HashMap<usize, InFlight> = HashMap::new();
        let mut outstanding: HashMap<u16, usize> = HashMap::new();
        let mut drain_deadline = None;
        loop {
            let mut sent = false;
            if shared.sending() {
                for &slot in &slots {
                    if outstanding.get(&slot).copied().unwrap_or(0) >= WINDOW {
                        continue;
                    }
                    let len = rng.between(TAG_LEN, MAX_FRAME);
                    if let Some((nbl, tag)) = send_one(&shared, slot, len) {
                        in_flight.insert(nbl, InFlight { tag, len });
                        *outstanding.entry(slot).or_default() += 1;
                        sent = true;
                    }
                }
            } else if in_flight.is_empty() {
                return;
            } else {
                let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + DRAIN_LIMIT);
                if Instant::now() > deadline {
                    let mut left: Vec<_> = in_flight.values().map(|f| f.tag).collect();
                    left.sort_by_key(|t| (t.flow, t.seq));
                    report::violation(
                        "NBL_COMPLETION",
                        &format!(
                            "{} sends still not completed {} s after the senders stopped: {:?}",
                            left.len(),
                            DRAIN_LIMIT.as_secs(),
                            &left[..left.len().min(8)]
                        ),
                    );
                }
            }
            let wait = if sent {
                Duration::ZERO
            } else {
                Duration::from_millis(2)
            };
            let completions = step(ndiswan::take_send_completions(wait, |nbl| {
                in_flight.contains_key(&nbl)
            }));
            if completions.is_empty() {
                continue;
            }
            let mut ledger = shared.ledger();
            for completion in completions {
                let Some(frame) = in_flight.remove(&completion.nbl) else {
                    continue;
                };
                if let Some(count) = outstanding.get_mut(&frame.tag.flow.slot) {
                    *count -= 1;
                }
                enforce(ledger.completed(
                    frame.tag.flow,
                    frame.tag.seq,
                    frame.len,
                    completion.status,
                ));
            }
        }
    })
}

/// Sends the slot's next frame at DISPATCH_LEVEL (as NDISWAN sends from its DPCs) if the
/// slot has a call whose VC NDIS has active; the NBL and the frame's tag.
fn send_one(shared: &Shared, slot: u16, len: usize) -> Option<(usize, Tag)> {
    let mut gate = shared.gate(slot);
    let vc = gate.vc?;
    if !objects::vc(vc.handle).is_some_and(|v| v.active) {
        return None;
    }
    let tag = Tag {
        flow: Flow {
            direction: Direction::Up,
            slot,
            call: gate.call,
        },
        seq: gate.next_seq,
    };
    gate.next_seq += 1;
    shared.ledger().sent(tag.flow);
    let nbl = step(ndiswan::send_at(&vc, &tag.frame(len), true));
    Some((nbl, tag))
}

/// Events of this run that no actor waits for: dropped as they come so the log stays short.
fn unwatched(event: &Event) -> bool {
    matches!(
        event,
        Event::LowerSend { .. }
            | Event::LowerReturn { .. }
            | Event::Status { .. }
            | Event::VcActivated { .. }
            | Event::VcDeactivated { .. }
            | Event::VcCreatedByDriver { .. }
    )
}

/// Starts NDISWAN's receive side: every indication booked (on its call, once, in order) and
/// given back at once.
pub fn start_receiver(shared: Arc<Shared>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while shared.running() {
            let frames = step(ndiswan::take_receives(Duration::from_millis(5)));
            if !frames.is_empty() {
                let mut ledger = shared.ledger();
                for (vc, frame) in frames {
                    enforce(ledger.received(vc, &frame));
                }
            }
            events::take_all(Duration::ZERO, unwatched);
        }
    })
}

/// A request to the access concentrator.
#[derive(Debug)]
pub enum Command {
    /// Hang up the session of the slot's call with a PADT, and say when it is sent.
    HangUp {
        slot: u16,
        sent: mpsc::Sender<Result<(), String>>,
    },
}

/// The Service-Name a PPPoE call of the run dials: it names the slot and the call, so the AC
/// knows which session is whose.
pub fn service_name(slot: u16, call: u32) -> String {
    format!("stress {slot} {call}")
}

fn parse_service(name: &[u8]) -> Option<(u16, u32)> {
    let text = std::str::from_utf8(name).ok()?;
    let mut words = text.strip_prefix("stress ")?.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// Starts the access concentrator at the far end of `binding`'s wire.
pub fn start_access_concentrator(
    shared: Arc<Shared>,
    mut peer: AcPeer,
    binding: Binding,
    commands: mpsc::Receiver<Command>,
    mut rng: Rng,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut sessions: HashMap<u16, (u16, u32)> = HashMap::new();
        while shared.running() {
            let mut busy = pump(&shared, &mut peer, &binding, &mut sessions);
            while let Ok(Command::HangUp { slot, sent }) = commands.try_recv() {
                // What the driver sent so far reaches the AC before the session goes.
                pump(&shared, &mut peer, &binding, &mut sessions);
                let session = sessions
                    .iter()
                    .find(|(_, (s, _))| *s == slot)
                    .map(|(id, _)| *id);
                let result = match session {
                    Some(id) => {
                        sessions.remove(&id);
                        peer.close_session(&binding, id)
                    }
                    None => Err(format!("the AC has no session for slot {slot}")),
                };
                let _ = sent.send(result);
                busy = true;
            }
            if shared.sending() {
                busy |= send_down(&shared, &mut peer, &binding, &sessions, &mut rng);
            }
            if !busy {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    })
}

/// Handles what the driver put on the wire; true if there was anything.
fn pump(
    shared: &Shared,
    peer: &mut AcPeer,
    binding: &Binding,
    sessions: &mut HashMap<u16, (u16, u32)>,
) -> bool {
    let seen = step(peer.pump(binding));
    if seen.is_empty() {
        return false;
    }
    let mut ledger = shared.ledger();
    for event in seen {
        match event {
            Seen::SessionOpened(id) => {
                let Some(owner) = peer.service(id).and_then(parse_service) else {
                    report::error(&format!(
                        "the driver opened PPPoE session {id} for a Service-Name no call of the run dialed: {:?}",
                        peer.service(id)
                    ));
                };
                sessions.insert(id, owner);
            }
            Seen::SessionClosed(id) => {
                if let Some((_, call)) = sessions.remove(&id) {
                    ledger.padt_seen(call);
                }
            }
            Seen::Ppp { session, payload } => {
                if let Some(&(slot, call)) = sessions.get(&session) {
                    enforce(ledger.received_by_ac(slot, call, &payload));
                }
            }
        }
    }
    true
}

/// Sends the next frame down each session whose call is up and whose last frame NDISWAN has
/// received; true if any went.
fn send_down(
    shared: &Shared,
    peer: &mut AcPeer,
    binding: &Binding,
    sessions: &HashMap<u16, (u16, u32)>,
    rng: &mut Rng,
) -> bool {
    let mut due = Vec::new();
    {
        let mut ledger = shared.ledger();
        for (&id, &(slot, call)) in sessions {
            let flow = Flow {
                direction: Direction::Down,
                slot,
                call,
            };
            let (sent, received) = ledger.down_progress(flow);
            if ledger.is_up(call) && sent == received {
                ledger.down_sent(flow);
                due.push((
                    id,
                    Tag {
                        flow,
                        seq: sent as u32,
                    },
                ));
            }
        }
    }
    for (id, tag) in &due {
        let len = rng.between(TAG_LEN, MAX_FRAME);
        step(peer.send_ppp(binding, *id, &tag.frame(len)));
    }
    !due.is_empty()
}
