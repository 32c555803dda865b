//! The real rswan.sys, loaded in rswan-host, against real peers over a veth pair between two
//! namespaces: it dials l2tpns (with the RADIUS responder) and answers rp-pppoe's client, with
//! lwIP's PPP standing where RAS stands on Windows, behind NDISWAN on the driver's VC
//! ([`crate::ras`]). The scenario child runs in the driver's namespace (its adapter is an
//! AF_PACKET socket on the veth end there).
//!
//! The end-to-end tests and the `rswan-link` program (`cargo xtask dial` / `answer`) both run
//! calls through here.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rswan_host::child::{self, Outcome};
use rswan_host::report::Ending;

use crate::capture::{Capture, CaptureFile};
use crate::lwip::{Auth, IpcpUp, LwipOptions, ServerAddresses, last_phase};
use crate::netns::{NetNs, TestNet};
use crate::peers::{
    Discovered, ScratchDir, l2tpns_with_radius, lwip_behind_pppoe_relay, pppoe_discover,
};
use crate::process::{Peer, tool};
use crate::radius::Decision;
use crate::ras::{Carried, RasSocket, relay};

/// The account RADIUS (beside l2tpns) and lwIP's authenticator (behind the answering driver)
/// accept.
pub const USER: &str = "rswan";
pub const PASSWORD: &str = "s3cret";
/// The service l2tpns offers and the driver dials (RAS's "phone number" of a PPPoE entry).
pub const L2TPNS_SERVICE: &str = "TestSvc";
/// l2tpns's own address on every session (its `peer_address`, crate::peers::l2tpns).
pub const L2TPNS_ADDRESS: &str = "10.10.10.254";
/// Addresses lwIP's authenticator behind the answering driver hands out.
pub const ANSWER_LOCAL: &str = "10.64.0.1";
pub const ANSWER_PEER: &str = "10.64.0.2";
pub const ANSWER_DNS: &str = "10.64.0.53";
/// How long a call may stay up in the scenario child, and how long each wait here lasts.
const HOLD: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(40);

/// The driver image and the binary that runs scenarios on it (rswan-host's runner).
#[derive(Debug, Clone)]
pub struct Driver {
    pub runner: PathBuf,
    pub image: PathBuf,
}

/// Where a call's scenario child runs.
#[derive(Debug, Clone)]
pub enum Machine {
    /// The runner runs natively on this machine (the x64 image).
    Native(Driver),
    /// The ARM64 image at this path, in rswan-host's aarch64 runner under qemu-aarch64
    /// (rswan_host::qemu).
    Arm64Emulated(PathBuf),
}

impl From<&Driver> for Machine {
    fn from(driver: &Driver) -> Self {
        Self::Native(driver.clone())
    }
}

/// What to dial l2tpns with.
#[derive(Debug, Clone)]
pub struct DialOptions {
    pub auth: Auth,
    pub password: String,
    /// ICMP echo replies lwIP waits for from l2tpns once IPCP is up.
    pub pings: u32,
    /// The capture's name (the test's), or `None` for no capture.
    pub capture: Option<String>,
}

/// One call through the loaded driver.
#[derive(Debug)]
pub struct Call {
    /// The scenario child's report: `pppoe.session`, `ras.end`, the verifier's checks.
    pub child: Outcome,
    /// lwIP's PPP behind NDISWAN (RAS), with its `PHASE` and `IPCP up` lines.
    pub ras: Peer,
    /// What crossed NDISWAN's socket, or why the relay failed.
    pub carried: Result<Carried, String>,
    pub capture: Option<CaptureFile>,
}

impl Call {
    /// The PPPoE session id the child saw in the PADS.
    pub fn session(&self) -> Option<&str> {
        self.child.report.observation("pppoe.session")
    }

    /// Every PPP phase RAS's lwIP went through, in order.
    pub fn phases(&self) -> Vec<String> {
        self.ras
            .lines()
            .iter()
            .filter_map(|l| l.strip_prefix("PHASE ").map(str::to_owned))
            .collect()
    }

    /// RAS's IPCP addresses, once IPCP was up.
    pub fn ipcp(&self) -> Option<IpcpUp> {
        self.ras.lines().iter().find_map(|l| IpcpUp::parse(l))
    }

