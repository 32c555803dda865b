//! The access concentrator against many clients: PADIs, PADRs (with the right cookie, a
//! replayed one or none), PADTs and session frames from several MACs, raw bytes, closes and
//! time. Checks its limits, its session ids, that only a valid cookie opens a session, and
//! that strangers never touch a session.

#![no_main]

use core::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rswan_pppoe::client::TX_BUFFER_LEN;
use rswan_pppoe::wire::{Code, Discovery, DiscoveryWriter, MacAddr, TagType};
use rswan_pppoe::{
    AcConfig, AcEvent, AccessConcentrator, HEADER_ROOM, Instant, RateLimit, Session, SessionSlot,
};

const AC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xac]);
const CAPACITY: usize = 6;
const PER_PEER: usize = 2;

fn peer(i: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 1, i % 8])
}

#[derive(Debug, Arbitrary)]
enum Cookie {
    Valid,
    OfOtherPeer,
    Bytes(Vec<u8>),
    Missing,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Raw(Vec<u8>),
    Padi {
        from: u8,
        service: Vec<u8>,
        host_uniq: Option<Vec<u8>>,
        max_payload: Option<u16>,
    },
    Padr {
        from: u8,
        service: Vec<u8>,
        cookie: Cookie,
        host_uniq: Option<Vec<u8>>,
        relay: Option<Vec<u8>>,
    },
    Padt {
        from: u8,
        session_id: u16,
    },
    SessionFrame {
        from: u8,
        session_id: u16,
        payload: Vec<u8>,
    },
    Close {
        session_id: u16,
    },
    Advance(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    services: Vec<Vec<u8>>,
    first_session_id: u16,
    max_payload: Option<u16>,
    rate: Option<(u8, u8)>,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let Ok(mut config) = AcConfig::new(AC, b"fuzz-ac", [0x5a; 16]) else {
        return;
    };
    for s in input.services.iter().take(4) {
        if config.services.push(s).is_err() {
            return;
        }
    }
    config.first_session_id = input.first_session_id;
    config.max_payload = input.max_payload;
    config.max_sessions_per_peer = PER_PEER;
    config.padi_rate = input.rate.map(|(r, b)| RateLimit {
        per_second: u32::from(r),
        burst: u32::from(b),
    });
    let Ok(mut ac) = AccessConcentrator::new(config, [SessionSlot::FREE; CAPACITY]) else {
        return;
    };
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut buf = vec![0u8; 4096];
    let mut now = Instant::ZERO;
    for op in input.ops {
        let sessions_before: Vec<Session> = ac.sessions().collect();
        let mut expect_opened_by = None;
        let out = match op {
            Op::Raw(bytes) => ac.handle_frame(now, &bytes, &mut tx),
            Op::Padi {
                from,
                service,
                host_uniq,
                max_payload,
            } => {
                let Ok(mut w) =
                    DiscoveryWriter::new(&mut buf, MacAddr::BROADCAST, peer(from), Code::Padi, 0)
                else {
                    continue;
                };
                let _ = w.tag(TagType::ServiceName, &service);
                if let Some(h) = &host_uniq {
                    let _ = w.tag(TagType::HostUniq, h);
                }
                if let Some(m) = max_payload {
                    let _ = w.max_payload(m);
                }
                let len = w.finish();
                let out = ac.handle_frame(now, &buf[..len], &mut tx);
                assert!(out.event.is_none(), "a PADI never opens a session");
                out
            }
            Op::Padr {
                from,
                service,
                cookie,
                host_uniq,
                relay,
            } => {
                let src = peer(from);
                let valid = ac.cookie_for(src);
                let other = ac.cookie_for(peer(from.wrapping_add(1)));
                let Ok(mut w) = DiscoveryWriter::new(&mut buf, AC, src, Code::Padr, 0) else {
                    continue;
                };
                let _ = w.tag(TagType::ServiceName, &service);
                let cookie_ok = match &cookie {
                    Cookie::Valid => w.tag(TagType::AcCookie, &valid).is_ok(),
                    Cookie::OfOtherPeer => {
                        w.tag(TagType::AcCookie, &other).is_ok() && other == valid
                    }
                    Cookie::Bytes(b) => w.tag(TagType::AcCookie, b).is_ok() && b[..] == valid[..],
                    Cookie::Missing => false,
                };
                if let Some(h) = &host_uniq {
                    let _ = w.tag(TagType::HostUniq, h);
                }
                if let Some(r) = &relay {
                    let _ = w.tag(TagType::RelaySessionId, r);
                }
                let len = w.finish();
                let out = ac.handle_frame(now, &buf[..len], &mut tx);
                if !cookie_ok {
                    assert!(out.event.is_none(), "no session without a valid cookie");
                }
                expect_opened_by = Some(src);
                out
            }
            Op::Padt { from, session_id } => {
                let Ok(w) = DiscoveryWriter::new(&mut buf, AC, peer(from), Code::Padt, session_id)
                else {
                    continue;
                };
                let len = w.finish();
                let out = ac.handle_frame(now, &buf[..len], &mut tx);
                let owner = sessions_before
                    .iter()
                    .find(|s| s.id == session_id)
                    .map(|s| s.peer);
                match out.event {
                    Some(AcEvent::SessionClosed { session, .. }) => {
                        assert_eq!(session.id, session_id);
                        assert_eq!(session.peer, peer(from));
                    }
                    _ => assert!(
                        owner != Some(peer(from)) || session_id == 0 || session_id == 0xffff
                    ),
                }
                out
            }
            Op::SessionFrame {
                from,
                session_id,
                payload,
            } => {
                let mut frame = vec![0u8; HEADER_ROOM + payload.len()];
                frame[HEADER_ROOM..].copy_from_slice(&payload);
                let s = Session {
                    id: session_id,
                    local: peer(from),
                    peer: AC,
                    max_payload: 9000,
                };
                let Ok(len) = s.encapsulate(&mut frame, payload.len()) else {
                    continue;
                };
                match ac.decapsulate(&frame[..len]) {
                    Ok((session, p)) => {
                        assert_eq!((session.id, session.peer), (session_id, peer(from)));
                        assert_eq!(p, &payload[..]);
                    }
                    Err(_) => assert!(!sessions_before.iter().any(|s| {
                        s.id == session_id
                            && s.peer == peer(from)
                            && payload.len() <= s.max_frame_payload()
                    })),
                }
                assert_eq!(ac.sessions().collect::<Vec<_>>(), sessions_before);
                continue;
            }
            Op::Close { session_id } => {
                let sent = ac.close_session(session_id, Some(b"admin"), &mut tx);
                assert_eq!(
                    sent.is_some(),
                    sessions_before.iter().any(|s| s.id == session_id)
                );
                if let Some(len) = sent {
                    Discovery::parse(&tx[..len]).expect("valid PADT");
                }
                continue;
            }
            Op::Advance(ms) => {
                now = now + Duration::from_millis(u64::from(ms));
                continue;
            }
        };
        if let Some(len) = out.transmit {
            let d = Discovery::parse(&tx[..len]).expect("the AC sends only valid frames");
            assert_eq!(d.src, AC);
        }
        if let Some(AcEvent::SessionOpened { session, .. }) = out.event {
            assert_eq!(Some(session.peer), expect_opened_by);
            assert!(session.id != 0 && session.id != 0xffff);
            assert!(
                !sessions_before.iter().any(|s| s.id == session.id),
                "fresh id"
            );
        }
        let all: Vec<Session> = ac.sessions().collect();
        assert!(all.len() <= CAPACITY);
        for s in &all {
            assert!(all.iter().filter(|o| o.id == s.id).count() == 1);
            assert!(all.iter().filter(|o| o.peer == s.peer).count() <= PER_PEER);
        }
    }
});
