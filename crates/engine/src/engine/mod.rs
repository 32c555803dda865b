//! The engine: the pools, and every operation the driver calls from its NDIS entry points.
//!
//! Each public operation is one entry point's work: it takes its locks in order, records what
//! must leave the driver in its batch, and delivers the batch to the given [`Egress`] after the
//! last guard is gone. Operations that complete later return [`status::PENDING`] and deliver
//! the completion as an event (exactly once). Operations are `&self`: any number may run at
//! once on any processors, and the egress may call back into the engine.

mod adapter;
mod call;
pub use call::DownCause;
pub use data::ReceiveError;
mod data;
mod vc;

pub use vc::VcOwner;

use crate::batch::{Egress, Event, LinkParams};
use crate::fallible::{self, OutOfMemory};
use crate::ids::{BindingId, MAX_VCS, Route, VcId};
use crate::lock_order::{Adapter, AddressFamily, Binding, Level, Line, LockAfter, Vc};
use crate::padding::Padded;
use crate::platform::Platform;
use crate::session::SessionIndex;
use crate::stats::VcStats;
use crate::sync::{Ctx, Entry, OrderedLock};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use vc::{Followup, Reports, VcSlot};

/// Sizes of the pools, fixed at initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// TAPI lines of the address family (`OID_CO_TAPI_CM_CAPS` reports this count).
    pub lines: u32,
    /// VCs that can exist at once (at most [`MAX_VCS`]).
    pub max_vcs: u32,
    /// PPPoE sessions the index holds at once.
    pub max_sessions: u32,
    /// Lower bindings.
    pub bindings: u16,
    /// `NDIS_WAN_CO_INFO.MaxSendWindow` (at least 1): the most sends in flight below a VC.
    pub max_send_window: u32,
    /// Sends a VC queues beyond its window before it answers `RESOURCES`.
    pub queue_capacity: u32,
    /// Received frames a VC holds for indication before it drops them.
    pub receive_budget: u32,
    /// Key of the session index hash (the driver gives a random value).
    pub hash_seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            lines: 16,
            max_vcs: 64,
            max_sessions: 64,
            bindings: 4,
            max_send_window: 16,
            queue_capacity: 64,
            receive_budget: 32,
            hash_seed: 0x005E_ED0F_5E55_1045,
        }
    }
}

/// Why [`Engine::new`] built no engine: a [`Config`] it cannot be built with, or no memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_vcs` is 0 or above [`MAX_VCS`].
    MaxVcs,
    /// `max_send_window` is 0.
    SendWindow,
    /// `lines`, `bindings` or `max_sessions` is 0.
    Empty,
    /// An allocation of the pools failed (or their size does not fit the address space): the
    /// driver answers NDIS_STATUS_RESOURCES.
    OutOfMemory,
}

impl From<OutOfMemory> for ConfigError {
    fn from(_: OutOfMemory) -> Self {
        ConfigError::OutOfMemory
    }
}

/// The adapter's phase (miniport pause/restart/halt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterPhase {
    /// Sends and receives flow.
    Running,
    /// `MiniportPause` is draining sends.
    Pausing,
    /// Paused: sends complete with `PAUSED`.
    Paused,
    /// `MiniportHaltEx` is draining.
    Halting,
    /// Halted.
    Halted,
}

/// A lower binding's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingPhase {
    /// Not bound.
    Unbound,
    /// Bound and running.
    Running,
    /// Pause under way: VCs on it hold their sends.
    Pausing,
    /// Paused.
    Paused,
    /// Unbind under way: its sessions are being torn down.
    Unbinding,
}

/// Counts the VCs a walk asked to drain against those that have reported drained. Reports
/// may come before the walk ends; completion needs both the walk done and nothing pending.
#[derive(Debug, Default)]
struct Quiesce {
    active: bool,
    pending: i64,
    walk_done: bool,
}

impl Quiesce {
    fn start(&mut self) {
        *self = Quiesce {
            active: true,
            pending: 0,
            walk_done: false,
        };
    }

