//! One VC slot: call phase, send queue and window, outbox, statistics; and the per-VC pump.
//!
//! **The pump.** Everything that leaves the driver for a VC goes out through one "owner" at a
//! time (`pumping`): whoever changes the VC and finds no owner becomes it, moves the VC's
//! outbox and sendable queue into its batch, flushes with no lock held, and comes back for more
//! until nothing is left. Others who change the VC meanwhile only leave work in the outbox or
//! queue. So the VC's events reach NDIS in the order they happened, a receive that triggers a
//! send or a lower edge that completes a send inline finds an owner and returns at once (no
//! recursion), and a VC is only ever declared drained by an owner that has flushed everything.
//!
//! When there is no owner and nothing waits, an operation's own event (a transmit, a send
//! completion, an indication) goes straight into its batch: the order is the same, without the
//! round trip through the outbox or queue.

use crate::batch::{Batch, Event, LinkParams};
use crate::fallible::OutOfMemory;
use crate::ids::{BindingId, LineId, Route, TxTag, VcId};
use crate::platform::Platform;
use crate::ring::Ring;
use crate::state::VcPhase;
use crate::stats::VcStats;
use crate::status::{self, Status};

/// Control events a VC's outbox can hold at once (a call step records at most three).
pub(crate) const CONTROL_SLOTS: usize = 16;

/// Who created the VC, and so who deletes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcOwner {
    /// The client (NDPROXY through `CoCreateVc`, for an outgoing call); it deletes it.
    Client,
    /// The call manager (for an incoming call); the engine emits `DeleteVc`.
    CallManager,
}

/// A call-control event waiting in a VC's outbox.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Control {
    LinkParams(LinkParams),
    Dial(LineId),
    CancelDial(LineId),
    Hangup(Route),
    ActivateVc,
    MakeCallComplete(Status),
    DispatchIncomingCall(LineId),
    CallConnected,
    IncomingCloseCall(Status),
    CloseCallComplete(Status),
    DeleteVc,
}

pub(crate) enum Out<P: Platform> {
    Complete { packet: P::Tx, status: Status },
    Indicate { packet: P::Rx },
    Control(Control),
}

impl<P: Platform> Out<P> {
    fn into_event(self, vc: VcId) -> Event<P> {
        match self {
            Out::Complete { packet, status } => Event::SendComplete { vc, packet, status },
            Out::Indicate { packet } => Event::IndicateReceive { vc, packet },
            Out::Control(c) => match c {
                Control::LinkParams(params) => Event::LinkParams { vc, params },
                Control::Dial(line) => Event::Dial { vc, line },
                Control::CancelDial(line) => Event::CancelDial { vc, line },
                Control::Hangup(route) => Event::Hangup { vc, route },
                Control::ActivateVc => Event::ActivateVc { vc },
                Control::MakeCallComplete(status) => Event::MakeCallComplete { vc, status },
                Control::DispatchIncomingCall(line) => Event::DispatchIncomingCall { vc, line },
                Control::CallConnected => Event::DispatchCallConnected { vc },
                Control::IncomingCloseCall(status) => {
                    Event::DispatchIncomingCloseCall { vc, status }
                }
                Control::CloseCallComplete(status) => Event::CloseCallComplete { vc, status },
                Control::DeleteVc => Event::DeleteVc { vc },
            },
        }
    }
}

pub(crate) struct Queued<P: Platform> {
    packet: P::Tx,
    len: u32,
}

/// What a VC operation leaves for after the unlock. Written only through the setters, which
/// keep `any` true once anything is recorded: the data path checks that one flag per round.
#[derive(Default, Debug)]
pub(crate) struct Reports {
    any: bool,
    adapter_quiet: bool,
    binding_quiet: Option<BindingId>,
    release_line: Option<LineId>,
    freed: bool,
    loopback_down: Option<VcId>,
    loopback_up: Option<(VcId, LinkParams)>,
}

impl Reports {
    /// The VC drained for an adapter pause or halt.
    pub(crate) fn set_adapter_quiet(&mut self) {
        self.adapter_quiet = true;
        self.any = true;
    }

