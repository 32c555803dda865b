//! One miniport adapter: the engine, the NDIS handles the engine does not keep (VC, AF and SAP
//! handles, call parameters), the receive pool and the events halt waits on.

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::fmt::Write;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, Ordering};

use rswan_config::Settings;
use rswan_engine::ids::{LineId, VcId};
use rswan_engine::{Config, ConfigError, Engine};
use rswan_ndis::call_params::INCOMING_CALL_BYTES;
use rswan_ndis::callmgr::CoCallParameters;
use rswan_ndis::event::Event;
use rswan_ndis::memory::PoolBox;
use rswan_ndis::miniport::{self, MAX_PHYS_ADDRESS_LENGTH, interface, medium};
use rswan_ndis::oid::{AdapterOidInfo, SUPPORTED_OIDS};
use rswan_ndis::tapi_caps::LineDescription;
use rswan_ndis::types::NdisHandle;
use rswan_ndis::wan::{NdisCoLinkSpeed, NdisWanCoInfo, NdisWanCoLinkInfo, framing, medium_subtype};

use crate::POOL_TAG;
use crate::deferred::DeferredWork;
use crate::fallible;
use crate::frames::FramePool;
use crate::platform::NdisPlatform;
use crate::transport::Transport;

/// The largest PPP frame (protocol field and information) a VC carries: a 1500-byte Ethernet
/// payload less the 6-byte PPPoE header and the 2-byte PPP protocol field (RFC 2516 §7).
pub const MAX_FRAME_SIZE: u32 = 1492;
/// Link speed reported for the adapter and its lines, in bits per second.
const LINK_BITS_PER_SECOND: u32 = 100_000_000;

/// How the adapter's TAPI lines are used: the first `pppoe` dial PPPoE; then come pairs of
/// loopback lines wired to each other (2k and 2k+1 after the PPPoE ones).
#[derive(Debug, Clone, Copy)]
pub struct LinePlan {
    pub pppoe: u32,
    pub loopback_pairs: u32,
}

impl LinePlan {
    /// The lines the registry settings ask for.
    pub fn of(settings: &Settings) -> LinePlan {
        LinePlan {
            pppoe: settings.pppoe_lines,
            loopback_pairs: settings.loopback_pairs,
        }
    }

    pub fn count(&self) -> u32 {
        self.pppoe + 2 * self.loopback_pairs
    }

    /// The line a loopback line is wired to; `None` for a PPPoE line.
    pub fn loopback_peer(&self, line: LineId) -> Option<LineId> {
        let relative = line.0.checked_sub(self.pppoe)?;
        (relative < 2 * self.loopback_pairs).then_some(LineId(self.pppoe + (relative ^ 1)))
    }

    /// The TAPI name of a line, e.g. "rswan PPPoE 0" or "rswan loopback 1B".
    fn name(&self, line: u32) -> LineName {
        let mut name = LineName::default();
        let _ = if line < self.pppoe {
            write!(name, "rswan PPPoE {line}")
        } else {
            let relative = line - self.pppoe;
            let end = if relative.is_multiple_of(2) { 'A' } else { 'B' };
            write!(name, "rswan loopback {}{end}", relative / 2)
        };
        name
    }
}

/// A line name, ASCII, short enough for the stack.
#[derive(Default)]
pub struct LineName {
    bytes: [u8; 32],
    len: usize,
}

