//! An Ethernet adapter below the driver's protocol edge, as NDIS presents one to a protocol
//! (WDK: ProtocolBindAdapterEx, NDIS_BIND_PARAMETERS, ProtocolReceiveNetBufferLists,
//! ProtocolUnbindAdapterEx). The frames the driver sends collect on the adapter's wire
//! (crate::kernel::binding); frames for the driver are indicated from a DPC, with or without
//! NDIS_RECEIVE_FLAGS_RESOURCES, whole or spread over two buffers; bindings pause and restart
//! (ProtocolNetPnPEvent).
#![forbid(unsafe_code)]

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use core::mem::offset_of;

use rswan_ndis::buffer::flags::{RECEIVE_DISPATCH_LEVEL, RECEIVE_RESOURCES};
use rswan_ndis::protocol::object_type::BIND_PARAMETERS;
use rswan_ndis::protocol::{
    BIND_PARAMETERS_REVISION_2, BindParameters, NetPnpEvent, NetPnpEventNotification, net_event,
};
use rswan_ndis::status;

use crate::kernel::binding::{self, Binding};
use crate::kernel::checks::{check_reclaim, checks, enforce};
use crate::kernel::events::{self, Event};
use crate::kernel::{kernel, packets, processors};
use crate::loader::imports::lower::MTU;
use crate::loader::memmap::{self, poke, poke_u16, poke_u32, poke_usize};
use crate::loader::{call_handler, handles};
use crate::verifier::lending::{Reclaim, check_binding_quiet};
use crate::verifier::{Site, Violation};

/// How long a pended bind or unbind may take.
const COMPLETION_LIMIT: Duration = Duration::from_secs(10);
/// Free room in front of each received frame.
const RECEIVE_BACKFILL: usize = 0;
/// NdisMediaStateConnected, MediaDuplexStateFull, NdisPhysicalMedium802_3 (14),
/// NET_IF_ACCESS_BROADCAST (2), NET_IF_DIRECTION_SENDRECEIVE (0),
/// NET_IF_CONNECTION_DEDICATED (1), IF_TYPE_ETHERNET_CSMACD (6).
const MEDIA_CONNECTED: u32 = 1;
const DUPLEX_FULL: u32 = 2;
const PHYSICAL_MEDIUM_802_3: u32 = 14;
const ACCESS_BROADCAST: u32 = 2;
const CONNECTION_DEDICATED: u32 = 1;
const IF_TYPE_ETHERNET: u16 = 6;
/// NDIS_PACKET_TYPE_DIRECTED | MULTICAST | BROADCAST | PROMISCUOUS.
const PACKET_FILTERS: u32 = 0x1 | 0x2 | 0x8 | 0x20;
const LINK_SPEED: u64 = 1_000_000_000;

/// A host Ethernet adapter.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// Its device name, as NDIS passes it (`\DEVICE\{...}` on Windows).
    pub name: String,
    pub mac: [u8; 6],
}

/// A UNICODE_STRING with its text, in arena memory.
fn unicode_string(text: &str) -> (usize, usize) {
    let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let buffer = memmap::allocate(units.len().max(2));
    poke(buffer, &units, "UNICODE_STRING.Buffer");
    let string = memmap::allocate(2 * size_of::<usize>());
    poke_u16(string, units.len() as u16, "UNICODE_STRING.Length");
    poke_u16(
        string + 2,
        units.len() as u16,
        "UNICODE_STRING.MaximumLength",
    );
    poke_usize(string + size_of::<usize>(), buffer, "UNICODE_STRING.Buffer");
    (string, buffer)
}

