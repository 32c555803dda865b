//! The lower edge: an NDIS 6 protocol bound to Ethernet (802.3) adapters, which carries the
//! PPPoE frames (WDK: "Writing NDIS protocol drivers"; ns-ndis-_ndis_protocol_driver_characteristics).
//!
//! Bind, unbind and PnP events run at PASSIVE_LEVEL, so they wait for their completions (an
//! open, a close, the packet-filter request, the engine draining a binding) on an NDIS event
//! instead of splitting into completion routines. Each binding takes a slot; the slot number
//! is the engine's `BindingId`. Frames go to the transport of the adapter that owns the lower
//! edge ([`crate::transport`]).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, Ordering};

use rswan_engine::ids::BindingId;
use rswan_ndis::buffer::{NetBufferList, flags};
use rswan_ndis::chain::NblChain;
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::event::Event;
use rswan_ndis::imports as ndis;
use rswan_ndis::lend::Loan;
use rswan_ndis::memory::{NblPool, PoolBox};
use rswan_ndis::miniport::{NDIS_MAJOR_VERSION, NDIS_MINOR_VERSION, medium};
use rswan_ndis::oids::OID_GEN_CURRENT_PACKET_FILTER;
use rswan_ndis::protocol::{
    BindParameters, NetPnpEventNotification, OPEN_PARAMETERS_REVISION_1, OpenParameters,
    PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2, ProtocolDriverCharacteristics,
    SIZEOF_OPEN_PARAMETERS_REVISION_1, SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
    net_event, object_type, packet_filter,
};
use rswan_ndis::request::{
    OBJECT_TYPE_OID_REQUEST, OidRequest, OidRequestData, SetInformation, StatusIndication,
    request_type,
};
use rswan_ndis::types::{NdisHandle, NdisObjectHeader, NdisStatus, UnicodeString, status};
use rswan_pppoe::wire::{ETHERTYPE_DISCOVERY, ETHERTYPE_SESSION};

use crate::POOL_TAG;
use crate::adapter::Adapter;
use crate::egress::DriverEgress;
use crate::frames::FramePool;

/// Lower bindings at once; the engine is built with as many (`Config::bindings`).
pub const MAX_BINDINGS: usize = 4;

/// The protocol's name. It must equal the service name of the protocol half's INF
/// (NDIS finds the protocol's configuration under it).
const PROTOCOL_NAME: [u16; 5] = ascii_to_utf16(*b"rswan");

const fn ascii_to_utf16<const N: usize>(ascii: [u8; N]) -> [u16; N] {
    let mut wide = [0u16; N];
    let mut i = 0;
    while i < N {
        wide[i] = ascii[i] as u16;
        i += 1;
    }
    wide
}

static PROTOCOL_NAME_BUFFER: [u16; 5] = PROTOCOL_NAME;
static PROTOCOL_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
static BINDINGS: [AtomicPtr<Binding>; MAX_BINDINGS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_BINDINGS];
/// The adapter whose engine carries the PPPoE lines (the first one initialised), and how many
/// handlers are using it: halt waits until none is before the adapter goes.
static ADAPTER: AtomicPtr<Adapter> = AtomicPtr::new(ptr::null_mut());
static ADAPTER_USERS: AtomicU32 = AtomicU32::new(0);

/// The frame types the protocol receives: PPPoE discovery and session (EtherTypes in network
/// byte order, as `NET_FRAME_TYPE` holds them).
static FRAME_TYPES: [u16; 2] = [ETHERTYPE_DISCOVERY.to_be(), ETHERTYPE_SESSION.to_be()];
static MEDIA: [u32; 1] = [medium::IEEE_802_3];

/// `ProtocolReserved[0]` of an NBL the protocol sends: what it is, for the completion.
pub mod sent_kind {
    /// A frame of the binding's frame pool (a discovery frame).
    pub const FRAME: usize = 1;
    /// A clone of one of NDISWAN's sends, with the PPPoE header in front.
    pub const CLONE: usize = 2;
}

