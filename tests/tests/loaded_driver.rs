//! The real rswan.sys, loaded in rswan-host (x64 natively, ARM64 under qemu-aarch64), dials l2tpns
//! and answers rp-pppoe's client over a veth pair between two namespaces, with lwIP's PPP as RAS
//! behind NDISWAN on the driver's VC (rswan_e2e::loaded_driver). Bound to two adapters, each a
//! veth pair to its own namespace, the x64 image dials searching both. Every call is checked
//! three ways: the scenario child's report (verifier rules, no leak at unload), lwIP's PPP
//! phases and IPCP addresses, and a capture read by tshark (no malformed packet, the expected
//! PPPoE codes).
//!
//! The image is the one `RSWAN_SYS_X64` names (`cargo xtask test` sets it to the packaged
//! image), else a release build made for the tests (rswan_host::image). The ARM64 image
//! (`RSWAN_SYS_ARM64`, else built) makes the same dials and answers the same call in the aarch64
//! runner under qemu-aarch64 (rswan_host::qemu), checked the same way.

use std::path::PathBuf;
use std::process::Command;

use rswan_e2e::capture::{CaptureFile, PADI, PADO, PADR, PADS, PADT};
use rswan_e2e::loaded_driver::{
    self, ANSWER_DNS, ANSWER_LOCAL, ANSWER_PEER, Call, DialOptions, DialRun, Driver,
    L2TPNS_ADDRESS, L2TPNS_SERVICE, Machine, SearchRun, USER, echo_replies,
};
use rswan_e2e::lwip::Auth;
use rswan_e2e::radius::{Decision, Method};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-e2e-host-run");
const LINK_PROGRAM: &str = env!("CARGO_BIN_EXE_rswan-link");

fn image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

fn driver() -> Driver {
    Driver {
        runner: PathBuf::from(RUNNER),
        image: image(),
    }
}

fn native() -> Machine {
    Machine::Native(driver())
}

/// The ARM64 image in the aarch64 runner under qemu-aarch64: the emulated child opens its
/// AF_PACKET adapter and RAS's socket in the namespace as a native one does, since
/// qemu-aarch64 passes those system calls to this kernel.
fn arm64() -> Machine {
    let image = rswan_host::image::arm64().unwrap_or_else(|e| panic!("no ARM64 driver image: {e}"));
    Machine::Arm64Emulated(image)
}

