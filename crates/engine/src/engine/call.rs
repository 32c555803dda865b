//! The call manager: the address family, lines, VC creation and deletion, and the call steps
//! NDIS/TAPI and the transport drive. Every step that completes later returns `PENDING` and
//! delivers exactly one completion event.

use super::vc::{Control, Followup, Reports, VcOwner};
use super::{AdapterPhase, Engine};
use crate::batch::{Egress, LinkParams};
use crate::ids::{LineId, Route, VcId};
use crate::platform::Platform;
use crate::session::InsertError;
use crate::state::{LinePhase, VcPhase};
use crate::status::{self, Status};
use crate::sync::Entry;

/// Why the transport lost a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownCause {
    /// The peer sent PADT (RFC 2516 section 5.5) or the loopback peer hung up.
    RemoteHangup,
    /// The session stopped answering (LCP echo timeout, reported by the PPP side or the driver).
    Timeout,
    /// The lower binding is going away.
    LowerUnbind,
    /// The driver had no memory for the call's discovery: a make call fails with
    /// NDIS_STATUS_RESOURCES, as for any failed allocation.
    Resources,
}

impl DownCause {
    /// The status the call's close reports; a make call the loss ends fails with it, or with
    /// `FAILURE` for a clean `RemoteHangup` (see `VcSlot::conclude`).
    pub fn status(self) -> Status {
        match self {
            DownCause::RemoteHangup => status::SUCCESS,
            DownCause::Timeout => status::FAILURE,
            DownCause::LowerUnbind => status::CLOSING,
            DownCause::Resources => status::RESOURCES,
        }
    }
}

/// Link parameters of a loopback pair: 100 Mbit/s each way, in bytes per second.
const LOOPBACK_SPEED: u32 = 12_500_000;

impl<P: Platform> Engine<P> {
    /// `ProtocolCmOpenAf` for the TAPI-proxy address family.
    pub fn open_af(&self) -> Status {
        let mut entry = Entry::<P>::new();
        let mut af = entry.ctx().lock(&self.af);
        if af.open {
            return status::INVALID_STATE;
        }
        af.open = true;
        status::SUCCESS
    }

    /// `ProtocolCmCloseAf`: refused while any line has a call.
    pub fn close_af(&self) -> Status {
        let mut entry = Entry::<P>::new();
        let mut af = entry.ctx().lock(&self.af);
        let (af, mut cx) = af.split();
        for line in self.lines.iter() {
            if cx.reborrow().lock(line).vc.is_some() {
                return status::INVALID_STATE;
            }
        }
        af.open = false;
        status::SUCCESS
    }

    fn af_open(&self, entry: &mut Entry<P>) -> bool {
        entry.ctx().lock(&self.af).open
    }

    /// `ProtocolCmRegisterSap` for a line: incoming calls may ring on it.
    pub fn register_sap(&self, line: LineId) -> Status {
        self.set_listening(line, true)
    }

    /// `ProtocolCmDeregisterSap` for a line.
    pub fn deregister_sap(&self, line: LineId) -> Status {
        self.set_listening(line, false)
    }

    fn set_listening(&self, line: LineId, listening: bool) -> Status {
        let mut entry = Entry::<P>::new();
        let Some(lock) = self.lines.get(line.0 as usize) else {
            return status::INVALID_PARAMETER;
        };
        entry.ctx().lock(lock).listening = listening;
        status::SUCCESS
    }

    /// Takes a VC slot from the pool.
    fn allocate_vc(&self, entry: &mut Entry<P>, owner: VcOwner) -> Result<VcId, Status> {
        let mut adapter = entry.ctx().lock(&self.adapter);
        let (adapter, cx) = adapter.split();
        if matches!(adapter.phase, AdapterPhase::Halting | AdapterPhase::Halted) {
            return Err(status::CLOSING);
        }
        let Some(index) = adapter.free.pop() else {
            return Err(status::RESOURCES);
        };
        let paused = adapter.phase != AdapterPhase::Running;
        let mut slot = cx.lock(&self.vcs[index as usize]);
        slot.allocate(owner, paused);
        Ok(slot.id(index))
    }

    /// Gives back a slot taken by `allocate_vc` that never carried a call.
    fn release_unused_vc(&self, entry: &mut Entry<P>, vc: VcId) {
        let mut adapter = entry.ctx().lock(&self.adapter);
        let (adapter, cx) = adapter.split();
        let mut slot = cx.lock(&self.vcs[vc.index() as usize]);
        if slot.is(vc) {
            slot.free();
            adapter.retire(vc.index(), &mut slot);
        }
    }

