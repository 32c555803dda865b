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
//! Every entry point is held to that budget. MiniportInitializeEx once went 16 KB deep (the
//! adapter, built by value, was a 13 KB frame); it is now built in pool memory.
#![forbid(unsafe_code)]

use super::Violation;

/// The kernel stack the host's images run on (x64 and ARM64).
pub const KERNEL_STACK_BYTES: usize = 24 * 1024;
/// What NDIS and the callers above it are assumed to use, and NDIS below the driver's calls.
pub const RESERVE_BYTES: usize = 12 * 1024;
/// How deep the driver's own stack may go in one entry.
pub const DRIVER_BUDGET_BYTES: usize = KERNEL_STACK_BYTES - RESERVE_BYTES;

/// Entry `entry` reached `depth` bytes of stack below its caller.
pub fn within_budget(entry: &str, depth: usize) -> Result<(), Violation> {
    if depth <= DRIVER_BUDGET_BYTES {
        return Ok(());
    }
    Err(Violation::new(
        "STACK",
        format!(
            "{entry} went {depth} bytes deep into the kernel stack, over the driver's budget of \
             {DRIVER_BUDGET_BYTES} bytes ({KERNEL_STACK_BYTES}-byte x64 kernel stack less \
             {RESERVE_BYTES} for NDIS and its callers); the image check's package table names \
             the largest frames"
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
    fn the_budget_leaves_the_reserve_of_the_documented_stack() {
        assert_eq!(KERNEL_STACK_BYTES, 24576);
        assert_eq!(DRIVER_BUDGET_BYTES + RESERVE_BYTES, KERNEL_STACK_BYTES);
    }
}