impl core::fmt::Write for LineName {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dest = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl LineName {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The service name of an outgoing PPPoE call (the address given to lineMakeCall), ASCII.
#[derive(Clone, Copy)]
pub struct ServiceName {
    bytes: [u8; 64],
    len: usize,
}

impl Default for ServiceName {
    fn default() -> Self {
        ServiceName {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl ServiceName {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The parameter block of an incoming call the call manager builds (8-byte aligned, as
/// `build_incoming_call` requires).
#[repr(C, align(8))]
pub struct IncomingBlock(pub [u8; INCOMING_CALL_BYTES]);

/// What the driver keeps per VC slot of the engine (indexed like the engine's pool). Its
/// address is the VC's `MiniportVcContext`/`ProtocolVcContext`.
pub struct VcEntry {
    pub adapter: *const Adapter,
    /// The engine's id of the VC now in this slot (0: none).
    pub id: AtomicU32,
    /// NDIS's handle of the VC.
    pub ndis_handle: AtomicPtr<c_void>,
    /// The call parameters of the current call: NDPROXY's for an outgoing call, `incoming`
    /// for an incoming one.
    pub call_parameters: AtomicPtr<CoCallParameters>,
    /// `OID_WAN_CO_SET_LINK_INFO` as last set (NDIS submits one request at a time, so the
    /// words are never written concurrently).
    pub link_info: [AtomicU32; 8],
    /// Written only while the one `DispatchIncomingCall` of the VC's call is delivered, before
    /// NDIS is given its address.
    pub incoming: UnsafeCell<IncomingBlock>,
    /// Written by ProtocolCmMakeCall before it hands the call to the engine, read by the
    /// engine's `Dial` that follows; the engine's VC lock orders the two.
    service: UnsafeCell<ServiceName>,
}

// SAFETY: the atomics are shared safely; `incoming` is written by exactly one delivery per call
// (the engine emits `DispatchIncomingCall` once per call) before its address is published to
// NDIS, and only NDIS reads it afterwards.
unsafe impl Sync for VcEntry {}
// SAFETY: as above; the raw adapter pointer refers to the adapter that owns this entry.
unsafe impl Send for VcEntry {}

impl VcEntry {
    pub fn vc(&self) -> Option<VcId> {
        VcId::from_raw(self.id.load(Ordering::Acquire))
    }

    pub fn adapter(&self) -> &Adapter {
        // SAFETY: entries live inside their adapter, which outlives them.
        unsafe { &*self.adapter }
    }

    pub fn handle(&self) -> NdisHandle {
        self.ndis_handle.load(Ordering::Acquire)
    }

    /// Makes the slot describe `vc` with NDIS handle `handle`; the link info starts at the
    /// defaults of `OID_WAN_CO_GET_INFO` (PPP framing until NDISWAN sets it).
    pub fn attach(&self, vc: VcId, handle: NdisHandle) {
        self.ndis_handle.store(handle, Ordering::Release);
        self.call_parameters
            .store(ptr::null_mut(), Ordering::Release);
        let defaults = NdisWanCoLinkInfo {
            max_send_frame_size: MAX_FRAME_SIZE,
            max_recv_frame_size: MAX_FRAME_SIZE,
            send_framing_bits: framing::PPP_FRAMING,
            recv_framing_bits: framing::PPP_FRAMING,
            ..Default::default()
        };
        self.store_link_info(&defaults);
        self.id.store(vc.to_raw(), Ordering::Release);
    }

    /// Records the service name of an outgoing call (ProtocolCmMakeCall, before the engine
    /// sees the call).
    pub fn set_service(&self, name: &[u8]) {
        let mut service = ServiceName::default();
        let len = name.len().min(service.bytes.len());
        service.bytes[..len].copy_from_slice(&name[..len]);
        service.len = len;
        // SAFETY: only the make call of the VC writes, before the engine can emit the Dial
        // that reads it (see the field's documentation).
        unsafe { *self.service.get() = service };
    }

    /// The service name of the VC's outgoing call.
    pub fn service(&self) -> ServiceName {
        // SAFETY: read by the `Dial` delivery, after the make call wrote it.
        unsafe { *self.service.get() }
    }

    pub fn detach(&self) {
        self.id.store(0, Ordering::Release);
        self.ndis_handle.store(ptr::null_mut(), Ordering::Release);
        self.call_parameters
            .store(ptr::null_mut(), Ordering::Release);
    }

    pub fn store_link_info(&self, info: &NdisWanCoLinkInfo) {
        let words = [
            info.max_send_frame_size,
            info.max_recv_frame_size,
            info.send_framing_bits,
            info.recv_framing_bits,
            info.send_compression_bits,
            info.recv_compression_bits,
            info.send_accm,
            info.recv_accm,
        ];
        for (slot, word) in self.link_info.iter().zip(words) {
            slot.store(word, Ordering::Relaxed);
        }
    }

    pub fn link_info(&self) -> NdisWanCoLinkInfo {
        let w = |i: usize| self.link_info[i].load(Ordering::Relaxed);
        NdisWanCoLinkInfo {
            max_send_frame_size: w(0),
            max_recv_frame_size: w(1),
            send_framing_bits: w(2),
            recv_framing_bits: w(3),
            send_compression_bits: w(4),
            recv_compression_bits: w(5),
            send_accm: w(6),
            recv_accm: w(7),
        }
    }
}

/// A registered SAP: its address is the `CallMgrSapContext`. One per line, and one more for a
/// SAP registered for every line (`CO_TAPI_LINE_ID_UNSPECIFIED`).
pub struct SapEntry {
    pub adapter: *const Adapter,
    /// The line, or `None` for all lines.
    pub line: Option<LineId>,
    pub ndis_handle: AtomicPtr<c_void>,
}

// SAFETY: the handle is atomic; the adapter pointer refers to the adapter that owns the entry.
unsafe impl Sync for SapEntry {}
// SAFETY: as above.
unsafe impl Send for SapEntry {}

/// `MiniportPause` and the engine's `PauseComplete` race: whichever comes second decides
/// whether the pause completes synchronously or through `NdisMPauseComplete`.
pub mod pause_state {
    pub const IDLE: u8 = 0;
    /// MiniportPause is running.
    pub const IN_CALL: u8 = 1;
    /// PauseComplete came while MiniportPause was running: it returns SUCCESS.
    pub const DONE_IN_CALL: u8 = 2;
    /// MiniportPause returned PENDING: PauseComplete calls NdisMPauseComplete.
    pub const PENDING: u8 = 3;
}

pub struct Adapter {
    pub miniport: NdisHandle,
    /// The registry settings read at initialisation, checked (in pool memory of their own:
    /// they are read once per binding, and keep the adapter's value small).
    pub settings: PoolBox<Settings>,
    pub lines: LinePlan,
    pub engine: Engine<NdisPlatform>,
    pub vcs: Box<[VcEntry]>,
    pub saps: Box<[SapEntry]>,
    /// NDPROXY's handle of the open address family (NULL when closed).
    pub af_handle: AtomicPtr<c_void>,
    pub frames: FramePool,
    pub transport: Transport,
    pub deferred: DeferredWork,
    pub pause: AtomicU8,
    /// Set by the engine's `HaltReady`.
    pub halt_ready: Event,
    /// Set by ProtocolCmNotifyCloseAfComplete.
    pub af_closed: Event,
    pub wan_info: NdisWanCoInfo,
    pub wan_address: [u8; 6],
    line_names: Box<[LineName]>,
}

// SAFETY: the miniport handle is usable from any processor; every other field is Sync.
unsafe impl Sync for Adapter {}
// SAFETY: as above.
unsafe impl Send for Adapter {}

/// Why an adapter could not be built.
#[derive(Debug)]
pub enum CreateError {
    /// Out of pool memory (or NBL pools, work items, timers): NDIS_STATUS_RESOURCES.
    Resources,
    /// A configuration the engine refuses: NDIS_STATUS_FAILURE.
    Config(ConfigError),
}

impl Adapter {
    /// Builds the adapter's state in pool memory, at the address it keeps until halt, with its
    /// entries pointing back at it. Its parts live in pool memory of their own, so the value
    /// that moves into place is small (kernel stacks are 12 KB on x86: the image check bounds
    /// every frame).
    ///
    /// IRQL: PASSIVE_LEVEL.
    ///
    /// # Safety
    /// `miniport` is the miniport adapter handle of MiniportInitializeEx.
    // Out of line, so MiniportInitializeEx's frame does not also hold the adapter being built.
    #[inline(never)]
    pub unsafe fn create(
        miniport: NdisHandle,
        settings: &Settings,
    ) -> Result<PoolBox<Adapter>, CreateError> {
        let lines = LinePlan::of(settings);
        let config = Config {
            lines: lines.count(),
            bindings: crate::lower::MAX_BINDINGS as u16,
            ..Config::default()
        };
        let engine = Engine::new(config).map_err(|error| match error {
            ConfigError::OutOfMemory => CreateError::Resources,
            invalid => CreateError::Config(invalid),
        })?;
        let vcs = fallible::boxed_slice(config.max_vcs as usize, |_| VcEntry {
            adapter: ptr::null(),
            id: AtomicU32::new(0),
            ndis_handle: AtomicPtr::new(ptr::null_mut()),
            call_parameters: AtomicPtr::new(ptr::null_mut()),
            link_info: [const { AtomicU32::new(0) }; 8],
            incoming: UnsafeCell::new(IncomingBlock([0; INCOMING_CALL_BYTES])),
            service: UnsafeCell::new(ServiceName::default()),
        })
        .ok_or(CreateError::Resources)?;
        let saps = fallible::boxed_slice(lines.count() as usize + 1, |line| SapEntry {
            adapter: ptr::null(),
            line: (line < lines.count() as usize).then_some(LineId(line as u32)),
            ndis_handle: AtomicPtr::new(ptr::null_mut()),
        })
        .ok_or(CreateError::Resources)?;
        let line_names =
            fallible::boxed_slice(lines.count() as usize, |line| lines.name(line as u32))
                .ok_or(CreateError::Resources)?;
        let transport = Transport::new(lines.count()).ok_or(CreateError::Resources)?;
        // SAFETY: `miniport` is the live adapter handle (caller's guarantee).
        let frames = unsafe { FramePool::new(miniport) }.ok_or(CreateError::Resources)?;
        // SAFETY: as above.
        let deferred = unsafe { DeferredWork::new(miniport) }.ok_or(CreateError::Resources)?;
        // SAFETY: as above.
        let halt_ready = unsafe { Event::new(miniport, POOL_TAG) }.ok_or(CreateError::Resources)?;
        // SAFETY: as above.
        let af_closed = unsafe { Event::new(miniport, POOL_TAG) }.ok_or(CreateError::Resources)?;
        // SAFETY: as above.
        let settings = unsafe { PoolBox::new(miniport, POOL_TAG, *settings) }
            .map_err(|_| CreateError::Resources)?;
        let make = || Adapter {
            miniport,
            settings,
            lines,
            engine,
            vcs,
            saps,
            af_handle: AtomicPtr::new(ptr::null_mut()),
            frames,
            transport,
            deferred,
            pause: AtomicU8::new(pause_state::IDLE),
            halt_ready,
            af_closed,
            wan_info: NdisWanCoInfo {
                max_frame_size: MAX_FRAME_SIZE,
                max_send_window: config.max_send_window,
                framing_bits: framing::PPP_FRAMING | framing::TAPI_PROVIDER,
                desired_accm: 0,
            },
            // A locally administered unicast address (IEEE 802: bit 1 of the first octet set).
            wan_address: [0x02, 0x72, 0x73, 0x77, 0x61, 0x6e],
            line_names,
        };
        // SAFETY: as above.
        let mut adapter =
            unsafe { PoolBox::new_with(miniport, POOL_TAG, make) }.ok_or(CreateError::Resources)?;
        adapter.link_entries();
        Ok(adapter)
    }

    /// Points every entry back at the adapter, once it is at its final address.
    fn link_entries(&mut self) {
        let me: *const Adapter = self;
        for vc in self.vcs.iter_mut() {
            vc.adapter = me;
        }
        for sap in self.saps.iter_mut() {
            sap.adapter = me;
        }
    }

    pub fn vc_entry(&self, vc: VcId) -> Option<&VcEntry> {
        self.vcs.get(vc.index() as usize)
    }

    /// The SAP entry to register for `line_id` (`CO_TAPI_LINE_ID_UNSPECIFIED`: all lines).
    pub fn sap_entry(&self, line_id: u32) -> Option<&SapEntry> {
        if line_id == rswan_ndis::tapi::ID_UNSPECIFIED {
            self.saps.last()
        } else {
            self.saps
                .get(line_id as usize)
                .filter(|_| line_id < self.lines.count())
        }
    }

    /// The NDIS handle of the SAP an incoming call on `line` is dispatched to.
    pub fn sap_handle_for(&self, line: LineId) -> NdisHandle {
        let own = self
            .saps
            .get(line.0 as usize)
            .map_or(ptr::null_mut(), |s| s.ndis_handle.load(Ordering::Acquire));
        if own.is_null() {
            self.saps
                .last()
                .map_or(ptr::null_mut(), |s| s.ndis_handle.load(Ordering::Acquire))
        } else {
            own
        }
    }

    /// How a line presents itself to TAPI (`OID_CO_TAPI_LINE_CAPS`).
    pub fn describe_line(&self, line: u32) -> LineDescription<'_> {
        LineDescription {
            name: self
                .line_names
                .get(line as usize)
                .map_or(b"rswan", |n| n.as_bytes()),
            provider_info: b"PPPoE\0rswan\0",
            max_rate_bps: LINK_BITS_PER_SECOND,
        }
    }

    pub fn oid_info(&self) -> AdapterOidInfo<'static> {
        let speed = LINK_BITS_PER_SECOND / 100;
        AdapterOidInfo {
            vendor_id: 0x00FF_FFFF,
            vendor_description: b"rswan PPPoE WAN miniport",
            vendor_driver_version: 0x0000_0001,
            ndis_version: (u16::from(miniport::NDIS_MAJOR_VERSION) << 8)
                | u16::from(miniport::NDIS_MINOR_VERSION),
            mac_options: interface::MAC_OPTION_NO_LOOPBACK,
            link_speed: NdisCoLinkSpeed {
                outbound: speed,
                inbound: speed,
            },
            wan_info: self.wan_info,
            wan_address: self.wan_address,
            medium_subtype: medium_subtype::PPPOE,
            supported_oids: SUPPORTED_OIDS,
        }
    }

    /// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES` of a CoWan adapter (WDK:
    /// ns-ndis-_ndis_miniport_adapter_general_attributes; the inbox WAN Miniport (PPPOE)'s
    /// `*IfType` 23 and `*MediaType` 12).
    pub fn general_attributes(&self) -> miniport::MiniportAdapterGeneralAttributes {
        let mut address = [0u8; MAX_PHYS_ADDRESS_LENGTH];
        address[..6].copy_from_slice(&self.wan_address);
        let speed = u64::from(LINK_BITS_PER_SECOND);
        miniport::MiniportAdapterGeneralAttributes {
            header: rswan_ndis::NdisObjectHeader::new(
                miniport::object_type::MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                miniport::MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                miniport::SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
            ),
            flags: 0,
            media_type: medium::CO_WAN,
            physical_medium_type: interface::PHYSICAL_MEDIUM_UNSPECIFIED,
            mtu_size: MAX_FRAME_SIZE,
            max_xmit_link_speed: speed,
            xmit_link_speed: speed,
            max_rcv_link_speed: speed,
            rcv_link_speed: speed,
            media_connect_state: interface::MEDIA_CONNECT_STATE_CONNECTED,
            media_duplex_state: interface::MEDIA_DUPLEX_STATE_FULL,
            lookahead_size: MAX_FRAME_SIZE,
            power_management_capabilities: ptr::null_mut(),
            mac_options: interface::MAC_OPTION_NO_LOOPBACK,
            supported_packet_filters: 0,
            max_multicast_list_size: 0,
            mac_address_length: 6,
            permanent_mac_address: address,
            current_mac_address: address,
            recv_scale_capabilities: ptr::null_mut(),
            access_type: interface::ACCESS_POINT_TO_POINT,
            direction_type: interface::DIRECTION_SENDRECEIVE,
            connection_type: interface::CONNECTION_DEMAND,
            if_type: interface::IF_TYPE_PPP,
            if_connector_present: 0,
            supported_statistics: 0,
            supported_pause_functions: 0,
            data_back_fill_size: 0,
            context_back_fill_size: 0,
            supported_oid_list: SUPPORTED_OIDS.as_ptr(),
            supported_oid_list_length: core::mem::size_of_val(SUPPORTED_OIDS) as u32,
            auto_negotiation_flags: 0,
            power_management_capabilities_ex: ptr::null_mut(),
        }
    }
}
