//! The scenarios a child process runs (`rswan-host-run <scenario> <image> [args]`). Each
//! loads the image, drives it the way Windows would, writes observations, and ends with one
//! terminal report line (crate::report).
#![forbid(unsafe_code)]

mod call_churn;
mod call_faults;
mod discovery;
mod lent_receive;
mod multi_nb;
mod ras;

use std::path::Path;
use std::time::Duration;

use rswan_ndis::status;
use rswan_ndis::wan::framing;

use crate::kernel::binding;
use crate::kernel::events::{self, Event};
use crate::kernel::{checks, deferred, faults, kernel, objects, packets, pool, processors};
use crate::loader::{Driver, imports};
use crate::report;
use crate::windows::request::Request;
use crate::windows::{adapter, call, lower, ndiswan, ndproxy, packet_wire, wire_peer};

/// Every scenario by name, with what it does.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("load", "map the image and bind its imports"),
    (
        "driver-entry",
        "call DriverEntry and report the miniport it registered",
    ),
    (
        "driver-entry-unload",
        "DriverEntry, then MiniportDriverUnload, which must deregister",
    ),
    (
        "adapter-lifecycle",
        "DriverEntry, MiniportInitializeEx, Restart, Pause, HaltEx, unload",
    ),
    (
        "tapi-caps",
        "bring the adapter up, open the TAPI proxy AF as NDPROXY and query the caps OIDs",
    ),
    (
        "loopback-call",
        "NDPROXY calls from one loopback line to its pair, NDISWAN moves frames both ways, hang up",
    ),
    (
        "loopback-stress",
        "a loopback call, then <threads> senders at DISPATCH_LEVEL sending <frames> frames each within the send window",
    ),
    (
        "call-churn-stress",
        "for <seconds>, <senders> threads send at DISPATCH_LEVEL on <pppoe-calls> PPPoE calls over the wire and <loopback-pairs> loopback calls while NDPROXY closes and reopens them",
    ),
    (
        "call-life-faults",
        "fail the <n>th failable call of one <pppoe|loopback> call's life (dial, frames both ways, hang-up); the next call must go through whole",
    ),
    (
        "dial-wire",
        "bind an Ethernet adapter whose wire ends in a PPPoE AC, dial PPPoE line 0, PPP frames both ways, hang up",
    ),
    (
        "garbage-then-dial-wire",
        "indicate malformed and stray frames on the wire first, then dial-wire: they change nothing but counters",
    ),
    (
        "dial-interface",
        "bind an AF_PACKET adapter on <interface>, dial <service> on PPPoE line 0, wait up to <seconds> for the peer to hang up, else hang up",
    ),
    (
        "loopback-multi-nb",
        "a loopback call, then one NBL of three frames (three NET_BUFFERs) each way",
    ),
    (
        "dial-wire-multi-nb",
        "dial PPPoE over the in-memory wire, send one NBL of three frames, receive one NBL of two",
    ),
    (
        "receive-lent",
        "dial PPPoE over the in-memory wire; session frames are lent to NDISWAN without a copy or copied (RESOURCES, split buffers, several frames); pause, call close and unbind with lent frames out",
    ),
    (
        "receive-bench",
        "dial PPPoE over the in-memory wire and time <frames> full-size session frames to NDISWAN copied (RESOURCES) and as many lent",
    ),
    (
        "dial-ras",
        "bind an AF_PACKET adapter on each <interface>..., dial <service> (searching them all), carry the call for RAS's PPP engine listening on Unix socket <socket> for up to <seconds>, hang up",
    ),
    (
        "answer-ras",
        "bind an AF_PACKET adapter on <interface>, answer a client's call on a SAP, carry it for RAS's PPP engine on Unix socket <socket> for up to <seconds>",
    ),
    (
        "answer-wire",
        "bind an Ethernet adapter whose wire ends in a PPPoE client, answer its call on a SAP, PPP both ways, the client hangs up",
    ),
    (
        "answer-many",
        "listen on PPPoE lines 0..<lines>, <clients> PPPoE clients on their own MACs dial in on one binding at once, every dispatched call is accepted, then they hang up",
    ),
    (
        "dial-search",
        "bind two Ethernet adapters with a PPPoE AC behind the <second|both|none> of them, dial PPPoE line 0: the dial searches both",
    ),
    (
        "driver-entry-faults",
        "fail the <n>th failable call: DriverEntry fails cleanly or succeeds, unload, no leak",
    ),
    (
        "lifecycle-faults",
        "fail the <n>th failable call during driver entry, adapter initialize/restart/pause/halt and unload",
    ),
    (
        "call-export",
        "call exported function <name> with hex arguments (test images)",
    ),
    (
        "call-export-then-unload-checks",
        "call-export, then the checks NDIS and Driver Verifier make at unload",
    ),
    (
        "call-rva-with-rax",
        "call the code at <rva> with RAX=<value> (the x64 __chkstk convention)",
    ),
    (
        "call-rva-with-x15",
        "call the code at <rva> with X15=<value> (the ARM64 __chkstk convention)",
    ),
];

