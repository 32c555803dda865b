//! The optional handlers a CoNDIS miniport call manager (MCM) registers from
//! MiniportSetOptions with NdisSetOptionalHandlers (WDK: NdisSetOptionalHandlers function;
//! NDIS_MINIPORT_CO_CHARACTERISTICS structure; NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
//! structure), read from the driver's copy at the offsets of the rswan-ndis types.
#![forbid(unsafe_code)]

use core::mem::offset_of;

use rswan_ndis::callmgr::{
    CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1, CoCallManagerOptionalHandlers,
    OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
    SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
};
use rswan_ndis::miniport::object_type::MINIPORT_CO_CHARACTERISTICS;
use rswan_ndis::miniport::{
    MINIPORT_CO_CHARACTERISTICS_REVISION_1, MiniportCoCharacteristics,
    SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
};

use super::raw::Raw;

/// The largest structure NdisSetOptionalHandlers reads for the kinds the host knows.
pub const LARGEST: usize = if SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1
    > SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1
{
    SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1
} else {
    SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1
};

/// NDIS_MINIPORT_CO_CHARACTERISTICS, as handler addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoMiniportHandlers {
    pub flags: u32,
    pub create_vc: usize,
    pub delete_vc: usize,
    pub activate_vc: usize,
    pub deactivate_vc: usize,
    pub send_net_buffer_lists: usize,
    pub oid_request: usize,
}

/// The members of NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS after the header, in order.
pub const CALL_MANAGER_HANDLER_NAMES: [&str; 17] = [
    "CmCreateVcHandler",
    "CmDeleteVcHandler",
    "CmOpenAfHandler",
    "CmCloseAfHandler",
    "CmRegisterSapHandler",
    "CmDeregisterSapHandler",
    "CmMakeCallHandler",
    "CmCloseCallHandler",
    "CmIncomingCallCompleteHandler",
    "CmAddPartyHandler",
    "CmDropPartyHandler",
    "CmActivateVcCompleteHandler",
    "CmDeactivateVcCompleteHandler",
    "CmModifyCallQoSHandler",
    "CmOidRequestHandler",
    "CmOidRequestCompleteHandler",
    "CmNotifyCloseAddressFamilyCompleteHandler",
];

/// NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, as handler addresses in structure order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallManagerHandlers {
    pub addresses: [usize; 17],
}

impl CallManagerHandlers {
    /// The handler called `name` (as the structure's member is spelled).
    pub fn get(&self, name: &str) -> usize {
        CALL_MANAGER_HANDLER_NAMES
            .iter()
            .position(|n| *n == name)
            .map_or(0, |index| self.addresses[index])
    }

    /// Name and address of every handler.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        CALL_MANAGER_HANDLER_NAMES
            .iter()
            .copied()
            .zip(self.addresses.iter().copied())
    }
}

/// What NdisSetOptionalHandlers registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalHandlers {
    CoMiniport(CoMiniportHandlers),
    CallManager(CallManagerHandlers),
}

fn check_header(raw: &Raw, name: &str, revision: u8, size: usize) -> Result<(), String> {
    let header = raw.header();
    if header.revision != revision || usize::from(header.size) < size {
        return Err(format!(
            "{name}: Header.Revision {} / Size {}; revision {revision} needs Size {size}",
            header.revision, header.size
        ));
    }
    Ok(())
}

/// Parses and checks a structure passed to NdisSetOptionalHandlers by a miniport driver.
pub fn parse(raw: &Raw) -> Result<OptionalHandlers, String> {
    match raw.header().object_type {
        MINIPORT_CO_CHARACTERISTICS => {
            check_header(
                raw,
                "NDIS_MINIPORT_CO_CHARACTERISTICS",
                MINIPORT_CO_CHARACTERISTICS_REVISION_1,
                SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1,
            )?;
            let at = |offset| raw.usize_at(offset);
            let handlers = CoMiniportHandlers {
                flags: raw.u32_at(offset_of!(MiniportCoCharacteristics, flags)),
                create_vc: at(offset_of!(MiniportCoCharacteristics, co_create_vc)),
                delete_vc: at(offset_of!(MiniportCoCharacteristics, co_delete_vc)),
                activate_vc: at(offset_of!(MiniportCoCharacteristics, co_activate_vc)),
                deactivate_vc: at(offset_of!(MiniportCoCharacteristics, co_deactivate_vc)),
                send_net_buffer_lists: at(offset_of!(
                    MiniportCoCharacteristics,
                    co_send_net_buffer_lists
                )),
                oid_request: at(offset_of!(MiniportCoCharacteristics, co_oid_request)),
            };
            // NDIS_MINIPORT_CO_CHARACTERISTICS: CoActivateVc, CoDeactivateVc,
            // CoSendNetBufferLists and CoOidRequest are the miniport's data and request path.
            let missing: Vec<&str> = [
                ("CoActivateVcHandler", handlers.activate_vc),
                ("CoDeactivateVcHandler", handlers.deactivate_vc),
                (
                    "CoSendNetBufferListsHandler",
                    handlers.send_net_buffer_lists,
                ),
                ("CoOidRequestHandler", handlers.oid_request),
            ]
            .iter()
            .filter(|(_, a)| *a == 0)
            .map(|(n, _)| *n)
            .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "NDIS_MINIPORT_CO_CHARACTERISTICS: NULL {}",
                    missing.join(", ")
                ));
            }
            Ok(OptionalHandlers::CoMiniport(handlers))
        }
        OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS => {
            check_header(
                raw,
                "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS",
                CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
                SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
            )?;
            let at = |offset| raw.usize_at(offset);
            type H = CoCallManagerOptionalHandlers;
            let handlers = CallManagerHandlers {
                addresses: [
                    at(offset_of!(H, cm_create_vc)),
                    at(offset_of!(H, cm_delete_vc)),
                    at(offset_of!(H, cm_open_af)),
                    at(offset_of!(H, cm_close_af)),
                    at(offset_of!(H, cm_register_sap)),
                    at(offset_of!(H, cm_deregister_sap)),
                    at(offset_of!(H, cm_make_call)),
                    at(offset_of!(H, cm_close_call)),
                    at(offset_of!(H, cm_incoming_call_complete)),
                    at(offset_of!(H, cm_add_party)),
                    at(offset_of!(H, cm_drop_party)),
                    at(offset_of!(H, cm_activate_vc_complete)),
                    at(offset_of!(H, cm_deactivate_vc_complete)),
                    at(offset_of!(H, cm_modify_call_qos)),
                    at(offset_of!(H, cm_oid_request)),
                    at(offset_of!(H, cm_oid_request_complete)),
                    at(offset_of!(H, cm_notify_close_af_complete)),
                ],
            };
            // NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS: an MCM sets every member (the
            // unsupported ones return NDIS_STATUS_NOT_SUPPORTED).
            let missing: Vec<&str> = handlers
                .named()
                .filter(|(_, a)| *a == 0)
                .map(|(n, _)| n)
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS: NULL {}",
                    missing.join(", ")
                ));
            }
            Ok(OptionalHandlers::CallManager(handlers))
        }
        other => Err(format!(
            "NdisSetOptionalHandlers with a structure of type {other:#x}, which the host does not know"
        )),
    }
}

