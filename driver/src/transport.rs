//! PPPoE below the engine: discovery (rswan-pppoe's client for outgoing calls on PPPoE lines,
//! its access concentrator for incoming ones) and the session frames of the lower bindings.
//!
//! A dial searches every open Ethernet binding at once, as rp-pppoe's discovery does per
//! interface: each binding gets its own client (its own Host-Uniq, retries and state) and a
//! PADI. The first PADO a client accepts (the requested Service-Name, and the AC-Name if the
//! client is given one) wins: PADR goes on that binding only, and the other bindings' clients
//! are dropped, so a later PADO there is ignored and its AC never sees a PADR (it kept no
//! state for the PADI). The dial fails when the last client gave up, with the most telling
//! reason any of them had. A binding that opens while a dial is still searching gets a client
//! and a PADI too; one that closes takes its client along, and fails the dial only when it was
//! the last (or the chosen) one. [Windows' own WAN Miniport (PPPOE) is not documented to do
//! this per adapter: unverified.]
//!
//! Each binding's access concentrator keeps its session table, and the VC of each session, in
//! pool memory sized from the `MaxSessions` setting when the binding opens; both go when it
//! closes.
//!
//! The discovery state sits under locks of the engine's lock order (a line's dial at level
//! `Line`, a binding's access concentrator at level `Binding`), taken one at a time and always
//! released before anything leaves the driver: frames are sent and the engine is told after the
//! guard is gone, as for every other lock of the driver.

use alloc::boxed::Box;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};

use rswan_engine::DownCause;
use rswan_engine::batch::LinkParams;
use rswan_engine::ids::{BindingId, LineId, Route, SessionKey, TxTag, VcId};
use rswan_engine::lock_order::{Binding as BindingLevel, Line};
use rswan_engine::sync::{Entry, OrderedLock};
use rswan_ndis::buffer::NetBuffer;
use rswan_ndis::chain::{Nbl, advance_net_buffer, copy_net_buffer, retreat_net_buffer};
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::imports as ndis;
use rswan_ndis::lend;
use rswan_ndis::memory::PoolBox;
use rswan_ndis::timer::Timer;
use rswan_ndis::types::NdisHandle;
use rswan_pppoe::wire::{
    Code, Discovery, ETHERTYPE_DISCOVERY, ETHERTYPE_SESSION, FRAME_HEADER_LEN, MacAddr,
    SessionFrame,
};
use rswan_pppoe::{
    AcConfig, AcEvent, AccessConcentrator, Client, ClientConfig, ClientEvent, ClientState, Failure,
    Instant, Session, SessionSlot, TX_BUFFER_LEN, TxBuffer,
};

use crate::POOL_TAG;
use crate::adapter::Adapter;
use crate::egress::DriverEgress;
use crate::frames::FRAME_BUFFER_BYTES;
use crate::lower::{self, Binding, MAX_BINDINGS, sent_kind};
use crate::platform::NdisPlatform;

// The text settings fit a PPPoE name.
const _: () = assert!(rswan_config::TEXT_CAPACITY <= rswan_pppoe::bytes::NAME_CAPACITY);
/// How often discovery retransmissions are checked.
const TICK_MS: u32 = 250;

/// An outgoing call in discovery, or with its session up.
struct Dial {
    vc: VcId,
    /// One client per binding slot, in pool memory (a client is too big to keep one per
    /// binding and line around); once a PADO was taken, only the chosen binding's.
    clients: Box<[Option<Client>]>,
    /// The binding whose access concentrator's PADO was taken.
    chosen: Option<BindingId>,
    /// The most telling reason of the clients that gave up so far.
    failure: Option<Failure>,
}

impl Dial {
    fn client_mut(&mut self, slot: u16) -> Option<&mut Client> {
        self.clients.get_mut(usize::from(slot))?.as_mut()
    }

    fn searching(&self) -> bool {
        self.chosen.is_none()
    }

    fn has_clients(&self) -> bool {
        self.clients.iter().any(Option::is_some)
    }

    /// The client of the chosen binding, once a PADO was taken.
    fn chosen_client(&mut self) -> Option<&mut Client> {
        let slot = self.chosen?.0;
        self.client_mut(slot)
    }

    /// The client on `slot` went to PADR: that binding is the dial's, the others stop.
    fn choose(&mut self, slot: u16) {
        self.chosen = Some(BindingId(slot));
        for (other, client) in self.clients.iter_mut().enumerate() {
            if other != usize::from(slot) {
                *client = None;
            }
        }
    }

    /// Drops the client of `slot` (it failed, or its binding left), keeping the most telling
    /// failure; `true` when no client is left, so the dial has failed.
    fn drop_client(&mut self, slot: u16, failure: Failure) -> bool {
        if let Some(client) = self.clients.get_mut(usize::from(slot)) {
            *client = None;
        }
        if self
            .failure
            .is_none_or(|kept| failure_rank(failure) > failure_rank(kept))
        {
            self.failure = Some(failure);
        }
        !self.has_clients()
    }
}

/// How much a failure tells the user: "nobody answered" on one binding says less than an
/// AC's refusal or error on another.
fn failure_rank(failure: Failure) -> u8 {
    match failure {
        Failure::NoAccessConcentrator => 0,
        Failure::NoMatchingOffer => 1,
        Failure::Peer(_) => 2,
        Failure::NoSessionConfirmation | Failure::SessionRefused => 3,
    }
}

