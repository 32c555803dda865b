//! Unit tests of the send path and of every race the engine defines (issue 3), one thread at
//! a time; the interleavings themselves are in `loom.rs`.

mod common;

use common::*;
use rswan_engine::batch::{Egress, Event};
use rswan_engine::ids::{BindingId, LineId, Route, VcId};
use rswan_engine::state::{LinePhase, VcPhase};
use rswan_engine::status::*;
use rswan_engine::{AdapterPhase, Config, DownCause, ReceiveError};
use std::cell::RefCell;

fn complete_all_on_wire(engine: &TestEngine, log: &mut Log) {
    while !log.on_wire.is_empty() {
        let (tag, tx) = log.on_wire.remove(0);
        engine.transmit_complete(tag, tx, SUCCESS, log);
    }
}

fn transmitted(log: &Log, vc: VcId) -> Vec<u64> {
    log.events
        .iter()
        .filter_map(|e| match e {
            Ev::Transmit(v, .., n) if *v == vc => Some(*n),
            _ => None,
        })
        .collect()
}

#[test]
fn send_transmits_and_completes_exactly_once_in_order() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 4, &mut log);
    assert!(log.events.contains(&Ev::LinkParams(vc, link(4))));
    for n in 0..3 {
        engine.send(vc, Tx(n), 100, &mut log);
    }
    assert_eq!(transmitted(&log, vc), vec![0, 1, 2]);
    complete_all_on_wire(&engine, &mut log);
    let completions: Vec<_> = log
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::SendComplete(v, n, s) if *v == vc => Some((*n, *s)),
            _ => None,
        })
        .collect();
    assert_eq!(completions, vec![(0, SUCCESS), (1, SUCCESS), (2, SUCCESS)]);
    let stats = engine.vc_stats(vc).unwrap();
    assert_eq!(stats.wan.frames_sent, 3);
    assert_eq!(stats.wan.bytes_sent, 300);
}

#[test]
fn send_window_is_min_of_link_window_and_max_send_window() {
    // NDIS_WAN_CO_INFO.MaxSendWindow = 4 caps a link SendWindow of 10.
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 10, &mut log);
    for n in 0..7 {
        engine.send(vc, Tx(n), 10, &mut log);
    }
    assert_eq!(
        transmitted(&log, vc),
        vec![0, 1, 2, 3],
        "window of 4 in flight"
    );
    let (tag, tx) = log.on_wire.remove(0);
    engine.transmit_complete(tag, tx, SUCCESS, &mut log);
    assert_eq!(
        transmitted(&log, vc),
        vec![0, 1, 2, 3, 4],
        "one completion opens one slot"
    );
}

#[test]
fn zero_send_window_stops_and_reopening_resumes() {
    // WAN_CO_LINKPARAMS.SendWindow = 0 stops sending on the VC (WDK: NDIS_STATUS_WAN_CO_LINKPARAMS).
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 0, &mut log);
    engine.send(vc, Tx(1), 10, &mut log);
    engine.send(vc, Tx(2), 10, &mut log);
    assert!(transmitted(&log, vc).is_empty());
    assert_eq!(engine.set_link_params(vc, link(1), &mut log), SUCCESS);
    assert!(log.events.contains(&Ev::LinkParams(vc, link(1))));
    assert_eq!(transmitted(&log, vc), vec![1]);
    complete_all_on_wire(&engine, &mut log);
    assert_eq!(transmitted(&log, vc), vec![1, 2]);
}

#[test]
fn full_queue_pushes_back_with_resources() {
    let engine = engine(small_config()); // queue_capacity 8
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 0, &mut log);
    for n in 0..10 {
        engine.send(vc, Tx(n), 10, &mut log);
    }
    assert_eq!(log.completed.get(&8), Some(&RESOURCES));
    assert_eq!(log.completed.get(&9), Some(&RESOURCES));
    assert_eq!(log.completed.len(), 2, "the 8 queued ones wait");
    assert_eq!(engine.vc_stats(vc).unwrap().send_errors, 2);
}

