//! One whole call through the real rswan.sys, loaded in rswan-host, for a person to watch
//! (`cargo xtask dial` and `cargo xtask answer` run it):
//!
//! - `rswan-link dial --image <rswan.sys> [--auth pap|chap] [--password <secret>]`: namespaces
//!   with l2tpns and its RADIUS responder, the driver dials, lwIP's PPP (as RAS) reaches IPCP
//!   and pings l2tpns, hangs up, everything is cleaned up. RADIUS accepts only the password
//!   of rswan_e2e::loaded_driver, so another one shows a refused login.
//! - `rswan-link answer --image <rswan.sys>`: the driver answers rp-pppoe's client; lwIP's
//!   client behind rp-pppoe pings lwIP's authenticator behind the driver, then hangs up.
//!
//! The image's PE header says where it runs: an x64 image in the native runner, an ARM64 one in
//! rswan-host's aarch64 runner under qemu-aarch64.
//!
//! It prints the PPPoE session id, the PPP phases, the IPCP addresses and the echo replies,
//! and exits non-zero with the reason when the call is not a whole one.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use rswan_e2e::loaded_driver::{self, Call, DialOptions, Driver, Machine};
use rswan_e2e::lwip::{Auth, IpcpUp};
use rswan_e2e::process::Peer;

/// The runner binary cargo builds beside this one.
const RUNNER: &str = "rswan-e2e-host-run";
/// Echo requests sent through the link once IPCP is up.
const PINGS: u32 = 1;

const USAGE: &str =
    "usage: rswan-link dial --image <rswan.sys> [--auth pap|chap] [--password <secret>]
       rswan-link answer --image <rswan.sys>";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("rswan-link: {reason}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, options) = args.split_first().ok_or(USAGE)?;
    let mut image = None;
    let mut auth = Auth::Chap;
    let mut password = loaded_driver::PASSWORD.to_owned();
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        match (option.as_str(), rest.next()) {
            ("--image", Some(path)) => image = Some(PathBuf::from(path)),
            ("--auth", Some(name)) if task == "dial" => {
                auth = match name.as_str() {
                    "pap" => Auth::Pap,
                    "chap" => Auth::Chap,
                    other => return Err(format!("unknown --auth `{other}`\n{USAGE}")),
                }
            }
            ("--password", Some(secret)) if task == "dial" => password = secret.clone(),
            _ => return Err(format!("unexpected `{option}`\n{USAGE}")),
        }
    }
    let image = image.ok_or(USAGE)?;
    if !image.is_file() {
        return Err(format!("no driver image at {}", image.display()));
    }
    let runner = std::env::current_exe()
        .map_err(|e| format!("where am I: {e}"))?
        .with_file_name(RUNNER);
    if !runner.is_file() {
        return Err(format!(
            "no {RUNNER} beside this program (build it with `cargo build -p rswan-e2e --bins`)"
        ));
    }
    let bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
    let header = rswan_host::pe::PeImage::parse(&bytes).map_err(|e| {
        format!(
            "{} is not a driver image rswan-host loads: {e}",
            image.display()
        )
    })?;
    let machine = match header.machine {
        rswan_host::pe::Machine::X64 => {
            println!("image: {} (x64) loaded in rswan-host", image.display());
            Machine::Native(Driver { runner, image })
        }
        rswan_host::pe::Machine::Arm64 => {
            println!(
                "image: {} (ARM64) loaded in rswan-host's aarch64 runner under qemu-aarch64",
                image.display()
            );
            Machine::Arm64Emulated(image)
        }
    };
    match task.as_str() {
        "dial" => dial(machine, auth, password),
        "answer" => answer(machine),
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    }
}

fn dial(machine: Machine, auth: Auth, password: String) -> Result<(), String> {
    println!(
        "dial: l2tpns ({}, RADIUS) in a namespace behind a veth pair; lwIP's PPP client as RAS",
        match auth {
            Auth::Pap => "PAP",
            Auth::Chap => "CHAP",
        }
    );
    let options = DialOptions {
        auth,
        password,
        pings: PINGS,
        capture: None,
    };
    let run = loaded_driver::dial_l2tpns(machine, &options)?;
    show(&run.call, None);
    for decision in &run.decisions {
        println!(
            "RADIUS: {:?} login of {} {}",
            decision.method,
            decision.user,
            if decision.accepted {
                "accepted"
            } else {
                "rejected"
            }
        );
    }
    run.verdict()?;
    done();
    Ok(())
}

fn answer(machine: Machine) -> Result<(), String> {
    println!(
        "answer: rp-pppoe's client (lwIP's PPP client behind `pppoe -e`) dials in over a veth \
         pair; lwIP's CHAP authenticator as RAS"
    );
    let run = loaded_driver::answer_rp_pppoe(machine, PINGS, None)?;
    println!(
        "rp-pppoe discovered: session {} from {}",
        run.discovered.session_id, run.discovered.ac_mac
    );
    show(&run.call, Some(&run.client));
    run.verdict()?;
    done();
    Ok(())
}

/// What the call showed, in the order it happened: RAS's lwIP first, then lwIP at the far end
/// of the link when there is one of ours (`far_lwip`).
fn show(call: &Call, far_lwip: Option<&Peer>) {
    if let Some(session) = call.session() {
        println!("PPPoE session: {session}");
    }
    if let Some(link) = call.child.report.observation("wan.link") {
        println!("NDISWAN link: {link}");
    }
    for line in call.ras.lines() {
        show_lwip_line(&line, "");
    }
    for line in far_lwip.map(Peer::lines).unwrap_or_default() {
        if !line.starts_with("PHASE ") {
            show_lwip_line(&line, " at the far end");
        }
    }
    if let Some(end) = call.child.report.observation("ras.end") {
        println!("hang-up: {end}");
    }
    if let Ok(carried) = &call.carried {
        println!(
            "frames: {} up to RAS, {} down from RAS",
            carried.to_engine, carried.from_engine
        );
    }
}

/// One of lwIP's phase, IPCP and echo reply lines, for a person.
fn show_lwip_line(line: &str, whose: &str) {
    if let Some(phase) = line.strip_prefix("PHASE ") {
        println!("PPP phase{whose}: {phase}");
    } else if let Some(up) = IpcpUp::parse(line) {
        println!(
            "IPCP{whose}: address {} (peer {}, DNS {})",
            up.local, up.peer, up.dns
        );
    } else if let Some(reply) = line
        .strip_prefix("PING ")
        .filter(|r| r.starts_with("reply "))
    {
        println!("ICMP{whose}: {reply}");
    }
}

/// What has happened once a whole call is over.
fn done() {
    println!("done: call closed, driver unloaded with no leak, namespaces and peers removed");
}