/// ProtocolBindAdapterEx for `adapter`; the driver opens it with NdisOpenAdapterEx, now or
/// before it calls NdisCompleteBindAdapterEx.
pub fn bind(adapter: &Adapter) -> Result<Binding, String> {
    let protocol = kernel()
        .protocol()
        .ok_or("no protocol driver is registered")?;
    let bind_context = handles::next();
    binding::begin_bind(bind_context, &adapter.name, adapter.mac);
    let (name, name_buffer) = unicode_string(&adapter.name);
    let parameters = memmap::allocate(size_of::<BindParameters>());
    type B = BindParameters;
    poke(
        parameters,
        &[BIND_PARAMETERS, BIND_PARAMETERS_REVISION_2],
        "Header",
    );
    poke_u16(parameters + 2, size_of::<B>() as u16, "Header.Size");
    poke_usize(
        parameters + offset_of!(B, adapter_name),
        name,
        "AdapterName",
    );
    poke_usize(
        parameters + offset_of!(B, bound_adapter_name),
        name,
        "BoundAdapterName",
    );
    poke_u32(parameters + offset_of!(B, media_type), 0, "MediaType");
    poke_u32(parameters + offset_of!(B, mtu_size), MTU, "MtuSize");
    for field in [
        offset_of!(B, max_xmit_link_speed),
        offset_of!(B, xmit_link_speed),
        offset_of!(B, max_rcv_link_speed),
        offset_of!(B, rcv_link_speed),
    ] {
        poke(parameters + field, &LINK_SPEED.to_le_bytes(), "link speed");
    }
    poke_u32(
        parameters + offset_of!(B, media_connect_state),
        MEDIA_CONNECTED,
        "MediaConnectState",
    );
    poke_u32(
        parameters + offset_of!(B, media_duplex_state),
        DUPLEX_FULL,
        "MediaDuplexState",
    );
    poke_u32(
        parameters + offset_of!(B, lookahead_size),
        MTU,
        "LookaheadSize",
    );
    poke_u32(
        parameters + offset_of!(B, supported_packet_filters),
        PACKET_FILTERS,
        "SupportedPacketFilters",
    );
    poke_u16(
        parameters + offset_of!(B, mac_address_length),
        6,
        "MacAddressLength",
    );
    poke(
        parameters + offset_of!(B, current_mac_address),
        &adapter.mac,
        "CurrentMacAddress",
    );
    poke_u32(
        parameters + offset_of!(B, physical_medium_type),
        PHYSICAL_MEDIUM_802_3,
        "PhysicalMediumType",
    );
    poke_u32(
        parameters + offset_of!(B, access_type),
        ACCESS_BROADCAST,
        "AccessType",
    );
    poke_u32(
        parameters + offset_of!(B, connection_type),
        CONNECTION_DEDICATED,
        "ConnectionType",
    );
    poke_u16(
        parameters + offset_of!(B, if_type),
        IF_TYPE_ETHERNET,
        "IfType",
    );
    poke(
        parameters + offset_of!(B, if_connector_present),
        &[1],
        "IfConnectorPresent",
    );
    let result = call_handler(
        protocol.registration.get("BindAdapterHandlerEx"),
        &[protocol.context, bind_context, parameters],
        "ProtocolBindAdapterEx",
    ) as u32 as i32;
    let outcome = match result {
        status::SUCCESS => Ok(()),
        status::PENDING => {
            match events::take(COMPLETION_LIMIT, |e| {
                matches!(e, Event::BindComplete { .. })
            })? {
                Event::BindComplete {
                    status: status::SUCCESS,
                } => Ok(()),
                other => Err(format!("the bind completed with {other:?}")),
            }
        }
        other => Err(format!(
            "ProtocolBindAdapterEx returned {:#010x}",
            other as u32
        )),
    };
    memmap::release(parameters);
    memmap::release(name);
    memmap::release(name_buffer);
    outcome?;
    binding::binding_to(&adapter.name)
        .ok_or_else(|| "the bind succeeded without NdisOpenAdapterEx".to_owned())
}

/// ProtocolUnbindAdapterEx; the driver closes the binding, now or before it calls
/// NdisCompleteUnbindAdapterEx.
pub fn unbind(binding: &Binding) -> Result<(), String> {
    let protocol = kernel()
        .protocol()
        .ok_or("no protocol driver is registered")?;
    let unbind_context = handles::next();
    let result = call_handler(
        protocol.registration.get("UnbindAdapterHandlerEx"),
        &[unbind_context, binding.context],
        "ProtocolUnbindAdapterEx",
    ) as u32 as i32;
    match result {
        status::SUCCESS => {}
        status::PENDING => {
            events::take(COMPLETION_LIMIT, |e| matches!(e, Event::UnbindComplete))?;
        }
        other => {
            return Err(format!(
                "ProtocolUnbindAdapterEx returned {:#010x}",
                other as u32
            ));
        }
    }
    if binding::binding(binding.handle).is_some() {
        return Err("the unbind finished without NdisCloseAdapterEx".into());
    }
    enforce(check_binding_quiet(
        "the unbind",
        binding.handle,
        binding::outstanding_receives(binding.handle),
        Site(0),
    ));
    Ok(())
}

/// Indicates `frame` to the driver from a DPC (ProtocolReceiveNetBufferLists at
/// DISPATCH_LEVEL, without NDIS_RECEIVE_FLAGS_RESOURCES: the driver may keep the NBL until it
/// calls NdisReturnNetBufferLists).
pub fn indicate(binding: &Binding, frame: &[u8]) -> Result<(), String> {
    indicate_frames(binding, &[frame])
}

/// Indicates `frames` to the driver as one NBL holding one NET_BUFFER per frame (as
/// [`indicate`] does one; an adapter may chain several frames in an NBL, WDK "NET_BUFFER
/// architecture").
pub fn indicate_frames(binding: &Binding, frames: &[&[u8]]) -> Result<(), String> {
    indicate_with(binding, frames, Indication::default()).map(|_| ())
}

