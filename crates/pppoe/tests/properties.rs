//! Properties over generated inputs: what is emitted parses back to itself, parsing never
//! panics on any bytes, the state machines never panic on any frame, and SipHash-2-4 agrees
//! with an independent implementation (the standard library's).

use proptest::collection::vec;
use proptest::prelude::*;
use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::siphash::siphash24;
use rswan_pppoe::wire::{Code, Discovery, DiscoveryWriter, MacAddr, SessionFrame, Tag, TagType};
use rswan_pppoe::{
    AcConfig, AcEvent, AccessConcentrator, Client, ClientEvent, HEADER_ROOM, Instant, Session,
    SessionSlot,
};

fn unicast_mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>()
        .prop_map(|mut m| {
            m[0] &= 0xfe;
            MacAddr(m)
        })
        .prop_filter("not zero", |m| m.is_unicast())
}

/// Tags that may appear any number of times in any code (no Service-Name, no single-use tag).
fn repeatable_tag() -> impl Strategy<Value = (TagType, Vec<u8>)> {
    prop_oneof![
        vec(any::<u8>(), 4..40).prop_map(|v| (TagType::VendorSpecific, v)),
        (0x0300u16..0xffff, vec(any::<u8>(), 0..40))
            .prop_map(|(t, v)| (TagType::from_u16(t), v))
            .prop_filter("unknown type", |(t, _)| matches!(t, TagType::Other(_))),
    ]
}

