//! What a kernel image needs that no C runtime provides: the panic handler, `_fltused` and
//! `__chkstk` (notes/toolchain.md, "Linking"). `memcpy` and friends come from
//! compiler_builtins' `mem` feature.

use rswan_ndis::imports::KeBugCheckEx;

/// `MANUALLY_INITIATED_CRASH1` (WDK: bug-check-0xdeaddead): the driver stops the machine on
/// purpose rather than run on with a broken invariant. Parameter 1 tags the stop as rswan's.
const BUGCHECK_RSWAN_PANIC: u32 = 0xDEAD_DEAD;
const RSWAN_TAG: usize = u32::from_le_bytes(*b"rswn") as usize;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let line = info.location().map_or(0, |l| l.line() as usize);
    // SAFETY: KeBugCheckEx may be called at any IRQL and never returns.
    unsafe { KeBugCheckEx(BUGCHECK_RSWAN_PANIC, RSWAN_TAG, line, 0, 0) }
}

/// Referenced by objects that use floating point; its value is never read.
#[unsafe(no_mangle)]
#[used]
static _fltused: i32 = 0;

// `__chkstk` probes each page of a frame larger than a page, from the top down, so that an
// overflow hits the guard page instead of skipping it. The register conventions are MSVC's.
//
// x64: RAX = frame size; preserves every register; does not move RSP.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl __chkstk",
    "__chkstk:",
    "push rcx",
    "push rax",
    "lea rcx, [rsp + 24]", // RSP of the caller before its `call`
    "2:",
    "cmp rax, 0x1000",
    "jb 3f",
    "sub rcx, 0x1000",
    "test [rcx], rcx",
    "sub rax, 0x1000",
    "jmp 2b",
    "3:",
    "sub rcx, rax",
    "test [rcx], rcx",
    "pop rax",
    "pop rcx",
    "ret",
);

// arm64: X15 = frame size / 16; preserves every register but X16 and X17.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl __chkstk",
    "__chkstk:",
    "lsl x16, x15, #4",
    "mov x17, sp",
    "2:",
    "sub x17, x17, #1, lsl #12",
    "subs x16, x16, #1, lsl #12",
    "ldr xzr, [x17]",
    "b.gt 2b",
    "ret",
);

// x86: EAX = frame size; probes and then lowers ESP by EAX itself (the caller does not).
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl __chkstk",
    "__chkstk:",
    ".globl __alloca_probe",
    "__alloca_probe:",
    "push ecx",
    "lea ecx, [esp + 8]", // ESP of the caller before its `call`
    "2:",
    "cmp eax, 0x1000",
    "jb 3f",
    "sub ecx, 0x1000",
    "test [ecx], eax",
    "sub eax, 0x1000",
    "jmp 2b",
    "3:",
    "sub ecx, eax",
    "test [ecx], eax",
    "mov eax, esp",       // EAX = &saved ECX
    "mov esp, ecx",       // the new stack top
    "mov ecx, [eax]",     // restore ECX
    "mov eax, [eax + 4]", // the return address
    "jmp eax",
);

// On x86, 64-bit division has no instruction: LLVM's compiler-builtins call the MSVC helpers
// `_aulldiv` and `_aullrem`, which the x86 kernel exports (notes/toolchain.md, "Linking").
#[cfg(target_arch = "x86")]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
unsafe extern "C" {
    #[link_name = "__aulldiv"]
    fn aulldiv();
    #[link_name = "__aullrem"]
    fn aullrem();
}

/// Keeps the helpers' import stubs in the image for compiler-builtins, which names them but
/// is linked after this crate.
#[cfg(target_arch = "x86")]
#[used]
static X86_DIVISION_HELPERS: [unsafe extern "C" fn(); 2] = [aulldiv, aullrem];
