//! Shared test platform: `std` mutexes that count, per thread, how many engine locks are held,
//! so a sink can check that nothing is delivered under a lock; packets that cannot be copied,
//! so each completes at most once by construction and a lost one is visible.
#![allow(dead_code)]

use rswan_engine::batch::{Egress, Event, LinkParams};
use rswan_engine::ids::{BindingId, LineId, Route, SessionKey, TxTag, VcId};
use rswan_engine::platform::{Platform, RawLock};
use rswan_engine::{Config, Engine};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// Engine locks this thread holds now.
pub fn locks_held() -> usize {
    HELD.with(Cell::get)
}

pub struct Checked<T>(Mutex<T>);

pub struct CheckedGuard<'a, T>(MutexGuard<'a, T>);

impl<T> Drop for CheckedGuard<'_, T> {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get() - 1));
    }
}

impl<T> std::ops::Deref for CheckedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for CheckedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Send> RawLock<T> for Checked<T> {
    type Guard<'a>
        = CheckedGuard<'a, T>
    where
        T: 'a;
    fn new(value: T) -> Self {
        Checked(Mutex::new(value))
    }
    fn lock(&self) -> CheckedGuard<'_, T> {
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        HELD.with(|h| h.set(h.get() + 1));
        CheckedGuard(guard)
    }
}

/// A send from NDISWAN: deliberately not `Clone`.
#[derive(Debug, PartialEq, Eq)]
pub struct Tx(pub u64);
/// A received frame: deliberately not `Clone`.
#[derive(Debug, PartialEq, Eq)]
pub struct Rx(pub u64);

#[derive(Debug)]
pub struct TestPlatform;

impl Platform for TestPlatform {
    type Lock<T: Send> = Checked<T>;
    type Tx = Tx;
    type Rx = Rx;
}

pub type P = TestPlatform;
pub type TestEngine = Engine<P>;

/// An event with the packets reduced to their numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    SendComplete(VcId, u64, u32),
    Transmit(VcId, Route, TxTag, u64),
    Indicate(VcId, u64),
    RxDropped(u64, u32),
    LinkParams(VcId, LinkParams),
    Dial(VcId, LineId),
    CancelDial(VcId, LineId),
    Hangup(VcId, Route),
    ActivateVc(VcId),
    DeactivateVc(VcId),
    MakeCallComplete(VcId, u32),
    IncomingCall(VcId, LineId),
    CallConnected(VcId),
    IncomingCloseCall(VcId, u32),
    CloseCallComplete(VcId, u32),
    DeleteVc(VcId),
    OidComplete(usize, u32),
    PauseComplete,
    HaltReady,
    LowerPauseComplete(BindingId),
    LowerUnbindReady(BindingId),
}

/// Records events; keeps transmitted frames so a test can complete them later.
#[derive(Default)]
pub struct Log {
    pub events: Vec<Ev>,
    pub on_wire: Vec<(TxTag, Tx)>,
    pub completed: HashMap<u64, u32>,
}

impl Log {
    pub fn record(&mut self, event: Event<P>) -> Ev {
        assert_eq!(
            locks_held(),
            0,
            "{event:?} delivered while an engine lock is held"
        );
        let ev = match event {
            Event::SendComplete { vc, packet, status } => {
                assert!(
                    self.completed.insert(packet.0, status).is_none(),
                    "send {} completed twice",
                    packet.0
                );
                Ev::SendComplete(vc, packet.0, status)
            }
            Event::Transmit { route, tag, packet } => {
                let n = packet.0;
                self.on_wire.push((tag, packet));
                Ev::Transmit(tag.vc, route, tag, n)
            }
            Event::IndicateReceive { vc, packet } => Ev::Indicate(vc, packet.0),
            Event::ReceiveDropped { packet, status } => Ev::RxDropped(packet.0, status),
            Event::LinkParams { vc, params } => Ev::LinkParams(vc, params),
            Event::Dial { vc, line } => Ev::Dial(vc, line),
            Event::CancelDial { vc, line } => Ev::CancelDial(vc, line),
            Event::Hangup { vc, route } => Ev::Hangup(vc, route),
            Event::ActivateVc { vc } => Ev::ActivateVc(vc),
            Event::DeactivateVc { vc } => Ev::DeactivateVc(vc),
            Event::MakeCallComplete { vc, status } => Ev::MakeCallComplete(vc, status),
            Event::DispatchIncomingCall { vc, line } => Ev::IncomingCall(vc, line),
            Event::DispatchCallConnected { vc } => Ev::CallConnected(vc),
            Event::DispatchIncomingCloseCall { vc, status } => Ev::IncomingCloseCall(vc, status),
            Event::CloseCallComplete { vc, status } => Ev::CloseCallComplete(vc, status),
            Event::DeleteVc { vc } => Ev::DeleteVc(vc),
            Event::OidComplete { request, status } => Ev::OidComplete(request.0, status),
            Event::PauseComplete => Ev::PauseComplete,
            Event::HaltReady => Ev::HaltReady,
            Event::LowerPauseComplete { binding } => Ev::LowerPauseComplete(binding),
            Event::LowerUnbindReady { binding } => Ev::LowerUnbindReady(binding),
        };
        self.events.push(ev);
        ev
    }

    pub fn take(&mut self) -> Vec<Ev> {
        std::mem::take(&mut self.events)
    }

    pub fn count(&self, pred: impl Fn(&Ev) -> bool) -> usize {
        self.events.iter().filter(|e| pred(e)).count()
    }
}

impl Egress<P> for Log {
    fn deliver(&mut self, event: Event<P>) {
        self.record(event);
    }
}

pub fn key(n: u16) -> SessionKey {
    SessionKey {
        session_id: n,
        peer_mac: [0x02, 0, 0, 0, (n >> 8) as u8, n as u8],
        binding: BindingId(0),
    }
}

pub fn link(window: u32) -> LinkParams {
    LinkParams {
        transmit_speed: 1_250_000,
        receive_speed: 1_250_000,
        send_window: window,
    }
}

pub fn small_config() -> Config {
    Config {
        lines: 4,
        max_vcs: 8,
        max_sessions: 8,
        bindings: 2,
        max_send_window: 4,
        queue_capacity: 8,
        receive_budget: 4,
        hash_seed: 42,
    }
}

/// An engine with the address family open and binding 0 bound.
pub fn engine(config: Config) -> TestEngine {
    let engine = TestEngine::new(config).expect("valid config");
    assert_eq!(engine.open_af(), rswan_engine::status::SUCCESS);
    let mut log = Log::default();
    assert_eq!(
        engine.bind(BindingId(0), &mut log),
        rswan_engine::status::SUCCESS
    );
    engine
}

/// Dials an outgoing PPPoE call on `line` and brings it to Active; returns the VC.
pub fn connect(engine: &TestEngine, line: u32, session: u16, window: u32, log: &mut Log) -> VcId {
    use rswan_engine::status::*;
    let vc = engine.create_vc().expect("free VC");
    assert_eq!(engine.make_call(vc, LineId(line), log), PENDING);
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key(session)), link(window), log),
        PENDING
    );
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, log), SUCCESS);
    assert!(log.events.contains(&Ev::MakeCallComplete(vc, SUCCESS)));
    vc
}