#[test]
fn send_before_activation_is_not_accepted_and_stale_vc_is_invalid() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = engine.create_vc().unwrap();
    engine.send(vc, Tx(1), 10, &mut log);
    assert_eq!(log.completed.get(&1), Some(&NOT_ACCEPTED));
    assert_eq!(engine.delete_vc(vc), SUCCESS);
    engine.send(vc, Tx(2), 10, &mut log);
    assert_eq!(log.completed.get(&2), Some(&INVALID_PARAMETER));
    assert_eq!(engine.vc_phase(vc), None, "stale handle");
    let reused = engine.create_vc().unwrap();
    assert_eq!(reused.index(), vc.index());
    assert_ne!(reused, vc, "a reused slot has a new generation");
    assert_eq!(engine.adapter_stats().send_stale_vc, 1);
}

#[test]
fn close_during_make_call_aborts_the_make_call_then_completes_the_close() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = engine.create_vc().unwrap();
    assert_eq!(engine.make_call(vc, LineId(1), &mut log), PENDING);
    assert_eq!(engine.line_phase(LineId(1)), Some(LinePhase::Dialing));
    assert_eq!(engine.close_call(vc, &mut log), PENDING);
    let ev = log.take();
    assert_eq!(
        ev,
        vec![
            Ev::Dial(vc, LineId(1)),
            Ev::CancelDial(vc, LineId(1)),
            Ev::MakeCallComplete(vc, REQUEST_ABORTED),
            Ev::CloseCallComplete(vc, SUCCESS),
        ]
    );
    assert_eq!(engine.vc_phase(vc), Some(VcPhase::Idle));
    assert_eq!(engine.line_phase(LineId(1)), Some(LinePhase::Idle));
    // The transport's late PADS finds no call.
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key(5)), link(4), &mut log),
        INVALID_STATE
    );
    assert_eq!(engine.delete_vc(vc), SUCCESS);
}

/// A session lost while the make call is still dialing (PADT before PADS, discovery timeout,
/// lower unbind): the make call fails, even for a clean remote hangup whose close status is
/// SUCCESS, and the VC is never activated. WDK "NdisMCmMakeCallComplete": SUCCESS only once the
/// VC is activated for data; after a failure the client tears the VC down.
#[test]
fn session_lost_while_dialing_fails_the_make_call_without_activating() {
    for (cause, expected) in [
        (DownCause::RemoteHangup, FAILURE),
        (DownCause::Timeout, FAILURE),
        (DownCause::LowerUnbind, CLOSING),
    ] {
        let engine = engine(small_config());
        let mut log = Log::default();
        let vc = engine.create_vc().unwrap();
        assert_eq!(engine.make_call(vc, LineId(2), &mut log), PENDING);
        engine.send(vc, Tx(1), 10, &mut log);
        assert_eq!(
            engine.session_down(vc, cause, &mut log),
            SUCCESS,
            "{cause:?}"
        );
        engine.send(vc, Tx(2), 10, &mut log);
        assert_eq!(
            log.count(|e| matches!(e, Ev::MakeCallComplete(..))),
            1,
            "{cause:?}"
        );
        assert!(
            log.events.contains(&Ev::MakeCallComplete(vc, expected)),
            "{cause:?}: {:?}",
            log.events
        );
        assert!(is_failure(expected));
        assert_eq!(
            log.count(|e| matches!(e, Ev::ActivateVc(..))),
            0,
            "{cause:?}"
        );
        assert_eq!(
            log.count(|e| matches!(e, Ev::Hangup(..))),
            0,
            "the peer knows"
        );
        assert_eq!(
            log.count(|e| matches!(e, Ev::IncomingCloseCall(..))),
            0,
            "a call never made is not closed"
        );
        assert_eq!(
            log.count(|e| matches!(e, Ev::SendComplete(..))),
            2,
            "{cause:?}"
        );
        assert_eq!(log.completed.get(&1), Some(&NOT_ACCEPTED));
        assert_eq!(log.completed.get(&2), Some(&NOT_ACCEPTED));
        assert_eq!(engine.vc_phase(vc), Some(VcPhase::Idle));
        assert_eq!(engine.line_phase(LineId(2)), Some(LinePhase::Idle));
        // The transport's late PADS finds no call, and the client's close has none to close.
        assert_eq!(
            engine.session_up(vc, Route::Pppoe(key(5)), link(4), &mut log),
            INVALID_STATE
        );
        assert_eq!(engine.close_call(vc, &mut log), INVALID_STATE);
        assert_eq!(engine.delete_vc(vc), SUCCESS);
    }
}

