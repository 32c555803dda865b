//! ntoskrnl.exe exports.

use crate::kernel::irql::{DISPATCH_LEVEL, Irql};
use crate::kernel::pool::{self, FREED_FILL, POOL_FLAG_UNINITIALIZED, UNINITIALIZED_FILL};
use crate::kernel::sync::{self, Acquire};
use crate::kernel::{caller, faults, require_irql_at_most};
use crate::loader::cpu;
use crate::loader::imports::lockword;
use crate::loader::memmap;
use crate::loader::memory;
use crate::report;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        ("KeBugCheckEx", ke_bug_check_ex as *const () as usize),
        ("ExAllocatePool2", ex_allocate_pool2 as *const () as usize),
        (
            "ExFreePoolWithTag",
            ex_free_pool_with_tag as *const () as usize,
        ),
        (
            "KeInitializeSpinLock",
            ke_initialize_spin_lock as *const () as usize,
        ),
        (
            "KeAcquireSpinLockRaiseToDpc",
            ke_acquire_spin_lock_raise_to_dpc as *const () as usize,
        ),
        (
            "KeReleaseSpinLock",
            ke_release_spin_lock as *const () as usize,
        ),
        ("DbgPrintEx", dbg_print_ex as *const () as usize),
        (
            "KeFlushQueuedDpcs",
            ke_flush_queued_dpcs as *const () as usize,
        ),
    ]
}

/// WDK: KeBugCheckEx. IRQL: any. "Brings down the system in a controlled manner": here the
/// scenario ends with a report of the code, the four parameters and the calling site.
extern "efiapi" fn ke_bug_check_ex(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> ! {
    report::bugcheck(code, [p1, p2, p3, p4], cpu::last_caller())
}

/// WDK: ExAllocatePool2. IRQL: <= DISPATCH_LEVEL (nonpaged). Zeroed unless
/// POOL_FLAG_UNINITIALIZED; NULL on failure.
extern "efiapi" fn ex_allocate_pool2(flags: u64, size: usize, tag: u32) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "ExAllocatePool2");
    if faults::should_fail("ExAllocatePool2") {
        return 0;
    }
    let fill = if flags & POOL_FLAG_UNINITIALIZED != 0 {
        UNINITIALIZED_FILL
    } else {
        0
    };
    let block = memory::allocate(size, fill);
    if block != 0 {
        pool::allocated(block, size, tag, caller());
    }
    block
}

/// WDK: ExFreePoolWithTag. IRQL: <= DISPATCH_LEVEL. The tag must match the allocation's.
extern "efiapi" fn ex_free_pool_with_tag(block: usize, tag: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "ExFreePoolWithTag");
    let size = pool::freed(block, Some(tag), caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: KeInitializeSpinLock. IRQL: any.
extern "efiapi" fn ke_initialize_spin_lock(lock: usize) {
    lockword::initialize(lock);
}

/// WDK: KeAcquireSpinLockRaiseToDpc. IRQL: <= DISPATCH_LEVEL; returns the previous IRQL.
extern "efiapi" fn ke_acquire_spin_lock_raise_to_dpc(lock: usize) -> Irql {
    let saved = sync::before_acquire(
        lock,
        caller(),
        Acquire::Raise,
        "KeAcquireSpinLockRaiseToDpc",
    );
    lockword::take(lock);
    sync::after_acquire();
    saved
}

/// WDK: KeReleaseSpinLock. IRQL: DISPATCH_LEVEL; lowers to `new_irql`.
extern "efiapi" fn ke_release_spin_lock(lock: usize, new_irql: Irql) {
    sync::before_release(lock, caller(), Acquire::Raise, "KeReleaseSpinLock");
    lockword::give(lock);
    sync::lower_to(new_irql);
}

/// How long KeFlushQueuedDpcs may wait before the host calls the DPCs stuck.
const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// WDK: KeFlushQueuedDpcs. IRQL: PASSIVE_LEVEL. Returns once every queued DPC has run.
extern "efiapi" fn ke_flush_queued_dpcs() {
    require_irql_at_most(crate::kernel::irql::PASSIVE_LEVEL, "KeFlushQueuedDpcs");
    if !crate::kernel::processors::flush_dpcs(FLUSH_LIMIT) {
        report::violation(
            "LOST_COMPLETION",
            &format!(
                "KeFlushQueuedDpcs still waiting after {} s: a DPC never finished",
                FLUSH_LIMIT.as_secs()
            ),
        );
    }
}

/// The longest message DbgPrintEx shows (its output is limited to 512 bytes).
const DBG_PRINT_MAX: usize = 512;

/// Reads a NUL-terminated string of at most DBG_PRINT_MAX bytes from live memory.
fn c_string(address: usize) -> String {
    let mut text = Vec::new();
    while text.len() < DBG_PRINT_MAX && memmap::is_live(address + text.len(), 1) {
        let byte = memmap::peek(address + text.len(), 1, "DbgPrintEx string")[0];
        if byte == 0 {
            break;
        }
        text.push(byte);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// Formats a DbgPrintEx message: %s (from live memory), %d, %u, %x, %X, %p, %c and %%, each
/// with the next argument; width and length modifiers are skipped.
fn format_message(format: &str, args: &[usize]) -> String {
    let mut out = String::new();
    let mut args = args.iter().copied();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        while chars.peek().is_some_and(|c| {
            c.is_ascii_digit() || matches!(c, '-' | '.' | 'l' | 'h' | 'I' | 'z' | '#')
        }) {
            chars.next();
        }
        let mut value = || args.next().unwrap_or(0);
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s') => out.push_str(&c_string(value())),
            Some('d' | 'i') => out.push_str(&(value() as i32).to_string()),
            Some('u') => out.push_str(&(value() as u32).to_string()),
            Some('x') => out.push_str(&format!("{:x}", value())),
            Some('X') => out.push_str(&format!("{:X}", value())),
            Some('p') => out.push_str(&format!("{:#x}", value())),
            Some('c') => out.push(char::from(value() as u8)),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// WDK: DbgPrintEx. IRQL: any (<= DIRQL). Variadic: in the Microsoft x64 convention the
/// variadic arguments arrive in R9 and then in the caller's stack slots, exactly like fixed
/// ones, and on ARM64 in X3 to X7 (Microsoft: "Overview of ARM64 ABI conventions",
/// "Addendum: Variadic functions": integer registers first, as for fixed arguments), so the
/// first five are read as parameters (slots past what the caller passed hold its own stack or
/// stale registers, unused by a format that does not ask for them). The message becomes a
/// `dbgprint` observation.
extern "efiapi" fn dbg_print_ex(
    component: u32,
    level: u32,
    format: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> i32 {
    let message = format_message(&c_string(format), &[a1, a2, a3, a4, a5]);
    report::observe(
        "dbgprint",
        format!("component={component} level={level} {}", message.trim_end()),
    );
    0
}

#[cfg(test)]
mod tests {
    use super::format_message;

    #[test]
    fn messages_are_formatted_like_printf() {
        assert_eq!(
            format_message(
                "n=%d u=%u x=%08x p=%p %% %c",
                &[usize::MAX, 7, 0xab, 0x10, 65]
            ),
            "n=-1 u=7 x=ab p=0x10 % A"
        );
    }
}