/// One open Ethernet adapter. Its address is the `ProtocolBindingContext`.
pub struct Binding {
    pub slot: u16,
    pub handle: AtomicPtr<c_void>,
    pub mac: [u8; 6],
    /// Link speed in bits per second, as the adapter reported it at bind time.
    pub link_speed: u64,
    /// Set by every completion a PASSIVE_LEVEL handler of this binding waits for.
    done: Event,
    result: AtomicI32,
    request: UnsafeCell<OidRequest>,
    filter: UnsafeCell<u32>,
    /// Discovery frames the transport sends.
    pub frames: FramePool,
    /// Clones of NDISWAN's sends.
    pub clones: NblPool,
    /// Sends handed to NDIS and not yet completed; closed for good before the close, which
    /// waits for none to be outstanding (WDK: nf-ndis-ndiscloseadapterex).
    sends: Gate,
    /// ProtocolReceiveNetBufferLists calls running: the close waits for none, so no
    /// NdisReturnNetBufferLists follows NdisCloseAdapterEx.
    receiving: AtomicU32,
    /// Received NBLs lent upward (crate::frames) and not yet returned; closed while the
    /// binding pauses, is paused or closes. A pause and the close wait for none to be
    /// outstanding: a binding is paused only once the protocol returned its receive
    /// indications (WDK: "Pausing a Binding"), and no return may follow the close.
    loans: Gate,
}

/// A count of operations in flight that can be closed to new ones and waited on: entering
/// counts first and then checks, so a closer that sees the count at zero after closing knows
/// no operation entered or will.
struct Gate {
    count: AtomicU32,
    closed: AtomicBool,
}

impl Gate {
    const fn new() -> Gate {
        Gate {
            count: AtomicU32::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// Counts one operation in; `false` (and nothing counted) while the gate is closed.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn enter(&self) -> bool {
        self.count.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.count.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Counts one operation out.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn leave(&self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }

    /// Refuses new operations.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Takes new operations again.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn reopen(&self) {
        self.closed.store(false, Ordering::SeqCst);
    }

    /// Refuses new operations and waits until none is in flight.
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn close_and_drain(&self) {
        self.close();
        while self.count.load(Ordering::SeqCst) != 0 {
            // SAFETY: PASSIVE_LEVEL, as this function requires.
            unsafe { ndis::NdisMSleep(100) };
        }
    }
}

// SAFETY: the handle and result are atomic; `request` and `filter` are written only by the
// bind handler before the request is issued and read by NDIS until it completes (NDIS runs bind,
// unbind and PnP of one binding one at a time); events and pools are Sync.
unsafe impl Sync for Binding {}
// SAFETY: as above.
unsafe impl Send for Binding {}

impl Binding {
    pub fn handle(&self) -> NdisHandle {
        self.handle.load(Ordering::Acquire)
    }

    pub fn id(&self) -> BindingId {
        BindingId(self.slot)
    }

    /// Records a completion and wakes the handler waiting for it.
    fn complete(&self, result: NdisStatus) {
        self.result.store(result, Ordering::Release);
        self.done.set();
    }

    /// Waits for the completion of an operation that returned PENDING.
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn finish(&self, returned: NdisStatus) -> NdisStatus {
        if returned != status::PENDING {
            return returned;
        }
        self.done.wait(0);
        self.done.reset();
        self.result.load(Ordering::Acquire)
    }

    /// Wakes the handler waiting for the engine to drain the binding (LowerPauseComplete,
    /// LowerUnbindReady).
    pub fn drained(&self) {
        self.complete(status::SUCCESS);
    }

    /// Counts a send about to go down; `false` (and nothing counted) once the binding closes.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn begin_send(&self) -> bool {
        self.sends.enter()
    }

    /// Counts a send that came back.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn end_send(&self) {
        self.sends.leave();
    }

    /// Waits until no receive handler of the binding is running and every lent NBL is back
    /// (unbind, after the slot is cleared and the sends are drained).
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn drain_receives(&self) {
        while self.receiving.load(Ordering::SeqCst) != 0 {
            // SAFETY: PASSIVE_LEVEL, as this function requires.
            unsafe { ndis::NdisMSleep(100) };
        }
        self.loans.close_and_drain();
    }

    /// Counts a received NBL about to be lent upward; `false` (and nothing counted) while the
    /// binding pauses or closes, when receive indications go back at once (copied first).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn begin_lend(&self) -> bool {
        self.loans.enter()
    }

    /// Counts a lent NBL that went back to the lower binding (or was never lent after all).
    /// This is the last use of the binding by that loan: a waiting unbind may free it next.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn end_lend(&self) {
        self.loans.leave();
    }
}

