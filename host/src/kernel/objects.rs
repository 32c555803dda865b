//! The NDIS objects around the driver: the miniport adapter and the attributes it set, the
//! address families it registered, the VCs on them and whether each is active (WDK:
//! NdisMSetMiniportAttributes, NdisMCmRegisterAddressFamilyEx, NdisMCmCreateVc,
//! NdisMCmActivateVc, NdisMCmDeactivateVc, NdisMCmDeleteVc).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use core::mem::offset_of;

use rswan_ndis::miniport::object_type::{
    MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
};
use rswan_ndis::miniport::{
    MiniportAdapterGeneralAttributes, MiniportAdapterRegistrationAttributes,
};

use super::raw::Raw;

/// What NdisMSetMiniportAttributes recorded for the adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adapter {
    pub handle: usize,
    /// MiniportAdapterContext from the registration attributes: what NDIS passes to every
    /// adapter handler.
    pub context: Option<usize>,
    pub attribute_flags: u32,
    pub media_type: Option<u32>,
    pub mtu_size: u32,
    pub if_type: u16,
    pub max_xmit_link_speed: u64,
    pub max_rcv_link_speed: u64,
}

/// Who created a VC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creator {
    /// A client (NDPROXY) with NdisCoCreateVc: NDIS called the call manager's CmCreateVc.
    Client,
    /// The MCM itself, with NdisMCmCreateVc (an incoming call).
    CallManager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vc {
    pub handle: usize,
    /// The driver's context for the VC (CallMgrVcContext, also its MiniportVcContext).
    pub context: usize,
    pub creator: Creator,
    pub active: bool,
    pub af: usize,
}

#[derive(Debug, Default)]
struct Objects {
    adapter: Option<Adapter>,
    /// Registered address families: (NDIS_AF, major, minor).
    families: Vec<(u32, u32, u32)>,
    vcs: HashMap<usize, Vc>,
}

fn objects() -> MutexGuard<'static, Objects> {
    static OBJECTS: OnceLock<Mutex<Objects>> = OnceLock::new();
    OBJECTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A new adapter with this handle (MiniportInitializeEx is about to run).
pub fn begin_adapter(handle: usize) {
    objects().adapter = Some(Adapter {
        handle,
        ..Adapter::default()
    });
}

pub fn adapter() -> Option<Adapter> {
    objects().adapter.clone()
}

/// The adapter is gone (MiniportHaltEx returned).
pub fn end_adapter() {
    let mut objects = objects();
    objects.adapter = None;
    objects.families.clear();
}

/// NdisMSetMiniportAttributes with the structure in `raw` (WDK: "the miniport driver must
/// set the registration attributes first", then the general attributes).
pub fn set_attributes(handle: usize, raw: &Raw) -> Result<(), String> {
    let mut objects = objects();
    let Some(adapter) = objects.adapter.as_mut().filter(|a| a.handle == handle) else {
        return Err(format!(
            "NdisMSetMiniportAttributes({handle:#x}) outside MiniportInitializeEx of that adapter"
        ));
    };
    let header = raw.header();
    match header.object_type {
        MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES => {
            type R = MiniportAdapterRegistrationAttributes;
            adapter.context = Some(raw.usize_at(offset_of!(R, miniport_adapter_context)));
            adapter.attribute_flags = raw.u32_at(offset_of!(R, attribute_flags));
            Ok(())
        }
        MINIPORT_ADAPTER_GENERAL_ATTRIBUTES => {
            if adapter.context.is_none() {
                return Err(
                    "general attributes set before the registration attributes (NdisMSetMiniportAttributes remarks)"
                        .into(),
                );
            }
            type G = MiniportAdapterGeneralAttributes;
            adapter.media_type = Some(raw.u32_at(offset_of!(G, media_type)));
            adapter.mtu_size = raw.u32_at(offset_of!(G, mtu_size));
            adapter.if_type = raw.u16_at(offset_of!(G, if_type));
            adapter.max_xmit_link_speed = raw.u64_at(offset_of!(G, max_xmit_link_speed));
            adapter.max_rcv_link_speed = raw.u64_at(offset_of!(G, max_rcv_link_speed));
            Ok(())
        }
        other => Err(format!(
            "NdisMSetMiniportAttributes with attributes of type {other:#x}, which the host does not know"
        )),
    }
}

/// NdisMCmRegisterAddressFamilyEx.
pub fn register_family(handle: usize, family: (u32, u32, u32)) -> Result<(), String> {
    let mut objects = objects();
    if objects.adapter.as_ref().is_none_or(|a| a.handle != handle) {
        return Err(format!(
            "NdisMCmRegisterAddressFamilyEx({handle:#x}) with a handle that is no adapter's"
        ));
    }
    if objects.families.iter().any(|f| f.0 == family.0) {
        return Err(format!(
            "address family {:#x} registered twice on one adapter",
            family.0
        ));
    }
    objects.families.push(family);
    Ok(())
}

pub fn families() -> Vec<(u32, u32, u32)> {
    objects().families.clone()
}

pub fn add_vc(vc: Vc) {
    objects().vcs.insert(vc.handle, vc);
}

pub fn vc(handle: usize) -> Option<Vc> {
    objects().vcs.get(&handle).copied()
}

/// Marks a VC active (true) or inactive; the previous state.
pub fn set_active(handle: usize, active: bool) -> Option<bool> {
    let mut objects = objects();
    let vc = objects.vcs.get_mut(&handle)?;
    Some(std::mem::replace(&mut vc.active, active))
}

pub fn remove_vc(handle: usize) -> Option<Vc> {
    objects().vcs.remove(&handle)
}

pub fn vc_count() -> usize {
    objects().vcs.len()
}
