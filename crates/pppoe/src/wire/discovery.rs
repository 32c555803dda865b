//! Discovery packets (ethertype 0x8863): a validated view and an emitter.

use super::ethernet::{self, ETHERTYPE_DISCOVERY, EthernetHeader, MacAddr};
use super::header::{Code, PppoeHeader, RESERVED_SESSION_ID};
use super::tag::{TAG_HEADER_LEN, Tag, TagType, Tags, read_tag};
use super::{Error, FRAME_HEADER_LEN};

/// A discovery frame that passed every check of [`Discovery::parse`], with the tags the
/// state machines need picked out. All slices borrow from the received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovery<'a> {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub code: Code,
    pub session_id: u16,
    /// The first Service-Name (the only one except in a PADO, which may list more).
    pub service_name: Option<&'a [u8]>,
    pub ac_name: Option<&'a [u8]>,
    pub host_uniq: Option<&'a [u8]>,
    pub ac_cookie: Option<&'a [u8]>,
    pub relay_session_id: Option<&'a [u8]>,
    /// RFC 4638 PPP-Max-Payload.
    pub max_payload: Option<u16>,
    pub service_name_error: Option<&'a [u8]>,
    pub ac_system_error: Option<&'a [u8]>,
    pub generic_error: Option<&'a [u8]>,
    payload: &'a [u8],
}

/// Where a tag that may appear once was seen.
fn set_once<'a>(
    slot: &mut Option<&'a [u8]>,
    tag_type: TagType,
    value: &'a [u8],
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::DuplicateTag(tag_type));
    }
    *slot = Some(value);
    Ok(())
}

impl<'a> Discovery<'a> {
    /// Parses and validates a whole Ethernet frame.
    ///
    /// Checks, in order: lengths, ethertype, VER/TYPE, code, source MAC, the session id the
    /// code allows, every tag's bounds and length rules, duplicates, and the Service-Name and
    /// AC-Name tags the code requires.
    pub fn parse(frame: &'a [u8]) -> Result<Discovery<'a>, Error> {
        let (eth, rest) = EthernetHeader::parse(frame)?;
        if eth.ethertype != ETHERTYPE_DISCOVERY {
            return Err(Error::UnknownEthertype(eth.ethertype));
        }
        let (hdr, payload) = PppoeHeader::parse(rest)?;
        let code = Code::from_u8(hdr.code).ok_or(Error::UnknownCode(hdr.code))?;
        if !eth.src.is_unicast() {
            return Err(Error::BadSourceMac);
        }
        let id_allowed = match code {
            Code::Padi | Code::Pado | Code::Padr => hdr.session_id == 0,
            Code::Pads => hdr.session_id != RESERVED_SESSION_ID,
            Code::Padt => hdr.session_id != 0 && hdr.session_id != RESERVED_SESSION_ID,
        };
        if !id_allowed {
            return Err(Error::BadSessionId(hdr.session_id));
        }
        let mut d = Discovery {
            dst: eth.dst,
            src: eth.src,
            code,
            session_id: hdr.session_id,
            service_name: None,
            ac_name: None,
            host_uniq: None,
            ac_cookie: None,
            relay_session_id: None,
            max_payload: None,
            service_name_error: None,
            ac_system_error: None,
            generic_error: None,
            payload,
        };
        let mut service_names = 0usize;
        let mut max_payload = None;
        let mut rest = payload;
        while !rest.is_empty() {
            let (tag, after) = read_tag(rest)?;
            rest = after;
            let Tag { tag_type, value } = tag;
            match tag_type {
                TagType::EndOfList => {
                    if !value.is_empty() {
                        return Err(Error::BadTagLength(tag_type));
                    }
                    // RFC 2516: no further tags are processed.
                    break;
                }
                TagType::ServiceName => {
                    service_names += 1;
                    if d.service_name.is_none() {
                        d.service_name = Some(value);
                    }
                }
                TagType::AcName => set_once(&mut d.ac_name, tag_type, value)?,
                TagType::HostUniq => set_once(&mut d.host_uniq, tag_type, value)?,
                TagType::AcCookie => set_once(&mut d.ac_cookie, tag_type, value)?,
                TagType::RelaySessionId => set_once(&mut d.relay_session_id, tag_type, value)?,
                TagType::PppMaxPayload => {
                    if value.len() != 2 {
                        return Err(Error::BadTagLength(tag_type));
                    }
                    set_once(&mut max_payload, tag_type, value)?;
                    d.max_payload = Some(u16::from_be_bytes([value[0], value[1]]));
                }
                TagType::ServiceNameError => set_once(&mut d.service_name_error, tag_type, value)?,
                TagType::AcSystemError => set_once(&mut d.ac_system_error, tag_type, value)?,
                TagType::GenericError => set_once(&mut d.generic_error, tag_type, value)?,
                TagType::VendorSpecific => {
                    // The first four octets are the vendor id (RFC 2516 appendix A).
                    if value.len() < 4 {
                        return Err(Error::BadTagLength(tag_type));
                    }
                }
                TagType::Other(_) => {}
            }
        }
        let (min_names, max_names) = match code {
            Code::Padi | Code::Padr => (1, 1),
            Code::Pado => (1, usize::MAX),
            Code::Pads if d.session_id != 0 => (1, 1),
            Code::Pads => (0, 1),
            Code::Padt => (0, usize::MAX),
        };
        if service_names < min_names {
            return Err(Error::MissingServiceName);
        }
        if service_names > max_names {
            return Err(Error::DuplicateServiceName);
        }
        if code == Code::Pado && d.ac_name.is_none() {
            return Err(Error::MissingAcName);
        }
        Ok(d)
    }

    /// All tags in wire order (up to End-Of-List), unknown ones included.
    pub fn tags(&self) -> Tags<'a> {
        Tags::new(self.payload)
    }

