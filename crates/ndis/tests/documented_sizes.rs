//! The `NDIS_SIZEOF_..._REVISION_n` values and the key offsets the driver depends on, against
//! the numbers of the facts sheet (notes/tapi-proxy.md §5, computed from the documented field
//! order, and cross-checked with the public symbols of ndis.sys). The host is 64-bit; the
//! 32-bit numbers are asserted at compile time by the x86 driver build (`layout!`) and compared
//! with mingw-w64 in `mingw_headers.rs`.

use core::mem::{offset_of, size_of};

use rswan_ndis::buffer::{NetBuffer, NetBufferList};
use rswan_ndis::callmgr::{
    CoCallManagerOptionalHandlers, SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1,
};
use rswan_ndis::layout::Documented;
use rswan_ndis::miniport::*;
use rswan_ndis::protocol::{BindParameters, SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2};
use rswan_ndis::request::{OidRequest, QueryInformation, SIZEOF_STATUS_INDICATION_REVISION_1};
use rswan_ndis::size_through;

#[test]
fn revision_sizes_are_the_documented_ones_on_64_bit() {
    assert_eq!(size_of::<usize>(), 8, "these are the 64-bit numbers");
    assert_eq!(SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2, 152);
    assert_eq!(SIZEOF_MINIPORT_CO_CHARACTERISTICS_REVISION_1, 56);
    assert_eq!(SIZEOF_CO_CALL_MANAGER_OPTIONAL_HANDLERS_REVISION_1, 144);
    assert_eq!(SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2, 128);
    assert_eq!(
        SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
        28
    );
    assert_eq!(size_of::<MiniportAdapterRegistrationAttributes>(), 32);
    assert_eq!(SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2, 224);
    assert_eq!(
        size_through!(MiniportAdapterGeneralAttributes, auto_negotiation_flags),
        216
    );
    assert_eq!(
        size_through!(OidRequest, reserved2),
        236,
        "NDIS_SIZEOF_OID_REQUEST_REVISION_1"
    );
    assert_eq!(SIZEOF_STATUS_INDICATION_REVISION_1, 112);
    assert_eq!(size_through!(BindParameters, bound_adapter_name), 248);
    assert_eq!(
        rswan_ndis::configuration::SIZEOF_CONFIGURATION_OBJECT_REVISION_1,
        20,
        "NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1: Header, NdisHandle, Flags"
    );
}

#[test]
fn oid_request_query_fields_are_where_ndis_writes_them() {
    let data = offset_of!(OidRequest, data);
    assert_eq!(data, 32);
    assert_eq!(data + offset_of!(QueryInformation, oid), 32);
    assert_eq!(data + offset_of!(QueryInformation, information_buffer), 40);
    assert_eq!(
        data + offset_of!(QueryInformation, information_buffer_length),
        48
    );
    assert_eq!(data + offset_of!(QueryInformation, bytes_written), 52);
    assert_eq!(data + offset_of!(QueryInformation, bytes_needed), 56);
}

#[test]
fn nbl_and_nb_fields_drivers_touch_match_the_public_symbols() {
    // NetBufferListInfo at 0x90 and SourceHandle at 0x78: NdisReserved is 16-aligned.
    assert_eq!(offset_of!(NetBufferList, net_buffer_list_info), 0x90);
    assert_eq!(offset_of!(NetBufferList, source_handle), 0x78);
    assert_eq!(offset_of!(NetBufferList, status), 0x8c);
    assert_eq!(size_of::<NetBuffer>(), 0xb0);
    assert_eq!(offset_of!(NetBuffer, miniport_reserved), 0x80);
    assert!(
        NetBufferList::LAYOUT.size.is_none(),
        "NBLs grow with the NDIS version"
    );
}

#[test]
fn every_call_manager_handler_has_a_slot() {
    let handlers = CoCallManagerOptionalHandlers::LAYOUT
        .fields
        .iter()
        .filter(|f| f.c_name.ends_with("Handler"));
    assert_eq!(
        handlers.count(),
        17,
        "the WDK requires all 17 CmXxx handlers of an MCM"
    );
}