/// The binding in a slot, if any.
pub fn binding(id: BindingId) -> Option<&'static Binding> {
    let ptr = BINDINGS.get(usize::from(id.0))?.load(Ordering::Acquire);
    // SAFETY: a slot holds a live binding until unbind clears it, and unbind clears it only
    // after the engine stopped using the binding (LowerUnbindReady).
    unsafe { ptr.as_ref() }
}

/// Runs `f` on the adapter of the lower edge, if one is initialised; halt does not free the
/// adapter while `f` runs.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn with_adapter<R>(f: impl FnOnce(&Adapter) -> R) -> Option<R> {
    ADAPTER_USERS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: a non-NULL pointer is an initialised adapter; `detach_adapter` clears it and then
    // waits for the user count (raised above, before the load) to drop to zero.
    let result = unsafe { ADAPTER.load(Ordering::SeqCst).as_ref() }.map(f);
    ADAPTER_USERS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// Makes `adapter` the one the lower edge serves (the first adapter initialised) and tells its
/// engine about the bindings already open. Returns whether it is.
///
/// IRQL: PASSIVE_LEVEL.
pub fn attach_adapter(adapter: &Adapter) -> bool {
    let me = ptr::from_ref(adapter).cast_mut();
    if ADAPTER
        .compare_exchange(ptr::null_mut(), me, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return false;
    }
    for slot in 0..MAX_BINDINGS as u16 {
        if let Some(binding) = binding(BindingId(slot)) {
            adapter.transport.binding_up(adapter, binding);
            adapter
                .engine
                .bind(binding.id(), &mut DriverEgress::new(adapter));
        }
    }
    true
}