    /// Every Service-Name value (a PADO lists the services its AC offers).
    pub fn service_names(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.tags()
            .filter(|t| t.tag_type == TagType::ServiceName)
            .map(|t| t.value)
    }

    /// Every Vendor-Specific value (vendor id included).
    pub fn vendor_specific(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.tags()
            .filter(|t| t.tag_type == TagType::VendorSpecific)
            .map(|t| t.value)
    }
}

/// Writes a discovery frame into a caller buffer: headers first, then tags one by one.
#[derive(Debug)]
pub struct DiscoveryWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    code: Code,
    session_id: u16,
}

impl<'b> DiscoveryWriter<'b> {
    /// Starts a frame; the PPPoE LENGTH is filled in by [`DiscoveryWriter::finish`].
    pub fn new(
        buf: &'b mut [u8],
        dst: MacAddr,
        src: MacAddr,
        code: Code,
        session_id: u16,
    ) -> Result<DiscoveryWriter<'b>, Error> {
        if buf.len() < FRAME_HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        EthernetHeader {
            dst,
            src,
            ethertype: ETHERTYPE_DISCOVERY,
        }
        .emit(buf)?;
        Ok(DiscoveryWriter {
            buf,
            len: FRAME_HEADER_LEN,
            code,
            session_id,
        })
    }

    /// Appends one tag.
    pub fn tag(&mut self, tag_type: TagType, value: &[u8]) -> Result<&mut Self, Error> {
        let value_len = u16::try_from(value.len()).map_err(|_| Error::TooLong)?;
        let end = self.len + TAG_HEADER_LEN + value.len();
        if end - FRAME_HEADER_LEN > usize::from(u16::MAX) {
            return Err(Error::TooLong);
        }
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        out[0..2].copy_from_slice(&tag_type.to_u16().to_be_bytes());
        out[2..4].copy_from_slice(&value_len.to_be_bytes());
        out[TAG_HEADER_LEN..].copy_from_slice(value);
        self.len = end;
        Ok(self)
    }

    /// Appends a PPP-Max-Payload tag (RFC 4638).
    pub fn max_payload(&mut self, value: u16) -> Result<&mut Self, Error> {
        self.tag(TagType::PppMaxPayload, &value.to_be_bytes())
    }

    /// Writes the PPPoE header and returns the frame length.
    pub fn finish(self) -> usize {
        let payload_len = self.len - FRAME_HEADER_LEN;
        let header = PppoeHeader {
            code: self.code.to_u8(),
            session_id: self.session_id,
            // `tag` keeps the payload within u16.
            length: u16::try_from(payload_len).unwrap_or(u16::MAX),
        };
        let room = &mut self.buf[ethernet::HEADER_LEN..];
        // `new` checked the header room.
        let _ = header.emit(room);
        self.len
    }
}