/// Runs scenario `name`; never returns (the child exits with its report).
pub fn run(name: &str, image: &Path, args: &[String]) -> ! {
    let driver = match Driver::load(image) {
        Ok(driver) => driver,
        Err(err) => report::load_error(&err.to_string()),
    };
    checks::start_send_watchdog();
    match name {
        "load" => {
            for import in &driver.image().imports {
                report::observe("import", format!("{}!{}", import.dll, import.name));
            }
        }
        "driver-entry" => driver_entry(&driver),
        "driver-entry-unload" => {
            driver_entry(&driver);
            unload(&driver);
        }
        "adapter-lifecycle" => {
            driver_entry(&driver);
            adapter_up();
            adapter_down();
            unload(&driver);
        }
        "tapi-caps" => {
            driver_entry(&driver);
            adapter_up();
            tapi_caps();
            adapter_down();
            unload(&driver);
        }
        "loopback-call" => {
            driver_entry(&driver);
            adapter_up();
            loopback_call();
            adapter_down();
            unload(&driver);
        }
        "loopback-stress" => {
            let [threads, frames] = args else {
                report::error("loopback-stress needs <threads> <frames>");
            };
            driver_entry(&driver);
            adapter_up();
            loopback_stress(parse_number(threads), parse_number(frames));
            adapter_down();
            unload(&driver);
        }
        "call-churn-stress" => {
            driver_entry(&driver);
            adapter_up();
            call_churn::call_churn_stress(args);
            adapter_down();
            unload(&driver);
        }
        "call-life-faults" => {
            driver_entry(&driver);
            adapter_up();
            call_faults::call_life_faults(args);
            adapter_down();
            unload(&driver);
        }
        "dial-wire" | "garbage-then-dial-wire" => {
            driver_entry(&driver);
            adapter_up();
            dial_wire(name == "garbage-then-dial-wire");
            adapter_down();
            unload(&driver);
        }
        "dial-interface" => {
            let [interface, service, seconds] = args else {
                report::error("dial-interface needs <interface> <service> <seconds>");
            };
            driver_entry(&driver);
            adapter_up();
            dial_interface(
                interface,
                service,
                Duration::from_secs(parse_number(seconds) as u64),
            );
            adapter_down();
            unload(&driver);
        }
        "loopback-multi-nb" | "dial-wire-multi-nb" => {
            driver_entry(&driver);
            adapter_up();
            if name == "loopback-multi-nb" {
                multi_nb::loopback();
            } else {
                multi_nb::dial_wire();
            }
            adapter_down();
            unload(&driver);
        }
        "receive-lent" => {
            driver_entry(&driver);
            adapter_up();
            lent_receive::run();
            adapter_down();
            unload(&driver);
        }
        "receive-bench" => {
            driver_entry(&driver);
            adapter_up();
            let frames = args.first().map_or(10_000, |n| parse_number(n) as u64);
            lent_receive::bench(frames);
            adapter_down();
            unload(&driver);
        }
        "dial-ras" | "answer-ras" => {
            driver_entry(&driver);
            adapter_up();
            ras::run(name, args);
            adapter_down();
            unload(&driver);
        }
        "answer-wire" => {
            driver_entry(&driver);
            adapter_up();
            answer_wire();
            adapter_down();
            unload(&driver);
        }
        "answer-many" | "dial-search" => {
            driver_entry(&driver);
            adapter_up();
            if name == "answer-many" {
                discovery::answer_many(args);
            } else {
                discovery::dial_search(args);
            }
            adapter_down();
            unload(&driver);
        }
        "driver-entry-faults" => {
            faults::fail_at(fault_index(args));
            if driver_entry_may_fail(&driver) {
                unload(&driver);
            } else {
                nothing_registered_after_failure();
            }
            report_faults();
        }
        "lifecycle-faults" => {
            faults::fail_at(fault_index(args));
            if driver_entry_may_fail(&driver) {
                report::observe("faults.calls_before_initialize", faults::failable_calls());
                match adapter::initialize() {
                    Ok(_) => {
                        report::observe("faults.calls_after_initialize", faults::failable_calls());
                        step(adapter::restart());
                        adapter_down();
                    }
                    Err(message) => report::observe("adapter.initialize_failed", message),
                }
                unload(&driver);
            } else {
                nothing_registered_after_failure();
            }
            report_faults();
        }
        "call-export" => call_export(&driver, args),
        "call-export-then-unload-checks" => {
            call_export(&driver, args);
            unload_checks();
            report::observe("pool.live", pool::live_allocations());
        }
        "call-rva-with-rax" => {
            let [rva, rax] = args else {
                report::error("call-rva-with-rax needs <rva> <rax>");
            };
            driver.call_rva_with_rax(parse_number(rva) as u32, parse_number(rax), "code at rva");
        }
        "call-rva-with-x15" => {
            let [rva, x15] = args else {
                report::error("call-rva-with-x15 needs <rva> <x15>");
            };
            driver.call_rva_with_x15(parse_number(rva) as u32, parse_number(x15), "code at rva");
        }
        other => report::error(&format!(
            "unknown scenario `{other}`; known: {}",
            SCENARIOS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    crate::loader::stack::report_observations();
    report::ok()
}

/// The <n> of a fault-injection scenario.
fn fault_index(args: &[String]) -> u64 {
    let [n] = args else {
        report::error("a fault-injection scenario needs <n>, the failable call to fail");
    };
    parse_number(n) as u64
}

/// DriverEntry where a failure is an acceptable outcome (an injected fault): true if it
/// succeeded.
fn driver_entry_may_fail(driver: &Driver) -> bool {
    let entry_status = driver.driver_entry();
    report::observe(
        "driver_entry.status",
        format!("{:#010x}", entry_status as u32),
    );
    entry_status == status::SUCCESS
}

/// After a failed DriverEntry the driver must have undone everything itself (WDK:
/// NdisMRegisterMiniportDriver remarks: deregister before DriverEntry returns an error).
fn nothing_registered_after_failure() {
    if kernel().miniport().is_some() {
        report::error(
            "DriverEntry failed but left its miniport driver registered (WDK: \
             NdisMRegisterMiniportDriver remarks: call NdisMDeregisterMiniportDriver first)",
        );
    }
    if kernel().protocol().is_some() {
        report::error("DriverEntry failed but left its protocol driver registered");
    }
    unload_checks();
}

/// Which call was failed, and how many failable calls the run made.
fn report_faults() {
    report::observe("faults.calls", faults::failable_calls());
    report::observe(
        "faults.injected",
        faults::injected().unwrap_or_else(|| "none".to_owned()),
    );
}

/// Ends the scenario with the error of a failed step.
fn step<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|message| report::error(&message))
}

/// MiniportInitializeEx then MiniportRestart, observing the attributes the adapter set.
fn adapter_up() {
    let up = step(adapter::initialize());
    report::observe("adapter.media_type", up.media_type.unwrap_or(u32::MAX));
    report::observe("adapter.if_type", up.if_type);
    report::observe("adapter.mtu", up.mtu_size);
    report::observe(
        "adapter.attribute_flags",
        format!("{:#x}", up.attribute_flags),
    );
    report::observe("adapter.max_xmit_link_speed", up.max_xmit_link_speed);
    for (family, major, minor) in objects::families() {
        report::observe(
            "adapter.address_family",
            format!("{family:#x} {major}.{minor}"),
        );
    }
    step(adapter::restart());
}

/// MiniportPause then MiniportHaltEx.
fn adapter_down() {
    step(adapter::pause());
    step(adapter::halt());
}

/// NDPROXY's initialization: open the AF, query CM, line and address caps, close it.
fn tapi_caps() {
    let af = step(ndproxy::open_af());
    let cm = step(ndproxy::oid(
        &af,
        &Request::query(ndproxy::OID_CO_TAPI_CM_CAPS, 12),
    ));
    report::observe("tapi.cm_caps.status", format!("{:#010x}", cm.status as u32));
    let field = |data: &[u8], at: usize| -> u32 {
        data.get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    report::observe("tapi.cm_caps.version", format!("{:#x}", field(&cm.data, 0)));
    let lines = field(&cm.data, 4);
    report::observe("tapi.cm_caps.lines", lines);
    report::observe("tapi.cm_caps.flags", format!("{:#x}", field(&cm.data, 8)));
    for line in 0..lines.min(8) {
        let request = Request::query_with(
            ndproxy::OID_CO_TAPI_LINE_CAPS,
            &line.to_le_bytes(),
            TAPI_CAPS_BUFFER,
        );
        let caps = step(ndproxy::oid(&af, &request));
        report::observe(
            &format!("tapi.line_caps.{line}.status"),
            format!("{:#010x}", caps.status as u32),
        );
        report::observe(&format!("tapi.line_caps.{line}.bytes"), caps.data.len());
        // LINE_DEV_CAPS follows ulLineID and ulFlags; NumAddresses at 48, MaxNumActiveCalls
        // at 116 in it (notes/tapi-proxy.md, LINE_DEV_CAPS offsets).
        report::observe(
            &format!("tapi.line_caps.{line}.num_addresses"),
            field(&caps.data, 8 + 48),
        );
        report::observe(
            &format!("tapi.line_caps.{line}.max_active_calls"),
            field(&caps.data, 8 + 116),
        );
        let mut input = line.to_le_bytes().to_vec();
        input.extend_from_slice(&0u32.to_le_bytes());
        let request =
            Request::query_with(ndproxy::OID_CO_TAPI_ADDRESS_CAPS, &input, TAPI_CAPS_BUFFER);
        let caps = step(ndproxy::oid(&af, &request));
        report::observe(
            &format!("tapi.address_caps.{line}.status"),
            format!("{:#010x}", caps.status as u32),
        );
    }
    step(ndproxy::close_af(af));
}

/// How long a frame may take to cross the driver.
const FRAME_LIMIT: Duration = Duration::from_secs(10);

/// An open AF with a connected loopback call.
struct LoopbackCall {
    af: ndproxy::OpenAf,
    sap: call::Sap,
    outgoing: objects::Vc,
    incoming: objects::Vc,
}

/// The first loopback line pair: lines after the PPPoE ones, wired to each other (the driver
/// reports its lines in the CM caps; the pair is the last two).
fn loopback_call() {
    let call = connect_loopback();
    // An LCP Configure-Request each way (PPP protocol 0xC021, no HDLC framing on a CoNDIS
    // WAN VC: WDK "WAN Packet Framing").
    for (from, to, frame) in [
        (
            &call.outgoing,
            &call.incoming,
            b"\xc0\x21\x01\x01\x00\x04".as_slice(),
        ),
        (
            &call.incoming,
            &call.outgoing,
            b"\xc0\x21\x02\x01\x00\x04".as_slice(),
        ),
    ] {
        let nbl = step(ndiswan::send(from, frame));
        let received = step(ndiswan::receive(to, FRAME_LIMIT));
        let completion = step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT));
        if received != frame {
            report::error(&format!(
                "sent {frame:02x?} but the other end received {received:02x?}"
            ));
        }
        report::observe(
            "wan.frame",
            format!(
                "{} bytes, completed {:#010x}",
                received.len(),
                completion as u32
            ),
        );
    }
    hang_up(call);
}

