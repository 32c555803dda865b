//! The books of the call-churn stress run. Every frame carries a [`Tag`]: which end of which
//! call sent it (or, for the access concentrator's frames, which end it is for) and its number
//! in that flow. The books count what was sent, how each send completed and what arrived where,
//! and hold each rule the run checks: a send fails only with a closing status and only once its
//! call began to close; a frame arrives only on its own call, once, in order; nothing sent on a
//! call that stayed up is lost; the driver's statistics agree with what NDISWAN saw.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap, HashSet};

use rswan_ndis::status;
use rswan_ndis::wan::NdisWanCoGetStatsInfo;

/// The PPP protocol field of every stress frame: IPv4 (RFC 1332), which the driver carries
/// without looking inside.
const PPP_PROTOCOL: [u8; 2] = [0x00, 0x21];
/// Protocol field, direction, slot, call and sequence number.
pub const TAG_LEN: usize = 2 + 1 + 2 + 4 + 4;

/// Which way a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// NDISWAN sent it on the slot's VC.
    Up,
    /// The access concentrator sent it to the slot's PPPoE session.
    Down,
}

/// One direction of one end of one call: the unit in which frames are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    pub direction: Direction,
    pub slot: u16,
    pub call: u32,
}

/// What a stress frame says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub flow: Flow,
    pub seq: u32,
}

impl Tag {
    /// A frame of `len` bytes (at least [`TAG_LEN`]) carrying the tag, padded with a pattern
    /// of the sequence number.
    pub fn frame(&self, len: usize) -> Vec<u8> {
        let mut frame = Vec::with_capacity(len.max(TAG_LEN));
        frame.extend_from_slice(&PPP_PROTOCOL);
        frame.push(match self.flow.direction {
            Direction::Up => 0,
            Direction::Down => 1,
        });
        frame.extend_from_slice(&self.flow.slot.to_be_bytes());
        frame.extend_from_slice(&self.flow.call.to_be_bytes());
        frame.extend_from_slice(&self.seq.to_be_bytes());
        let fill = self.seq as u8;
        frame.resize(len.max(TAG_LEN), fill);
        frame
    }

    /// The tag of a frame, if it is a stress frame whose padding is intact.
    pub fn parse(frame: &[u8]) -> Option<Tag> {
        if frame.len() < TAG_LEN || frame[..2] != PPP_PROTOCOL {
            return None;
        }
        let direction = match frame[2] {
            0 => Direction::Up,
            1 => Direction::Down,
            _ => return None,
        };
        let slot = u16::from_be_bytes([frame[3], frame[4]]);
        let call = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]);
        let seq = u32::from_be_bytes([frame[9], frame[10], frame[11], frame[12]]);
        if frame[TAG_LEN..].iter().any(|&b| b != seq as u8) {
            return None;
        }
        Some(Tag {
            flow: Flow {
                direction,
                slot,
                call,
            },
            seq,
        })
    }
}

/// Which slots are PPPoE call ends and which are loopback pairs: slots `0..pppoe` dial PPPoE;
/// then each pair is a caller slot (even offset) and its answerer (the next slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub pppoe: u16,
    pub pairs: u16,
}

impl Layout {
    pub fn slots(&self) -> u16 {
        self.pppoe + 2 * self.pairs
    }

    pub fn is_pppoe(&self, slot: u16) -> bool {
        slot < self.pppoe
    }

    /// The other end of a loopback slot's calls.
    pub fn peer(&self, slot: u16) -> Option<u16> {
        let relative = slot.checked_sub(self.pppoe)?;
        (relative < 2 * self.pairs).then_some(self.pppoe + (relative ^ 1))
    }
}

/// How one send ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sends {
    pub sent: u64,
    pub succeeded: u64,
    pub succeeded_bytes: u64,
    /// Completed with NDIS_STATUS_CLOSING.
    pub closing: u64,
    /// Completed with NDIS_STATUS_NOT_ACCEPTED (the call was already over in the driver).
    pub not_accepted: u64,
}