/// A PADT between PADS and the activation's completion: the VC was activated, so it is
/// deactivated first, and only then the make call fails (never SUCCESS).
#[test]
fn remote_hangup_during_activation_fails_the_make_call_after_deactivation() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = engine.create_vc().unwrap();
    engine.make_call(vc, LineId(0), &mut log);
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key(3)), link(4), &mut log),
        PENDING
    );
    assert_eq!(
        engine.session_down(vc, DownCause::RemoteHangup, &mut log),
        SUCCESS
    );
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut log), SUCCESS);
    assert_eq!(log.events.last(), Some(&Ev::DeactivateVc(vc)));
    assert_eq!(log.count(|e| matches!(e, Ev::MakeCallComplete(..))), 0);
    engine.deactivate_vc_complete(vc, &mut log);
    assert_eq!(log.events.last(), Some(&Ev::MakeCallComplete(vc, FAILURE)));
    assert_eq!(log.count(|e| matches!(e, Ev::MakeCallComplete(..))), 1);
    assert_eq!(
        log.count(|e| matches!(e, Ev::Hangup(..))),
        0,
        "the peer knows"
    );
    assert_eq!(engine.vc_phase(vc), Some(VcPhase::Idle));
    assert_eq!(engine.line_phase(LineId(0)), Some(LinePhase::Idle));
}

#[test]
fn close_during_activation_fails_make_call_after_deactivation() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = engine.create_vc().unwrap();
    engine.make_call(vc, LineId(0), &mut log);
    engine.session_up(vc, Route::Pppoe(key(3)), link(4), &mut log);
    assert_eq!(engine.close_call(vc, &mut log), PENDING);
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut log), SUCCESS);
    assert!(log.events.contains(&Ev::DeactivateVc(vc)));
    assert!(log.events.contains(&Ev::Hangup(vc, Route::Pppoe(key(3)))));
    engine.deactivate_vc_complete(vc, &mut log);
    let tail: Vec<_> = log.events.iter().rev().take(2).rev().copied().collect();
    assert_eq!(
        tail,
        vec![
            Ev::MakeCallComplete(vc, REQUEST_ABORTED),
            Ev::CloseCallComplete(vc, SUCCESS)
        ]
    );
    assert_eq!(log.count(|e| matches!(e, Ev::MakeCallComplete(..))), 1);
}

#[test]
fn close_with_sends_queued_and_in_flight() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 2, &mut log);
    for n in 0..5 {
        engine.send(vc, Tx(n), 10, &mut log);
    }
    assert_eq!(engine.close_call(vc, &mut log), PENDING);
    // Queued ones (2, 3, 4) complete with CLOSING at once, in order; 0 and 1 are on the wire.
    let closing: Vec<_> = log
        .events
        .iter()
        .filter_map(|e| match e {
            Ev::SendComplete(_, n, CLOSING) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(closing, vec![2, 3, 4]);
    assert!(
        !log.events.contains(&Ev::DeactivateVc(vc)),
        "in-flight sends are awaited"
    );
    engine.send(vc, Tx(9), 10, &mut log);
    assert_eq!(
        log.completed.get(&9),
        Some(&CLOSING),
        "a send after close: closing"
    );
    complete_all_on_wire(&engine, &mut log);
    let last_complete = log
        .events
        .iter()
        .rposition(|e| matches!(e, Ev::SendComplete(..)))
        .unwrap();
    let deactivate = log
        .events
        .iter()
        .position(|e| *e == Ev::DeactivateVc(vc))
        .unwrap();
    assert!(
        deactivate > last_complete,
        "DeactivateVc only after every send completed"
    );
    assert_eq!(engine.deactivate_vc_complete(vc, &mut log), SUCCESS);
    assert_eq!(log.events.last(), Some(&Ev::CloseCallComplete(vc, SUCCESS)));
    assert_eq!(log.completed.len(), 6);
    assert_eq!(engine.line_phase(LineId(0)), Some(LinePhase::Idle));
}

#[test]
fn padt_during_send_closes_and_tells_the_client() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 7, 1, &mut log);
    engine.send(vc, Tx(1), 10, &mut log);
    engine.send(vc, Tx(2), 10, &mut log);
    assert_eq!(
        engine.session_down(vc, DownCause::RemoteHangup, &mut log),
        SUCCESS
    );
    assert_eq!(log.completed.get(&2), Some(&CLOSING));
    assert!(
        !log.events.iter().any(|e| matches!(e, Ev::Hangup(..))),
        "the peer already knows"
    );
    // Frames for the dead session are not indicated any more.
    engine.receive(key(7), Rx(50), 10, &mut log);
    assert!(log.events.contains(&Ev::RxDropped(50, NOT_ACCEPTED)));
    complete_all_on_wire(&engine, &mut log);
    engine.deactivate_vc_complete(vc, &mut log);
    assert_eq!(log.events.last(), Some(&Ev::IncomingCloseCall(vc, SUCCESS)));
    assert_eq!(engine.vc_phase(vc), Some(VcPhase::Dropped));
    assert_eq!(engine.close_call(vc, &mut log), PENDING);
    assert_eq!(log.events.last(), Some(&Ev::CloseCallComplete(vc, SUCCESS)));
    assert_eq!(engine.delete_vc(vc), SUCCESS);
}

