//! NDIS's side of the miniport adapter's life (WDK: "Adapter States of a Miniport Driver"):
//! MiniportInitializeEx leaves the adapter Paused, MiniportRestart makes it Running,
//! MiniportPause brings it back to Paused, MiniportHaltEx ends it. Each handler runs at
//! PASSIVE_LEVEL on the calling thread, with the parameter structure NDIS documents for it.
#![forbid(unsafe_code)]

use rswan_ndis::status;

use crate::kernel::events::{self, Event};
use crate::kernel::objects::{self, Adapter};
use crate::kernel::{RegisteredMiniport, kernel};
use crate::loader::memmap::{self, poke, poke_u16, poke_u32, poke_usize};
use crate::loader::{call_handler, handles};

/// NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS (WDK: NDIS_MINIPORT_INIT_PARAMETERS; the
/// documented value, 0x81) and NDIS_OBJECT_TYPE_DEFAULT.
const OBJECT_TYPE_MINIPORT_INIT_PARAMETERS: u8 = 0x81;
const OBJECT_TYPE_DEFAULT: u8 = 0x80;

/// NDIS_MINIPORT_INIT_PARAMETERS, revision 1, on 64-bit Windows: Header, Flags,
/// AllocatedResources, IMDeviceInstanceContext, MiniportAddDeviceContext, IfIndex, NetLuid,
/// DefaultPortAuthStates, PciDeviceCustomProperties. (rswan-ndis does not describe it: only
/// NDIS writes it.)
const INIT_PARAMETERS_SIZE: usize = 64;
const INIT_IF_INDEX: usize = 32;
const INIT_NET_LUID: usize = 40;
/// NDIS_MINIPORT_RESTART_PARAMETERS revision 1: Header, RestartAttributes, Flags.
const RESTART_PARAMETERS_SIZE: usize = 20;
/// NDIS_MINIPORT_PAUSE_PARAMETERS revision 1: Header, Flags, PauseReason.
const PAUSE_PARAMETERS_SIZE: usize = 12;
/// NDIS_PAUSE_NDIS_INTERNAL.
const PAUSE_NDIS_INTERNAL: u32 = 0x1;
/// NdisHaltDeviceDisabled (NDIS_HALT_ACTION).
const HALT_DEVICE_DISABLED: usize = 0;

/// The interface index and LUID the host gives the adapter.
pub const IF_INDEX: u32 = 23;
pub const NET_LUID: u64 = 0x0017_0000_0000_0001;

fn header(block: usize, object_type: u8, size: usize) {
    poke(block, &[object_type, 1], "Header");
    poke_u16(block + 2, size as u16, "Header.Size");
}

fn miniport() -> Result<RegisteredMiniport, String> {
    kernel()
        .miniport()
        .ok_or_else(|| "no miniport driver is registered (did DriverEntry run?)".to_owned())
}

fn adapter() -> Result<Adapter, String> {
    objects::adapter().ok_or_else(|| "the adapter is not initialized".to_owned())
}

fn context(adapter: &Adapter) -> Result<usize, String> {
    adapter
        .context
        .ok_or_else(|| "the adapter set no registration attributes".to_owned())
}

/// MiniportInitializeEx for a new adapter. On success the driver has set its registration
/// and general attributes (WDK: MiniportInitializeEx, "must call
/// NdisMSetMiniportAttributes").
pub fn initialize() -> Result<Adapter, String> {
    let miniport = miniport()?;
    let handle = handles::next();
    objects::begin_adapter(handle);
    let parameters = memmap::allocate(INIT_PARAMETERS_SIZE);
    header(
        parameters,
        OBJECT_TYPE_MINIPORT_INIT_PARAMETERS,
        INIT_PARAMETERS_SIZE,
    );
    poke_u32(parameters + INIT_IF_INDEX, IF_INDEX, "IfIndex");
    poke(
        parameters + INIT_NET_LUID,
        &NET_LUID.to_le_bytes(),
        "NetLuid",
    );
    let result = call_handler(
        miniport.registration.handlers.initialize,
        &[handle, miniport.context, parameters],
        "MiniportInitializeEx",
    ) as u32 as i32;
    memmap::release(parameters);
    if result != status::SUCCESS {
        objects::end_adapter();
        return Err(format!(
            "MiniportInitializeEx returned {:#010x}",
            result as u32
        ));
    }
    let adapter = adapter()?;
    context(&adapter)?;
    if adapter.media_type.is_none() {
        return Err("MiniportInitializeEx succeeded without setting general attributes".into());
    }
    Ok(adapter)
}

/// MiniportRestart (Paused -> Running). A driver that pends it must call
/// NdisMRestartComplete, which the host does not provide: it must finish synchronously.
pub fn restart() -> Result<(), String> {
    let miniport = miniport()?;
    let adapter = adapter()?;
    let parameters = memmap::allocate(RESTART_PARAMETERS_SIZE + 4);
    header(parameters, OBJECT_TYPE_DEFAULT, RESTART_PARAMETERS_SIZE);
    poke_usize(parameters + 8, 0, "RestartAttributes");
    let result = call_handler(
        miniport.registration.handlers.restart,
        &[context(&adapter)?, parameters],
        "MiniportRestart",
    ) as u32 as i32;
    memmap::release(parameters);
    match result {
        status::SUCCESS => Ok(()),
        other => Err(format!("MiniportRestart returned {:#010x}", other as u32)),
    }
}

/// How long a pended pause may take.
const PAUSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// MiniportPause (Running -> Paused); a pended pause completes with NdisMPauseComplete.
pub fn pause() -> Result<(), String> {
    let miniport = miniport()?;
    let adapter = adapter()?;
    let parameters = memmap::allocate(PAUSE_PARAMETERS_SIZE);
    header(parameters, OBJECT_TYPE_DEFAULT, PAUSE_PARAMETERS_SIZE);
    poke_u32(parameters + 8, PAUSE_NDIS_INTERNAL, "PauseReason");
    let result = call_handler(
        miniport.registration.handlers.pause,
        &[context(&adapter)?, parameters],
        "MiniportPause",
    ) as u32 as i32;
    memmap::release(parameters);
    match result {
        status::SUCCESS => Ok(()),
        status::PENDING => {
            let handle = adapter.handle;
            events::take(
                PAUSE_LIMIT,
                |e| matches!(e, Event::PauseComplete { adapter } if *adapter == handle),
            )?;
            Ok(())
        }
        other => Err(format!("MiniportPause returned {:#010x}", other as u32)),
    }
}

/// MiniportHaltEx (Paused -> Halted).
pub fn halt() -> Result<(), String> {
    let miniport = miniport()?;
    let adapter = adapter()?;
    call_handler(
        miniport.registration.handlers.halt,
        &[context(&adapter)?, HALT_DEVICE_DISABLED],
        "MiniportHaltEx",
    );
    objects::end_adapter();
    Ok(())
}
