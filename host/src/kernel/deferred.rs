//! NDIS timer objects and I/O work items (WDK: NdisAllocateTimerObject, NdisSetTimerObject,
//! NdisCancelTimerObject, NdisFreeTimerObject, NDIS_TIMER_FUNCTION; NdisAllocateIoWorkItem,
//! NdisQueueIoWorkItem, NdisFreeIoWorkItem, NDIS_IO_WORKITEM_FUNCTION). Timer functions run
//! at DISPATCH_LEVEL and work items at PASSIVE_LEVEL on the emulated processors.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::checks::stop;
use super::processors;
use crate::loader::{call_handler, handles};
use crate::verifier::{Site, Violation};

#[derive(Debug)]
struct Timer {
    function: usize,
    default_context: usize,
    /// The generation of the queued expiry, if one is queued.
    queued: Option<u64>,
    generation: u64,
    allocated_at: Site,
}

#[derive(Debug)]
struct WorkItem {
    queued_at: Option<Site>,
    allocated_at: Site,
}

#[derive(Debug, Default)]
struct Table {
    timers: HashMap<usize, Timer>,
    work_items: HashMap<usize, WorkItem>,
}

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn unknown(what: &str, handle: usize, site: Site) -> ! {
    stop(&Violation::new(
        "NDIS_OBJECT",
        format!("{what} at {{site:0}} with {handle:#x}, which is not a live object of that kind"),
        vec![site],
    ))
}

/// NdisAllocateTimerObject: a new timer calling `function(_, context, _, _)`.
pub fn allocate_timer(function: usize, context: usize, site: Site) -> usize {
    let handle = handles::next();
    table().timers.insert(
        handle,
        Timer {
            function,
            default_context: context,
            queued: None,
            generation: 0,
            allocated_at: site,
        },
    );
    handle
}

/// The delay NdisSetTimerObject's DueTime stands for: negative is relative, in 100 ns units;
/// positive is an absolute system time (100 ns units since 1601).
pub fn due_delay(due_time: i64) -> Duration {
    if due_time <= 0 {
        return Duration::from_nanos(due_time.unsigned_abs().saturating_mul(100));
    }
    const UNIX_EPOCH_IN_1601_UNITS: u64 = 116_444_736_000_000_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let now_units = UNIX_EPOCH_IN_1601_UNITS + (now.as_nanos() / 100) as u64;
    Duration::from_nanos(
        (due_time as u64)
            .saturating_sub(now_units)
            .saturating_mul(100),
    )
}

fn arm(handle: usize, delay: Duration, period_ms: u32, context: usize, generation: u64) {
    processors::queue_timer(
        Instant::now() + delay,
        format!("the timer function of timer object {handle:#x}"),
        move || fire(handle, period_ms, context, generation),
    );
}

fn fire(handle: usize, period_ms: u32, context: usize, generation: u64) {
    let function = {
        let mut table = table();
        let Some(timer) = table.timers.get_mut(&handle) else {
            return;
        };
        if timer.queued != Some(generation) {
            return;
        }
        if period_ms == 0 {
            timer.queued = None;
        } else {
            arm(
                handle,
                Duration::from_millis(u64::from(period_ms)),
                period_ms,
                context,
                generation,
            );
        }
        timer.function
    };
    // NDIS_TIMER_FUNCTION(SystemSpecific1, FunctionContext, SystemSpecific2, SystemSpecific3).
    call_handler(function, &[0, context, 0, 0], "NDIS timer function");
}

/// NdisSetTimerObject; returns whether the timer was already queued.
pub fn set_timer(handle: usize, due_time: i64, period_ms: u32, context: usize, site: Site) -> bool {
    let mut table = table();
    let Some(timer) = table.timers.get_mut(&handle) else {
        unknown("NdisSetTimerObject", handle, site)
    };
    let was_queued = timer.queued.is_some();
    timer.generation += 1;
    let generation = timer.generation;
    timer.queued = Some(generation);
    let context = if context == 0 {
        timer.default_context
    } else {
        context
    };
    drop(table);
    arm(handle, due_delay(due_time), period_ms, context, generation);
    was_queued
}

/// NdisCancelTimerObject; returns whether a queued expiry was removed.
pub fn cancel_timer(handle: usize, site: Site) -> bool {
    let mut table = table();
    let Some(timer) = table.timers.get_mut(&handle) else {
        unknown("NdisCancelTimerObject", handle, site)
    };
    timer.queued.take().is_some()
}

/// NdisFreeTimerObject.
pub fn free_timer(handle: usize, site: Site) {
    if table().timers.remove(&handle).is_none() {
        unknown("NdisFreeTimerObject", handle, site);
    }
}

/// NdisAllocateIoWorkItem.
pub fn allocate_work_item(site: Site) -> usize {
    let handle = handles::next();
    table().work_items.insert(
        handle,
        WorkItem {
            queued_at: None,
            allocated_at: site,
        },
    );
    handle
}

/// NdisQueueIoWorkItem: `routine(context, handle)` runs at PASSIVE_LEVEL on a processor. A
/// work item is queued at most once at a time.
pub fn queue_work_item(handle: usize, routine: usize, context: usize, site: Site) {
    let mut objects = table();
    let Some(item) = objects.work_items.get_mut(&handle) else {
        unknown("NdisQueueIoWorkItem", handle, site)
    };
    if let Some(first) = item.queued_at {
        stop(&Violation::new(
            "WORK_ITEM",
            format!(
                "work item {handle:#x} queued at {{site:0}} while still queued from {{site:1}}"
            ),
            vec![site, first],
        ));
    }
    item.queued_at = Some(site);
    drop(objects);
    processors::queue_work_item(format!("the work item routine of {handle:#x}"), move || {
        if let Some(item) = table().work_items.get_mut(&handle) {
            item.queued_at = None;
        }
        call_handler(routine, &[context, handle], "NDIS I/O work item routine");
    });
}

/// NdisFreeIoWorkItem: not while it is queued.
pub fn free_work_item(handle: usize, site: Site) {
    let mut table = table();
    match table.work_items.get(&handle) {
        None => unknown("NdisFreeIoWorkItem", handle, site),
        Some(item) if item.queued_at.is_some() => stop(&Violation::new(
            "WORK_ITEM",
            format!("work item {handle:#x} freed at {{site:0}} while queued (from {{site:1}})"),
            vec![site, item.queued_at.unwrap_or(site)],
        )),
        Some(_) => {
            table.work_items.remove(&handle);
        }
    }
}

/// The unload-time check: every timer and work item was freed.
pub fn check_all_freed() {
    let table = table();
    if let Some(timer) = table.timers.values().next() {
        stop(&Violation::new(
            "NDIS_OBJECT_LEAK",
            format!(
                "{} timer object(s) not freed at unload; one allocated at {{site:0}}",
                table.timers.len()
            ),
            vec![timer.allocated_at],
        ));
    }
    if let Some(item) = table.work_items.values().next() {
        stop(&Violation::new(
            "NDIS_OBJECT_LEAK",
            format!(
                "{} I/O work item(s) not freed at unload; one allocated at {{site:0}}",
                table.work_items.len()
            ),
            vec![item.allocated_at],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_due_times_are_in_100ns_units() {
        assert_eq!(due_delay(-10_000), Duration::from_millis(1));
        assert_eq!(due_delay(0), Duration::ZERO);
    }
}