    /// `ProtocolCoCreateVc` (the client creates a VC for an outgoing call).
    pub fn create_vc(&self) -> Result<VcId, Status> {
        let mut entry = Entry::<P>::new();
        self.allocate_vc(&mut entry, VcOwner::Client)
    }

    /// `ProtocolCoDeleteVc`: only an idle VC with nothing outstanding. NDPROXY may delete the
    /// VC the moment its close completes, while the entry that delivered the completion still
    /// owns the VC's pump (from inside the completion, or from another processor): that pump
    /// has nothing left to deliver, so the delete takes it back and succeeds, and the slot is
    /// free at once for the next `create_vc`.
    pub fn delete_vc(&self, vc: VcId) -> Status {
        let mut entry = Entry::<P>::new();
        let mut adapter = entry.ctx().lock(&self.adapter);
        let (adapter, cx) = adapter.split();
        let Some(lock) = self.vcs.get(vc.index() as usize) else {
            return status::INVALID_PARAMETER;
        };
        let mut slot = cx.lock(lock);
        if !slot.is(vc) {
            return status::INVALID_PARAMETER;
        }
        if slot.phase != VcPhase::Idle || slot.owner != VcOwner::Client {
            return status::INVALID_STATE;
        }
        if !slot.is_quiet() && !slot.release_idle_pump() {
            return status::INVALID_STATE;
        }
        slot.free();
        adapter.retire(vc.index(), &mut slot);
        status::SUCCESS
    }

    /// The phase of a line, derived from its call.
    pub fn line_phase(&self, line: LineId) -> Option<LinePhase> {
        let mut entry = Entry::<P>::new();
        let lock = self.lines.get(line.0 as usize)?;
        let mut line = entry.ctx().lock(lock);
        let (line, cx) = line.split();
        let Some(vc) = line.vc else {
            return Some(LinePhase::Idle);
        };
        let slot = cx.lock(&self.vcs[vc.index() as usize]);
        if !slot.is(vc) {
            return Some(LinePhase::Idle);
        }
        Some(LinePhase::of_call(
            slot.phase,
            slot.owner == VcOwner::Client,
        ))
    }

    /// `ProtocolCmMakeCall` on `line` with `vc`: the line must be free. Returns `PENDING`; the
    /// transport gets [`Event::Dial`](crate::batch::Event::Dial), and the call completes with
    /// exactly one `MakeCallComplete`.
    pub fn make_call(&self, vc: VcId, line: LineId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        if !self.af_open(&mut entry) {
            return status::INVALID_STATE;
        }
        let Some(line_lock) = self.lines.get(line.0 as usize) else {
            return status::INVALID_PARAMETER;
        };
        let step = {
            let mut line_guard = entry.ctx().lock(line_lock);
            let (line_state, cx) = line_guard.split();
            if line_state.vc.is_some() {
                return status::INVALID_STATE;
            }
            let step = self.vc_step(cx, vc, |slot, _, _| {
                if slot.phase != VcPhase::Idle || slot.owner != VcOwner::Client {
                    return status::INVALID_STATE;
                }
                slot.become_(VcPhase::Dialing);
                slot.line = Some(line);
                slot.make_call_pending = true;
                slot.control(Control::Dial(line));
                status::PENDING
            });
            if let Some((status::PENDING, _)) = step {
                line_state.vc = Some(vc);
            }
            step
        };
        self.finish_step(&mut entry, sink, vc, step, status::INVALID_PARAMETER)
    }

    /// Flushes and follows up a step; its result, or `stale` for a stale handle.
    fn finish_step(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        step: Option<(Status, Followup)>,
        stale: Status,
    ) -> Status {
        match step {
            Some((result, followup)) => {
                self.finish(entry, sink, vc, followup);
                result
            }
            None => {
                entry.flush(sink);
                stale
            }
        }
    }

    /// The transport established the session of an outgoing call (PADS received): the VC is
    /// found by its session from now on and gets activated ([`Event::ActivateVc`](crate::batch::Event::ActivateVc)).
    /// Anything but `PENDING` means the engine refused it and the transport should hang up.
    pub fn session_up(
        &self,
        vc: VcId,
        route: Route,
        link: LinkParams,
        sink: &mut impl Egress<P>,
    ) -> Status {
        let mut entry = Entry::<P>::new();
        self.session_up_in(&mut entry, sink, vc, route, link)
    }

