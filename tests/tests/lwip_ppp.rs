//! lwIP's PPP alone: its client and its authenticator, wired together by pipes, negotiate LCP,
//! PAP or CHAP-MD5 and IPCP and carry IP. This shows the PPP engine that stands in for RAS
//! works before it is put behind PPPoE.

use std::collections::BTreeSet;
use std::io::pipe;
use std::time::{Duration, Instant};

use rswan_e2e::lwip::{Auth, LwipOptions, ServerAddresses, wait_ipcp_up};
use rswan_e2e::process::Peer;

const TIMEOUT: Duration = Duration::from_secs(30);
const LCP: u16 = 0xc021;
const PAP: u16 = 0xc023;
const CHAP: u16 = 0xc223;
const IPCP: u16 = 0x8021;
const IP: u16 = 0x0021;

fn server(auth: Auth) -> LwipOptions {
    LwipOptions::server(
        "alice",
        "s3cret",
        auth,
        ServerAddresses {
            local: "10.64.0.1".into(),
            peer: "10.64.0.2".into(),
            dns: "10.64.0.53".into(),
        },
    )
}

fn client(password: &str, auth: Auth) -> LwipOptions {
    LwipOptions {
        ping: 3,
        hangup: true,
        ..LwipOptions::client("alice", password, auth)
    }
}

/// Client and server on two OS pipes, nothing in between.
fn connect_directly(client: &LwipOptions, server: &LwipOptions) -> (Peer, Peer) {
    let (to_server, from_client) = pipe().expect("pipe");
    let (to_client, from_server) = pipe().expect("pipe");
    let server = server.spawn("lwip server", to_server.into(), from_server.into());
    let client = client.spawn("lwip client", to_client.into(), from_client.into());
    (client, server)
}

fn assert_session_up_and_closed(client: &mut Peer, server: &mut Peer) {
    let up = wait_ipcp_up(client, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (up.local.as_str(), up.peer.as_str()),
        ("10.64.0.2", "10.64.0.1")
    );
    assert_eq!(
        up.dns, "10.64.0.53",
        "the client got the DNS address by IPCP"
    );
    let up = wait_ipcp_up(server, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (up.local.as_str(), up.peer.as_str()),
        ("10.64.0.1", "10.64.0.2")
    );
    // Three ICMP echoes answered by the server's IP stack: IP flows both ways over PPP.
    client
        .wait_for("PING done", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .wait_for("PPP DOWN reason=user", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    let status = client
        .wait_exit(TIMEOUT)
        .expect("the client exits after hanging up");
    assert!(status.success(), "client: {status}\n{}", client.output());
}

#[test]
fn lwip_client_and_server_reach_ipcp_over_pipes_with_pap() {
    let (mut client, mut server) =
        connect_directly(&client("s3cret", Auth::Pap), &server(Auth::Pap));
    assert_session_up_and_closed(&mut client, &mut server);
    assert!(
        client
            .lines()
            .iter()
            .any(|l| l.contains("PAP authentication succeeded"))
    );
}

#[test]
fn lwip_client_and_server_reach_ipcp_over_pipes_with_chap() {
    let (mut client, mut server) =
        connect_directly(&client("s3cret", Auth::Chap), &server(Auth::Chap));
    assert_session_up_and_closed(&mut client, &mut server);
    assert!(
        client
            .lines()
            .iter()
            .any(|l| l.contains("CHAP authentication succeeded"))
    );
}

#[test]
fn lwip_server_refuses_a_wrong_password() {
    let (mut client, server) = connect_directly(&client("wrong", Auth::Chap), &server(Auth::Chap));
    client
        .wait_for("AUTH FAIL", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    server
        .wait_for("AUTH FAIL", TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!client.lines().iter().any(|l| l.starts_with("IPCP up")));
    let status = client.wait_exit(TIMEOUT).expect("the client exits");
    assert!(!status.success(), "a failed login exits non-zero");
}

/// The same session relayed packet by packet through the tests' RFC 1662 decoder and encoder
/// (the glue that later sits between lwIP and a PPPoE session): every frame lwIP writes has a
/// good FCS, and lwIP accepts every frame the encoder writes.
#[test]
fn lwip_peers_talk_through_the_rfc1662_relay() {
    let (mut client, mut client_pipe) = client("s3cret", Auth::Chap).spawn_framed("lwip client");
    let (mut server, mut server_pipe) = server(Auth::Chap).spawn_framed("lwip server");
    let mut protocols = BTreeSet::new();
    let deadline = Instant::now() + TIMEOUT;
    while client.try_status().is_none() {
        assert!(Instant::now() < deadline, "the session did not end in time");
        let mut moved = false;
        while let Some(packet) = client_pipe.try_recv().expect("client stream") {
            protocols.insert(protocol(&packet));
            server_pipe.send(&packet).expect("write to the server");
            moved = true;
        }
        while let Some(packet) = server_pipe.try_recv().expect("server stream") {
            protocols.insert(protocol(&packet));
            // The client exits right after its last Terminate-Request; a broken pipe then is fine.
            let _ = client_pipe.send(&packet);
            moved = true;
        }
        if !moved {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert_session_up_and_closed(&mut client, &mut server);
    for expected in [LCP, CHAP, IPCP, IP] {
        assert!(
            protocols.contains(&expected),
            "no {expected:#06x} in {protocols:x?}"
        );
    }
    assert!(!protocols.contains(&PAP));
}

/// The PPP protocol field, uncompressed or (after PFC) one byte.
fn protocol(packet: &[u8]) -> u16 {
    match packet {
        [first, ..] if first & 1 == 1 => u16::from(*first),
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => panic!("a PPP packet without a protocol field: {packet:02x?}"),
    }
}