/// The adapter is going away: the lower edge serves none, and no handler uses it any more
/// when this returns.
///
/// IRQL: PASSIVE_LEVEL.
pub fn detach_adapter(adapter: &Adapter) {
    let me = ptr::from_ref(adapter).cast_mut();
    if ADAPTER
        .compare_exchange(me, ptr::null_mut(), Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    while ADAPTER_USERS.load(Ordering::SeqCst) != 0 {
        // SAFETY: PASSIVE_LEVEL, as this function requires.
        unsafe { ndis::NdisMSleep(100) };
    }
}

/// Registers the protocol half of the driver.
///
/// IRQL: PASSIVE_LEVEL.
pub fn register() -> NdisStatus {
    let characteristics = ProtocolDriverCharacteristics {
        header: NdisObjectHeader::new(
            object_type::PROTOCOL_DRIVER_CHARACTERISTICS,
            PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
            SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
        ),
        major_ndis_version: NDIS_MAJOR_VERSION,
        minor_ndis_version: NDIS_MINOR_VERSION,
        major_driver_version: 0,
        minor_driver_version: 1,
        flags: 0,
        name: UnicodeString {
            length: (PROTOCOL_NAME_BUFFER.len() * 2) as u16,
            maximum_length: (PROTOCOL_NAME_BUFFER.len() * 2) as u16,
            buffer: PROTOCOL_NAME_BUFFER.as_ptr().cast_mut(),
        },
        set_options: None,
        bind_adapter: Some(bind_adapter),
        unbind_adapter: Some(unbind_adapter),
        open_adapter_complete: Some(open_adapter_complete),
        close_adapter_complete: Some(close_adapter_complete),
        net_pnp_event: Some(net_pnp_event),
        uninstall: Some(uninstall),
        oid_request_complete: Some(oid_request_complete),
        status: Some(status_indication),
        receive_net_buffer_lists: Some(receive_net_buffer_lists),
        send_net_buffer_lists_complete: Some(send_net_buffer_lists_complete),
        direct_oid_request_complete: None,
    };
    let mut handle: NdisHandle = ptr::null_mut();
    // SAFETY: the characteristics are complete and copied by NDIS; the name is a static.
    let result =
        unsafe { ndis::NdisRegisterProtocolDriver(ptr::null_mut(), &characteristics, &mut handle) };
    if result == status::SUCCESS {
        PROTOCOL_HANDLE.store(handle, Ordering::Release);
    }
    dbg_print!(level::TRACE, "protocol registered -> {result:#x}");
    result
}

/// Deregisters the protocol half (at unload).
///
/// IRQL: PASSIVE_LEVEL.
pub fn deregister() {
    let handle = PROTOCOL_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !handle.is_null() {
        // SAFETY: the handle came from NdisRegisterProtocolDriver and is given back once.
        unsafe { ndis::NdisDeregisterProtocolDriver(handle) };
    }
}

/// The binding behind a binding context.
///
/// # Safety
/// `context` is a binding context the protocol gave NDIS in `bind_adapter`, not yet unbound.
unsafe fn from_context<'a>(context: NdisHandle) -> &'a Binding {
    // SAFETY: per the caller.
    unsafe { &*context.cast::<Binding>() }
}

/// ProtocolBindAdapterEx: open Ethernet adapters only, receive broadcast and directed frames.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn bind_adapter(
    _driver_context: NdisHandle,
    bind_context: NdisHandle,
    parameters: *mut BindParameters,
) -> NdisStatus {
    // SAFETY: NDIS passes valid bind parameters for the duration of the call.
    let parameters = unsafe { &*parameters };
    if parameters.media_type != medium::IEEE_802_3 || parameters.mac_address_length != 6 {
        return status::UNSUPPORTED_MEDIA;
    }
    let protocol = PROTOCOL_HANDLE.load(Ordering::Acquire);
    let Some(slot) = BINDINGS
        .iter()
        .position(|s| s.load(Ordering::Acquire).is_null())
    else {
        dbg_print!(
            level::WARNING,
            "bind refused: all {MAX_BINDINGS} binding slots in use"
        );
        return status::RESOURCES;
    };
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&parameters.current_mac_address[..6]);
    // SAFETY: the protocol handle is live while the driver is loaded.
    let done = unsafe { Event::new(protocol, POOL_TAG) };
    // SAFETY: as above.
    let frames = unsafe { FramePool::new(protocol) };
    // SAFETY: as above.
    let clones = unsafe { NblPool::new(protocol, POOL_TAG, 0, false) };
    let parts = (done, frames, clones);
    let (Some(done), Some(frames), Some(clones)) = parts else {
        return status::RESOURCES;
    };
    let binding = Binding {
        slot: slot as u16,
        handle: AtomicPtr::new(ptr::null_mut()),
        mac,
        link_speed: parameters.rcv_link_speed,
        done,
        result: AtomicI32::new(status::SUCCESS),
        request: UnsafeCell::new(blank_request()),
        filter: UnsafeCell::new(0),
        frames,
        clones,
        sends: Gate::new(),
        receiving: AtomicU32::new(0),
        loans: Gate::new(),
    };
    // SAFETY: as above.
    let Ok(binding) = (unsafe { PoolBox::new(protocol, POOL_TAG, binding) }) else {
        return status::RESOURCES;
    };
    let result = open(&binding, parameters, bind_context);
    if result != status::SUCCESS {
        dbg_print!(
            level::ERROR,
            "open of an Ethernet adapter failed: {result:#x}"
        );
        return result;
    }
    let result = set_packet_filter(&binding);
    if result != status::SUCCESS {
        dbg_print!(level::ERROR, "packet filter refused: {result:#x}");
        close(&binding);
        return result;
    }
    let binding = binding.into_raw();
    BINDINGS[slot].store(binding.as_ptr(), Ordering::Release);
    // SAFETY: just published; lives until unbind.
    let binding = unsafe { binding.as_ref() };
    dbg_print!(
        level::TRACE,
        "bound to {:02x?} in slot {slot}, {} Kibit/s",
        binding.mac,
        // Narrowed before formatting: 64-bit division needs the CRT helpers on x86.
        (binding.link_speed >> 10).min(u64::from(u32::MAX)) as u32
    );
    with_adapter(|adapter| {
        adapter.transport.binding_up(adapter, binding);
        adapter
            .engine
            .bind(binding.id(), &mut DriverEgress::new(adapter));
    });
    status::SUCCESS
}

fn blank_request() -> OidRequest {
    OidRequest {
        header: NdisObjectHeader::new(OBJECT_TYPE_OID_REQUEST, 1, size_of_oid_request()),
        request_type: request_type::SET_INFORMATION,
        port_number: 0,
        timeout: 0,
        request_id: ptr::null_mut(),
        request_handle: ptr::null_mut(),
        data: OidRequestData {
            set: SetInformation {
                oid: 0,
                information_buffer: ptr::null_mut(),
                information_buffer_length: 0,
                bytes_read: 0,
                bytes_needed: 0,
            },
        },
        ndis_reserved: [0; 16 * core::mem::size_of::<usize>()],
        miniport_reserved: [0; 2 * core::mem::size_of::<usize>()],
        source_reserved: [0; 2 * core::mem::size_of::<usize>()],
        supported_revision: 0,
        reserved1: 0,
        reserved2: 0,
    }
}

