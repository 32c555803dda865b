//! Property test: random event sequences on one call against a small reference model. The
//! call starts connected, dialing, or activating (PADS seen, activation pending).
//! Checked after every step: the VC's phase, the make call's completion (at most once, SUCCESS
//! only after activation: WDK "NdisMCmMakeCallComplete"), every completion status (exactly once), the
//! transmit order (per-VC order kept), adapter pause completion, and (in `Log`) that nothing
//! was delivered while an engine lock was held. Illegal phase changes panic inside the engine.

mod common;

use common::*;
use proptest::prelude::*;
use rswan_engine::DownCause;
use rswan_engine::ids::{LineId, Route};
use rswan_engine::state::VcPhase;
use rswan_engine::status::*;
use std::collections::{HashMap, VecDeque};

#[derive(Clone, Copy, Debug)]
enum Op {
    Send,
    CompleteHead,
    SetWindow(u32),
    Close,
    SessionDown,
    SessionUp,
    ActivateDone,
    DeactivateDone,
    Pause,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Send),
        5 => Just(Op::CompleteHead),
        2 => (0u32..6).prop_map(Op::SetWindow),
        1 => Just(Op::Close),
        1 => Just(Op::SessionDown),
        1 => Just(Op::SessionUp),
        1 => Just(Op::ActivateDone),
        2 => Just(Op::DeactivateDone),
        1 => Just(Op::Pause),
        1 => Just(Op::Restart),
    ]
}

const MAX_WINDOW: u32 = 4; // small_config().max_send_window
const QUEUE: usize = 8; // small_config().queue_capacity

#[derive(Default)]
struct Model {
    phase: Option<VcPhase>,
    close_requested: bool,
    /// `MakeCallComplete` is still owed.
    make_call_pending: bool,
    /// The peer hung up before the call was active.
    lost: bool,
    /// The make call's completions, in order.
    make_calls: Vec<u32>,
    paused: bool,
    pause_done: bool,
    pause_completions: usize,
    queue: VecDeque<u64>,
    wire: VecDeque<u64>,
    window: u32,
    completed: HashMap<u64, u32>,
    transmitted: Vec<u64>,
}

impl Model {
    fn phase(&self) -> VcPhase {
        self.phase.unwrap_or(VcPhase::Active)
    }