fn dial_on(machine: Machine, auth: Auth, password: &str, pings: u32, test: &str) -> DialRun {
    let options = DialOptions {
        auth,
        password: password.into(),
        pings,
        capture: Some(test.into()),
    };
    loaded_driver::dial_l2tpns(machine, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn capture(call: &Call) -> &CaptureFile {
    call.capture.as_ref().expect("the test asked for a capture")
}

/// The session id as the child reported it, and as tshark read it from the PADS.
fn assert_session_matches_the_pads(call: &Call, capture: &CaptureFile) {
    let session = call.session().expect("the child saw a PADS");
    let pads = discovery_field(capture, PADS, "pppoe.session_id");
    assert_eq!(pads, [[session.to_owned()]], "PADS session id");
    // Every session frame of the capture is in that session.
    let ids = capture.fields("pppoes", &["pppoe.session_id"]);
    assert!(!ids.is_empty() && ids.iter().all(|row| row[0] == session));
}

/// Every session frame carries LCP, PAP, CHAP, IPCP or IP right after the PPPoE header: no
/// Address and Control field (RFC 2516 section 7), although NDISWAN sends FF 03 first (WDK:
/// "WAN Packet Framing"), so tshark would read FF 03 as an unknown protocol.
fn assert_session_payloads_start_with_a_protocol(capture: &CaptureFile) {
    let unknown = capture.fields(
        "pppoes && !(lcp || pap || chap || ipcp || ip)",
        &["frame.number", "_ws.col.info"],
    );
    assert!(
        unknown.is_empty(),
        "session frames with no known protocol: {unknown:?}"
    );
}

/// The capture of a call: complete and well formed, one discovery and one PADT, every session
/// frame in the session the child saw, each starting with a protocol field.
fn checked_capture(call: &Call) -> &CaptureFile {
    let capture = capture(call);
    assert_call_capture(call, capture);
    capture
}

fn assert_call_capture(call: &Call, capture: &CaptureFile) {
    capture.assert_well_formed();
    assert_eq!(capture.discovery_codes(), [PADI, PADO, PADR, PADS, PADT]);
    assert_session_matches_the_pads(call, capture);
    assert_session_payloads_start_with_a_protocol(capture);
}

/// `field` of the discovery frames with code `code`.
fn discovery_field(capture: &CaptureFile, code: u8, field: &str) -> Vec<Vec<String>> {
    capture.fields(&format!("pppoe.code == {code}"), &[field])
}

/// RADIUS decided one login of the account, by `method`.
fn assert_one_login(run: &DialRun, method: Method, accepted: bool) {
    let login = Decision {
        user: USER.into(),
        method,
        accepted,
    };
    assert_eq!(run.decisions, [login]);
}

/// A whole call: the child passed its checks, RAS went through LCP, authentication and IPCP.
fn assert_whole_call(call: &Call, verdict: Result<(), String>) {
    verdict.unwrap_or_else(|e| panic!("{e}\n{}", call.ras.output()));
    let phases = call.phases();
    for phase in ["establish", "authenticate", "network", "running"] {
        assert!(
            phases.iter().any(|p| p == phase),
            "phase {phase}: {phases:?}"
        );
    }
    let carried = call.carried.as_ref().expect("relay");
    assert!(
        carried.to_engine > 0 && carried.from_engine > 0,
        "{carried:?}"
    );
    assert_eq!(call.child.observation("ras.failed_sends"), "0");
}

fn assert_l2tpns_call(run: &DialRun, method: Method) {
    assert_l2tpns_session(run, method);
    assert_l2tpns_wire(&run.call, checked_capture(&run.call));
}

/// What RAS and RADIUS saw of a whole call to l2tpns that RAS hung up after one echo.
fn assert_l2tpns_session(run: &DialRun, method: Method) {
    let call = &run.call;
    assert_whole_call(call, run.verdict());
    let up = call.ipcp().expect("IPCP up");
    assert!(
        up.local.starts_with("10.10.10."),
        "from l2tpns's pool: {up:?}"
    );
    assert_eq!(
        (up.peer.as_str(), up.dns.as_str()),
        (L2TPNS_ADDRESS, "10.0.0.53")
    );
    assert_eq!(
        echo_replies(&call.ras).len(),
        1,
        "one echo reply from l2tpns"
    );
    // RAS hung up: lwIP's LCP Terminate, then NDPROXY closed the call.
    assert_eq!(call.child.observation("ras.end"), "the PPP engine hung up");
    assert_one_login(run, method, true);
}

/// The wire of that call, its capture already checked ([`assert_call_capture`]).
fn assert_l2tpns_wire(call: &Call, capture: &CaptureFile) {
    let up = call.ipcp().expect("IPCP up");
    // The driver's PADT closes the call: it goes to the AC that sent the PADS.
    assert_eq!(
        discovery_field(capture, PADT, "eth.dst"),
        discovery_field(capture, PADS, "eth.src")
    );
    // IPCP Configure-Ack both ways, l2tpns's carrying the driver side's address.
    let acks = capture.fields("ipcp && ppp.code == 2", &["ipcp.opt.ip_address"]);
    assert_eq!(acks.len(), 2, "IPCP Configure-Acks: {acks:?}");
    assert!(acks.iter().any(|row| row[0] == up.local), "{acks:?}");
    // The echo crossed the wire both ways, inside the session.
    assert_eq!(capture.count("pppoes && icmp.type == 8"), 1);
    assert_eq!(capture.count("pppoes && icmp.type == 0"), 1);
    assert!(
        capture.count("lcp && ppp.code == 5") >= 1,
        "LCP Terminate-Request"
    );
}

#[test]
fn loaded_driver_dials_l2tpns_with_pap_to_ipcp_and_pings() {
    pap_dial(
        native(),
        "loaded_driver_dials_l2tpns_with_pap_to_ipcp_and_pings",
    );
}

#[test]
fn loaded_arm64_driver_dials_l2tpns_with_pap_to_ipcp_and_pings() {
    pap_dial(
        arm64(),
        "loaded_arm64_driver_dials_l2tpns_with_pap_to_ipcp_and_pings",
    );
}

fn pap_dial(machine: Machine, test: &str) {
    let run = dial_on(machine, Auth::Pap, loaded_driver::PASSWORD, 1, test);
    assert_l2tpns_call(&run, Method::Pap);
    let capture = capture(&run.call);
    assert_eq!(
        capture.count("pap.code == 2"),
        1,
        "one PAP Authenticate-Ack"
    );
    assert_eq!(capture.count("chap"), 0);
}

#[test]
fn loaded_driver_dials_l2tpns_with_chap_to_ipcp_and_pings() {
    chap_dial(
        native(),
        "loaded_driver_dials_l2tpns_with_chap_to_ipcp_and_pings",
    );
}

#[test]
fn loaded_arm64_driver_dials_l2tpns_with_chap_to_ipcp_and_pings() {
    chap_dial(
        arm64(),
        "loaded_arm64_driver_dials_l2tpns_with_chap_to_ipcp_and_pings",
    );
}

fn chap_dial(machine: Machine, test: &str) {
    let run = dial_on(machine, Auth::Chap, loaded_driver::PASSWORD, 1, test);
    assert_l2tpns_call(&run, Method::Chap);
    let capture = capture(&run.call);
    assert_eq!(capture.count("chap.code == 3"), 1, "one CHAP Success");
    assert_eq!(capture.count("pap"), 0);
}

#[test]
fn loaded_driver_with_a_wrong_password_is_hung_up_on_during_authentication() {
    wrong_password_dial(
        native(),
        "loaded_driver_with_a_wrong_password_is_hung_up_on_during_authentication",
    );
}

#[test]
fn loaded_arm64_driver_with_a_wrong_password_is_hung_up_on_during_authentication() {
    wrong_password_dial(
        arm64(),
        "loaded_arm64_driver_with_a_wrong_password_is_hung_up_on_during_authentication",
    );
}

fn wrong_password_dial(machine: Machine, test: &str) {
    let run = dial_on(machine, Auth::Pap, "wrong", 0, test);
    let call = &run.call;
    // The scenario itself passes: the far end's PADT became a dispatched close that NDPROXY
    // completed, and the driver unloaded with every check met.
    assert_eq!(
        call.child.report.ending,
        rswan_host::report::Ending::Ok,
        "{}",
        call.child.describe()
    );
    assert_eq!(
        call.child.observation("ras.end"),
        "the peer hung up (close dispatched, status 0x00000000)"
    );
    // The reason a person gets: l2tpns hung up during authentication.
    let reason = run.verdict().expect_err("no IPCP with a wrong password");
    assert_eq!(
        reason,
        "PPP never reached IPCP: the peer hung up (close dispatched, status 0x00000000) in PPP \
         phase authenticate",
        "{}",
        call.ras.output()
    );
    assert_one_login(&run, Method::Pap, false);
    let capture = checked_capture(call);
    // This PADT comes from l2tpns, not from the driver.
    assert_eq!(
        discovery_field(capture, PADT, "eth.src"),
        discovery_field(capture, PADS, "eth.src")
    );
    assert_eq!(
        capture.count("pap.code == 1"),
        1,
        "one PAP Authenticate-Request"
    );
    assert_eq!(capture.count("pap.code == 2"), 0, "no PAP Authenticate-Ack");
    assert_eq!(capture.count("ipcp"), 0);
}

/// A CHAP dial of the native image searching two adapters, rp-pppoe's access concentrator
/// offering `first_service` behind the first, l2tpns behind the second.
fn search_dial(test: &str, first_service: &str) -> SearchRun {
    let options = DialOptions {
        auth: Auth::Chap,
        password: loaded_driver::PASSWORD.into(),
        pings: 1,
        capture: Some(test.into()),
    };
    loaded_driver::dial_over_two_adapters(native(), &options, first_service)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn search_captures(run: &SearchRun) -> &[CaptureFile; 2] {
    let captures = run.captures.as_ref().expect("the test asked for captures");
    for capture in captures {
        capture.assert_well_formed();
    }
    captures
}

/// The driver's PADIs on the two wires: one on each (the dial stops searching once it took a
/// PADO, long before the first retransmission after 5 s), each asking for the dialed service,
/// each from its own interface with its own Host-Uniq.
fn assert_one_padi_on_each(captures: &[CaptureFile; 2]) {
    let padis = captures.each_ref().map(|c| {
        let padi = c.fields(
            &format!("pppoe.code == {PADI}"),
            &["eth.src", "pppoed.tags.host_uniq"],
        );
        assert_eq!(
            padi.len(),
            1,
            "one PADI on {}: {padi:?}",
            c.path().display()
        );
        assert_eq!(c.service_names(PADI), [L2TPNS_SERVICE]);
        padi.into_iter().next().expect("one PADI")
    });
    assert_ne!(padis[0][0], padis[1][0], "PADIs from two interfaces");
    assert!(
        !padis[0][1].is_empty(),
        "a Host-Uniq in the PADI: {padis:?}"
    );
    assert_ne!(padis[0][1], padis[1][1], "a Host-Uniq per binding");
}

/// README "Settings and PPPoE discovery": a dial sends a PADI on every bound Ethernet adapter
/// and continues where an access concentrator offers the requested Service-Name. rp-pppoe's
/// AC behind the first adapter offers another service, so it stays silent (as
/// rp_pppoe_server.rs shows); l2tpns behind the second answers, and the whole call (CHAP,
/// IPCP, an echo, RAS's hang-up) runs there.
#[test]
fn loaded_driver_dials_over_two_adapters_and_reaches_l2tpns_behind_the_second() {
    let test = "loaded_driver_dials_over_two_adapters_and_reaches_l2tpns_behind_the_second";
    let run = search_dial(test, "OtherSvc");
    assert_l2tpns_session(&run.dial, Method::Chap);
    assert_eq!(run.chosen(), Ok(1), "{}", run.dial.call.child.describe());
    let captures = search_captures(&run);
    assert_one_padi_on_each(captures);
    let [first, second] = captures;
    // Nothing answered on the first wire, and nothing but the PADI went there.
    assert_eq!(first.discovery_codes(), [PADI]);
    assert_eq!(
        first.count("pppoes"),
        0,
        "no session frame on the first wire"
    );
    assert!(
        run.rp_pppoe.lwip_lines().is_empty(),
        "rp-pppoe opened no session: {:?}",
        run.rp_pppoe.lwip_lines()
    );
    assert_call_capture(&run.dial.call, second);
    assert_l2tpns_wire(&run.dial.call, second);
    assert_eq!(second.count("chap.code == 3"), 1, "one CHAP Success");
}

/// Both adapters lead to an access concentrator offering the dialed service: rp-pppoe's
/// (lwIP's authenticator behind it accepts the same CHAP account as l2tpns's RADIUS) and
/// l2tpns. Which PADO the driver takes first is a race; the call comes up on that one, with
/// one PADR and one PADS in the two captures together, and the other AC gets a PADI, sends a
/// PADO and hears nothing more.
#[test]
fn loaded_driver_with_access_concentrators_behind_both_adapters_opens_one_session() {
    let test = "loaded_driver_with_access_concentrators_behind_both_adapters_opens_one_session";
    let run = search_dial(test, L2TPNS_SERVICE);
    let chosen = run
        .chosen()
        .unwrap_or_else(|e| panic!("{e}: {}", run.dial.call.child.describe()));
    let captures = search_captures(&run);
    assert_one_padi_on_each(captures);
    let in_both = |code: u8| {
        captures
            .iter()
            .map(|c| c.count(&format!("pppoe.code == {code}")))
            .sum::<usize>()
    };
    assert_eq!((in_both(PADR), in_both(PADS)), (1, 1), "one PADR, one PADS");
    let (winner, loser) = (&captures[chosen], &captures[1 - chosen]);
    assert_eq!(loser.discovery_codes(), [PADI, PADO], "the AC not chosen");
    assert_eq!(
        loser.count("pppoes"),
        0,
        "no session frame on the wire not chosen"
    );
    // The captures stamp each PADO as it reaches its interface; the driver takes them as two
    // bridge threads pass them on, so PADOs a scheduling delay apart (measured here: under
    // 1.5 ms) may be taken in either order. A PADO taken much later than the other's arrival
    // would mean the dial waited instead of taking the first.
    let pado_time = |c: &CaptureFile| -> f64 {
        let times = c.fields(&format!("pppoe.code == {PADO}"), &["frame.time_epoch"]);
        times[0][0].parse().expect("tshark prints a time")
    };
    let (taken, other) = (pado_time(winner), pado_time(loser));
    eprintln!(
        "the call came up on {}: its PADO came {:.1} ms before the other's",
        run.interfaces[chosen],
        (other - taken) * 1000.0
    );
    assert!(
        taken - other < 0.1,
        "the PADO taken came {:.1} ms after the other",
        (taken - other) * 1000.0
    );
    if chosen == 1 {
        assert_l2tpns_session(&run.dial, Method::Chap);
        assert_call_capture(&run.dial.call, winner);
        assert_l2tpns_wire(&run.dial.call, winner);
        assert!(
            run.rp_pppoe.lwip_lines().is_empty(),
            "rp-pppoe opened no session: {:?}",
            run.rp_pppoe.lwip_lines()
        );
    } else {
        assert_rp_pppoe_call(&run, winner);
    }
}

/// A whole call through rp-pppoe's access concentrator to lwIP's authenticator behind it:
/// CHAP, IPCP with its addresses, an echo, RAS's hang-up; l2tpns's RADIUS was never asked.
fn assert_rp_pppoe_call(run: &SearchRun, capture: &CaptureFile) {
    let call = &run.dial.call;
    let far_end = run.rp_pppoe.lwip_lines();
    assert_whole_call(call, run.dial.verdict());
    let up = call.ipcp().expect("IPCP up");
    assert_eq!(
        (up.local.as_str(), up.peer.as_str(), up.dns.as_str()),
        (ANSWER_PEER, ANSWER_LOCAL, ANSWER_DNS)
    );
    let replies = echo_replies(&call.ras);
    assert_eq!(replies.len(), 1, "one echo reply: {replies:?}");
    assert!(replies[0].starts_with(&format!("PING reply from={ANSWER_LOCAL} ")));
    assert_eq!(call.child.observation("ras.end"), "the PPP engine hung up");
    assert!(
        far_end.iter().any(|l| l.starts_with("IPCP up ")),
        "lwIP behind rp-pppoe reached IPCP: {far_end:?}"
    );
    assert!(run.dial.decisions.is_empty(), "{:?}", run.dial.decisions);

    // After the driver's PADT, rp-pppoe's relay (its lwIP gone) may send its own.
    let codes = capture.discovery_codes();
    assert_eq!(codes[..4], [PADI, PADO, PADR, PADS], "{codes:?}");
    assert!(
        codes.len() > 4 && codes[4..].iter().all(|c| *c == PADT),
        "{codes:?}"
    );
    assert_session_matches_the_pads(call, capture);
    assert_session_payloads_start_with_a_protocol(capture);
    assert_eq!(
        capture.discovery_tag(PADO, "pppoed.tags.ac_name"),
        ["TestAC"]
    );
    assert_eq!(capture.count("chap.code == 3"), 1, "one CHAP Success");
    assert_eq!(capture.count("pppoes && icmp.type == 8"), 1);
    assert_eq!(capture.count("pppoes && icmp.type == 0"), 1);
}

#[test]
fn loaded_driver_answers_rp_pppoe_to_ipcp_and_carries_pings() {
    answer_rp_pppoe(
        native(),
        "loaded_driver_answers_rp_pppoe_to_ipcp_and_carries_pings",
    );
}

#[test]
fn loaded_arm64_driver_answers_rp_pppoe_to_ipcp_and_carries_pings() {
    answer_rp_pppoe(
        arm64(),
        "loaded_arm64_driver_answers_rp_pppoe_to_ipcp_and_carries_pings",
    );
}

fn answer_rp_pppoe(machine: Machine, test: &str) {
    const PINGS: u32 = 3;
    let run = loaded_driver::answer_rp_pppoe(machine, PINGS, Some(test))
        .unwrap_or_else(|e| panic!("{e}"));
    let call = &run.call;
    // RAS here is the authenticator: it answers pings, the client behind rp-pppoe sends them.
    assert_whole_call(call, run.verdict());
    let up = call.ipcp().expect("IPCP up");
    assert_eq!(
        (up.local.as_str(), up.peer.as_str()),
        (ANSWER_LOCAL, ANSWER_PEER)
    );
    let client_up = rswan_e2e::lwip::wait_ipcp_up(&run.client, std::time::Duration::ZERO)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (client_up.local.as_str(), client_up.peer.as_str()),
        (ANSWER_PEER, ANSWER_LOCAL)
    );
    let replies = echo_replies(&run.client);
    assert_eq!(replies.len(), PINGS as usize, "{}", run.client.output());
    let from = format!("PING reply from={ANSWER_LOCAL} ");
    assert!(replies.iter().all(|l| l.starts_with(&from)), "{replies:?}");
    // rp-pppoe's PADT (its stdin closed) reached the driver as a dispatched close.
    assert_eq!(
        call.child.observation("ras.end"),
        "the peer hung up (close dispatched, status 0x00000000)"
    );
    assert_eq!(
        call.session(),
        Some(format!("{:#06x}", run.discovered.session_id).as_str())
    );

    let capture = checked_capture(call);
    // rp-pppoe sent the PADT, as it sent the PADI.
    assert_eq!(
        discovery_field(capture, PADT, "eth.src"),
        discovery_field(capture, PADI, "eth.src")
    );
    assert_eq!(capture.count("chap.code == 3"), 1, "one CHAP Success");
    assert_eq!(
        capture.count("ipcp && ppp.code == 2"),
        2,
        "IPCP Configure-Ack both ways"
    );
    assert_eq!(capture.count("pppoes && icmp.type == 8"), PINGS as usize);
    assert_eq!(capture.count("pppoes && icmp.type == 0"), PINGS as usize);
}

/// The program behind `cargo xtask dial`, run as the task runs it.
#[test]
fn rswan_link_dial_prints_the_session_phases_address_and_echo() {
    link_dial_prints_the_call(image(), "(x64) loaded in rswan-host");
}

/// rswan-link reads the image's machine from its PE header and runs an ARM64 image in the
/// aarch64 runner under qemu-aarch64 (`cargo xtask dial --arch arm64`).
#[test]
fn rswan_link_dial_with_the_arm64_image_runs_it_under_qemu() {
    let image = rswan_host::image::arm64().unwrap_or_else(|e| panic!("no ARM64 driver image: {e}"));
    link_dial_prints_the_call(
        image,
        "(ARM64) loaded in rswan-host's aarch64 runner under qemu",
    );
}

fn link_dial_prints_the_call(image: PathBuf, machine: &str) {
    let output = Command::new(LINK_PROGRAM)
        .args(["dial", "--image"])
        .arg(image)
        .output()
        .expect("run rswan-link");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("image: ") && lines[0].contains(machine),
        "{stdout}"
    );
    let position = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{stdout}"))
    };
    let session = lines[position("PPPoE session: 0x")];
    assert_ne!(session, "PPPoE session: 0x0000");
    // In the order it happened: the session, LCP, authentication, IPCP, the echo, LCP's
    // Terminate, the hang-up.
    let order = [
        "PPPoE session: ",
        "PPP phase: establish",
        "PPP phase: authenticate",
        "PPP phase: network",
        "IPCP: address 10.10.10.",
        &format!("ICMP: reply from={L2TPNS_ADDRESS} seq="),
        "PPP phase: terminate",
        "hang-up: the PPP engine hung up",
        "done: ",
    ];
    let positions: Vec<usize> = order.iter().map(|prefix| position(prefix)).collect();
    assert!(positions.is_sorted(), "out of order:\n{stdout}");
    assert!(
        stdout.contains("RADIUS: Chap login of rswan accepted"),
        "{stdout}"
    );
}

