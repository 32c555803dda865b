//! rswan's access concentrator answering rp-pppoe's client: discovery (`pppoe -d` prints the
//! session rswan gave), and a whole PPP session through rp-pppoe's async relay (`pppoe -e`)
//! with lwIP's PPP on both ends: lwIP's client behind rp-pppoe, lwIP's authenticator behind
//! rswan's AC (where RAS listens for incoming calls on Windows).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use rswan_e2e::capture::{Capture, PADI, PADO, PADR, PADS, PADT};
use rswan_e2e::lwip::{Auth, LwipOptions, ServerAddresses, wait_ipcp_up};
use rswan_e2e::netns::TestNet;
use rswan_e2e::peers::{lwip_behind_pppoe_relay, pppoe_discover};
use rswan_e2e::pppoe_link::{AcSession, Wire, answer, random_key, relay};
use rswan_pppoe::{AcConfig, AcEvent, AccessConcentrator, MacAddr, SessionSlot};

const TIMEOUT: Duration = Duration::from_secs(40);
const FIRST_SESSION_ID: u16 = 0x2a17;

fn access_concentrator(wire: &Wire) -> AccessConcentrator<[SessionSlot; 8]> {
    let mut config = AcConfig::new(wire.mac(), b"rswanAC", random_key()).expect("config");
    config.services.push(b"TestSvc").expect("one service");
    config.first_session_id = FIRST_SESSION_ID;
    AccessConcentrator::new(config, [SessionSlot::FREE; 8]).expect("AC")
}

#[test]
fn rswan_ac_answers_rp_pppoe_discovery() {
    let net = TestNet::new();
    let capture = Capture::start(
        &net.server,
        &net.server_if,
        "rswan_ac_answers_rp_pppoe_discovery",
    );
    let mut wire = Wire::open(&net.server, &net.server_if);
    let ac_mac = wire.mac();
    let discovered = Arc::new(AtomicBool::new(false));
    let ac_thread = {
        let discovered = Arc::clone(&discovered);
        thread::spawn(move || {
            let mut ac = access_concentrator(&wire);
            let events = answer(&mut wire, &mut ac, TIMEOUT, |_| {
                discovered.load(Ordering::Relaxed)
            });
            (events, ac.session_count())
        })
    };
    let result = pppoe_discover(&net.client, &net.client_if, TIMEOUT);
    discovered.store(true, Ordering::Relaxed);
    let (events, open_sessions) = ac_thread.join().expect("AC thread");
    let session = result.unwrap_or_else(|e| panic!("{e}"));
    let events = events.unwrap_or_else(|e| panic!("AC timed out; events {e:?}"));

    assert_eq!(session.ac_mac, ac_mac);
    assert_eq!(session.session_id, FIRST_SESSION_ID);
    let [
        AcEvent::SessionOpened {
            session: opened,
            service_name,
        },
    ] = events.as_slice()
    else {
        panic!("expected one opened session, got {events:?}");
    };
    assert_eq!(opened.id, session.session_id);
    assert_eq!(opened.peer, MacAddr(net.client.mac(&net.client_if)));
    assert!(service_name.is_empty(), "rp-pppoe asks for any service");
    assert_eq!(open_sessions, 1);

    let capture = capture.finish();
    capture.assert_well_formed();
    assert_eq!(capture.discovery_codes(), [PADI, PADO, PADR, PADS]);
    assert_eq!(
        capture.discovery_tag(PADO, "pppoed.tags.ac_name"),
        ["rswanAC"]
    );
    let cookie = capture.discovery_tag(PADO, "pppoed.tags.ac_cookie");
    assert_eq!(cookie.len(), 1, "the PADO carries an AC-Cookie");
    assert_eq!(capture.discovery_tag(PADR, "pppoed.tags.ac_cookie"), cookie);
    // rp-pppoe asks for any service (an empty Service-Name); the PADO echoes it and lists
    // rswan's service, the PADR and PADS carry the empty one.
    assert_eq!(capture.service_names(PADI), [""]);
    assert_eq!(capture.service_names(PADO), ["", "TestSvc"]);
    assert_eq!(capture.service_names(PADR), [""]);
    assert_eq!(capture.service_names(PADS), [""]);
    let pads_ids = capture.fields("pppoe.code == 0x65", &["pppoe.session_id"]);
    assert_eq!(pads_ids, [[format!("0x{FIRST_SESSION_ID:04x}")]]);
}