impl Sends {
    fn completed(&self) -> u64 {
        self.succeeded + self.closing + self.not_accepted
    }
}

/// What arrived of one flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Arrivals {
    frames: u64,
    last: Option<u32>,
}

/// A broken rule: its name and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub rule: &'static str,
    pub detail: String,
}

fn broken(rule: &'static str, detail: String) -> Result<(), Broken> {
    Err(Broken { rule, detail })
}

/// What the driver's OID_WAN_CO_GET_STATS_INFO said about one call end, when its call closed
/// (or at the end of the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatsSnapshot {
    slot: u16,
    call: u32,
    stats: NdisWanCoGetStatsInfo,
}

/// The books of the run.
#[derive(Debug)]
pub struct Ledger {
    layout: Layout,
    sends: BTreeMap<Flow, Sends>,
    arrivals: HashMap<Flow, Arrivals>,
    /// Frames NDISWAN received on each (slot, call), and their bytes.
    received_on: HashMap<(u16, u32), (u64, u64)>,
    /// Frames the access concentrator sent down each flow.
    down_sent: HashMap<Flow, u64>,
    /// VC handle -> the (slot, call) it carried.
    vcs: HashMap<usize, (u16, u32)>,
    /// Calls connected, and those whose close began, with how they were closed.
    connected: HashSet<u32>,
    closing: HashMap<u32, &'static str>,
    /// Sends that failed because their call was closing, by how it was closed.
    failed_by_close: BTreeMap<&'static str, u64>,
    /// PPPoE calls NDPROXY closed, and the sessions' PADTs the AC saw.
    closed_locally: HashSet<u32>,
    padt_seen: HashSet<u32>,
    snapshots: Vec<StatsSnapshot>,
}