/// `NDIS_SIZEOF_OID_REQUEST_REVISION_1`.
fn size_of_oid_request() -> usize {
    rswan_ndis::size_through!(OidRequest, reserved2)
}

/// NdisOpenAdapterEx, waiting for its completion.
///
/// IRQL: PASSIVE_LEVEL.
fn open(binding: &Binding, parameters: &BindParameters, bind_context: NdisHandle) -> NdisStatus {
    let mut selected = 0u32;
    let mut open = OpenParameters {
        header: NdisObjectHeader::new(
            object_type::OPEN_PARAMETERS,
            OPEN_PARAMETERS_REVISION_1,
            SIZEOF_OPEN_PARAMETERS_REVISION_1,
        ),
        adapter_name: parameters.adapter_name,
        medium_array: MEDIA.as_ptr().cast_mut(),
        medium_array_size: MEDIA.len() as u32,
        selected_medium_index: &mut selected,
        frame_type_array: FRAME_TYPES.as_ptr().cast_mut(),
        frame_type_array_size: FRAME_TYPES.len() as u32,
    };
    let context: *const Binding = binding;
    // SAFETY: the open parameters and `selected` live until the open completes (this function
    // waits for it); the binding context is the binding's stable address; the handle's
    // storage is the binding's own.
    let returned = unsafe {
        ndis::NdisOpenAdapterEx(
            PROTOCOL_HANDLE.load(Ordering::Acquire),
            context.cast_mut().cast(),
            &mut open,
            bind_context,
            binding.handle.as_ptr(),
        )
    };
    binding.finish(returned)
}

/// OID_GEN_CURRENT_PACKET_FILTER = directed | broadcast: PADO/PADS/session frames come
/// directed, PADI broadcast (RFC 2516 §5).
///
/// IRQL: PASSIVE_LEVEL.
fn set_packet_filter(binding: &Binding) -> NdisStatus {
    let filter = binding.filter.get();
    let request = binding.request.get();
    let mut ready = blank_request();
    ready.data.set = SetInformation {
        oid: OID_GEN_CURRENT_PACKET_FILTER,
        information_buffer: filter.cast(),
        information_buffer_length: 4,
        bytes_read: 0,
        bytes_needed: 0,
    };
    // SAFETY: only this handler (NDIS runs one bind/unbind/PnP of a binding at a time) writes
    // the filter and the request, before NDIS sees them, and waits until NDIS is done.
    unsafe { filter.write(packet_filter::DIRECTED | packet_filter::BROADCAST) };
    // SAFETY: as above.
    unsafe { request.write(ready) };
    // SAFETY: the binding handle is open; the request lives in the binding until completion.
    let returned = unsafe { ndis::NdisOidRequest(binding.handle(), request) };
    binding.finish(returned)
}

/// NdisCloseAdapterEx, waiting for its completion.
///
/// IRQL: PASSIVE_LEVEL.
fn close(binding: &Binding) {
    // SAFETY: the binding handle is open and closed once, here.
    let returned = unsafe { ndis::NdisCloseAdapterEx(binding.handle()) };
    let result = binding.finish(returned);
    dbg_print!(
        level::TRACE,
        "binding {} closed -> {result:#x}",
        binding.slot
    );
}

/// ProtocolUnbindAdapterEx: the engine ends the binding's sessions and waits for its frames,
/// then the adapter closes.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn unbind_adapter(
    _unbind_context: NdisHandle,
    binding_context: NdisHandle,
) -> NdisStatus {
    // SAFETY: NDIS passes back our binding context.
    let binding = unsafe { from_context(binding_context) };
    binding.loans.close();
    with_adapter(|adapter| {
        let mut egress = DriverEgress::passive(adapter);
        let returned = adapter.engine.unbind(binding.id(), &mut egress);
        if returned == rswan_engine::status::PENDING {
            binding.finish(status::PENDING);
        }
        adapter
            .transport
            .binding_down(adapter, binding, &mut egress);
    });
    BINDINGS[usize::from(binding.slot)].store(ptr::null_mut(), Ordering::Release);
    binding.sends.close_and_drain();
    binding.drain_receives();
    close(binding);
    let Some(raw) = NonNull::new(binding_context.cast::<Binding>()) else {
        return status::SUCCESS;
    };
    // SAFETY: the binding came from PoolBox::into_raw in bind, is out of its slot, and NDIS
    // makes no call on it after the close completed.
    drop(unsafe { PoolBox::from_raw(raw) });
    status::SUCCESS
}