/// Senders on `threads` threads, each sending `frames` numbered frames at DISPATCH_LEVEL
/// over the loopback call, never more than its share of the send window outstanding; the
/// scenario thread receives them all on the other end and gives each indication back.
fn loopback_stress(threads: usize, frames: usize) {
    let call = connect_loopback();
    let window = 16 / threads.max(1);
    let senders: Vec<_> = (0..threads)
        .map(|thread| {
            let vc = call.outgoing;
            std::thread::spawn(move || -> Result<usize, String> {
                let mut outstanding = std::collections::VecDeque::new();
                let mut failed = 0;
                for n in 0..frames {
                    if outstanding.len() >= window.max(1) {
                        let nbl = outstanding.pop_front().unwrap_or_default();
                        failed += usize::from(ndiswan::wait_send_complete(nbl, FRAME_LIMIT)? != 0);
                    }
                    let mut frame = vec![0x00, 0x21];
                    frame.extend_from_slice(&(thread as u32).to_be_bytes());
                    frame.extend_from_slice(&(n as u32).to_be_bytes());
                    outstanding.push_back(ndiswan::send_at(&vc, &frame, true)?);
                }
                for nbl in outstanding {
                    failed += usize::from(ndiswan::wait_send_complete(nbl, FRAME_LIMIT)? != 0);
                }
                Ok(failed)
            })
        })
        .collect();
    let started = std::time::Instant::now();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..threads * frames {
        let frame = step(ndiswan::receive(&call.incoming, FRAME_LIMIT));
        if !seen.insert(frame.clone()) {
            report::error(&format!("frame {frame:02x?} received twice"));
        }
    }
    let mut failed = 0;
    for sender in senders {
        failed += step(
            sender
                .join()
                .unwrap_or_else(|_| Err("a sender panicked".into())),
        );
    }
    report::observe("stress.seconds", started.elapsed().as_secs_f64());
    report::observe("stress.received", seen.len());
    report::observe("stress.failed_completions", failed);
    hang_up(call);
}

