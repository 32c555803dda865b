//! Every bad input of issue 4's list is refused with a typed error and a counted reason, and
//! none leaves state behind.

use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::wire::{Code, Discovery, DiscoveryWriter, Error, MacAddr, TagType};
use rswan_pppoe::{
    AcConfig, AcEvent, AccessConcentrator, Client, ClientEvent, ClientState, Counters, Failure,
    HEADER_ROOM, Instant, PeerErrorKind, RateLimit, Session, SessionSlot,
};

const CLIENT_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const AC_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xac]);
const STRANGER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x66]);

type Ac = AccessConcentrator<[SessionSlot; 4]>;

const TABLE: [SessionSlot; 4] = [SessionSlot::FREE; 4];

fn frame(
    dst: MacAddr,
    src: MacAddr,
    code: Code,
    session_id: u16,
    tags: &[(TagType, &[u8])],
) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let mut w = DiscoveryWriter::new(&mut buf, dst, src, code, session_id).unwrap();
    for (t, v) in tags {
        w.tag(*t, v).unwrap();
    }
    let len = w.finish();
    buf.truncate(len);
    buf
}

fn padi(src: MacAddr) -> Vec<u8> {
    frame(
        MacAddr::BROADCAST,
        src,
        Code::Padi,
        0,
        &[(TagType::ServiceName, b""), (TagType::HostUniq, b"hu")],
    )
}

fn ac() -> Ac {
    Ac::new(AcConfig::new(AC_MAC, b"ac", [9; 16]).unwrap(), TABLE).unwrap()
}

/// Feeds `bytes` to a fresh AC and returns its counters; asserts nothing was answered.
fn ac_rejects(bytes: &[u8]) -> Counters {
    let mut ac = ac();
    let out = ac.handle_frame(Instant::ZERO, bytes, &mut [0; TX_BUFFER_LEN]);
    assert_eq!(out, rswan_pppoe::Output::none(), "answered {bytes:02x?}");
    assert_eq!(ac.session_count(), 0);
    *ac.counters()
}

/// Sets the PPPoE LENGTH field of a discovery frame.
fn set_length(frame: &mut [u8], length: u16) {
    frame[18..20].copy_from_slice(&length.to_be_bytes());
}

#[test]
fn every_truncation_of_a_padi_is_refused_and_counted() {
    let whole = padi(CLIENT_MAC);
    for cut in 0..whole.len() {
        let err = Discovery::parse(&whole[..cut]).unwrap_err();
        let expected = match cut {
            0..20 => Error::Truncated,
            _ => Error::LengthPastEnd,
        };
        assert_eq!(err, expected, "cut at {cut}");
        let counters = ac_rejects(&whole[..cut]);
        let counted = counters.truncated + counters.length_past_end;
        assert_eq!(counted, 1, "cut at {cut}");
    }
}

#[test]
fn wrong_version_or_type_is_refused_and_counted() {
    for vt in [0x00, 0x01, 0x10, 0x12, 0x21, 0xff] {
        let mut bytes = padi(CLIENT_MAC);
        bytes[14] = vt;
        assert_eq!(
            Discovery::parse(&bytes).unwrap_err(),
            Error::BadVersionType(vt)
        );
        assert_eq!(ac_rejects(&bytes).bad_version_type, 1);
    }
}

#[test]
fn unknown_code_and_wrong_ethertype_are_refused_and_counted() {
    let mut bytes = padi(CLIENT_MAC);
    bytes[15] = 0x00; // the session code, on the discovery ethertype
    assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::UnknownCode(0));
    assert_eq!(ac_rejects(&bytes).unknown_code, 1);
    let mut bytes = padi(CLIENT_MAC);
    bytes[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    assert_eq!(
        Discovery::parse(&bytes).unwrap_err(),
        Error::UnknownEthertype(0x0800)
    );
    assert_eq!(ac_rejects(&bytes).wrong_ethertype, 1);
}

