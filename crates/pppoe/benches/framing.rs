//! Prints how fast session framing and PADI handling are, as ratios to a baseline measured
//! in the same run. No timing is asserted; `cargo bench -p rswan-pppoe` runs it.

use std::hint::black_box;
use std::time::Instant as Clock;

use rswan_pppoe::client::{ClientConfig, TX_BUFFER_LEN};
use rswan_pppoe::{
    AcConfig, AccessConcentrator, Client, HEADER_ROOM, Instant, MacAddr, Session, SessionSlot,
};

const FRAME: usize = 1500;
const ROUNDS: u32 = 2_000_000;

/// Runs `f` ROUNDS times and returns the nanoseconds per call, best of five runs.
fn per_call(mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let start = Clock::now();
            for _ in 0..ROUNDS {
                f();
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(ROUNDS)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let local = MacAddr([0x02, 0, 0, 0, 0, 1]);
    let peer = MacAddr([0x02, 0, 0, 0, 0, 2]);
    // RFC 4638 lets the 1500-byte PPP payload through unfragmented.
    let session = Session {
        id: 0x1234,
        local,
        peer,
        max_payload: FRAME as u16,
    };

    let source = vec![0x5au8; FRAME];
    let mut dest = vec![0u8; FRAME];
    let copy = per_call(|| {
        black_box(&mut dest[..]).copy_from_slice(black_box(&source[..]));
    });

    let mut out = vec![0x5au8; HEADER_ROOM + FRAME];
    let encap = per_call(|| {
        let len = session.encapsulate(black_box(&mut out[..]), black_box(FRAME));
        black_box(len.ok());
    });

    let mut incoming = vec![0x5au8; HEADER_ROOM + FRAME];
    let theirs = Session {
        local: peer,
        peer: local,
        ..session
    };
    let _ = theirs.encapsulate(&mut incoming, FRAME);
    let decap = per_call(|| {
        let payload = session.decapsulate(black_box(&incoming[..]));
        black_box(payload.map(|p| p.len()).ok());
    });

    println!("copy of {FRAME} bytes:        {:8.2} ns", copy);
    println!(
        "encapsulate {FRAME}-byte frame: {:8.2} ns  ratio to copy {:.3} (goal < 0.5)",
        encap,
        encap / copy
    );
    println!(
        "decapsulate {FRAME}-byte frame: {:8.2} ns  ratio to copy {:.3} (goal < 0.5)",
        decap,
        decap / copy
    );

    // PADI handling: a client's real PADI fed to an AC with no rate limit, so every one is
    // parsed, checked and answered with a PADO carrying a fresh cookie.
    let mut tx = [0u8; TX_BUFFER_LEN];
    let config = ClientConfig::new(peer, b"bench", b"host-uniq").expect("valid client config");
    let (_, padi_len) = Client::start(config, Instant::ZERO, &mut tx).expect("client starts");
    let padi = tx[..padi_len].to_vec();
    let mut ac_config = AcConfig::new(local, b"bench-ac", [7; 16]).expect("valid AC config");
    ac_config.padi_rate = None;
    let mut ac = AccessConcentrator::new(ac_config, [SessionSlot::FREE; 64]).expect("AC starts");
    let mut reply = [0u8; TX_BUFFER_LEN];
    let padi_time = per_call(|| {
        let out = ac.handle_frame(Instant::ZERO, black_box(&padi), &mut reply);
        black_box(out.transmit);
    });
    assert_eq!(
        ac.counters().padi_rate_limited,
        0,
        "every PADI was answered"
    );
    println!(
        "AC PADI -> PADO:              {:8.2} ns  = {:.0} PADI/s on one core",
        padi_time,
        1e9 / padi_time
    );
}
