//! Miniport driver registration as NDIS checks it (WDK: NdisMRegisterMiniportDriver function;
//! NDIS_MINIPORT_DRIVER_CHARACTERISTICS structure). NDIS copies the characteristics, so the
//! host keeps this record, with each handler as an address in the image.
#![forbid(unsafe_code)]

use std::fmt;

use rswan_ndis::miniport::MiniportDriverCharacteristics;
use rswan_ndis::miniport::object_type::MINIPORT_DRIVER_CHARACTERISTICS as OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS;
use rswan_ndis::{NdisObjectHeader, NdisStatus, status};

/// `NDIS_STATUS_BAD_VERSION` and `NDIS_STATUS_BAD_CHARACTERISTICS` (documented values of
/// ndis.h; the return codes of NdisMRegisterMiniportDriver).
pub const STATUS_BAD_VERSION: NdisStatus = 0xC001_0004_u32 as i32;
pub const STATUS_BAD_CHARACTERISTICS: NdisStatus = 0xC001_0005_u32 as i32;

const POINTER: u16 = size_of::<usize>() as u16;
/// `NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_n`: through CancelOidRequestHandler
/// (15 handlers), CancelDirectOidRequestHandler (17) and SynchronousOidRequestHandler (18).
pub const SIZE_REVISION_1: u16 = 16 + 15 * POINTER;
pub const SIZE_REVISION_2: u16 = 16 + 17 * POINTER;
pub const SIZE_REVISION_3: u16 = 16 + 18 * POINTER;

/// The MinorNdisVersion values the characteristics page lists for NDIS 6 (6.1 appears on the
/// same page as the version that added revision 2).
const MINOR_VERSIONS: [u8; 13] = [0, 1, 20, 30, 40, 50, 51, 60, 70, 80, 81, 82, 83];

/// The miniport handlers, as addresses (0 = NULL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MiniportHandlers {
    pub set_options: usize,
    pub initialize: usize,
    pub halt: usize,
    pub unload: usize,
    pub pause: usize,
    pub restart: usize,
    pub oid_request: usize,
    pub send_net_buffer_lists: usize,
    pub return_net_buffer_lists: usize,
    pub cancel_send: usize,
    pub check_for_hang: usize,
    pub reset: usize,
    pub device_pnp_event_notify: usize,
    pub shutdown: usize,
    pub cancel_oid_request: usize,
    pub direct_oid_request: usize,
    pub cancel_direct_oid_request: usize,
    pub synchronous_oid_request: usize,
}

impl MiniportHandlers {
    /// Name and address of every handler, in structure order.
    pub fn named(&self) -> [(&'static str, usize); 18] {
        [
            ("SetOptionsHandler", self.set_options),
            ("InitializeHandlerEx", self.initialize),
            ("HaltHandlerEx", self.halt),
            ("UnloadHandler", self.unload),
            ("PauseHandler", self.pause),
            ("RestartHandler", self.restart),
            ("OidRequestHandler", self.oid_request),
            ("SendNetBufferListsHandler", self.send_net_buffer_lists),
            ("ReturnNetBufferListsHandler", self.return_net_buffer_lists),
            ("CancelSendHandler", self.cancel_send),
            ("CheckForHangHandlerEx", self.check_for_hang),
            ("ResetHandlerEx", self.reset),
            ("DevicePnPEventNotifyHandler", self.device_pnp_event_notify),
            ("ShutdownHandlerEx", self.shutdown),
            ("CancelOidRequestHandler", self.cancel_oid_request),
            ("DirectOidRequestHandler", self.direct_oid_request),
            (
                "CancelDirectOidRequestHandler",
                self.cancel_direct_oid_request,
            ),
            ("SynchronousOidRequestHandler", self.synchronous_oid_request),
        ]
    }
}

/// What the driver registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniportRegistration {
    pub header: NdisObjectHeader,
    pub major_ndis_version: u8,
    pub minor_ndis_version: u8,
    pub major_driver_version: u8,
    pub minor_driver_version: u8,
    pub flags: u32,
    pub handlers: MiniportHandlers,
}