    pub(super) fn session_up_in(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        route: Route,
        link: LinkParams,
    ) -> Status {
        let step = self.vc_step(entry.ctx(), vc, |slot, id, vcx| {
            if slot.phase != VcPhase::Dialing {
                return status::INVALID_STATE;
            }
            if let Route::Pppoe(key) = route {
                match self.sessions.insert(vcx.reborrow(), key, id) {
                    Ok(()) => {}
                    Err(InsertError::Duplicate) => return status::INVALID_PARAMETER,
                    Err(InsertError::Full) => return status::RESOURCES,
                }
            }
            slot.route = Some(route);
            slot.link = link;
            slot.become_(VcPhase::Activating);
            slot.control(Control::ActivateVc);
            status::PENDING
        });
        self.finish_step(entry, sink, vc, step, status::INVALID_PARAMETER)
    }

    /// An incoming call (the access concentrator answered a PADR, or a loopback peer dials) on
    /// a listening, free line: a VC is created and [`Event::DispatchIncomingCall`](crate::batch::Event::DispatchIncomingCall)
    /// goes out. The answer comes back through [`Engine::incoming_call_complete`].
    pub fn incoming_call(
        &self,
        line: LineId,
        route: Route,
        link: LinkParams,
        sink: &mut impl Egress<P>,
    ) -> Result<VcId, Status> {
        let mut entry = Entry::<P>::new();
        if !self.af_open(&mut entry) {
            return Err(status::INVALID_STATE);
        }
        let Some(line_lock) = self.lines.get(line.0 as usize) else {
            return Err(status::INVALID_PARAMETER);
        };
        let vc = self.allocate_vc(&mut entry, VcOwner::CallManager)?;
        let step = {
            let mut line_guard = entry.ctx().lock(line_lock);
            let (line_state, cx) = line_guard.split();
            if line_state.vc.is_some() || !line_state.listening {
                None
            } else {
                let step = self.vc_step(cx, vc, |slot, id, vcx| {
                    if let Route::Pppoe(key) = route {
                        match self.sessions.insert(vcx.reborrow(), key, id) {
                            Ok(()) => {}
                            Err(InsertError::Duplicate) => return status::INVALID_PARAMETER,
                            Err(InsertError::Full) => return status::RESOURCES,
                        }
                    }
                    slot.route = Some(route);
                    slot.link = link;
                    slot.line = Some(line);
                    slot.become_(VcPhase::Offering);
                    slot.control(Control::DispatchIncomingCall(line));
                    status::PENDING
                });
                if let Some((status::PENDING, _)) = step {
                    line_state.vc = Some(vc);
                }
                step
            }
        };
        match step {
            Some((status::PENDING, followup)) => {
                self.finish(&mut entry, sink, vc, followup);
                Ok(vc)
            }
            Some((refused, followup)) => {
                self.finish(&mut entry, sink, vc, followup);
                self.release_unused_vc(&mut entry, vc);
                Err(refused)
            }
            None => {
                self.release_unused_vc(&mut entry, vc);
                Err(status::INVALID_STATE)
            }
        }
    }

    /// `ProtocolCmIncomingCallComplete`: the client accepted (`SUCCESS`) or refused the call.
    pub fn incoming_call_complete(
        &self,
        vc: VcId,
        accept: Status,
        sink: &mut impl Egress<P>,
    ) -> Status {
        let mut entry = Entry::<P>::new();
        let step = self.vc_step(entry.ctx(), vc, |slot, id, vcx| {
            if slot.phase != VcPhase::Offering {
                return (status::INVALID_STATE, Reports::default());
            }
            let mut reports = Reports::default();
            if accept != status::SUCCESS {
                Self::end_transport(slot, id, vcx, &self.sessions, &mut reports);
                slot.go_idle(&mut reports);
            } else if slot.transport_lost.is_some() {
                slot.conclude(&mut reports);
            } else {
                slot.become_(VcPhase::Activating);
                slot.control(Control::ActivateVc);
            }
            (status::SUCCESS, reports)
        });
        self.finish_with_reports(&mut entry, sink, vc, step)
    }

    fn finish_with_reports(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        step: Option<((Status, Reports), Followup)>,
    ) -> Status {
        match step {
            Some(((result, reports), mut followup)) => {
                followup.reports.merge(reports);
                self.finish(entry, sink, vc, followup);
                result
            }
            None => {
                entry.flush(sink);
                status::INVALID_PARAMETER
            }
        }
    }

