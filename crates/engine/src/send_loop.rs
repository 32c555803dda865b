//! The send path in a loop, for benchmarks (feature `std`): one PPPoE VC with its session up,
//! and a lower edge that completes each transmitted frame at once. The engine's own benchmark
//! and the host's driver benchmark time this same loop, so their figures compare.

use crate::Engine;
use crate::batch::{Egress, Event, LinkParams};
use crate::ids::{BindingId, LineId, Route, SessionKey, TxTag, VcId};
use crate::platform::StdPlatform;
use crate::status::{PENDING, SUCCESS};

/// The platform of the loop: packets are plain numbers.
pub type LoopPlatform = StdPlatform<u64, u64>;

/// Keeps the frame the engine transmitted, to complete it in the same iteration.
#[derive(Default)]
struct CompletingLower {
    wire: Option<(TxTag, u64)>,
    completed: u64,
}

impl Egress<LoopPlatform> for CompletingLower {
    fn deliver(&mut self, event: Event<LoopPlatform>) {
        match event {
            Event::Transmit { tag, packet, .. } => self.wire = Some((tag, packet)),
            Event::SendComplete { status, .. } => {
                assert_eq!(status, SUCCESS);
                self.completed += 1;
            }
            _ => {}
        }
    }
}

/// A VC on `line` with a PPPoE session up (session id `line + 1` on binding 0) and activated.
/// Panics when the engine refuses a step: a benchmark has nothing to measure then.
pub fn connect(engine: &Engine<LoopPlatform>, line: u32) -> VcId {
    let mut sink = |_: Event<LoopPlatform>| {};
    let vc = engine.create_vc().expect("a VC");
    assert_eq!(engine.make_call(vc, LineId(line), &mut sink), PENDING);
    let key = SessionKey {
        session_id: line as u16 + 1,
        peer_mac: [2, 0, 0, 0, 0, line as u8],
        binding: BindingId(0),
    };
    let link = LinkParams {
        transmit_speed: 12_500_000,
        receive_speed: 12_500_000,
        send_window: 16,
    };
    assert_eq!(
        engine.session_up(vc, Route::Pppoe(key), link, &mut sink),
        PENDING
    );
    assert_eq!(engine.activate_vc_complete(vc, SUCCESS, &mut sink), SUCCESS);
    vc
}

/// Sends `packets` 1500-byte frames on `vc`, completing each transmit before the next send.
/// Kept out of line so callgrind can count exactly this loop
/// (`--toggle-collect=rswan_engine::send_loop::run`).
#[inline(never)]
pub fn run(engine: &Engine<LoopPlatform>, vc: VcId, packets: u64) {
    let mut lower = CompletingLower::default();
    for n in 0..packets {
        engine.send(vc, n, 1500, &mut lower);
        let (tag, packet) = lower.wire.take().expect("transmitted within the window");
        engine.transmit_complete(tag, packet, SUCCESS, &mut lower);
    }
    assert_eq!(lower.completed, packets);
}