#[test]
fn tag_length_past_the_end_is_refused_and_counted() {
    // Service-Name claims 10 bytes; only 2 follow inside LENGTH.
    let mut bytes = padi(CLIENT_MAC);
    bytes[22..24].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::TagOverflow);
    assert_eq!(ac_rejects(&bytes).tag_overflow, 1);
    // A tag header cut by LENGTH (3 bytes left).
    let mut bytes = padi(CLIENT_MAC);
    bytes.extend_from_slice(&[0x01, 0x03, 0x00]);
    let len = bytes.len() as u16 - 20;
    set_length(&mut bytes, len);
    assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::TagOverflow);
    // A tag length of 0xffff.
    let mut bytes = padi(CLIENT_MAC);
    bytes[22..24].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::TagOverflow);
}

#[test]
fn pppoe_length_past_the_frame_is_refused_and_counted() {
    let mut bytes = padi(CLIENT_MAC);
    let len = bytes.len() as u16 - 20 + 1;
    set_length(&mut bytes, len);
    assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::LengthPastEnd);
    assert_eq!(ac_rejects(&bytes).length_past_end, 1);
}

#[test]
fn duplicate_or_missing_service_name_is_refused_and_counted() {
    let two = [
        (TagType::ServiceName, &b"a"[..]),
        (TagType::ServiceName, b"b"),
    ];
    for code in [Code::Padi, Code::Padr] {
        let bytes = frame(AC_MAC, CLIENT_MAC, code, 0, &two);
        assert_eq!(
            Discovery::parse(&bytes).unwrap_err(),
            Error::DuplicateServiceName
        );
        assert_eq!(ac_rejects(&bytes).duplicate_service_name, 1);
        let bytes = frame(AC_MAC, CLIENT_MAC, code, 0, &[(TagType::HostUniq, b"h")]);
        assert_eq!(
            Discovery::parse(&bytes).unwrap_err(),
            Error::MissingServiceName
        );
        assert_eq!(ac_rejects(&bytes).missing_service_name, 1);
    }
    let pads = frame(CLIENT_MAC, AC_MAC, Code::Pads, 7, &two);
    assert_eq!(
        Discovery::parse(&pads).unwrap_err(),
        Error::DuplicateServiceName
    );
    let pads = frame(CLIENT_MAC, AC_MAC, Code::Pads, 7, &[]);
    assert_eq!(
        Discovery::parse(&pads).unwrap_err(),
        Error::MissingServiceName
    );
    // A refusing PADS (session 0) need not name the service.
    let refusal = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pads,
        0,
        &[(TagType::GenericError, b"no")],
    );
    assert!(Discovery::parse(&refusal).is_ok());
    let pado = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pado,
        0,
        &[(TagType::AcName, b"ac")],
    );
    assert_eq!(
        Discovery::parse(&pado).unwrap_err(),
        Error::MissingServiceName
    );
    let pado = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pado,
        0,
        &[(TagType::ServiceName, b"")],
    );
    assert_eq!(Discovery::parse(&pado).unwrap_err(), Error::MissingAcName);
}

