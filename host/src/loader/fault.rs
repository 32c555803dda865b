//! Turning a fault in driver code into a report instead of a silent death. The handler runs on
//! the thread's alternate stack, writes one `RSWAN FAULT` line to stdout with the faulting
//! address, the instruction pointer, the image's base and size, the last import called and
//! every general register (`rip`, `rax`... on x86-64; `pc`, `sp`, `x0`... on AArch64), and
//! exits. It allocates nothing and takes no lock; the parent
//! process symbolizes the addresses (crate::report).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cpu;

/// Exit status of a child that faulted.
pub const FAULT_EXIT: i32 = 86;

static IMAGE_BASE: AtomicUsize = AtomicUsize::new(0);
static IMAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

/// Records where the image lies, so the handler can show its bytes and offsets.
pub fn set_image(base: usize, size: usize) {
    IMAGE_BASE.store(base, Ordering::SeqCst);
    IMAGE_SIZE.store(size, Ordering::SeqCst);
}

/// Installs the handler for every signal a driver fault raises. Idempotent.
pub fn install() {
    for signal in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
    ] {
        // SAFETY: an all-zero sigaction is a valid value to fill in.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_fault as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // SAFETY: `on_fault` has the SA_SIGINFO signature and is async-signal-safe in what it
        // does (formatting into a stack buffer, write(2), _exit(2)).
        let rc = unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "sigaction failed");
    }
}

/// A fixed buffer that `write!` can fill without allocating.
struct LineBuf {
    bytes: [u8; 2048],
    len: usize,
}

impl std::fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.bytes.len() - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(target_arch = "x86_64")]
const REGISTERS: [(&str, libc::c_int); 17] = [
    ("rip", libc::REG_RIP),
    ("rax", libc::REG_RAX),
    ("rbx", libc::REG_RBX),
    ("rcx", libc::REG_RCX),
    ("rdx", libc::REG_RDX),
    ("rsi", libc::REG_RSI),
    ("rdi", libc::REG_RDI),
    ("rbp", libc::REG_RBP),
    ("rsp", libc::REG_RSP),
    ("r8", libc::REG_R8),
    ("r9", libc::REG_R9),
    ("r10", libc::REG_R10),
    ("r11", libc::REG_R11),
    ("r12", libc::REG_R12),
    ("r13", libc::REG_R13),
    ("r14", libc::REG_R14),
    ("r15", libc::REG_R15),
];

/// Writes ` rip=... rax=...` and returns the instruction pointer.
#[cfg(target_arch = "x86_64")]
fn write_registers(line: &mut LineBuf, context: &libc::ucontext_t) -> usize {
    let mut rip = 0usize;
    for (name, index) in REGISTERS {
        // `index` is one of libc's REG_* indices into the general registers.
        let value = context.uc_mcontext.gregs[index as usize] as usize;
        if name == "rip" {
            rip = value;
        }
        let _ = write!(line, " {name}={value:#x}");
    }
    rip
}

/// Writes ` pc=... sp=... x0=... x30=...` and returns the instruction pointer.
#[cfg(target_arch = "aarch64")]
fn write_registers(line: &mut LineBuf, context: &libc::ucontext_t) -> usize {
    let registers = &context.uc_mcontext;
    let pc = registers.pc as usize;
    let _ = write!(line, " pc={pc:#x} sp={:#x}", registers.sp);
    for (index, value) in registers.regs.iter().enumerate() {
        let _ = write!(line, " x{index}={value:#x}");
    }
    pc
}

extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let mut line = LineBuf {
        bytes: [0; 2048],
        len: 0,
    };
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
    let info = unsafe { &*info };
    // SAFETY: every signal handled here is a fault signal, for which si_addr is defined.
    let address = unsafe { info.si_addr() } as usize;
    let base = IMAGE_BASE.load(Ordering::SeqCst);
    let size = IMAGE_SIZE.load(Ordering::SeqCst);
    let _ = write!(
        line,
        "RSWAN FAULT signal={signal} addr={address:#x} base={base:#x} size={size:#x} import={} caller={:#x}",
        cpu::last_import(),
        cpu::last_caller(),
    );
    // SAFETY: the kernel passes the interrupted context as the third argument.
    let ip = write_registers(&mut line, unsafe { &*context.cast::<libc::ucontext_t>() });
    // The faulting instruction's bytes, when they lie in the image (mapped, readable code).
    if ip >= base && ip < base + size {
        let count = (base + size - ip).min(16);
        let _ = write!(line, " bytes=");
        for offset in 0..count {
            // SAFETY: ip + offset lies inside the mapped image, every page of which is
            // readable.
            let byte = unsafe { std::ptr::read_volatile((ip + offset) as *const u8) };
            let _ = write!(line, "{byte:02x}");
        }
    }
    let _ = writeln!(line);
    // SAFETY: write(2) is async-signal-safe; the buffer is valid for `len` bytes.
    unsafe {
        libc::write(1, line.bytes.as_ptr().cast(), line.len);
    }
    // SAFETY: _exit(2) is async-signal-safe and ends the process without running Rust code.
    unsafe {
        libc::_exit(FAULT_EXIT);
    }
}
