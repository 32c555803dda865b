//! NDIS protocol driver registration, the lower edge of rswan (WDK: NdisRegisterProtocolDriver
//! function; NDIS_PROTOCOL_DRIVER_CHARACTERISTICS structure), read at the offsets of the
//! rswan-ndis type.
#![forbid(unsafe_code)]

use core::mem::offset_of;

use rswan_ndis::protocol::object_type::PROTOCOL_DRIVER_CHARACTERISTICS;
use rswan_ndis::protocol::{
    ProtocolDriverCharacteristics, SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
};

use super::raw::Raw;

type P = ProtocolDriverCharacteristics;

/// Revision 1 ends before DirectOidRequestCompleteHandler (added for NDIS 6.1).
pub const SIZE_REVISION_1: usize = offset_of!(P, direct_oid_request_complete);
pub const SIZE_REVISION_2: usize = SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2;

/// A registered protocol driver: its name and handlers (0 = NULL), in structure order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolRegistration {
    pub name: String,
    pub major_ndis_version: u8,
    pub minor_ndis_version: u8,
    pub handlers: [(&'static str, usize); 12],
}

impl ProtocolRegistration {
    /// The handler called `name` (as the structure's member is spelled).
    pub fn get(&self, name: &str) -> usize {
        self.handlers
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, address)| *address)
    }

    /// Reads the characteristics; `name` is the Name string, read by the caller.
    pub fn parse(raw: &Raw, name: String) -> Result<Self, String> {
        let header = raw.header();
        if header.object_type != PROTOCOL_DRIVER_CHARACTERISTICS {
            return Err(format!(
                "Header.Type is {:#x}, not NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS",
                header.object_type
            ));
        }
        let expected = match header.revision {
            1 => SIZE_REVISION_1,
            2 => SIZE_REVISION_2,
            other => return Err(format!("Header.Revision {other} is not 1 or 2")),
        };
        if usize::from(header.size) != expected {
            return Err(format!(
                "Header.Size {} for revision {}; NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_{} is {expected}",
                header.size, header.revision, header.revision
            ));
        }
        let major = raw.u8_at(offset_of!(P, major_ndis_version));
        let minor = raw.u8_at(offset_of!(P, minor_ndis_version));
        if major != 6 || ![0, 1, 20, 30, 40, 50, 51, 60, 70, 80].contains(&minor) {
            return Err(format!(
                "NDIS version {major}.{minor} is not one the page lists"
            ));
        }
        if raw.u32_at(offset_of!(P, flags)) != 0 {
            return Err("Flags is reserved for NDIS and must be zero".into());
        }
        let at = |offset| raw.usize_at(offset);
        let registration = Self {
            name,
            major_ndis_version: major,
            minor_ndis_version: minor,
            handlers: [
                ("SetOptionsHandler", at(offset_of!(P, set_options))),
                ("BindAdapterHandlerEx", at(offset_of!(P, bind_adapter))),
                ("UnbindAdapterHandlerEx", at(offset_of!(P, unbind_adapter))),
                (
                    "OpenAdapterCompleteHandlerEx",
                    at(offset_of!(P, open_adapter_complete)),
                ),
                (
                    "CloseAdapterCompleteHandlerEx",
                    at(offset_of!(P, close_adapter_complete)),
                ),
                ("NetPnPEventHandler", at(offset_of!(P, net_pnp_event))),
                ("UninstallHandler", at(offset_of!(P, uninstall))),
                (
                    "OidRequestCompleteHandler",
                    at(offset_of!(P, oid_request_complete)),
                ),
                ("StatusHandlerEx", at(offset_of!(P, status))),
                (
                    "ReceiveNetBufferListsHandler",
                    at(offset_of!(P, receive_net_buffer_lists)),
                ),
                (
                    "SendNetBufferListsCompleteHandler",
                    at(offset_of!(P, send_net_buffer_lists_complete)),
                ),
                (
                    "DirectOidRequestCompleteHandler",
                    if header.revision >= 2 {
                        at(offset_of!(P, direct_oid_request_complete))
                    } else {
                        0
                    },
                ),
            ],
        };
        // The page marks SetOptions, Uninstall, StatusEx and DirectOidRequestComplete as
        // optional ("if any, or NULL"); every other entry point is the driver's.
        let optional = [
            "SetOptionsHandler",
            "UninstallHandler",
            "StatusHandlerEx",
            "DirectOidRequestCompleteHandler",
        ];
        let missing: Vec<&str> = registration
            .handlers
            .iter()
            .filter(|(n, a)| *a == 0 && !optional.contains(n))
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(format!("required handler(s) NULL: {}", missing.join(", ")));
        }
        if registration.name.is_empty() {
            return Err("Name (the protocol's service name) is empty".into());
        }
        Ok(registration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(revision: u8, size: usize, fill: bool) -> Raw {
        let mut bytes = vec![0u8; SIZE_REVISION_2];
        bytes[0] = PROTOCOL_DRIVER_CHARACTERISTICS;
        bytes[1] = revision;
        bytes[2..4].copy_from_slice(&(size as u16).to_le_bytes());
        bytes[offset_of!(P, major_ndis_version)] = 6;
        bytes[offset_of!(P, minor_ndis_version)] = 20;
        if fill {
            let first = offset_of!(P, set_options);
            for at in (first..SIZE_REVISION_2).step_by(size_of::<usize>()) {
                bytes[at..at + size_of::<usize>()].copy_from_slice(&(0x1000 + at).to_le_bytes());
            }
        }
        Raw(bytes)
    }

    #[test]
    fn a_complete_registration_passes_and_names_its_handlers() {
        let r =
            ProtocolRegistration::parse(&raw(2, SIZE_REVISION_2, true), "RSWAN".into()).unwrap();
        assert_ne!(r.get("ReceiveNetBufferListsHandler"), 0);
        assert_eq!(
            SIZE_REVISION_2,
            if size_of::<usize>() == 8 { 128 } else { 68 }
        );
    }

    #[test]
    fn header_and_handlers_are_checked() {
        assert!(ProtocolRegistration::parse(&raw(2, SIZE_REVISION_1, true), "R".into()).is_err());
        assert!(ProtocolRegistration::parse(&raw(1, SIZE_REVISION_1, true), "R".into()).is_ok());
        let err =
            ProtocolRegistration::parse(&raw(2, SIZE_REVISION_2, false), "R".into()).unwrap_err();
        assert!(err.contains("BindAdapterHandlerEx"), "{err}");
        assert!(!err.contains("UninstallHandler"), "{err}");
        assert!(
            ProtocolRegistration::parse(&raw(2, SIZE_REVISION_2, true), String::new()).is_err()
        );
    }
}
