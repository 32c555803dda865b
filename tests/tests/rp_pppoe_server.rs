//! rswan's PPPoE client against rp-pppoe's access concentrator (`pppoe-server`): discovery
//! with Service-Name, Host-Uniq and AC-Cookie echoed, a session id, and the PADT that
//! rp-pppoe sends when its pppd child dies here, surfaced with its Generic-Error text.

use std::time::Duration;

use rswan_e2e::capture::{Capture, PADI, PADO, PADR, PADS, PADT, hex};
use rswan_e2e::netns::TestNet;
use rswan_e2e::peers::pppoe_server;
use rswan_e2e::pppoe_link::{SessionEnd, Wire, await_peer_end, dial};
use rswan_pppoe::{ClientConfig, MacAddr, PeerErrorKind};

const TIMEOUT: Duration = Duration::from_secs(20);
const HOST_UNIQ: &[u8] = b"rswan-e2e";

#[test]
fn rswan_client_dials_rp_pppoe_server_and_reports_its_padt_error() {
    let net = TestNet::new();
    let capture = Capture::start(
        &net.client,
        &net.client_if,
        "rswan_client_dials_rp_pppoe_server_and_reports_its_padt_error",
    );
    let _server = pppoe_server(&net.server, &net.server_if, "TestAC", "TestSvc");
    let server_mac = MacAddr(net.server.mac(&net.server_if));

    let mut wire = Wire::open(&net.client, &net.client_if);
    let mut config = ClientConfig::new(wire.mac(), b"TestSvc", HOST_UNIQ).expect("config");
    config.first_timeout = Duration::from_secs(1);
    let mut client = dial(&mut wire, config, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let session = client.session().expect("established");
    assert_eq!(session.peer, server_mac);
    assert_eq!(session.max_payload, 1492);

    // rp-pppoe's pppd child cannot run here; the AC then ends the session with a PADT.
    let end = await_peer_end(&mut wire, &mut client, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let SessionEnd::PeerTerminated(Some(error)) = &end else {
        panic!("expected a PADT with an error tag, got {end:?}");
    };
    assert_eq!(error.kind, PeerErrorKind::Generic);
    assert_eq!(
        end.to_string(),
        "the peer ended the session (PADT): Generic-Error: RP-PPPoE: Child pppd process terminated"
    );

    let capture = capture.finish();
    capture.assert_well_formed();
    assert_eq!(capture.discovery_codes(), [PADI, PADO, PADR, PADS, PADT]);
    let sessions = capture.fields("pppoe.code == 0x65", &["pppoe.session_id"]);
    assert_eq!(sessions, [[format!("0x{:04x}", session.id)]]);
    // The PADR echoes the PADO's AC-Cookie; PADO and PADS echo our Host-Uniq.
    let cookie = capture.discovery_tag(PADO, "pppoed.tags.ac_cookie");
    assert_eq!(cookie.len(), 1, "one PADO with an AC-Cookie");
    assert_eq!(capture.discovery_tag(PADR, "pppoed.tags.ac_cookie"), cookie);
    let host_uniq = hex(HOST_UNIQ);
    for code in [PADI, PADO, PADR, PADS] {
        assert_eq!(
            capture.discovery_tag(code, "pppoed.tags.host_uniq"),
            std::slice::from_ref(&host_uniq),
            "Host-Uniq in code {code:#04x}"
        );
    }
    for code in [PADI, PADO, PADR, PADS] {
        assert_eq!(
            capture.discovery_tag(code, "pppoed.tags.service_name"),
            ["TestSvc"],
            "Service-Name in code {code:#04x}"
        );
    }
    assert_eq!(
        capture.discovery_tag(PADO, "pppoed.tags.ac_name"),
        ["TestAC"]
    );
    assert_eq!(
        capture.discovery_tag(PADT, "pppoed.tags.generic_error"),
        ["RP-PPPoE: Child pppd process terminated"]
    );
}

#[test]
fn rswan_client_reports_a_service_rp_pppoe_does_not_offer() {
    let net = TestNet::new();
    let capture = Capture::start(
        &net.client,
        &net.client_if,
        "rswan_client_reports_a_service_rp_pppoe_does_not_offer",
    );
    let _server = pppoe_server(&net.server, &net.server_if, "TestAC", "TestSvc");
    let mut wire = Wire::open(&net.client, &net.client_if);
    let mut config = ClientConfig::new(wire.mac(), b"OtherSvc", HOST_UNIQ).expect("config");
    config.first_timeout = Duration::from_millis(300);
    let error = dial(&mut wire, config, TIMEOUT).expect_err("no AC offers OtherSvc");
    // rp-pppoe stays silent to a PADI for a service it does not offer.
    assert_eq!(
        error.to_string(),
        "dial failed: no access concentrator answered"
    );
    let capture = capture.finish();
    capture.assert_well_formed();
    assert_eq!(capture.discovery_codes(), [PADI, PADI, PADI]);
    assert_eq!(capture.service_names(PADI), ["OtherSvc"; 3]);
    // Retransmissions wait 300 ms, then twice that (less 10% for when each send is stamped).
    let times: Vec<f64> = capture
        .fields("pppoed", &["frame.time_relative"])
        .iter()
        .map(|row| row[0].parse().expect("a time"))
        .collect();
    assert!(times[1] - times[0] >= 0.27, "{times:?}");
    assert!(times[2] - times[1] >= 0.54, "{times:?}");
}

#[test]
fn rswan_client_reports_that_no_access_concentrator_answered() {
    let net = TestNet::new();
    let mut wire = Wire::open(&net.client, &net.client_if);
    let mut config = ClientConfig::new(wire.mac(), b"", HOST_UNIQ).expect("config");
    config.first_timeout = Duration::from_millis(200);
    let error = dial(&mut wire, config, TIMEOUT).expect_err("nobody listens");
    assert_eq!(
        error.to_string(),
        "dial failed: no access concentrator answered"
    );
}
