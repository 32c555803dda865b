//! rswan's PPPoE client against l2tpns, a full access concentrator with its own LCP, PAP,
//! CHAP-MD5 and IPCP, with lwIP's PPP client behind rswan's session (where RAS stands on
//! Windows) and a RADIUS responder deciding the logins. A session reaches IPCP Open with an
//! address from l2tpns's pool; a wrong password ends in l2tpns's PADT with a clear reason.

use std::time::Duration;

use rswan_e2e::capture::{Capture, CaptureFile, PADI, PADO, PADR, PADS, PADT};
use rswan_e2e::lwip::{Auth, IpcpUp, LwipOptions, describe_end};
use rswan_e2e::netns::TestNet;
use rswan_e2e::peers::l2tpns_with_radius;
use rswan_e2e::pppoe_link::{RelayReport, SessionEnd, Wire, dial, hang_up, relay};
use rswan_e2e::process::Peer;
use rswan_e2e::radius::{Decision, Method};
use rswan_pppoe::{ClientConfig, MacAddr};

const TIMEOUT: Duration = Duration::from_secs(40);
const USER: &str = "rswan";
const PASSWORD: &str = "s3cret";

struct Outcome {
    report: RelayReport,
    lwip: Peer,
    decisions: Vec<Decision>,
    capture: CaptureFile,
}

/// Dials l2tpns with rswan's client and runs lwIP's PPP client over the session until lwIP
/// exits (it hangs up once IPCP is up) or l2tpns ends the session.
fn session_through_l2tpns(auth: Auth, password: &str, capture_name: &str) -> Outcome {
    let net = TestNet::new();
    let site = l2tpns_with_radius(&net.server, &net.server_if, auth.into(), USER, PASSWORD);
    let capture = Capture::start(&net.client, &net.client_if, capture_name);

    let mut wire = Wire::open(&net.client, &net.client_if);
    let mut config = ClientConfig::new(wire.mac(), b"TestSvc", b"rswan-e2e").expect("config");
    config.first_timeout = Duration::from_secs(1);
    let mut client = dial(&mut wire, config, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        client.session().expect("established").peer,
        MacAddr(net.server.mac(&net.server_if))
    );

    let options = LwipOptions {
        hangup: true,
        ..LwipOptions::client(USER, password, auth)
    };
    let (lwip, mut pipe) = options.spawn_framed("lwip client");
    let report = relay(&mut wire, &mut client, &mut pipe, TIMEOUT, || false)
        .unwrap_or_else(|e| panic!("{e}\n{}", lwip.output()));
    if report.end == SessionEnd::Stopped {
        hang_up(&mut wire, &mut client);
    }
    Outcome {
        report,
        lwip,
        decisions: site.radius.decisions(),
        capture: capture.finish(),
    }
}

fn assert_ipcp_open(outcome: &Outcome, method: Method) {
    let lwip = &outcome.lwip;
    let up = lwip
        .lines()
        .iter()
        .find_map(|l| IpcpUp::parse(l))
        .unwrap_or_else(|| panic!("lwIP never reached IPCP up:\n{}", lwip.output()));
    assert!(
        up.local.starts_with("10.10.10."),
        "address from l2tpns's pool: {up:?}"
    );
    assert_eq!(up.peer, "10.10.10.254");
    assert_eq!(up.dns, "10.0.0.53");
    assert!(lwip.lines().iter().any(|l| l == "PPP DOWN reason=user"));
    assert_eq!(
        outcome.decisions,
        [Decision {
            user: USER.into(),
            method,
            accepted: true
        }]
    );
    assert!(outcome.report.to_engine > 0 && outcome.report.to_wire > 0);

    let capture = &outcome.capture;
    capture.assert_well_formed();
    let codes = capture.discovery_codes();
    assert_eq!(codes[..4], [PADI, PADO, PADR, PADS]);
    assert_eq!(codes.last(), Some(&PADT));
    assert_eq!(
        capture.discovery_tag(PADO, "pppoed.tags.ac_name"),
        ["l2tpnsAC"]
    );
    // IPCP Configure-Ack (code 2) both ways, l2tpns's carrying the client's address.
    let acks = capture.fields("ipcp && ppp.code == 2", &["eth.src", "ipcp.opt.ip_address"]);
    assert_eq!(acks.len(), 2, "IPCP Configure-Acks: {acks:?}");
    assert!(acks.iter().any(|row| row[1] == up.local), "{acks:?}");
    assert!(
        capture.count("lcp && ppp.code == 5") >= 1,
        "LCP Terminate-Request"
    );
}

#[test]
fn rswan_client_reaches_ipcp_through_l2tpns_with_pap() {
    let outcome = session_through_l2tpns(
        Auth::Pap,
        PASSWORD,
        "rswan_client_reaches_ipcp_through_l2tpns_with_pap",
    );
    assert_ipcp_open(&outcome, Method::Pap);
    assert_eq!(
        outcome.capture.count("pap.code == 2"),
        1,
        "one PAP Authenticate-Ack"
    );
    assert_eq!(outcome.capture.count("chap"), 0);
}

#[test]
fn rswan_client_reaches_ipcp_through_l2tpns_with_chap() {
    let outcome = session_through_l2tpns(
        Auth::Chap,
        PASSWORD,
        "rswan_client_reaches_ipcp_through_l2tpns_with_chap",
    );
    assert_ipcp_open(&outcome, Method::Chap);
    assert_eq!(
        outcome.capture.count("chap.code == 3"),
        1,
        "one CHAP Success"
    );
    assert_eq!(outcome.capture.count("pap"), 0);
}

#[test]
fn wrong_password_through_l2tpns_ends_in_padt() {
    let outcome = session_through_l2tpns(
        Auth::Pap,
        "wrong",
        "wrong_password_through_l2tpns_ends_in_padt",
    );
    // l2tpns answers a rejected login with an immediate PADT (no PAP Authenticate-Nak, no
    // error tag): the reason is the PADT plus the PPP phase lwIP was in.
    let reason = describe_end(&outcome.report.end, &outcome.lwip);
    assert_eq!(
        reason,
        "the peer ended the session (PADT) in PPP phase authenticate",
        "{}",
        outcome.lwip.output()
    );
    assert!(
        !outcome
            .lwip
            .lines()
            .iter()
            .any(|l| l.starts_with("IPCP up"))
    );
    assert_eq!(
        outcome.decisions,
        [Decision {
            user: USER.into(),
            method: Method::Pap,
            accepted: false
        }]
    );
    let capture = &outcome.capture;
    capture.assert_well_formed();
    assert_eq!(
        capture.count("pap.code == 1"),
        1,
        "one PAP Authenticate-Request"
    );
    assert_eq!(capture.count("pap.code == 2"), 0, "no PAP Authenticate-Ack");
    assert_eq!(capture.discovery_codes(), [PADI, PADO, PADR, PADS, PADT]);
    assert_eq!(capture.count("ipcp"), 0);
}
