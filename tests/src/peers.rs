//! The independent PPPoE peers, started inside a test's namespace with the set-ups that work
//! on this kind of machine: rp-pppoe's `pppoe-server` and `pppoe`, and l2tpns.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rswan_pppoe::MacAddr;

use crate::lwip::{Auth, LwipOptions};
use crate::netns::{NetNs, parse_mac};
use crate::process::{Peer, run};
use crate::radius::{Account, RadiusServer};

/// Time a peer gets to open its sockets (l2tpns also holds a ~3 s cluster election).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

static NEXT_SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// A directory for one test's peer files (configs, pid files), removed when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    pub fn new(tag: &str) -> ScratchDir {
        let n = NEXT_SCRATCH.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rswan-e2e-{}-{n}-{tag}", std::process::id()));
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        ScratchDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Waits until a process in `ns` has a packet socket for `ethertype` (how a PPPoE peer shows
/// it listens; the kernel lists them in the namespace's /proc/net/packet).
pub fn wait_for_packet_socket(ns: &NetNs, ethertype: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let wanted = format!("{ethertype:04x}");
    loop {
        // thread-self: /proc/self/net would show the namespace of the process, not the thread.
        let table = ns.enter(|| fs::read_to_string("/proc/thread-self/net/packet"));
        let table = table.map_err(|e| format!("read /proc/net/packet in {}: {e}", ns.name()))?;
        let listening = table
            .lines()
            .skip(1)
            .any(|line| line.split_whitespace().nth(3) == Some(wanted.as_str()));
        if listening {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no packet socket for ethertype {wanted} in {} after {timeout:?}",
                ns.name()
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// rp-pppoe's access concentrator: `pppoe-server -F -I <if> -C <ac> -S <service>`. After a
/// PADS it starts pppd, which cannot run here (no kernel PPP), and then sends PADT with
/// Generic-Error "RP-PPPoE: Child pppd process terminated".
pub fn pppoe_server(ns: &NetNs, interface: &str, ac_name: &str, service: &str) -> Peer {
    start_pppoe_server(ns, pppoe_server_command(ns, interface, ac_name, service))
}

fn pppoe_server_command(ns: &NetNs, interface: &str, ac_name: &str, service: &str) -> Command {
    let mut command = ns.command("pppoe-server");
    command.args(["-F", "-I", interface, "-C", ac_name, "-S", service]);
    command
}

fn start_pppoe_server(ns: &NetNs, command: Command) -> Peer {
    let server = Peer::spawn("pppoe-server", command);
    if let Err(e) = wait_for_packet_socket(ns, 0x8863, STARTUP_TIMEOUT) {
        panic!("pppoe-server did not start: {e}\n{}", server.output());
    }
    server
}

/// rp-pppoe's access concentrator with lwIP's PPP behind every session it opens, in place of
/// the pppd that cannot run here.
#[derive(Debug)]
pub struct RpPppoeSite {
    pub server: Peer,
    lwip_log: PathBuf,
    /// The script pppoe-server runs and the logs, removed after pppoe-server is gone.
    _scratch: ScratchDir,
}

impl RpPppoeSite {
    /// What lwIP behind rp-pppoe reported (its `PHASE`, `IPCP up` lines), or nothing when
    /// no session started it.
    pub fn lwip_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.lwip_log)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// [`pppoe_server`] with `-q <script>`: for each session pppoe-server runs the script in
/// pppd's place, as `<script> pty '<pppoe -e command>' <pppd options>`; the script runs that
/// relay (rp-pppoe's async `pppoe -e`, as [`pppoe_relay`]) with lwIP, started from `lwip`,
/// on its stdin and stdout through a FIFO, lwIP's report going to a log. lwIP negotiates
/// neither ACFC nor an ACCM, for rp-pppoe's sake ([`lwip_behind_pppoe_relay`] says why).
pub fn pppoe_server_with_lwip(
    ns: &NetNs,
    interface: &str,
    ac_name: &str,
    service: &str,
    lwip: &LwipOptions,
) -> RpPppoeSite {
    let scratch = ScratchDir::new("pppoe-server");
    let dir = scratch.path();
    let lwip = LwipOptions {
        no_acfc: true,
        no_accm: true,
        ..lwip.clone()
    };
    let lwip = lwip.command();
    let lwip_command: Vec<String> = std::iter::once(lwip.get_program())
        .chain(lwip.get_args())
        .map(shell_quoted)
        .collect();
    let lwip_log = dir.join("lwip.log");
    let script = format!(
        "#!/bin/sh\n\
         # pppoe-server's pppd: $2 is the command that relays the session.\n\
         fifo={fifo}-$$\n\
         mkfifo \"$fifo\" || exit 1\n\
         sh -c \"$2\" <\"$fifo\" 2>>{relay_log} | {lwip} >\"$fifo\" 2>>{lwip_log}\n",
        fifo = shell_quoted(dir.join("session").as_os_str()),
        relay_log = shell_quoted(dir.join("pppoe-e.log").as_os_str()),
        lwip = lwip_command.join(" "),
        lwip_log = shell_quoted(lwip_log.as_os_str()),
    );
    let script_path = dir.join("session.sh");
    fs::write(&script_path, script).expect("write pppoe-server's session script");
    fs::set_permissions(&script_path, fs::Permissions::from_mode(0o755))
        .expect("make pppoe-server's session script executable");
    let mut command = pppoe_server_command(ns, interface, ac_name, service);
    command.arg("-q").arg(&script_path);
    RpPppoeSite {
        server: start_pppoe_server(ns, command),
        lwip_log,
        _scratch: scratch,
    }
}

/// `text` as one word for sh.
fn shell_quoted(text: &OsStr) -> String {
    format!("'{}'", text.to_string_lossy().replace('\'', r"'\''"))
}

/// The session that rp-pppoe's `pppoe -d` discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovered {
    pub session_id: u16,
    pub ac_mac: MacAddr,
}

/// Runs rp-pppoe's client in discovery-only mode (`pppoe -I <if> -d`) and parses the
/// `SESSION:AC-MAC` it prints. It prints session 0 and exits 0 when nobody answers: that is
/// an error here.
pub fn pppoe_discover(
    ns: &NetNs,
    interface: &str,
    timeout: Duration,
) -> Result<Discovered, String> {
    let mut command = ns.command("pppoe");
    // -t 2: a 2 s first PADI timeout instead of 5 s.
    command.args(["-I", interface, "-d", "-t", "2"]);
    let output = run(&mut command, timeout).map_err(|e| format!("pppoe -d: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let parsed = stdout.lines().find_map(parse_session_line);
    match parsed {
        Some(d) if d.session_id != 0 && output.status.success() => Ok(d),
        _ => Err(format!(
            "pppoe -d found no session ({}): stdout {stdout:?}, stderr {stderr:?}",
            output.status
        )),
    }
}

/// Parses rp-pppoe's `SESSION:MAC` (decimal session id, MAC with colons).
fn parse_session_line(line: &str) -> Option<Discovered> {
    let (session, mac) = line.trim().split_once(':')?;
    Some(Discovered {
        session_id: session.parse().ok()?,
        ac_mac: MacAddr(parse_mac(mac)?),
    })
}

/// rp-pppoe's client relaying an existing session in async mode (`pppoe -I <if> -e
/// SESSION:MAC`): its stdin and stdout carry PPP in RFC 1662 framing. Closing its stdin makes
/// it send PADT.
pub fn pppoe_relay(
    ns: &NetNs,
    interface: &str,
    session: Discovered,
    stdin: Stdio,
    stdout: Stdio,
) -> Peer {
    let mac = session.ac_mac.0.map(|b| format!("{b:02x}")).join(":");
    let mut command = ns.command("pppoe");
    command.args([
        "-I",
        interface,
        "-e",
        &format!("{}:{mac}", session.session_id),
    ]);
    Peer::spawn_with_stdio("pppoe -e", command, stdin, stdout)
}

/// rp-pppoe's async relay of `session` (`pppoe -e`) with lwIP's PPP, started from `lwip`,
/// on its stdin and stdout. Returns `pppoe -e` and lwIP. rp-pppoe takes the first two bytes
/// of a frame for Address and Control, and drops the protocol field too when Control (0x03)
/// is not escaped: so lwIP negotiates neither ACFC nor an ACCM.
pub fn lwip_behind_pppoe_relay(
    ns: &NetNs,
    interface: &str,
    session: Discovered,
    lwip: &LwipOptions,
    label: &str,
) -> io::Result<(Peer, Peer)> {
    let (lwip_reads, pppoe_writes) = io::pipe()?;
    let (pppoe_reads, lwip_writes) = io::pipe()?;
    let pppoe = pppoe_relay(
        ns,
        interface,
        session,
        pppoe_reads.into(),
        pppoe_writes.into(),
    );
    let options = LwipOptions {
        no_acfc: true,
        no_accm: true,
        ..lwip.clone()
    };
    let lwip = options.spawn(label, lwip_reads.into(), lwip_writes.into());
    Ok((pppoe, lwip))
}

/// How l2tpns authenticates PPP (its `radius_authtypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2tpnsAuth {
    Pap,
    Chap,
}

/// l2tpns as a PPPoE access concentrator on `interface`, with its log on stderr. It asks
/// RADIUS on 127.0.0.1 (start a [`crate::radius::RadiusServer`] in the same namespace) with
/// secret `radius_secret`, gives addresses from Debian's /etc/l2tpns/ip_pool (10.10.10.0/24
/// first), calls itself 10.10.10.254 and announces DNS 10.0.0.53. Returns once it has won its
/// cluster election (before that it ignores PADI).
pub fn l2tpns(
    ns: &NetNs,
    interface: &str,
    auth: L2tpnsAuth,
    radius_secret: &str,
    scratch: &ScratchDir,
) -> Peer {
    let dir = scratch.path();
    let config = format!(
        r#"set debug 3
set log_file "/dev/stderr"
set pid_file "{pid}"
set primary_dns 10.0.0.53
set primary_radius 127.0.0.1
set radius_secret "{radius_secret}"
set radius_authtypes "{auth}"
set radius_accounting no
set bind_address 127.0.0.1
set cli_bind_address 127.0.0.1
set peer_address 10.10.10.254
set pppoe_if_to_bind "{interface}"
set pppoe_service_name "TestSvc"
set pppoe_ac_name "l2tpnsAC"
set cluster_interface "lo"
set cluster_hb_timeout 20
set send_garp no
"#,
        pid = dir.join("l2tpns.pid").display(),
        auth = match auth {
            L2tpnsAuth::Pap => "pap",
            L2tpnsAuth::Chap => "chap",
        },
    );
    let config_path = dir.join("l2tpns.cfg");
    fs::write(&config_path, config).expect("write the l2tpns config");
    let mut command = ns.command("l2tpns");
    command.arg("-c").arg(&config_path);
    let server = Peer::spawn("l2tpns", command);
    server
        .wait_for("I am declaring myself the master!", STARTUP_TIMEOUT)
        .unwrap_or_else(|e| panic!("l2tpns did not start: {e}"));
    server
}

impl From<Auth> for L2tpnsAuth {
    /// What l2tpns asks for when lwIP's client accepts only `auth`.
    fn from(auth: Auth) -> L2tpnsAuth {
        match auth {
            Auth::Pap => L2tpnsAuth::Pap,
            Auth::Chap => L2tpnsAuth::Chap,
        }
    }
}

/// The secret l2tpns and the RADIUS responder beside it share.
const RADIUS_SECRET: &str = "secret";

/// l2tpns with a RADIUS responder beside it in its namespace, which accepts one account.
#[derive(Debug)]
pub struct L2tpnsSite {
    pub radius: RadiusServer,
    pub l2tpns: Peer,
    /// l2tpns's config and pid file, removed after l2tpns is gone.
    _scratch: ScratchDir,
}

/// Starts the RADIUS responder for `user`/`password`, then [`l2tpns`], in `ns` on `interface`.
pub fn l2tpns_with_radius(
    ns: &NetNs,
    interface: &str,
    auth: L2tpnsAuth,
    user: &str,
    password: &str,
) -> L2tpnsSite {
    let radius = RadiusServer::start(
        ns,
        Account {
            secret: RADIUS_SECRET.into(),
            user: user.into(),
            password: password.into(),
        },
    );
    let scratch = ScratchDir::new("l2tpns");
    let l2tpns = l2tpns(ns, interface, auth, RADIUS_SECRET, &scratch);
    L2tpnsSite {
        radius,
        l2tpns,
        _scratch: scratch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rp_pppoe_session_line_parses() {
        assert_eq!(
            parse_session_line("4660:02:00:00:00:00:01\n"),
            Some(Discovered {
                session_id: 4660,
                ac_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            })
        );
        assert_eq!(parse_session_line("PPPoE: Timeout waiting for PADO"), None);
    }
}