#[test]
fn duplicate_single_use_tags_and_bad_tag_lengths_are_refused() {
    for t in [
        TagType::AcName,
        TagType::HostUniq,
        TagType::AcCookie,
        TagType::RelaySessionId,
        TagType::ServiceNameError,
        TagType::AcSystemError,
        TagType::GenericError,
    ] {
        let bytes = frame(
            MacAddr::BROADCAST,
            CLIENT_MAC,
            Code::Padi,
            0,
            &[(TagType::ServiceName, b""), (t, b"x"), (t, b"y")],
        );
        assert_eq!(
            Discovery::parse(&bytes).unwrap_err(),
            Error::DuplicateTag(t)
        );
        assert_eq!(ac_rejects(&bytes).duplicate_tag, 1);
    }
    let max = 1500u16.to_be_bytes();
    let bytes = frame(
        MacAddr::BROADCAST,
        CLIENT_MAC,
        Code::Padi,
        0,
        &[
            (TagType::ServiceName, b""),
            (TagType::PppMaxPayload, &max),
            (TagType::PppMaxPayload, &max),
        ],
    );
    assert_eq!(
        Discovery::parse(&bytes).unwrap_err(),
        Error::DuplicateTag(TagType::PppMaxPayload)
    );
    for (t, v) in [
        (TagType::EndOfList, &b"x"[..]),
        (TagType::PppMaxPayload, b"\x05"),
        (TagType::PppMaxPayload, b"\x05\xdc\x00"),
        (TagType::VendorSpecific, b"\x00\x00\x01"),
    ] {
        let bytes = frame(
            MacAddr::BROADCAST,
            CLIENT_MAC,
            Code::Padi,
            0,
            &[(TagType::ServiceName, b""), (t, v)],
        );
        assert_eq!(
            Discovery::parse(&bytes).unwrap_err(),
            Error::BadTagLength(t)
        );
        assert_eq!(ac_rejects(&bytes).bad_tag_length, 1);
    }
}

#[test]
fn session_ids_the_code_forbids_are_refused() {
    let sn = [(TagType::ServiceName, &b""[..])];
    let bytes = frame(MacAddr::BROADCAST, CLIENT_MAC, Code::Padi, 5, &sn);
    assert_eq!(
        Discovery::parse(&bytes).unwrap_err(),
        Error::BadSessionId(5)
    );
    assert_eq!(ac_rejects(&bytes).bad_session_id, 1);
    let bytes = frame(AC_MAC, CLIENT_MAC, Code::Padt, 0, &[]);
    assert_eq!(
        Discovery::parse(&bytes).unwrap_err(),
        Error::BadSessionId(0)
    );
    let bytes = frame(CLIENT_MAC, AC_MAC, Code::Pads, 0xffff, &sn);
    assert_eq!(
        Discovery::parse(&bytes).unwrap_err(),
        Error::BadSessionId(0xffff)
    );
}

#[test]
fn group_source_mac_is_refused() {
    for src in [
        MacAddr::BROADCAST,
        MacAddr([1, 0, 0x5e, 0, 0, 1]),
        MacAddr([0; 6]),
    ] {
        let bytes = padi(src);
        assert_eq!(Discovery::parse(&bytes).unwrap_err(), Error::BadSourceMac);
        assert_eq!(ac_rejects(&bytes).bad_source_mac, 1);
    }
}

/// A client that reached PADS with an AC, and that AC.
fn established() -> (Client, Ac, Session) {
    let mut tx = [0u8; TX_BUFFER_LEN];
    let config = ClientConfig::new(CLIENT_MAC, b"", b"hu").unwrap();
    let (mut client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let mut ac = ac();
    let mut reply = [0u8; TX_BUFFER_LEN];
    let mut to_ac = tx[..len].to_vec();
    loop {
        let out = ac.handle_frame(Instant::ZERO, &to_ac, &mut reply);
        let Some(len) = out.transmit else { break };
        let out = client.handle_frame(Instant::ZERO, &reply[..len], &mut tx);
        if let Some(ClientEvent::Established(s)) = out.event {
            return (client, ac, s);
        }
        to_ac = tx[..out.transmit.unwrap()].to_vec();
    }
    panic!("no session");
}

#[test]
fn pads_with_session_id_zero_fails_the_dial_and_is_counted() {
    let mut tx = [0u8; TX_BUFFER_LEN];
    let config = ClientConfig::new(CLIENT_MAC, b"", b"hu").unwrap();
    let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let pado = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pado,
        0,
        &[
            (TagType::AcName, b"ac"),
            (TagType::ServiceName, b""),
            (TagType::HostUniq, b"hu"),
        ],
    );
    assert!(
        client
            .handle_frame(Instant::ZERO, &pado, &mut tx)
            .transmit
            .is_some()
    );
    let pads = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pads,
        0,
        &[(TagType::ServiceName, b""), (TagType::HostUniq, b"hu")],
    );
    let out = client.handle_frame(Instant::ZERO, &pads, &mut tx);
    assert_eq!(
        out.event,
        Some(ClientEvent::Failed(Failure::SessionRefused))
    );
    assert_eq!(client.counters().pads_session_zero, 1);
    assert_eq!(client.state(), ClientState::Closed);
}