    /// The VC has nothing outstanding on this binding any more (its pause or unbind waits).
    pub(crate) fn set_binding_quiet(&mut self, binding: BindingId) {
        self.binding_quiet = Some(binding);
        self.any = true;
    }

    /// The call left this line.
    pub(crate) fn set_release_line(&mut self, line: LineId) {
        self.release_line = Some(line);
        self.any = true;
    }

    /// The slot was freed: move its statistics to the adapter and return it to the pool.
    pub(crate) fn set_freed(&mut self) {
        self.freed = true;
        self.any = true;
    }

    /// Hang up the loopback peer.
    pub(crate) fn set_loopback_down(&mut self, peer: VcId) {
        self.loopback_down = Some(peer);
        self.any = true;
    }

    /// The incoming end of a loopback pair is connected: bring the dialing end up.
    pub(crate) fn set_loopback_up(&mut self, peer: VcId, link: LinkParams) {
        self.loopback_up = Some((peer, link));
        self.any = true;
    }

    pub(crate) fn adapter_quiet(&self) -> bool {
        self.adapter_quiet
    }

    pub(crate) fn binding_quiet(&self) -> Option<BindingId> {
        self.binding_quiet
    }

    pub(crate) fn release_line(&self) -> Option<LineId> {
        self.release_line
    }

    pub(crate) fn freed(&self) -> bool {
        self.freed
    }

    pub(crate) fn loopback_down(&self) -> Option<VcId> {
        self.loopback_down
    }

    pub(crate) fn loopback_up(&self) -> Option<(VcId, LinkParams)> {
        self.loopback_up
    }

    pub(crate) fn merge(&mut self, from: Reports) {
        self.any |= from.any;
        self.adapter_quiet |= from.adapter_quiet;
        self.binding_quiet = self.binding_quiet.or(from.binding_quiet);
        self.release_line = self.release_line.or(from.release_line);
        self.freed |= from.freed;
        self.loopback_down = self.loopback_down.or(from.loopback_down);
        self.loopback_up = self.loopback_up.or(from.loopback_up);
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.any
    }
}

/// The result of one locked step on a VC, for the caller to act on after unlocking.
#[derive(Default, Debug)]
pub(crate) struct Followup {
    /// This entry owns the VC's pump and must flush and come back.
    pub more: bool,
    /// Rejections this entry recorded while another entry owned the pump.
    pub transit: u32,
    pub reports: Reports,
}

enum Output {
    Transmit(Route),
    Fail(Status),
    Hold,
}

pub(crate) struct VcSlot<P: Platform> {
    pub(crate) generation: u16,
    pub(crate) allocated: bool,
    pub(crate) owner: VcOwner,
    pub(crate) phase: VcPhase,
    pub(crate) line: Option<LineId>,
    pub(crate) route: Option<Route>,
    /// `CmCloseCall` arrived; `CloseCallComplete` is owed.
    pub(crate) close_requested: bool,
    /// `CmMakeCall` arrived; `MakeCallComplete` is owed.
    pub(crate) make_call_pending: bool,
    /// The transport lost the session (PADT, timeout, unbind), with the status to report.
    pub(crate) transport_lost: Option<Status>,
    pub(crate) link: LinkParams,
    max_window: u32,
    queue: Ring<Queued<P>>,
    outbox: Ring<Out<P>>,
    rx_queued: u32,
    rx_budget: u32,
    pub(crate) in_flight: u32,
    pumping: bool,
    /// This operation put its event straight into the batch (the pump was free and nothing
    /// older was waiting): it takes the pump and comes back after the flush.
    direct: bool,
    /// Rejections recorded in batches of entries that did not own the pump, not yet flushed.
    rejecting: u32,
    fresh_rejects: u32,
    pub(crate) paused: bool,
    pub(crate) halting: bool,
    pub(crate) lower_paused: bool,
    pub(crate) wait_adapter: bool,
    pub(crate) wait_binding: Option<BindingId>,
    /// `DeleteVc` is out: free the slot once everything is flushed.
    delete_pending: bool,
    pub(crate) stats: VcStats,
}