/// A refused login exits non-zero and says why, after cleaning up.
#[test]
fn rswan_link_dial_with_a_wrong_password_fails_with_the_reason() {
    let output = Command::new(LINK_PROGRAM)
        .args(["dial", "--auth", "pap", "--password", "wrong", "--image"])
        .arg(image())
        .output()
        .expect("run rswan-link");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "rswan-link: PPP never reached IPCP: the peer hung up (close dispatched, status \
         0x00000000) in PPP phase authenticate\n",
        "{stdout}"
    );
    assert!(
        stdout.contains("RADIUS: Pap login of rswan rejected"),
        "{stdout}"
    );
    assert!(!stdout.contains("IPCP"), "{stdout}");
}

/// A dial with no image exits non-zero and says why.
#[test]
fn rswan_link_without_an_image_fails_with_the_reason() {
    let output = Command::new(LINK_PROGRAM)
        .args(["dial", "--image", "no-such-dir/rswan.sys"])
        .output()
        .expect("run rswan-link");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "rswan-link: no driver image at no-such-dir/rswan.sys\n"
    );
}

/// A file that is not a 64-bit PE image is refused before anything starts.
#[test]
fn rswan_link_with_a_file_that_is_no_image_fails_with_the_reason() {
    let not_an_image = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(LINK_PROGRAM)
        .args(["answer", "--image", not_an_image])
        .output()
        .expect("run rswan-link");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("rswan-link: {not_an_image} is not a driver image rswan-host loads: ");
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
