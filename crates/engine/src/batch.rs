//! The completion batch: everything that leaves the driver, recorded while locks are held and
//! delivered after the last guard is gone.
//!
//! A [`Batch`] lives inside an [`Entry`](crate::sync::Entry), the root of every lock context.
//! Guards borrow the entry, and [`Entry::flush`](crate::sync::Entry::flush) needs it back
//! mutably, so a flush under a guard does not compile:
//! ```compile_fail,E0499
//! use rswan_engine::{batch::Event, lock_order::Vc, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let vc: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let guard = entry.ctx().lock(&vc);
//! entry.flush(&mut |_event: Event<P>| {});
//! drop(guard);
//! ```
//! Nor can the batch be taken out of a guard's context to be flushed elsewhere: it is only
//! ever lent (`&mut Batch`), and `Batch` has no flush of its own.
//! ```compile_fail,E0599
//! use rswan_engine::{batch::Event, lock_order::Vc, platform::StdPlatform, sync::{Entry, OrderedLock}};
//! type P = StdPlatform;
//! let vc: OrderedLock<Vc, u32, P> = OrderedLock::new(0);
//! let mut entry = Entry::<P>::new();
//! let mut guard = entry.ctx().lock(&vc);
//! guard.batch().flush(&mut |_event: Event<P>| {});
//! ```
//!
//! The batch has a fixed capacity and lives on the stack: recording and flushing allocate
//! nothing. The engine checks [`Batch::room`] before it moves packets into it and flushes
//! between rounds, so a long queue drains in several rounds.

use crate::ids::{BindingId, LineId, RequestId, Route, TxTag, VcId};
use crate::platform::Platform;
use crate::status::Status;
use core::fmt;

/// Events one batch holds. Small, because the batch is on the kernel stack of every entry point.
pub const BATCH_CAPACITY: usize = 16;

/// `WAN_CO_LINKPARAMS` (WDK page "NDIS_STATUS_WAN_CO_LINKPARAMS"): speeds in bytes per second
/// and the send window; a send window of 0 stops NDISWAN sending on the VC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LinkParams {
    /// `TransmitSpeed`, bytes/s.
    pub transmit_speed: u32,
    /// `ReceiveSpeed`, bytes/s.
    pub receive_speed: u32,
    /// `SendWindow`: sends NDISWAN may have outstanding on the VC (0 = stop).
    pub send_window: u32,
}

