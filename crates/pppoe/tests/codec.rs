//! The wire format: every code and tag, round trips, and the exact bytes RFC 2516 lays out.

use rswan_pppoe::wire::header::{HEADER_LEN, VERSION_TYPE};
use rswan_pppoe::wire::{
    Code, Discovery, DiscoveryWriter, ETHERTYPE_DISCOVERY, ETHERTYPE_SESSION, Error,
    FRAME_HEADER_LEN, MacAddr, SessionFrame, Tag, TagType,
};

const A: MacAddr = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const B: MacAddr = MacAddr([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);

fn build(code: Code, session_id: u16, tags: &[(TagType, &[u8])]) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let mut w = DiscoveryWriter::new(&mut buf, B, A, code, session_id).unwrap();
    for (t, v) in tags {
        w.tag(*t, v).unwrap();
    }
    let len = w.finish();
    buf.truncate(len);
    buf
}

/// The tags each code needs to be valid.
fn minimal_tags(code: Code) -> Vec<(TagType, &'static [u8])> {
    match code {
        Code::Padi | Code::Padr | Code::Pads => vec![(TagType::ServiceName, b"")],
        Code::Pado => vec![(TagType::AcName, b"ac"), (TagType::ServiceName, b"")],
        Code::Padt => vec![],
    }
}

fn session_id_for(code: Code) -> u16 {
    match code {
        Code::Padi | Code::Pado | Code::Padr => 0,
        Code::Pads | Code::Padt => 0x2b,
    }
}

#[test]
fn every_discovery_code_has_its_rfc2516_value_and_round_trips() {
    let expected = [
        (Code::Padi, 0x09),
        (Code::Pado, 0x07),
        (Code::Padr, 0x19),
        (Code::Pads, 0x65),
        (Code::Padt, 0xa7),
    ];
    for (code, byte) in expected {
        assert_eq!(code.to_u8(), byte);
        assert_eq!(Code::from_u8(byte), Some(code));
        let frame = build(code, session_id_for(code), &minimal_tags(code));
        assert_eq!(frame[12..14], ETHERTYPE_DISCOVERY.to_be_bytes());
        assert_eq!(frame[14], VERSION_TYPE);
        assert_eq!(frame[15], byte);
        let d = Discovery::parse(&frame).unwrap();
        assert_eq!(d.code, code);
        assert_eq!((d.dst, d.src), (B, A));
        assert_eq!(d.session_id, session_id_for(code));
    }
    for byte in 0..=255u8 {
        if !expected.iter().any(|(_, b)| *b == byte) {
            assert_eq!(Code::from_u8(byte), None, "{byte:#x}");
        }
    }
}

#[test]
fn every_tag_type_has_its_wire_value() {
    let expected = [
        (TagType::EndOfList, 0x0000),
        (TagType::ServiceName, 0x0101),
        (TagType::AcName, 0x0102),
        (TagType::HostUniq, 0x0103),
        (TagType::AcCookie, 0x0104),
        (TagType::VendorSpecific, 0x0105),
        (TagType::RelaySessionId, 0x0110),
        (TagType::PppMaxPayload, 0x0120),
        (TagType::ServiceNameError, 0x0201),
        (TagType::AcSystemError, 0x0202),
        (TagType::GenericError, 0x0203),
    ];
    assert_eq!(expected.len(), TagType::KNOWN.len());
    for (t, value) in expected {
        assert_eq!(t.to_u16(), value);
        assert_eq!(TagType::from_u16(value), t);
    }
    assert_eq!(TagType::from_u16(0x0106), TagType::Other(0x0106));
    assert_eq!(TagType::Other(0xbeef).to_u16(), 0xbeef);
}

#[test]
fn every_known_tag_is_picked_out_of_a_pads() {
    let frame = build(
        Code::Pads,
        0x0102,
        &[
            (TagType::ServiceName, b"svc"),
            (TagType::AcName, b"the-ac"),
            (TagType::HostUniq, b"\x01\x02\x03\x04"),
            (TagType::AcCookie, b"cookie"),
            (TagType::VendorSpecific, b"\x00\x00\x0d\xe9data"),
            (TagType::VendorSpecific, b"\x00\x00\x00\x01"),
            (TagType::RelaySessionId, b"relay"),
            (TagType::PppMaxPayload, &1500u16.to_be_bytes()),
            (TagType::ServiceNameError, b"sne"),
            (TagType::AcSystemError, b"ase"),
            (TagType::GenericError, b"ge"),
            (TagType::Other(0x0106), b"credits"),
        ],
    );
    let d = Discovery::parse(&frame).unwrap();
    assert_eq!(d.service_name, Some(&b"svc"[..]));
    assert_eq!(d.ac_name, Some(&b"the-ac"[..]));
    assert_eq!(d.host_uniq, Some(&b"\x01\x02\x03\x04"[..]));
    assert_eq!(d.ac_cookie, Some(&b"cookie"[..]));
    assert_eq!(d.relay_session_id, Some(&b"relay"[..]));
    assert_eq!(d.max_payload, Some(1500));
    assert_eq!(d.service_name_error, Some(&b"sne"[..]));
    assert_eq!(d.ac_system_error, Some(&b"ase"[..]));
    assert_eq!(d.generic_error, Some(&b"ge"[..]));
    let vendors: Vec<&[u8]> = d.vendor_specific().collect();
    assert_eq!(vendors, [&b"\x00\x00\x0d\xe9data"[..], b"\x00\x00\x00\x01"]);
    assert_eq!(d.tags().count(), 12);
    assert_eq!(
        d.tags().last(),
        Some(Tag {
            tag_type: TagType::Other(0x0106),
            value: b"credits"
        })
    );
}

