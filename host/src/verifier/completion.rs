//! Exactly-once completion of what one side hands the other: NET_BUFFER_LISTs sent to the
//! driver (completed with NdisMCoSendNetBufferListsComplete), NBLs the driver indicates up
//! (returned through MiniportReturnNetBufferLists), NBLs it sends down (completed by the lower
//! edge), and OID requests (completed by return or by the ...OidRequestComplete call). NDIS
//! verifier checks OID double completion, and NdisTimedDataSend requires a send to complete
//! within 30 s (WDK: "NDIS Verifier", "NdisTimedDataSend rule").
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Site, Violation};

/// The documented limit of the NdisTimedDataSend rule.
pub const SEND_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What kind of object is tracked, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An NBL NDISWAN sent on a VC.
    UpperSend,
    /// An NBL the driver indicated up.
    Receive,
    /// An NBL the driver sent to the lower binding.
    LowerSend,
    /// An NBL the lower adapter indicated to the driver's protocol edge.
    LowerReceive,
    /// An NDIS_OID_REQUEST.
    OidRequest,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::UpperSend => "NET_BUFFER_LIST sent to the miniport",
            Kind::Receive => "NET_BUFFER_LIST indicated up",
            Kind::LowerSend => "NET_BUFFER_LIST sent to the lower binding",
            Kind::LowerReceive => "NET_BUFFER_LIST indicated to the protocol edge",
            Kind::OidRequest => "OID request",
        }
    }

    fn rule(self) -> &'static str {
        match self {
            Kind::OidRequest => "OID_COMPLETION",
            _ => "NBL_COMPLETION",
        }
    }
}

/// Outstanding objects of one kind, by address.
#[derive(Debug)]
pub struct Tracker {
    kind: Kind,
    outstanding: HashMap<usize, (Instant, Site)>,
    completed: u64,
}

impl Tracker {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            outstanding: HashMap::new(),
            completed: 0,
        }
    }

    /// `object` was handed over at `site` (the host's own hand-overs use Site(0)).
    pub fn handed_over(&mut self, object: usize, site: Site) -> Result<(), Violation> {
        if let Some((_, first)) = self.outstanding.get(&object) {
            return Err(Violation::new(
                self.kind.rule(),
                format!(
                    "{} {object:#x} handed over again at {{site:0}} before it was completed (first at {{site:1}})",
                    self.kind.name()
                ),
                vec![site, *first],
            ));
        }
        self.outstanding.insert(object, (Instant::now(), site));
        Ok(())
    }

    /// `object` was completed at `site`.
    pub fn completed(&mut self, object: usize, site: Site) -> Result<(), Violation> {
        if self.outstanding.remove(&object).is_none() {
            return Err(Violation::new(
                self.kind.rule(),
                format!(
                    "{} {object:#x} completed at {{site:0}} but it is not outstanding: completed twice, or never handed over",
                    self.kind.name()
                ),
                vec![site],
            ));
        }
        self.completed += 1;
        Ok(())
    }

    /// Whether `object` has been handed over and not completed.
    pub fn is_outstanding(&self, object: usize) -> bool {
        self.outstanding.contains_key(&object)
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    pub fn completed_count(&self) -> u64 {
        self.completed
    }

    /// Fails if any object has been outstanding longer than `limit` at `now`.
    pub fn check_age(&self, now: Instant, limit: Duration) -> Result<(), Violation> {
        match self
            .outstanding
            .iter()
            .find(|(_, (since, _))| now.duration_since(*since) > limit)
        {
            Some((object, (since, site))) => Err(Violation::new(
                self.kind.rule(),
                format!(
                    "{} {object:#x} (handed over at {{site:0}}) still not completed after {:.1} s (limit {} s)",
                    self.kind.name(),
                    now.duration_since(*since).as_secs_f64(),
                    limit.as_secs()
                ),
                vec![*site],
            )),
            None => Ok(()),
        }
    }

    /// Fails if anything is still outstanding (at halt or unload).
    pub fn check_drained(&self, when: &str) -> Result<(), Violation> {
        match self.outstanding.iter().next() {
            Some((object, (_, site))) => Err(Violation::new(
                self.kind.rule(),
                format!(
                    "{} {object:#x} (handed over at {{site:0}}) never completed before {when}; {} outstanding in all",
                    self.kind.name(),
                    self.outstanding.len()
                ),
                vec![*site],
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_once_passes() {
        let mut t = Tracker::new(Kind::UpperSend);
        t.handed_over(0x100, Site(0)).unwrap();
        t.handed_over(0x200, Site(0)).unwrap();
        t.completed(0x200, Site(1)).unwrap();
        t.completed(0x100, Site(1)).unwrap();
        t.check_drained("halt").unwrap();
        assert_eq!(t.completed_count(), 2);
    }

    #[test]
    fn double_completion_is_caught() {
        let mut t = Tracker::new(Kind::UpperSend);
        t.handed_over(0x100, Site(0)).unwrap();
        t.completed(0x100, Site(0x10)).unwrap();
        let violation = t.completed(0x100, Site(0x20)).unwrap_err();
        assert_eq!(violation.rule, "NBL_COMPLETION");
        assert!(violation.to_string().contains("0x20"));
    }

    #[test]
    fn completing_an_unknown_oid_is_caught() {
        let mut t = Tracker::new(Kind::OidRequest);
        assert_eq!(
            t.completed(0x300, Site(0x10)).unwrap_err().rule,
            "OID_COMPLETION"
        );
    }

    #[test]
    fn a_lost_completion_is_caught_at_halt_and_by_age() {
        let mut t = Tracker::new(Kind::LowerSend);
        t.handed_over(0x100, Site(0x44)).unwrap();
        let violation = t.check_drained("MiniportHaltEx").unwrap_err();
        assert!(violation.to_string().contains("0x44"));
        let later = Instant::now() + Duration::from_secs(31);
        assert!(t.check_age(later, SEND_TIME_LIMIT).is_err());
        assert!(t.check_age(Instant::now(), SEND_TIME_LIMIT).is_ok());
    }

    #[test]
    fn handing_over_twice_is_caught() {
        let mut t = Tracker::new(Kind::Receive);
        t.handed_over(0x100, Site(1)).unwrap();
        assert!(t.handed_over(0x100, Site(2)).is_err());
    }
}