/// A client's Host-Uniq: the VC and the binding slot, so each binding's discovery is its own.
fn host_uniq(vc: VcId, slot: u16) -> [u8; 5] {
    let mut bytes = [0u8; 5];
    bytes[..4].copy_from_slice(&vc.to_raw().to_le_bytes());
    bytes[4] = slot as u8;
    bytes
}

/// A binding's access concentrator and the VCs of its sessions, both sized from the
/// `MaxSessions` setting in pool memory.
struct AcState {
    ac: AccessConcentrator<Box<[SessionSlot]>>,
    calls: Box<[Option<(u16, VcId)>]>,
}

impl AcState {
    fn forget(&mut self, id: u16) -> Option<VcId> {
        let slot = self
            .calls
            .iter_mut()
            .find(|c| c.is_some_and(|(s, _)| s == id))?;
        slot.take().map(|(_, vc)| vc)
    }

    fn remember(&mut self, id: u16, vc: VcId) -> bool {
        match self.calls.iter_mut().find(|c| c.is_none()) {
            Some(slot) => {
                *slot = Some((id, vc));
                true
            }
            None => false,
        }
    }
}

/// Buffers of one discovery step: the received frame and the frame to send. In pool memory,
/// because two Ethernet frames are too much for a kernel stack at DISPATCH_LEVEL.
struct Scratch {
    frame: [u8; FRAME_BUFFER_BYTES],
    tx: TxBuffer,
}

/// A binding's access concentrator under its lock (level `Binding`).
type AcLock = OrderedLock<BindingLevel, Option<PoolBox<AcState>>, NdisPlatform>;

pub struct Transport {
    dials: Box<[OrderedLock<Line, Option<Dial>, NdisPlatform>]>,
    /// Each binding's access concentrator, in pool memory of its own (its configuration alone
    /// is most of a kilobyte).
    acs: Box<[AcLock]>,
    timer: Option<Timer>,
    running: AtomicBool,
}

/// The lines' clock: milliseconds since boot.
fn now() -> Instant {
    let mut up: i64 = 0;
    // SAFETY: a valid out pointer.
    unsafe { ndis::NdisGetSystemUpTimeEx(&mut up) };
    Instant::from_millis(up.max(0) as u64)
}

fn link_of(binding: &Binding, adapter: &Adapter) -> LinkParams {
    let bytes = (binding.link_speed / 8).min(u64::from(u32::MAX)) as u32;
    LinkParams {
        transmit_speed: bytes,
        receive_speed: bytes,
        send_window: adapter.engine.max_send_window(),
    }
}

fn key_of(session: &Session, binding: BindingId) -> SessionKey {
    SessionKey {
        session_id: session.id,
        peer_mac: session.peer.0,
        binding,
    }
}