#[test]
fn timeout_counts_a_timeout_error() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 7, 1, &mut log);
    engine.session_down(vc, DownCause::Timeout, &mut log);
    assert_eq!(engine.vc_stats(vc).unwrap().wan.timeout_errors, 1);
}

#[test]
fn pause_with_sends_queued_completes_them_paused() {
    // "Pausing a Miniport Adapter": the miniport completes outstanding sends before the pause
    // completes, and fails new sends with NDIS_STATUS_PAUSED.
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 1, &mut log);
    for n in 0..3 {
        engine.send(vc, Tx(n), 10, &mut log);
    }
    assert_eq!(engine.pause(&mut log), PENDING);
    assert_eq!(log.completed.get(&1), Some(&PAUSED));
    assert_eq!(log.completed.get(&2), Some(&PAUSED));
    assert!(
        !log.events.contains(&Ev::PauseComplete),
        "frame 0 is still on the wire"
    );
    engine.send(vc, Tx(3), 10, &mut log);
    assert_eq!(log.completed.get(&3), Some(&PAUSED));
    complete_all_on_wire(&engine, &mut log);
    assert_eq!(log.count(|e| *e == Ev::PauseComplete), 1);
    assert_eq!(engine.adapter_phase(), AdapterPhase::Paused);
    assert_eq!(engine.restart(&mut log), SUCCESS);
    engine.send(vc, Tx(4), 10, &mut log);
    assert_eq!(transmitted(&log, vc), vec![0, 4]);
}

#[test]
fn pause_with_nothing_outstanding_completes_at_once() {
    let engine = engine(small_config());
    let mut log = Log::default();
    connect(&engine, 0, 1, 1, &mut log);
    assert_eq!(engine.pause(&mut log), PENDING);
    assert_eq!(log.count(|e| *e == Ev::PauseComplete), 1);
    assert_eq!(engine.pause(&mut log), INVALID_STATE);
}

#[test]
fn halt_with_sends_pending() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 1, &mut log);
    engine.send(vc, Tx(0), 10, &mut log);
    engine.send(vc, Tx(1), 10, &mut log);
    assert_eq!(engine.halt(&mut log), PENDING);
    assert_eq!(log.completed.get(&1), Some(&CLOSING));
    assert!(log.events.contains(&Ev::Hangup(vc, Route::Pppoe(key(1)))));
    assert!(!log.events.contains(&Ev::HaltReady));
    complete_all_on_wire(&engine, &mut log);
    assert_eq!(log.count(|e| *e == Ev::HaltReady), 1);
    assert!(engine.create_vc().is_err(), "no new VC after halt");
}