    fn pump(&mut self) {
        let phase = self.phase();
        if matches!(
            phase,
            VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped
        ) {
            for n in self.queue.drain(..) {
                self.completed.insert(n, CLOSING);
            }
        } else if self.paused {
            for n in self.queue.drain(..) {
                self.completed.insert(n, PAUSED);
            }
        } else {
            while (self.wire.len() as u32) < self.window.min(MAX_WINDOW) {
                let Some(n) = self.queue.pop_front() else {
                    break;
                };
                self.wire.push_back(n);
                self.transmitted.push(n);
            }
        }
        if phase == VcPhase::Closing && self.queue.is_empty() && self.wire.is_empty() {
            self.phase = Some(VcPhase::Deactivating);
        }
        if self.paused && !self.pause_done && self.queue.is_empty() && self.wire.is_empty() {
            self.pause_done = true;
            self.pause_completions += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_the_reference_model(ops in proptest::collection::vec(op(), 1..80), window in 0u32..6, start in 0u8..3) {
        let engine = engine(small_config());
        let mut log = Log::default();
        let mut m = Model { window, ..Model::default() };
        let vc = if start == 0 {
            m.make_calls.push(SUCCESS);
            connect(&engine, 0, 1, window, &mut log)
        } else {
            let vc = engine.create_vc().expect("free VC");
            prop_assert_eq!(engine.make_call(vc, LineId(0), &mut log), PENDING);
            m.make_call_pending = true;
            m.phase = Some(VcPhase::Dialing);
            if start == 2 {
                prop_assert_eq!(engine.session_up(vc, Route::Pppoe(key(1)), link(window), &mut log), PENDING);
                m.phase = Some(VcPhase::Activating);
            }
            vc
        };
        let mut next = 0u64;
        for op in ops {
            match op {
                Op::Send => {
                    let n = next;
                    next += 1;
                    engine.send(vc, Tx(n), 100, &mut log);
                    let phase = m.phase();
                    if m.paused {
                        m.completed.insert(n, PAUSED);
                    } else if phase == VcPhase::Active {
                        if m.queue.len() == QUEUE { m.completed.insert(n, RESOURCES); } else { m.queue.push_back(n); }
                    } else if matches!(phase, VcPhase::Idle | VcPhase::Dialing | VcPhase::Activating) {
                        m.completed.insert(n, NOT_ACCEPTED);
                    } else {
                        m.completed.insert(n, CLOSING);
                    }
                    m.pump();
                }
                Op::CompleteHead => {
                    if log.on_wire.is_empty() { prop_assert!(m.wire.is_empty()); continue; }
                    let (tag, tx) = log.on_wire.remove(0);
                    let n = m.wire.pop_front().expect("model has it on the wire");
                    prop_assert_eq!(tx.0, n, "wire order");
                    engine.transmit_complete(tag, tx, SUCCESS, &mut log);
                    m.completed.insert(n, SUCCESS);
                    m.pump();
                }
                Op::SetWindow(w) => {
                    engine.set_link_params(vc, link(w), &mut log);
                    m.window = w;
                    m.pump();
                }
                Op::Close => {
                    let expect = match m.phase() {
                        VcPhase::Active => { m.close_requested = true; m.phase = Some(VcPhase::Closing); PENDING }
                        VcPhase::Dialing => {
                            m.make_call_pending = false;
                            m.make_calls.push(REQUEST_ABORTED);
                            m.phase = Some(VcPhase::Idle);
                            PENDING
                        }
                        VcPhase::Activating if !m.close_requested => { m.close_requested = true; PENDING }
                        VcPhase::Closing | VcPhase::Deactivating if !m.close_requested => { m.close_requested = true; PENDING }
                        VcPhase::Dropped => { m.phase = Some(VcPhase::Idle); PENDING }
                        _ => INVALID_STATE,
                    };
                    prop_assert_eq!(engine.close_call(vc, &mut log), expect);
                    m.pump();
                }
                Op::SessionDown => {
                    let expect = match m.phase() {
                        VcPhase::Active => { m.phase = Some(VcPhase::Closing); SUCCESS }
                        // PADT before PADS: the make call fails, the VC is never activated.
                        VcPhase::Dialing => {
                            m.make_call_pending = false;
                            m.make_calls.push(FAILURE);
                            m.phase = Some(VcPhase::Idle);
                            SUCCESS
                        }
                        VcPhase::Activating if !m.lost => { m.lost = true; SUCCESS }
                        _ => INVALID_STATE,
                    };
                    prop_assert_eq!(engine.session_down(vc, DownCause::RemoteHangup, &mut log), expect);
                    m.pump();
                }
                Op::SessionUp => {
                    let expect = if m.phase() == VcPhase::Dialing {
                        m.phase = Some(VcPhase::Activating);
                        PENDING
                    } else { INVALID_STATE };
                    prop_assert_eq!(engine.session_up(vc, Route::Pppoe(key(1)), link(m.window), &mut log), expect);
                }
                Op::ActivateDone => {
                    let expect = if m.phase() == VcPhase::Activating {
                        if m.close_requested || m.lost {
                            m.phase = Some(VcPhase::Closing);
                        } else {
                            m.phase = Some(VcPhase::Active);
                            m.make_call_pending = false;
                            m.make_calls.push(SUCCESS);
                        }
                        SUCCESS
                    } else { INVALID_STATE };
                    prop_assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut log), expect);
                    m.pump();
                }
                Op::DeactivateDone => {
                    let expect = if m.phase() == VcPhase::Deactivating {
                        if std::mem::take(&mut m.make_call_pending) {
                            m.make_calls.push(if m.close_requested { REQUEST_ABORTED } else { FAILURE });
                            m.phase = Some(VcPhase::Idle);
                        } else {
                            m.phase = Some(if m.close_requested { VcPhase::Idle } else { VcPhase::Dropped });
                        }
                        SUCCESS
                    } else { INVALID_STATE };
                    prop_assert_eq!(engine.deactivate_vc_complete(vc, &mut log), expect);
                }
                Op::Pause => {
                    let expect = if m.paused { INVALID_STATE } else { m.paused = true; m.pause_done = false; PENDING };
                    prop_assert_eq!(engine.pause(&mut log), expect);
                    m.pump();
                }
                Op::Restart => {
                    let expect = if m.paused && m.pause_done { m.paused = false; m.pump(); SUCCESS } else { INVALID_STATE };
                    prop_assert_eq!(engine.restart(&mut log), expect);
                }
            }
            prop_assert_eq!(engine.vc_phase(vc), Some(m.phase()), "after {:?}", op);
            prop_assert_eq!(&log.completed, &m.completed, "after {:?}", op);
            let make_calls: Vec<u32> = log.events.iter().filter_map(|e| if let Ev::MakeCallComplete(_, s) = e { Some(*s) } else { None }).collect();
            prop_assert_eq!(&make_calls, &m.make_calls, "make call completions after {:?}", op);
            let sent: Vec<u64> = log.events.iter().filter_map(|e| if let Ev::Transmit(_, _, _, n) = e { Some(*n) } else { None }).collect();
            prop_assert_eq!(&sent, &m.transmitted, "per-VC transmit order");
            prop_assert_eq!(log.count(|e| *e == Ev::PauseComplete), m.pause_completions, "PauseComplete once per pause, when drained");
        }
        // Drain: finish the wire; every send ever made has completed exactly once.
        while !log.on_wire.is_empty() {
            let (tag, tx) = log.on_wire.remove(0);
            engine.transmit_complete(tag, tx, SUCCESS, &mut log);
        }
        let close = engine.close_call(vc, &mut log);
        prop_assert!(close == PENDING || close == INVALID_STATE);
        // Closing the call completes what a closed window still held.
        prop_assert_eq!(log.completed.len() as u64, next, "every send completed exactly once");
    }
}
