//! Where the engine's events leave the driver: each becomes the NDIS call its variant names
//! (rswan_engine::batch::Event). The engine delivers them with none of its locks held, so these
//! calls may re-enter the driver (NDISWAN sending from inside a receive indication, a close
//! racing a send) without deadlock; a call whose outcome the engine needs is reported back to
//! it from here.

use core::ptr;
use core::sync::atomic::Ordering;

use rswan_engine::batch::{Egress, Event, LinkParams};
use rswan_engine::ids::{LineId, Route, TxTag, VcId};
use rswan_engine::status as engine_status;
use rswan_ndis::call_params::{IncomingCall, build_incoming_call};
use rswan_ndis::callmgr::{CoCallParameters, call_flags};
use rswan_ndis::chain::{Nbl, NblChain, copy_net_buffer};
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::imports as ndis;
use rswan_ndis::request::{
    OBJECT_TYPE_STATUS_INDICATION, SIZEOF_STATUS_INDICATION_REVISION_1,
    STATUS_INDICATION_REVISION_1, StatusIndication,
};
use rswan_ndis::types::{Guid, NdisObjectHeader, status};
use rswan_ndis::wan::{WanCoLinkParams, wan_status};

use crate::adapter::{Adapter, MAX_FRAME_SIZE, pause_state};
use crate::deferred::Deferred;
use crate::frames::FRAME_BUFFER_BYTES;
use crate::platform::NdisPlatform;

/// The egress of one entry point of one adapter.
pub struct DriverEgress<'a> {
    pub adapter: &'a Adapter,
    /// The entry point runs at PASSIVE_LEVEL, so work NDIS allows only there is done inline
    /// instead of through [`crate::deferred`].
    passive: bool,
}

impl<'a> DriverEgress<'a> {
    /// For an entry point that may run at DISPATCH_LEVEL.
    pub fn new(adapter: &'a Adapter) -> Self {
        DriverEgress {
            adapter,
            passive: false,
        }
    }

    /// For an entry point that runs at PASSIVE_LEVEL.
    pub fn passive(adapter: &'a Adapter) -> Self {
        DriverEgress {
            adapter,
            passive: true,
        }
    }

    fn handle(&self, vc: VcId) -> rswan_ndis::NdisHandle {
        self.adapter
            .vc_entry(vc)
            .filter(|e| e.vc() == Some(vc))
            .map_or(ptr::null_mut(), |e| e.handle())
    }

    fn call_parameters(&self, vc: VcId) -> *mut CoCallParameters {
        self.adapter.vc_entry(vc).map_or(ptr::null_mut(), |e| {
            e.call_parameters.load(Ordering::Acquire)
        })
    }
}

fn ndis_status(engine: engine_status::Status) -> rswan_ndis::NdisStatus {
    engine as rswan_ndis::NdisStatus
}

