//! Model-checked interleavings (loom): the engine runs on loom's mutexes through the same
//! `Platform` trait the driver implements, so these check the code NDIS will run.
//! Each model is bounded by a preemption bound so the suite stays within minutes.

use loom::sync::Arc;
use loom::thread;
use rswan_engine::batch::{Egress, Event, LinkParams};
use rswan_engine::ids::{BindingId, LineId, Route, SessionKey, TxTag, VcId};
use rswan_engine::platform::{Platform, RawLock};
use rswan_engine::status::*;
use rswan_engine::{Config, Engine};
use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};

struct LoomLock<T>(loom::sync::Mutex<T>);

impl<T: Send> RawLock<T> for LoomLock<T> {
    type Guard<'a>
        = loom::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn new(value: T) -> Self {
        LoomLock(loom::sync::Mutex::new(value))
    }
    fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0
            .lock()
            .expect("no poisoning: a panic fails the model")
    }
}

#[derive(Debug)]
struct Tx(u64);
#[derive(Debug)]
struct Rx(u64);

struct LoomPlatform;
impl Platform for LoomPlatform {
    type Lock<T: Send> = LoomLock<T>;
    type Tx = Tx;
    type Rx = Rx;
}
type P = LoomPlatform;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rec {
    Complete(VcId, u64, u32),
    Transmit(VcId, u64),
    Indicate(VcId, u64),
    RxDropped(u64),
    Deactivate(VcId),
    Connected(VcId),
    Other,
}

/// The global order of deliveries across threads. A std mutex: loom runs one thread at a
/// time and none yields while holding it, so it adds no interleavings of its own.
#[derive(Default)]
struct World {
    log: StdMutex<Vec<Rec>>,
    wire: StdMutex<Vec<(TxTag, Tx)>>,
    /// The frame a receive indication is answered with (once), whichever thread delivers it:
    /// the pump owner delivers a VC's events, and every thread runs the same driver.
    reply: StdMutex<Option<u64>>,
    /// Whether every sink completes transmits inline.
    inline: StdMutex<bool>,
}

/// A sink for one thread: optionally completes transmits inline (a lower edge that does so)
/// and answers receives with a send (a protocol that does so).
struct Sink<'a> {
    engine: &'a Engine<P>,
    world: &'a World,
}

impl Egress<P> for Sink<'_> {
    fn deliver(&mut self, event: Event<P>) {
        let rec = match &event {
            Event::SendComplete { vc, packet, status } => Rec::Complete(*vc, packet.0, *status),
            Event::Transmit { tag, packet, .. } => Rec::Transmit(tag.vc, packet.0),
            Event::IndicateReceive { vc, packet } => Rec::Indicate(*vc, packet.0),
            Event::ReceiveDropped { packet, .. } => Rec::RxDropped(packet.0),
            Event::DeactivateVc { vc } => Rec::Deactivate(*vc),
            Event::DispatchCallConnected { vc } => Rec::Connected(*vc),
            _ => Rec::Other,
        };
        if std::env::var_os("LOOM_TRACE").is_some() {
            eprintln!("{:?} {rec:?}", thread::current().id());
        }
        self.world.log.lock().unwrap().push(rec);
        match event {
            Event::Transmit { tag, packet, .. } if *self.world.inline.lock().unwrap() => {
                let engine = self.engine;
                engine.transmit_complete(tag, packet, SUCCESS, self);
            }
            Event::Transmit { tag, packet, .. } => {
                self.world.wire.lock().unwrap().push((tag, packet))
            }
            Event::IndicateReceive { vc, .. } => {
                let reply = self.world.reply.lock().unwrap().take();
                if let Some(n) = reply {
                    let engine = self.engine;
                    engine.send(vc, Tx(n), 10, self);
                }
            }
            _ => {}
        }
    }
}

fn sink<'a>(engine: &'a Engine<P>, world: &'a World) -> Sink<'a> {
    Sink { engine, world }
}

fn key(n: u16) -> SessionKey {
    SessionKey {
        session_id: n,
        peer_mac: [2, 0, 0, 0, 0, n as u8],
        binding: BindingId(0),
    }
}