/// The checks that need both structures of an MCM: CoCreateVc/CoDeleteVc are NULL (NDIS
/// calls the call manager's CmCreateVc/CmDeleteVc), and CmOidRequestHandler is not the
/// miniport's CoOidRequest handler (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS remarks).
pub fn check_mcm(co: &CoMiniportHandlers, cm: &CallManagerHandlers) -> Result<(), String> {
    if co.create_vc != 0 || co.delete_vc != 0 {
        return Err(
            "an MCM sets CoCreateVcHandler and CoDeleteVcHandler to NULL in NDIS_MINIPORT_CO_CHARACTERISTICS"
                .into(),
        );
    }
    if cm.get("CmOidRequestHandler") == co.oid_request {
        return Err(
            "CmOidRequestHandler must not be the miniport's MiniportCoOidRequest function".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_co(handlers: [usize; 6]) -> Raw {
        let size = SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1;
        let mut bytes = vec![0u8; size];
        bytes[0] = MINIPORT_CO_CHARACTERISTICS;
        bytes[1] = MINIPORT_CO_CHARACTERISTICS_REVISION_1;
        bytes[2..4].copy_from_slice(&(size as u16).to_le_bytes());
        let first = offset_of!(MiniportCoCharacteristics, co_create_vc);
        for (i, h) in handlers.iter().enumerate() {
            let at = first + i * size_of::<usize>();
            bytes[at..at + size_of::<usize>()].copy_from_slice(&h.to_le_bytes());
        }
        Raw(bytes)
    }

    fn raw_cm(fill: usize) -> Raw {
        let size = SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1;
        let mut bytes = vec![0u8; size];
        bytes[0] = OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS;
        bytes[1] = 1;
        bytes[2..4].copy_from_slice(&(size as u16).to_le_bytes());
        let first = offset_of!(CoCallManagerOptionalHandlers, cm_create_vc);
        for i in 0..17 {
            let at = first + i * size_of::<usize>();
            bytes[at..at + size_of::<usize>()].copy_from_slice(&(fill + i).to_le_bytes());
        }
        Raw(bytes)
    }

    #[test]
    fn an_mcm_registration_passes() {
        let Ok(OptionalHandlers::CoMiniport(co)) = parse(&raw_co([0, 0, 1, 2, 3, 4])) else {
            panic!("co characteristics rejected");
        };
        let Ok(OptionalHandlers::CallManager(cm)) = parse(&raw_cm(0x100)) else {
            panic!("call manager handlers rejected");
        };
        assert_eq!(cm.get("CmOpenAfHandler"), 0x102);
        assert_eq!(check_mcm(&co, &cm), Ok(()));
    }

    #[test]
    fn missing_and_misplaced_handlers_are_refused() {
        assert!(
            parse(&raw_co([0, 0, 0, 2, 3, 4]))
                .unwrap_err()
                .contains("CoActivateVc")
        );
        let mut cm = raw_cm(0x100);
        let at = offset_of!(CoCallManagerOptionalHandlers, cm_make_call);
        cm.0[at..at + 8].fill(0);
        assert!(parse(&cm).unwrap_err().contains("CmMakeCallHandler"));
        let Ok(OptionalHandlers::CoMiniport(co)) = parse(&raw_co([9, 0, 1, 2, 3, 4])) else {
            panic!();
        };
        let Ok(OptionalHandlers::CallManager(cm)) = parse(&raw_cm(0x100)) else {
            panic!();
        };
        assert!(
            check_mcm(&co, &cm)
                .unwrap_err()
                .contains("CoCreateVcHandler")
        );
        let co = CoMiniportHandlers {
            create_vc: 0,
            oid_request: cm.get("CmOidRequestHandler"),
            ..co
        };
        assert!(
            check_mcm(&co, &cm)
                .unwrap_err()
                .contains("CmOidRequestHandler")
        );
    }
}
