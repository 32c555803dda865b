//! The phases of a call/VC and of a line, and the one table of legal VC transitions.
//!
//! A line's phase is derived from the phase of the call on it, so the two cannot disagree.

/// The phase of a VC and the call it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VcPhase {
    /// Created (`CoCreateVc`), no call.
    Idle,
    /// Outgoing call: make call pending, transport discovering.
    Dialing,
    /// Incoming call dispatched, waiting for `CmIncomingCallComplete`.
    Offering,
    /// Session up; `NdisMCmActivateVc` under way.
    Activating,
    /// Call connected: sends and receives flow.
    Active,
    /// Call ending: queued sends complete with `CLOSING`, in-flight ones are awaited.
    Closing,
    /// Every send completed; `NdisMCmDeactivateVc` under way.
    Deactivating,
    /// The remote end hung up and the VC is deactivated; waiting for `CmCloseCall`.
    Dropped,
}

impl VcPhase {
    /// Whether the engine may move a VC from `self` to `to`. The engine checks every change
    /// against this table (and panics on a change outside it: an engine bug).
    pub const fn may_become(self, to: VcPhase) -> bool {
        use VcPhase::*;
        matches!(
            (self, to),
            (Idle, Dialing)
                | (Idle, Offering)
                | (Dialing, Activating)
                | (Dialing, Idle)
                | (Offering, Activating)
                | (Offering, Idle)
                | (Offering, Dropped)
                | (Activating, Active)
                | (Activating, Closing)
                | (Activating, Idle)
                | (Activating, Dropped)
                | (Active, Closing)
                | (Closing, Deactivating)
                | (Deactivating, Idle)
                | (Deactivating, Dropped)
                | (Dropped, Idle)
        )
    }

    /// True while the call exists from the client's point of view.
    pub const fn has_call(self) -> bool {
        !matches!(self, VcPhase::Idle)
    }
}

/// The phase of a line (TAPI's view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinePhase {
    /// No call.
    Idle,
    /// An outgoing call is being set up.
    Dialing,
    /// An incoming call is ringing or being answered.
    Offering,
    /// A call is connected.
    Connected,
    /// A call is being torn down.
    Disconnecting,
}

impl LinePhase {
    /// The line's phase given the phase of its call and the call's direction.
    pub const fn of_call(phase: VcPhase, outgoing: bool) -> LinePhase {
        match phase {
            VcPhase::Idle => LinePhase::Idle,
            VcPhase::Dialing => LinePhase::Dialing,
            VcPhase::Offering => LinePhase::Offering,
            VcPhase::Activating if outgoing => LinePhase::Dialing,
            VcPhase::Activating => LinePhase::Offering,
            VcPhase::Active => LinePhase::Connected,
            VcPhase::Closing | VcPhase::Deactivating | VcPhase::Dropped => LinePhase::Disconnecting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VcPhase::*;

    const ALL: [VcPhase; 8] = [
        Idle,
        Dialing,
        Offering,
        Activating,
        Active,
        Closing,
        Deactivating,
        Dropped,
    ];

    #[test]
    fn every_phase_reaches_idle_and_idle_reaches_active() {
        // Breadth-first over the table: no phase is a trap, and a call can always connect.
        for start in ALL {
            let mut seen = [false; 8];
            let mut frontier = [start; 1].to_vec();
            while let Some(p) = frontier.pop() {
                let i = ALL.iter().position(|q| *q == p).unwrap();
                if core::mem::replace(&mut seen[i], true) {
                    continue;
                }
                frontier.extend(ALL.into_iter().filter(|q| p.may_become(*q)));
            }
            assert!(seen[0], "{start:?} cannot get back to Idle");
            if start == Idle {
                assert!(seen[4], "Idle cannot reach Active");
            }
        }
    }

    #[test]
    fn no_shortcuts_around_draining() {
        // A connected call never skips Closing/Deactivating: its sends must complete first.
        for to in [Idle, Dropped, Deactivating, Dialing] {
            assert!(!Active.may_become(to));
        }
        assert!(!Closing.may_become(Idle));
        assert!(!Idle.may_become(Active));
        assert_eq!(LinePhase::of_call(Activating, true), LinePhase::Dialing);
        assert_eq!(LinePhase::of_call(Dropped, false), LinePhase::Disconnecting);
    }
}