fn link(window: u32) -> LinkParams {
    LinkParams {
        transmit_speed: 1000,
        receive_speed: 1000,
        send_window: window,
    }
}

fn new_engine() -> Engine<P> {
    let config = Config {
        lines: 2,
        max_vcs: 2,
        max_sessions: 2,
        bindings: 1,
        max_send_window: 2,
        queue_capacity: 4,
        receive_budget: 2,
        hash_seed: 1,
    };
    let engine = Engine::new(config).expect("config");
    assert_eq!(engine.open_af(), SUCCESS);
    engine
}

fn connect(engine: &Engine<P>, world: &World, line: u32, session: u16, window: u32) -> VcId {
    let vc = engine.create_vc().expect("vc");
    let mut s = sink(engine, world);
    assert_eq!(engine.make_call(vc, LineId(line), &mut s), PENDING);
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key(session)), link(window), &mut s),
        PENDING
    );
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut s), SUCCESS);
    vc
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    let before = RUNS.load(Ordering::Relaxed);
    builder.check(move || {
        RUNS.fetch_add(1, Ordering::Relaxed);
        f()
    });
    let runs = RUNS.load(Ordering::Relaxed) - before;
    eprintln!("loom explored {runs} interleavings (preemption bound {PREEMPTION_BOUND})");
    assert!(
        runs > 1,
        "loom explored a single interleaving: the model has no concurrency"
    );
}

/// Preemptions loom may insert per execution: 3 keeps the suite within minutes on 2 cores.
const PREEMPTION_BOUND: usize = 3;

/// Every packet number in `expect` completed exactly once; returns the statuses.
fn completions(log: &[Rec], expect: &[u64]) -> HashMap<u64, u32> {
    let mut seen = HashMap::new();
    for rec in log {
        if let Rec::Complete(_, n, status) = rec {
            assert!(
                seen.insert(*n, *status).is_none(),
                "send {n} completed twice: {log:?}"
            );
        }
    }
    for n in expect {
        assert!(seen.contains_key(n), "send {n} never completed: {log:?}");
    }
    assert_eq!(seen.len(), expect.len(), "{log:?}");
    seen
}

#[test]
fn loom_send_vs_send_complete_vs_close() {
    model(|| {
        let engine = Arc::new(new_engine());
        let world = Arc::new(World::default());
        let vc = connect(&engine, &world, 0, 1, 1);
        engine.send(vc, Tx(0), 10, &mut sink(&engine, &world)); // on the wire
        engine.send(vc, Tx(1), 10, &mut sink(&engine, &world)); // queued behind the window
        let (tag0, tx0) = world
            .wire
            .lock()
            .unwrap()
            .pop()
            .expect("frame 0 on the wire");

        let (e1, w1) = (engine.clone(), world.clone());
        let sender = thread::spawn(move || e1.send(vc, Tx(2), 10, &mut sink(&e1, &w1)));
        let (e2, w2) = (engine.clone(), world.clone());
        let completer =
            thread::spawn(move || e2.transmit_complete(tag0, tx0, SUCCESS, &mut sink(&e2, &w2)));
        let closed = engine.close_call(vc, &mut sink(&engine, &world));
        sender.join().unwrap();
        completer.join().unwrap();
        assert_eq!(closed, PENDING);

        // The lower edge finishes whatever is still on the wire.
        let wire: Vec<_> = world.wire.lock().unwrap().drain(..).collect();
        for (tag, tx) in wire {
            engine.transmit_complete(tag, tx, SUCCESS, &mut sink(&engine, &world));
        }
        let log = world.log.lock().unwrap().clone();
        let statuses = completions(&log, &[0, 1, 2]);
        assert_eq!(statuses[&0], SUCCESS);
        for n in [1, 2] {
            assert!(
                matches!(statuses[&n], SUCCESS | CLOSING),
                "{n}: {:#x}",
                statuses[&n]
            );
        }
        // Deactivation comes once, after every send that was on the wire or queued when the
        // call closed. A send that reaches the VC only after that (thread 1 may be scheduled
        // last) is refused with CLOSING, after it, and that is all that may follow it.
        let deactivate: Vec<_> = log
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == Rec::Deactivate(vc))
            .collect();
        assert_eq!(deactivate.len(), 1, "{log:?}");
        for (at, rec) in log.iter().enumerate() {
            match rec {
                Rec::Complete(_, 0 | 1, _) => assert!(at < deactivate[0].0, "{log:?}"),
                Rec::Complete(_, 2, status) if at > deactivate[0].0 => assert_eq!(*status, CLOSING),
                _ => {}
            }
        }
        // Transmits kept the send order.
        let tx: Vec<_> = log
            .iter()
            .filter_map(|r| {
                if let Rec::Transmit(_, n) = r {
                    Some(*n)
                } else {
                    None
                }
            })
            .collect();
        let mut sorted = tx.clone();
        sorted.sort();
        assert_eq!(tx, sorted, "{log:?}");
    });
}