#[test]
fn padt_from_a_stranger_never_touches_a_session() {
    let (mut client, mut ac, session) = established();
    let mut tx = [0u8; TX_BUFFER_LEN];
    // At the AC: right id from another MAC, and another id from the right MAC.
    for (src, id) in [(STRANGER, session.id), (CLIENT_MAC, session.id + 1)] {
        let padt = frame(AC_MAC, src, Code::Padt, id, &[]);
        let out = ac.handle_frame(Instant::ZERO, &padt, &mut tx);
        assert_eq!(out, rswan_pppoe::Output::none());
    }
    assert_eq!(ac.counters().padt_from_stranger, 2);
    assert_eq!(ac.session_count(), 1);
    // At the client: the same two.
    for (src, id) in [(STRANGER, session.id), (AC_MAC, session.id + 1)] {
        let padt = frame(CLIENT_MAC, src, Code::Padt, id, &[]);
        let out = client.handle_frame(Instant::ZERO, &padt, &mut tx);
        assert_eq!(out, rswan_pppoe::Output::none());
    }
    assert_eq!(client.counters().padt_from_stranger, 2);
    assert_eq!(client.session(), Some(session));
    // A PADT to another station (right id and source) is not ours either.
    let padt = frame(STRANGER, AC_MAC, Code::Padt, session.id, &[]);
    let _ = client.handle_frame(Instant::ZERO, &padt, &mut tx);
    assert_eq!(client.counters().not_for_us, 1);
    assert_eq!(client.state(), ClientState::Established);
}

#[test]
fn session_frames_from_a_stranger_are_refused_and_counted() {
    let (mut client, mut ac, session) = established();
    let ppp = [0xc0, 0x21, 0x09, 0x01, 0x00, 0x08, 0, 0, 0, 0];
    let mut buf = [0u8; 64];
    buf[HEADER_ROOM..HEADER_ROOM + ppp.len()].copy_from_slice(&ppp);
    let len = client.encapsulate(&mut buf, ppp.len()).unwrap();
    let good = buf[..len].to_vec();

    let mut from_stranger = good.clone();
    from_stranger[6..12].copy_from_slice(&STRANGER.0);
    assert_eq!(
        ac.decapsulate(&from_stranger).unwrap_err(),
        Error::WrongPeer
    );
    let mut other_id = good.clone();
    other_id[16..18].copy_from_slice(&(session.id + 1).to_be_bytes());
    assert_eq!(ac.decapsulate(&other_id).unwrap_err(), Error::WrongSession);
    let mut too_long = good.clone();
    too_long[18..20].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(ac.decapsulate(&too_long).unwrap_err(), Error::LengthPastEnd);
    assert_eq!(ac.counters().wrong_peer, 1);
    assert_eq!(ac.counters().wrong_session, 1);
    assert_eq!(ac.counters().length_past_end, 1);
    assert_eq!(ac.session_count(), 1);
    let (s, payload) = ac.decapsulate(&good).unwrap();
    assert_eq!((s.id, payload), (session.id, &ppp[..]));

    // The client refuses its own frame coming back (wrong direction: not for it).
    assert_eq!(client.decapsulate(&good).unwrap_err(), Error::NotForUs);
    assert_eq!(client.counters().not_for_us, 1);
}