#[test]
fn receive_is_found_by_session_key_and_indicated() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let a = connect(&engine, 0, 1, 1, &mut log);
    let b = connect(&engine, 1, 2, 1, &mut log);
    engine.receive(key(2), Rx(20), 60, &mut log);
    engine.receive(key(1), Rx(10), 40, &mut log);
    let mut other_mac = key(1);
    other_mac.peer_mac[0] = 0x0A;
    engine.receive(other_mac, Rx(30), 40, &mut log);
    let mut other_binding = key(1);
    other_binding.binding = BindingId(1);
    engine.receive(other_binding, Rx(31), 40, &mut log);
    assert!(log.events.contains(&Ev::Indicate(b, 20)));
    assert!(log.events.contains(&Ev::Indicate(a, 10)));
    assert!(log.events.contains(&Ev::RxDropped(30, NOT_ACCEPTED)));
    assert!(log.events.contains(&Ev::RxDropped(31, NOT_ACCEPTED)));
    assert_eq!(engine.vc_stats(a).unwrap().wan.bytes_rcvd, 40);
    assert_eq!(engine.adapter_stats().receive_unknown_session, 2);
    engine.count_receive_error(key(1), ReceiveError::Framing);
    assert_eq!(
        engine.vc_stats(a).unwrap().wan.to_ndis()[8],
        1,
        "FramingErrors"
    );
}

#[test]
fn receive_budget_overflow_is_counted_not_silent() {
    // A sink that holds on to nothing but re-enters: receives arriving while another entry
    // owns the VC's pump pile up in the outbox up to the receive budget (4).
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 1, &mut log);
    struct Reenter<'a> {
        engine: &'a TestEngine,
        log: RefCell<Log>,
        fired: bool,
    }
    impl Egress<P> for Reenter<'_> {
        fn deliver(&mut self, event: Event<P>) {
            let first_indicate = matches!(event, Event::IndicateReceive { .. }) && !self.fired;
            self.log.borrow_mut().record(event);
            if first_indicate {
                self.fired = true;
                for n in 100..110 {
                    let mut inner = Log::default();
                    self.engine.receive(key(1), Rx(n), 10, &mut inner);
                    self.log.borrow_mut().events.extend(inner.events);
                }
            }
        }
    }
    let mut sink = Reenter {
        engine: &engine,
        log: RefCell::new(Log::default()),
        fired: false,
    };
    engine.receive(key(1), Rx(1), 10, &mut sink);
    let log = sink.log.into_inner();
    let indicated = log.count(|e| matches!(e, Ev::Indicate(..)));
    let dropped = log.count(|e| matches!(e, Ev::RxDropped(_, RESOURCES)));
    assert_eq!(indicated + dropped, 11, "every frame indicated or returned");
    assert_eq!(
        dropped, 6,
        "budget of 4 held for the owner, the rest returned"
    );
    assert_eq!(engine.vc_stats(vc).unwrap().wan.buffer_overrun_errors, 6);
    // Order: the owner indicates the held frames in arrival order.
    let order: Vec<_> = log
        .events
        .iter()
        .filter_map(|e| {
            if let Ev::Indicate(_, n) = e {
                Some(*n)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(order, vec![1, 100, 101, 102, 103]);
}

/// A sink that plays a lower edge completing every send inline and a protocol that answers
/// every receive with a send, counting how deep the re-entry goes.
struct Inline<'a> {
    engine: &'a TestEngine,
    log: Log,
    depth: usize,
    max_depth: usize,
    reply_to_receives: bool,
    next_reply: u64,
}

impl Egress<P> for Inline<'_> {
    fn deliver(&mut self, event: Event<P>) {
        assert_eq!(locks_held(), 0);
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        match event {
            Event::Transmit { tag, packet, route } => {
                self.log
                    .events
                    .push(Ev::Transmit(tag.vc, route, tag, packet.0));
                let engine = self.engine;
                engine.transmit_complete(tag, packet, SUCCESS, self);
            }
            Event::IndicateReceive { vc, packet } if self.reply_to_receives => {
                self.log.events.push(Ev::Indicate(vc, packet.0));
                self.next_reply += 1;
                let engine = self.engine;
                engine.send(vc, Tx(1000 + self.next_reply), 10, self);
            }
            other => {
                self.log.record(other);
            }
        }
        self.depth -= 1;
    }
}