impl Ledger {
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            sends: BTreeMap::new(),
            arrivals: HashMap::new(),
            received_on: HashMap::new(),
            down_sent: HashMap::new(),
            vcs: HashMap::new(),
            connected: HashSet::new(),
            closing: HashMap::new(),
            failed_by_close: BTreeMap::new(),
            closed_locally: HashSet::new(),
            padt_seen: HashSet::new(),
            snapshots: Vec::new(),
        }
    }

    /// Call `call` is connected; `vcs` are the (slot, VC handle) of its ends.
    pub fn connected(&mut self, call: u32, vcs: &[(u16, usize)]) {
        for &(slot, handle) in vcs {
            self.vcs.insert(handle, (slot, call));
        }
        self.connected.insert(call);
    }

    /// Whether `call` is connected and nobody began to close it.
    pub fn is_up(&self, call: u32) -> bool {
        self.connected.contains(&call) && !self.closing.contains_key(&call)
    }

    /// A close of `call` begins (`how`, by either end): from now on its sends may fail with a
    /// closing status.
    pub fn closing(&mut self, call: u32, how: &'static str) {
        self.closing.insert(call, how);
    }

    /// Sends that failed because their call was closing, by how it was closed.
    pub fn failed_by_close(&self) -> &BTreeMap<&'static str, u64> {
        &self.failed_by_close
    }

    /// NDPROXY closed PPPoE call `call` itself: the driver owes the AC a PADT.
    pub fn closed_locally(&mut self, call: u32) {
        self.closed_locally.insert(call);
    }

    /// The AC saw the driver's PADT for `call`'s session.
    pub fn padt_seen(&mut self, call: u32) {
        self.padt_seen.insert(call);
    }

    pub fn sent(&mut self, flow: Flow) {
        self.sends.entry(flow).or_default().sent += 1;
    }

    /// A send of `len` bytes on `flow` completed with `result`.
    pub fn completed(
        &mut self,
        flow: Flow,
        seq: u32,
        len: usize,
        result: i32,
    ) -> Result<(), Broken> {
        let closing = self.closing.get(&flow.call).copied();
        let sends = self.sends.entry(flow).or_default();
        match (result, closing) {
            (status::SUCCESS, _) => {
                sends.succeeded += 1;
                sends.succeeded_bytes += len as u64;
            }
            (status::CLOSING | status::NOT_ACCEPTED, Some(how)) => {
                if result == status::CLOSING {
                    sends.closing += 1;
                } else {
                    sends.not_accepted += 1;
                }
                *self.failed_by_close.entry(how).or_default() += 1;
            }
            (status::CLOSING | status::NOT_ACCEPTED, None) => {
                return broken(
                    "STRESS_SEND_STATUS",
                    format!(
                        "send {seq} of {flow:?} completed with {result:#010x} but nobody had begun to close call {}",
                        flow.call
                    ),
                );
            }
            (other, _) => {
                return broken(
                    "STRESS_SEND_STATUS",
                    format!(
                        "send {seq} of {flow:?} completed with {other:#010x}: only SUCCESS, or CLOSING/NOT_ACCEPTED once the call closes, are expected of a send within the window"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The AC sent the next frame of down flow `flow`.
    pub fn down_sent(&mut self, flow: Flow) {
        *self.down_sent.entry(flow).or_default() += 1;
    }

    /// Frames the AC sent down `flow`, and how many of them NDISWAN received.
    pub fn down_progress(&self, flow: Flow) -> (u64, u64) {
        let sent = self.down_sent.get(&flow).copied().unwrap_or(0);
        let received = self.arrivals.get(&flow).map_or(0, |a| a.frames);
        (sent, received)
    }

    fn arrived(&mut self, tag: Tag, at: &str) -> Result<(), Broken> {
        let arrivals = self.arrivals.entry(tag.flow).or_default();
        if let Some(last) = arrivals.last
            && tag.seq <= last
        {
            let what = if tag.seq == last {
                "a second time"
            } else {
                "out of order"
            };
            return broken(
                "STRESS_ORDER",
                format!(
                    "frame {} of {:?} arrived {what} at {at}, after frame {last}",
                    tag.seq, tag.flow
                ),
            );
        }
        arrivals.last = Some(tag.seq);
        arrivals.frames += 1;
        Ok(())
    }

    /// NDISWAN received `frame` on VC `vc`.
    pub fn received(&mut self, vc: usize, frame: &[u8]) -> Result<(), Broken> {
        let Some(&(slot, call)) = self.vcs.get(&vc) else {
            return broken(
                "STRESS_MISROUTED",
                format!("a frame arrived on VC {vc:#x}, which carries no call of the run"),
            );
        };
        let Some(tag) = Tag::parse(frame) else {
            return broken(
                "STRESS_MISROUTED",
                format!(
                    "VC {vc:#x} (slot {slot}, call {call}) received a frame that is no stress frame or was damaged: {:02x?}",
                    &frame[..frame.len().min(32)]
                ),
            );
        };
        let expected_sender = match tag.flow.direction {
            Direction::Up => self.layout.peer(tag.flow.slot),
            Direction::Down => Some(tag.flow.slot),
        };
        let for_this_vc = match tag.flow.direction {
            Direction::Up => expected_sender == Some(slot),
            Direction::Down => tag.flow.slot == slot,
        };
        if !for_this_vc || tag.flow.call != call {
            return broken(
                "STRESS_MISROUTED",
                format!(
                    "frame {} of {:?} arrived on VC {vc:#x}, which is slot {slot} of call {call}",
                    tag.seq, tag.flow
                ),
            );
        }
        self.arrived(tag, &format!("VC {vc:#x}"))?;
        let on = self.received_on.entry((slot, call)).or_default();
        on.0 += 1;
        on.1 += frame.len() as u64;
        Ok(())
    }

    /// The AC received `payload` in the session of `slot`'s call `call`.
    pub fn received_by_ac(&mut self, slot: u16, call: u32, payload: &[u8]) -> Result<(), Broken> {
        let Some(tag) = Tag::parse(payload) else {
            return broken(
                "STRESS_MISROUTED",
                format!(
                    "the AC received a damaged frame in the session of slot {slot}, call {call}"
                ),
            );
        };
        let expected = Flow {
            direction: Direction::Up,
            slot,
            call,
        };
        if tag.flow != expected {
            return broken(
                "STRESS_MISROUTED",
                format!(
                    "frame {} of {:?} reached the AC in the session of slot {slot}, call {call}",
                    tag.seq, tag.flow
                ),
            );
        }
        self.arrived(tag, "the AC")
    }

    /// The driver's statistics of `slot`'s end of `call`, taken once its counters were final.
    pub fn snapshot(&mut self, slot: u16, call: u32, stats: NdisWanCoGetStatsInfo) {
        self.snapshots.push(StatsSnapshot { slot, call, stats });
    }

    /// Every send of the run, summed.
    pub fn totals(&self) -> Sends {
        self.sends.values().fold(Sends::default(), |mut total, s| {
            total.sent += s.sent;
            total.succeeded += s.succeeded;
            total.succeeded_bytes += s.succeeded_bytes;
            total.closing += s.closing;
            total.not_accepted += s.not_accepted;
            total
        })
    }

    /// Frames NDISWAN received in all, and their bytes.
    pub fn received_totals(&self) -> (u64, u64) {
        self.received_on
            .values()
            .fold((0, 0), |(f, b), (frames, bytes)| (f + frames, b + bytes))
    }

    /// Frames the AC received in all.
    pub fn received_by_ac_total(&self) -> u64 {
        self.arrivals
            .iter()
            .filter(|(flow, _)| flow.direction == Direction::Up && self.layout.is_pppoe(flow.slot))
            .map(|(_, a)| a.frames)
            .sum()
    }

    pub fn calls(&self) -> usize {
        self.connected.len()
    }

    /// (sends completed, frames arrived) over the whole run: once neither moves, the run is
    /// quiet.
    pub fn progress(&self) -> (u64, u64) {
        let completed = self.sends.values().map(Sends::completed).sum();
        let arrived = self.arrivals.values().map(|a| a.frames).sum();
        (completed, arrived)
    }

    /// Every send NDISWAN made completed, exactly as often as it was sent.
    pub fn check_every_send_completed(&self) -> Result<(), Broken> {
        for (flow, sends) in &self.sends {
            if sends.completed() != sends.sent {
                return broken(
                    "STRESS_ACCOUNTING",
                    format!(
                        "{flow:?}: {} frames sent but {} completed ({} succeeded, {} closing, {} not accepted)",
                        sends.sent,
                        sends.completed(),
                        sends.succeeded,
                        sends.closing,
                        sends.not_accepted
                    ),
                );
            }
        }
        Ok(())
    }

    /// On every call nobody closed, every frame whose send succeeded arrived (at the peer
    /// VC, or at the AC), and every frame the AC sent down arrived at NDISWAN.
    pub fn check_nothing_lost_on_open_calls(&self) -> Result<(), Broken> {
        for (flow, sends) in &self.sends {
            if self.closing.contains_key(&flow.call) {
                continue;
            }
            let arrived = self.arrivals.get(flow).map_or(0, |a| a.frames);
            if arrived != sends.succeeded {
                return broken(
                    "STRESS_LOST_FRAME",
                    format!(
                        "{flow:?} of a call nobody closed: {} sends succeeded but {arrived} frames arrived",
                        sends.succeeded
                    ),
                );
            }
        }
        for (flow, &sent) in &self.down_sent {
            if self.closing.contains_key(&flow.call) {
                continue;
            }
            let arrived = self.arrivals.get(flow).map_or(0, |a| a.frames);
            if arrived != sent {
                return broken(
                    "STRESS_LOST_FRAME",
                    format!(
                        "{flow:?} of a call nobody closed: the AC sent {sent} frames, NDISWAN received {arrived}"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Every PPPoE call NDPROXY closed sent its session's PADT to the AC (RFC 2516 section
    /// 5.5: either end ends a session with a PADT).
    pub fn check_padts(&self) -> Result<(), Broken> {
        match self.closed_locally.difference(&self.padt_seen).next() {
            Some(call) => broken(
                "STRESS_NO_PADT",
                format!("PPPoE call {call} was closed by NDPROXY but the AC never saw its PADT"),
            ),
            None => Ok(()),
        }
    }

    /// The driver's per-VC statistics agree with what NDISWAN saw on that VC: FramesSent and
    /// BytesSent count the sends that succeeded, FramesRcvd and BytesRcvd the frames
    /// indicated (WDK: OID_WAN_CO_GET_STATS_INFO).
    pub fn check_vc_statistics(&self) -> Result<(), Broken> {
        for snapshot in &self.snapshots {
            let flow = Flow {
                direction: Direction::Up,
                slot: snapshot.slot,
                call: snapshot.call,
            };
            let sends = self.sends.get(&flow).copied().unwrap_or_default();
            let (frames, bytes) = self
                .received_on
                .get(&(snapshot.slot, snapshot.call))
                .copied()
                .unwrap_or_default();
            check_counters(
                &format!("slot {} of call {}", snapshot.slot, snapshot.call),
                &snapshot.stats,
                &sends,
                frames,
                bytes,
            )?;
        }
        Ok(())
    }

    /// The adapter-wide statistics (every VC since the adapter started) agree with the sum of
    /// what NDISWAN saw.
    pub fn check_adapter_statistics(&self, stats: &NdisWanCoGetStatsInfo) -> Result<(), Broken> {
        let (frames, bytes) = self.received_totals();
        check_counters("the adapter", stats, &self.totals(), frames, bytes)
    }

    /// How many snapshots the per-VC statistics check covers.
    pub fn snapshots(&self) -> usize {
        self.snapshots.len()
    }
}

/// The four counters the driver keeps per VC against the host's view (as the driver's ULONGs,
/// which wrap).
fn check_counters(
    what: &str,
    stats: &NdisWanCoGetStatsInfo,
    sends: &Sends,
    received: u64,
    received_bytes: u64,
) -> Result<(), Broken> {
    let pairs = [
        ("FramesSent", stats.frames_sent, sends.succeeded),
        ("BytesSent", stats.bytes_sent, sends.succeeded_bytes),
        ("FramesRcvd", stats.frames_rcvd, received),
        ("BytesRcvd", stats.bytes_rcvd, received_bytes),
    ];
    for (name, driver, host) in pairs {
        if driver != host as u32 {
            return broken(
                "STRESS_STATISTICS",
                format!(
                    "{what}: OID_WAN_CO_GET_STATS_INFO says {name} {driver} but NDISWAN counted {host} (sends {sends:?})"
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout { pppoe: 2, pairs: 2 };

    fn up(slot: u16, call: u32) -> Flow {
        Flow {
            direction: Direction::Up,
            slot,
            call,
        }
    }

    #[test]
    fn a_tag_survives_its_frame_and_damage_is_seen() {
        let tag = Tag {
            flow: up(5, 77),
            seq: 300,
        };
        let frame = tag.frame(40);
        assert_eq!(frame.len(), 40);
        assert_eq!(Tag::parse(&frame), Some(tag));
        let mut damaged = frame.clone();
        damaged[30] ^= 1;
        assert_eq!(Tag::parse(&damaged), None);
        assert_eq!(Tag::parse(&frame[..TAG_LEN - 1]), None);
    }

    #[test]
    fn the_layout_pairs_loopback_slots_after_the_pppoe_ones() {
        assert_eq!(LAYOUT.slots(), 6);
        assert_eq!(LAYOUT.peer(0), None);
        assert_eq!(LAYOUT.peer(2), Some(3));
        assert_eq!(LAYOUT.peer(3), Some(2));
        assert_eq!(LAYOUT.peer(5), Some(4));
        assert_eq!(LAYOUT.peer(6), None);
    }

    #[test]
    fn a_closing_status_is_a_failure_only_before_the_close_began() {
        let mut ledger = Ledger::new(LAYOUT);
        ledger.connected(1, &[(2, 0x10), (3, 0x11)]);
        ledger.sent(up(2, 1));
        let early = ledger.completed(up(2, 1), 0, 20, status::CLOSING);
        assert_eq!(early.unwrap_err().rule, "STRESS_SEND_STATUS");
        ledger.closing(1, "test");
        ledger.sent(up(2, 1));
        assert!(ledger.completed(up(2, 1), 1, 20, status::CLOSING).is_ok());
        assert_eq!(ledger.failed_by_close().get("test"), Some(&1));
        ledger.sent(up(2, 1));
        let resources = ledger.completed(up(2, 1), 2, 20, status::RESOURCES);
        assert_eq!(resources.unwrap_err().rule, "STRESS_SEND_STATUS");
    }

    #[test]
    fn frames_must_arrive_on_their_call_once_and_in_order() {
        let mut ledger = Ledger::new(LAYOUT);
        ledger.connected(1, &[(2, 0x10), (3, 0x11)]);
        ledger.connected(2, &[(4, 0x20), (5, 0x21)]);
        let frame = |seq| {
            Tag {
                flow: up(2, 1),
                seq,
            }
            .frame(20)
        };
        assert!(ledger.received(0x11, &frame(0)).is_ok());
        assert!(ledger.received(0x11, &frame(2)).is_ok());
        for (vc, seq, rule) in [
            (0x11, 2, "STRESS_ORDER"),
            (0x11, 1, "STRESS_ORDER"),
            (0x21, 3, "STRESS_MISROUTED"),
            (0x10, 3, "STRESS_MISROUTED"),
            (0x99, 3, "STRESS_MISROUTED"),
        ] {
            let result = ledger.received(vc, &frame(seq));
            assert_eq!(
                result.map_err(|b| b.rule),
                Err(rule),
                "frame {seq} on {vc:#x}"
            );
        }
    }

    #[test]
    fn accounting_loss_and_statistics_are_checked() {
        let mut ledger = Ledger::new(LAYOUT);
        ledger.connected(1, &[(2, 0x10), (3, 0x11)]);
        for seq in 0..3 {
            ledger.sent(up(2, 1));
            ledger
                .completed(up(2, 1), seq, 20, status::SUCCESS)
                .unwrap();
        }
        ledger.sent(up(2, 1));
        assert_eq!(
            ledger.check_every_send_completed().unwrap_err().rule,
            "STRESS_ACCOUNTING"
        );
        ledger.completed(up(2, 1), 3, 20, status::SUCCESS).unwrap();
        ledger.check_every_send_completed().unwrap();
        for seq in 0..3 {
            let frame = Tag {
                flow: up(2, 1),
                seq,
            }
            .frame(20);
            ledger.received(0x11, &frame).unwrap();
        }
        assert_eq!(
            ledger.check_nothing_lost_on_open_calls().unwrap_err().rule,
            "STRESS_LOST_FRAME"
        );
        let frame = Tag {
            flow: up(2, 1),
            seq: 3,
        }
        .frame(20);
        ledger.received(0x11, &frame).unwrap();
        ledger.check_nothing_lost_on_open_calls().unwrap();
        let mut stats = NdisWanCoGetStatsInfo {
            frames_sent: 4,
            bytes_sent: 80,
            ..Default::default()
        };
        ledger.snapshot(2, 1, stats);
        ledger.check_vc_statistics().unwrap();
        stats.frames_sent = 3;
        ledger.snapshot(2, 1, stats);
        assert_eq!(
            ledger.check_vc_statistics().unwrap_err().rule,
            "STRESS_STATISTICS"
        );
        let adapter = NdisWanCoGetStatsInfo {
            frames_sent: 4,
            bytes_sent: 80,
            frames_rcvd: 4,
            bytes_rcvd: 80,
            ..Default::default()
        };
        ledger.check_adapter_statistics(&adapter).unwrap();
    }

    #[test]
    fn a_local_close_owes_the_ac_a_padt() {
        let mut ledger = Ledger::new(LAYOUT);
        ledger.closed_locally(7);
        assert_eq!(ledger.check_padts().unwrap_err().rule, "STRESS_NO_PADT");
        ledger.padt_seen(7);
        ledger.check_padts().unwrap();
    }
}