    /// Tells the transport the session is over, unless it already knows, and takes the
    /// session out of the index so no more frames reach the VC.
    pub(super) fn end_transport(
        slot: &mut super::vc::VcSlot<P>,
        vc: VcId,
        vcx: &mut crate::sync::Ctx<'_, crate::lock_order::Vc, P>,
        sessions: &crate::session::SessionIndex<P>,
        reports: &mut Reports,
    ) {
        let Some(route) = slot.route else { return };
        if let Route::Pppoe(key) = route {
            sessions.remove(vcx.reborrow(), &key, vc);
        }
        if slot.transport_lost.is_some() {
            return;
        }
        match route {
            Route::Pppoe(_) => slot.control(Control::Hangup(route)),
            Route::Loopback(peer) => reports.set_loopback_down(peer),
        }
    }

    /// Stops the discovery of a call being dialed (or tells the loopback peer).
    pub(super) fn cancel_dial(slot: &mut super::vc::VcSlot<P>, reports: &mut Reports) {
        match (slot.route, slot.line) {
            (Some(Route::Loopback(peer)), _) => reports.set_loopback_down(peer),
            (_, Some(line)) => slot.control(Control::CancelDial(line)),
            _ => {}
        }
    }

    /// `NdisMCmActivateVc` returned (or `ProtocolCmActivateVcComplete` came) with `result`.
    pub fn activate_vc_complete(
        &self,
        vc: VcId,
        result: Status,
        sink: &mut impl Egress<P>,
    ) -> Status {
        let mut entry = Entry::<P>::new();
        let step = self.vc_step(entry.ctx(), vc, |slot, id, vcx| {
            let mut reports = Reports::default();
            if slot.phase != VcPhase::Activating {
                return (status::INVALID_STATE, reports);
            }
            if result != status::SUCCESS {
                Self::end_transport(slot, id, vcx, &self.sessions, &mut reports);
                slot.transport_lost.get_or_insert(result);
                slot.conclude(&mut reports);
            } else if slot.close_requested || slot.transport_lost.is_some() {
                Self::end_transport(slot, id, vcx, &self.sessions, &mut reports);
                slot.become_(VcPhase::Closing);
            } else {
                slot.become_(VcPhase::Active);
                if core::mem::take(&mut slot.make_call_pending) {
                    slot.control(Control::MakeCallComplete(status::SUCCESS));
                } else {
                    slot.control(Control::CallConnected);
                    if let Some(Route::Loopback(peer)) = slot.route {
                        reports.set_loopback_up(peer, slot.link);
                    }
                }
                slot.control(Control::LinkParams(slot.reported_link()));
            }
            (status::SUCCESS, reports)
        });
        self.finish_with_reports(&mut entry, sink, vc, step)
    }

    /// `ProtocolCmCloseCall`. Returns `PENDING`: exactly one `CloseCallComplete` follows (after
    /// the queued sends completed with `CLOSING` and the VC was deactivated), preceded by a
    /// failing `MakeCallComplete` if the call was still being made.
    pub fn close_call(&self, vc: VcId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        let step = self.vc_step(entry.ctx(), vc, |slot, id, vcx| {
            let mut reports = Reports::default();
            if slot.close_requested {
                return (status::INVALID_STATE, reports);
            }
            match slot.phase {
                VcPhase::Idle | VcPhase::Offering => return (status::INVALID_STATE, reports),
                VcPhase::Dialing => {
                    Self::cancel_dial(slot, &mut reports);
                    slot.close_requested = true;
                    slot.conclude(&mut reports);
                }
                VcPhase::Activating | VcPhase::Closing | VcPhase::Deactivating => {
                    slot.close_requested = true
                }
                VcPhase::Active => {
                    slot.close_requested = true;
                    Self::end_transport(slot, id, vcx, &self.sessions, &mut reports);
                    slot.become_(VcPhase::Closing);
                }
                VcPhase::Dropped => {
                    slot.close_requested = true;
                    slot.conclude(&mut reports);
                }
            }
            (status::PENDING, reports)
        });
        self.finish_with_reports(&mut entry, sink, vc, step)
    }

    /// `NdisMCmDeactivateVc` returned (or `ProtocolCmDeactivateVcComplete` came): the call
    /// concludes (close completion, failed make call, or an incoming close for the client).
    pub fn deactivate_vc_complete(&self, vc: VcId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        let step = self.vc_step(entry.ctx(), vc, |slot, _, _| {
            let mut reports = Reports::default();
            if slot.phase != VcPhase::Deactivating {
                return (status::INVALID_STATE, reports);
            }
            slot.conclude(&mut reports);
            (status::SUCCESS, reports)
        });
        self.finish_with_reports(&mut entry, sink, vc, step)
    }

