//! Frames captured from real peers on a veth pair (rp-pppoe 3.15 `pppoe -d` as the client;
//! rp-pppoe `pppoe-server -C TestAC -S TestSvc -S OtherSvc` and l2tpns 2.4.1 with
//! `pppoe_ac_name "l2tpnsAC"`, `pppoe_service_name "TestSvc"` as the AC). The client MAC was
//! 02:00:00:00:00:0a, the AC MAC 02:00:00:00:00:0b. The strict parser must accept all of
//! them, and the state machines must take their side of each conversation.

use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::wire::{Code, Discovery, TagType};
use rswan_pppoe::{
    AcConfig, AccessConcentrator, Client, ClientEvent, Instant, MacAddr, PeerErrorKind, Session,
    SessionSlot,
};

const CLIENT: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x0a]);
const AC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x0b]);

/// rp-pppoe client against rp-pppoe server: `-U -S TestSvc`, then no options.
const RP_PPPOE: [&str; 10] = [
    "ffffffffffff02000000000a886311090000001301010007546573745376630103000431303165",
    "02000000000a02000000000b8863110700000041010200065465737441430101000754657374537663010100084f7468657253766301040014ad5d7f76c1e1469a54524d96828ba8196b0f00000103000431303165",
    "02000000000b02000000000a886311190000002b0101000754657374537663010300043130316501040014ad5d7f76c1e1469a54524d96828ba8196b0f0000",
    "02000000000a02000000000b886311650001001301010007546573745376630103000431303165",
    "02000000000a02000000000b886311a70001002b0203002752502d5050506f453a204368696c6420707070642070726f63657373207465726d696e61746564",
    "ffffffffffff02000000000a886311090000000401010000",
    "02000000000a02000000000b8863110700000039010200065465737441430101000754657374537663010100084f7468657253766301040014ad5d7f76c1e1469a54524d96828ba8196b0f0000",
    "02000000000b02000000000a886311190000001c0101000001040014ad5d7f76c1e1469a54524d96828ba8196b0f0000",
    "02000000000a02000000000b886311650002000b0101000754657374537663",
    "02000000000a02000000000b886311a70002002b0203002752502d5050506f453a204368696c6420707070642070726f63657373207465726d696e61746564",
];

/// rp-pppoe client against l2tpns, the same two runs; l2tpns starts LCP right after PADS.
const L2TPNS: [&str; 10] = [
    "ffffffffffff02000000000a886311090000001301010007546573745376630103000431383761",
    "02000000000a02000000000b8863110700000033010200086c3274706e73414301010007546573745376630104001035289b555ad969b175052c4d3e10dfb50103000431383761",
    "02000000000b02000000000a8863111900000027010100075465737453766301030004313837610104001035289b555ad969b175052c4d3e10dfb5",
    "02000000000a02000000000b886311650001001f010200086c3274706e73414301010007546573745376630103000431383761",
    "02000000000a02000000000b886411000001001fc0210101001d010405b60304c02305066b07c65d1104064e1307027f000001",
    "ffffffffffff02000000000a886311090000000401010000",
    "02000000000a02000000000b8863110700000024010200086c3274706e734143010100000104001035289b555ad969b175052c4d3e10dfb5",
    "02000000000b02000000000a8863111900000018010100000104001035289b555ad969b175052c4d3e10dfb5",
    "02000000000a02000000000b8863116500020010010200086c3274706e73414301010000",
    "02000000000a02000000000b886411000002001fc0210101001d010405b60304c02305066b07c65e1104064e1307027f000001",
];

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_captured_discovery_frame_parses() {
    let codes = [Code::Padi, Code::Pado, Code::Padr, Code::Pads, Code::Padt];
    for (i, hex) in RP_PPPOE.iter().enumerate() {
        let frame = bytes(hex);
        let d = Discovery::parse(&frame).unwrap_or_else(|e| panic!("rp-pppoe {i}: {e}"));
        assert_eq!(d.code, codes[i % 5]);
    }
    for (i, hex) in L2TPNS.iter().enumerate() {
        if i % 5 == 4 {
            continue; // the LCP session frame
        }
        let frame = bytes(hex);
        let d = Discovery::parse(&frame).unwrap_or_else(|e| panic!("l2tpns {i}: {e}"));
        assert_eq!(d.code, codes[i % 5]);
    }
    let pado = bytes(RP_PPPOE[1]);
    let pado = Discovery::parse(&pado).unwrap();
    assert_eq!(pado.ac_name, Some(&b"TestAC"[..]));
    let services: Vec<&[u8]> = pado.service_names().collect();
    assert_eq!(services, [&b"TestSvc"[..], b"OtherSvc"]);
    assert_eq!(pado.ac_cookie.map(<[u8]>::len), Some(20));
    assert_eq!(
        pado.tags()
            .filter(|t| t.tag_type == TagType::AcCookie)
            .count(),
        1
    );
}