impl Transport {
    /// `None` when out of memory.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn new(lines: u32) -> Option<Transport> {
        Some(Transport {
            dials: crate::fallible::boxed_slice(lines as usize, |_| OrderedLock::new(None))?,
            acs: crate::fallible::boxed_slice(MAX_BINDINGS, |_| OrderedLock::new(None))?,
            timer: None,
            running: AtomicBool::new(false),
        })
    }

    /// Starts the retransmission timer of the adapter at `adapter` (its final address).
    ///
    /// IRQL: PASSIVE_LEVEL.
    ///
    /// # Safety
    /// `miniport` is the adapter's handle and `adapter` its address, valid until
    /// [`Transport::stop`] returned.
    pub unsafe fn start(&mut self, miniport: NdisHandle, adapter: *const Adapter) -> bool {
        // SAFETY: per the caller; the context is the adapter, alive until `stop`.
        let timer = unsafe { Timer::new(miniport, POOL_TAG, tick, adapter.cast_mut().cast()) };
        let Ok(timer) = timer else { return false };
        self.running.store(true, Ordering::Release);
        timer.set_periodic_ms(TICK_MS);
        self.timer = Some(timer);
        true
    }

    /// Stops the timer and waits for a tick already running; the adapter may go afterwards.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn stop(&self) {
        self.running.store(false, Ordering::Release);
        if let Some(timer) = &self.timer {
            timer.cancel_and_wait();
        }
    }

    fn scratch(adapter: &Adapter) -> Option<PoolBox<Scratch>> {
        let blank = Scratch {
            frame: [0; FRAME_BUFFER_BYTES],
            tx: [0; TX_BUFFER_LEN],
        };
        // SAFETY: the miniport handle is live while the adapter is.
        unsafe { PoolBox::new(adapter.miniport, POOL_TAG, blank) }.ok()
    }

    /// A binding opened (or the adapter came up with it open): its access concentrator, and a
    /// client for every dial still searching for one.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn binding_up(&self, adapter: &Adapter, binding: &Binding) {
        self.start_ac(adapter, binding);
        self.extend_searches(adapter, binding);
    }

    fn start_ac(&self, adapter: &Adapter, binding: &Binding) {
        let Some(lock) = self.acs.get(usize::from(binding.slot)) else {
            return;
        };
        // The cookie key only needs to be unpredictable to peers on the link; boot time and
        // the adapter's address vary per boot and machine [I: no kernel RNG is imported].
        let seed =
            now().millis() ^ (ptr_bits(adapter) << 16) ^ u64::from_le_bytes(mac8(binding.mac));
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..].copy_from_slice(
            &seed
                .rotate_left(29)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .to_le_bytes(),
        );
        let settings = &adapter.settings;
        let sessions = settings.max_sessions as usize;
        let tables = crate::fallible::boxed_slice(sessions, |_| SessionSlot::FREE)
            .zip(crate::fallible::boxed_slice(sessions, |_| None));
        let Some((slots, calls)) = tables else {
            dbg_print!(
                level::ERROR,
                "binding {}: no AC: no memory for {sessions} sessions",
                binding.slot
            );
            return;
        };
        let ac = AcConfig::new(MacAddr(binding.mac), settings.ac_name.as_bytes(), key).and_then(
            |mut config| {
                if !settings.service_name.is_empty() {
                    config.services.push(settings.service_name.as_bytes())?;
                }
                config.max_sessions = sessions;
                config.max_sessions_per_peer = settings.max_sessions_per_peer as usize;
                AccessConcentrator::new(config, slots)
            },
        );
        let ac = match ac {
            Ok(ac) => ac,
            Err(error) => {
                dbg_print!(level::ERROR, "binding {}: no AC: {error:?}", binding.slot);
                return;
            }
        };
        let make = || AcState { ac, calls };
        // SAFETY: the miniport handle is live while the adapter is.
        let Some(state) = (unsafe { PoolBox::new_with(adapter.miniport, POOL_TAG, make) }) else {
            dbg_print!(
                level::ERROR,
                "binding {}: no AC: out of memory",
                binding.slot
            );
            return;
        };
        let replaced = {
            let mut entry = Entry::<NdisPlatform>::new();
            entry.ctx().lock(lock).replace(state)
        };
        // Freed after the guard is gone, as everything else of the driver is.
        drop(replaced);
    }

    /// Starts discovery on a new binding for every dial that has not taken a PADO yet.
    fn extend_searches(&self, adapter: &Adapter, binding: &Binding) {
        let mut scratch = None;
        for lock in self.dials.iter() {
            let searching = {
                let mut entry = Entry::<NdisPlatform>::new();
                let dial = entry.ctx().lock(lock);
                dial.as_ref()
                    .filter(|d| d.searching() && d.has_clients())
                    .and_then(|d| {
                        let service = d.clients.iter().flatten().next()?.config().service_name;
                        Some((d.vc, service))
                    })
            };
            let Some((vc, service)) = searching else {
                continue;
            };
            if scratch.is_none() {
                scratch = Self::scratch(adapter);
            }
            let Some(scratch) = scratch.as_mut() else {
                return;
            };
            self.start_client(lock, vc, binding, service.as_bytes(), &mut scratch.tx);
        }
    }

    /// Starts a client for the dial of `vc` on `binding` and sends its PADI; `false` when the
    /// dial is gone or has chosen a binding already, or the client could not start. The
    /// client joins the dial before its PADI goes out, so the PADO cannot come back first.
    fn start_client(
        &self,
        lock: &OrderedLock<Line, Option<Dial>, NdisPlatform>,
        vc: VcId,
        binding: &Binding,
        service: &[u8],
        tx: &mut TxBuffer,
    ) -> bool {
        let config =
            match ClientConfig::new(MacAddr(binding.mac), service, &host_uniq(vc, binding.slot)) {
                Ok(config) => config,
                Err(error) => {
                    dbg_print!(
                        level::ERROR,
                        "{vc:?}: no client on binding {}: {error:?}",
                        binding.slot
                    );
                    return false;
                }
            };
        let now = now();
        // The client is built in its slot of the dial (a kilobyte: not twice on the stack).
        let started = {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut dial = entry.ctx().lock(lock);
            match dial.as_mut() {
                Some(dial) if dial.vc == vc && dial.searching() => {
                    match dial.clients.get_mut(usize::from(binding.slot)) {
                        Some(free @ None) => Some(Client::start_in(free, config, now, tx)),
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        let len = match started {
            Some(Ok(len)) => len,
            Some(Err(error)) => {
                dbg_print!(
                    level::ERROR,
                    "{vc:?}: no client on binding {}: {error:?}",
                    binding.slot
                );
                return false;
            }
            None => return false,
        };
        dbg_print!(
            level::TRACE,
            "{vc:?}: PADI on binding {} for {:?}",
            binding.slot,
            core::str::from_utf8(service).unwrap_or("?")
        );
        send_frame(binding, &tx[..len]);
        true
    }

    /// A binding goes away (after the engine ended its sessions): its access concentrator goes,
    /// and so do the dials' clients on it. A dial still in discovery fails when that was its
    /// chosen binding or its last client.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn binding_down(
        &self,
        adapter: &Adapter,
        binding: &Binding,
        egress: &mut DriverEgress<'_>,
    ) {
        if let Some(lock) = self.acs.get(usize::from(binding.slot)) {
            let gone = {
                let mut entry = Entry::<NdisPlatform>::new();
                entry.ctx().lock(lock).take()
            };
            // The tables go back to the pool after the guard is gone.
            drop(gone);
        }
        for lock in self.dials.iter() {
            let ended = {
                let mut entry = Entry::<NdisPlatform>::new();
                let mut dial = entry.ctx().lock(lock);
                let ends = dial.as_mut().is_some_and(|d| {
                    if d.chosen == Some(binding.id()) {
                        true
                    } else {
                        let had = d.client_mut(binding.slot).is_some();
                        had && d.drop_client(binding.slot, Failure::NoAccessConcentrator)
                    }
                });
                if ends { dial.take() } else { None }
            };
            // An established session is the engine's to end (its route names the binding);
            // a call still in discovery is known only here.
            if let Some(mut ended) = ended
                && ended.chosen_client().is_none_or(|c| c.session().is_none())
            {
                dbg_print!(
                    level::WARNING,
                    "{:?}: binding {} went away during discovery, no binding left for it",
                    ended.vc,
                    binding.slot
                );
                adapter
                    .engine
                    .session_down(ended.vc, DownCause::LowerUnbind, egress);
            }
        }
    }

    /// The engine's `Dial`: a client and a PADI on every open binding, with the service name
    /// the call asked for (RAS's "phone number" of a PPPoE entry); see the module docs.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn dial(&self, adapter: &Adapter, vc: VcId, line: LineId, egress: &mut DriverEgress<'_>) {
        let Some(lock) = self.dials.get(line.0 as usize) else {
            adapter
                .engine
                .session_down(vc, DownCause::LowerUnbind, egress);
            return;
        };
        let scratch = Self::scratch(adapter);
        let clients = crate::fallible::boxed_slice(MAX_BINDINGS, |_| None);
        let (Some(mut scratch), Some(clients)) = (scratch, clients) else {
            dbg_print!(level::ERROR, "{vc:?}: no memory to dial");
            adapter
                .engine
                .session_down(vc, DownCause::Resources, egress);
            return;
        };
        let service = adapter
            .vc_entry(vc)
            .map(|e| e.service())
            .unwrap_or_default();
        let replaced = {
            let mut entry = Entry::<NdisPlatform>::new();
            entry.ctx().lock(lock).replace(Dial {
                vc,
                clients,
                chosen: None,
                failure: None,
            })
        };
        drop(replaced);
        let (mut open, mut started) = (0, 0);
        for slot in 0..MAX_BINDINGS as u16 {
            let Some(binding) = lower::binding(BindingId(slot)) else {
                continue;
            };
            open += 1;
            if self.start_client(lock, vc, binding, service.as_bytes(), &mut scratch.tx) {
                started += 1;
            }
        }
        if started > 0 {
            return;
        }
        let ended = self.take_dial(lock, vc);
        drop(ended);
        // No binding, or every client refused the call's settings (logged by start_client).
        let cause = if open == 0 {
            dbg_print!(
                level::WARNING,
                "{vc:?}: line {} cannot dial: no Ethernet binding",
                line.0
            );
            DownCause::LowerUnbind
        } else {
            DownCause::Timeout
        };
        adapter.engine.session_down(vc, cause, egress);
    }

    /// Takes the dial of `vc` out of its line's slot (freed by the caller, with no lock held).
    fn take_dial(
        &self,
        lock: &OrderedLock<Line, Option<Dial>, NdisPlatform>,
        vc: VcId,
    ) -> Option<Dial> {
        let mut entry = Entry::<NdisPlatform>::new();
        let mut dial = entry.ctx().lock(lock);
        if dial.as_ref().is_some_and(|d| d.vc == vc) {
            dial.take()
        } else {
            None
        }
    }

    /// The engine's `CancelDial`: the call was closed before its session came up.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn cancel_dial(&self, vc: VcId, line: LineId) {
        if let Some(lock) = self.dials.get(line.0 as usize) {
            let cancelled = self.take_dial(lock, vc);
            drop(cancelled);
        }
    }

    /// The engine's `Hangup`: PADT for the session, from whichever side opened it.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn hangup(&self, adapter: &Adapter, vc: VcId, key: SessionKey) {
        let Some(binding) = lower::binding(key.binding) else {
            return;
        };
        let Some(mut scratch) = Self::scratch(adapter) else {
            return;
        };
        let mut padt = None;
        for lock in self.dials.iter() {
            if let Some(mut ended) = self.take_dial(lock, vc) {
                padt = ended
                    .chosen_client()
                    .and_then(|client| client.close(&mut scratch.tx, None));
                break;
            }
        }
        if padt.is_none()
            && let Some(lock) = self.acs.get(usize::from(key.binding.0))
        {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut state = entry.ctx().lock(lock);
            if let Some(state) = state.as_mut()
                && state.forget(key.session_id) == Some(vc)
            {
                padt = state
                    .ac
                    .close_session(key.session_id, None, &mut scratch.tx);
            }
        }
        if let Some(len) = padt {
            dbg_print!(
                level::TRACE,
                "{vc:?}: PADT for session {:#06x}",
                key.session_id
            );
            send_frame(binding, &scratch.tx[..len]);
        }
    }

    /// The engine's `Transmit` of a PPPoE send: a clone of NDISWAN's NBL with the Ethernet and
    /// PPPoE headers put in front of each of its NET_BUFFERs, one PPP frame each (the payloads
    /// are not copied); it completes through [`clone_sent`], once for the whole NBL.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn transmit(
        &self,
        adapter: &Adapter,
        key: SessionKey,
        tag: TxTag,
        mut packet: Nbl,
        egress: &mut DriverEgress<'_>,
    ) {
        let Some(binding) = lower::binding(key.binding).filter(|b| b.begin_send()) else {
            adapter
                .engine
                .transmit_complete(tag, packet, rswan_engine::status::CLOSING, egress);
            return;
        };
        // SAFETY: the original stays owned (in the clone's ProtocolReserved) until the clone
        // is freed in `clone_sent`.
        let Some(mut clone) = (unsafe { binding.clones.clone_nbl(&mut packet) }) else {
            binding.end_send();
            adapter
                .engine
                .transmit_complete(tag, packet, rswan_engine::status::RESOURCES, egress);
            return;
        };
        if add_session_headers(&mut clone, key, binding.mac).is_err() {
            // SAFETY: the clone came from this pool; its headers are undone, so no MDL a
            // retreat added is left.
            unsafe { binding.clones.free_clone(clone) };
            binding.end_send();
            adapter
                .engine
                .transmit_complete(tag, packet, rswan_engine::status::FAILURE, egress);
            return;
        }
        let reserved = clone.protocol_reserved();
        reserved[0] = sent_kind::CLONE as *mut c_void;
        reserved[1] = tag.vc.to_raw() as usize as *mut c_void;
        reserved[2] = tag.len as usize as *mut c_void;
        reserved[3] = packet.into_raw().as_ptr().cast();
        // SAFETY: the binding is open; the clone is ours and goes down once; it comes back in
        // ProtocolSendNetBufferListsComplete.
        unsafe { ndis::NdisSendNetBufferLists(binding.handle(), clone.into_raw().as_ptr(), 0, 0) };
    }

    /// A received NBL the driver may keep (indicated without NDIS_RECEIVE_FLAGS_RESOURCES): a
    /// session frame that can be lent goes up without a copy and `None` comes back (the lower
    /// NBL returns to its binding when the lent frame comes back to the frame pool); any other
    /// NBL has each of its frames received by [`Transport::receive`] (copied) and comes back
    /// for the caller to return at once.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn receive_owned(&self, adapter: &Adapter, binding: &Binding, mut nbl: Nbl) -> Option<Nbl> {
        // The frame type is read once: only a session frame alone in its NBL may be lent,
        // and other traffic of the adapter goes its way without a second look.
        let single = lend::single_net_buffer(&mut nbl).and_then(ethertype);
        if single == Some(ETHERTYPE_SESSION) {
            nbl = match self.lend_session(adapter, binding, nbl) {
                Ok(()) => return None,
                Err(nbl) => nbl,
            };
        }
        for nb in nbl.net_buffers_mut() {
            match single {
                Some(known) => self.receive_typed(adapter, binding, nb, known),
                None => self.receive(adapter, binding, nb),
            }
        }
        Some(nbl)
    }

    /// Lends a session frame's PPPoE payload upward in place (crate::frames, rswan_ndis::lend),
    /// or gives the NBL back untouched. A frame is lent when
    /// - its NBL has one NET_BUFFER (an NBL of several frames is copied: one loan holds one
    ///   lower NBL and returns it once);
    /// - the whole frame lies in that NET_BUFFER's current MDL, so it is parsed in place by the
    ///   same `SessionFrame::parse` as a copied frame, and the lent NET_BUFFER (from
    ///   CurrentMdl, CurrentMdlOffset + 20 bytes of headers, PPPoE LENGTH bytes long) holds the
    ///   bytes `payload_range` gives a copy (a frame split across MDLs, headers or payload, is
    ///   copied);
    /// - it fits a frame buffer (a longer one is dropped by the copy, as it always was);
    /// - it is a session frame to this binding's address;
    /// - the binding lends: not while it pauses or closes, when receive indications go back at
    ///   once (WDK: "Pausing a Binding").
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn lend_session(&self, adapter: &Adapter, binding: &Binding, mut nbl: Nbl) -> Result<(), Nbl> {
        let parsed = lend::single_net_buffer(&mut nbl)
            .and_then(|nb| lend::contiguous_data(nb))
            .filter(|frame| frame.len() <= FRAME_BUFFER_BYTES)
            .and_then(|frame| SessionFrame::parse(frame).ok())
            .filter(|parsed| parsed.dst == MacAddr(binding.mac));
        let Some(parsed) = parsed else {
            return Err(nbl);
        };
        if !binding.begin_lend() {
            return Err(nbl);
        }
        let payload = parsed.payload_range();
        let key = SessionKey {
            session_id: parsed.session_id,
            peer_mac: parsed.src.0,
            binding: binding.id(),
        };
        // SAFETY: the NBL was indicated on `binding` without RESOURCES and is kept from here
        // until the lent frame comes back; the loan is counted on the binding (above), whose
        // unbind waits for it.
        let lent = unsafe {
            adapter
                .frames
                .lend(nbl, binding, payload.start as u32, payload.len() as u32)
        };
        match lent {
            Ok(frame) => {
                adapter.engine.receive(
                    key,
                    frame,
                    payload.len() as u32,
                    &mut DriverEgress::new(adapter),
                );
                Ok(())
            }
            Err(nbl) => {
                binding.end_lend();
                Err(nbl)
            }
        }
    }

    /// A frame from a binding: discovery frames to the dials and the access concentrator,
    /// session frames (copied past their headers) to the engine.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn receive(&self, adapter: &Adapter, binding: &Binding, nb: &mut NetBuffer) {
        if let Some(ethertype) = ethertype(nb) {
            self.receive_typed(adapter, binding, nb, ethertype);
        }
    }

    /// [`Transport::receive`] of a frame whose EtherType was read already.
    fn receive_typed(
        &self,
        adapter: &Adapter,
        binding: &Binding,
        nb: &mut NetBuffer,
        ethertype: u16,
    ) {
        match ethertype {
            ETHERTYPE_SESSION => self.receive_session(adapter, binding, nb),
            ETHERTYPE_DISCOVERY => self.receive_discovery(adapter, binding, nb),
            _ => {}
        }
    }

    fn receive_session(&self, adapter: &Adapter, binding: &Binding, nb: &mut NetBuffer) {
        let mut key = None;
        let frame = adapter.frames.take(|buffer| {
            let len = copy_net_buffer(nb, buffer)?;
            let parsed = SessionFrame::parse(&buffer[..len]).ok()?;
            if parsed.dst != MacAddr(binding.mac) {
                return None;
            }
            key = Some(SessionKey {
                session_id: parsed.session_id,
                peer_mac: parsed.src.0,
                binding: binding.id(),
            });
            Some(parsed.payload_range())
        });
        if let (Some(frame), Some(key)) = (frame, key) {
            let mut frame = frame;
            let len = frame.first_net_buffer().map_or(0, |nb| nb.data_length());
            adapter
                .engine
                .receive(key, frame, len, &mut DriverEgress::new(adapter));
        }
    }

    fn receive_discovery(&self, adapter: &Adapter, binding: &Binding, nb: &mut NetBuffer) {
        let Some(mut scratch) = Self::scratch(adapter) else {
            return;
        };
        let Some(len) = copy_net_buffer(nb, &mut scratch.frame) else {
            return;
        };
        let code = match Discovery::parse(&scratch.frame[..len]) {
            Ok(d) => d.code,
            Err(_) => return,
        };
        let mut egress = DriverEgress::new(adapter);
        let now = now();
        if matches!(code, Code::Pado | Code::Pads | Code::Padt) {
            for (line, lock) in self.dials.iter().enumerate() {
                let Scratch { frame, tx } = &mut *scratch;
                let (vc, output, chose) = {
                    let mut entry = Entry::<NdisPlatform>::new();
                    let mut dial = entry.ctx().lock(lock);
                    let Some(dial) = dial.as_mut() else {
                        continue;
                    };
                    let Some(client) = dial.client_mut(binding.slot) else {
                        continue;
                    };
                    let output = client.handle_frame(now, &frame[..len], tx);
                    let requesting = client.state() == ClientState::Requesting;
                    // The first PADO any binding's client took: PADR here, nowhere else.
                    let chose = dial.searching() && requesting;
                    if chose {
                        dial.choose(binding.slot);
                    }
                    (dial.vc, output, chose)
                };
                if chose {
                    dbg_print!(
                        level::TRACE,
                        "{vc:?}: PADO taken on binding {}, PADR there only",
                        binding.slot
                    );
                }
                if let Some(sent) = output.transmit {
                    send_frame(binding, &tx[..sent]);
                }
                if let Some(event) = output.event {
                    self.client_event(
                        adapter,
                        binding,
                        LineId(line as u32),
                        vc,
                        event,
                        &mut egress,
                    );
                }
            }
        }
        if matches!(code, Code::Padi | Code::Padr | Code::Padt) && self.listening(adapter) {
            self.ac_frame(adapter, binding, &mut scratch, len, now, &mut egress);
        }
    }

    /// Whether incoming calls are answered (the `AnswerIncoming` setting) and a SAP listens on
    /// any PPPoE line (an access concentrator without one would open sessions no call could
    /// take).
    fn listening(&self, adapter: &Adapter) -> bool {
        adapter.settings.answer_incoming
            && (0..adapter.lines.pppoe).any(|line| !adapter.sap_handle_for(LineId(line)).is_null())
    }

    fn ac_frame(
        &self,
        adapter: &Adapter,
        binding: &Binding,
        scratch: &mut Scratch,
        len: usize,
        now: Instant,
        egress: &mut DriverEgress<'_>,
    ) {
        let Some(lock) = self.acs.get(usize::from(binding.slot)) else {
            return;
        };
        let output = {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut state = entry.ctx().lock(lock);
            let Some(state) = state.as_mut() else { return };
            state
                .ac
                .handle_frame(now, &scratch.frame[..len], &mut scratch.tx)
        };
        if let Some(sent) = output.transmit {
            send_frame(binding, &scratch.tx[..sent]);
        }
        match output.event {
            Some(AcEvent::SessionOpened { session, .. }) => {
                self.answer(adapter, binding, session, scratch, egress)
            }
            Some(AcEvent::SessionClosed { session, .. }) => {
                let vc = {
                    let mut entry = Entry::<NdisPlatform>::new();
                    let mut state = entry.ctx().lock(lock);
                    state.as_mut().and_then(|s| s.forget(session.id))
                };
                if let Some(vc) = vc {
                    dbg_print!(level::TRACE, "{vc:?}: PADT from the client");
                    adapter
                        .engine
                        .session_down(vc, DownCause::RemoteHangup, egress);
                }
            }
            None => {}
        }
    }

    /// A client's PADR opened a session: it rings on the first listening PPPoE line that takes
    /// it, or is closed again with a PADT.
    fn answer(
        &self,
        adapter: &Adapter,
        binding: &Binding,
        session: Session,
        scratch: &mut Scratch,
        egress: &mut DriverEgress<'_>,
    ) {
        let route = Route::Pppoe(key_of(&session, binding.id()));
        let link = link_of(binding, adapter);
        let taken = (0..adapter.lines.pppoe).find_map(|line| {
            adapter
                .engine
                .incoming_call(LineId(line), route, link, egress)
                .ok()
        });
        let Some(lock) = self.acs.get(usize::from(binding.slot)) else {
            return;
        };
        let padt = {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut state = entry.ctx().lock(lock);
            let Some(state) = state.as_mut() else { return };
            match taken {
                Some(vc) if state.remember(session.id, vc) => None,
                _ => state.ac.close_session(session.id, None, &mut scratch.tx),
            }
        };
        match (taken, padt) {
            (Some(vc), None) => {
                dbg_print!(level::TRACE, "{vc:?}: incoming session {:#06x}", session.id);
            }
            (taken, Some(len)) => {
                dbg_print!(
                    level::WARNING,
                    "session {:#06x} refused: no free line",
                    session.id
                );
                send_frame(binding, &scratch.tx[..len]);
                if let Some(vc) = taken {
                    adapter
                        .engine
                        .session_down(vc, DownCause::RemoteHangup, egress);
                }
            }
            (None, None) => {}
        }
    }

    fn client_event(
        &self,
        adapter: &Adapter,
        binding: &Binding,
        line: LineId,
        vc: VcId,
        event: ClientEvent,
        egress: &mut DriverEgress<'_>,
    ) {
        match event {
            ClientEvent::Established(session) => {
                dbg_print!(level::TRACE, "{vc:?}: PADS, session {:#06x}", session.id);
                let route = Route::Pppoe(key_of(&session, binding.id()));
                let result =
                    adapter
                        .engine
                        .session_up(vc, route, link_of(binding, adapter), egress);
                if result != rswan_engine::status::PENDING {
                    self.hangup(adapter, vc, key_of(&session, binding.id()));
                }
            }
            ClientEvent::Failed(failure) => {
                self.client_failed(adapter, binding.slot, line, vc, failure, egress);
            }
            ClientEvent::Terminated(_) => {
                dbg_print!(level::TRACE, "{vc:?}: PADT from the access concentrator");
                self.cancel_dial(vc, line);
                adapter
                    .engine
                    .session_down(vc, DownCause::RemoteHangup, egress);
            }
        }
    }

    /// The client on binding `slot` gave up: the dial fails once no client is left (the
    /// chosen binding's client is the only one left once a PADO was taken).
    fn client_failed(
        &self,
        adapter: &Adapter,
        slot: u16,
        line: LineId,
        vc: VcId,
        failure: Failure,
        egress: &mut DriverEgress<'_>,
    ) {
        let Some(lock) = self.dials.get(line.0 as usize) else {
            return;
        };
        let ended = {
            let mut entry = Entry::<NdisPlatform>::new();
            let mut dial = entry.ctx().lock(lock);
            let last = dial
                .as_mut()
                .is_some_and(|d| d.vc == vc && d.drop_client(slot, failure));
            if last { dial.take() } else { None }
        };
        match ended {
            Some(ended) => {
                let reason = ended.failure.unwrap_or(failure);
                dbg_print!(level::WARNING, "{vc:?}: discovery failed: {reason}");
                drop(ended);
                adapter.engine.session_down(vc, DownCause::Timeout, egress);
            }
            None => dbg_print!(
                level::TRACE,
                "{vc:?}: discovery on binding {slot} gave up: {failure}"
            ),
        }
    }

    /// Retransmits PADI/PADR whose timeout passed, per binding's client; fails the clients
    /// (and with the last one the dial) that ran out of attempts.
    ///
    /// IRQL: DISPATCH_LEVEL.
    fn on_tick(&self, adapter: &Adapter) {
        let now = now();
        let mut scratch = None;
        for (line, lock) in self.dials.iter().enumerate() {
            for slot in 0..MAX_BINDINGS as u16 {
                let due = {
                    let mut entry = Entry::<NdisPlatform>::new();
                    let mut dial = entry.ctx().lock(lock);
                    dial.as_mut()
                        .and_then(|d| d.client_mut(slot))
                        .and_then(|c| c.poll_timeout())
                        .is_some_and(|deadline| deadline <= now)
                };
                if !due {
                    continue;
                }
                if scratch.is_none() {
                    scratch = Self::scratch(adapter);
                }
                let Some(scratch) = scratch.as_mut() else {
                    return;
                };
                let step = {
                    let mut entry = Entry::<NdisPlatform>::new();
                    let mut dial = entry.ctx().lock(lock);
                    dial.as_mut().and_then(|d| {
                        let vc = d.vc;
                        let client = d.client_mut(slot)?;
                        Some((vc, client.handle_timeout(now, &mut scratch.tx)))
                    })
                };
                let Some((vc, output)) = step else {
                    continue;
                };
                let line = LineId(line as u32);
                let mut egress = DriverEgress::new(adapter);
                let Some(binding) = lower::binding(BindingId(slot)) else {
                    // The binding left and its client with it; a client that outlived it (it
                    // joined as the binding was closing) gives up here.
                    if let Some(ClientEvent::Failed(failure)) = output.event {
                        self.client_failed(adapter, slot, line, vc, failure, &mut egress);
                    }
                    continue;
                };
                if let Some(len) = output.transmit {
                    send_frame(binding, &scratch.tx[..len]);
                }
                if let Some(event) = output.event {
                    self.client_event(adapter, binding, line, vc, event, &mut egress);
                }
            }
        }
    }
}