/// How the adapter hands a received NBL to the protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Indication {
    /// NDIS_RECEIVE_FLAGS_RESOURCES: the adapter takes the NBL back when the receive handler
    /// returns, so the driver must not keep it (or return it).
    pub resources: bool,
    /// Each frame received into two buffers, split after this many bytes (a NIC may spread a
    /// frame over several receive buffers, each its own MDL).
    pub split_at: Option<usize>,
}

/// An NBL the adapter indicated: its address and the memory of its data buffers, noted
/// before the indication (the adapter frees a RESOURCES indication's buffers as the handler
/// returns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicated {
    pub nbl: usize,
    pub memory: Vec<(usize, usize)>,
}

/// Indicates `frames` as one NBL (one NET_BUFFER each), the way `how` says. Without
/// RESOURCES its return shows as an [`Event::LowerReturn`].
pub fn indicate_with(
    binding: &Binding,
    frames: &[&[u8]],
    how: Indication,
) -> Result<Indicated, String> {
    let protocol = kernel()
        .protocol()
        .ok_or("no protocol driver is registered")?;
    if binding::binding(binding.handle).is_none() {
        return Err(format!(
            "no frame can be indicated on {}: the binding is closed",
            binding.adapter_name
        ));
    }
    let handler = protocol.registration.get("ReceiveNetBufferListsHandler");
    let pieces: Vec<Vec<&[u8]>> = frames
        .iter()
        .map(|frame| match how.split_at.filter(|at| *at < frame.len()) {
            Some(at) => vec![&frame[..at], &frame[at..]],
            None => vec![*frame],
        })
        .collect();
    let nbl = packets::host_nbl_of_pieces(&pieces, RECEIVE_BACKFILL);
    let memory = packets::host_nbl_memory(nbl);
    packets::set_source_handle(nbl, binding.handle);
    let mut flags = RECEIVE_DISPATCH_LEVEL;
    if how.resources {
        flags |= RECEIVE_RESOURCES;
    } else {
        enforce(checks().lower_receives.handed_over(nbl, Site(0)));
        binding::note_received(binding.handle, nbl);
    }
    let receive = Receive {
        handler,
        context: binding.context,
        nbl,
        flags,
    };
    let mut queues = receive_queues();
    match queues.entry(binding.handle) {
        Entry::Occupied(mut queue) => queue.get_mut().push_back(receive),
        Entry::Vacant(vacant) => {
            vacant.insert(VecDeque::from([receive]));
            drop(queues);
            queue_receive_dpc(binding.handle);
        }
    }
    Ok(Indicated { nbl, memory })
}

/// NDIS_OBJECT_TYPE_DEFAULT, and NDIS_PROTOCOL_PAUSE_PARAMETERS revision 1 (Header, Flags,
/// PauseReason) with NDIS_PAUSE_NDIS_INTERNAL.
const OBJECT_TYPE_DEFAULT: u8 = 0x80;
const PROTOCOL_PAUSE_PARAMETERS_SIZE: usize = 12;
const PAUSE_NDIS_INTERNAL: u32 = 0x1;

/// ProtocolNetPnPEvent with `event` on `binding`, its buffer `parameters` bytes (a revision-1
/// parameter block whose header is filled in and the rest zero). The host does not pend PnP
/// events, so the driver must finish it before returning.
fn pnp_event(binding: &Binding, event: u32, parameters: usize) -> Result<(), String> {
    type N = NetPnpEventNotification;
    let protocol = kernel()
        .protocol()
        .ok_or("no protocol driver is registered")?;
    let buffer = memmap::allocate(parameters);
    poke(buffer, &[OBJECT_TYPE_DEFAULT, 1], "parameters Header");
    poke_u16(buffer + 2, parameters as u16, "parameters Header.Size");
    if event == net_event::PAUSE {
        poke_u32(buffer + 8, PAUSE_NDIS_INTERNAL, "PauseReason");
    }
    let notification = memmap::allocate(size_of::<N>());
    poke(notification, &[OBJECT_TYPE_DEFAULT, 1], "Header");
    poke_u16(notification + 2, size_of::<N>() as u16, "Header.Size");
    let pnp = notification + offset_of!(N, net_pnp_event);
    poke_u32(pnp + offset_of!(NetPnpEvent, net_event), event, "NetEvent");
    poke_usize(pnp + offset_of!(NetPnpEvent, buffer), buffer, "Buffer");
    poke_u32(
        pnp + offset_of!(NetPnpEvent, buffer_length),
        parameters as u32,
        "BufferLength",
    );
    let result = call_handler(
        protocol.registration.get("NetPnPEventHandler"),
        &[binding.context, notification],
        "ProtocolNetPnPEvent",
    ) as u32 as i32;
    memmap::release(notification);
    memmap::release(buffer);
    match result {
        status::SUCCESS => Ok(()),
        other => Err(format!(
            "ProtocolNetPnPEvent({event}) returned {:#010x}",
            other as u32
        )),
    }
}

