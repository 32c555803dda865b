//! The lock-order graph over every spin lock the driver takes, as Driver Verifier's deadlock
//! detection builds it (WDK: "Deadlock Detection"): an edge A -> B means B was acquired while
//! A was held. A new edge that closes a cycle is a potential deadlock even if the two paths
//! never ran at the same time, and is reported with the acquisition sites of both orders.
//! Recursive acquisition, release of a lock the thread does not hold, and release out of
//! order (NDIS: nested spin locks are released in the reverse order, because each stores the
//! IRQL to restore) are reported too.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use super::{Site, Violation};

/// A spin lock, named by its address in driver memory.
pub type LockId = usize;
/// An emulated thread.
pub type ThreadKey = u64;

/// One lock a thread holds, with where it was acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub lock: LockId,
    pub site: Site,
}

/// An edge of the graph with the acquisition sites that created it.
type Edge = (LockId, LockId, (Site, Site));

#[derive(Debug, Default)]
pub struct LockOrder {
    /// `edges[a][b]` = (where a was acquired, where b was acquired) the first time b was
    /// taken while a was held.
    edges: HashMap<LockId, HashMap<LockId, (Site, Site)>>,
    held: HashMap<ThreadKey, Vec<Held>>,
    /// Every lock ever acquired, and how many acquisitions there were.
    seen: std::collections::HashSet<LockId>,
    acquisitions: u64,
}

impl LockOrder {
    /// A path of edges from `from` to `to`, if the graph has one.
    fn path(&self, from: LockId, to: LockId) -> Option<Vec<Edge>> {
        let mut stack = vec![(from, Vec::new())];
        let mut seen = std::collections::HashSet::new();
        while let Some((lock, path)) = stack.pop() {
            if lock == to {
                return Some(path);
            }
            if !seen.insert(lock) {
                continue;
            }
            if let Some(next) = self.edges.get(&lock) {
                for (&successor, &sites) in next {
                    let mut longer = path.clone();
                    longer.push((lock, successor, sites));
                    stack.push((successor, longer));
                }
            }
        }
        None
    }

    /// `thread` acquires `lock` at `site`.
    pub fn acquire(
        &mut self,
        thread: ThreadKey,
        lock: LockId,
        site: Site,
    ) -> Result<(), Violation> {
        let held = self.held.get(&thread).cloned().unwrap_or_default();
        if let Some(previous) = held.iter().find(|h| h.lock == lock) {
            return Err(Violation::new(
                "LOCK_RECURSION",
                format!(
                    "spin lock {lock:#x} acquired at {{site:0}} by a thread that already holds it \
                     (acquired at {{site:1}}): a spin lock is not recursive, this deadlocks"
                ),
                vec![site, previous.site],
            ));
        }
        for outer in &held {
            if let Some(path) = self.path(lock, outer.lock) {
                let mut sites = vec![outer.site, site];
                let mut text = format!(
                    "lock-order cycle: spin lock {lock:#x} acquired at {{site:1}} while holding \
                     {:#x} (acquired at {{site:0}}), but elsewhere the opposite order was taken:",
                    outer.lock
                );
                for (from, to, (from_site, to_site)) in path {
                    let n = sites.len();
                    text.push_str(&format!(
                        " {to:#x} acquired at {{site:{}}} while holding {from:#x} (acquired at {{site:{n}}});",
                        n + 1
                    ));
                    sites.push(from_site);
                    sites.push(to_site);
                }
                text.push_str(" two threads taking these paths at once deadlock");
                return Err(Violation::new("LOCK_ORDER", text, sites));
            }
        }
        for outer in &held {
            self.edges
                .entry(outer.lock)
                .or_default()
                .entry(lock)
                .or_insert((outer.site, site));
        }
        self.held
            .entry(thread)
            .or_default()
            .push(Held { lock, site });
        self.seen.insert(lock);
        self.acquisitions += 1;
        Ok(())
    }

    /// `thread` releases `lock` at `site`.
    pub fn release(
        &mut self,
        thread: ThreadKey,
        lock: LockId,
        site: Site,
    ) -> Result<(), Violation> {
        let held = self.held.entry(thread).or_default();
        let Some(position) = held.iter().rposition(|h| h.lock == lock) else {
            return Err(Violation::new(
                "LOCK_RELEASE",
                format!(
                    "spin lock {lock:#x} released at {{site:0}} by a thread that does not hold it"
                ),
                vec![site],
            ));
        };
        if position + 1 != held.len() {
            let innermost = held[held.len() - 1];
            return Err(Violation::new(
                "LOCK_RELEASE_ORDER",
                format!(
                    "spin lock {lock:#x} (acquired at {{site:1}}) released at {{site:0}} while \
                     {:#x}, acquired later at {{site:2}}, is still held: nested NDIS spin locks \
                     must be released in reverse order, each restores the IRQL it saved",
                    innermost.lock
                ),
                vec![site, held[position].site, innermost.site],
            ));
        }
        held.pop();
        Ok(())
    }