    fn walk_finished(&mut self, registered: i64) -> bool {
        self.pending += registered;
        self.walk_done = true;
        self.complete()
    }

    fn report(&mut self) -> bool {
        self.pending -= 1;
        self.complete()
    }

    fn complete(&mut self) -> bool {
        if self.active && self.walk_done && self.pending == 0 {
            self.active = false;
            return true;
        }
        false
    }
}

struct AdapterState {
    phase: AdapterPhase,
    quiesce: Quiesce,
    free: Vec<u32>,
    retired: VcStats,
    receive_unknown_session: u64,
    send_stale_vc: u64,
}

impl AdapterState {
    /// Takes the statistics of the freed slot `index` into the adapter's total and returns the
    /// slot to the pool (the adapter lock is held, and the slot's after it).
    fn retire<P: Platform>(&mut self, index: u32, slot: &mut VcSlot<P>) {
        self.retired.add(&slot.take_stats());
        self.free.push(index);
    }
}

struct AfState {
    open: bool,
}

struct LineState {
    vc: Option<VcId>,
    listening: bool,
}

struct BindingState {
    phase: BindingPhase,
    quiesce: Quiesce,
}

/// A VC's lock and slot, padded: two processors on two VCs never write the same cache line.
type VcLock<P> = OrderedLock<Vc, Padded<VcSlot<P>>, P>;

/// The WAN engine of one miniport adapter, generic over the platform.
pub struct Engine<P: Platform> {
    config: Config,
    adapter: OrderedLock<Adapter, AdapterState, P>,
    af: OrderedLock<AddressFamily, AfState, P>,
    lines: Box<[OrderedLock<Line, LineState, P>]>,
    vcs: Box<[VcLock<P>]>,
    sessions: SessionIndex<P>,
    bindings: Box<[OrderedLock<Binding, BindingState, P>]>,
}