#[test]
fn inline_lower_completion_and_receive_triggered_send_do_not_recurse() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 4, &mut log);
    let mut sink = Inline {
        engine: &engine,
        log: Log::default(),
        depth: 0,
        max_depth: 0,
        reply_to_receives: true,
        next_reply: 0,
    };
    for n in 0..50 {
        engine.send(vc, Tx(n), 10, &mut sink);
        engine.receive(key(1), Rx(n), 10, &mut sink);
    }
    assert_eq!(
        sink.log
            .count(|e| matches!(e, Ev::SendComplete(_, _, SUCCESS))),
        100
    );
    assert_eq!(sink.log.completed.len(), 100);
    // Transmit -> inline completion -> SendComplete -> (done): depth 2 at most, however long
    // the exchange runs; a receive-triggered send finds the pump owned and returns.
    assert!(sink.max_depth <= 3, "re-entry depth {}", sink.max_depth);
}

#[test]
fn incoming_call_accept_connects_and_reject_deletes() {
    let engine = engine(small_config());
    let mut log = Log::default();
    assert_eq!(
        engine.incoming_call(LineId(2), Route::Pppoe(key(9)), link(2), &mut log),
        Err(INVALID_STATE),
        "not listening"
    );
    assert_eq!(engine.register_sap(LineId(2)), SUCCESS);
    let vc = engine
        .incoming_call(LineId(2), Route::Pppoe(key(9)), link(2), &mut log)
        .unwrap();
    assert_eq!(engine.line_phase(LineId(2)), Some(LinePhase::Offering));
    assert!(
        engine
            .incoming_call(LineId(2), Route::Pppoe(key(10)), link(2), &mut log)
            .is_err(),
        "line busy"
    );
    engine.incoming_call_complete(vc, SUCCESS, &mut log);
    engine.activate_vc_complete(vc, SUCCESS, &mut log);
    assert!(
        log.events
            .ends_with(&[Ev::CallConnected(vc), Ev::LinkParams(vc, link(2))])
    );
    assert_eq!(engine.line_phase(LineId(2)), Some(LinePhase::Connected));
    engine.close_call(vc, &mut log);
    engine.deactivate_vc_complete(vc, &mut log);
    assert!(
        log.events
            .ends_with(&[Ev::CloseCallComplete(vc, SUCCESS), Ev::DeleteVc(vc)])
    );
    assert_eq!(
        engine.vc_phase(vc),
        None,
        "the call manager's VC is deleted"
    );

    let vc2 = engine
        .incoming_call(LineId(2), Route::Pppoe(key(11)), link(2), &mut log)
        .unwrap();
    engine.incoming_call_complete(vc2, FAILURE, &mut log);
    assert!(
        log.events
            .ends_with(&[Ev::Hangup(vc2, Route::Pppoe(key(11))), Ev::DeleteVc(vc2)])
    );
    assert_eq!(engine.adapter_stats().vcs_in_use, 0);
}

#[test]
fn padt_while_offering_is_answered_after_the_client_accepts() {
    let engine = engine(small_config());
    let mut log = Log::default();
    engine.register_sap(LineId(0));
    let vc = engine
        .incoming_call(LineId(0), Route::Pppoe(key(4)), link(2), &mut log)
        .unwrap();
    assert_eq!(
        engine.session_down(vc, DownCause::RemoteHangup, &mut log),
        SUCCESS
    );
    engine.incoming_call_complete(vc, SUCCESS, &mut log);
    assert_eq!(log.events.last(), Some(&Ev::IncomingCloseCall(vc, SUCCESS)));
    engine.close_call(vc, &mut log);
    assert!(
        log.events
            .ends_with(&[Ev::CloseCallComplete(vc, SUCCESS), Ev::DeleteVc(vc)])
    );
}