    /// The transport lost the session (PADT, timeout, unbind): a call being made fails, a
    /// connected call closes (queued sends complete with `CLOSING`) and the client is told.
    pub fn session_down(&self, vc: VcId, cause: DownCause, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        self.session_down_in(
            &mut entry,
            sink,
            vc,
            cause.status(),
            cause == DownCause::Timeout,
        )
    }

    pub(super) fn session_down_in(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        reason: Status,
        timeout: bool,
    ) -> Status {
        let step = self.vc_step(entry.ctx(), vc, |slot, id, vcx| {
            let mut reports = Reports::default();
            if slot.transport_lost.is_some() || !slot.phase.has_call() {
                return (status::INVALID_STATE, reports);
            }
            if timeout {
                slot.stats.wan.timeout_errors += 1;
            }
            match slot.phase {
                VcPhase::Dialing | VcPhase::Offering | VcPhase::Activating | VcPhase::Active => {
                    // Lost first: the transport already knows, so no hangup goes back to it.
                    slot.transport_lost = Some(reason);
                    Self::end_transport(slot, id, vcx, &self.sessions, &mut reports);
                    match slot.phase {
                        VcPhase::Dialing => slot.conclude(&mut reports),
                        VcPhase::Active => slot.become_(VcPhase::Closing),
                        _ => {}
                    }
                }
                VcPhase::Idle | VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped => {
                    return (status::INVALID_STATE, reports);
                }
            }
            (status::SUCCESS, reports)
        });
        self.finish_with_reports(entry, sink, vc, step)
    }

    /// A loopback call: `vc` on `line` dials `peer_line` inside the driver. Both lines are
    /// checked and claimed in one step (taken in id order, so two lines dialing each other at
    /// once cannot both win); the peer line rings with an incoming call. When the peer is
    /// connected, `vc` is activated and its make call completes. Returns `PENDING` or why not.
    pub fn dial_loopback(
        &self,
        vc: VcId,
        line: LineId,
        peer_line: LineId,
        sink: &mut impl Egress<P>,
    ) -> Status {
        let mut entry = Entry::<P>::new();
        if !self.af_open(&mut entry) {
            return status::INVALID_STATE;
        }
        let (Some(a_lock), Some(b_lock)) = (
            self.lines.get(line.0 as usize),
            self.lines.get(peer_line.0 as usize),
        ) else {
            return status::INVALID_PARAMETER;
        };
        let Some(a_vc_lock) = self.vcs.get(vc.index() as usize) else {
            return status::INVALID_PARAMETER;
        };
        let peer = match self.allocate_vc(&mut entry, VcOwner::CallManager) {
            Ok(peer) => peer,
            Err(status) => return status,
        };
        let outcome = {
            let Some(mut lines) = entry.ctx().lock_pair(a_lock, b_lock) else {
                self.release_unused_vc(&mut entry, peer);
                return status::INVALID_PARAMETER;
            };
            let ((a_line, b_line), cx) = lines.split();
            if a_line.vc.is_some() || b_line.vc.is_some() || !b_line.listening {
                None
            } else {
                let Some(mut vcs) = cx.lock_pair(a_vc_lock, &self.vcs[peer.index() as usize])
                else {
                    unreachable!("a freshly allocated VC is not the dialing VC")
                };
                let ((a, b), mut vcx) = vcs.split();
                if !a.is(vc)
                    || a.phase != VcPhase::Idle
                    || a.owner != VcOwner::Client
                    || !b.is(peer)
                {
                    None
                } else {
                    let link = LinkParams {
                        transmit_speed: LOOPBACK_SPEED,
                        receive_speed: LOOPBACK_SPEED,
                        send_window: self.config.max_send_window,
                    };
                    a.become_(VcPhase::Dialing);
                    a.line = Some(line);
                    a.route = Some(Route::Loopback(peer));
                    a.make_call_pending = true;
                    b.become_(VcPhase::Offering);
                    b.line = Some(peer_line);
                    b.route = Some(Route::Loopback(vc));
                    b.link = link;
                    b.control(Control::DispatchIncomingCall(peer_line));
                    a_line.vc = Some(vc);
                    b_line.vc = Some(peer);
                    let first = a.after_op(vc, vcx.batch());
                    let second = b.after_op(peer, vcx.batch());
                    Some((first, second))
                }
            }
        };
        match outcome {
            Some((first, second)) => {
                self.finish(&mut entry, sink, vc, first);
                self.finish(&mut entry, sink, peer, second);
                status::PENDING
            }
            None => {
                self.release_unused_vc(&mut entry, peer);
                status::INVALID_STATE
            }
        }
    }
}