fn ptr_bits<T>(value: &T) -> u64 {
    core::ptr::from_ref(value) as usize as u64
}

fn mac8(mac: [u8; 6]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..6].copy_from_slice(&mac);
    out
}

/// The EtherType of a frame, read in place or through a 14-byte copy when the header spans
/// buffers (NdisGetDataBuffer).
///
/// IRQL: <= DISPATCH_LEVEL.
fn ethertype(nb: &mut NetBuffer) -> Option<u16> {
    if nb.data_length() < 14 {
        return None;
    }
    let mut head = [0u8; 14];
    let nb: *mut NetBuffer = nb;
    // SAFETY: `nb` is a NET_BUFFER the caller may read (it holds `&mut`); `head` has room for
    // the 14 bytes asked for.
    let data = unsafe { ndis::NdisGetDataBuffer(nb, 14, head.as_mut_ptr().cast(), 1, 0) };
    if data.is_null() {
        return None;
    }
    // SAFETY: NDIS returned 14 readable bytes (in the packet or in `head`).
    let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), 14) };
    Some(u16::from_be_bytes([bytes[12], bytes[13]]))
}

/// Puts the Ethernet and PPPoE session headers in front of every NET_BUFFER of `clone`; on a
/// failure, undoes those already put.
///
/// IRQL: <= DISPATCH_LEVEL.
fn add_session_headers(clone: &mut Nbl, key: SessionKey, mac: [u8; 6]) -> Result<(), ()> {
    let mut framed = 0;
    let mut result = Ok(());
    for nb in clone.net_buffers_mut() {
        // NDISWAN sends simple PPP HDLC framing, Address and Control (FF 03) first (WDK: "WAN
        // Packet Framing"); a PPPoE payload starts at the protocol field (RFC 2516 section 7).
        // SAFETY: the clone's NET_BUFFER describes the data of one of NDISWAN's frames.
        if unsafe { starts_with_address_control(nb) } {
            advance_net_buffer(nb, ADDRESS_CONTROL.len() as u32);
        }
        let header = SessionFrame {
            dst: MacAddr(key.peer_mac),
            src: MacAddr(mac),
            session_id: key.session_id,
            payload_len: nb.data_length() as usize,
        };
        let Ok(head) = retreat_net_buffer(nb, FRAME_HEADER_LEN as u32) else {
            result = Err(());
            break;
        };
        if header.emit_header(head).is_err() {
            advance_net_buffer(nb, FRAME_HEADER_LEN as u32);
            result = Err(());
            break;
        }
        framed += 1;
    }
    if result.is_err() {
        for nb in clone.net_buffers_mut().take(framed) {
            advance_net_buffer(nb, FRAME_HEADER_LEN as u32);
        }
    }
    result
}