#[test]
fn loopback_pair_dials_carries_data_and_hangs_up_both_ends() {
    let engine = engine(small_config());
    let mut log = Log::default();
    engine.register_sap(LineId(1));
    let a = engine.create_vc().unwrap();
    assert_eq!(
        engine.dial_loopback(a, LineId(0), LineId(1), &mut log),
        PENDING
    );
    let b = match log.events.last() {
        Some(Ev::IncomingCall(b, LineId(1))) => *b,
        other => panic!("expected the peer line to ring, got {other:?}"),
    };
    engine.incoming_call_complete(b, SUCCESS, &mut log);
    engine.activate_vc_complete(b, SUCCESS, &mut log);
    assert!(
        log.events.contains(&Ev::ActivateVc(a)),
        "the dialing end activates once the peer is connected"
    );
    engine.activate_vc_complete(a, SUCCESS, &mut log);
    assert!(log.events.contains(&Ev::MakeCallComplete(a, SUCCESS)));
    engine.send(a, Tx(1), 10, &mut log);
    let (tag, tx) = log.on_wire.remove(0);
    assert_eq!(
        log.events
            .iter()
            .rev()
            .find(|e| matches!(e, Ev::Transmit(..))),
        Some(&Ev::Transmit(a, Route::Loopback(b), tag, 1))
    );
    engine.receive_on_vc(b, Rx(tx.0), 10, &mut log);
    engine.transmit_complete(tag, tx, SUCCESS, &mut log);
    assert!(log.events.contains(&Ev::Indicate(b, 1)));
    engine.close_call(a, &mut log);
    // The peer's session went down with it; it had nothing outstanding, so it is deactivating.
    assert_eq!(engine.vc_phase(b), Some(VcPhase::Deactivating));
    assert!(log.events.contains(&Ev::DeactivateVc(b)));
    engine.deactivate_vc_complete(a, &mut log);
    engine.deactivate_vc_complete(b, &mut log);
    assert!(log.events.contains(&Ev::IncomingCloseCall(b, CLOSING)));
}

#[test]
fn loopback_glare_and_busy_lines_are_refused() {
    let engine = engine(small_config());
    let mut log = Log::default();
    engine.register_sap(LineId(0));
    engine.register_sap(LineId(1));
    let a = engine.create_vc().unwrap();
    let b = engine.create_vc().unwrap();
    assert_eq!(
        engine.dial_loopback(a, LineId(0), LineId(1), &mut log),
        PENDING
    );
    // The other line dials back at the same time: both lines are taken, it is refused.
    assert_eq!(
        engine.dial_loopback(b, LineId(1), LineId(0), &mut log),
        INVALID_STATE
    );
    assert_eq!(
        engine.dial_loopback(b, LineId(2), LineId(2), &mut log),
        INVALID_PARAMETER,
        "a line cannot dial itself"
    );
    assert_eq!(
        engine.adapter_stats().vcs_in_use,
        3,
        "a, b and a's peer; refused attempts gave theirs back"
    );
}

#[test]
fn lower_pause_holds_sends_with_window_zero_and_restart_resumes() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 2, &mut log);
    engine.send(vc, Tx(0), 10, &mut log);
    assert_eq!(engine.pause_binding(BindingId(0), &mut log), PENDING);
    assert!(
        log.events.contains(&Ev::LinkParams(vc, link(0))),
        "NDISWAN told to stop"
    );
    engine.send(vc, Tx(1), 10, &mut log);
    assert_eq!(transmitted(&log, vc), vec![0]);
    assert!(!log.events.contains(&Ev::LowerPauseComplete(BindingId(0))));
    complete_all_on_wire(&engine, &mut log);
    assert_eq!(log.count(|e| *e == Ev::LowerPauseComplete(BindingId(0))), 1);
    assert_eq!(engine.bind(BindingId(0), &mut log), SUCCESS);
    assert!(log.events.ends_with(&[
        Ev::LinkParams(vc, link(2)),
        Ev::Transmit(
            vc,
            Route::Pppoe(key(1)),
            rswan_engine::ids::TxTag { vc, len: 10 },
            1
        )
    ]));
}

#[test]
fn unbind_takes_the_sessions_down() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let vc = connect(&engine, 0, 1, 2, &mut log);
    engine.send(vc, Tx(0), 10, &mut log);
    assert_eq!(engine.unbind(BindingId(0), &mut log), PENDING);
    assert_eq!(engine.vc_phase(vc), Some(VcPhase::Closing));
    complete_all_on_wire(&engine, &mut log);
    assert_eq!(log.count(|e| *e == Ev::LowerUnbindReady(BindingId(0))), 1);
    engine.deactivate_vc_complete(vc, &mut log);
    assert_eq!(log.events.last(), Some(&Ev::IncomingCloseCall(vc, CLOSING)));
}