#[test]
fn payload_above_the_negotiated_size_is_refused() {
    let (mut client, _, _) = established();
    let mut buf = vec![0u8; HEADER_ROOM + 1600];
    assert_eq!(
        client.encapsulate(&mut buf, 1495),
        Err(Error::PayloadTooLarge)
    );
    assert!(client.encapsulate(&mut buf, 1494).is_ok());
    assert_eq!(
        client.encapsulate(&mut buf[..100], 81),
        Err(Error::NoHeaderRoom)
    );
    assert_eq!(client.counters().payload_too_large, 1);
    assert_eq!(client.counters().emit_failed, 1);
}

#[test]
fn padi_flood_is_rate_limited_and_leaves_no_state() {
    let mut config = AcConfig::new(AC_MAC, b"ac", [9; 16]).unwrap();
    config.padi_rate = Some(RateLimit {
        per_second: 10,
        burst: 5,
    });
    let mut ac = Ac::new(config, TABLE).unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut answered = 0;
    // 10 000 PADIs from distinct MACs over one second.
    for i in 0..10_000u32 {
        let b = i.to_be_bytes();
        let src = MacAddr([0x02, 0x99, b[0], b[1], b[2], b[3]]);
        let now = Instant::from_millis(u64::from(i) / 10);
        if ac.handle_frame(now, &padi(src), &mut tx).transmit.is_some() {
            answered += 1;
        }
    }
    // The burst, plus 10 per second for the 999 ms the flood lasted.
    assert!((5..=15).contains(&answered), "answered {answered}");
    assert_eq!(ac.counters().padi_rate_limited, 10_000 - answered);
    assert_eq!(ac.session_count(), 0);
    // The bucket refills: a PADI a second later is answered again.
    let out = ac.handle_frame(Instant::from_millis(2_000), &padi(CLIENT_MAC), &mut tx);
    assert!(out.transmit.is_some());
}

#[test]
fn padr_flood_without_a_valid_cookie_opens_nothing() {
    let mut ac = ac();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let real_cookie = ac.cookie_for(CLIENT_MAC);
    for i in 0..1_000u16 {
        let b = i.to_be_bytes();
        let src = MacAddr([0x02, 0x77, 0, 0, b[0], b[1]]);
        let no_cookie = frame(AC_MAC, src, Code::Padr, 0, &[(TagType::ServiceName, b"")]);
        // A cookie that is valid for another MAC, replayed.
        let replayed = frame(
            AC_MAC,
            src,
            Code::Padr,
            0,
            &[
                (TagType::ServiceName, b""),
                (TagType::AcCookie, &real_cookie),
            ],
        );
        let forged = frame(
            AC_MAC,
            src,
            Code::Padr,
            0,
            &[
                (TagType::ServiceName, b""),
                (TagType::AcCookie, &b.repeat(4)),
            ],
        );
        for bytes in [no_cookie, replayed, forged] {
            let out = ac.handle_frame(Instant::ZERO, &bytes, &mut tx);
            assert_eq!(out, rswan_pppoe::Output::none());
        }
    }
    assert_eq!(ac.counters().padr_without_cookie, 1_000);
    assert_eq!(ac.counters().padr_bad_cookie, 2_000);
    assert_eq!(ac.session_count(), 0);
}