#[test]
fn lwip_session_through_rp_pppoe_relay_and_rswan_ac_with_chap() {
    let net = TestNet::new();
    let capture = Capture::start(
        &net.server,
        &net.server_if,
        "lwip_session_through_rp_pppoe_relay_and_rswan_ac_with_chap",
    );
    let mut wire = Wire::open(&net.server, &net.server_if);

    // rswan's side: answer discovery, then relay the session to lwIP's authenticator.
    let ac_thread = thread::spawn(move || {
        let mut ac = access_concentrator(&wire);
        // lwIP starts once the client has spoken: a frame sent before `pppoe -e` runs is lost,
        // and lwIP would wait for its restart timer.
        let events = answer(&mut wire, &mut ac, TIMEOUT, |p| p.session_frames > 0)
            .unwrap_or_else(|e| panic!("no PADR and LCP came: {e:?}"));
        let Some(AcEvent::SessionOpened { session, .. }) = events.first().copied() else {
            panic!("expected an opened session, got {events:?}");
        };
        let server = LwipOptions::server(
            "rswan",
            "s3cret",
            Auth::Chap,
            ServerAddresses {
                local: "10.64.0.1".into(),
                peer: "10.64.0.2".into(),
                dns: "10.64.0.53".into(),
            },
        );
        let (lwip, mut pipe) = server.spawn_framed("lwip server");
        let mut endpoint = AcSession {
            ac: &mut ac,
            session,
        };
        let report = relay(&mut wire, &mut endpoint, &mut pipe, TIMEOUT, || false);
        (session, report, lwip, ac.session_count())
    });

    // rp-pppoe's side: discovery, then `pppoe -e` relaying lwIP's client.
    let discovered =
        pppoe_discover(&net.client, &net.client_if, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let client = LwipOptions {
        ping: 3,
        hangup: true,
        ..LwipOptions::client("rswan", "s3cret", Auth::Chap)
    };
    let (mut pppoe, mut lwip_client) = lwip_behind_pppoe_relay(
        &net.client,
        &net.client_if,
        discovered,
        &client,
        "lwip client",
    )
    .expect("pipes");

    let up = wait_ipcp_up(&lwip_client, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (up.local.as_str(), up.peer.as_str()),
        ("10.64.0.2", "10.64.0.1")
    );
    assert_eq!(up.dns, "10.64.0.53");
    lwip_client
        .wait_for("PING done", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    let status = lwip_client.wait_exit(TIMEOUT).expect("lwIP client exits");
    assert!(status.success(), "{status}\n{}", lwip_client.output());
    // Its stdout closed: rp-pppoe ends the session with a PADT and exits.
    assert!(
        pppoe.wait_exit(TIMEOUT).is_some(),
        "pppoe -e did not exit:\n{}",
        pppoe.output()
    );

    let (session, report, lwip_server, open_sessions) = ac_thread.join().expect("AC thread");
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", lwip_server.output()));
    assert_eq!(session.id, discovered.session_id);
    // rp-pppoe's PADT on its stdin closing carries its reason as a Generic-Error.
    assert_eq!(
        report.end.to_string(),
        "the peer ended the session (PADT): Generic-Error: RP-PPPoE: EOF in asyncReadFromPPP"
    );
    assert_eq!(
        open_sessions, 0,
        "the PADT closed the session in rswan's AC"
    );
    let up = wait_ipcp_up(&lwip_server, Duration::ZERO).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (up.local.as_str(), up.peer.as_str()),
        ("10.64.0.1", "10.64.0.2")
    );

    let capture = capture.finish();
    capture.assert_well_formed();
    assert_eq!(capture.discovery_codes(), [PADI, PADO, PADR, PADS, PADT]);
    assert_eq!(capture.count("chap.code == 3"), 1, "one CHAP Success");
    let acks = capture.count("ipcp && ppp.code == 2");
    assert_eq!(acks, 2, "IPCP Configure-Ack both ways");
    assert_eq!(capture.count("icmp.type == 8"), 3, "echo requests");
    assert_eq!(capture.count("icmp.type == 0"), 3, "echo replies");
    let ids = capture.fields("pppoes", &["pppoe.session_id"]);
    assert!(
        ids.iter()
            .all(|row| row[0] == format!("0x{:04x}", session.id))
    );
    assert!(
        capture.count("lcp && ppp.code == 5") >= 1,
        "LCP Terminate-Request"
    );
}
