//! The KB Q219380 rule: nothing leaves the driver while it holds one of its spin locks. On NT
//! 4.0 SP4 Ndiswan.sys called down (and completed up) with its own lock held; the call came
//! back into it on the same thread and deadlocked. Every completion, indication, status
//! indication and lower send the driver makes is checked against the locks its thread holds
//! (DESIGN.md, "The two rules of the send path", rule 2).
#![forbid(unsafe_code)]

use super::lock_order::Held;
use super::{Site, Violation};

/// `call` (an NDIS function that hands something to another driver) was made at `site` by a
/// thread holding `held`.
pub fn check_no_lock_held(held: &[Held], call: &str, site: Site) -> Result<(), Violation> {
    let Some(innermost) = held.last() else {
        return Ok(());
    };
    Err(Violation::new(
        "Q219380",
        format!(
            "{call} called at {{site:0}} while holding driver spin lock {:#x} (acquired at {{site:1}}){}: \
             a completion, indication or lower send made under a lock can re-enter the driver \
             and deadlock (KB Q219380)",
            innermost.lock,
            if held.len() > 1 {
                format!(" and {} more", held.len() - 1)
            } else {
                String::new()
            }
        ),
        vec![site, innermost.site],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_without_locks_passes() {
        assert!(check_no_lock_held(&[], "NdisMCoSendNetBufferListsComplete", Site(1)).is_ok());
    }

    #[test]
    fn a_completion_under_a_lock_is_caught_with_both_sites() {
        let held = [Held {
            lock: 0x5000,
            site: Site(0x10),
        }];
        let violation =
            check_no_lock_held(&held, "NdisMCoSendNetBufferListsComplete", Site(0x20)).unwrap_err();
        assert_eq!(violation.rule, "Q219380");
        let text = violation.to_string();
        assert!(text.contains("NdisMCoSendNetBufferListsComplete"));
        assert!(text.contains("0x10") && text.contains("0x20") && text.contains("0x5000"));
    }
}
