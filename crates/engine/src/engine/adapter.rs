//! The adapter and the lower bindings: pause, restart, halt, bind, unbind. Each walks the VC
//! pool one VC at a time (never holding two VC locks), marks what must drain, and completes
//! when the last marked VC reports that it drained, whichever processor that happens on.

use super::vc::{Control, VcSlot};
use super::{AdapterPhase, AdapterState, BindingPhase, BindingState, Engine};
use crate::batch::{Batch, Egress, Event};
use crate::ids::{BindingId, Route};
use crate::platform::Platform;
use crate::state::VcPhase;
use crate::status::{self, Status};
use crate::sync::Entry;

impl<P: Platform> Engine<P> {
    pub(super) fn quiesced(
        adapter: &mut crate::sync::Guard<'_, crate::lock_order::Adapter, AdapterState, P>,
    ) {
        let (state, mut cx) = adapter.split();
        match state.phase {
            AdapterPhase::Pausing => {
                state.phase = AdapterPhase::Paused;
                cx.batch().push(Event::PauseComplete);
            }
            AdapterPhase::Halting => {
                state.phase = AdapterPhase::Halted;
                cx.batch().push(Event::HaltReady);
            }
            AdapterPhase::Running | AdapterPhase::Paused | AdapterPhase::Halted => {}
        }
    }

    pub(super) fn binding_quiesced(
        binding: BindingId,
        state: &mut BindingState,
        batch: &mut Batch<P>,
    ) {
        match state.phase {
            BindingPhase::Pausing => {
                state.phase = BindingPhase::Paused;
                batch.push(Event::LowerPauseComplete { binding });
            }
            BindingPhase::Unbinding => {
                state.phase = BindingPhase::Unbound;
                batch.push(Event::LowerUnbindReady { binding });
            }
            BindingPhase::Unbound | BindingPhase::Running | BindingPhase::Paused => {}
        }
    }

    /// Starts draining the adapter for `target` (Pausing or Halting); `None` if it cannot.
    fn begin_quiesce(
        &self,
        entry: &mut Entry<P>,
        from: &[AdapterPhase],
        target: AdapterPhase,
    ) -> bool {
        let mut adapter = entry.ctx().lock(&self.adapter);
        if !from.contains(&adapter.phase) {
            return false;
        }
        adapter.phase = target;
        adapter.quiesce.start();
        true
    }

    fn end_walk(&self, entry: &mut Entry<P>, sink: &mut impl Egress<P>, registered: i64) {
        {
            let mut adapter = entry.ctx().lock(&self.adapter);
            if adapter.quiesce.walk_finished(registered) {
                Self::quiesced(&mut adapter);
            }
        }
        entry.flush(sink);
    }

    /// `MiniportPause`: new sends complete with `PAUSED`, so do queued ones; in-flight ones are
    /// awaited; receives are dropped. Returns `PENDING`: exactly one
    /// [`Event::PauseComplete`] follows once nothing is outstanding (maybe before this returns).
    pub fn pause(&self, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        if !self.begin_quiesce(&mut entry, &[AdapterPhase::Running], AdapterPhase::Pausing) {
            return status::INVALID_STATE;
        }
        let registered = self.walk_vcs(&mut entry, sink, |slot, _, _, _, _| {
            slot.paused = true;
            slot.wait_adapter = true;
            true
        });
        self.end_walk(&mut entry, sink, registered);
        status::PENDING
    }

    /// `MiniportRestart`.
    pub fn restart(&self, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        {
            let mut adapter = entry.ctx().lock(&self.adapter);
            if adapter.phase != AdapterPhase::Paused {
                return status::INVALID_STATE;
            }
            adapter.phase = AdapterPhase::Running;
        }
        self.walk_vcs(&mut entry, sink, |slot, _, _, _, _| {
            slot.paused = false;
            false
        });
        status::SUCCESS
    }

    /// `MiniportHaltEx`: every call goes down (queued and new sends complete with `CLOSING`,
    /// the transport hangs up). Returns `PENDING`: exactly one [`Event::HaltReady`] follows
    /// once no send is outstanding; the driver waits for it before returning from halt.
    pub fn halt(&self, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        let from = [
            AdapterPhase::Running,
            AdapterPhase::Pausing,
            AdapterPhase::Paused,
        ];
        if !self.begin_quiesce(&mut entry, &from, AdapterPhase::Halting) {
            return status::INVALID_STATE;
        }
        let registered = self.walk_vcs(&mut entry, sink, |slot, vc, vcx, sessions, reports| {
            slot.halting = true;
            slot.wait_adapter = true;
            if slot.transport_lost.is_some() {
                return true;
            }
            match slot.phase {
                VcPhase::Dialing => {
                    Self::cancel_dial(slot, reports);
                    slot.transport_lost = Some(status::CLOSING);
                    slot.conclude(reports);
                }
                VcPhase::Offering | VcPhase::Activating => {
                    Self::end_transport(slot, vc, vcx, sessions, reports);
                    slot.transport_lost = Some(status::CLOSING);
                }
                VcPhase::Active => {
                    Self::end_transport(slot, vc, vcx, sessions, reports);
                    slot.transport_lost = Some(status::CLOSING);
                    slot.become_(VcPhase::Closing);
                }
                VcPhase::Idle | VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped => {}
            }
            true
        });
        self.end_walk(&mut entry, sink, registered);
        status::PENDING
    }