/// Opens the AF, registers the answering line's SAP, calls it from its pair, accepts, and
/// sets PPP framing on both VCs as NDISWAN does.
fn connect_loopback() -> LoopbackCall {
    let af = step(ndproxy::open_af());
    let cm = step(ndproxy::oid(
        &af,
        &Request::query(ndproxy::OID_CO_TAPI_CM_CAPS, 12),
    ));
    let lines = cm
        .data
        .get(4..8)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if lines < 2 {
        report::error(&format!("{lines} line(s): no loopback pair to call on"));
    }
    let (caller_line, answer_line) = (lines - 2, lines - 1);
    let sap = step(call::register_sap(&af, answer_line));
    let outgoing = step(call::create_vc(&af));
    let pending = step(call::start_make_call(&outgoing, caller_line, "loopback"));
    let incoming = step(call::accept_incoming(&sap, FRAME_LIMIT));
    let connected = step(pending.finish());
    report::observe(
        "call.peak_bandwidth",
        format!(
            "{} {}",
            connected.peak_bandwidth.0, connected.peak_bandwidth.1
        ),
    );
    report::observe("call.connected", "both ends");
    let info = step(ndiswan::get_info());
    report::observe(
        "wan.info",
        format!(
            "max_frame={} window={} framing={:#x} accm={:#x}",
            info.max_frame_size, info.max_send_window, info.framing_bits, info.desired_accm
        ),
    );
    // NDISWAN asks for PPP framing (PPP_FRAMING); TAPI_PROVIDER is a capability the
    // miniport reports, not a framing to set.
    for vc in [&connected.vc, &incoming] {
        let status = step(ndiswan::set_link_info(
            vc,
            info.max_frame_size,
            framing::PPP_FRAMING,
        ));
        report::observe("wan.set_link_info", format!("{:#010x}", status as u32));
    }
    LoopbackCall {
        af,
        sap,
        outgoing: connected.vc,
        incoming,
    }
}

