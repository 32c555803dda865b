//! How large one function's fixed stack frame may be, and the driver's functions known to be
//! over that today.

use super::NamedFrame;

/// The largest fixed stack frame one function of the driver may have.
///
/// The kernel stack is 24 KB on x64 and 12 KB on x86 (WDK: "How do I keep my driver from
/// running out of kernel-mode stack?"; ARM64 has no figure on that page and is taken as x64,
/// unverified), and a miniport runs on a stack that NDIS, NDISWAN, the protocols above it and
/// the interrupt/DPC path have already used. Code analysis warns about kernel-mode functions
/// with frames over 1 KB (Microsoft: "Warning C6262": for driver projects "the value of
/// constant_2 is set to 1 KB"; "well-written drivers should have few functions that approach
/// this value"). 2 KiB is that warning's limit with room for one deliberate buffer (a 1500-byte
/// Ethernet payload): a sixth of the x86 stack and a twelfth of the x64 one, so a handful of
/// nested driver frames stays well inside what NDIS leaves.
pub const FRAME_BUDGET_BYTES: u32 = 2048;

/// Functions over the budget, with the frame each may not exceed (the largest of the three
/// architectures, rounded up to 256 bytes). `Transport::binding_up` runs once per binding at
/// PASSIVE_LEVEL and makes an access concentrator from its configuration (most of a kilobyte
/// each) before it moves into pool memory. A function not listed here, or a listed one that
/// grows, fails the image check; shrink them, do not raise a cap. (MiniportInitializeEx once
/// had a 13 KB frame, the adapter built by value; a PPPoE client and the deferred-work ring
/// were 2-3 KB frames. All are built in pool memory now.)
pub const OVER_BUDGET: [(&str, u32); 1] = [("rswan::transport::Transport::binding_up", 2_560)];

/// `name` without generic arguments (`a::f<T>` -> `a::f`).
fn base_name(name: &str) -> &str {
    name.split_once('<').map_or(name, |(base, _)| base)
}

/// One problem per frame over its limit (the budget, or its cap in [`OVER_BUDGET`]).
pub fn check(frames: &[NamedFrame]) -> Vec<String> {
    let mut over = Vec::new();
    let mut grown = Vec::new();
    for frame in frames {
        match OVER_BUDGET
            .iter()
            .find(|(name, _)| *name == base_name(&frame.name))
        {
            Some(&(_, cap)) if frame.bytes > cap => grown.push(format!("{frame} (cap {cap})")),
            Some(_) => {}
            None if frame.bytes > FRAME_BUDGET_BYTES => over.push(frame.to_string()),
            None => {}
        }
    }
    let mut problems = Vec::new();
    if !over.is_empty() {
        problems.push(format!(
            "{} function(s) have a stack frame over the {FRAME_BUDGET_BYTES}-byte budget of a \
             kernel-mode driver function (image_check::frame_budget): move large locals to pool \
             memory or build large values in place:\n{}",
            over.len(),
            over.join("\n")
        ));
    }
    if !grown.is_empty() {
        problems.push(format!(
            "{} function(s) known to be over the stack frame budget grew past their cap \
             (image_check::frame_budget::OVER_BUDGET; shrink them, do not raise the cap):\n{}",
            grown.len(),
            grown.join("\n")
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, bytes: u32) -> NamedFrame {
        NamedFrame {
            name: name.into(),
            rva: 0x1000,
            bytes,
        }
    }

    #[test]
    fn a_frame_over_the_budget_fails_with_its_name() {
        assert!(check(&[frame("rswan::small", FRAME_BUDGET_BYTES)]).is_empty());
        let problems = check(&[frame("rswan::big", FRAME_BUDGET_BYTES + 16)]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("2064 bytes in rswan::big"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_known_large_frame_may_not_grow_past_its_cap() {
        let (name, cap) = OVER_BUDGET[0];
        assert!(check(&[frame(name, cap)]).is_empty());
        let problems = check(&[frame(name, cap + 16)]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("grew past their cap"), "{problems:?}");
        let generic = format!("{name}<u8,closure_env$1>");
        assert!(check(&[frame(&generic, cap)]).is_empty());
        assert_eq!(check(&[frame(&generic, cap + 8)]).len(), 1);
    }
}
