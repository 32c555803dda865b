//! Calling into the image with the Windows calling convention of its architecture.
//!
//! Every call goes through one function type with six integer arguments: in the Microsoft x64
//! convention the caller reserves the home space and pops its own arguments, and on ARM64 the
//! first eight arguments travel in x0 to x7, so a callee that takes fewer arguments ignores
//! the rest, and a `void` callee leaves a meaningless result register that is dropped.

use super::cpu;

/// Calls the code at `address` with up to six arguments.
///
/// # Safety
/// `address` is the entry of a function in the mapped image that follows the Microsoft x64
/// calling convention and accepts these arguments.
#[cfg(target_arch = "x86_64")]
pub unsafe fn call(address: usize, args: &[usize]) -> Called {
    type Win64Fn = extern "win64" fn(usize, usize, usize, usize, usize, usize) -> usize;
    let a = six(args);
    // SAFETY: per this function's contract `address` is a Win64 function; a non-null
    // address has the validity a function pointer needs.
    let function: Win64Fn = unsafe { std::mem::transmute::<usize, Win64Fn>(address) };
    let stack_pointer: usize;
    // SAFETY: reads rsp into a register; touches no memory and no flags. This function's
    // frame is fixed (the call's home space is part of it), so rsp here is rsp at the call.
    unsafe {
        std::arch::asm!(
            "mov {sp}, rsp",
            sp = out(reg) stack_pointer,
            options(nomem, nostack, preserves_flags)
        );
    }
    let outer = super::stack::start(stack_pointer);
    let result = function(a[0], a[1], a[2], a[3], a[4], a[5]);
    Called {
        result,
        depth: super::stack::finish(stack_pointer, outer),
    }
}

/// What a call into the image returned, and how deep below the caller's stack pointer the
/// driver's stack went at its deepest import call (0 if it called none).
#[derive(Debug, Clone, Copy)]
pub struct Called {
    pub result: usize,
    pub depth: usize,
}

/// Calls the code at `address` with up to six arguments, with x18 pointing to this thread's
/// processor block as the driver expects its KPCR there (Microsoft: "Overview of ARM64 ABI
/// conventions", "Integer registers": x18 is non-volatile and holds the KPCR in kernel mode).
/// A return with x18 changed ends the scenario: the driver, or an import thunk on its way
/// back into the driver, broke that rule.
///
/// # Safety
/// `address` is the entry of a function in the mapped image that follows the Windows ARM64
/// calling convention and accepts these arguments.
#[cfg(target_arch = "aarch64")]
pub unsafe fn call(address: usize, args: &[usize]) -> Called {
    let a = six(args);
    let block = cpu::block();
    let result;
    let x18_after: usize;
    let stack_pointer: usize;
    // The assembly below stores sp in the slot itself.
    let outer = super::stack::start(0);
    // SAFETY: per this function's contract `address` is an ARM64 function taking its arguments
    // in x0-x5; `clobber_abi("C")` covers every register AAPCS64 lets it change, x18 is given
    // the processor block and read back, and without `nostack` the stack is 16-byte aligned
    // for the call. Before it, sp goes to x20 (callee-saved, so the driver keeps it) and to the
    // block's lowest-stack-pointer slot, which x18 addresses.
    unsafe {
        std::arch::asm!(
            "mov x20, sp",
            "str x20, [x18, #{slot}]",
            "blr {target}",
            slot = const cpu::SLOT_LOWEST_SP,
            target = in(reg) address,
            out("x20") stack_pointer,
            inout("x0") a[0] => result,
            inout("x1") a[1] => _,
            inout("x2") a[2] => _,
            inout("x3") a[3] => _,
            inout("x4") a[4] => _,
            inout("x5") a[5] => _,
            inout("x18") block => x18_after,
            clobber_abi("C"),
        );
    }
    let depth = super::stack::finish(stack_pointer, outer);
    check_x18(address, block, x18_after);
    Called { result, depth }
}

/// Calls the code at `address` with X15 set to `x15` and no other arguments (for helpers with
/// a register convention of their own, such as the ARM64 `__chkstk`), with x18 set as in
/// [`call`].
///
/// # Safety
/// `address` is code in the mapped image that takes its input in X15 and returns with `ret`.
#[cfg(target_arch = "aarch64")]
pub unsafe fn call_with_x15(address: usize, x15: usize) {
    cpu::enter();
    let block = cpu::block();
    let x18_after: usize;
    // SAFETY: per the contract; `clobber_abi("C")` covers every register such code may
    // change (the ARM64 __chkstk uses x16 and x17), and without `nostack` the stack is
    // aligned for a call.
    unsafe {
        std::arch::asm!(
            "blr {target}",
            target = in(reg) address,
            inout("x15") x15 => _,
            inout("x18") block => x18_after,
            clobber_abi("C"),
        );
    }
    check_x18(address, block, x18_after);
}

#[cfg(target_arch = "aarch64")]
fn check_x18(address: usize, block: usize, after: usize) {
    if after != block {
        let why = if after as u64 == cpu::X18_POISON {
            "the value an import thunk leaves there while the host runs: a way back into the \
             driver skipped the restore"
        } else {
            "the driver changed it"
        };
        crate::report::violation(
            "X18",
            &format!(
                "driver code at {address:#x} returned with x18 = {after:#x}, not its KPCR \
                 {block:#x} ({why}; x18 is non-volatile in the Windows ARM64 ABI)"
            ),
        );
    }
}

/// Makes this thread able to run driver code and pads `args` to six.
fn six(args: &[usize]) -> [usize; 6] {
    assert!(args.len() <= 6, "at most six arguments");
    cpu::enter();
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    a
}

/// Calls the code at `address` with RAX set to `rax` and no other arguments (for helpers with
/// a register convention of their own, such as `__chkstk`).
///
/// # Safety
/// `address` is code in the mapped image that takes its input in RAX and returns with `ret`.
#[cfg(target_arch = "x86_64")]
pub unsafe fn call_with_rax(address: usize, rax: usize) {
    cpu::enter();
    // SAFETY: per the contract; `clobber_abi("win64")` covers every register such code may
    // change, and without `nostack` the stack is aligned for a call.
    unsafe {
        std::arch::asm!(
            "call {target}",
            target = in(reg) address,
            inout("rax") rax => _,
            clobber_abi("win64"),
        );
    }
}