impl<P: Platform> VcSlot<P> {
    pub(crate) fn new(
        queue_capacity: usize,
        max_window: u32,
        rx_budget: u32,
    ) -> Result<Self, OutOfMemory> {
        let outbox = (max_window as usize)
            .checked_add(rx_budget as usize)
            .and_then(|slots| slots.checked_add(CONTROL_SLOTS))
            .ok_or(OutOfMemory)?;
        Ok(Self {
            generation: 1,
            allocated: false,
            owner: VcOwner::Client,
            phase: VcPhase::Idle,
            line: None,
            route: None,
            close_requested: false,
            make_call_pending: false,
            transport_lost: None,
            link: LinkParams::default(),
            max_window,
            queue: Ring::with_capacity(queue_capacity)?,
            outbox: Ring::with_capacity(outbox)?,
            rx_queued: 0,
            rx_budget,
            in_flight: 0,
            pumping: false,
            direct: false,
            rejecting: 0,
            fresh_rejects: 0,
            paused: false,
            halting: false,
            lower_paused: false,
            wait_adapter: false,
            wait_binding: None,
            delete_pending: false,
            stats: VcStats::default(),
        })
    }

    pub(crate) fn id(&self, index: u32) -> VcId {
        VcId::new(index, self.generation)
    }

    pub(crate) fn is(&self, vc: VcId) -> bool {
        self.allocated && self.generation == vc.generation()
    }

    /// Takes a free slot into use.
    pub(crate) fn allocate(&mut self, owner: VcOwner, paused: bool) {
        debug_assert!(!self.allocated && self.queue.is_empty() && self.outbox.is_empty());
        self.allocated = true;
        self.owner = owner;
        self.phase = VcPhase::Idle;
        self.line = None;
        self.route = None;
        self.close_requested = false;
        self.make_call_pending = false;
        self.transport_lost = None;
        self.link = LinkParams::default();
        self.in_flight = 0;
        self.paused = paused;
        self.halting = false;
        self.lower_paused = false;
        self.wait_adapter = false;
        self.wait_binding = None;
        self.delete_pending = false;
        debug_assert_eq!(self.stats, VcStats::default(), "statistics never retired");
    }

    /// Gives the slot back. A new generation makes every handle to the old VC stale. The slot
    /// keeps its statistics until the adapter retires them and returns the index to the pool
    /// (`AdapterState::retire`), so a walk over the pool never misses them.
    pub(crate) fn free(&mut self) {
        self.allocated = false;
        self.generation = if self.generation >= crate::ids::MAX_GENERATION {
            1
        } else {
            self.generation + 1
        };
    }

    /// The statistics of a freed slot, moved out for the adapter's total.
    pub(crate) fn take_stats(&mut self) -> VcStats {
        debug_assert!(!self.allocated);
        core::mem::take(&mut self.stats)
    }

    /// For a delete of an idle VC whose pump an entry still owns with nothing left to
    /// deliver (it is flushing the VC's last events, the close completion among them): gives
    /// the pump up, so the slot may be freed now; the owner finds it freed when it comes back
    /// and leaves it alone (`Engine::finish`). False, and nothing changed, when anything else
    /// is outstanding or a drain waits for this VC's settle.
    pub(crate) fn release_idle_pump(&mut self) -> bool {
        let idle = self.pumping
            && self.queue.is_empty()
            && self.outbox.is_empty()
            && self.in_flight == 0
            && self.rejecting == 0
            && self.fresh_rejects == 0
            && !self.wait_adapter
            && self.wait_binding.is_none();
        if idle {
            self.pumping = false;
        }
        idle
    }

    /// Nothing outstanding and no owner: the slot may be freed now.
    pub(crate) fn is_quiet(&self) -> bool {
        !self.pumping
            && self.queue.is_empty()
            && self.outbox.is_empty()
            && self.in_flight == 0
            && self.rejecting == 0
            && self.fresh_rejects == 0
    }

    pub(crate) fn become_(&mut self, to: VcPhase) {
        assert!(
            self.phase.may_become(to),
            "illegal VC transition {:?} -> {:?}",
            self.phase,
            to
        );
        self.phase = to;
    }