/// ProtocolOpenAdapterCompleteEx.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn open_adapter_complete(binding_context: NdisHandle, result: NdisStatus) {
    // SAFETY: NDIS passes back our binding context.
    unsafe { from_context(binding_context) }.complete(result);
}

/// ProtocolCloseAdapterCompleteEx.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn close_adapter_complete(binding_context: NdisHandle) {
    // SAFETY: NDIS passes back our binding context.
    unsafe { from_context(binding_context) }.complete(status::SUCCESS);
}

/// ProtocolOidRequestComplete: the packet-filter request.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_request_complete(
    binding_context: NdisHandle,
    _request: *mut OidRequest,
    result: NdisStatus,
) {
    // SAFETY: NDIS passes back our binding context.
    unsafe { from_context(binding_context) }.complete(result);
}

/// ProtocolNetPnPEvent: a pause drains the binding (the engine holds its VCs' sends) and waits
/// for its lent receive NBLs before it returns (WDK: "Pausing a Binding": the binding is paused
/// once the protocol returned its receive indications); a restart resumes it and its loans.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn net_pnp_event(
    binding_context: NdisHandle,
    notification: *mut NetPnpEventNotification,
) -> NdisStatus {
    if binding_context.is_null() {
        return status::SUCCESS;
    }
    // SAFETY: NDIS passes back our binding context.
    let binding = unsafe { from_context(binding_context) };
    // SAFETY: NDIS passes a valid notification.
    let event = unsafe { (*notification).net_pnp_event.net_event };
    with_adapter(|adapter| {
        let mut egress = DriverEgress::passive(adapter);
        match event {
            net_event::PAUSE => {
                dbg_print!(level::TRACE, "binding {} pausing", binding.slot);
                binding.loans.close();
                let returned = adapter.engine.pause_binding(binding.id(), &mut egress);
                if returned == rswan_engine::status::PENDING {
                    binding.finish(status::PENDING);
                }
            }
            net_event::RESTART => {
                dbg_print!(level::TRACE, "binding {} restarting", binding.slot);
                adapter.engine.bind(binding.id(), &mut egress);
            }
            _ => {}
        }
    });
    match event {
        net_event::PAUSE => binding.loans.close_and_drain(),
        net_event::RESTART => binding.loans.reopen(),
        _ => {}
    }
    status::SUCCESS
}

/// ProtocolUninstall.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn uninstall() {}

/// ProtocolStatusEx: link changes of the Ethernet adapter are logged; sessions learn of a
/// lost link from PPP's echo timeouts.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn status_indication(
    binding_context: NdisHandle,
    indication: *mut StatusIndication,
) {
    // SAFETY: NDIS passes back our binding context.
    let binding = unsafe { from_context(binding_context) };
    // SAFETY: NDIS passes a valid indication.
    let code = unsafe { (*indication).status_code };
    dbg_print!(level::INFO, "binding {} status {code:#x}", binding.slot);
}

