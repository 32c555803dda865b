//! The IRQL of each emulated thread (WDK: "Managing Hardware Priorities"). Only the levels a
//! driver meets are modelled: PASSIVE_LEVEL, APC_LEVEL and DISPATCH_LEVEL.
#![forbid(unsafe_code)]

use std::cell::Cell;

pub type Irql = u8;
pub const PASSIVE_LEVEL: Irql = 0;
pub const APC_LEVEL: Irql = 1;
pub const DISPATCH_LEVEL: Irql = 2;

thread_local! {
    static CURRENT: Cell<Irql> = const { Cell::new(PASSIVE_LEVEL) };
}

/// The current thread's IRQL.
pub fn current() -> Irql {
    CURRENT.with(Cell::get)
}

/// Sets the current thread's IRQL and returns the previous one.
pub fn set(irql: Irql) -> Irql {
    CURRENT.with(|c| c.replace(irql))
}

pub fn name(irql: Irql) -> &'static str {
    match irql {
        PASSIVE_LEVEL => "PASSIVE_LEVEL",
        APC_LEVEL => "APC_LEVEL",
        DISPATCH_LEVEL => "DISPATCH_LEVEL",
        _ => "an IRQL above DISPATCH_LEVEL",
    }
}