    /// A lower binding is open and running (`ProtocolBindAdapterEx` done, or restarted after
    /// a pause: then the VCs on it resume transmitting and NDISWAN gets their window back).
    pub fn bind(&self, binding: BindingId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        let Some(lock) = self.bindings.get(binding.0 as usize) else {
            return status::INVALID_PARAMETER;
        };
        let resumed = {
            let mut state = entry.ctx().lock(lock);
            let resumed = match state.phase {
                BindingPhase::Unbound => false,
                BindingPhase::Paused => true,
                _ => return status::INVALID_STATE,
            };
            state.phase = BindingPhase::Running;
            resumed
        };
        if resumed {
            self.walk_vcs(&mut entry, sink, |slot, _, _, _, _| {
                resume_lower(slot, binding)
            });
        }
        status::SUCCESS
    }

    fn begin_binding_quiesce(
        &self,
        entry: &mut Entry<P>,
        binding: BindingId,
        target: BindingPhase,
    ) -> bool {
        let Some(lock) = self.bindings.get(binding.0 as usize) else {
            return false;
        };
        let mut state = entry.ctx().lock(lock);
        let allowed = match target {
            BindingPhase::Pausing => state.phase == BindingPhase::Running,
            BindingPhase::Unbinding => matches!(
                state.phase,
                BindingPhase::Running | BindingPhase::Paused | BindingPhase::Pausing
            ),
            _ => false,
        };
        if allowed {
            state.phase = target;
            state.quiesce.start();
        }
        allowed
    }

    fn end_binding_walk(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        binding: BindingId,
        registered: i64,
    ) {
        {
            let mut state = entry.ctx().lock(&self.bindings[binding.0 as usize]);
            let (state, mut cx) = state.split();
            if state.quiesce.walk_finished(registered) {
                Self::binding_quiesced(binding, state, cx.batch());
            }
        }
        entry.flush(sink);
    }

    /// The lower binding pauses (`NetEventPause`): VCs on it stop transmitting and hold their
    /// sends (NDISWAN sees a send window of 0). Returns `PENDING`: one
    /// [`Event::LowerPauseComplete`] follows once no frame is outstanding on the binding.
    pub fn pause_binding(&self, binding: BindingId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        if !self.begin_binding_quiesce(&mut entry, binding, BindingPhase::Pausing) {
            return status::INVALID_STATE;
        }
        let registered = self.walk_vcs(&mut entry, sink, |slot, _, _, _, _| {
            if slot.route.and_then(Route::binding) != Some(binding) || slot.lower_paused {
                return false;
            }
            slot.lower_paused = true;
            slot.wait_binding = Some(binding);
            if slot.phase == VcPhase::Active {
                slot.control(Control::LinkParams(slot.reported_link()));
            }
            true
        });
        self.end_binding_walk(&mut entry, sink, binding, registered);
        status::PENDING
    }

    /// The lower binding goes away (`ProtocolUnbindAdapterEx`): every session on it is lost.
    /// Returns `PENDING`: one [`Event::LowerUnbindReady`] follows once nothing is outstanding.
    pub fn unbind(&self, binding: BindingId, sink: &mut impl Egress<P>) -> Status {
        let mut entry = Entry::<P>::new();
        if !self.begin_binding_quiesce(&mut entry, binding, BindingPhase::Unbinding) {
            return status::INVALID_STATE;
        }
        let mut on_binding = 0;
        let registered = self.walk_vcs(&mut entry, sink, |slot, _, _, _, _| {
            if slot.route.and_then(Route::binding) != Some(binding) {
                return false;
            }
            on_binding += 1;
            slot.wait_binding = Some(binding);
            true
        });
        // Sessions go down after the walk, one VC at a time, through the ordinary call step.
        if on_binding > 0 {
            for (index, lock) in self.vcs.iter().enumerate() {
                let vc = {
                    let slot = entry.ctx().lock(lock);
                    if !slot.allocated || slot.route.and_then(Route::binding) != Some(binding) {
                        continue;
                    }
                    slot.id(index as u32)
                };
                self.session_down_in(&mut entry, sink, vc, status::CLOSING, false);
            }
        }
        self.end_binding_walk(&mut entry, sink, binding, registered);
        status::PENDING
    }
}

/// Resumes a VC whose binding came back: window reopened and indicated.
fn resume_lower<P: Platform>(slot: &mut VcSlot<P>, binding: BindingId) -> bool {
    if slot.route.and_then(Route::binding) == Some(binding) && slot.lower_paused {
        slot.lower_paused = false;
        if slot.phase == VcPhase::Active {
            slot.control(Control::LinkParams(slot.reported_link()));
        }
    }
    false
}