/// Why NDIS refused a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: NdisStatus,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {:#010x}: {}", self.status as u32, self.reason)
    }
}

fn reject(status: NdisStatus, reason: impl Into<String>) -> Rejection {
    Rejection {
        status,
        reason: reason.into(),
    }
}

impl MiniportRegistration {
    /// The record of `c`; `synchronous_oid_request` is the revision-3 member past the end of
    /// the rswan-ndis structure (0 when the driver's revision lacks it).
    pub fn from_characteristics(
        c: &MiniportDriverCharacteristics,
        synchronous_oid_request: usize,
    ) -> Self {
        let handlers = MiniportHandlers {
            set_options: c.set_options.map_or(0, |f| f as usize),
            initialize: c.initialize.map_or(0, |f| f as usize),
            halt: c.halt.map_or(0, |f| f as usize),
            unload: c.unload.map_or(0, |f| f as usize),
            pause: c.pause.map_or(0, |f| f as usize),
            restart: c.restart.map_or(0, |f| f as usize),
            oid_request: c.oid_request.map_or(0, |f| f as usize),
            send_net_buffer_lists: c.send_net_buffer_lists.map_or(0, |f| f as usize),
            return_net_buffer_lists: c.return_net_buffer_lists.map_or(0, |f| f as usize),
            cancel_send: c.cancel_send.map_or(0, |f| f as usize),
            check_for_hang: c.check_for_hang.map_or(0, |f| f as usize),
            reset: c.reset.map_or(0, |f| f as usize),
            device_pnp_event_notify: c.device_pnp_event_notify.map_or(0, |f| f as usize),
            shutdown: c.shutdown.map_or(0, |f| f as usize),
            cancel_oid_request: c.cancel_oid_request.map_or(0, |f| f as usize),
            direct_oid_request: c.direct_oid_request.map_or(0, |f| f as usize),
            cancel_direct_oid_request: c.cancel_direct_oid_request.map_or(0, |f| f as usize),
            synchronous_oid_request,
        };
        Self {
            header: c.header,
            major_ndis_version: c.major_ndis_version,
            minor_ndis_version: c.minor_ndis_version,
            major_driver_version: c.major_driver_version,
            minor_driver_version: c.minor_driver_version,
            flags: c.flags,
            handlers,
        }
    }