#[test]
fn statistics_per_vc_sum_into_the_adapter_across_deletion() {
    let engine = engine(small_config());
    let mut log = Log::default();
    let a = connect(&engine, 0, 1, 4, &mut log);
    let b = connect(&engine, 1, 2, 4, &mut log);
    engine.send(a, Tx(1), 1500, &mut log);
    engine.send(b, Tx(2), 500, &mut log);
    engine.receive(key(2), Rx(3), 70, &mut log);
    complete_all_on_wire(&engine, &mut log);
    engine.close_call(a, &mut log);
    engine.deactivate_vc_complete(a, &mut log);
    assert_eq!(engine.delete_vc(a), SUCCESS);
    let total = engine.adapter_stats();
    assert_eq!(total.vcs.wan.bytes_sent, 2000);
    assert_eq!(total.vcs.wan.frames_sent, 2);
    assert_eq!(total.vcs.wan.bytes_rcvd, 70);
    assert_eq!(total.vcs_in_use, 1);
    let ndis = engine.vc_stats(b).unwrap().wan.to_ndis();
    assert_eq!(&ndis[..4], &[500, 70, 1, 1]);
}

#[test]
fn statistics_of_a_call_manager_vc_are_kept_when_the_engine_deletes_it() {
    let engine = engine(small_config());
    let mut log = Log::default();
    assert_eq!(engine.register_sap(LineId(2)), SUCCESS);
    let vc = engine
        .incoming_call(LineId(2), Route::Pppoe(key(9)), link(2), &mut log)
        .unwrap();
    engine.incoming_call_complete(vc, SUCCESS, &mut log);
    engine.activate_vc_complete(vc, SUCCESS, &mut log);
    engine.send(vc, Tx(1), 1500, &mut log);
    engine.receive(key(9), Rx(2), 80, &mut log);
    complete_all_on_wire(&engine, &mut log);
    engine.close_call(vc, &mut log);
    engine.deactivate_vc_complete(vc, &mut log);
    assert_eq!(log.events.last(), Some(&Ev::DeleteVc(vc)));
    // The engine freed the slot itself (no `delete_vc`): its counters moved to the adapter.
    let total = engine.adapter_stats();
    assert_eq!(total.vcs_in_use, 0);
    assert_eq!(total.vcs.wan.bytes_sent, 1500);
    assert_eq!(total.vcs.wan.bytes_rcvd, 80);
    // The slot is reused with fresh counters; the adapter's total stays.
    let again = engine
        .incoming_call(LineId(2), Route::Pppoe(key(10)), link(2), &mut log)
        .unwrap();
    assert_eq!(again.index(), vc.index(), "the freed slot is reused");
    assert_eq!(engine.vc_stats(again).unwrap(), Default::default());
    assert_eq!(engine.adapter_stats().vcs.wan.bytes_sent, 1500);
}

#[test]
fn thousands_of_sessions_each_found_in_o1() {
    let config = Config {
        lines: 4096,
        max_vcs: 4096,
        max_sessions: 4096,
        ..small_config()
    };
    let engine = engine(config);
    let mut log = Log::default();
    let vcs: Vec<VcId> = (0..4096u32)
        .map(|i| connect(&engine, i, i as u16 + 1, 1, &mut log))
        .collect();
    log.take();
    for (i, vc) in vcs.iter().enumerate().rev() {
        engine.receive(key(i as u16 + 1), Rx(i as u64), 10, &mut log);
        assert_eq!(log.events.last(), Some(&Ev::Indicate(*vc, i as u64)));
    }
    assert!(
        engine.create_vc().is_err(),
        "pool exhausted: RESOURCES, not an allocation"
    );
    assert_eq!(engine.create_vc(), Err(RESOURCES));
}

#[test]
fn oid_completion_goes_through_the_batch() {
    let engine = engine(small_config());
    let mut log = Log::default();
    engine.complete_request(rswan_engine::ids::RequestId(77), SUCCESS, &mut log);
    assert_eq!(log.events, vec![Ev::OidComplete(77, SUCCESS)]);
}

#[test]
fn config_is_validated() {
    use rswan_engine::ConfigError;
    assert_eq!(
        TestEngine::new(Config {
            max_send_window: 0,
            ..small_config()
        })
        .err(),
        Some(ConfigError::SendWindow)
    );
    assert_eq!(
        TestEngine::new(Config {
            max_vcs: 0,
            ..small_config()
        })
        .err(),
        Some(ConfigError::MaxVcs)
    );
    assert_eq!(
        TestEngine::new(Config {
            lines: 0,
            ..small_config()
        })
        .err(),
        Some(ConfigError::Empty)
    );
}