    /// Distinct locks acquired, acquisitions, and ordered pairs (edges) in the graph.
    pub fn stats(&self) -> (usize, u64, usize) {
        let edges = self.edges.values().map(HashMap::len).sum();
        (self.seen.len(), self.acquisitions, edges)
    }

    /// The locks `thread` holds, outermost first.
    pub fn held(&self, thread: ThreadKey) -> &[Held] {
        self.held.get(&thread).map_or(&[], Vec::as_slice)
    }

    /// Forgets every lock in `[start, start + len)` (its memory was freed, so the address may
    /// name a different lock later). Fails if a thread still holds one of them.
    pub fn forget_range(&mut self, start: usize, len: usize, site: Site) -> Result<(), Violation> {
        let inside = |lock: LockId| lock >= start && lock < start + len;
        for held in self.held.values() {
            if let Some(h) = held.iter().find(|h| inside(h.lock)) {
                return Err(Violation::new(
                    "LOCK_FREED_WHILE_HELD",
                    format!(
                        "memory of spin lock {:#x} (acquired at {{site:1}}) freed at {{site:0}} while it is held",
                        h.lock
                    ),
                    vec![site, h.site],
                ));
            }
        }
        self.edges.retain(|&lock, _| !inside(lock));
        for successors in self.edges.values_mut() {
            successors.retain(|&lock, _| !inside(lock));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: LockId = 0xA0;
    const B: LockId = 0xB0;
    const C: LockId = 0xC0;

    #[test]
    fn consistent_order_passes_on_any_thread() {
        let mut order = LockOrder::default();
        for thread in [1, 2, 1] {
            order.acquire(thread, A, Site(0x10)).unwrap();
            order.acquire(thread, B, Site(0x20)).unwrap();
            order.release(thread, B, Site(0x30)).unwrap();
            order.release(thread, A, Site(0x40)).unwrap();
        }
        assert!(order.held(1).is_empty());
    }

    #[test]
    fn an_inversion_is_caught_even_if_the_paths_never_overlap() {
        let mut order = LockOrder::default();
        order.acquire(1, A, Site(0x10)).unwrap();
        order.acquire(1, B, Site(0x20)).unwrap();
        order.release(1, B, Site(0x30)).unwrap();
        order.release(1, A, Site(0x40)).unwrap();
        // Later, on another thread: B then A.
        order.acquire(2, B, Site(0x50)).unwrap();
        let violation = order.acquire(2, A, Site(0x60)).unwrap_err();
        assert_eq!(violation.rule, "LOCK_ORDER");
        // Both acquisition sites of both orders are named.
        for site in [0x10, 0x20, 0x50, 0x60] {
            assert!(violation.sites.contains(&Site(site)), "{violation}");
        }
        let text = violation.to_string();
        assert!(text.contains("0x60") && text.contains("0x50"), "{text}");
        assert!(text.contains("0x10") && text.contains("0x20"), "{text}");
    }

    #[test]
    fn a_longer_cycle_is_caught() {
        let mut order = LockOrder::default();
        for (first, second) in [(A, B), (B, C)] {
            order.acquire(1, first, Site(first)).unwrap();
            order.acquire(1, second, Site(second)).unwrap();
            order.release(1, second, Site(0)).unwrap();
            order.release(1, first, Site(0)).unwrap();
        }
        order.acquire(2, C, Site(0xC1)).unwrap();
        let violation = order.acquire(2, A, Site(0xA1)).unwrap_err();
        assert_eq!(violation.rule, "LOCK_ORDER");
    }

    #[test]
    fn recursion_is_caught() {
        let mut order = LockOrder::default();
        order.acquire(1, A, Site(0x10)).unwrap();
        let violation = order.acquire(1, A, Site(0x20)).unwrap_err();
        assert_eq!(violation.rule, "LOCK_RECURSION");
    }

    #[test]
    fn release_by_a_non_holder_and_out_of_order_are_caught() {
        let mut order = LockOrder::default();
        order.acquire(1, A, Site(0x10)).unwrap();
        assert_eq!(
            order.release(2, A, Site(0x20)).unwrap_err().rule,
            "LOCK_RELEASE"
        );
        order.acquire(1, B, Site(0x30)).unwrap();
        assert_eq!(
            order.release(1, A, Site(0x40)).unwrap_err().rule,
            "LOCK_RELEASE_ORDER"
        );
    }

    #[test]
    fn freed_locks_are_forgotten_but_not_while_held() {
        let mut order = LockOrder::default();
        order.acquire(1, A, Site(0x10)).unwrap();
        order.acquire(1, B, Site(0x20)).unwrap();
        assert_eq!(
            order.forget_range(B, 8, Site(0x30)).unwrap_err().rule,
            "LOCK_FREED_WHILE_HELD"
        );
        order.release(1, B, Site(0x20)).unwrap();
        order.release(1, A, Site(0x10)).unwrap();
        order.forget_range(B, 8, Site(0x30)).unwrap();
        // A new lock at B's address starts with no history: B then A is fine now.
        order.acquire(2, B, Site(0x50)).unwrap();
        order.acquire(2, A, Site(0x60)).unwrap();
    }
}
