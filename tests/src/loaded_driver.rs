//! The real rswan.sys, loaded in rswan-host, against real peers over veth pairs between
//! namespaces: it dials l2tpns (with the RADIUS responder), over one adapter or searching two
//! (rp-pppoe's access concentrator behind the other), and answers rp-pppoe's client, with
//! lwIP's PPP standing where RAS stands on Windows, behind NDISWAN on the driver's VC
//! ([`crate::ras`]). The scenario child runs in the driver's namespace (each adapter is an
//! AF_PACKET socket on a veth end there).
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
use crate::netns::{NetNs, TestNet, TwoServerNet};
use crate::peers::{
    Discovered, L2tpnsSite, RpPppoeSite, ScratchDir, l2tpns_with_radius, lwip_behind_pppoe_relay,
    pppoe_discover, pppoe_server_with_lwip,
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
/// Addresses lwIP's authenticator hands out (as RAS behind the answering driver, or behind
/// rp-pppoe's access concentrator).
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
    let site = l2tpns_site(&net.server, &net.server_if, options.auth);
    let capture = options
        .capture
        .as_ref()
        .map(|name| Capture::start(&net.client, &net.client_if, name));
    let (child, ras, carried) =
        dial_as_ras(driver.into(), &net.client, &[&net.client_if], options)?;
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

/// l2tpns with RADIUS accepting [`USER`] and [`PASSWORD`] on `interface` of `ns`, which owns
/// l2tpns's address: l2tpns hands a session's IP packets to the namespace's kernel through
/// its tun device, and the kernel answers an echo to that address.
fn l2tpns_site(ns: &NetNs, interface: &str, auth: Auth) -> L2tpnsSite {
    let site = l2tpns_with_radius(ns, interface, auth.into(), USER, PASSWORD);
    ns.ip(&["addr", "add", &format!("{L2TPNS_ADDRESS}/32"), "dev", "lo"]);
    site
}

/// The loaded driver in `ns`, bound to `interfaces`, dials [`L2TPNS_SERVICE`] with lwIP's
/// client as RAS (pinging its peer `options.pings` times, then hanging up); returns the
/// scenario child's outcome, RAS, and what crossed NDISWAN's socket.
fn dial_as_ras(
    machine: Machine,
    ns: &NetNs,
    interfaces: &[&str],
    options: &DialOptions,
) -> Result<(Outcome, Peer, Result<Carried, String>), String> {
    let mut args = interfaces.to_vec();
    args.push(L2TPNS_SERVICE);
    let (child, stream) = start_call(machine, ns, "dial-ras", &args)?;
    let lwip = LwipOptions {
        ping: options.pings,
        hangup: true,
        ..LwipOptions::client(USER, &options.password, options.auth)
    };
    let (ras, pipe) = lwip.spawn_framed("lwip (RAS, client)");
    let carried = relay(stream, pipe, TIMEOUT);
    Ok((join_child(child), ras, carried))
}

/// A dial that searched two Ethernet adapters: rp-pppoe's access concentrator behind the
/// first, l2tpns behind the second.
#[derive(Debug)]
pub struct SearchRun {
    /// The call (its `capture` is `None`: see `captures`); the decisions are those of
    /// l2tpns's RADIUS responder.
    pub dial: DialRun,
    /// The driver's interfaces, first and second.
    pub interfaces: [String; 2],
    /// The captures on the first and the second interface.
    pub captures: Option<[CaptureFile; 2]>,
    /// rp-pppoe's access concentrator, and lwIP's authenticator behind it.
    pub rp_pppoe: RpPppoeSite,
}

impl SearchRun {
    /// The index of the interface the call came up on (the one its PADS crossed).
    pub fn chosen(&self) -> Result<usize, String> {
        let connected = self
            .dial
            .call
            .child
            .report
            .observation("call.connected")
            .ok_or("the scenario child reported no connected interface")?;
        self.interfaces
            .iter()
            .position(|i| i == connected)
            .ok_or_else(|| format!("connected on {connected}, none of {:?}", self.interfaces))
    }
}

/// The loaded driver, bound to two Ethernet adapters, dials [`L2TPNS_SERVICE`] with lwIP's
/// client as RAS, as [`dial_l2tpns`] does. Behind the first adapter rp-pppoe's `pppoe-server`
/// offers `first_service` (AC-Name "TestAC"), with lwIP's authenticator (CHAP, accepting
/// [`USER`] and [`PASSWORD`], handing out the `ANSWER_*` addresses) behind each session it
/// opens; behind the second, l2tpns. The driver sends a PADI on both and continues where the
/// first PADO it takes came from. The captures (with `options.capture`) are
/// `<name>-first` and `<name>-second`.
pub fn dial_over_two_adapters(
    driver: impl Into<Machine>,
    options: &DialOptions,
    first_service: &str,
) -> Result<SearchRun, String> {
    let net = TwoServerNet::new();
    let [first, second] = &net.links;
    let rp_pppoe = pppoe_server_with_lwip(
        &first.server,
        &first.server_if,
        "TestAC",
        first_service,
        &answering_lwip(),
    );
    let site = l2tpns_site(&second.server, &second.server_if, options.auth);
    let captures = options.capture.as_ref().map(|name| {
        [(first, "first"), (second, "second")].map(|(link, side)| {
            Capture::start(&net.client, &link.client_if, &format!("{name}-{side}"))
        })
    });
    let interfaces = [first.client_if.clone(), second.client_if.clone()];
    let (child, ras, carried) = dial_as_ras(
        driver.into(),
        &net.client,
        &[&first.client_if, &second.client_if],
        options,
    )?;
    Ok(SearchRun {
        dial: DialRun {
            call: Call {
                child,
                ras,
                carried,
                capture: None,
            },
            decisions: site.radius.decisions(),
            pings: options.pings,
        },
        interfaces,
        captures: captures.map(|c| c.map(Capture::finish)),
        rp_pppoe,
    })
}

/// lwIP's authenticator where RAS answers, or behind rp-pppoe's access concentrator: CHAP
/// for [`USER`], the `ANSWER_*` addresses.
fn answering_lwip() -> LwipOptions {
    LwipOptions::server(
        USER,
        PASSWORD,
        Auth::Chap,
        ServerAddresses {
            local: ANSWER_LOCAL.into(),
            peer: ANSWER_PEER.into(),
            dns: ANSWER_DNS.into(),
        },
    )
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
    let (ras, framed) = answering_lwip().spawn_framed("lwip (RAS, authenticator)");
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
