//! Calling into the image with the Microsoft x64 calling convention.
//!
//! Every call goes through one function type with six integer arguments: in that convention
//! the caller reserves the home space and pops its own arguments, so a callee that takes fewer
//! arguments ignores the rest, and a `void` callee leaves a meaningless RAX that is dropped.

use super::cpu;

type Win64Fn = extern "win64" fn(usize, usize, usize, usize, usize, usize) -> usize;

/// Calls the code at `address` with up to six arguments.
///
/// # Safety
/// `address` is the entry of a function in the mapped image that follows the Microsoft x64
/// calling convention and accepts these arguments.
pub unsafe fn call(address: usize, args: &[usize]) -> usize {
    assert!(args.len() <= 6, "at most six arguments");
    cpu::enter();
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: per this function's contract `address` is a Win64 function; a non-null
    // address has the validity a function pointer needs.
    let function: Win64Fn = unsafe { std::mem::transmute::<usize, Win64Fn>(address) };
    function(a[0], a[1], a[2], a[3], a[4], a[5])
}

/// Calls the code at `address` with RAX set to `rax` and no other arguments (for helpers with
/// a register convention of their own, such as `__chkstk`).
///
/// # Safety
/// `address` is code in the mapped image that takes its input in RAX and returns with `ret`.
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
