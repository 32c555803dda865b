//! Received NBLs the protocol edge keeps and lends upward. An NBL the lower adapter indicated
//! without NDIS_RECEIVE_FLAGS_RESOURCES is the protocol's until NdisReturnNetBufferLists; with
//! RESOURCES it is NDIS's again as soon as ProtocolReceiveNetBufferLists returns (WDK:
//! ProtocolReceiveNetBufferLists, NdisReturnNetBufferLists). A driver that indicates the data
//! of a received NBL up its own miniport edge must therefore not return (or, with RESOURCES,
//! let go of) that NBL while the NBL it indicated up still describes its memory. A binding is
//! paused only once its receive indications are returned (WDK: "Pausing a Binding"), and no
//! return may follow its close (NdisCloseAdapterEx). Exactly-once return itself is
//! [`super::completion`]'s.
#![forbid(unsafe_code)]

use super::{Site, Violation};

const RULE: &str = "NBL_LENDING";

/// How a received NBL leaves the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reclaim {
    /// The driver returned it with NdisReturnNetBufferLists.
    Returned,
    /// It was indicated with RESOURCES and the receive handler returned.
    Resources,
}

/// Whether two address ranges (start, end) share a byte.
fn overlap(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// A received NBL whose buffers are `lower_memory` leaves the driver (`how`): no NBL the driver
/// indicated up and that is not returned yet (`indicated_up`: each NBL with the memory its
/// data describes) may still point into those buffers.
pub fn check_reclaim(
    lower: usize,
    lower_memory: &[(usize, usize)],
    indicated_up: &[(usize, Vec<(usize, usize)>)],
    how: Reclaim,
    site: Site,
) -> Result<(), Violation> {
    let holder = indicated_up.iter().find(|(_, memory)| {
        memory
            .iter()
            .any(|up| lower_memory.iter().any(|low| overlap(*up, *low)))
    });
    let Some((up, _)) = holder else {
        return Ok(());
    };
    let message = match how {
        Reclaim::Returned => format!(
            "received NET_BUFFER_LIST {lower:#x} returned at {{site:0}} while NET_BUFFER_LIST {up:#x}, indicated up and not yet returned, still describes its data"
        ),
        Reclaim::Resources => format!(
            "received NET_BUFFER_LIST {lower:#x} was indicated with NDIS_RECEIVE_FLAGS_RESOURCES, but NET_BUFFER_LIST {up:#x}, indicated up and not yet returned, still describes its data after the receive handler returned: the driver retained it"
        ),
    };
    Err(Violation::new(RULE, message, vec![site]))
}

/// A binding's pause or close (`event`) finished with `outstanding` received NBLs not yet
/// returned.
pub fn check_binding_quiet(
    event: &str,
    binding: usize,
    outstanding: usize,
    site: Site,
) -> Result<(), Violation> {
    if outstanding == 0 {
        return Ok(());
    }
    Err(Violation::new(
        RULE,
        format!(
            "{event} of binding {binding:#x} finished at {{site:0}} with {outstanding} received NET_BUFFER_LIST(s) not returned (WDK: Pausing a Binding; NdisCloseAdapterEx)"
        ),
        vec![site],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOWER: [(usize, usize); 2] = [(0x1000, 0x1040), (0x2000, 0x2600)];

    #[test]
    fn a_return_with_nothing_pointing_into_the_buffers_passes() {
        let up = [(0x9000, vec![(0x3000, 0x3100)])];
        check_reclaim(0x50, &LOWER, &up, Reclaim::Returned, Site(1)).unwrap();
        check_reclaim(0x50, &LOWER, &up, Reclaim::Resources, Site(1)).unwrap();
        check_reclaim(0x50, &LOWER, &[], Reclaim::Returned, Site(1)).unwrap();
    }

    #[test]
    fn returning_an_nbl_still_lent_up_is_caught() {
        let up = [(0x9000, vec![(0x2014, 0x2100)])];
        let violation = check_reclaim(0x50, &LOWER, &up, Reclaim::Returned, Site(7)).unwrap_err();
        assert_eq!(violation.rule, RULE);
        assert!(violation.to_string().contains("0x9000"));
        assert!(violation.to_string().contains("returned at 0x7"));
    }

    #[test]
    fn keeping_a_resources_indication_is_caught() {
        let up = [(0x9000, vec![(0x103f, 0x1041)])];
        let violation = check_reclaim(0x50, &LOWER, &up, Reclaim::Resources, Site(0)).unwrap_err();
        assert!(violation.to_string().contains("retained"));
    }

    #[test]
    fn adjacent_memory_is_not_shared() {
        let up = [(0x9000, vec![(0x1040, 0x1100), (0x0f00, 0x1000)])];
        check_reclaim(0x50, &LOWER, &up, Reclaim::Returned, Site(1)).unwrap();
    }

    #[test]
    fn a_pause_or_close_with_receives_outstanding_is_caught() {
        check_binding_quiet("the pause", 0x77, 0, Site(1)).unwrap();
        let violation = check_binding_quiet("the pause", 0x77, 2, Site(1)).unwrap_err();
        assert!(violation.to_string().contains("2 received"));
        assert!(check_binding_quiet("NdisCloseAdapterEx", 0x77, 1, Site(1)).is_err());
    }
}