/// Address (all stations) and Control (UI) of PPP in HDLC-like framing (RFC 1662).
const ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];

/// Whether the data of `nb` starts with [`ADDRESS_CONTROL`].
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `nb` is a NET_BUFFER NDIS may read.
unsafe fn starts_with_address_control(nb: &mut NetBuffer) -> bool {
    const LEN: usize = ADDRESS_CONTROL.len();
    // Address, Control and at least a protocol field.
    if (nb.data_length() as usize) < LEN + 2 {
        return false;
    }
    let mut storage = [0u8; LEN];
    let nb: *mut NetBuffer = nb;
    // SAFETY: `storage` has room for the bytes asked for.
    let data =
        unsafe { ndis::NdisGetDataBuffer(nb, LEN as u32, storage.as_mut_ptr().cast(), 1, 0) };
    if data.is_null() {
        return false;
    }
    // SAFETY: NDIS returned LEN readable bytes (in the packet or in `storage`).
    unsafe { core::slice::from_raw_parts(data.cast::<u8>(), LEN) == ADDRESS_CONTROL }
}

/// Sends a discovery frame on a binding, copied into a frame of the binding's pool.
///
/// IRQL: <= DISPATCH_LEVEL.
fn send_frame(binding: &Binding, frame: &[u8]) {
    if !binding.begin_send() {
        return;
    }
    let copy = binding.frames.take(|buffer| {
        buffer.get_mut(..frame.len())?.copy_from_slice(frame);
        Some(0..frame.len())
    });
    let Some(mut nbl) = copy else {
        // Not sent, so not outstanding: the close must not wait for it.
        binding.end_send();
        dbg_print!(
            level::WARNING,
            "binding {}: no memory for a discovery frame",
            binding.slot
        );
        return;
    };
    nbl.protocol_reserved()[0] = sent_kind::FRAME as *mut c_void;
    // SAFETY: the binding is open; the frame NBL is ours and comes back in
    // ProtocolSendNetBufferListsComplete.
    unsafe { ndis::NdisSendNetBufferLists(binding.handle(), nbl.into_raw().as_ptr(), 0, 0) };
}