/// One thing that leaves the driver. The comment on each names the NDIS call the driver makes.
pub enum Event<P: Platform> {
    /// `NdisMCoSendNetBufferListsComplete` on the VC: a send handed down by NDISWAN is done.
    SendComplete {
        /// The VC the send came in on (as given, even when the handle was stale).
        vc: VcId,
        /// The send.
        packet: P::Tx,
        /// `SUCCESS`, or why it failed.
        status: Status,
    },
    /// Put the frame on the wire: prepend the PPPoE header and `NdisSendNetBufferLists` on the
    /// binding, or hand it to the loopback peer. Give `tag` and the packet back to
    /// [`Engine::transmit_complete`](crate::Engine::transmit_complete).
    Transmit {
        /// Where the frame goes.
        route: Route,
        /// Give it back with the completion.
        tag: TxTag,
        /// The frame.
        packet: P::Tx,
    },
    /// `NdisMCoIndicateReceiveNetBufferLists` on the VC.
    IndicateReceive {
        /// The VC.
        vc: VcId,
        /// The frame.
        packet: P::Rx,
    },
    /// A received frame the engine did not indicate (no such session, VC not active, receive
    /// queue full): return it to the driver's pool. It is counted in the statistics.
    ReceiveDropped {
        /// The frame.
        packet: P::Rx,
        /// Why.
        status: Status,
    },
    /// `NdisMCoIndicateStatusEx(NDIS_STATUS_WAN_CO_LINKPARAMS)` on the VC.
    LinkParams {
        /// The VC.
        vc: VcId,
        /// The parameters; `send_window` is the engine's current window for the VC.
        params: LinkParams,
    },
    /// Transport: start discovery (PADI) for an outgoing call on the line.
    Dial {
        /// The VC of the call.
        vc: VcId,
        /// The line dialing.
        line: LineId,
    },
    /// Transport: stop a discovery started by `Dial` (the call was closed first).
    CancelDial {
        /// The VC of the call.
        vc: VcId,
        /// The line.
        line: LineId,
    },
    /// Transport: end the session (send PADT; for loopback, tell the peer VC).
    Hangup {
        /// The VC of the call.
        vc: VcId,
        /// The session that ends.
        route: Route,
    },
    /// `NdisMCmActivateVc`; report the outcome to
    /// [`Engine::activate_vc_complete`](crate::Engine::activate_vc_complete).
    ActivateVc {
        /// The VC.
        vc: VcId,
    },
    /// `NdisMCmDeactivateVc`; report the outcome to
    /// [`Engine::deactivate_vc_complete`](crate::Engine::deactivate_vc_complete). Every send
    /// on the VC has been completed before this event.
    DeactivateVc {
        /// The VC.
        vc: VcId,
    },
    /// `NdisMCmMakeCallComplete`.
    MakeCallComplete {
        /// The VC.
        vc: VcId,
        /// Outcome.
        status: Status,
    },
    /// `NdisMCmCreateVc` (the VC's `MiniportVcContext` is `vc.to_raw()`), then
    /// `NdisMCmDispatchIncomingCall`; the answer comes back through
    /// [`Engine::incoming_call_complete`](crate::Engine::incoming_call_complete).
    DispatchIncomingCall {
        /// The new VC.
        vc: VcId,
        /// The line it rings on.
        line: LineId,
    },
    /// `NdisMCmDispatchCallConnected`.
    DispatchCallConnected {
        /// The VC.
        vc: VcId,
    },
    /// `NdisMCmDispatchIncomingCloseCall`: the remote end hung up.
    DispatchIncomingCloseCall {
        /// The VC.
        vc: VcId,
        /// Why.
        status: Status,
    },
    /// `NdisMCmCloseCallComplete`.
    CloseCallComplete {
        /// The VC.
        vc: VcId,
        /// Outcome.
        status: Status,
    },
    /// `NdisMCmDeleteVc` of a VC the call manager created for an incoming call.
    DeleteVc {
        /// The VC (its handle is stale once this event is out).
        vc: VcId,
    },
    /// `NdisMCoOidRequestComplete` (or `NdisMCmOidRequestComplete`) of a pended request.
    OidComplete {
        /// The driver's token.
        request: RequestId,
        /// Outcome.
        status: Status,
    },
    /// `NdisMPauseComplete`: no send is outstanding any more.
    PauseComplete,
    /// Every call is down and every send completed: `MiniportHaltEx` may return.
    HaltReady,
    /// `NdisCompleteNetPnPEvent` of the binding's pause: nothing is outstanding on it.
    LowerPauseComplete {
        /// The binding.
        binding: BindingId,
    },
    /// The binding carries no session and nothing is outstanding: `NdisCloseAdapterEx` may go.
    LowerUnbindReady {
        /// The binding.
        binding: BindingId,
    },
}

impl<P: Platform> Event<P> {
    /// The VC an event belongs to, if any.
    pub fn vc(&self) -> Option<VcId> {
        match self {
            Event::SendComplete { vc, .. }
            | Event::IndicateReceive { vc, .. }
            | Event::LinkParams { vc, .. }
            | Event::Dial { vc, .. }
            | Event::CancelDial { vc, .. }
            | Event::Hangup { vc, .. }
            | Event::ActivateVc { vc }
            | Event::DeactivateVc { vc }
            | Event::MakeCallComplete { vc, .. }
            | Event::DispatchIncomingCall { vc, .. }
            | Event::DispatchCallConnected { vc }
            | Event::DispatchIncomingCloseCall { vc, .. }
            | Event::CloseCallComplete { vc, .. }
            | Event::DeleteVc { vc } => Some(*vc),
            Event::Transmit { tag, .. } => Some(tag.vc),
            Event::ReceiveDropped { .. }
            | Event::OidComplete { .. }
            | Event::PauseComplete
            | Event::HaltReady
            | Event::LowerPauseComplete { .. }
            | Event::LowerUnbindReady { .. } => None,
        }
    }