#[test]
fn loom_receive_triggered_send_vs_inline_lower_completion() {
    model(|| {
        let engine = Arc::new(new_engine());
        let world = Arc::new(World::default());
        let vc = connect(&engine, &world, 0, 1, 1);
        engine.send(vc, Tx(0), 10, &mut sink(&engine, &world));
        engine.send(vc, Tx(1), 10, &mut sink(&engine, &world));
        let (tag0, tx0) = world
            .wire
            .lock()
            .unwrap()
            .pop()
            .expect("frame 0 on the wire");

        *world.inline.lock().unwrap() = true;
        *world.reply.lock().unwrap() = Some(100);
        let (e1, w1) = (engine.clone(), world.clone());
        let receiver = thread::spawn(move || e1.receive(key(1), Rx(7), 10, &mut sink(&e1, &w1)));
        engine.transmit_complete(tag0, tx0, SUCCESS, &mut sink(&engine, &world));
        receiver.join().unwrap();

        let wire: Vec<_> = world.wire.lock().unwrap().drain(..).collect();
        for (tag, tx) in wire {
            engine.transmit_complete(tag, tx, SUCCESS, &mut sink(&engine, &world));
        }
        let log = world.log.lock().unwrap().clone();
        let statuses = completions(&log, &[0, 1, 100]);
        assert!(statuses.values().all(|s| *s == SUCCESS), "{log:?}");
        assert!(log.contains(&Rec::Indicate(vc, 7)));
        let tx: Vec<_> = log
            .iter()
            .filter_map(|r| {
                if let Rec::Transmit(_, n) = r {
                    Some(*n)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(tx, vec![0, 1, 100], "per-VC order: {log:?}");
    });
}

#[test]
fn loom_kb_q219380_call_connects_while_sends_and_receives_race() {
    // KB Q219380: a RAS server's NdisWanSend path deadlocked while a client connected. Here a
    // call completes on one processor while sends (completed inline by the lower edge) and
    // receive indications run on the others.
    model(|| {
        let engine = Arc::new(new_engine());
        let world = Arc::new(World::default());
        let a = connect(&engine, &world, 0, 1, 2);
        assert_eq!(engine.register_sap(LineId(1)), SUCCESS);
        let b = engine
            .incoming_call(
                LineId(1),
                Route::Pppoe(key(2)),
                link(2),
                &mut sink(&engine, &world),
            )
            .expect("rings");

        let (e1, w1) = (engine.clone(), world.clone());
        let connecting = thread::spawn(move || {
            let mut s = sink(&e1, &w1);
            assert_eq!(e1.incoming_call_complete(b, SUCCESS, &mut s), SUCCESS);
            assert_eq!(e1.activate_vc_complete(b, SUCCESS, &mut s), SUCCESS);
        });
        *world.inline.lock().unwrap() = true;
        let (e2, w2) = (engine.clone(), world.clone());
        let sending = thread::spawn(move || {
            let mut s = sink(&e2, &w2);
            e2.send(a, Tx(0), 10, &mut s);
            e2.send(a, Tx(1), 10, &mut s);
        });
        let mut s = sink(&engine, &world);
        engine.receive(key(2), Rx(20), 10, &mut s);
        engine.receive(key(1), Rx(10), 10, &mut s);
        connecting.join().unwrap();
        sending.join().unwrap();
        // Transmits delivered by a thread whose sink does not complete inline (none here: every
        // sink does) would wait on the wire; finish them like a lower edge would.
        let wire: Vec<_> = world.wire.lock().unwrap().drain(..).collect();
        for (tag, tx) in wire {
            engine.transmit_complete(tag, tx, SUCCESS, &mut sink(&engine, &world));
        }

        let log = world.log.lock().unwrap().clone();
        let statuses = completions(&log, &[0, 1]);
        assert!(statuses.values().all(|s| *s == SUCCESS), "{log:?}");
        assert!(log.contains(&Rec::Indicate(a, 10)), "{log:?}");
        assert_eq!(log.iter().filter(|r| **r == Rec::Connected(b)).count(), 1);
        // The frame for the connecting call is indicated only after the call is connected,
        // or returned; never lost.
        match log.iter().position(|r| *r == Rec::Indicate(b, 20)) {
            Some(at) => assert!(
                at > log.iter().position(|r| *r == Rec::Connected(b)).unwrap(),
                "{log:?}"
            ),
            None => assert!(log.contains(&Rec::RxDropped(20)), "{log:?}"),
        }
    });
}

/// A lower edge that completes every transmit inline, and fails the model when the engine
/// delivers to it while it is still inside the call it made from a delivery: on one VC, the
/// pump's owner delivers everything, so a nested call must only leave work for it.
struct InlineSink<'a> {
    engine: &'a Engine<P>,
    world: &'a World,
    inside: bool,
}

impl Egress<P> for InlineSink<'_> {
    fn deliver(&mut self, event: Event<P>) {
        assert!(
            !self.inside,
            "{event:?} delivered from inside a nested engine call: recursion"
        );
        let rec = match &event {
            Event::SendComplete { vc, packet, status } => Rec::Complete(*vc, packet.0, *status),
            Event::Transmit { tag, packet, .. } => Rec::Transmit(tag.vc, packet.0),
            _ => Rec::Other,
        };
        self.world.log.lock().unwrap().push(rec);
        if let Event::Transmit { tag, packet, .. } = event {
            self.inside = true;
            let engine = self.engine;
            engine.transmit_complete(tag, packet, SUCCESS, self);
            self.inside = false;
        }
    }
}

#[test]
fn loom_two_senders_on_one_vc_with_inline_completion_keep_order_without_recursion() {
    model(|| {
        let engine = Arc::new(new_engine());
        let world = Arc::new(World::default());
        let vc = connect(&engine, &world, 0, 1, 1);
        world.log.lock().unwrap().clear();

        let (e1, w1) = (engine.clone(), world.clone());
        let other = thread::spawn(move || {
            let mut s = InlineSink {
                engine: &e1,
                world: &w1,
                inside: false,
            };
            e1.send(vc, Tx(10), 10, &mut s);
            e1.send(vc, Tx(11), 10, &mut s);
        });
        let mut s = InlineSink {
            engine: &engine,
            world: &world,
            inside: false,
        };
        engine.send(vc, Tx(0), 10, &mut s);
        engine.send(vc, Tx(1), 10, &mut s);
        other.join().unwrap();

        // Every send went out and came back once, whichever thread delivered it.
        let log = world.log.lock().unwrap().clone();
        let statuses = completions(&log, &[0, 1, 10, 11]);
        assert!(statuses.values().all(|s| *s == SUCCESS), "{log:?}");
        let at = |want: Rec| log.iter().position(|r| *r == want).expect("in the log");
        for (first, second) in [(0, 1), (10, 11)] {
            // Each thread's sends keep their order on the wire and in their completions.
            assert!(at(Rec::Transmit(vc, first)) < at(Rec::Transmit(vc, second)));
            assert!(at(Rec::Complete(vc, first, SUCCESS)) < at(Rec::Complete(vc, second, SUCCESS)));
        }
        for n in [0, 1, 10, 11] {
            assert!(at(Rec::Transmit(vc, n)) < at(Rec::Complete(vc, n, SUCCESS)));
        }
    });
}
