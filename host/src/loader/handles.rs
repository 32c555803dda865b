//! Opaque NDIS handles (NDIS_HANDLE values NDIS gives the driver). They point into a reserved
//! range with no access at all, so a driver that dereferences one faults at once and the
//! report shows an address inside this range.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::map::Mapping;

const RANGE: usize = 1 << 20;
const STRIDE: usize = 16;

fn range() -> &'static Mapping {
    static RANGE_MAPPING: OnceLock<Mapping> = OnceLock::new();
    RANGE_MAPPING
        .get_or_init(|| Mapping::new(RANGE, libc::PROT_NONE).expect("reserving the handle range"))
}

/// A fresh handle value, never handed out before in this process.
pub fn next() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let index = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(index * STRIDE < RANGE, "handle range exhausted");
    range().base() + index * STRIDE
}

/// Whether `address` lies in the handle range.
pub fn contains(address: usize) -> bool {
    let mapping = range();
    address >= mapping.base() && address < mapping.base() + mapping.len()
}