impl Egress<NdisPlatform> for DriverEgress<'_> {
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE_LEVEL for the call-manager events that NDIS requires
    /// there, which the engine only emits from PASSIVE_LEVEL entry points).
    fn deliver(&mut self, event: Event<NdisPlatform>) {
        match event {
            Event::SendComplete { vc, packet, status } => self.send_complete(vc, packet, status),
            Event::Transmit { route, tag, packet } => self.transmit(route, tag, packet),
            Event::IndicateReceive { vc, packet } => self.indicate_receive(vc, packet),
            Event::ReceiveDropped { packet, .. } => {
                // SAFETY: every received frame the engine handles came from this adapter's pool.
                // The IRQL is not known here, so a lent frame's return claims no DISPATCH_LEVEL.
                unsafe { self.adapter.frames.give_back(packet, false) };
            }
            Event::LinkParams { vc, params } => self.link_params(vc, params),
            Event::Dial { vc, line } => {
                let adapter = self.adapter;
                adapter.transport.dial(adapter, vc, line, self);
            }
            Event::CancelDial { vc, line } => self.adapter.transport.cancel_dial(vc, line),
            Event::Hangup { vc, route } => match route {
                Route::Pppoe(key) => self.adapter.transport.hangup(self.adapter, vc, key),
                // The engine tells a loopback peer itself.
                Route::Loopback(_) => {}
            },
            Event::ActivateVc { vc } => self.activate_vc(vc),
            Event::DeactivateVc { vc } => self.deactivate_vc(vc),
            Event::MakeCallComplete { vc, status } => self.make_call_complete(vc, status),
            Event::DispatchIncomingCall { vc, line } => self.dispatch_incoming_call(vc, line),
            Event::DispatchCallConnected { vc } => {
                dbg_print!(level::TRACE, "{vc:?}: connected");
                // SAFETY: the handle is the live NDIS handle of the VC of the call.
                unsafe { ndis::NdisCmDispatchCallConnected(self.handle(vc)) };
            }
            Event::DispatchIncomingCloseCall { vc, status } => {
                dbg_print!(level::TRACE, "{vc:?}: remote close, status {status:#x}");
                // SAFETY: as above; no close data is passed.
                unsafe {
                    ndis::NdisCmDispatchIncomingCloseCall(
                        ndis_status(status),
                        self.handle(vc),
                        ptr::null_mut(),
                        0,
                    )
                };
            }
            Event::CloseCallComplete { vc, status } => {
                dbg_print!(level::TRACE, "{vc:?}: call closed, status {status:#x}");
                // SAFETY: as above; the call is point to point (no party).
                unsafe {
                    ndis::NdisCmCloseCallComplete(
                        ndis_status(status),
                        self.handle(vc),
                        ptr::null_mut(),
                    )
                };
            }
            Event::DeleteVc { vc } => self.delete_vc(vc),
            Event::OidComplete { request, status } => {
                // The driver answers every OID synchronously, so none is ever pended.
                dbg_print!(
                    level::ERROR,
                    "unexpected OID completion {request:?} {status:#x}"
                );
            }
            Event::PauseComplete => self.pause_complete(),
            Event::HaltReady => self.adapter.halt_ready.set(),
            Event::LowerPauseComplete { binding } | Event::LowerUnbindReady { binding } => {
                if let Some(binding) = crate::lower::binding(binding) {
                    binding.drained();
                }
            }
        }
    }
}