    /// The checks NDIS makes inside NdisMRegisterMiniportDriver, before MiniportSetOptions.
    /// `virtual_miniport`: the adapter is virtual (the INF's NCF_VIRTUAL), so
    /// CheckForHangHandlerEx "must" be NULL.
    pub fn validate(&self, virtual_miniport: bool) -> Result<(), Rejection> {
        // Characteristics page, Header: Type NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
        // Revision 1/2/3 with Size NDIS_SIZEOF_..._REVISION_1/2/3.
        if self.header.object_type != OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS {
            return Err(reject(
                STATUS_BAD_CHARACTERISTICS,
                format!(
                    "Header.Type is {:#x}, not NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS ({:#x})",
                    self.header.object_type, OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS
                ),
            ));
        }
        let expected_size = match self.header.revision {
            1 => SIZE_REVISION_1,
            2 => SIZE_REVISION_2,
            3 => SIZE_REVISION_3,
            other => {
                return Err(reject(
                    STATUS_BAD_CHARACTERISTICS,
                    format!("Header.Revision {other} is not 1, 2 or 3"),
                ));
            }
        };
        if self.header.size != expected_size {
            return Err(reject(
                STATUS_BAD_CHARACTERISTICS,
                format!(
                    "Header.Size is {} for revision {}; NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_{} is {expected_size}",
                    self.header.size, self.header.revision, self.header.revision
                ),
            ));
        }
        // MajorNdisVersion: "The current value is 0x06"; MinorNdisVersion from the table.
        if self.major_ndis_version != 6 || !MINOR_VERSIONS.contains(&self.minor_ndis_version) {
            return Err(reject(
                STATUS_BAD_VERSION,
                format!(
                    "NDIS version {}.{} is not one the characteristics page lists",
                    self.major_ndis_version, self.minor_ndis_version
                ),
            ));
        }
        // Handlers the page marks "Required" for every miniport. (SendNetBufferListsHandler
        // and OidRequestHandler are checked in `validate_after_set_options`: a CoNDIS
        // miniport sends and takes OIDs through its CoXxx handlers.)
        let h = &self.handlers;
        let required = [
            ("InitializeHandlerEx", h.initialize),
            ("HaltHandlerEx", h.halt),
            ("UnloadHandler", h.unload),
            ("PauseHandler", h.pause),
            ("RestartHandler", h.restart),
            ("ReturnNetBufferListsHandler", h.return_net_buffer_lists),
            ("CancelSendHandler", h.cancel_send),
            ("DevicePnPEventNotifyHandler", h.device_pnp_event_notify),
            ("ShutdownHandlerEx", h.shutdown),
            ("CancelOidRequestHandler", h.cancel_oid_request),
        ];
        let missing: Vec<&str> = required
            .iter()
            .filter(|(_, address)| *address == 0)
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(reject(
                status::FAILURE,
                format!("required handler(s) NULL: {}", missing.join(", ")),
            ));
        }
        // CheckForHangHandlerEx: virtual miniports "must set this entry point to NULL".
        if virtual_miniport && h.check_for_hang != 0 {
            return Err(reject(
                status::FAILURE,
                "CheckForHangHandlerEx must be NULL for a virtual miniport",
            ));
        }
        // ResetHandlerEx: "required if you provide CheckForHangHandlerEx".
        if h.check_for_hang != 0 && h.reset == 0 {
            return Err(reject(
                status::FAILURE,
                "ResetHandlerEx is required when CheckForHangHandlerEx is set",
            ));
        }
        // Direct OID handlers: "if one is provided, then both must be provided".
        if (h.direct_oid_request == 0) != (h.cancel_direct_oid_request == 0) {
            return Err(reject(
                status::FAILURE,
                "DirectOidRequestHandler and CancelDirectOidRequestHandler must be set together",
            ));
        }
        Ok(())
    }

    /// The checks that depend on what MiniportSetOptions registered. `co_ndis`: the driver
    /// registered NDIS_MINIPORT_CO_CHARACTERISTICS. SetOptionsHandler is "Required for
    /// Co-NDIS"; OidRequestHandler is "Required for all connection-less miniport drivers"
    /// and SendNetBufferListsHandler "Required" (unverified on Windows: whether NDIS accepts
    /// NULL for it from a CoNDIS miniport, which sends through MiniportCoSendNetBufferLists).
    pub fn validate_after_set_options(&self, co_ndis: bool) -> Result<(), Rejection> {
        let h = &self.handlers;
        if co_ndis {
            if h.set_options == 0 {
                return Err(reject(
                    status::FAILURE,
                    "SetOptionsHandler is required for CoNDIS",
                ));
            }
            return Ok(());
        }
        let missing: Vec<&str> = [
            ("OidRequestHandler", h.oid_request),
            ("SendNetBufferListsHandler", h.send_net_buffer_lists),
        ]
        .iter()
        .filter(|(_, address)| *address == 0)
        .map(|(name, _)| *name)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(reject(
                status::FAILURE,
                format!(
                    "required handler(s) NULL for a connectionless miniport: {}",
                    missing.join(", ")
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> MiniportRegistration {
        let mut handlers = MiniportHandlers::default();
        for (i, slot) in [
            &mut handlers.set_options,
            &mut handlers.initialize,
            &mut handlers.halt,
            &mut handlers.unload,
            &mut handlers.pause,
            &mut handlers.restart,
            &mut handlers.return_net_buffer_lists,
            &mut handlers.cancel_send,
            &mut handlers.device_pnp_event_notify,
            &mut handlers.shutdown,
            &mut handlers.cancel_oid_request,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = 0x1000 + i;
        }
        MiniportRegistration {
            header: NdisObjectHeader {
                object_type: 0x8A,
                revision: 2,
                size: SIZE_REVISION_2,
            },
            major_ndis_version: 6,
            minor_ndis_version: 20,
            major_driver_version: 0,
            minor_driver_version: 1,
            flags: 0,
            handlers,
        }
    }

    #[test]
    fn a_complete_registration_passes() {
        assert_eq!(good().validate(true), Ok(()));
        assert_eq!(good().validate_after_set_options(true), Ok(()));
    }

    #[test]
    fn sizes_match_the_documented_revisions() {
        if POINTER == 8 {
            assert_eq!(
                (SIZE_REVISION_1, SIZE_REVISION_2, SIZE_REVISION_3),
                (136, 152, 160)
            );
        }
        assert_eq!(
            SIZE_REVISION_2 as usize,
            size_of::<MiniportDriverCharacteristics>()
        );
    }

    #[test]
    fn header_type_revision_and_size_are_checked() {
        let mut r = good();
        r.header.object_type = 0x80;
        assert_eq!(
            r.validate(true).unwrap_err().status,
            STATUS_BAD_CHARACTERISTICS
        );
        let mut r = good();
        r.header.revision = 4;
        assert_eq!(
            r.validate(true).unwrap_err().status,
            STATUS_BAD_CHARACTERISTICS
        );
        let mut r = good();
        r.header.size = SIZE_REVISION_1;
        assert_eq!(
            r.validate(true).unwrap_err().status,
            STATUS_BAD_CHARACTERISTICS
        );
    }

    #[test]
    fn versions_are_checked() {
        let mut r = good();
        r.major_ndis_version = 5;
        assert_eq!(r.validate(true).unwrap_err().status, STATUS_BAD_VERSION);
        let mut r = good();
        r.minor_ndis_version = 21;
        assert_eq!(r.validate(true).unwrap_err().status, STATUS_BAD_VERSION);
    }

    #[test]
    fn each_required_handler_is_checked_by_name() {
        let clear_halt: fn(&mut MiniportHandlers) = |h| h.halt = 0;
        let clear_cancel_oid: fn(&mut MiniportHandlers) = |h| h.cancel_oid_request = 0;
        for (name, clear) in [
            ("HaltHandlerEx", clear_halt),
            ("CancelOidRequestHandler", clear_cancel_oid),
        ] {
            let mut r = good();
            clear(&mut r.handlers);
            let err = r.validate(true).unwrap_err();
            assert_eq!(err.status, status::FAILURE);
            assert!(err.reason.contains(name), "{err}");
        }
    }

    #[test]
    fn check_for_hang_is_refused_for_a_virtual_miniport() {
        let mut r = good();
        r.handlers.check_for_hang = 0x2000;
        r.handlers.reset = 0x2010;
        assert!(
            r.validate(true)
                .unwrap_err()
                .reason
                .contains("CheckForHang")
        );
        assert_eq!(r.validate(false), Ok(()));
        r.handlers.reset = 0;
        assert!(
            r.validate(false)
                .unwrap_err()
                .reason
                .contains("ResetHandlerEx")
        );
    }

    #[test]
    fn connectionless_miniports_need_send_and_oid_handlers() {
        let err = good().validate_after_set_options(false).unwrap_err();
        assert!(err.reason.contains("SendNetBufferListsHandler"), "{err}");
        assert!(err.reason.contains("OidRequestHandler"), "{err}");
        let mut r = good();
        r.handlers.set_options = 0;
        assert!(r.validate_after_set_options(true).is_err());
    }
}
