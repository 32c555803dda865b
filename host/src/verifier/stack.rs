//! The driver's stack depth: how far below the point where NDIS called it the driver's stack
//! may go (measured by the loader, `loader::stack`).
//!
//! The kernel stack is 24 KB on x64 (WDK: "How do I keep my driver from running out of
//! kernel-mode stack?"; 12 KB on x86, "approximately three pages" in "Using the Kernel Stack";
//! that page gives no ARM64 figure, so ARM64 is taken as x64: unverified). The driver does not
//! own it: its entry points run on stacks that NDIS and whoever called NDIS already used (the
//! PnP manager for MiniportInitializeEx, TCP/IP and NDISWAN on a send, the interrupt and DPC
//! path on a receive), and NDIS's own frames below the driver's import calls need room too.
//! No public page says how much those take, so half the stack is reserved for them and the
//! driver gets the other half: [`DRIVER_BUDGET_BYTES`].
//!
//! MiniportInitializeEx is over it today (about 16 KB: `Adapter::new` returns the whole
//! adapter by value, a 13 KB frame; the image check lists it): [`OVER_BUDGET`] holds it to what
//! it takes now until the driver builds the adapter in place (issue 5). On the 12 KB x86 stack
//! that entry cannot work at all (its frame alone is 9.4 KB there): unverified, as x86 images
//! do not run here.
#![forbid(unsafe_code)]

use super::Violation;

/// The kernel stack the host's images run on (x64 and ARM64).
pub const KERNEL_STACK_BYTES: usize = 24 * 1024;
/// What NDIS and the callers above it are assumed to use, and NDIS below the driver's calls.
pub const RESERVE_BYTES: usize = 12 * 1024;
/// How deep the driver's own stack may go in one entry.
pub const DRIVER_BUDGET_BYTES: usize = KERNEL_STACK_BYTES - RESERVE_BYTES;

/// Entry points known to go deeper than the budget, with the depth each may not exceed (the
/// deepest measured on x64 and ARM64, rounded up to 1 KiB). Shrink them; do not raise a cap.
pub const OVER_BUDGET: [(&str, usize); 1] = [("MiniportInitializeEx", 17 * 1024)];

/// How deep entry point `entry` may go.
pub fn limit(entry: &str) -> usize {
    OVER_BUDGET
        .iter()
        .find(|(name, _)| *name == entry)
        .map_or(DRIVER_BUDGET_BYTES, |&(_, cap)| cap)
}

/// Whether `entry` is held to the general budget (not listed in [`OVER_BUDGET`]).
pub fn budgeted(entry: &str) -> bool {
    OVER_BUDGET.iter().all(|(name, _)| *name != entry)
}

/// Entry `entry` reached `depth` bytes of stack below its caller.
pub fn within_budget(entry: &str, depth: usize) -> Result<(), Violation> {
    let limit = limit(entry);
    if depth <= limit {
        return Ok(());
    }
    let what = if budgeted(entry) {
        format!(
            "the driver's budget of {DRIVER_BUDGET_BYTES} bytes ({KERNEL_STACK_BYTES}-byte x64 \
             kernel stack less {RESERVE_BYTES} for NDIS and its callers)"
        )
    } else {
        format!(
            "the {limit} bytes it took when this rule was written (verifier::stack::OVER_BUDGET)"
        )
    };
    Err(Violation::new(
        "STACK",
        format!(
            "{entry} went {depth} bytes deep into the kernel stack, over {what}; the image \
             check's package table names the largest frames"
        ),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_deeper_than_the_budget_breaks_the_rule() {
        assert!(within_budget("MiniportSendNetBufferLists", 0).is_ok());
        assert!(within_budget("MiniportSendNetBufferLists", DRIVER_BUDGET_BYTES).is_ok());
        let violation =
            within_budget("ProtocolReceiveNetBufferLists", DRIVER_BUDGET_BYTES + 8).unwrap_err();
        assert_eq!(violation.rule, "STACK");
        let text = violation.to_string();
        assert!(text.contains("ProtocolReceiveNetBufferLists"), "{text}");
        assert!(
            text.contains(&format!("{} bytes deep", DRIVER_BUDGET_BYTES + 8)),
            "{text}"
        );
    }

    #[test]
    fn an_entry_known_to_be_deep_may_not_grow_past_its_cap() {
        let (entry, cap) = OVER_BUDGET[0];
        assert!(cap > DRIVER_BUDGET_BYTES);
        assert!(within_budget(entry, cap).is_ok());
        let text = within_budget(entry, cap + 16).unwrap_err().to_string();
        assert!(text.contains("OVER_BUDGET"), "{text}");
        assert!(!budgeted(entry));
        assert!(budgeted("MiniportCoSendNetBufferLists"));
        assert_eq!(limit("MiniportCoSendNetBufferLists"), DRIVER_BUDGET_BYTES);
    }

    #[test]
    fn the_budget_leaves_the_reserve_of_the_documented_stack() {
        assert_eq!(KERNEL_STACK_BYTES, 24576);
        assert_eq!(DRIVER_BUDGET_BYTES + RESERVE_BYTES, KERNEL_STACK_BYTES);
    }
}
