//! OID requests: from `NDIS_OID_REQUEST` to the pure answers of `rswan_ndis::oid` and
//! `rswan_ndis::tapi_caps`, and back. Every request is answered synchronously.

use core::ffi::c_void;

use rswan_ndis::oid::{self, RequestResult, check_link_info};
use rswan_ndis::oids::{
    OID_CO_TAPI_ADDRESS_CAPS, OID_CO_TAPI_CM_CAPS, OID_CO_TAPI_LINE_CAPS, OID_WAN_CO_GET_LINK_INFO,
    OID_WAN_CO_GET_STATS_INFO, OID_WAN_CO_SET_LINK_INFO,
};
use rswan_ndis::request::{OidRequest, request_type};
use rswan_ndis::tapi_caps;
use rswan_ndis::types::{NdisOid, NdisStatus, status};

use crate::adapter::{Adapter, VcEntry};

/// The request's information buffer as bytes (empty for a NULL or empty buffer). The buffer
/// comes from the requester through NDIS, so its bytes are defined for Rust.
///
/// # Safety
/// `buffer` addresses `length` bytes that nothing else uses for `'a`, or `length` is 0.
unsafe fn information<'a>(buffer: *mut c_void, length: u32) -> &'a mut [u8] {
    if buffer.is_null() || length == 0 {
        return &mut [];
    }
    // SAFETY: per the caller.
    unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), length as usize) }
}

/// Answers `request` for the adapter, on a VC when `vc` is given.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `request` is the live `NDIS_OID_REQUEST` NDIS passed to the entry point, whose information
/// buffer is the driver's to use until the request completes.
pub unsafe fn answer(
    adapter: &Adapter,
    vc: Option<&VcEntry>,
    request: *mut OidRequest,
) -> NdisStatus {
    // SAFETY: per the caller.
    let request = unsafe { &mut *request };
    match request.request_type {
        request_type::QUERY_INFORMATION | request_type::QUERY_STATISTICS => {
            // SAFETY: QUERY_INFORMATION is the member of the union for these request types.
            let query = unsafe { &mut request.data.query };
            // SAFETY: the information buffer belongs to this request (caller's guarantee).
            let buffer =
                unsafe { information(query.information_buffer, query.information_buffer_length) };
            let result = query_oid(adapter, vc, query.oid, buffer);
            query.bytes_written = result.bytes_done;
            query.bytes_needed = result.bytes_needed;
            result.status
        }
        request_type::SET_INFORMATION => {
            // SAFETY: SET_INFORMATION is the member of the union for this request type.
            let set = unsafe { &mut request.data.set };
            // SAFETY: as above.
            let buffer =
                unsafe { information(set.information_buffer, set.information_buffer_length) };
            let result = set_oid(adapter, vc, set.oid, buffer);
            set.bytes_read = result.bytes_done;
            set.bytes_needed = result.bytes_needed;
            result.status
        }
        _ => status::NOT_SUPPORTED,
    }
}

fn query_oid(
    adapter: &Adapter,
    vc: Option<&VcEntry>,
    oid: NdisOid,
    out: &mut [u8],
) -> RequestResult {
    let lines = adapter.lines.count();
    match oid {
        OID_CO_TAPI_CM_CAPS => tapi_caps::answer_cm_caps(lines, out),
        OID_CO_TAPI_LINE_CAPS => {
            tapi_caps::answer_line_caps(out, lines, |line| adapter.describe_line(line))
        }
        OID_CO_TAPI_ADDRESS_CAPS => tapi_caps::answer_address_caps(out, lines),
        OID_WAN_CO_GET_LINK_INFO => match vc {
            Some(entry) => oid::answer(out, &entry.link_info().to_bytes()),
            None => RequestResult::failed(status::INVALID_DATA),
        },
        OID_WAN_CO_GET_STATS_INFO => {
            let stats = match vc.and_then(|e| e.vc()) {
                Some(id) => adapter.engine.vc_stats(id).unwrap_or_default(),
                None => adapter.engine.adapter_stats().vcs,
            };
            oid::answer_ulongs(out, stats.wan.to_ndis())
        }
        _ => oid::query_adapter(oid, &adapter.oid_info(), out),
    }
}

fn set_oid(
    adapter: &Adapter,
    vc: Option<&VcEntry>,
    oid: NdisOid,
    input: &mut [u8],
) -> RequestResult {
    match oid {
        OID_WAN_CO_SET_LINK_INFO => {
            let Some(entry) = vc else {
                return RequestResult::failed(status::INVALID_DATA);
            };
            match check_link_info(input, &adapter.wan_info) {
                Ok(info) => {
                    entry.store_link_info(&info);
                    RequestResult::success(input.len())
                }
                Err(error) => error.result(),
            }
        }
        _ => oid::set_adapter(oid, input),
    }
}
