//! The client and the access concentrator state machines run against each other, sans-IO:
//! frames written by one are handed to the other, with the time passed in.

use core::time::Duration;

use rswan_pppoe::ac::SESSION_LIMIT_TEXT;
use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::wire::{Code, Discovery};
use rswan_pppoe::{
    AcConfig, AcEvent, AccessConcentrator, Client, ClientEvent, ClientState, Failure, HEADER_ROOM,
    Instant, MacAddr, PeerErrorKind, SessionSlot,
};

const CLIENT_MAC: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const AC_MAC: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0xac]);
/// A session table of eight slots, lent to each AC by value.
const TABLE: [SessionSlot; 8] = [SessionSlot::FREE; 8];

fn ac_config() -> AcConfig {
    let mut config = AcConfig::new(AC_MAC, b"rswan-ac", [0x42; 16]).unwrap();
    config.services.push(b"internet").unwrap();
    config.first_session_id = 0x1000;
    config
}

struct Pair {
    client: Client,
    ac: AccessConcentrator<[SessionSlot; 8]>,
    now: Instant,
    /// Last frame the client sent.
    from_client: Vec<u8>,
}

impl Pair {
    fn start(config: ClientConfig, ac: AccessConcentrator<[SessionSlot; 8]>) -> Pair {
        let mut tx = [0u8; TX_BUFFER_LEN];
        let (client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
        Pair {
            client,
            ac,
            now: Instant::ZERO,
            from_client: tx[..len].to_vec(),
        }
    }

    /// Delivers the client's last frame to the AC and the AC's answer to the client, until
    /// neither sends; returns the events in order.
    fn run(&mut self) -> (Vec<AcEvent>, Vec<ClientEvent>) {
        let mut ac_events = Vec::new();
        let mut client_events = Vec::new();
        let mut tx = [0u8; TX_BUFFER_LEN];
        while !self.from_client.is_empty() {
            let out = self.ac.handle_frame(self.now, &self.from_client, &mut tx);
            self.from_client.clear();
            ac_events.extend(out.event);
            let Some(len) = out.transmit else { break };
            let answer = tx[..len].to_vec();
            let out = self.client.handle_frame(self.now, &answer, &mut tx);
            client_events.extend(out.event);
            if let Some(len) = out.transmit {
                self.from_client = tx[..len].to_vec();
            }
        }
        (ac_events, client_events)
    }
}

#[test]
fn client_and_ac_agree_on_a_session_and_exchange_ppp_frames() {
    let config = ClientConfig::new(CLIENT_MAC, b"internet", b"uniq-1").unwrap();
    let mut pair = Pair::start(config, AccessConcentrator::new(ac_config(), TABLE).unwrap());
    let (ac_events, client_events) = pair.run();

    let [ClientEvent::Established(client_session)] = client_events[..] else {
        panic!("client events: {client_events:?}");
    };
    let [
        AcEvent::SessionOpened {
            session: ac_session,
            service_name,
        },
    ] = ac_events[..]
    else {
        panic!("AC events: {ac_events:?}");
    };
    assert_eq!(service_name.as_bytes(), b"internet");
    assert_eq!(client_session.id, 0x1000);
    assert_eq!(ac_session.id, client_session.id);
    assert_eq!(ac_session.peer, CLIENT_MAC);
    assert_eq!(client_session.peer, AC_MAC);
    assert_eq!(client_session.max_payload, 1492);
    assert_eq!(pair.client.state(), ClientState::Established);
    assert_eq!(pair.client.poll_timeout(), None);

    // An LCP Configure-Request, framed in place by the client, unframed by the AC.
    let lcp = [0xc0, 0x21, 0x01, 0x01, 0x00, 0x04];
    let mut buf = [0u8; 64];
    buf[HEADER_ROOM..HEADER_ROOM + lcp.len()].copy_from_slice(&lcp);
    let len = pair.client.encapsulate(&mut buf, lcp.len()).unwrap();
    let (session, payload) = pair.ac.decapsulate(&buf[..len]).unwrap();
    assert_eq!(session, ac_session);
    assert_eq!(payload, lcp);

    // The client hangs up: its PADT closes the AC's session.
    let mut tx = [0u8; TX_BUFFER_LEN];
    let padt_len = pair.client.close(&mut tx, None).unwrap();
    let out = pair
        .ac
        .handle_frame(pair.now, &tx[..padt_len], &mut [0; TX_BUFFER_LEN]);
    assert_eq!(
        out.event,
        Some(AcEvent::SessionClosed {
            session: ac_session,
            error: None
        })
    );
    assert_eq!(pair.ac.session_count(), 0);
    assert_eq!(pair.client.state(), ClientState::Closed);
}

#[test]
fn ac_padt_with_generic_error_terminates_the_client_with_its_text() {
    let config = ClientConfig::new(CLIENT_MAC, b"", b"").unwrap();
    let mut pair = Pair::start(config, AccessConcentrator::new(ac_config(), TABLE).unwrap());
    let (_, events) = pair.run();
    let [ClientEvent::Established(session)] = events[..] else {
        panic!("{events:?}")
    };
    let mut tx = [0u8; TX_BUFFER_LEN];
    let len = pair
        .ac
        .close_session(session.id, Some(b"Child pppd process terminated"), &mut tx)
        .unwrap();
    let out = pair
        .client
        .handle_frame(pair.now, &tx[..len], &mut [0; TX_BUFFER_LEN]);
    let Some(ClientEvent::Terminated(Some(error))) = out.event else {
        panic!("{out:?}")
    };
    assert_eq!(error.kind, PeerErrorKind::Generic);
    assert_eq!(error.text.as_bytes(), b"Child pppd process terminated");
    assert_eq!(
        error.to_string(),
        "Generic-Error: Child pppd process terminated"
    );
}

#[test]
fn padi_retries_double_the_timeout_then_fail_with_no_access_concentrator() {
    let config = ClientConfig::new(CLIENT_MAC, b"internet", b"u").unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let (mut client, _) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    assert_eq!(client.poll_timeout(), Some(Instant::from_millis(5_000)));
    // Early: nothing.
    let out = client.handle_timeout(Instant::from_millis(4_999), &mut tx);
    assert_eq!(out.transmit, None);
    let out = client.handle_timeout(Instant::from_millis(5_000), &mut tx);
    let len = out.transmit.expect("second PADI");
    assert_eq!(Discovery::parse(&tx[..len]).unwrap().code, Code::Padi);
    assert_eq!(client.poll_timeout(), Some(Instant::from_millis(15_000)));
    let out = client.handle_timeout(Instant::from_millis(15_000), &mut tx);
    assert!(out.transmit.is_some(), "third PADI");
    assert_eq!(client.poll_timeout(), Some(Instant::from_millis(35_000)));
    let out = client.handle_timeout(Instant::from_millis(35_000), &mut tx);
    assert_eq!(out.transmit, None);
    assert_eq!(
        out.event,
        Some(ClientEvent::Failed(Failure::NoAccessConcentrator))
    );
    assert_eq!(client.state(), ClientState::Closed);
    assert_eq!(client.counters().retransmissions, 2);
    assert_eq!(
        Failure::NoAccessConcentrator.to_string(),
        "no access concentrator answered"
    );
}

#[test]
fn unoffered_service_gets_no_pado_and_the_client_reports_no_access_concentrator() {
    let config = ClientConfig::new(CLIENT_MAC, b"video", b"u").unwrap();
    let mut pair = Pair::start(config, AccessConcentrator::new(ac_config(), TABLE).unwrap());
    let (ac_events, client_events) = pair.run();
    assert!(ac_events.is_empty() && client_events.is_empty());
    assert_eq!(pair.ac.counters().service_unavailable, 1);
    assert_eq!(pair.client.state(), ClientState::Discovering);
}

#[test]
fn session_limit_refusal_reaches_the_client_as_ac_system_error() {
    let mut config = ac_config();
    config.max_sessions = 1;
    let mut ac = AccessConcentrator::new(config, TABLE).unwrap();
    let first = ClientConfig::new(CLIENT_MAC, b"internet", b"first").unwrap();
    let mut pair = Pair::start(first, ac.clone());
    let (_, events) = pair.run();
    assert!(matches!(events[..], [ClientEvent::Established(_)]));
    ac = pair.ac;

    let second = ClientConfig::new(MacAddr([2, 0, 0, 0, 0, 2]), b"internet", b"second").unwrap();
    let mut pair = Pair::start(second, ac);
    let (ac_events, events) = pair.run();
    assert!(ac_events.is_empty());
    let [ClientEvent::Failed(Failure::Peer(error))] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(error.kind, PeerErrorKind::AcSystem);
    assert_eq!(error.text.as_bytes(), SESSION_LIMIT_TEXT);
    assert_eq!(pair.ac.counters().session_limit, 1);
    assert_eq!(pair.client.counters().pads_session_zero, 1);
}

#[test]
fn rfc4638_max_payload_needs_both_sides() {
    let mut config = ClientConfig::new(CLIENT_MAC, b"internet", b"u").unwrap();
    config.max_payload = Some(1500);
    // The AC does not do RFC 4638: 1492.
    let mut pair = Pair::start(config, AccessConcentrator::new(ac_config(), TABLE).unwrap());
    let (_, events) = pair.run();
    let [ClientEvent::Established(s)] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(s.max_payload, 1492);

    // Both do: the smaller of the two.
    let mut ac = ac_config();
    ac.max_payload = Some(1496);
    let mut pair = Pair::start(config, AccessConcentrator::new(ac, TABLE).unwrap());
    let (ac_events, events) = pair.run();
    let [ClientEvent::Established(s)] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(s.max_payload, 1496);
    let [AcEvent::SessionOpened { session, .. }] = ac_events[..] else {
        panic!()
    };
    assert_eq!(session.max_payload, 1496);
}

#[test]
fn lost_pads_repeated_padr_gets_the_same_session() {
    let config = ClientConfig::new(CLIENT_MAC, b"internet", b"u").unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let (mut client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let mut ac = AccessConcentrator::new(ac_config(), TABLE).unwrap();
    let mut reply = [0u8; TX_BUFFER_LEN];
    let pado = ac.handle_frame(Instant::ZERO, &tx[..len], &mut reply);
    let out = client.handle_frame(Instant::ZERO, &reply[..pado.transmit.unwrap()], &mut tx);
    let padr = tx[..out.transmit.unwrap()].to_vec();
    let first = ac.handle_frame(Instant::ZERO, &padr, &mut reply);
    assert!(matches!(first.event, Some(AcEvent::SessionOpened { .. })));
    // The PADS is lost; the client's PADR timeout fires and it sends the PADR again.
    let out = client.handle_timeout(Instant::from_millis(5_000), &mut tx);
    let again = tx[..out.transmit.unwrap()].to_vec();
    assert_eq!(again, padr);
    let second = ac.handle_frame(Instant::from_millis(5_000), &again, &mut reply);
    assert_eq!(second.event, None, "no second session");
    assert_eq!(ac.session_count(), 1);
    assert_eq!(ac.counters().padr_retransmit, 1);
    let out = client.handle_frame(
        Instant::from_millis(5_000),
        &reply[..second.transmit.unwrap()],
        &mut tx,
    );
    let Some(ClientEvent::Established(s)) = out.event else {
        panic!("{out:?}")
    };
    assert_eq!(
        Some(s),
        ac.sessions().next().map(|a| rswan_pppoe::Session {
            local: CLIENT_MAC,
            peer: AC_MAC,
            ..a
        })
    );
}

#[test]
fn padr_retries_then_fail_with_no_session_confirmation() {
    let config = ClientConfig::new(CLIENT_MAC, b"internet", b"u").unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let (mut client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let mut ac = AccessConcentrator::new(ac_config(), TABLE).unwrap();
    let mut reply = [0u8; TX_BUFFER_LEN];
    let pado = ac.handle_frame(Instant::ZERO, &tx[..len], &mut reply);
    let t = Instant::from_millis(1_000);
    let out = client.handle_frame(t, &reply[..pado.transmit.unwrap()], &mut tx);
    assert!(out.transmit.is_some());
    assert_eq!(client.state(), ClientState::Requesting);
    assert_eq!(client.poll_timeout(), Some(t + Duration::from_secs(5)));
    for (at, expect_send) in [(6_000, true), (16_000, true), (36_000, false)] {
        let out = client.handle_timeout(Instant::from_millis(at), &mut tx);
        assert_eq!(out.transmit.is_some(), expect_send, "at {at} ms");
        if let Some(len) = out.transmit {
            assert_eq!(Discovery::parse(&tx[..len]).unwrap().code, Code::Padr);
        }
        if !expect_send {
            assert_eq!(
                out.event,
                Some(ClientEvent::Failed(Failure::NoSessionConfirmation))
            );
        }
    }
}

/// Opens a session for a client with `mac` through `ac`; the client's events.
fn dial_through<S: AsRef<[SessionSlot]> + AsMut<[SessionSlot]>>(
    ac: &mut AccessConcentrator<S>,
    mac: MacAddr,
) -> Vec<ClientEvent> {
    let config = ClientConfig::new(mac, b"internet", &mac.0).unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    let mut reply = [0u8; TX_BUFFER_LEN];
    let (mut client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    let mut from_client = tx[..len].to_vec();
    let mut events = Vec::new();
    while !from_client.is_empty() {
        let out = ac.handle_frame(Instant::ZERO, &from_client, &mut reply);
        from_client.clear();
        let Some(len) = out.transmit else { break };
        let out = client.handle_frame(Instant::ZERO, &reply[..len], &mut tx);
        events.extend(out.event);
        if let Some(len) = out.transmit {
            from_client = tx[..len].to_vec();
        }
    }
    events
}

#[test]
fn a_table_sized_at_run_time_holds_as_many_sessions_as_it_has_slots() {
    // Pool memory in the driver, a Vec here: the capacity comes from the caller, not a type.
    let slots = 20;
    let table = vec![SessionSlot::FREE; slots].into_boxed_slice();
    let mut ac = AccessConcentrator::new(ac_config(), table).unwrap();
    assert_eq!(ac.capacity(), slots);
    for i in 0..slots {
        let events = dial_through(&mut ac, MacAddr([2, 0, 0, 0, 1, i as u8]));
        assert!(
            matches!(events[..], [ClientEvent::Established(_)]),
            "{i}: {events:?}"
        );
    }
    assert_eq!(ac.session_count(), slots);
    let mut ids: Vec<u16> = ac.sessions().map(|s| s.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), slots, "session ids are distinct");
    // The table is full: the next PADR gets the session-limit PADS.
    let events = dial_through(&mut ac, MacAddr([2, 0, 0, 0, 1, 0xff]));
    let [ClientEvent::Failed(Failure::Peer(error))] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(error.kind, PeerErrorKind::AcSystem);
    assert_eq!(ac.counters().session_limit, 1);
}

#[test]
fn a_borrowed_table_is_cleared_when_lent_again_and_an_empty_one_is_refused() {
    let mut table = [SessionSlot::FREE; 3];
    {
        let mut ac = AccessConcentrator::new(ac_config(), &mut table[..]).unwrap();
        let events = dial_through(&mut ac, MacAddr([2, 0, 0, 0, 2, 1]));
        assert!(matches!(events[..], [ClientEvent::Established(_)]));
        assert_eq!(ac.session_count(), 1);
    }
    // The slots still hold that session; a new AC over them starts empty.
    let ac = AccessConcentrator::new(ac_config(), &mut table[..]).unwrap();
    assert_eq!(ac.session_count(), 0);
    assert_eq!(ac.capacity(), 3);
    let empty: &mut [SessionSlot] = &mut [];
    assert_eq!(
        AccessConcentrator::new(ac_config(), empty).err(),
        Some(rswan_pppoe::ConfigError::NoSessions)
    );
}

/// A client built in its caller's slot (`start_in`, for a kernel driver's small stack) is the
/// client `start` returns: the same PADI, the same state; a refused configuration leaves the
/// slot empty.
#[test]
fn a_client_started_in_place_sends_the_same_padi_and_refuses_what_start_refuses() {
    let config = ClientConfig::new(CLIENT_MAC, b"isp", b"uniq").unwrap();
    let (mut by_value, mut in_place) = ([0u8; TX_BUFFER_LEN], [0u8; TX_BUFFER_LEN]);
    let at = Instant::from_millis(5);
    let (client, len) = Client::start(config, at, &mut by_value).unwrap();
    let mut slot = None;
    let len_in_place = Client::start_in(&mut slot, config, at, &mut in_place).unwrap();
    assert_eq!(by_value[..len], in_place[..len_in_place]);
    let started = slot.expect("the client is in the slot");
    assert_eq!(started.state(), client.state());
    assert_eq!(started.state(), ClientState::Discovering);

    let mut broadcast = config;
    broadcast.local_mac = MacAddr([0xff; 6]);
    let mut slot = None;
    assert_eq!(
        Client::start_in(&mut slot, broadcast, at, &mut in_place),
        Err(rswan_pppoe::client::ConfigError::LocalMacNotUnicast)
    );
    assert!(slot.is_none());
}
