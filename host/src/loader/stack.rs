//! How deep the driver's stack goes below the point where the host called it.
//!
//! When the host enters the driver (`call::call`) it notes its own stack pointer at the call
//! and starts the processor block's lowest-stack-pointer slot there; every import thunk the
//! driver then calls lowers the slot to the stack pointer it was entered with, which is the
//! driver's own at that call (`thunks`). When the driver returns, the entry's depth is the
//! caller's stack pointer minus the lowest one seen. That is a lower bound of the driver's real
//! depth: stack the driver used between import calls, or in a leaf function that calls no
//! import, is not seen (its fixed frames are what the image check's frame budget bounds).
//!
//! Nested entries (the driver calls NDIS, which calls the driver again on the same thread, as
//! a send completing inline does) are measured each from its own entry: the inner entry saves
//! the outer's slot and puts it back, so the outer depth counts only the outer driver frames
//! and the host's stand-in for NDIS in between counts for neither.
//!
//! Each depth is recorded per entry point (the name `call_handler` is given) for the run's
//! report (`report_observations`) and checked against the verifier's budget.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::cpu;
use crate::report;
use crate::verifier::stack as stack_rule;

/// The deepest depth each entry point reached in this run, by name.
static DEEPEST: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Starts measuring a call at stack pointer `sp` (0 when the caller's own code stores it in
/// the slot, as the AArch64 call does); returns the enclosing entry's slot, for [`finish`].
pub fn start(sp: usize) -> usize {
    cpu::enter();
    let outer = cpu::lowest_sp();
    cpu::set_lowest_sp(sp);
    outer
}

/// Ends the measurement of a call made at `sp`: restores the enclosing entry's slot `outer`
/// and returns how far below `sp` the driver's stack went at an import call (0 if none).
pub fn finish(sp: usize, outer: usize) -> usize {
    let lowest = cpu::lowest_sp();
    cpu::set_lowest_sp(outer);
    if lowest == 0 {
        0
    } else {
        sp.saturating_sub(lowest)
    }
}

/// Records that entry point `entry` reached `depth` bytes.
pub fn record(entry: &str, depth: usize) {
    let mut deepest = DEEPEST.lock().unwrap_or_else(|e| e.into_inner());
    let slot = deepest.entry(entry.to_owned()).or_default();
    *slot = (*slot).max(depth);
}

/// The deepest entry of this run, as (entry point, bytes), if any called an import.
pub fn deepest() -> Option<(String, usize)> {
    let deepest = DEEPEST.lock().unwrap_or_else(|e| e.into_inner());
    deepest
        .iter()
        .filter(|&(_, &depth)| depth > 0)
        .max_by_key(|&(_, &depth)| depth)
        .map(|(entry, &depth)| (entry.clone(), depth))
}

/// Writes the run's stack observations: the deepest entry (`stack.driver_max_bytes`,
/// `stack.driver_max_entry`), the budget every entry is held to (`stack.budget_bytes`), and
/// `stack.entry.<name>` for every entry point.
pub fn report_observations() {
    let none = || ("none".to_owned(), 0);
    let (entry, depth) = deepest().unwrap_or_else(none);
    report::observe("stack.driver_max_bytes", depth);
    report::observe("stack.driver_max_entry", entry);
    report::observe("stack.budget_bytes", stack_rule::DRIVER_BUDGET_BYTES);
    let deepest = DEEPEST.lock().unwrap_or_else(|e| e.into_inner());
    for (entry, depth) in deepest.iter() {
        report::observe(&format!("stack.entry.{}", entry.replace(' ', "_")), depth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the thunks do at an import call: lower the slot to their stack pointer.
    fn import_call_at(sp: usize) {
        if cpu::lowest_sp() > sp {
            cpu::set_lowest_sp(sp);
        }
    }

    #[test]
    fn nested_entries_are_measured_each_from_its_own_entry() {
        std::thread::spawn(|| {
            let outer = start(0x10_0000);
            import_call_at(0xF_F000);
            // NDIS (the host) calls the driver again on the same thread, further down.
            let inner_sp = 0xF_E000;
            let saved = start(inner_sp);
            assert_eq!(saved, 0xF_F000, "the outer entry's lowest is kept aside");
            import_call_at(0xF_C800);
            import_call_at(0xF_D000);
            assert_eq!(finish(inner_sp, saved), 0x1800);
            import_call_at(0xF_F800);
            assert_eq!(finish(0x10_0000, outer), 0x1000);
            assert_eq!(
                cpu::lowest_sp(),
                outer,
                "measuring stops with the outermost entry"
            );
            let quiet = start(0x10_0000);
            assert_eq!(finish(0x10_0000, quiet), 0, "no import call, no depth");
        })
        .join()
        .unwrap();
    }
}