impl<P: Platform> fmt::Debug for Engine<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: Platform> Engine<P> {
    /// Allocates every pool. The only place the engine allocates, and every allocation may
    /// fail: out of memory it answers [`ConfigError::OutOfMemory`] having freed what it took.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        if config.max_vcs == 0 || config.max_vcs > MAX_VCS {
            return Err(ConfigError::MaxVcs);
        }
        if config.max_send_window == 0 {
            return Err(ConfigError::SendWindow);
        }
        if config.lines == 0 || config.bindings == 0 || config.max_sessions == 0 {
            return Err(ConfigError::Empty);
        }
        let mut free: Vec<u32> = fallible::vec_with_capacity(config.max_vcs as usize)?;
        free.extend((0..config.max_vcs).rev());
        let adapter = AdapterState {
            phase: AdapterPhase::Running,
            quiesce: Quiesce::default(),
            free,
            retired: VcStats::default(),
            receive_unknown_session: 0,
            send_stale_vc: 0,
        };
        let lines = fallible::boxed_slice(config.lines as usize, |_| {
            Ok(OrderedLock::new(LineState {
                vc: None,
                listening: false,
            }))
        })?;
        let vcs = fallible::boxed_slice(config.max_vcs as usize, |_| {
            let slot = VcSlot::new(
                config.queue_capacity as usize,
                config.max_send_window,
                config.receive_budget,
            )?;
            Ok(OrderedLock::new(Padded::new(slot)))
        })?;
        let sessions = SessionIndex::new(config.max_sessions as usize, config.hash_seed)?;
        let bindings = fallible::boxed_slice(usize::from(config.bindings), |_| {
            Ok(OrderedLock::new(BindingState {
                phase: BindingPhase::Unbound,
                quiesce: Quiesce::default(),
            }))
        })?;
        Ok(Self {
            adapter: OrderedLock::new(adapter),
            af: OrderedLock::new(AfState { open: false }),
            lines,
            vcs,
            sessions,
            bindings,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `NDIS_WAN_CO_INFO.MaxSendWindow` for `OID_WAN_CO_GET_INFO`.
    pub fn max_send_window(&self) -> u32 {
        self.config.max_send_window
    }

    /// Runs `op` on a VC under its lock (taken from `cx`), then claims the VC's pump if free.
    /// `None` when the handle is stale.
    fn vc_step<L, R>(
        &self,
        cx: Ctx<'_, L, P>,
        vc: VcId,
        op: impl FnOnce(&mut VcSlot<P>, VcId, &mut Ctx<'_, Vc, P>) -> R,
    ) -> Option<(R, Followup)>
    where
        L: Level,
        Vc: LockAfter<L>,
    {
        let lock = self.vcs.get(vc.index() as usize)?;
        let mut guard = cx.lock(lock);
        let (slot, mut vcx) = guard.split();
        if !slot.is(vc) {
            return None;
        }
        let result = op(slot, vc, &mut vcx);
        let followup = slot.after_op(vc, vcx.batch());
        Some((result, followup))
    }

    /// A VC step from the entry's own context, then its follow-up with no lock held: the shape
    /// of every data-path operation. `None` when the handle is stale (`op` did not run).
    fn vc_op<R>(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        op: impl FnOnce(&mut VcSlot<P>, VcId, &mut Ctx<'_, Vc, P>) -> R,
    ) -> Option<R> {
        let lock = self.vcs.get(vc.index() as usize)?;
        let (result, followup) = {
            let mut guard = entry.ctx().lock(lock);
            let (slot, mut vcx) = guard.split();
            if !slot.is(vc) {
                return None;
            }
            let result = op(slot, vc, &mut vcx);
            (result, slot.after_op(vc, vcx.batch()))
        };
        self.finish(entry, sink, vc, followup);
        Some(result)
    }

    /// After a VC step, with no lock held: flush, act on reports, and keep pumping while this
    /// entry owns the VC's pump.
    fn finish(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        mut followup: Followup,
    ) {
        loop {
            entry.flush(sink);
            if !followup.reports.is_empty() {
                let reports = core::mem::take(&mut followup.reports);
                self.handle_reports(entry, sink, vc, reports);
            }
            if !followup.more && followup.transit == 0 {
                return;
            }
            let Some(lock) = self.vcs.get(vc.index() as usize) else {
                return;
            };
            let mut guard = entry.ctx().lock(lock);
            let (slot, mut vcx) = guard.split();
            if !slot.is(vc) {
                // `delete_vc` took the pump back and freed the slot while this entry flushed
                // the VC's last events: nothing is left to pump.
                return;
            }
            followup = if followup.more {
                slot.pump_round(vc, vcx.batch(), 0)
            } else {
                slot.settle_transit(vc, followup.transit, vcx.batch())
            };
        }
    }

    /// Out of line: rare (call steps, drains, frees), and it keeps the data path's code small.
    #[inline(never)]
    fn handle_reports(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        reports: Reports,
    ) {
        if let Some(line) = reports.release_line()
            && let Some(lock) = self.lines.get(line.0 as usize)
        {
            let mut line = entry.ctx().lock(lock);
            if line.vc == Some(vc) {
                line.vc = None;
            }
        }
        if reports.adapter_quiet() || reports.freed() {
            let mut adapter = entry.ctx().lock(&self.adapter);
            if reports.freed() {
                let (state, cx) = adapter.split();
                let mut slot = cx.lock(&self.vcs[vc.index() as usize]);
                state.retire(vc.index(), &mut slot);
            }
            if reports.adapter_quiet() && adapter.quiesce.report() {
                Self::quiesced(&mut adapter);
            }
        }
        if let Some(binding) = reports.binding_quiet()
            && let Some(lock) = self.bindings.get(binding.0 as usize)
        {
            let mut state = entry.ctx().lock(lock);
            if state.quiesce.report() {
                let (state, mut cx) = state.split();
                Self::binding_quiesced(binding, state, cx.batch());
            }
        }
        entry.flush(sink);
        if let Some(peer) = reports.loopback_down() {
            self.session_down_in(entry, sink, peer, crate::status::CLOSING, false);
        }
        if let Some((peer, link)) = reports.loopback_up() {
            self.session_up_in(entry, sink, peer, Route::Loopback(vc), link);
        }
    }

    /// Runs `op` on every allocated VC, one at a time; returns how many it registered.
    fn walk_vcs(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        mut op: impl FnMut(
            &mut VcSlot<P>,
            VcId,
            &mut Ctx<'_, Vc, P>,
            &SessionIndex<P>,
            &mut Reports,
        ) -> bool,
    ) -> i64 {
        let mut registered = 0;
        for (index, lock) in self.vcs.iter().enumerate() {
            let (vc, followup) = {
                let mut guard = entry.ctx().lock(lock);
                let (slot, mut vcx) = guard.split();
                if !slot.allocated {
                    continue;
                }
                let vc = slot.id(index as u32);
                let mut reports = Reports::default();
                if op(slot, vc, &mut vcx, &self.sessions, &mut reports) {
                    registered += 1;
                }
                let mut followup = slot.after_op(vc, vcx.batch());
                followup.reports.merge(reports);
                (vc, followup)
            };
            self.finish(entry, sink, vc, followup);
        }
        registered
    }

    /// The phase of a VC's call; `None` for a stale handle.
    pub fn vc_phase(&self, vc: VcId) -> Option<crate::state::VcPhase> {
        let mut entry = Entry::<P>::new();
        let lock = self.vcs.get(vc.index() as usize)?;
        let slot = entry.ctx().lock(lock);
        slot.is(vc).then_some(slot.phase)
    }

    /// A VC's statistics (`OID_WAN_CO_GET_STATS_INFO` on the VC); `None` for a stale handle.
    pub fn vc_stats(&self, vc: VcId) -> Option<VcStats> {
        let mut entry = Entry::<P>::new();
        let lock = self.vcs.get(vc.index() as usize)?;
        let slot = entry.ctx().lock(lock);
        slot.is(vc).then_some(slot.stats)
    }

    /// The link parameters last indicated (or to indicate) on a VC.
    pub fn vc_link(&self, vc: VcId) -> Option<LinkParams> {
        let mut entry = Entry::<P>::new();
        let lock = self.vcs.get(vc.index() as usize)?;
        let slot = entry.ctx().lock(lock);
        slot.is(vc).then_some(slot.reported_link())
    }

    /// The adapter's statistics: deleted VCs' counters plus a walk over the pool. The walk
    /// holds the adapter lock, which retiring a slot's counters needs too, so every counter is
    /// counted exactly once: in its slot or in the retired total. Nothing on the data path
    /// touches the adapter: each packet counts in its own VC only.
    pub fn adapter_stats(&self) -> crate::stats::AdapterStats {
        let mut entry = Entry::<P>::new();
        let mut adapter = entry.ctx().lock(&self.adapter);
        let (adapter, mut cx) = adapter.split();
        let mut total = crate::stats::AdapterStats {
            vcs: adapter.retired,
            receive_unknown_session: adapter.receive_unknown_session,
            send_stale_vc: adapter.send_stale_vc,
            vcs_in_use: self.config.max_vcs - adapter.free.len() as u32,
        };
        for lock in self.vcs.iter() {
            // A freed slot whose counters are not retired yet still holds them; others hold 0.
            total.vcs.add(&cx.reborrow().lock(lock).stats);
        }
        total
    }

    /// The adapter's phase.
    pub fn adapter_phase(&self) -> AdapterPhase {
        let mut entry = Entry::<P>::new();
        entry.ctx().lock(&self.adapter).phase
    }

    /// A binding's phase.
    pub fn binding_phase(&self, binding: BindingId) -> Option<BindingPhase> {
        let mut entry = Entry::<P>::new();
        let lock = self.bindings.get(binding.0 as usize)?;
        Some(entry.ctx().lock(lock).phase)
    }

    /// Delivers the completion of a request the driver pended (an OID it answered from a DPC
    /// or work item), through a batch like every other way out of the driver.
    pub fn complete_request(
        &self,
        request: crate::ids::RequestId,
        status: crate::status::Status,
        sink: &mut impl Egress<P>,
    ) {
        let mut entry = Entry::<P>::new();
        entry.batch().push(Event::OidComplete { request, status });
        entry.flush(sink);
    }
}
