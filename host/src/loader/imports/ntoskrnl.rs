//! ntoskrnl.exe exports.

use crate::kernel::irql::{DISPATCH_LEVEL, Irql};
use crate::kernel::pool::{self, FREED_FILL, POOL_FLAG_UNINITIALIZED, UNINITIALIZED_FILL};
use crate::kernel::sync::{self, Acquire};
use crate::kernel::{caller, require_irql_at_most};
use crate::loader::cpu;
use crate::loader::imports::lockword;
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
    ]
}

/// WDK: KeBugCheckEx. IRQL: any. "Brings down the system in a controlled manner": here the
/// scenario ends with a report of the code, the four parameters and the calling site.
extern "win64" fn ke_bug_check_ex(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> ! {
    report::bugcheck(code, [p1, p2, p3, p4], cpu::last_caller())
}

/// WDK: ExAllocatePool2. IRQL: <= DISPATCH_LEVEL (nonpaged). Zeroed unless
/// POOL_FLAG_UNINITIALIZED; NULL on failure.
extern "win64" fn ex_allocate_pool2(flags: u64, size: usize, tag: u32) -> usize {
    require_irql_at_most(DISPATCH_LEVEL, "ExAllocatePool2");
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
extern "win64" fn ex_free_pool_with_tag(block: usize, tag: u32) {
    require_irql_at_most(DISPATCH_LEVEL, "ExFreePoolWithTag");
    let size = pool::freed(block, Some(tag), caller());
    memory::release(block, size, FREED_FILL);
}

/// WDK: KeInitializeSpinLock. IRQL: any.
extern "win64" fn ke_initialize_spin_lock(lock: usize) {
    lockword::initialize(lock);
}

/// WDK: KeAcquireSpinLockRaiseToDpc. IRQL: <= DISPATCH_LEVEL; returns the previous IRQL.
extern "win64" fn ke_acquire_spin_lock_raise_to_dpc(lock: usize) -> Irql {
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
extern "win64" fn ke_release_spin_lock(lock: usize, new_irql: Irql) {
    sync::before_release(lock, caller(), Acquire::Raise, "KeReleaseSpinLock");
    lockword::give(lock);
    sync::lower_to(new_irql);
}

/// The longest format string DbgPrintEx shows (its output is limited to 512 bytes).
const DBG_PRINT_MAX: usize = 512;

/// WDK: DbgPrintEx. IRQL: any (<= DIRQL). Variadic: in the Microsoft x64 convention the first
/// variadic arguments arrive in R9 and on the stack like fixed ones; the message is written
/// as an observation with its format string and the first argument, unformatted.
extern "win64" fn dbg_print_ex(component: u32, level: u32, format: *const u8, first: usize) -> i32 {
    let mut text = Vec::new();
    if !format.is_null() {
        for offset in 0..DBG_PRINT_MAX {
            // SAFETY: the driver passes a NUL-terminated format string; reading stops at its
            // NUL (or at the documented output limit).
            let byte = unsafe { format.wrapping_add(offset).read() };
            if byte == 0 {
                break;
            }
            text.push(byte);
        }
    }
    report::observe(
        "dbgprint",
        format!(
            "component={component} level={level} arg1={first:#x} {}",
            String::from_utf8_lossy(&text).trim_end()
        ),
    );
    0
}