/// A valid discovery packet: code, session id and a tag list that obeys the code's rules.
fn valid_discovery() -> impl Strategy<Value = (Code, u16, Vec<(TagType, Vec<u8>)>)> {
    let code = prop::sample::select(Code::ALL.to_vec());
    let singles = (
        prop::option::of(vec(any::<u8>(), 0..32)),
        prop::option::of(vec(any::<u8>(), 0..32)),
        prop::option::of(vec(any::<u8>(), 0..32)),
        prop::option::of(vec(any::<u8>(), 0..32)),
        prop::option::of(any::<u16>()),
        prop::option::of(vec(any::<u8>(), 0..32)),
    );
    (
        code,
        1u16..0xffff,
        vec(vec(any::<u8>(), 0..20), 1..4),
        singles,
        vec(repeatable_tag(), 0..4),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(code, id, names, singles, extra, seed)| {
            let session_id = match code {
                Code::Padi | Code::Pado | Code::Padr => 0,
                Code::Pads | Code::Padt => id,
            };
            let names = match code {
                Code::Pado => names,
                Code::Padt => names[..names.len().min(2)].to_vec(),
                _ => names[..1].to_vec(),
            };
            let (ac_name, host_uniq, cookie, relay, max, error) = singles;
            let mut tags: Vec<(TagType, Vec<u8>)> = names
                .into_iter()
                .map(|n| (TagType::ServiceName, n))
                .collect();
            let ac_name = if code == Code::Pado {
                Some(ac_name.unwrap_or_default())
            } else {
                ac_name
            };
            for (t, v) in [
                (TagType::AcName, ac_name),
                (TagType::HostUniq, host_uniq),
                (TagType::AcCookie, cookie),
                (TagType::RelaySessionId, relay),
                (
                    TagType::PppMaxPayload,
                    max.map(|m| m.to_be_bytes().to_vec()),
                ),
                (TagType::GenericError, error),
            ] {
                if let Some(v) = v {
                    tags.push((t, v));
                }
            }
            tags.extend(extra);
            // Shuffle deterministically so tag order varies.
            let rotate = seed.index(tags.len());
            tags.rotate_left(rotate);
            (code, session_id, tags)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn parse_of_emit_is_identity(
        dst in any::<[u8; 6]>(),
        src in unicast_mac(),
        (code, session_id, tags) in valid_discovery(),
        end_of_list in any::<bool>(),
    ) {
        let mut buf = vec![0u8; 2048];
        let mut w = DiscoveryWriter::new(&mut buf, MacAddr(dst), src, code, session_id).unwrap();
        for (t, v) in &tags {
            w.tag(*t, v).unwrap();
        }
        if end_of_list {
            w.tag(TagType::EndOfList, &[]).unwrap();
        }
        let len = w.finish();
        let d = Discovery::parse(&buf[..len]).unwrap();
        prop_assert_eq!(d.code, code);
        prop_assert_eq!(d.session_id, session_id);
        prop_assert_eq!(d.dst, MacAddr(dst));
        prop_assert_eq!(d.src, src);
        let parsed: Vec<(TagType, Vec<u8>)> =
            d.tags().map(|Tag { tag_type, value }| (tag_type, value.to_vec())).collect();
        prop_assert_eq!(&parsed, &tags);
        let first = |t: TagType| tags.iter().find(|(x, _)| *x == t).map(|(_, v)| v.as_slice());
        prop_assert_eq!(d.service_name, first(TagType::ServiceName));
        prop_assert_eq!(d.ac_name, first(TagType::AcName));
        prop_assert_eq!(d.host_uniq, first(TagType::HostUniq));
        prop_assert_eq!(d.ac_cookie, first(TagType::AcCookie));
        prop_assert_eq!(d.relay_session_id, first(TagType::RelaySessionId));
        prop_assert_eq!(d.generic_error, first(TagType::GenericError));
        prop_assert_eq!(
            d.max_payload,
            first(TagType::PppMaxPayload).map(|v| u16::from_be_bytes([v[0], v[1]]))
        );
    }

    #[test]
    fn session_frame_round_trips(
        dst in any::<[u8; 6]>(),
        src in unicast_mac(),
        id in 1u16..0xffff,
        payload in vec(any::<u8>(), 0..1600),
    ) {
        let mut frame = vec![0u8; HEADER_ROOM];
        frame.extend_from_slice(&payload);
        let header = SessionFrame { dst: MacAddr(dst), src, session_id: id, payload_len: payload.len() };
        header.emit_header(&mut frame).unwrap();
        let parsed = SessionFrame::parse(&frame).unwrap();
        prop_assert_eq!(parsed, header);
        prop_assert_eq!(&frame[parsed.payload_range()], &payload[..]);
    }

    #[test]
    fn encapsulate_then_decapsulate_returns_the_payload_in_place(
        a in unicast_mac(),
        b in unicast_mac(),
        id in 1u16..0xffff,
        max_payload in 1492u16..9000,
        payload in vec(any::<u8>(), 0..1600),
    ) {
        prop_assume!(a != b);
        let sender = Session { id, local: a, peer: b, max_payload };
        let receiver = Session { id, local: b, peer: a, max_payload };
        let mut buf = vec![0u8; HEADER_ROOM];
        buf.extend_from_slice(&payload);
        let fits = payload.len() <= usize::from(max_payload) + 2;
        match sender.encapsulate(&mut buf, payload.len()) {
            Ok(len) => {
                prop_assert!(fits);
                let got = receiver.decapsulate(&buf[..len]).unwrap();
                prop_assert_eq!(got, &payload[..]);
                // The payload was not moved: it is the same bytes of the same buffer.
                prop_assert_eq!(got.as_ptr(), buf[HEADER_ROOM..].as_ptr());
            }
            Err(e) => {
                prop_assert!(!fits);
                prop_assert_eq!(e, rswan_pppoe::Error::PayloadTooLarge);
            }
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..200)) {
        let _ = Discovery::parse(&bytes);
        let _ = SessionFrame::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_valid_frames(
        (code, session_id, tags) in valid_discovery(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = vec![0u8; 2048];
        let mut w = DiscoveryWriter::new(&mut buf, MacAddr::BROADCAST, MacAddr([2, 0, 0, 0, 0, 1]), code, session_id).unwrap();
        for (t, v) in &tags {
            w.tag(*t, v).unwrap();
        }
        let len = w.finish();
        let frame = &mut buf[..len];
        for (at, value) in flips {
            frame[at.index(len)] = value;
        }
        let cut = cut.index(len + 1);
        let _ = Discovery::parse(&frame[..cut]);
        let _ = Discovery::parse(frame);
    }

    #[test]
    fn state_machines_never_panic_and_keep_their_invariants(
        frames in vec(vec(any::<u8>(), 0..120), 0..30),
        steps in vec(0u64..20_000, 0..30),
    ) {
        let client_mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let ac_mac = MacAddr([2, 0, 0, 0, 0, 2]);
        let mut tx = [0u8; TX_BUFFER_LEN];
        let config = ClientConfig::new(client_mac, b"", b"h").unwrap();
        let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
        let mut ac = AccessConcentrator::new(AcConfig::new(ac_mac, b"ac", [1; 16]).unwrap(), [SessionSlot::FREE; 2]).unwrap();
        let mut now = Instant::ZERO;
        for (i, mut frame) in frames.into_iter().enumerate() {
            // Aim some frames at the machines so they get past the address checks.
            if frame.len() >= 14 && i % 2 == 0 {
                frame[..6].copy_from_slice(&if i % 4 == 0 { client_mac.0 } else { ac_mac.0 });
                frame[12..14].copy_from_slice(&[0x88, 0x63]);
            }
            now = now + core::time::Duration::from_millis(steps.get(i).copied().unwrap_or(0));
            let out = client.handle_frame(now, &frame, &mut tx);
            prop_assert!(out.transmit.is_none_or(|n| Discovery::parse(&tx[..n]).is_ok()));
            let out = client.handle_timeout(now, &mut tx);
            prop_assert!(out.transmit.is_none_or(|n| Discovery::parse(&tx[..n]).is_ok()));
            let out = ac.handle_frame(now, &frame, &mut tx);
            prop_assert!(out.transmit.is_none_or(|n| Discovery::parse(&tx[..n]).is_ok()));
            let _ = ac.decapsulate(&frame);
            let _ = client.decapsulate(&frame);
            prop_assert!(ac.session_count() <= 2);
        }
    }

    #[test]
    fn client_and_ac_establish_for_any_names(
        service in vec(any::<u8>(), 0..64),
        host_uniq in vec(any::<u8>(), 0..32),
        ac_name in vec(any::<u8>(), 0..64),
        key in any::<[u8; 16]>(),
        first_id in any::<u16>(),
    ) {
        let client_mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let ac_mac = MacAddr([2, 0, 0, 0, 0, 2]);
        let mut config = AcConfig::new(ac_mac, &ac_name, key).unwrap();
        config.first_session_id = first_id;
        let mut ac = AccessConcentrator::new(config, [SessionSlot::FREE; 1]).unwrap();
        let mut tx = [0u8; TX_BUFFER_LEN];
        let mut reply = [0u8; TX_BUFFER_LEN];
        let (mut client, len) =
            Client::start(ClientConfig::new(client_mac, &service, &host_uniq).unwrap(), Instant::ZERO, &mut tx).unwrap();
        let pado = ac.handle_frame(Instant::ZERO, &tx[..len], &mut reply);
        let padr = client.handle_frame(Instant::ZERO, &reply[..pado.transmit.unwrap()], &mut tx);
        let pads = ac.handle_frame(Instant::ZERO, &tx[..padr.transmit.unwrap()], &mut reply);
        let Some(AcEvent::SessionOpened { session, service_name }) = pads.event else {
            return Err(TestCaseError::fail("no session at the AC"));
        };
        prop_assert_eq!(service_name.as_bytes(), &service[..]);
        prop_assert!(session.id != 0 && session.id != 0xffff);
        let done = client.handle_frame(Instant::ZERO, &reply[..pads.transmit.unwrap()], &mut tx);
        prop_assert_eq!(done.event, Some(ClientEvent::Established(Session {
            local: client_mac,
            peer: ac_mac,
            ..session
        })));
    }

    #[test]
    fn siphash24_matches_the_standard_library(key in any::<[u8; 16]>(), data in vec(any::<u8>(), 0..100)) {
        #[allow(deprecated)]
        let mut reference = std::hash::SipHasher::new_with_keys(
            u64::from_le_bytes(key[..8].try_into().unwrap()),
            u64::from_le_bytes(key[8..].try_into().unwrap()),
        );
        std::hash::Hasher::write(&mut reference, &data);
        prop_assert_eq!(siphash24(&key, &data), std::hash::Hasher::finish(&reference));
    }
}