/// The host Ethernet adapter under the protocol edge, and the AC at the far end of its wire.
const ETHERNET_NAME: &str = r"\DEVICE\{5257414E-0000-0000-0000-000000000001}";
const ETHERNET_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x00, 0x01];
const AC_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x00, 0xAC];

/// Frames no PPPoE peer should send, each to be dropped (and counted) by the driver: runts,
/// lengths past the end, unknown codes and versions, session frames for no session, replies
/// to requests never made, a PADT from a stranger, and other ethertypes.
fn garbage_frames() -> Vec<Vec<u8>> {
    let header = |dst: [u8; 6], ethertype: u16| {
        let mut frame = dst.to_vec();
        frame.extend_from_slice(&AC_MAC);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame
    };
    let with = |mut frame: Vec<u8>, tail: &[u8]| {
        frame.extend_from_slice(tail);
        frame
    };
    vec![
        vec![0xff; 10],
        header(ETHERNET_MAC, 0x8863),
        // PADO with a payload length past the end of the frame.
        with(
            header(ETHERNET_MAC, 0x8863),
            &[0x11, 0x07, 0x00, 0x00, 0x05, 0xdc],
        ),
        // Version/type 2/2, unknown code 0x42.
        with(
            header(ETHERNET_MAC, 0x8863),
            &[0x22, 0x42, 0x00, 0x00, 0x00, 0x00],
        ),
        // PADS for a PADR never sent.
        with(
            header(ETHERNET_MAC, 0x8863),
            &[0x11, 0x65, 0x12, 0x34, 0x00, 0x00],
        ),
        // PADT from a stranger for a session that does not exist.
        with(
            header(ETHERNET_MAC, 0x8863),
            &[0x11, 0xa7, 0x77, 0x77, 0x00, 0x00],
        ),
        // A session frame (LCP) for no session.
        with(
            header(ETHERNET_MAC, 0x8864),
            &[
                0x11, 0x00, 0x12, 0x34, 0x00, 0x06, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04,
            ],
        ),
        // A session frame whose length is past the end.
        with(
            header(ETHERNET_MAC, 0x8864),
            &[0x11, 0x00, 0x00, 0x01, 0xff, 0xff, 0xc0, 0x21],
        ),
        // A broadcast PADI (another client's discovery, not for a client to answer).
        with(
            header([0xff; 6], 0x8863),
            &[0x11, 0x09, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00],
        ),
        // IPv4 and ARP.
        with(header(ETHERNET_MAC, 0x0800), &[0x45, 0, 0, 20]),
        with(header([0xff; 6], 0x0806), &[0, 1, 8, 0, 6, 4, 0, 1]),
    ]
}

