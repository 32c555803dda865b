//! IRQL rules: each kernel or NDIS function runs at or below the IRQL its WDK page states,
//! spin lock acquisition raises to DISPATCH_LEVEL from at most DISPATCH_LEVEL, and the Dpr
//! variants are called at exactly DISPATCH_LEVEL.
#![forbid(unsafe_code)]

use super::{Site, Violation};
use crate::kernel::irql::{DISPATCH_LEVEL, Irql, name};

/// `function`, documented for IRQL <= `max`, was called at `current`.
pub fn at_most(current: Irql, max: Irql, function: &str, site: Site) -> Result<(), Violation> {
    if current <= max {
        return Ok(());
    }
    Err(Violation::new(
        "IRQL",
        format!(
            "{function} called at {} from {{site:0}}; its WDK page allows at most {}",
            name(current),
            name(max)
        ),
        vec![site],
    ))
}

/// `function`, documented for IRQL = DISPATCH_LEVEL (NdisDprAcquireSpinLock and the like).
pub fn at_dispatch(current: Irql, function: &str, site: Site) -> Result<(), Violation> {
    if current == DISPATCH_LEVEL {
        return Ok(());
    }
    Err(Violation::new(
        "IRQL",
        format!(
            "{function} called at {} from {{site:0}}; it must be called at DISPATCH_LEVEL",
            name(current)
        ),
        vec![site],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::irql::PASSIVE_LEVEL;

    #[test]
    fn a_passive_only_call_at_dispatch_is_caught() {
        assert!(at_most(PASSIVE_LEVEL, PASSIVE_LEVEL, "X", Site(1)).is_ok());
        let violation = at_most(
            DISPATCH_LEVEL,
            PASSIVE_LEVEL,
            "NdisMRegisterMiniportDriver",
            Site(0x42),
        )
        .unwrap_err();
        assert_eq!(violation.rule, "IRQL");
        assert!(
            violation
                .to_string()
                .contains("NdisMRegisterMiniportDriver")
        );
        assert!(violation.to_string().contains("0x42"));
    }

    #[test]
    fn dpr_calls_need_dispatch() {
        assert!(at_dispatch(DISPATCH_LEVEL, "NdisDprAcquireSpinLock", Site(1)).is_ok());
        assert!(at_dispatch(PASSIVE_LEVEL, "NdisDprAcquireSpinLock", Site(1)).is_err());
    }
}