#[test]
fn pado_may_list_several_service_names() {
    let frame = build(
        Code::Pado,
        0,
        &[
            (TagType::AcName, b"ac"),
            (TagType::ServiceName, b""),
            (TagType::ServiceName, b"gold"),
            (TagType::ServiceName, b"silver"),
        ],
    );
    let d = Discovery::parse(&frame).unwrap();
    assert_eq!(d.service_name, Some(&b""[..]));
    let names: Vec<&[u8]> = d.service_names().collect();
    assert_eq!(names, [&b""[..], b"gold", b"silver"]);
}

#[test]
fn padi_bytes_match_the_rfc2516_layout() {
    let frame = build(
        Code::Padi,
        0,
        &[
            (TagType::ServiceName, b"isp"),
            (TagType::HostUniq, b"\xde\xad"),
        ],
    );
    let mut expected = Vec::new();
    expected.extend_from_slice(&B.0);
    expected.extend_from_slice(&A.0);
    expected.extend_from_slice(&[0x88, 0x63, 0x11, 0x09, 0x00, 0x00]);
    expected.extend_from_slice(&[0x00, 0x0d]); // LENGTH: 4 + 3 + 4 + 2
    expected.extend_from_slice(&[0x01, 0x01, 0x00, 0x03, b'i', b's', b'p']);
    expected.extend_from_slice(&[0x01, 0x03, 0x00, 0x02, 0xde, 0xad]);
    assert_eq!(frame, expected);
}

#[test]
fn end_of_list_stops_tag_processing() {
    let mut frame = build(
        Code::Padi,
        0,
        &[(TagType::ServiceName, b"x"), (TagType::EndOfList, b"")],
    );
    // Garbage after End-Of-List, inside LENGTH: a second Service-Name and a broken tag.
    let extra = [0x01, 0x01, 0x00, 0x00, 0x01, 0x03, 0xff, 0xff];
    frame.extend_from_slice(&extra);
    let len = u16::from_be_bytes([frame[18], frame[19]]) + extra.len() as u16;
    frame[18..20].copy_from_slice(&len.to_be_bytes());
    let d = Discovery::parse(&frame).unwrap();
    assert_eq!(d.tags().count(), 1);
    assert_eq!(d.host_uniq, None);
}

#[test]
fn ethernet_padding_after_length_is_ignored() {
    let frame = build(Code::Padi, 0, &[(TagType::ServiceName, b"")]);
    let mut padded = frame.clone();
    padded.resize(60, 0xee);
    let unpadded = Discovery::parse(&frame).unwrap();
    let padded = Discovery::parse(&padded).unwrap();
    assert_eq!(
        padded.tags().collect::<Vec<_>>(),
        unpadded.tags().collect::<Vec<_>>()
    );
}

#[test]
fn writer_refuses_a_buffer_too_small_and_a_value_too_long() {
    let mut small = [0u8; FRAME_HEADER_LEN - 1];
    assert_eq!(
        DiscoveryWriter::new(&mut small, B, A, Code::Padi, 0).unwrap_err(),
        Error::BufferTooSmall
    );
    let mut buf = [0u8; FRAME_HEADER_LEN + 5];
    let mut w = DiscoveryWriter::new(&mut buf, B, A, Code::Padi, 0).unwrap();
    assert_eq!(
        w.tag(TagType::ServiceName, b"ab").unwrap_err(),
        Error::BufferTooSmall
    );
    let mut big = vec![0u8; 70_000];
    let mut w = DiscoveryWriter::new(&mut big, B, A, Code::Padi, 0).unwrap();
    assert_eq!(
        w.tag(TagType::ServiceName, &[0; 65_536]).unwrap_err(),
        Error::TooLong
    );
    w.tag(TagType::ServiceName, &[0; 65_000]).unwrap();
    assert_eq!(
        w.tag(TagType::HostUniq, &[0; 600]).unwrap_err(),
        Error::TooLong,
        "payload beyond a 16-bit LENGTH"
    );
}

#[test]
fn session_header_round_trips_and_has_code_zero() {
    let header = SessionFrame {
        dst: B,
        src: A,
        session_id: 0x4242,
        payload_len: 3,
    };
    let mut frame = [0u8; FRAME_HEADER_LEN + 3];
    frame[FRAME_HEADER_LEN..].copy_from_slice(&[0xc0, 0x21, 0x09]);
    header.emit_header(&mut frame).unwrap();
    assert_eq!(frame[12..14], ETHERTYPE_SESSION.to_be_bytes());
    assert_eq!(
        frame[14..14 + HEADER_LEN],
        [0x11, 0x00, 0x42, 0x42, 0x00, 0x03]
    );
    let parsed = SessionFrame::parse(&frame).unwrap();
    assert_eq!(parsed, header);
    assert_eq!(&frame[parsed.payload_range()], &[0xc0, 0x21, 0x09]);
}

#[test]
fn mac_address_classes() {
    assert!(MacAddr::BROADCAST.is_multicast());
    assert!(!MacAddr::BROADCAST.is_unicast());
    assert!(!MacAddr([0; 6]).is_unicast());
    assert!(MacAddr([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
    assert!(A.is_unicast());
    assert_eq!(A.to_string(), "02:11:22:33:44:55");
}
