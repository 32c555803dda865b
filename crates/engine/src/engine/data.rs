//! The data path: sends from NDISWAN, transmit completions from the lower edge, receives.
//! Each takes one VC lock at a time (a receive takes one session shard lock before it) and
//! allocates nothing.

use super::Engine;
use crate::batch::{Egress, Event, LinkParams};
use crate::ids::{Route, SessionKey, TxTag, VcId};
use crate::platform::Platform;
use crate::state::VcPhase;
use crate::status::{self, Status};
use crate::sync::Entry;

/// A receive error the driver's frame parser found on a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveError {
    /// A malformed PPPoE session frame (`FramingErrors`).
    Framing,
    /// A frame whose checksum failed, where the lower edge reports one (`CRCErrors`).
    Crc,
    /// A frame of impossible length (`AlignmentErrors`).
    Alignment,
}

impl<P: Platform> Engine<P> {
    /// `MiniportCoSendNetBufferLists`, one frame: queue it on the VC (transmitting as far as
    /// the send window allows) or complete it at once with `NOT_ACCEPTED` (no active call),
    /// `CLOSING`, `PAUSED`, `RESOURCES` (queue full) or `INVALID_PARAMETER` (stale VC).
    /// `len` is the frame's length in bytes, for the statistics.
    pub fn send(&self, vc: VcId, packet: P::Tx, len: u32, sink: &mut impl Egress<P>) {
        let mut entry = Entry::<P>::new();
        let mut packet = Some(packet);
        let done = self.vc_op(&mut entry, sink, vc, |slot, id, vcx| {
            if let Some(packet) = packet.take() {
                slot.admit(id, packet, len, vcx.batch());
            }
        });
        if done.is_none() {
            self.reject_stale(&mut entry, sink, vc, packet);
        }
    }

    fn reject_stale(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        packet: Option<P::Tx>,
    ) {
        if let Some(packet) = packet {
            entry.ctx().lock(&self.adapter).send_stale_vc += 1;
            entry.batch().push(Event::SendComplete {
                vc,
                packet,
                status: status::INVALID_PARAMETER,
            });
        }
        entry.flush(sink);
    }

    /// The lower edge finished a frame from [`Event::Transmit`] (`ProtocolSendNetBufferListsComplete`,
    /// or the loopback peer took it): the send completes upward with `status`, in order, and
    /// the window moves on. May be called from inside the egress (an inline completion).
    pub fn transmit_complete(
        &self,
        tag: TxTag,
        packet: P::Tx,
        status: Status,
        sink: &mut impl Egress<P>,
    ) {
        let mut entry = Entry::<P>::new();
        let mut packet = Some(packet);
        let done = self.vc_op(&mut entry, sink, tag.vc, |slot, id, vcx| {
            if let Some(packet) = packet.take() {
                slot.transmitted(id, tag, packet, status, vcx.batch());
            }
        });
        if done.is_none() {
            self.reject_stale(&mut entry, sink, tag.vc, packet);
        }
    }

    /// A PPPoE session frame from the lower edge (`ProtocolReceiveNetBufferLists`, ethertype
    /// 0x8864), already stripped to its PPP payload by the driver: indicated on the session's
    /// VC, or returned in [`Event::ReceiveDropped`] and counted.
    pub fn receive(&self, key: SessionKey, packet: P::Rx, len: u32, sink: &mut impl Egress<P>) {
        let mut entry = Entry::<P>::new();
        match self.sessions.lookup(entry.ctx(), &key) {
            Some(vc) => self.receive_in(&mut entry, sink, vc, Route::Pppoe(key), packet, len),
            None => {
                entry.ctx().lock(&self.adapter).receive_unknown_session += 1;
                entry.batch().push(Event::ReceiveDropped {
                    packet,
                    status: status::NOT_ACCEPTED,
                });
                entry.flush(sink);
            }
        }
    }

    /// A frame for a loopback VC, from its peer's [`Event::Transmit`].
    pub fn receive_on_vc(&self, vc: VcId, packet: P::Rx, len: u32, sink: &mut impl Egress<P>) {
        let mut entry = Entry::<P>::new();
        let route = {
            let Some(lock) = self.vcs.get(vc.index() as usize) else {
                entry.batch().push(Event::ReceiveDropped {
                    packet,
                    status: status::INVALID_PARAMETER,
                });
                entry.flush(sink);
                return;
            };
            let slot = entry.ctx().lock(lock);
            slot.route
        };
        match route {
            Some(route @ Route::Loopback(_)) => {
                self.receive_in(&mut entry, sink, vc, route, packet, len)
            }
            _ => {
                entry.batch().push(Event::ReceiveDropped {
                    packet,
                    status: status::NOT_ACCEPTED,
                });
                entry.flush(sink);
            }
        }
    }

    fn receive_in(
        &self,
        entry: &mut Entry<P>,
        sink: &mut impl Egress<P>,
        vc: VcId,
        route: Route,
        packet: P::Rx,
        len: u32,
    ) {
        let mut packet = Some(packet);
        let done = self.vc_op(entry, sink, vc, |slot, id, vcx| {
            let Some(packet) = packet.take() else { return };
            if slot.route == Some(route) {
                slot.received(id, packet, len, vcx.batch());
            } else {
                // The session ended and the slot moved on between the lookup and the lock.
                slot.stats.receive_discards += 1;
                vcx.batch().push(Event::ReceiveDropped {
                    packet,
                    status: status::NOT_ACCEPTED,
                });
            }
        });
        if done.is_none() {
            if let Some(packet) = packet {
                entry.batch().push(Event::ReceiveDropped {
                    packet,
                    status: status::NOT_ACCEPTED,
                });
            }
            entry.flush(sink);
        }
    }

    /// Counts a receive error on a session, for `OID_WAN_CO_GET_STATS_INFO`.
    pub fn count_receive_error(&self, key: SessionKey, error: ReceiveError) {
        let mut entry = Entry::<P>::new();
        let Some(vc) = self.sessions.lookup(entry.ctx(), &key) else {
            entry.ctx().lock(&self.adapter).receive_unknown_session += 1;
            return;
        };
        let Some(lock) = self.vcs.get(vc.index() as usize) else {
            return;
        };
        let mut slot = entry.ctx().lock(lock);
        if slot.is(vc) {
            let wan = &mut slot.stats.wan;
            match error {
                ReceiveError::Framing => wan.framing_errors += 1,
                ReceiveError::Crc => wan.crc_errors += 1,
                ReceiveError::Alignment => wan.alignment_errors += 1,
            }
            slot.stats.receive_discards += 1;
        }
    }

    /// New link parameters from the transport (speed, flow control). The VC's window becomes
    /// `min(params.send_window, MaxSendWindow)`: 0 stops transmitting (sends queue, then
    /// `RESOURCES`), a larger one resumes at once. Indicated to NDISWAN as
    /// `NDIS_STATUS_WAN_CO_LINKPARAMS` when the call is connected.
    pub fn set_link_params(
        &self,
        vc: VcId,
        params: LinkParams,
        sink: &mut impl Egress<P>,
    ) -> Status {
        let mut entry = Entry::<P>::new();
        let result = self.vc_op(&mut entry, sink, vc, |slot, _, _| {
            slot.link = params;
            if slot.phase != VcPhase::Active {
                return status::SUCCESS;
            }
            match slot.try_control(super::vc::Control::LinkParams(slot.reported_link())) {
                Ok(()) => status::SUCCESS,
                // The window is already in force; only the indication waits for a later change.
                Err(()) => status::RESOURCES,
            }
        });
        result.unwrap_or(status::INVALID_PARAMETER)
    }
}