#[test]
fn per_peer_session_limit_refuses_with_ac_system_error() {
    let mut config = AcConfig::new(AC_MAC, b"ac", [9; 16]).unwrap();
    config.max_sessions_per_peer = 2;
    let mut ac = Ac::new(config, TABLE).unwrap();
    let cookie = ac.cookie_for(CLIENT_MAC);
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut opened = 0;
    for i in 0..3u8 {
        let padr = frame(
            AC_MAC,
            CLIENT_MAC,
            Code::Padr,
            0,
            &[
                (TagType::ServiceName, b""),
                (TagType::AcCookie, &cookie),
                (TagType::HostUniq, &[i]),
            ],
        );
        let out = ac.handle_frame(Instant::ZERO, &padr, &mut tx);
        let pads = Discovery::parse(&tx[..out.transmit.unwrap()]).unwrap();
        if let Some(AcEvent::SessionOpened { .. }) = out.event {
            opened += 1;
            assert_ne!(pads.session_id, 0);
        } else {
            assert_eq!(pads.session_id, 0);
            assert!(pads.ac_system_error.is_some());
            assert_eq!(pads.host_uniq, Some(&[i][..]));
        }
    }
    assert_eq!(opened, 2);
    assert_eq!(ac.counters().peer_session_limit, 1);
    // Another MAC still gets a session.
    let other = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
    let padr = frame(
        AC_MAC,
        other,
        Code::Padr,
        0,
        &[
            (TagType::ServiceName, b""),
            (TagType::AcCookie, &ac.cookie_for(other)),
        ],
    );
    let out = ac.handle_frame(Instant::ZERO, &padr, &mut tx);
    assert!(matches!(out.event, Some(AcEvent::SessionOpened { .. })));
}

#[test]
fn full_table_refuses_and_ids_are_fresh_nonzero_and_skip_reserved() {
    let mut config = AcConfig::new(AC_MAC, b"ac", [9; 16]).unwrap();
    config.first_session_id = 0xfffe;
    config.max_sessions_per_peer = 10;
    let mut ac = Ac::new(config, TABLE).unwrap();
    let cookie = ac.cookie_for(CLIENT_MAC);
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let padr = frame(
            AC_MAC,
            CLIENT_MAC,
            Code::Padr,
            0,
            &[
                (TagType::ServiceName, b""),
                (TagType::AcCookie, &cookie),
                (TagType::HostUniq, &[i]),
            ],
        );
        let out = ac.handle_frame(Instant::ZERO, &padr, &mut tx);
        if let Some(AcEvent::SessionOpened { session, .. }) = out.event {
            ids.push(session.id);
        }
    }
    assert_eq!(
        ids,
        [0xfffe, 1, 2, 3],
        "0xffff and 0 skipped; table of 4 full"
    );
    assert_eq!(ac.counters().session_limit, 1);
    // A closed id is not handed out again right away.
    assert!(ac.close_session(1, None, &mut tx).is_some());
    let padr = frame(
        AC_MAC,
        CLIENT_MAC,
        Code::Padr,
        0,
        &[
            (TagType::ServiceName, b""),
            (TagType::AcCookie, &cookie),
            (TagType::HostUniq, b"new"),
        ],
    );
    let out = ac.handle_frame(Instant::ZERO, &padr, &mut tx);
    let Some(AcEvent::SessionOpened { session, .. }) = out.event else {
        panic!("{out:?}")
    };
    assert_eq!(session.id, 4);
}

#[test]
fn offers_that_do_not_match_are_counted_and_named_in_the_failure() {
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut config = ClientConfig::new(CLIENT_MAC, b"gold", b"hu").unwrap();
    config.ac_name = Some(rswan_pppoe::Name::new(b"wanted-ac").unwrap());
    let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let offer = |ac_name: &[u8], service: &[u8], host_uniq: &[u8]| {
        frame(
            CLIENT_MAC,
            AC_MAC,
            Code::Pado,
            0,
            &[
                (TagType::AcName, ac_name),
                (TagType::ServiceName, service),
                (TagType::HostUniq, host_uniq),
            ],
        )
    };
    for bytes in [
        offer(b"other-ac", b"gold", b"hu"),
        offer(b"wanted-ac", b"silver", b"hu"),
        offer(b"wanted-ac", b"gold", b"not-ours"),
    ] {
        let out = client.handle_frame(Instant::ZERO, &bytes, &mut tx);
        assert_eq!(out, rswan_pppoe::Output::none());
    }
    let c = client.counters();
    assert_eq!(
        (c.ac_name_mismatch, c.service_mismatch, c.host_uniq_mismatch),
        (1, 1, 1)
    );
    // A PADS nobody asked for is ignored too.
    let pads = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pads,
        3,
        &[(TagType::ServiceName, b"gold")],
    );
    let _ = client.handle_frame(Instant::ZERO, &pads, &mut tx);
    assert_eq!(client.counters().unexpected_pads, 1);
    let mut last = None;
    for t in [5_000, 15_000, 35_000] {
        last = client
            .handle_timeout(Instant::from_millis(t), &mut tx)
            .event;
    }
    assert_eq!(last, Some(ClientEvent::Failed(Failure::NoMatchingOffer)));
}