    /// Records a control event unless the outbox is full (for events a peer can repeat).
    pub(crate) fn try_control(&mut self, control: Control) -> Result<(), ()> {
        self.outbox.push(Out::Control(control)).map_err(|_| ())
    }

    pub(crate) fn control(&mut self, control: Control) {
        // CONTROL_SLOTS bounds the call steps that can pile up before an owner drains them.
        if self.outbox.push(Out::Control(control)).is_err() {
            panic!("VC outbox overflow on {control:?}");
        }
    }

    /// The send window in force: the link's, capped by `MaxSendWindow`; 0 = stop.
    pub(crate) fn window(&self) -> u32 {
        self.link.send_window.min(self.max_window)
    }

    /// The link parameters as NDISWAN should see them now.
    pub(crate) fn reported_link(&self) -> LinkParams {
        let send_window = if self.lower_paused { 0 } else { self.window() };
        LinkParams {
            send_window,
            ..self.link
        }
    }

    /// A send from NDISWAN: queued, or rejected with the status the VC's state calls for.
    pub(crate) fn admit(&mut self, id: VcId, packet: P::Tx, len: u32, batch: &mut Batch<P>) {
        let verdict = if self.halting {
            Err(status::CLOSING)
        } else if self.paused {
            Err(status::PAUSED)
        } else {
            match self.phase {
                VcPhase::Active => Ok(()),
                VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped => Err(status::CLOSING),
                _ => Err(status::NOT_ACCEPTED),
            }
        };
        let rejected = match verdict {
            Ok(()) => {
                // The common case, straight to the batch: what `drain` would do with this
                // packet after queueing it, when nothing is queued before it.
                if self.may_go_direct(batch)
                    && self.queue.is_empty()
                    && let Output::Transmit(route) = self.output()
                {
                    self.in_flight += 1;
                    self.direct = true;
                    batch.push(Event::Transmit {
                        route,
                        tag: TxTag { vc: id, len },
                        packet,
                    });
                    return;
                }
                match self.queue.push(Queued { packet, len }) {
                    Ok(()) => return,
                    Err(back) => (back.packet, status::RESOURCES),
                }
            }
            Err(status) => (packet, status),
        };
        self.reject(id, rejected.0, rejected.1, batch);
    }

    /// Completes a send at once with a failure status (counted as in transit until flushed).
    pub(crate) fn reject(&mut self, id: VcId, packet: P::Tx, status: Status, batch: &mut Batch<P>) {
        self.stats.send_errors += 1;
        self.fresh_rejects += 1;
        batch.push(Event::SendComplete {
            vc: id,
            packet,
            status,
        });
    }

    /// The lower edge is done with a transmitted frame.
    pub(crate) fn transmitted(
        &mut self,
        id: VcId,
        tag: TxTag,
        packet: P::Tx,
        status: Status,
        batch: &mut Batch<P>,
    ) {
        if self.in_flight == 0 {
            // Not a frame the engine sent on this VC: a driver bug. Complete it anyway, so it is
            // not lost, and count it as an error.
            self.reject(id, packet, status::FAILURE, batch);
            return;
        }
        self.in_flight -= 1;
        if status == status::SUCCESS {
            self.stats.wan.sent(tag.len);
        } else {
            self.stats.send_errors += 1;
        }
        if self.may_go_direct(batch) {
            self.direct = true;
            batch.push(Event::SendComplete {
                vc: id,
                packet,
                status,
            });
            return;
        }
        // Room is guaranteed: completions in the outbox never exceed MaxSendWindow (a frame is
        // transmitted only when the outbox is empty, and at most `window` are in flight).
        if self.outbox.push(Out::Complete { packet, status }).is_err() {
            panic!("VC outbox overflow on a send completion");
        }
    }

