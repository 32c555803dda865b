//! The per-thread "processor block" every thread that runs driver code gets, reached through
//! the `gs` segment as the kernel's KPCR is (notes/toolchain.md: give each thread a fake one
//! via `arch_prctl(ARCH_SET_GS)`). Linux user code on x86-64 uses `fs` for TLS and leaves `gs`
//! free. The import thunks write the caller's return address and the import index into it;
//! the slots sit far above the KPCR fields a driver could read inline.
//!
//! Each such thread also gets an alternate signal stack, so a fault on an exhausted driver
//! stack still reaches the fault reporter.

use std::cell::Cell;

use super::map::Mapping;

const BLOCK_SIZE: usize = 0x1000;
/// Offset of the return address of the last import call.
pub const SLOT_CALLER: u32 = 0xF00;
/// Offset of the index (into the image's imports) of the last import called.
pub const SLOT_IMPORT: u32 = 0xF08;
const SIGNAL_STACK_SIZE: usize = 256 * 1024;
const ARCH_SET_GS: libc::c_int = 0x1001;

thread_local! {
    /// The address of this thread's block, 0 until `enter` runs.
    static BLOCK: Cell<usize> = const { Cell::new(0) };
}

/// Makes the current thread able to run driver code. Idempotent.
pub fn enter() {
    if BLOCK.with(Cell::get) != 0 {
        return;
    }
    let mut block = Mapping::new(BLOCK_SIZE, libc::PROT_READ | libc::PROT_WRITE)
        .expect("mapping a processor block");
    block
        .write(SLOT_IMPORT as usize, &u32::MAX.to_le_bytes(), "import slot")
        .expect("the slot lies inside the block");
    let stack = Mapping::new(SIGNAL_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE)
        .expect("mapping a signal stack");
    let base = block.base();
    // SAFETY: ARCH_SET_GS only changes this thread's gs base; nothing in Rust or libc on
    // x86-64 Linux uses gs, and the block stays mapped for the life of the thread (leaked
    // below).
    let rc = unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, base) };
    assert_eq!(rc, 0, "arch_prctl(ARCH_SET_GS) failed");
    let alt = libc::stack_t {
        ss_sp: stack.base() as *mut libc::c_void,
        ss_flags: 0,
        ss_size: stack.len(),
    };
    // SAFETY: `alt` describes a mapping that stays alive for the life of the thread.
    let rc = unsafe { libc::sigaltstack(&alt, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "sigaltstack failed");
    // Threads that run driver code live as long as the scenario; their blocks are never reused.
    std::mem::forget(block);
    std::mem::forget(stack);
    BLOCK.with(|b| b.set(base));
}

/// Whether this thread has a processor block (so the `gs` reads below are valid).
pub fn entered() -> bool {
    BLOCK.with(Cell::get) != 0
}

/// The return address of the last import this thread called (an address in the image).
pub fn last_caller() -> usize {
    if !entered() {
        return 0;
    }
    let value: usize;
    // SAFETY: this thread's gs base points at its mapped block (checked above); the load
    // reads one slot inside it.
    unsafe {
        std::arch::asm!(
            "mov {v}, qword ptr gs:[{slot}]",
            v = out(reg) value,
            slot = const SLOT_CALLER,
            options(nostack, readonly, preserves_flags),
        );
    }
    value
}

/// The index of the last import this thread called.
pub fn last_import() -> u32 {
    if !entered() {
        return u32::MAX;
    }
    let value: u32;
    // SAFETY: as in `last_caller`.
    unsafe {
        std::arch::asm!(
            "mov {v:e}, dword ptr gs:[{slot}]",
            v = out(reg) value,
            slot = const SLOT_IMPORT,
            options(nostack, readonly, preserves_flags),
        );
    }
    value
}
