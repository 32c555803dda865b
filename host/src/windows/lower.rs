//! An Ethernet adapter below the driver's protocol edge, as NDIS presents one to a protocol
//! (WDK: ProtocolBindAdapterEx, NDIS_BIND_PARAMETERS, ProtocolReceiveNetBufferLists,
//! ProtocolUnbindAdapterEx). The frames the driver sends collect on the adapter's wire
//! (crate::kernel::binding); frames for the driver are indicated from a DPC.
#![forbid(unsafe_code)]

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use core::mem::offset_of;

use rswan_ndis::buffer::flags::RECEIVE_DISPATCH_LEVEL;
use rswan_ndis::protocol::object_type::BIND_PARAMETERS;
use rswan_ndis::protocol::{BIND_PARAMETERS_REVISION_2, BindParameters};
use rswan_ndis::status;

use crate::kernel::binding::{self, Binding};
use crate::kernel::checks::{checks, enforce};
use crate::kernel::events::{self, Event};
use crate::kernel::{kernel, packets, processors};
use crate::loader::imports::lower::MTU;
use crate::loader::memmap::{self, poke, poke_u16, poke_u32, poke_usize};
use crate::loader::{call_handler, handles};
use crate::verifier::Site;

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
    let nbl = packets::host_nbl_of(frames, RECEIVE_BACKFILL);
    packets::set_source_handle(nbl, binding.handle);
    enforce(checks().lower_receives.handed_over(nbl, Site(0)));
    let receive = Receive {
        handler,
        context: binding.context,
        nbl,
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
    Ok(())
}

/// How many NBLs one receive DPC indicates before it queues itself again, so one busy adapter
/// does not keep a processor from other DPCs (as a NIC driver's receive DPC bounds its work).
const INDICATIONS_PER_DPC: usize = 64;

/// One indication waiting in its adapter's receive queue.
struct Receive {
    handler: usize,
    context: usize,
    nbl: usize,
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
/// (ProtocolReceiveNetBufferLists, without NDIS_RECEIVE_FLAGS_RESOURCES).
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
        call_handler(
            receive.handler,
            &[
                receive.context,
                receive.nbl,
                0,
                1,
                RECEIVE_DISPATCH_LEVEL as usize,
            ],
            "ProtocolReceiveNetBufferLists",
        );
    }
    queue_receive_dpc(handle);
}
