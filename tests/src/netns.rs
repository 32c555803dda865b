//! Network namespaces and veth pairs that a test creates for itself and that are deleted when
//! dropped (also while a test panics). IPv6 is off in every namespace, so the only traffic is
//! what the test sends.

use std::fs::{self, File};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::process::{COMMAND_TIMEOUT, run, run_checked, tool};

/// Every namespace name starts with this, then the pid of the test process that made it.
const NAME_PREFIX: &str = "rswan-e2e-";
/// Where `ip netns` keeps the namespace handles.
const NETNS_DIR: &str = "/run/netns";

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
static REMOVE_STALE: Once = Once::new();

/// A network namespace named `rswan-e2e-<pid>-<n>-<tag>`, unique across parallel tests and
/// test processes.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates the namespace with loopback up and IPv6 disabled.
    pub fn new(tag: &str) -> NetNs {
        REMOVE_STALE.call_once(remove_stale_namespaces);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("{NAME_PREFIX}{}-{id}-{tag}", std::process::id());
        run_checked(Command::new(tool("ip")).args(["netns", "add", &name]));
        let ns = NetNs { name };
        ns.enter(disable_ipv6);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` (found with [`tool`] when it is a bare name) inside the
    /// namespace.
    pub fn command(&self, program: &str) -> Command {
        let program = if program.contains('/') {
            program.into()
        } else {
            tool(program)
        };
        let mut command = Command::new(tool("ip"));
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Runs `ip -n <ns> <args>` and returns its output; panics if it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        run_checked(Command::new(tool("ip")).args(["-n", &self.name]).args(args))
    }

    /// Runs `f` on a thread that has entered the namespace. Sockets opened there stay in the
    /// namespace and can then be used from any thread.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let handle = File::open(format!("{NETNS_DIR}/{}", self.name))
            .unwrap_or_else(|e| panic!("open namespace {}: {e}", self.name));
        thread::scope(|scope| {
            scope
                .spawn(move || {
                    setns(&handle, CloneFlags::CLONE_NEWNET)
                        .unwrap_or_else(|e| panic!("enter a network namespace: {e}"));
                    f()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// The MAC address of an interface in the namespace.
    pub fn mac(&self, interface: &str) -> [u8; 6] {
        // Not from /sys/class/net: sysfs shows the namespace it was mounted in.
        let text = self.ip(&["-o", "link", "show", "dev", interface]);
        text.split_whitespace()
            .skip_while(|word| *word != "link/ether")
            .nth(1)
            .and_then(parse_mac)
            .unwrap_or_else(|| panic!("no MAC address in {text:?}"))
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        delete_namespace(&self.name);
    }
}

/// A veth pair joining two namespaces, both ends up. It is deleted with the namespaces.
#[derive(Debug, Clone)]
pub struct Veth {
    pub a: String,
    pub b: String,
}

impl Veth {
    /// Creates interface `a` in namespace `ns_a`, joined to interface `b` in `ns_b`.
    pub fn new(ns_a: &NetNs, a: &str, ns_b: &NetNs, b: &str) -> Veth {
        assert!(
            a.len() <= 15 && b.len() <= 15,
            "interface names have at most 15 bytes"
        );
        run_checked(Command::new(tool("ip")).args([
            "link", "add", a, "netns", &ns_a.name, "type", "veth", "peer", "name", b, "netns",
            &ns_b.name,
        ]));
        ns_a.ip(&["link", "set", a, "up"]);
        ns_b.ip(&["link", "set", b, "up"]);
        Veth {
            a: a.to_owned(),
            b: b.to_owned(),
        }
    }
}

/// The usual set-up: a client namespace and a server namespace joined by a veth pair
/// (`veth-c` in the client, `veth-s` in the server).
#[derive(Debug)]
pub struct TestNet {
    pub client: NetNs,
    pub server: NetNs,
    pub client_if: String,
    pub server_if: String,
}

impl TestNet {
    pub fn new() -> TestNet {
        let client = NetNs::new("c");
        let server = NetNs::new("s");
        let veth = Veth::new(&client, "veth-c", &server, "veth-s");
        TestNet {
            client,
            server,
            client_if: veth.a,
            server_if: veth.b,
        }
    }
}

impl Default for TestNet {
    fn default() -> Self {
        TestNet::new()
    }
}

/// A client namespace with two Ethernet interfaces, each a veth pair to its own server
/// namespace (`veth-c1` and `veth-c2` in the client, `veth-s` in each server): a machine with
/// two adapters, an access concentrator's wire behind each.
#[derive(Debug)]
pub struct TwoServerNet {
    pub client: NetNs,
    pub links: [Link; 2],
}

/// One wire of a [`TwoServerNet`].
#[derive(Debug)]
pub struct Link {
    pub server: NetNs,
    pub client_if: String,
    pub server_if: String,
}

impl TwoServerNet {
    pub fn new() -> TwoServerNet {
        let client = NetNs::new("c");
        let links = ["1", "2"].map(|n| {
            let server = NetNs::new(&format!("s{n}"));
            let veth = Veth::new(&client, &format!("veth-c{n}"), &server, "veth-s");
            Link {
                server,
                client_if: veth.a,
                server_if: veth.b,
            }
        });
        TwoServerNet { client, links }
    }
}

impl Default for TwoServerNet {
    fn default() -> Self {
        TwoServerNet::new()
    }
}

fn disable_ipv6() {
    for scope in ["all", "default", "lo"] {
        let path = format!("/proc/sys/net/ipv6/conf/{scope}/disable_ipv6");
        fs::write(&path, "1").unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Kills what still runs in the namespace, then deletes it (and its interfaces). Never panics:
/// it runs in `Drop`.
fn delete_namespace(name: &str) {
    let ip = tool("ip");
    if let Ok(output) = run(
        Command::new(&ip).args(["netns", "pids", name]),
        COMMAND_TIMEOUT,
    ) {
        for pid in String::from_utf8_lossy(&output.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
    match run(
        Command::new(&ip).args(["netns", "del", name]),
        COMMAND_TIMEOUT,
    ) {
        Ok(output) if output.status.success() => {}
        Ok(output) => eprintln!(
            "deleting namespace {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => eprintln!("deleting namespace {name} failed: {e}"),
    }
}

/// Deletes namespaces left by test processes that died without cleaning up (SIGKILL, a
/// timeout of the whole run). Namespaces of live processes (parallel runs) are left alone.
fn remove_stale_namespaces() {
    let Ok(entries) = fs::read_dir(NETNS_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(NAME_PREFIX) else {
            continue;
        };
        let owner = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if owner.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            delete_namespace(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_mac;

    #[test]
    fn mac_text_parses() {
        assert_eq!(
            parse_mac("02:00:ab:10:ff:01"),
            Some([0x02, 0, 0xab, 0x10, 0xff, 1])
        );
        assert_eq!(parse_mac("02:00:ab:10:ff"), None);
        assert_eq!(parse_mac("02:00:ab:10:ff:01:02"), None);
        assert_eq!(parse_mac("zz:00:ab:10:ff:01"), None);
    }
}