/// Pauses `binding` (ProtocolNetPnPEvent, NetEventPause). When it returns the binding is
/// paused, so every receive indication must be back (WDK: "Pausing a Binding"); the lending
/// rule stops the run otherwise. No frame may be indicated until [`restart`].
pub fn pause(binding: &Binding) -> Result<(), String> {
    pnp_event(binding, net_event::PAUSE, PROTOCOL_PAUSE_PARAMETERS_SIZE)?;
    enforce(check_binding_quiet(
        "the pause (NetEventPause)",
        binding.handle,
        binding::outstanding_receives(binding.handle),
        Site(0),
    ));
    Ok(())
}

/// Restarts a paused `binding` (ProtocolNetPnPEvent, NetEventRestart; its
/// NDIS_PROTOCOL_RESTART_PARAMETERS carry no filter stack or attributes here).
pub fn restart(binding: &Binding) -> Result<(), String> {
    pnp_event(binding, net_event::RESTART, RESTART_PARAMETERS_SIZE)
}

/// Room for NDIS_PROTOCOL_RESTART_PARAMETERS revision 1 on 64-bit Windows.
const RESTART_PARAMETERS_SIZE: usize = 64;

/// Nanoseconds spent inside the driver's receive-path entry points (ProtocolReceiveNetBufferLists
/// here, MiniportReturnNetBufferLists in crate::windows::ndiswan), with the NDIS calls they
/// make, for the receive benchmark.
static RECEIVE_PATH_NANOS: AtomicU64 = AtomicU64::new(0);

/// Adds time spent in a receive-path entry point of the driver.
pub fn count_receive_path(spent: Duration) {
    RECEIVE_PATH_NANOS.fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
}

/// The time spent in the driver's receive-path entry points since the last call.
pub fn take_receive_path_time() -> Duration {
    Duration::from_nanos(RECEIVE_PATH_NANOS.swap(0, Ordering::Relaxed))
}

/// How many NBLs one receive DPC indicates before it queues itself again, so one busy adapter
/// does not keep a processor from other DPCs (as a NIC driver's receive DPC bounds its work).
const INDICATIONS_PER_DPC: usize = 64;

/// One indication waiting in its adapter's receive queue.
struct Receive {
    handler: usize,
    context: usize,
    nbl: usize,
    flags: u32,
}

/// Each adapter's receive queue, by binding handle. A queue is present exactly while its one
/// receive DPC is queued or running (it leaves only when that DPC finds it empty), so that DPC
/// alone indicates the adapter's frames: in order, as a NIC indicates one receive queue, while
/// other DPCs run on the other processors. A frame indicated from inside the driver's receive
/// handler joins the queue the running DPC drains.
fn receive_queues() -> MutexGuard<'static, HashMap<usize, VecDeque<Receive>>> {
    static QUEUES: OnceLock<Mutex<HashMap<usize, VecDeque<Receive>>>> = OnceLock::new();
    QUEUES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn queue_receive_dpc(handle: usize) {
    processors::queue_dpc("the lower adapter's receive indication", move || {
        drain_receives(handle)
    });
}

/// The adapter's receive DPC: indicates its queued NBLs in order at DISPATCH_LEVEL
/// (ProtocolReceiveNetBufferLists); one indicated with NDIS_RECEIVE_FLAGS_RESOURCES is taken
/// back as the handler returns.
fn drain_receives(handle: usize) {
    for _ in 0..INDICATIONS_PER_DPC {
        let next = {
            let mut queues = receive_queues();
            let next = queues.get_mut(&handle).and_then(VecDeque::pop_front);
            if next.is_none() {
                queues.remove(&handle);
            }
            next
        };
        let Some(receive) = next else { return };
        let started = std::time::Instant::now();
        call_handler(
            receive.handler,
            &[receive.context, receive.nbl, 0, 1, receive.flags as usize],
            "ProtocolReceiveNetBufferLists",
        );
        count_receive_path(started.elapsed());
        if receive.flags & RECEIVE_RESOURCES != 0 {
            // The adapter owns the NBL again: nothing the driver indicated up may use it.
            check_reclaim(receive.nbl, Reclaim::Resources, Site(0));
            enforce(
                packets::free_host_nbl(receive.nbl)
                    .map_err(|message| Violation::new("NBL_LENDING", message, Vec::new())),
            );
        }
    }
    queue_receive_dpc(handle);
}