    /// A received frame for this VC: queued for indication, or dropped and counted.
    pub(crate) fn received(&mut self, id: VcId, packet: P::Rx, len: u32, batch: &mut Batch<P>) {
        let status = if self.phase != VcPhase::Active || self.paused || self.halting {
            status::NOT_ACCEPTED
        } else if self.rx_queued >= self.rx_budget {
            self.stats.wan.buffer_overrun_errors += 1;
            status::RESOURCES
        } else if self.may_go_direct(batch) {
            self.stats.wan.received(len);
            self.direct = true;
            batch.push(Event::IndicateReceive { vc: id, packet });
            return;
        } else {
            match self.outbox.push(Out::Indicate { packet }) {
                Ok(()) => {
                    self.rx_queued += 1;
                    self.stats.wan.received(len);
                    return;
                }
                Err(Out::Indicate { packet }) => {
                    self.stats.wan.buffer_overrun_errors += 1;
                    self.stats.receive_discards += 1;
                    batch.push(Event::ReceiveDropped {
                        packet,
                        status: status::RESOURCES,
                    });
                    return;
                }
                Err(_) => unreachable!("the outbox gives back what it was given"),
            }
        };
        self.stats.receive_discards += 1;
        batch.push(Event::ReceiveDropped { packet, status });
    }

    /// Whether an event may skip the outbox: no entry owns the pump (this one takes it in
    /// `after_op`, in the same critical section), nothing older waits, and the batch has room.
    /// Then the event is next in the VC's order and this entry delivers it.
    fn may_go_direct(&self, batch: &Batch<P>) -> bool {
        !self.pumping && self.outbox.is_empty() && batch.room() > 0
    }

    /// After an operation under the lock: become the pump owner if there is none and drain.
    pub(crate) fn after_op(&mut self, id: VcId, batch: &mut Batch<P>) -> Followup {
        let fresh = core::mem::take(&mut self.fresh_rejects);
        let direct = core::mem::take(&mut self.direct);
        if self.pumping {
            debug_assert!(
                !direct,
                "an event went direct while another entry owned the pump"
            );
            self.rejecting += fresh;
            return Followup {
                more: false,
                transit: fresh,
                reports: Reports::default(),
            };
        }
        self.pumping = true;
        self.owner_round(id, batch, fresh > 0 || direct)
    }

    /// The pump owner's next round, after it flushed the previous one.
    pub(crate) fn pump_round(
        &mut self,
        id: VcId,
        batch: &mut Batch<P>,
        settle_transit: u32,
    ) -> Followup {
        debug_assert!(self.pumping);
        self.rejecting -= settle_transit;
        let fresh = core::mem::take(&mut self.fresh_rejects);
        self.owner_round(id, batch, fresh > 0)
    }

    /// A round of the pump's owner: drain, and give the pump up when there is nothing left to
    /// come back for. `pushed`: this entry's batch already holds events of the VC.
    #[inline]
    fn owner_round(&mut self, id: VcId, batch: &mut Batch<P>, pushed: bool) -> Followup {
        let mut followup = Followup::default();
        followup.more = self.drain(id, batch, pushed, &mut followup.reports);
        if !followup.more {
            self.pumping = false;
        }
        followup
    }

    /// A non-owner whose rejections are now flushed says so, and takes over the pump if free.
    pub(crate) fn settle_transit(
        &mut self,
        id: VcId,
        transit: u32,
        batch: &mut Batch<P>,
    ) -> Followup {
        self.rejecting -= transit;
        self.after_op(id, batch)
    }

    fn output(&self) -> Output {
        if self.halting {
            return Output::Fail(status::CLOSING);
        }
        match self.phase {
            VcPhase::Active => {}
            VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped => {
                return Output::Fail(status::CLOSING);
            }
            _ => return Output::Fail(status::NOT_ACCEPTED),
        }
        if self.paused {
            return Output::Fail(status::PAUSED);
        }
        match self.route {
            Some(route) if !self.lower_paused && self.in_flight < self.window() => {
                Output::Transmit(route)
            }
            _ => Output::Hold,
        }
    }

    /// One round of the owner: outbox first, then the queue as far as the window allows; with
    /// nothing to move, the checks that need everything flushed. Returns whether to come back.
    #[inline]
    fn drain(
        &mut self,
        id: VcId,
        batch: &mut Batch<P>,
        pushed: bool,
        reports: &mut Reports,
    ) -> bool {
        if self.outbox.is_empty() && self.queue.is_empty() {
            // Nothing waits: the usual round of the data path, kept short.
            return pushed || self.settle(id, batch, reports);
        }
        self.move_out(id, batch, pushed, reports)
    }

