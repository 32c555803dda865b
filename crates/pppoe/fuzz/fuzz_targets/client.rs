//! The client against an adversarial network: offers, confirmations, terminations and
//! session frames built from fuzz input (some well-formed enough to move the client on),
//! raw bytes, timeouts and closes. Checks that every frame it sends parses and that its
//! state and events agree.

#![no_main]

use core::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::wire::{Code, Discovery, DiscoveryWriter, MacAddr, TagType};
use rswan_pppoe::{Client, ClientEvent, ClientState, HEADER_ROOM, Instant};

const CLIENT: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const ACS: [MacAddr; 2] = [
    MacAddr([2, 0, 0, 0, 0, 0xa1]),
    MacAddr([2, 0, 0, 0, 0, 0xa2]),
];

#[derive(Debug, Arbitrary)]
struct Tags {
    service_names: Vec<Vec<u8>>,
    ac_name: Option<Vec<u8>>,
    /// Echo the client's Host-Uniq (true) or send these bytes.
    host_uniq: Result<(), Vec<u8>>,
    cookie: Option<Vec<u8>>,
    relay: Option<Vec<u8>>,
    max_payload: Option<u16>,
    error: Option<(u8, Vec<u8>)>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Raw(Vec<u8>),
    Discovery {
        ac: bool,
        code: u8,
        session_id: u16,
        tags: Tags,
    },
    /// A PADT or session frame for the current session, possibly from the wrong MAC.
    ForSession {
        padt: bool,
        wrong_mac: bool,
        payload: Vec<u8>,
    },
    Advance(u16),
    Close,
}

#[derive(Debug, Arbitrary)]
struct Input {
    service: Vec<u8>,
    host_uniq: Vec<u8>,
    max_payload: Option<u16>,
    ac_name: Option<Vec<u8>>,
    ops: Vec<Op>,
}

fn discovery(ac: MacAddr, code: u8, session_id: u16, tags: &Tags, host_uniq: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let code = Code::ALL[usize::from(code) % Code::ALL.len()];
    let Ok(mut w) = DiscoveryWriter::new(&mut buf, CLIENT, ac, code, session_id) else {
        return Vec::new();
    };
    let mut put = |t: TagType, v: &[u8]| {
        let _ = w.tag(t, v);
    };
    for name in &tags.service_names {
        put(TagType::ServiceName, name);
    }
    if let Some(v) = &tags.ac_name {
        put(TagType::AcName, v);
    }
    match &tags.host_uniq {
        Ok(()) => put(TagType::HostUniq, host_uniq),
        Err(v) => put(TagType::HostUniq, v),
    }
    if let Some(v) = &tags.cookie {
        put(TagType::AcCookie, v);
    }
    if let Some(v) = &tags.relay {
        put(TagType::RelaySessionId, v);
    }
    if let Some(m) = tags.max_payload {
        put(TagType::PppMaxPayload, &m.to_be_bytes());
    }
    if let Some((kind, text)) = &tags.error {
        put(TagType::from_u16(0x0201 + u16::from(kind % 3)), text);
    }
    let len = w.finish();
    buf.truncate(len);
    buf
}

fn check_sent(tx: &[u8], sent: Option<usize>) {
    if let Some(len) = sent {
        let d = Discovery::parse(&tx[..len]).expect("the client sends only valid frames");
        assert_eq!(d.src, CLIENT);
    }
}

fuzz_target!(|input: Input| {
    let Some(mut config) = ClientConfig::new(CLIENT, &input.service, &input.host_uniq).ok() else {
        return;
    };
    config.max_payload = input.max_payload;
    config.ac_name = input.ac_name.as_deref().and_then(rswan_pppoe::Name::new);
    let mut tx = [0u8; TX_BUFFER_LEN];
    let Ok((mut client, len)) = Client::start(config, Instant::ZERO, &mut tx) else {
        return;
    };
    check_sent(&tx, Some(len));
    let mut now = Instant::ZERO;
    for op in input.ops {
        let before = client.state();
        let out = match op {
            Op::Raw(bytes) => client.handle_frame(now, &bytes, &mut tx),
            Op::Discovery {
                ac,
                code,
                session_id,
                tags,
            } => {
                let frame = discovery(
                    ACS[usize::from(ac)],
                    code,
                    session_id,
                    &tags,
                    &input.host_uniq,
                );
                client.handle_frame(now, &frame, &mut tx)
            }
            Op::ForSession {
                padt,
                wrong_mac,
                payload,
            } => {
                let Some(s) = client.session() else { continue };
                let src = if wrong_mac {
                    MacAddr([2, 9, 9, 9, 9, 9])
                } else {
                    s.peer
                };
                if padt {
                    let mut buf = [0u8; 64];
                    let mut w = DiscoveryWriter::new(&mut buf, CLIENT, src, Code::Padt, s.id)
                        .expect("fits");
                    let _ = w.tag(TagType::GenericError, b"bye");
                    let len = w.finish();
                    let out = client.handle_frame(now, &buf[..len], &mut tx);
                    let closed = matches!(out.event, Some(ClientEvent::Terminated(_)));
                    assert_eq!(closed, !wrong_mac, "only the peer's PADT ends the session");
                    out
                } else {
                    let mut frame = vec![0u8; HEADER_ROOM + payload.len()];
                    frame[HEADER_ROOM..].copy_from_slice(&payload);
                    let theirs = rswan_pppoe::Session {
                        local: src,
                        peer: CLIENT,
                        ..s
                    };
                    if let Ok(len) = theirs.encapsulate(&mut frame, payload.len()) {
                        let got = client.decapsulate(&frame[..len]);
                        assert_eq!(got.is_ok(), !wrong_mac);
                        if let Ok(p) = got {
                            assert_eq!(p, &payload[..]);
                        }
                    }
                    continue;
                }
            }
            Op::Advance(ms) => {
                now = now + Duration::from_millis(u64::from(ms) * 10);
                client.handle_timeout(now, &mut tx)
            }
            Op::Close => {
                let sent = client.close(&mut tx, Some(b"closing"));
                assert_eq!(sent.is_some(), before == ClientState::Established);
                check_sent(&tx, sent);
                assert_eq!(client.state(), ClientState::Closed);
                continue;
            }
        };
        check_sent(&tx, out.transmit);
        let after = client.state();
        match out.event {
            Some(ClientEvent::Established(s)) => {
                assert_eq!(before, ClientState::Requesting);
                assert_eq!(after, ClientState::Established);
                assert_eq!(client.session(), Some(s));
                assert!(s.id != 0 && s.id != 0xffff);
                assert!(s.max_payload >= 1492);
            }
            Some(ClientEvent::Failed(_)) => {
                assert!(matches!(
                    before,
                    ClientState::Discovering | ClientState::Requesting
                ));
                assert_eq!(after, ClientState::Closed);
            }
            Some(ClientEvent::Terminated(_)) => {
                assert_eq!(before, ClientState::Established);
                assert_eq!(after, ClientState::Closed);
            }
            None => assert!(before == after || before == ClientState::Discovering),
        }
        assert_eq!(
            client.session().is_some(),
            after == ClientState::Established
        );
    }
});