/// ProtocolReceiveNetBufferLists: PPPoE frames (every NET_BUFFER of every NBL) go to the
/// transport. Without NDIS_RECEIVE_FLAGS_RESOURCES the NBLs are the driver's until it returns
/// them: a session frame the transport lends upward stays with the driver until NDISWAN (or
/// the engine) gives the lent frame back ([`return_lent`]); the others, copied, go back at
/// once. With RESOURCES the NBLs are NDIS's again as soon as this returns, so every frame is
/// copied and none is returned (WDK: ProtocolReceiveNetBufferLists, NdisReturnNetBufferLists).
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn receive_net_buffer_lists(
    binding_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    _port: u32,
    _count: u32,
    receive_flags: u32,
) {
    // SAFETY: NDIS passes back our binding context.
    let binding = unsafe { from_context(binding_context) };
    binding.receiving.fetch_add(1, Ordering::SeqCst);
    if receive_flags & flags::RECEIVE_RESOURCES != 0 {
        // SAFETY: the chain is valid for the duration of the call; it is only read.
        unsafe { receive_borrowed(binding, net_buffer_lists) };
    } else {
        // SAFETY: without RESOURCES the indicated NBLs are the protocol's until returned.
        let indicated = unsafe { NblChain::from_raw(net_buffer_lists) };
        let mut back = NblChain::new();
        for nbl in indicated {
            let mut pending = Some(nbl);
            with_adapter(|adapter| {
                if let Some(nbl) = pending.take() {
                    pending = adapter.transport.receive_owned(adapter, binding, nbl);
                }
            });
            if let Some(nbl) = pending {
                back.push_back(nbl);
            }
        }
        if !back.is_empty() {
            let return_flags = if receive_flags & flags::RECEIVE_DISPATCH_LEVEL != 0 {
                flags::RETURN_DISPATCH_LEVEL
            } else {
                0
            };
            // SAFETY: these NBLs were indicated on this binding, are not lent, and go back
            // once.
            unsafe {
                ndis::NdisReturnNetBufferLists(binding.handle(), back.into_raw(), return_flags)
            };
        }
    }
    binding.receiving.fetch_sub(1, Ordering::SeqCst);
}

/// The frames of a chain NDIS lent for the duration of the indication only (RESOURCES): each is
/// copied, and the chain stays as NDIS linked it.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `net_buffer_lists` is the chain NDIS indicated, valid until the receive handler returns.
unsafe fn receive_borrowed(binding: &Binding, net_buffer_lists: *mut NetBufferList) {
    let mut next = net_buffer_lists;
    while !next.is_null() {
        // SAFETY: the chain is valid for the call (caller's guarantee) and only read here.
        let nbl = unsafe { &mut *next };
        next = nbl.next;
        // Each NET_BUFFER of the NBL is one Ethernet frame (WDK: "NET_BUFFER architecture").
        let mut net_buffer = nbl.first_net_buffer;
        // SAFETY: the NET_BUFFERs belong to the indicated NBL, valid for the call.
        while let Some(nb) = unsafe { net_buffer.as_mut() } {
            net_buffer = nb.data.next;
            with_adapter(|adapter| adapter.transport.receive(adapter, binding, nb));
        }
    }
}

/// A lent frame came back: its lower NBL goes back to the binding it was indicated on, once,
/// and the loan stops counting there (the binding's pause or unbind may then finish).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `loan` is what a lent frame of [`crate::frames::FramePool::lend`] held: its owner is the
/// binding, alive while the loan is counted on it.
pub unsafe fn return_lent(loan: Loan, at_dispatch: bool) {
    // SAFETY: per the caller; the unbind waits for the loan count before freeing the binding.
    let binding = unsafe { loan.owner.cast::<Binding>().as_ref() };
    let return_flags = if at_dispatch {
        flags::RETURN_DISPATCH_LEVEL
    } else {
        0
    };
    // SAFETY: the lower NBL was indicated on this binding without RESOURCES, has been kept
    // since (the loan), is unlinked, and goes back once: `Loan` owns it and is consumed here.
    unsafe {
        ndis::NdisReturnNetBufferLists(
            binding.handle(),
            loan.lower.into_raw().as_ptr(),
            return_flags,
        )
    };
    binding.end_lend();
}

/// ProtocolSendNetBufferListsComplete: discovery frames go back to the binding's pool; clones of
/// NDISWAN's sends complete upward through the engine.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn send_net_buffer_lists_complete(
    binding_context: NdisHandle,
    net_buffer_lists: *mut NetBufferList,
    _flags: u32,
) {
    // SAFETY: NDIS passes back our binding context.
    let binding = unsafe { from_context(binding_context) };
    // SAFETY: NDIS gives back NBLs this protocol sent; they are ours again.
    for mut nbl in unsafe { NblChain::from_raw(net_buffer_lists) } {
        binding.end_send();
        match nbl.protocol_reserved()[0] as usize {
            sent_kind::CLONE => crate::transport::clone_sent(binding, nbl),
            _ => {
                // SAFETY: everything else the protocol sends is a frame of this binding's pool.
                unsafe { binding.frames.give_back(nbl, false) };
            }
        }
    }
}