    /// The variant's name, for diagnostics.
    pub fn name(&self) -> &'static str {
        match self {
            Event::SendComplete { .. } => "SendComplete",
            Event::Transmit { .. } => "Transmit",
            Event::IndicateReceive { .. } => "IndicateReceive",
            Event::ReceiveDropped { .. } => "ReceiveDropped",
            Event::LinkParams { .. } => "LinkParams",
            Event::Dial { .. } => "Dial",
            Event::CancelDial { .. } => "CancelDial",
            Event::Hangup { .. } => "Hangup",
            Event::ActivateVc { .. } => "ActivateVc",
            Event::DeactivateVc { .. } => "DeactivateVc",
            Event::MakeCallComplete { .. } => "MakeCallComplete",
            Event::DispatchIncomingCall { .. } => "DispatchIncomingCall",
            Event::DispatchCallConnected { .. } => "DispatchCallConnected",
            Event::DispatchIncomingCloseCall { .. } => "DispatchIncomingCloseCall",
            Event::CloseCallComplete { .. } => "CloseCallComplete",
            Event::DeleteVc { .. } => "DeleteVc",
            Event::OidComplete { .. } => "OidComplete",
            Event::PauseComplete => "PauseComplete",
            Event::HaltReady => "HaltReady",
            Event::LowerPauseComplete { .. } => "LowerPauseComplete",
            Event::LowerUnbindReady { .. } => "LowerUnbindReady",
        }
    }
}

impl<P: Platform> fmt::Debug for Event<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vc() {
            Some(vc) => write!(f, "{}({vc:?})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Where a flush delivers events: the driver implements it by calling NDIS; tests record.
/// It runs with no engine lock held, so it may call back into the engine (a send completion
/// that makes NDISWAN send, a lower send that completes inline).
pub trait Egress<P: Platform> {
    /// Deliver one event. Events of one VC arrive in the order they happened.
    fn deliver(&mut self, event: Event<P>);
}

impl<P: Platform, F: FnMut(Event<P>)> Egress<P> for F {
    fn deliver(&mut self, event: Event<P>) {
        self(event)
    }
}

/// A fixed-capacity FIFO of events. Obtained only through an entry or a guard.
pub struct Batch<P: Platform> {
    events: [Option<Event<P>>; BATCH_CAPACITY],
    len: usize,
}

impl<P: Platform> Batch<P> {
    pub(crate) fn new() -> Self {
        Self {
            // Built slot by slot, the compiler writes only each slot's tag (16 stores); an
            // array constant was built whole on the stack and copied (512 bytes, every call).
            events: core::array::from_fn(|_| None),
            len: 0,
        }
    }

    /// Record an event.
    ///
    /// # Panics
    /// When the batch is full: the engine sizes every round by [`Batch::room`], so this is an
    /// engine bug, and losing an event silently would be worse (a send never completed).
    pub fn push(&mut self, event: Event<P>) {
        assert!(
            self.len < BATCH_CAPACITY,
            "completion batch overflow ({:?})",
            event
        );
        self.events[self.len] = Some(event);
        self.len += 1;
    }

    /// Events that still fit.
    pub fn room(&self) -> usize {
        BATCH_CAPACITY - self.len
    }

    /// Events recorded and not yet flushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Deliver and forget every event, in order. Reached only through `Entry::flush`.
    pub(crate) fn drain_into(&mut self, sink: &mut impl Egress<P>) {
        let len = core::mem::replace(&mut self.len, 0);
        for slot in &mut self.events[..len] {
            if let Some(event) = slot.take() {
                sink.deliver(event);
            }
        }
    }
}

impl<P: Platform> fmt::Debug for Batch<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.events[..self.len].iter().flatten())
            .finish()
    }
}
