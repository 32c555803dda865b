//! NDIS_OID_REQUEST as NDIS builds it for a query or a set (WDK: NDIS_OID_REQUEST structure),
//! in host arena memory, with its information buffer, and the outcome once the driver is
//! done with it.
#![forbid(unsafe_code)]

use core::mem::offset_of;

use rswan_ndis::NdisOid;
use rswan_ndis::request::{
    OBJECT_TYPE_OID_REQUEST, OidRequest, QueryInformation, SetInformation, request_type,
};

use std::time::Duration;

use rswan_ndis::status;

use crate::kernel::checks::{checks, enforce};
use crate::kernel::events::{self, Event};
use crate::loader::call_handler;
use crate::loader::memmap::{self, peek, peek_u32, poke, poke_u16, poke_u32, poke_usize};
use crate::verifier::Site;

/// NDIS_OID_REQUEST_REVISION_1 and its size (through Reserved2).
const REVISION_1: u8 = 1;
const SIZE_REVISION_1: usize = offset_of!(OidRequest, reserved2) + 2;

const DATA: usize = offset_of!(OidRequest, data);
const OID: usize = DATA + offset_of!(QueryInformation, oid);
const BUFFER: usize = DATA + offset_of!(QueryInformation, information_buffer);
const BUFFER_LENGTH: usize = DATA + offset_of!(QueryInformation, information_buffer_length);
const BYTES_DONE: usize = DATA + offset_of!(QueryInformation, bytes_written);
const BYTES_NEEDED: usize = DATA + offset_of!(QueryInformation, bytes_needed);

/// An OID request the host hands the driver.
#[derive(Debug)]
pub struct Request {
    pub address: usize,
    buffer: usize,
    length: usize,
    pub oid: NdisOid,
}

/// What the driver reported for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: i32,
    /// The first BytesWritten (query) or BytesRead (set) bytes of the buffer.
    pub data: Vec<u8>,
    pub bytes_needed: u32,
}

impl Request {
    fn new(kind: u32, oid: NdisOid, input: &[u8], length: usize) -> Self {
        const _: () = assert!(
            offset_of!(QueryInformation, bytes_written) == offset_of!(SetInformation, bytes_read)
        );
        let address = memmap::allocate(size_of::<OidRequest>());
        let buffer = memmap::allocate(length.max(1));
        poke(
            address,
            &[OBJECT_TYPE_OID_REQUEST, REVISION_1],
            "NDIS_OID_REQUEST.Header",
        );
        poke_u16(
            address + 2,
            SIZE_REVISION_1 as u16,
            "NDIS_OID_REQUEST.Header.Size",
        );
        poke_u32(
            address + offset_of!(OidRequest, request_type),
            kind,
            "NDIS_OID_REQUEST.RequestType",
        );
        poke_usize(
            address + offset_of!(OidRequest, request_id),
            address,
            "NDIS_OID_REQUEST.RequestId",
        );
        poke_u32(address + OID, oid, "NDIS_OID_REQUEST.Oid");
        poke_usize(
            address + BUFFER,
            buffer,
            "NDIS_OID_REQUEST.InformationBuffer",
        );
        poke_u32(
            address + BUFFER_LENGTH,
            length as u32,
            "NDIS_OID_REQUEST.InformationBufferLength",
        );
        poke(
            buffer,
            &input[..input.len().min(length)],
            "information buffer",
        );
        Self {
            address,
            buffer,
            length,
            oid,
        }
    }

    /// A query with a buffer of `length` bytes.
    pub fn query(oid: NdisOid, length: usize) -> Self {
        Self::new(request_type::QUERY_INFORMATION, oid, &[], length)
    }

    /// A query whose buffer starts with `input` (the TAPI caps OIDs carry line and address
    /// IDs in).
    pub fn query_with(oid: NdisOid, input: &[u8], length: usize) -> Self {
        Self::new(request_type::QUERY_INFORMATION, oid, input, length)
    }

    /// A set carrying `data`.
    pub fn set(oid: NdisOid, data: &[u8]) -> Self {
        Self::new(request_type::SET_INFORMATION, oid, data, data.len())
    }

    /// Records that the request was handed to the driver (at most once until completed).
    pub fn handed_over(&self) {
        enforce(checks().oid_requests.handed_over(self.address, Site(0)));
    }

    /// Records a completion by return value (not PENDING) of a request handed over.
    pub fn completed_by_return(&self) {
        enforce(checks().oid_requests.completed(self.address, Site(0)));
    }

    /// Hands the request to the driver's `handler` (entry point `entry`, called with `args`)
    /// and answers with the status it returned or, when it pended, with the status of the
    /// completion event `completion` finds for this request's address (waiting up to
    /// `limit`).
    pub fn issue(
        &self,
        handler: usize,
        args: &[usize],
        entry: &str,
        completion: fn(&Event, usize) -> Option<i32>,
        limit: Duration,
    ) -> Result<Answer, String> {
        self.handed_over();
        let result = call_handler(handler, args, entry) as u32 as i32;
        if result != status::PENDING {
            self.completed_by_return();
            return Ok(self.answer(result));
        }
        let address = self.address;
        let event = events::take(limit, |e| completion(e, address).is_some())?;
        completion(&event, address)
            .map(|status| self.answer(status))
            .ok_or_else(|| format!("unexpected {event:?}"))
    }

    /// The outcome, read from the request.
    pub fn answer(&self, status: i32) -> Answer {
        let done = (peek_u32(self.address + BYTES_DONE, "BytesWritten") as usize).min(self.length);
        Answer {
            status,
            data: peek(self.buffer, done, "information buffer"),
            bytes_needed: peek_u32(self.address + BYTES_NEEDED, "BytesNeeded"),
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        memmap::release(self.buffer);
        memmap::release(self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_carries_its_oid_and_buffer() {
        let request = Request::query_with(0xFE00_1002, &[1, 0, 0, 0], 64);
        assert_eq!(peek_u32(request.address + OID, "oid"), 0xFE00_1002);
        let buffer = memmap::peek_usize(request.address + BUFFER, "buffer");
        assert_eq!(peek(buffer, 4, "in"), [1, 0, 0, 0]);
        poke_u32(request.address + BYTES_DONE, 2, "written");
        assert_eq!(request.answer(0).data, [1, 0]);
        assert_eq!(
            SIZE_REVISION_1,
            if size_of::<usize>() == 8 { 236 } else { 140 }
        );
    }
}