    /// `drain` when the outbox or the queue holds something. Out of line, so the short round
    /// stays small enough to inline.
    #[inline(never)]
    fn move_out(
        &mut self,
        id: VcId,
        batch: &mut Batch<P>,
        mut pushed: bool,
        reports: &mut Reports,
    ) -> bool {
        while batch.room() > 0 {
            let Some(out) = self.outbox.pop() else { break };
            if let Out::Indicate { .. } = out {
                self.rx_queued -= 1;
            }
            batch.push(out.into_event(id));
            pushed = true;
        }
        if !self.outbox.is_empty() {
            return true;
        }
        while batch.room() > 0 && !self.queue.is_empty() {
            match self.output() {
                Output::Hold => break,
                Output::Fail(status) => {
                    let Some(q) = self.queue.pop() else { break };
                    self.stats.send_errors += 1;
                    batch.push(Event::SendComplete {
                        vc: id,
                        packet: q.packet,
                        status,
                    });
                }
                Output::Transmit(route) => {
                    let Some(q) = self.queue.pop() else { break };
                    self.in_flight += 1;
                    batch.push(Event::Transmit {
                        route,
                        tag: TxTag { vc: id, len: q.len },
                        packet: q.packet,
                    });
                }
            }
            pushed = true;
        }
        pushed || self.settle(id, batch, reports)
    }

    /// Everything this VC produced is flushed: advance what waits for that. Out of line, so
    /// the rounds that only move events stay small.
    #[inline(never)]
    fn settle(&mut self, id: VcId, batch: &mut Batch<P>, reports: &mut Reports) -> bool {
        if self.rejecting != 0 || self.in_flight != 0 {
            return false;
        }
        if let Some(binding) = self.wait_binding.take() {
            reports.set_binding_quiet(binding);
        }
        if !self.queue.is_empty() {
            // Held by a closed window: not drained, but nothing is on the wire either.
            return false;
        }
        if core::mem::take(&mut self.wait_adapter) {
            reports.set_adapter_quiet();
        }
        if self.phase == VcPhase::Closing {
            self.become_(VcPhase::Deactivating);
            batch.push(Event::DeactivateVc { vc: id });
            return true;
        }
        if self.delete_pending {
            self.free();
            reports.set_freed();
        }
        false
    }

    /// The call is over (after deactivation, or before activation): complete what the client
    /// is owed, in NDIS order, and go to Idle, or to Dropped if the remote end hung up a
    /// connected call (the client still has to close it).
    pub(crate) fn conclude(&mut self, reports: &mut Reports) {
        let lost = self.transport_lost.unwrap_or(status::CLOSING);
        if core::mem::take(&mut self.make_call_pending) {
            // A make call that ends here is not active, so it fails even when the peer hung up
            // cleanly (RemoteHangup's SUCCESS is a close status). WDK "NdisMCmMakeCallComplete":
            // SUCCESS only once the VC is activated and ready for data; after a failure status
            // the client tears down the VC it created for the call.
            let status = if self.close_requested {
                status::REQUEST_ABORTED
            } else if status::is_failure(lost) {
                lost
            } else {
                status::FAILURE
            };
            self.control(Control::MakeCallComplete(status));
            if core::mem::take(&mut self.close_requested) {
                self.control(Control::CloseCallComplete(status::SUCCESS));
            }
            self.go_idle(reports);
        } else if core::mem::take(&mut self.close_requested) {
            self.control(Control::CloseCallComplete(status::SUCCESS));
            self.go_idle(reports);
        } else {
            self.control(Control::IncomingCloseCall(lost));
            self.become_(VcPhase::Dropped);
        }
    }

    /// To Idle: the line is released, and a VC the call manager created is deleted.
    pub(crate) fn go_idle(&mut self, reports: &mut Reports) {
        self.become_(VcPhase::Idle);
        self.route = None;
        self.transport_lost = None;
        self.link = LinkParams::default();
        if let Some(line) = self.line.take() {
            reports.set_release_line(line);
        }
        if self.owner == VcOwner::CallManager {
            self.control(Control::DeleteVc);
            self.delete_pending = true;
        }
    }
}