/// A clone of one of NDISWAN's sends came back from the lower adapter: the headers come off,
/// the clone goes back to the binding's pool and the original completes through the engine.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn clone_sent(binding: &Binding, mut clone: Nbl) {
    let status = clone.status();
    let reserved = *clone.protocol_reserved();
    let tag = VcId::from_raw(reserved[1] as usize as u32).map(|vc| TxTag {
        vc,
        len: reserved[2] as usize as u32,
    });
    let original = core::ptr::NonNull::new(reserved[3].cast());
    for nb in clone.net_buffers_mut() {
        advance_net_buffer(nb, FRAME_HEADER_LEN as u32);
    }
    // SAFETY: the clone came from this binding's clone pool; every header MDL is gone.
    unsafe { binding.clones.free_clone(clone) };
    let (Some(tag), Some(original)) = (tag, original) else {
        return;
    };
    // SAFETY: `transmit` kept NDISWAN's NBL here, owned, until now.
    let original = unsafe { Nbl::from_raw(original) };
    // The adapter cannot have gone: its halt waits for every send the engine has in flight.
    let completed = lower::with_adapter(|adapter| {
        adapter.engine.transmit_complete(
            tag,
            original,
            status as u32,
            &mut DriverEgress::new(adapter),
        );
    });
    if completed.is_none() {
        dbg_print!(
            level::ERROR,
            "a PPPoE send completed after its adapter halted"
        );
    }
}

/// The adapter's timer: discovery retransmissions.
///
/// IRQL: DISPATCH_LEVEL.
unsafe extern "system" fn tick(
    _system1: *mut c_void,
    context: *mut c_void,
    _system2: *mut c_void,
    _system3: *mut c_void,
) {
    // SAFETY: the context is the adapter, alive until Transport::stop has cancelled the timer
    // and waited for this callback.
    let adapter = unsafe { &*context.cast::<Adapter>() };
    if adapter.transport.running.load(Ordering::Acquire) {
        adapter.transport.on_tick(adapter);
    }
}
