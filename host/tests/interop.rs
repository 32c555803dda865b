//! The real rswan.sys, loaded in the host, against an independent PPPoE peer: rp-pppoe's
//! access concentrator (`pppoe-server`) in its own network namespace, at the other end of a
//! veth pair whose near end the host's AF_PACKET adapter drives. Traffic stays on that veth
//! (IPv6 off on both ends). rp-pppoe's pppd child cannot run here (no kernel PPP), so the AC
//! ends the session with a PADT, which the driver must turn into a remote close
//! (NdisCmDispatchIncomingCloseCall) that NDPROXY then completes.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rswan_host::child;

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

/// Runs a command, failing the test with its output if it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running {program}: {e} (install iproute2 and rp-pppoe: apt-get install -y iproute2 rp-pppoe)")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two namespaces joined by a veth pair, removed on drop.
struct Link {
    near_ns: String,
    far_ns: String,
    near_if: String,
    far_if: String,
}

impl Link {
    fn new(tag: &str) -> Self {
        let id = std::process::id() % 100_000;
        let link = Link {
            near_ns: format!("rswh-{tag}-{id}-n"),
            far_ns: format!("rswh-{tag}-{id}-f"),
            near_if: format!("rsn{id}"),
            far_if: format!("rsf{id}"),
        };
        for ns in [&link.near_ns, &link.far_ns] {
            run("ip", &["netns", "add", ns]);
        }
        run(
            "ip",
            &[
                "link",
                "add",
                &link.near_if,
                "type",
                "veth",
                "peer",
                "name",
                &link.far_if,
            ],
        );
        for (interface, ns) in [(&link.near_if, &link.near_ns), (&link.far_if, &link.far_ns)] {
            run("ip", &["link", "set", interface, "netns", ns]);
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                ],
            );
            run(
                "ip",
                &["netns", "exec", ns, "ip", "link", "set", interface, "up"],
            );
        }
        link
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for ns in [&self.near_ns, &self.far_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A process killed on drop.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until a socket for the PPPoE discovery ethertype is open in `ns` (the AC listens).
fn wait_for_discovery_socket(ns: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let output = Command::new("ip")
            .args(["netns", "exec", ns, "cat", "/proc/net/packet"])
            .output()
            .expect("reading /proc/net/packet");
        // The Proto column holds the ethertype in hex, as the kernel prints it.
        if String::from_utf8_lossy(&output.stdout).contains("8863") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("pppoe-server opened no PPPoE discovery socket in {ns} within 10 s");
}

#[test]
fn the_loaded_driver_dials_rp_pppoe_server_over_a_veth_and_handles_its_padt() {
    let image = rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"));
    let link = Link::new("rp");
    let server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &link.far_ns,
            "pppoe-server",
            "-F",
            "-I",
            &link.far_if,
            "-C",
            "TestAC",
            "-S",
            "isp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting pppoe-server: {e} (apt-get install -y rp-pppoe)"));
    let _server = Peer(server);
    wait_for_discovery_socket(&link.far_ns);

    // The runner itself runs in the near namespace, where the veth end is.
    let outcome = child::run_in(
        &["ip", "netns", "exec", &link.near_ns],
        Path::new(RUNNER),
        "dial-interface",
        &image,
        &[&link.near_if, "isp", "10"],
    );
    outcome.expect_ok();
    assert_eq!(outcome.observation("call.connected"), link.near_if);
    // The AC's PADT reached the driver as a remote close with a success status.
    assert_eq!(outcome.observation("call.remote_close"), "0x00000000");
}