    /// Why the call is not a whole one (the child passed its checks, RAS reached IPCP), for
    /// a person.
    pub fn verdict(&self) -> Result<(), String> {
        if self.child.report.ending != Ending::Ok {
            return Err(format!(
                "the loaded driver's scenario failed: {}",
                self.child.describe()
            ));
        }
        if let Err(e) = &self.carried {
            return Err(format!("RAS's relay failed: {e}"));
        }
        if self.ipcp().is_none() {
            let end = self
                .child
                .report
                .observation("ras.end")
                .unwrap_or("unknown");
            return Err(format!(
                "PPP never reached IPCP: {end} in PPP phase {}{}",
                last_phase(&self.ras).unwrap_or_else(|| "none".into()),
                if self.ras.lines().iter().any(|l| l == "AUTH FAIL") {
                    " (authentication failed)"
                } else {
                    ""
                }
            ));
        }
        Ok(())
    }
}

/// lwIP's `PING reply from=... seq=...` lines.
pub fn echo_replies(lwip: &Peer) -> Vec<String> {
    lwip.lines()
        .into_iter()
        .filter(|l| l.starts_with("PING reply "))
        .collect()
}

/// Whether `pings` echo replies reached `lwip`.
fn check_echoes(lwip: &Peer, pings: u32) -> Result<(), String> {
    let replies = echo_replies(lwip).len();
    if replies < pings as usize {
        return Err(format!(
            "{replies} of {pings} ICMP echo replies came back through the link"
        ));
    }
    Ok(())
}

/// A dial of l2tpns.
#[derive(Debug)]
pub struct DialRun {
    pub call: Call,
    /// What the RADIUS responder decided, in order.
    pub decisions: Vec<Decision>,
    pings: u32,
}

impl DialRun {
    /// Why the dial is not a whole one (see [`Call::verdict`]; RAS's pings answered too).
    pub fn verdict(&self) -> Result<(), String> {
        self.call.verdict()?;
        check_echoes(&self.call.ras, self.pings)
    }
}

/// The loaded driver dials l2tpns (PPPoE, then PAP or CHAP checked by RADIUS, then IPCP)
/// with lwIP's client as RAS; lwIP pings l2tpns `options.pings` times and hangs up once IPCP
/// is up, or the call ends when l2tpns hangs up (a refused login).
pub fn dial_l2tpns(driver: impl Into<Machine>, options: &DialOptions) -> Result<DialRun, String> {
    let net = TestNet::new();
    let site = l2tpns_with_radius(
        &net.server,
        &net.server_if,
        options.auth.into(),
        USER,
        PASSWORD,
    );
    // l2tpns hands a session's IP packets to its namespace's kernel through its tun device;
    // the kernel answers an echo to l2tpns's address once the namespace owns that address.
    net.server
        .ip(&["addr", "add", &format!("{L2TPNS_ADDRESS}/32"), "dev", "lo"]);
    let capture = options
        .capture
        .as_ref()
        .map(|name| Capture::start(&net.client, &net.client_if, name));
    let (child, stream) = start_call(
        driver.into(),
        &net.client,
        "dial-ras",
        &[&net.client_if, L2TPNS_SERVICE],
    )?;
    let lwip = LwipOptions {
        ping: options.pings,
        hangup: true,
        ..LwipOptions::client(USER, &options.password, options.auth)
    };
    let (ras, pipe) = lwip.spawn_framed("lwip (RAS, client)");
    let carried = relay(stream, pipe, TIMEOUT);
    let child = join_child(child);
    Ok(DialRun {
        call: Call {
            child,
            ras,
            carried,
            capture: capture.map(Capture::finish),
        },
        decisions: site.radius.decisions(),
        pings: options.pings,
    })
}

/// A call rp-pppoe's client made to the loaded driver.
#[derive(Debug)]
pub struct AnswerRun {
    pub call: Call,
    /// What rp-pppoe's discovery (`pppoe -d`) got from the driver's access concentrator.
    pub discovered: Discovered,
    /// lwIP's client behind rp-pppoe's async relay.
    pub client: Peer,
    /// rp-pppoe's `pppoe -e`.
    pub pppoe: Peer,
    pings: u32,
}

impl AnswerRun {
    /// Why the call is not a whole one (see [`Call::verdict`]; the client's pings answered
    /// by RAS too).
    pub fn verdict(&self) -> Result<(), String> {
        self.call.verdict()?;
        check_echoes(&self.client, self.pings)
    }
}

