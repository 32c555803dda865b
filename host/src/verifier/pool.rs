//! Pool bookkeeping with tags, as Driver Verifier's pool tracking does (WDK: "Pool
//! Tracking"): a free must name a live allocation (and, for ExFreePoolWithTag, its tag), and
//! nothing may be left when the driver unloads (bug check 0xC4/0x62 on Windows).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use super::{Site, Violation};

/// A pool tag as the four characters it is written with.
pub fn tag_text(tag: u32) -> String {
    tag.to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub size: usize,
    pub tag: u32,
    pub site: Site,
}

#[derive(Debug, Default)]
pub struct Pool {
    live: BTreeMap<usize, Allocation>,
    allocations: u64,
}

impl Pool {
    pub fn allocated(&mut self, address: usize, allocation: Allocation) {
        self.live.insert(address, allocation);
        self.allocations += 1;
    }

    /// Frees `address`; `tag` is checked when the free names one.
    pub fn freed(
        &mut self,
        address: usize,
        tag: Option<u32>,
        site: Site,
    ) -> Result<Allocation, Violation> {
        let Some(allocation) = self.live.get(&address).copied() else {
            return Err(Violation::new(
                "POOL_FREE",
                format!(
                    "free of {address:#x} at {{site:0}}, which is not a live pool allocation (freed twice, or never allocated)"
                ),
                vec![site],
            ));
        };
        if let Some(tag) = tag
            && tag != allocation.tag
        {
            return Err(Violation::new(
                "POOL_TAG",
                format!(
                    "free of {address:#x} at {{site:0}} with tag '{}', but it was allocated at {{site:1}} with tag '{}'",
                    tag_text(tag),
                    tag_text(allocation.tag)
                ),
                vec![site, allocation.site],
            ));
        }
        self.live.remove(&address);
        Ok(allocation)
    }

    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Bytes of every live allocation together.
    pub fn live_bytes(&self) -> usize {
        self.live.values().map(|a| a.size).sum()
    }

    pub fn total_allocations(&self) -> u64 {
        self.allocations
    }

    /// The live allocation containing `address`, if any.
    pub fn containing(&self, address: usize) -> Option<(usize, Allocation)> {
        let (&start, &allocation) = self.live.range(..=address).next_back()?;
        (address < start + allocation.size).then_some((start, allocation))
    }

    /// Fails listing every allocation still live (at unload).
    pub fn check_no_leaks(&self) -> Result<(), Violation> {
        if self.live.is_empty() {
            return Ok(());
        }
        let mut sites = Vec::new();
        let mut text = format!(
            "{} pool allocation(s) not freed at unload:",
            self.live.len()
        );
        for (address, allocation) in self.live.iter().take(16) {
            text.push_str(&format!(
                " {} bytes tag '{}' at {address:#x} allocated at {{site:{}}};",
                allocation.size,
                tag_text(allocation.tag),
                sites.len()
            ));
            sites.push(allocation.site);
        }
        Err(Violation::new("POOL_LEAK", text, sites))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: u32 = u32::from_le_bytes(*b"rswn");

    fn alloc(size: usize) -> Allocation {
        Allocation {
            size,
            tag: TAG,
            site: Site(0x77),
        }
    }

    #[test]
    fn balanced_allocations_pass() {
        let mut pool = Pool::default();
        pool.allocated(0x1000, alloc(16));
        pool.freed(0x1000, Some(TAG), Site(1)).unwrap();
        pool.check_no_leaks().unwrap();
        assert_eq!(pool.total_allocations(), 1);
    }

    #[test]
    fn a_leak_names_tag_size_and_site() {
        let mut pool = Pool::default();
        pool.allocated(0x1000, alloc(48));
        let violation = pool.check_no_leaks().unwrap_err();
        let text = violation.to_string();
        assert_eq!(violation.rule, "POOL_LEAK");
        assert!(text.contains("'rswn'") && text.contains("48 bytes") && text.contains("0x77"));
    }

    #[test]
    fn double_free_and_wrong_tag_are_caught() {
        let mut pool = Pool::default();
        pool.allocated(0x1000, alloc(16));
        assert_eq!(
            pool.freed(0x1000, Some(0x1234), Site(1)).unwrap_err().rule,
            "POOL_TAG"
        );
        pool.freed(0x1000, None, Site(1)).unwrap();
        assert_eq!(
            pool.freed(0x1000, None, Site(2)).unwrap_err().rule,
            "POOL_FREE"
        );
    }

    #[test]
    fn containing_finds_interior_addresses() {
        let mut pool = Pool::default();
        pool.allocated(0x1000, alloc(16));
        assert_eq!(pool.containing(0x100f).map(|(a, _)| a), Some(0x1000));
        assert_eq!(pool.containing(0x1010), None);
    }
}
