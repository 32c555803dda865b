//! The per-thread "processor block" every thread that runs driver code gets, where the kernel
//! keeps its KPCR. On x86-64 it is reached through the `gs` segment (notes/toolchain.md: give
//! each thread a fake one via `arch_prctl(ARCH_SET_GS)`); Linux user code there uses `fs` for
//! TLS and leaves `gs` free. On AArch64 the KPCR is in x18 (Microsoft: "Overview of ARM64 ABI
//! conventions", "Integer registers"), which Linux code may clobber: every call into the image
//! loads x18 with the block (`call`) and every import thunk restores it (`thunks`). The import
//! thunks write the caller's return address and the import index into it, and keep there the
//! lowest stack pointer the driver called an import with (`stack`); the slots sit far above
//! the KPCR fields a driver could read inline.
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
/// Offset of the lowest stack pointer an import thunk was entered with since the host last set
/// it (0: not measuring; a thunk only ever lowers a nonzero value).
pub const SLOT_LOWEST_SP: u32 = 0xF10;
/// What x18 holds on AArch64 while the host runs an import (`thunks`): not an address (its top
/// bits are set), so driver code that runs on with it faults at once.
pub const X18_POISON: u64 = 0xBAD1 << 48;
const SIGNAL_STACK_SIZE: usize = 256 * 1024;
#[cfg(target_arch = "x86_64")]
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
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: ARCH_SET_GS only changes this thread's gs base; nothing in Rust or libc on
        // x86-64 Linux uses gs, and the block stays mapped for the life of the thread (leaked
        // below).
        let rc = unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, base) };
        assert_eq!(rc, 0, "arch_prctl(ARCH_SET_GS) failed");
    }
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

/// The address of this thread's processor block, 0 before `enter`. Async-signal-safe (a
/// `const` thread-local needs no initialization).
pub fn block() -> usize {
    BLOCK.with(Cell::get)
}

/// The return address of the last import this thread called (an address in the image).
pub fn last_caller() -> usize {
    let block = block();
    if block == 0 {
        return 0;
    }
    // SAFETY: `block` is this thread's mapped processor block (never unmapped); the slot lies
    // inside it and only this thread's thunks write it.
    unsafe { ((block + SLOT_CALLER as usize) as *const usize).read_volatile() }
}

/// The index of the last import this thread called.
pub fn last_import() -> u32 {
    let block = block();
    if block == 0 {
        return u32::MAX;
    }
    // SAFETY: as in `last_caller`.
    unsafe { ((block + SLOT_IMPORT as usize) as *const u32).read_volatile() }
}

/// The lowest stack pointer this thread's import thunks saw since [`set_lowest_sp`] (0 when
/// this thread has no processor block or is not measuring).
pub fn lowest_sp() -> usize {
    let block = block();
    if block == 0 {
        return 0;
    }
    // SAFETY: as in `last_caller`.
    unsafe { ((block + SLOT_LOWEST_SP as usize) as *const usize).read_volatile() }
}

/// Starts (or, with 0, stops) the lowest-stack-pointer measurement of this thread's import
/// thunks at `sp`. Needs the block (`enter`).
pub fn set_lowest_sp(sp: usize) {
    let block = block();
    assert_ne!(block, 0, "set_lowest_sp before cpu::enter");
    // SAFETY: `block` is this thread's mapped processor block (never unmapped); the slot lies
    // inside it and only this thread reads or writes it.
    unsafe { ((block + SLOT_LOWEST_SP as usize) as *mut usize).write_volatile(sp) }
}