/// Plays our client against a captured conversation: our PADI must carry what the captured
/// client's did, our PADR must echo the captured PADO's cookie, and the captured PADS, the
/// session frames and the PADT must take effect.
fn replay_client(capture: &[&str], host_uniq: &[u8]) -> (Client, Session, Vec<u8>) {
    let mut tx = [0u8; TX_BUFFER_LEN];
    let config = ClientConfig::new(CLIENT, b"TestSvc", host_uniq).unwrap();
    let (mut client, len) = Client::start(config, Instant::ZERO, &mut tx).unwrap();
    assert_eq!(
        tx[..len],
        bytes(capture[0]),
        "our PADI is byte-identical to rp-pppoe's"
    );
    let out = client.handle_frame(Instant::ZERO, &bytes(capture[1]), &mut tx);
    let padr = &tx[..out.transmit.expect("PADR")];
    let theirs = bytes(capture[2]);
    let (ours, theirs) = (
        Discovery::parse(padr).unwrap(),
        Discovery::parse(&theirs).unwrap(),
    );
    assert_eq!(ours.dst, AC);
    assert_eq!(ours.ac_cookie, theirs.ac_cookie);
    assert_eq!(ours.service_name, theirs.service_name);
    assert_eq!(ours.host_uniq, theirs.host_uniq);
    let out = client.handle_frame(Instant::ZERO, &bytes(capture[3]), &mut tx);
    let Some(ClientEvent::Established(session)) = out.event else {
        panic!("{out:?}")
    };
    assert_eq!(
        (session.id, session.peer, session.max_payload),
        (1, AC, 1492)
    );
    (client, session, bytes(capture[4]))
}

#[test]
fn our_client_completes_discovery_with_rp_pppoe_server_and_reports_its_padt_error() {
    let (mut client, _, padt) = replay_client(&RP_PPPOE, b"101e");
    let out = client.handle_frame(Instant::ZERO, &padt, &mut [0; TX_BUFFER_LEN]);
    let Some(ClientEvent::Terminated(Some(error))) = out.event else {
        panic!("{out:?}")
    };
    assert_eq!(error.kind, PeerErrorKind::Generic);
    assert_eq!(
        error.text.as_str(),
        Some("RP-PPPoE: Child pppd process terminated")
    );
    // The second run's PADT (session 2) would not have touched session 1.
    assert_eq!(client.counters().padt_from_stranger, 0);
}

#[test]
fn our_client_completes_discovery_with_l2tpns_and_takes_its_lcp_frame() {
    let (mut client, _, lcp) = replay_client(&L2TPNS, b"187a");
    let payload = client.decapsulate(&lcp).unwrap();
    // LCP (0xc021) Configure-Request, id 1, length 29.
    assert_eq!(payload[..6], [0xc0, 0x21, 0x01, 0x01, 0x00, 0x1d]);
    // The other run's LCP frame is for session 2: refused and counted.
    assert!(client.decapsulate(&bytes(L2TPNS[9])).is_err());
    assert_eq!(client.counters().wrong_session, 1);
}

#[test]
fn our_ac_answers_rp_pppoe_client_frames() {
    let mut config = AcConfig::new(AC, b"rswan", [3; 16]).unwrap();
    config.services.push(b"TestSvc").unwrap();
    let mut ac = AccessConcentrator::new(config, [SessionSlot::FREE; 4]).unwrap();
    let mut tx = [0u8; TX_BUFFER_LEN];
    for padi in [RP_PPPOE[0], RP_PPPOE[5]] {
        let out = ac.handle_frame(Instant::ZERO, &bytes(padi), &mut tx);
        let pado = Discovery::parse(&tx[..out.transmit.expect("PADO")]).unwrap();
        let request = bytes(padi);
        let request = Discovery::parse(&request).unwrap();
        assert_eq!(pado.dst, CLIENT);
        assert_eq!(pado.service_name, request.service_name, "echoes the PADI's");
        assert_eq!(pado.host_uniq, request.host_uniq);
        assert_eq!(pado.ac_cookie, Some(&ac.cookie_for(CLIENT)[..]));
    }
    // A PADR carrying another AC's cookie opens nothing.
    let out = ac.handle_frame(Instant::ZERO, &bytes(RP_PPPOE[2]), &mut tx);
    assert_eq!(out.transmit, None);
    assert_eq!(ac.counters().padr_bad_cookie, 1);
    assert_eq!(ac.session_count(), 0);
}