impl DriverEgress<'_> {
    fn send_complete(&mut self, vc: VcId, mut packet: Nbl, result: engine_status::Status) {
        packet.set_status(ndis_status(result));
        let handle = self.handle(vc);
        if handle.is_null() {
            // Only NDIS knows where a send of a VC it no longer has goes; keeping the NBL is
            // better than completing it on no VC.
            dbg_print!(
                level::ERROR,
                "{vc:?}: send completion for a deleted VC, NBL kept"
            );
            core::mem::forget(packet);
            return;
        }
        // SAFETY: NDISWAN's send came in on this VC, whose NDIS handle stays valid until every
        // send on it is complete (the engine completes them all before DeleteVc); the NBL leaves
        // the driver here, once.
        unsafe { ndis::NdisMCoSendNetBufferListsComplete(handle, packet.into_raw().as_ptr(), 0) };
    }

    /// A send for the wire: each of its NET_BUFFERs is one frame (WDK: "NET_BUFFER
    /// architecture"). Over loopback every frame is copied into a receive NBL for the peer VC
    /// and the send completes at once, before the frames are indicated (all of them, or none
    /// when memory runs out); a PPPoE send goes to its binding (see the transport).
    fn transmit(&mut self, route: Route, tag: TxTag, mut packet: Nbl) {
        let adapter = self.adapter;
        match route {
            Route::Loopback(peer) => {
                let mut frames = NblChain::new();
                let mut copied = true;
                for nb in packet.net_buffers_mut().filter(|nb| nb.data_length() > 0) {
                    let frame = adapter.frames.take(|buffer| {
                        let len = copy_net_buffer(nb, &mut buffer[..FRAME_BUFFER_BYTES])?;
                        Some(0..len)
                    });
                    match frame {
                        Some(frame) => frames.push_back(frame),
                        None => {
                            copied = false;
                            break;
                        }
                    }
                }
                let result = if copied {
                    engine_status::SUCCESS
                } else {
                    engine_status::RESOURCES
                };
                adapter.engine.transmit_complete(tag, packet, result, self);
                for mut frame in frames {
                    if !copied {
                        // SAFETY: the frame came from this adapter's pool just above.
                        unsafe { adapter.frames.give_back(frame, false) };
                        continue;
                    }
                    let len = frame.first_net_buffer().map_or(0, |nb| nb.data_length());
                    adapter.engine.receive_on_vc(peer, frame, len, self);
                }
            }
            Route::Pppoe(key) => adapter.transport.transmit(adapter, key, tag, packet, self),
        }
    }

    fn indicate_receive(&mut self, vc: VcId, mut packet: Nbl) {
        let handle = self.handle(vc);
        packet.set_source_handle(handle);
        // SAFETY: the NBL is the driver's own (the receive pool), described completely; NDIS
        // gives it back through MiniportReturnNetBufferLists.
        unsafe {
            ndis::NdisMCoIndicateReceiveNetBufferLists(handle, packet.into_raw().as_ptr(), 1, 0)
        };
    }

    fn link_params(&mut self, vc: VcId, params: LinkParams) {
        let mut buffer = WanCoLinkParams {
            transmit_speed: params.transmit_speed,
            receive_speed: params.receive_speed,
            send_window: params.send_window,
        };
        let mut indication = StatusIndication {
            header: NdisObjectHeader::new(
                OBJECT_TYPE_STATUS_INDICATION,
                STATUS_INDICATION_REVISION_1,
                SIZEOF_STATUS_INDICATION_REVISION_1,
            ),
            source_handle: self.adapter.miniport,
            port_number: 0,
            status_code: wan_status::WAN_CO_LINKPARAMS,
            flags: 0,
            destination_handle: ptr::null_mut(),
            request_id: ptr::null_mut(),
            status_buffer: (&raw mut buffer).cast(),
            status_buffer_size: core::mem::size_of::<WanCoLinkParams>() as u32,
            guid: Guid::default(),
            ndis_reserved: [ptr::null_mut(); 4],
        };
        dbg_print!(
            level::TRACE,
            "{vc:?}: link {} B/s out, {} B/s in, window {}",
            params.transmit_speed,
            params.receive_speed,
            params.send_window
        );
        // SAFETY: the indication and its buffer live across the call; the VC handle is live.
        unsafe {
            ndis::NdisMCoIndicateStatusEx(self.adapter.miniport, self.handle(vc), &mut indication)
        };
    }

    /// Fills the speeds of the call (WDK: "Making outgoing calls": the MCM sets
    /// Transmit/Receive PeakBandwidth and CALL_PARAMETERS_CHANGED) and activates the VC.
    fn activate_vc(&mut self, vc: VcId) {
        let parameters = self.call_parameters(vc);
        let link = self.adapter.engine.vc_link(vc).unwrap_or_default();
        if !parameters.is_null() {
            // SAFETY: the call parameters of a live call stay valid until its make call or
            // incoming call completes; the engine activates before that.
            unsafe { fill_call_speeds(parameters, link) };
        }
        // SAFETY: the VC handle is live; the parameters are the call's.
        let result = unsafe { ndis::NdisMCmActivateVc(self.handle(vc), parameters) };
        dbg_print!(level::TRACE, "{vc:?}: activate -> {result:#x}");
        if result != status::PENDING {
            self.adapter
                .engine
                .activate_vc_complete(vc, result as u32, self);
        }
    }

    fn deactivate_vc(&mut self, vc: VcId) {
        // SAFETY: the VC handle is live; every send on it has completed (engine guarantee).
        let result = unsafe { ndis::NdisMCmDeactivateVc(self.handle(vc)) };
        dbg_print!(level::TRACE, "{vc:?}: deactivate -> {result:#x}");
        if result != status::PENDING {
            self.adapter.engine.deactivate_vc_complete(vc, self);
        }
    }

    fn make_call_complete(&mut self, vc: VcId, result: engine_status::Status) {
        dbg_print!(level::TRACE, "{vc:?}: make call -> {result:#x}");
        let parameters = self.call_parameters(vc);
        // SAFETY: the VC handle and the call parameters NDPROXY passed to ProtocolCmMakeCall
        // are live until this completion; the call is point to point (no party).
        unsafe {
            ndis::NdisCmMakeCallComplete(
                ndis_status(result),
                self.handle(vc),
                ptr::null_mut(),
                ptr::null_mut(),
                parameters,
            )
        };
    }

    /// `NdisMCmCreateVc` for the call manager's VC, then `NdisMCmDispatchIncomingCall` with
    /// parameters the driver builds (WDK: "Accepting incoming calls"). NdisMCmCreateVc needs
    /// PASSIVE_LEVEL: from anywhere else this goes through the deferred work.
    pub fn dispatch_incoming_call(&mut self, vc: VcId, line: LineId) {
        let adapter = self.adapter;
        if !self.passive {
            if adapter
                .deferred
                .push(adapter, Deferred::Dispatch { vc, line })
                .is_err()
            {
                dbg_print!(
                    level::ERROR,
                    "{vc:?}: deferred work full, incoming call refused"
                );
                adapter
                    .engine
                    .incoming_call_complete(vc, engine_status::RESOURCES, self);
            }
            return;
        }
        let Some(entry) = adapter.vc_entry(vc) else {
            return;
        };
        let af = adapter.af_handle.load(Ordering::Acquire);
        let mut handle = ptr::null_mut();
        let context: *const _ = entry;
        // SAFETY: the miniport and AF handles are live; the context is the VC's entry, which
        // lives as long as the adapter.
        let created = unsafe {
            ndis::NdisMCmCreateVc(adapter.miniport, af, context.cast_mut().cast(), &mut handle)
        };
        if created != status::SUCCESS {
            dbg_print!(level::ERROR, "{vc:?}: NdisMCmCreateVc failed {created:#x}");
            adapter
                .engine
                .incoming_call_complete(vc, created as u32, self);
            return;
        }
        entry.attach(vc, handle);
        let link = adapter.engine.vc_link(vc).unwrap_or_default();
        let block = entry.incoming.get();
        // SAFETY: `DispatchIncomingCall` is delivered once per call, so nothing else touches
        // the block now, and NDIS has not been given its address yet.
        let bytes = unsafe { &mut (*block).0 };
        let base = bytes.as_ptr() as usize;
        build_incoming_call(
            bytes,
            base,
            &IncomingCall {
                line_id: line.0,
                bytes_per_second: link.receive_speed,
                max_frame_size: MAX_FRAME_SIZE,
            },
        );
        let parameters = bytes.as_mut_ptr().cast::<CoCallParameters>();
        entry.call_parameters.store(parameters, Ordering::Release);
        dbg_print!(level::TRACE, "{vc:?}: incoming call on line {}", line.0);
        // SAFETY: the SAP and VC handles are live; the parameters stay in the VC's entry.
        let result = unsafe {
            ndis::NdisCmDispatchIncomingCall(adapter.sap_handle_for(line), handle, parameters)
        };
        if result != status::PENDING {
            adapter
                .engine
                .incoming_call_complete(vc, result as u32, self);
        }
    }

    fn delete_vc(&mut self, vc: VcId) {
        let Some(entry) = self.adapter.vc_entry(vc).filter(|e| e.vc() == Some(vc)) else {
            return;
        };
        let handle = entry.handle();
        entry.detach();
        if handle.is_null() {
            return;
        }
        if !self.passive {
            if self
                .adapter
                .deferred
                .push(self.adapter, Deferred::Delete { vc, handle })
                .is_err()
            {
                dbg_print!(level::ERROR, "{vc:?}: deferred work full, VC handle leaked");
            }
            return;
        }
        // SAFETY: the call manager created this VC with NdisMCmCreateVc and deletes it once,
        // here, at PASSIVE_LEVEL.
        let result = unsafe { ndis::NdisMCmDeleteVc(handle) };
        dbg_print!(level::TRACE, "{vc:?}: deleted -> {result:#x}");
    }

    fn pause_complete(&mut self) {
        let pause = &self.adapter.pause;
        let inline = pause.compare_exchange(
            pause_state::IN_CALL,
            pause_state::DONE_IN_CALL,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        if inline.is_ok() {
            return;
        }
        let pended = pause.compare_exchange(
            pause_state::PENDING,
            pause_state::IDLE,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        if pended.is_ok() {
            // SAFETY: MiniportPause returned PENDING for this adapter; the state change above
            // lets exactly one completion through.
            unsafe { ndis::NdisMPauseComplete(self.adapter.miniport) };
        } else {
            dbg_print!(level::ERROR, "pause completion with no pause under way");
        }
    }
}

/// Sets both flow specs' `PeakBandwidth` (bytes per second) and marks the parameters changed.
///
/// # Safety
/// `parameters` points to valid, writable `CO_CALL_PARAMETERS` whose non-NULL
/// `CallMgrParameters` is valid and writable.
unsafe fn fill_call_speeds(parameters: *mut CoCallParameters, link: LinkParams) {
    // SAFETY: valid per the caller.
    let parameters = unsafe { &mut *parameters };
    // SAFETY: NULL or valid per the caller.
    if let Some(cm) = unsafe { parameters.call_mgr_parameters.as_mut() } {
        cm.transmit.peak_bandwidth = link.transmit_speed;
        cm.receive.peak_bandwidth = link.receive_speed;
        cm.transmit.max_sdu_size = MAX_FRAME_SIZE;
        cm.receive.max_sdu_size = MAX_FRAME_SIZE;
        parameters.flags |= call_flags::CALL_PARAMETERS_CHANGED;
    }
}