/// Dials PPPoE line 0 (Service-Name "isp") as NDPROXY does, lets `peer` answer on `binding`
/// until its session is open, and sets PPP framing on the connected VC as NDISWAN does once a
/// call connects: the session id and the VC.
fn dial_pppoe(
    binding: &binding::Binding,
    af: &ndproxy::OpenAf,
    peer: &mut wire_peer::AcPeer,
) -> (u16, objects::Vc) {
    let vc = step(call::create_vc(af));
    let pending = step(call::start_make_call(&vc, 0, "isp"));
    let opened = step(peer.pump_until(binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::SessionOpened(_))
    }));
    let wire_peer::Seen::SessionOpened(session) = opened else {
        report::error("unexpected peer event");
    };
    let connected = step(pending.finish());
    let info = step(ndiswan::get_info());
    step(ndiswan::set_link_info(
        &connected.vc,
        info.max_frame_size,
        framing::PPP_FRAMING,
    ));
    (session, connected.vc)
}

/// Dials PPPoE line 0 through an adapter whose wire ends in a PPPoE access concentrator:
/// discovery, PPP frames both ways over the session, hang-up with PADT, unbind. With
/// `garbage`, malformed and stray frames reach the driver first.
fn dial_wire(garbage: bool) {
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    let binding = step(lower::bind(&ethernet));
    report::observe("lower.bound", &binding.adapter_name);
    let mut peer = step(wire_peer::AcPeer::new(
        ETHERNET_NAME,
        AC_MAC,
        "rswan-host-ac",
    ));
    if garbage {
        let frames = garbage_frames();
        for frame in &frames {
            step(lower::indicate(&binding, frame));
        }
        if !processors::wait_idle(IDLE_LIMIT) {
            report::error("the driver did not finish with the garbage frames");
        }
        report::observe("wire.garbage_frames", frames.len());
        // Whatever the driver answered to them stays off the AC's books.
        let _ = binding::take_transmitted(ETHERNET_NAME);
    }
    let af = step(ndproxy::open_af());
    let (session, vc) = dial_pppoe(&binding, &af, &mut peer);
    report::observe("pppoe.session", session);
    report::observe("call.connected", "pppoe");
    let lcp_request = b"\xc0\x21\x01\x01\x00\x04";
    let nbl = step(ndiswan::send(&vc, lcp_request));
    let seen = step(peer.pump_until(&binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::Ppp { .. })
    }));
    step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT));
    if seen
        != (wire_peer::Seen::Ppp {
            session,
            payload: lcp_request.to_vec(),
        })
    {
        report::error(&format!("the AC received {seen:?}"));
    }
    report::observe("pppoe.up", "LCP request carried to the AC");
    let lcp_ack = b"\xc0\x21\x02\x01\x00\x04";
    step(peer.send_ppp(&binding, session, lcp_ack));
    let received = step(ndiswan::receive(&vc, FRAME_LIMIT));
    if received != lcp_ack {
        report::error(&format!("NDISWAN received {received:02x?}"));
    }
    report::observe("pppoe.down", "LCP ack carried to NDISWAN");
    step(call::close_call(&vc));
    step(peer.pump_until(&binding, FRAME_LIMIT, |seen| {
        matches!(seen, wire_peer::Seen::SessionClosed(_))
    }));
    report::observe("pppoe.closed", "PADT seen by the AC");
    step(call::delete_vc(&vc));
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
    report::observe("pppoe.counters", peer.counters());
}

/// Dials `service` through an AF_PACKET adapter on `interface`: a real PPPoE access
/// concentrator answers on the other end of the link. The call stays up until the peer hangs
/// up (PADT: the MCM dispatches an incoming close) or `hold` passes (then NDPROXY hangs up).
fn dial_interface(interface: &str, service: &str, hold: Duration) {
    let (ethernet, socket) = step(packet_wire::adapter(interface));
    let binding = step(lower::bind(&ethernet));
    let bridge = packet_wire::Bridge::start(binding.clone(), socket);
    let af = step(ndproxy::open_af());
    let vc = step(call::create_vc(&af));
    let pending = step(call::start_make_call(&vc, 0, service));
    let connected = step(pending.finish());
    report::observe("call.connected", interface);
    let handle = connected.vc.handle;
    let remote = events::take(
        hold,
        |e| matches!(e, Event::IncomingCloseCall { vc, .. } if *vc == handle),
    );
    let frames = step(ndiswan::drain_receives(&connected.vc));
    report::observe("ppp.frames_received", frames.len());
    match remote {
        Ok(Event::IncomingCloseCall { status, .. }) => {
            report::observe("call.remote_close", format!("{:#010x}", status as u32));
        }
        _ => report::observe("call.local_close", "hold time over"),
    }
    step(call::close_call(&connected.vc));
    step(call::delete_vc(&connected.vc));
    step(ndproxy::close_af(af));
    step(bridge.stop());
    step(lower::unbind(&binding));
}

/// The MAC of the PPPoE client at the far end of the wire.
const CLIENT_MAC: [u8; 6] = [0x02, 0x52, 0x57, 0x00, 0x00, 0xC1];

