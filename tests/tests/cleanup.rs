//! The test infrastructure cleans up after itself even when a test panics: namespaces (with
//! their veth pairs) are deleted and peer processes are killed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Duration;

use rswan_e2e::netns::{NetNs, TestNet};
use rswan_e2e::process::Peer;

fn namespace_exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists()
}

fn process_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn namespaces_and_peers_are_removed_when_a_test_panics() {
    let mut seen = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let net = TestNet::new();
        let mut command = net.server.command("sleep");
        command.arg("600");
        let sleeper = Peer::spawn("sleep", command);
        seen = Some((
            net.client.name().to_owned(),
            net.server.name().to_owned(),
            sleeper.pid().as_raw(),
        ));
        assert!(namespace_exists(net.client.name()) && namespace_exists(net.server.name()));
        assert!(process_exists(sleeper.pid().as_raw()));
        panic!("a test fails half-way");
    }));
    assert!(result.is_err());
    let (client, server, pid) = seen.expect("the test body ran");
    assert!(!namespace_exists(&client), "{client} is left over");
    assert!(!namespace_exists(&server), "{server} is left over");
    assert!(!process_exists(pid), "the peer process {pid} is left over");
}

#[test]
fn namespaces_have_ipv6_off_and_only_loopback() {
    let ns = NetNs::new("v6");
    let flag = ns.enter(|| {
        std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").expect("sysctl")
    });
    assert_eq!(flag.trim(), "1");
    let mut command = ns.command("cat");
    command.arg("/proc/sys/net/ipv6/conf/default/disable_ipv6");
    let peer = Peer::spawn("cat", command);
    peer.wait_for_line("the sysctl value", Duration::from_secs(10), |l| l == "1")
        .unwrap_or_else(|e| panic!("{e}"));
    let links = ns.ip(&["-o", "link", "show"]);
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains("lo:") && links.contains("UP"), "{links}");
}

#[test]
fn a_stopped_peer_reports_how_it_ended() {
    let ns = NetNs::new("stop");
    let mut command = ns.command("sleep");
    command.arg("600");
    let mut sleeper = Peer::spawn("sleep", command);
    assert_eq!(sleeper.try_status(), None);
    let status = sleeper.terminate();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(15),
        "SIGTERM ended it: {status}"
    );
    assert!(!process_exists(sleeper.pid().as_raw()));
}