#[test]
fn service_name_error_in_a_pado_is_the_failure_reason_with_its_text() {
    let mut tx = [0u8; TX_BUFFER_LEN];
    let config = ClientConfig::new(CLIENT_MAC, b"gold", b"").unwrap();
    let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let pado = frame(
        CLIENT_MAC,
        AC_MAC,
        Code::Pado,
        0,
        &[
            (TagType::AcName, b"ac"),
            (TagType::ServiceName, b"gold"),
            (TagType::ServiceNameError, b"gold is sold out"),
        ],
    );
    let _ = client.handle_frame(Instant::ZERO, &pado, &mut tx);
    assert_eq!(client.counters().offer_with_error, 1);
    let mut last = None;
    for t in [5_000, 15_000, 35_000] {
        last = client
            .handle_timeout(Instant::from_millis(t), &mut tx)
            .event;
    }
    let Some(ClientEvent::Failed(Failure::Peer(e))) = last else {
        panic!("{last:?}")
    };
    assert_eq!(e.kind, PeerErrorKind::ServiceName);
    assert_eq!(e.text.as_str(), Some("gold is sold out"));
    assert_eq!(
        Failure::Peer(e).to_string(),
        "access concentrator error: Service-Name-Error: gold is sold out"
    );
}

#[test]
fn padr_for_a_service_not_offered_gets_a_service_name_error() {
    let mut config = AcConfig::new(AC_MAC, b"ac", [9; 16]).unwrap();
    config.services.push(b"gold").unwrap();
    let mut ac = Ac::new(config, TABLE).unwrap();
    let padr = frame(
        AC_MAC,
        CLIENT_MAC,
        Code::Padr,
        0,
        &[
            (TagType::ServiceName, b"silver"),
            (TagType::AcCookie, &ac.cookie_for(CLIENT_MAC)),
        ],
    );
    let mut tx = [0u8; TX_BUFFER_LEN];
    let out = ac.handle_frame(Instant::ZERO, &padr, &mut tx);
    assert_eq!(out.event, None);
    let pads = Discovery::parse(&tx[..out.transmit.unwrap()]).unwrap();
    assert_eq!((pads.code, pads.session_id), (Code::Pads, 0));
    assert!(pads.service_name_error.is_some());
    assert_eq!(ac.counters().service_unavailable, 1);
    assert_eq!(ac.session_count(), 0);
}

#[test]
fn codes_a_role_never_receives_are_counted() {
    let mut ac = ac();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let pado = frame(
        AC_MAC,
        STRANGER,
        Code::Pado,
        0,
        &[(TagType::AcName, b"x"), (TagType::ServiceName, b"")],
    );
    let _ = ac.handle_frame(Instant::ZERO, &pado, &mut tx);
    assert_eq!(ac.counters().unexpected_code, 1);
    let config = ClientConfig::new(CLIENT_MAC, b"", b"").unwrap();
    let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let padi = frame(
        CLIENT_MAC,
        STRANGER,
        Code::Padi,
        0,
        &[(TagType::ServiceName, b"")],
    );
    let _ = client.handle_frame(Instant::ZERO, &padi, &mut tx);
    assert_eq!(client.counters().unexpected_code, 1);
}