/// rp-pppoe's client dials the loaded driver, whose access concentrator answers on its
/// interface and whose call NDPROXY accepts; lwIP's authenticator (CHAP) stands behind
/// NDISWAN as RAS, lwIP's client behind rp-pppoe. The client pings the authenticator `pings`
/// times and hangs up: rp-pppoe sends PADT.
pub fn answer_rp_pppoe(
    driver: impl Into<Machine>,
    pings: u32,
    capture: Option<&str>,
) -> Result<AnswerRun, String> {
    let net = TestNet::new();
    let capture = capture.map(|name| Capture::start(&net.server, &net.server_if, name));
    let (child, stream) = start_call(driver.into(), &net.server, "answer-ras", &[&net.server_if])?;
    let server = LwipOptions::server(
        USER,
        PASSWORD,
        Auth::Chap,
        ServerAddresses {
            local: ANSWER_LOCAL.into(),
            peer: ANSWER_PEER.into(),
            dns: ANSWER_DNS.into(),
        },
    );
    let (ras, framed) = server.spawn_framed("lwip (RAS, authenticator)");
    let relay_thread = thread::spawn(move || relay(stream, framed, TIMEOUT));

    let discovered = match pppoe_discover(&net.client, &net.client_if, TIMEOUT) {
        Ok(discovered) => discovered,
        Err(e) => return Err(format!("{e}: {}", join_child(child).describe())),
    };
    let client = LwipOptions {
        ping: pings,
        hangup: true,
        ..LwipOptions::client(USER, PASSWORD, Auth::Chap)
    };
    let (mut pppoe, mut client) = lwip_behind_pppoe_relay(
        &net.client,
        &net.client_if,
        discovered,
        &client,
        "lwip client (behind rp-pppoe)",
    )
    .map_err(|e| format!("pipes for rp-pppoe and lwIP: {e}"))?;
    // Its link over, lwIP exits; rp-pppoe, its stdin closed, sends PADT and exits.
    let client_ended = client.wait_exit(TIMEOUT).is_some();
    let pppoe_ended = pppoe.wait_exit(TIMEOUT).is_some();
    let carried = relay_thread
        .join()
        .unwrap_or_else(|_| Err("the relay thread panicked".into()));
    let child = join_child(child);
    if !client_ended || !pppoe_ended {
        return Err(format!(
            "the client side did not hang up within {TIMEOUT:?} (lwIP exited: {client_ended}, \
             pppoe -e exited: {pppoe_ended}); the driver's side: {}; lwIP client:\n{}",
            child.describe(),
            client.output()
        ));
    }
    Ok(AnswerRun {
        call: Call {
            child,
            ras,
            carried,
            capture: capture.map(Capture::finish),
        },
        discovered,
        client,
        pppoe,
        pings,
    })
}

/// Starts `scenario` on the driver in `ns` on a thread (the runner reports when it ends),
/// with `args` followed by RAS's socket and the hold time, and waits until the scenario has
/// connected to RAS: it then is ready for the call.
fn start_call(
    machine: Machine,
    ns: &NetNs,
    scenario: &str,
    args: &[&str],
) -> Result<(JoinHandle<Outcome>, UnixStream), String> {
    let scratch = ScratchDir::new(scenario);
    let socket = RasSocket::bind(scratch.path())?;
    let ip = tool("ip").to_string_lossy().into_owned();
    let wrapper = [ip, "netns".into(), "exec".into(), ns.name().to_owned()];
    let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    args.push(socket.path().to_string_lossy().into_owned());
    args.push(HOLD.as_secs().to_string());
    // The aarch64 runner is built here, so a missing tool is this call's error.
    if let Machine::Arm64Emulated(_) = machine {
        rswan_host::qemu::runner()?;
    }
    let scenario = scenario.to_owned();
    let child = thread::spawn(move || {
        let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match machine {
            Machine::Native(driver) => {
                child::run_in(&wrapper, &driver.runner, &scenario, &driver.image, &args)
            }
            Machine::Arm64Emulated(image) => {
                rswan_host::qemu::run_in(&wrapper, &scenario, &image, &args)
                    .unwrap_or_else(|e| panic!("cannot run the ARM64 image: {e}"))
            }
        }
    });
    match socket.accept(TIMEOUT, || child.is_finished()) {
        Ok(stream) => Ok((child, stream)),
        Err(e) => Err(format!("{e}: {}", join_child(child).describe())),
    }
}

fn join_child(child: JoinHandle<Outcome>) -> Outcome {
    child
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