/// Answers a PPPoE client dialing in over the wire: NDPROXY registers a SAP on line 0, the
/// client's discovery reaches the driver's access concentrator, the MCM dispatches the call,
/// NDPROXY accepts it, PPP goes both ways, the client's PADT closes the call.
fn answer_wire() {
    let ethernet = lower::Adapter {
        name: ETHERNET_NAME.to_owned(),
        mac: ETHERNET_MAC,
    };
    let binding = step(lower::bind(&ethernet));
    let af = step(ndproxy::open_af());
    let sap = step(call::register_sap(&af, 0));
    let mut client = step(wire_peer::ClientPeer::dial(
        &binding,
        ETHERNET_NAME,
        CLIENT_MAC,
        "",
    ));
    let deadline = std::time::Instant::now() + FRAME_LIMIT;
    let mut session = None;
    let mut answered = None;
    let mut connected = false;
    while session.is_none() || !connected {
        for seen in step(client.pump(&binding)) {
            match seen {
                wire_peer::ClientSeen::Established(id) => session = Some(id),
                wire_peer::ClientSeen::Failed(why) => {
                    report::error(&format!("the client failed: {why}"))
                }
                other => report::error(&format!("the client saw {other:?} before the session")),
            }
        }
        let poll = Duration::from_millis(5);
        if answered.is_none()
            && let Ok(Event::IncomingCall {
                vc,
                call_parameters,
                ..
            }) = events::take(
                poll,
                |e| matches!(e, Event::IncomingCall { sap: s, .. } if *s == sap.handle),
            )
        {
            step(call::accept_dispatched(vc, call_parameters));
            answered = Some(vc);
        }
        if let Some(vc) = answered
            && !connected
        {
            connected = events::take(
                poll,
                |e| matches!(e, Event::CallConnected { vc: v } if *v == vc),
            )
            .is_ok();
        }
        if std::time::Instant::now() > deadline {
            report::error(&format!(
                "the call did not come up in {} s: session {session:?}, answered {answered:?}, connected {connected}",
                FRAME_LIMIT.as_secs()
            ));
        }
    }
    let vc = objects::vc(answered.unwrap_or_default())
        .unwrap_or_else(|| report::error("the answered VC vanished"));
    report::observe("pppoe.session", session.unwrap_or_default());
    report::observe("call.connected", "answered");
    let info = step(ndiswan::get_info());
    step(ndiswan::set_link_info(
        &vc,
        info.max_frame_size,
        framing::PPP_FRAMING,
    ));
    let lcp_request = b"\xc0\x21\x01\x07\x00\x04";
    step(client.send_ppp(&binding, lcp_request));
    let received = step(ndiswan::receive(&vc, FRAME_LIMIT));
    if received != lcp_request {
        report::error(&format!("NDISWAN received {received:02x?}"));
    }
    report::observe("pppoe.up", "LCP request carried to NDISWAN");
    let lcp_ack = b"\xc0\x21\x02\x07\x00\x04";
    let nbl = step(ndiswan::send(&vc, lcp_ack));
    let deadline = std::time::Instant::now() + FRAME_LIMIT;
    loop {
        let seen = step(client.pump(&binding));
        if seen.contains(&wire_peer::ClientSeen::Ppp(lcp_ack.to_vec())) {
            break;
        }
        if std::time::Instant::now() > deadline {
            report::error("the client never received the LCP ack");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    step(ndiswan::wait_send_complete(nbl, FRAME_LIMIT));
    report::observe("pppoe.down", "LCP ack carried to the client");
    step(client.hang_up(&binding));
    let handle = vc.handle;
    step(events::take(
        FRAME_LIMIT,
        |e| matches!(e, Event::IncomingCloseCall { vc: v, .. } if *v == handle),
    ));
    report::observe("pppoe.closed", "PADT from the client closed the call");
    step(call::close_call(&vc));
    step(call::deregister_sap(sap));
    step(ndproxy::close_af(af));
    step(lower::unbind(&binding));
}

/// Hangs up from the caller's side, then closes the answerer's side, its SAP and the AF.
fn hang_up(call: LoopbackCall) {
    step(call::close_call(&call.outgoing));
    step(call::delete_vc(&call.outgoing));
    report::observe("call.closed", "caller");
    step(call::close_call(&call.incoming));
    step(call::deregister_sap(call.sap));
    step(ndproxy::close_af(call.af));
}

/// The buffer NDPROXY offers for the caps structures and their variable parts.
const TAPI_CAPS_BUFFER: usize = 1024;

/// MiniportDriverUnload, then everything that must hold afterwards.
fn unload(driver: &Driver) {
    step(driver.unload());
    report::observe("ndis.deregistrations", kernel().deregistrations());
    report::observe(
        "ndis.protocol_deregistrations",
        kernel().protocol_deregistrations(),
    );
    if kernel().miniport().is_some() {
        report::error(
            "MiniportDriverUnload returned without NdisMDeregisterMiniportDriver \
             (WDK: NdisMRegisterMiniportDriver remarks: the driver must call it from \
             MiniportDriverUnload)",
        );
    }
    if kernel().protocol().is_some() {
        report::error(
            "MiniportDriverUnload returned with the protocol driver still registered \
             (WDK: NdisDeregisterProtocolDriver, called from the unload routine)",
        );
    }
    unload_checks();
}

/// What must hold once the driver is unloaded: deferred work finished, every pool block,
/// timer object and work item freed.
fn unload_checks() {
    if !processors::wait_idle(IDLE_LIMIT) {
        report::error(&format!(
            "DPCs or work items still running {} s after the scenario ended",
            IDLE_LIMIT.as_secs()
        ));
    }
    checks::check_all_completed("unload");
    let (locks, acquisitions, orders) = checks::checks().locks.stats();
    report::observe("verifier.locks", locks);
    report::observe("verifier.lock_acquisitions", acquisitions);
    report::observe("verifier.lock_orders", orders);
    pool::check_no_leaks();
    deferred::check_all_freed();
    if let Err(message) = packets::check_all_freed() {
        report::violation("NDIS_OBJECT_LEAK", &message);
    }
}

/// How long deferred work may take to finish at the end of a scenario.
const IDLE_LIMIT: Duration = Duration::from_secs(10);

fn call_export(driver: &Driver, args: &[String]) {
    let (export, rest) = args
        .split_first()
        .unwrap_or_else(|| report::error("call-export needs a function name"));
    let values: Vec<usize> = rest.iter().map(|a| parse_number(a)).collect();
    match driver.call_export(export, &values) {
        Ok(value) => report::observe("return", format!("{value:#x}")),
        Err(message) => report::error(&message),
    }
}

fn parse_number(text: &str) -> usize {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| report::error(&format!("`{text}` is not a number")))
}

/// DriverEntry, then the registration it made, as observations.
fn driver_entry(driver: &Driver) {
    report::observe("imports.implemented", imports::implemented().join(","));
    let entry_status = driver.driver_entry();
    report::observe(
        "driver_entry.status",
        format!("{:#010x}", entry_status as u32),
    );
    if entry_status != status::SUCCESS {
        report::error(&format!(
            "DriverEntry returned {:#010x}",
            entry_status as u32
        ));
    }
    if let Some(protocol) = kernel().protocol() {
        report::observe("protocol.name", &protocol.registration.name);
        report::observe(
            "protocol.ndis_version",
            format!(
                "{}.{}",
                protocol.registration.major_ndis_version, protocol.registration.minor_ndis_version
            ),
        );
        for (name, address) in protocol.registration.handlers {
            report::observe(&format!("protocol.handler.{name}"), rva(driver, address));
        }
    }
    let Some(miniport) = kernel().miniport() else {
        report::error("DriverEntry succeeded without registering a miniport driver");
    };
    let r = &miniport.registration;
    report::observe(
        "miniport.header.type",
        format!("{:#x}", r.header.object_type),
    );
    report::observe("miniport.header.revision", r.header.revision);
    report::observe("miniport.header.size", r.header.size);
    report::observe(
        "miniport.ndis_version",
        format!("{}.{}", r.major_ndis_version, r.minor_ndis_version),
    );
    report::observe("miniport.flags", format!("{:#x}", r.flags));
    report::observe("miniport.co_ndis", miniport.co_ndis);
    if let Some(co) = miniport.co_handlers {
        for (name, address) in [
            ("CoCreateVcHandler", co.create_vc),
            ("CoDeleteVcHandler", co.delete_vc),
            ("CoActivateVcHandler", co.activate_vc),
            ("CoDeactivateVcHandler", co.deactivate_vc),
            ("CoSendNetBufferListsHandler", co.send_net_buffer_lists),
            ("CoOidRequestHandler", co.oid_request),
        ] {
            report::observe(&format!("miniport.co.{name}"), rva(driver, address));
        }
    }
    if let Some(cm) = miniport.call_manager {
        for (name, address) in cm.named() {
            report::observe(&format!("miniport.cm.{name}"), rva(driver, address));
        }
    }
    for (name, address) in r.handlers.named() {
        report::observe(&format!("miniport.handler.{name}"), rva(driver, address));
    }
}

/// A handler address as `rva:0x...` in the image, or `NULL`.
fn rva(driver: &Driver, address: usize) -> String {
    if address == 0 {
        "NULL".to_owned()
    } else {
        format!("rva:{:#x}", address.wrapping_sub(driver.base()))
    }
}
