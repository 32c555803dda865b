//! One small thunk per bound import. The image's import slots point at these, not at the Rust
//! functions directly: each thunk stores the driver's return address and the import's index in
//! the calling thread's processor block (see `cpu`) and passes the call on to the
//! implementation, so the implementation knows which instruction in the image called it (lock
//! acquisition sites, completion sites, crash reports).

use super::cpu::{SLOT_CALLER, SLOT_IMPORT, SLOT_LOWEST_SP};
use super::map::Mapping;
use crate::pe::LoadError;

#[cfg(target_arch = "aarch64")]
use arm64::{THUNK_SIZE, encode};
#[cfg(target_arch = "x86_64")]
use x64::{THUNK_SIZE, encode};

/// x86-64: record, then jump on; the implementation returns straight to the driver.
#[cfg(any(test, target_arch = "x86_64"))]
mod x64 {
    use super::{SLOT_CALLER, SLOT_IMPORT, SLOT_LOWEST_SP};

    pub const THUNK_SIZE: usize = 64;

    /// Encodes the thunk for import `index` that jumps to `target` (x86-64 machine code).
    pub fn encode(index: u32, target: usize) -> [u8; THUNK_SIZE] {
        let mut code = Vec::with_capacity(THUNK_SIZE);
        // mov r11, [rsp]: the return address into the image.
        code.extend_from_slice(&[0x4C, 0x8B, 0x1C, 0x24]);
        // mov gs:[SLOT_CALLER], r11
        code.extend_from_slice(&[0x65, 0x4C, 0x89, 0x1C, 0x25]);
        code.extend_from_slice(&SLOT_CALLER.to_le_bytes());
        // mov dword gs:[SLOT_IMPORT], index
        code.extend_from_slice(&[0x65, 0xC7, 0x04, 0x25]);
        code.extend_from_slice(&SLOT_IMPORT.to_le_bytes());
        code.extend_from_slice(&index.to_le_bytes());
        // cmp gs:[SLOT_LOWEST_SP], rsp; jbe +9 (a lower or zero slot stays);
        // mov gs:[SLOT_LOWEST_SP], rsp
        code.extend_from_slice(&[0x65, 0x48, 0x39, 0x24, 0x25]);
        code.extend_from_slice(&SLOT_LOWEST_SP.to_le_bytes());
        code.extend_from_slice(&[0x76, 0x09]);
        code.extend_from_slice(&[0x65, 0x48, 0x89, 0x24, 0x25]);
        code.extend_from_slice(&SLOT_LOWEST_SP.to_le_bytes());
        // movabs rax, target; jmp rax (rax and r11 are volatile in the Microsoft x64 ABI).
        code.extend_from_slice(&[0x48, 0xB8]);
        code.extend_from_slice(&(target as u64).to_le_bytes());
        code.extend_from_slice(&[0xFF, 0xE0]);
        let mut thunk = [0xCC; THUNK_SIZE];
        thunk[..code.len()].copy_from_slice(&code);
        thunk
    }
}

/// AArch64: the driver keeps its KPCR in x18 and expects it back unchanged (x18 is
/// non-volatile in the Windows ARM64 ABI; Microsoft: "Overview of ARM64 ABI conventions",
/// "Integer registers"), but Linux code may use x18 as a scratch register. So the thunk cannot
/// jump on: it calls the implementation in a frame of its own and restores x18 afterwards.
/// Before the call it overwrites x18 with a poison value, as Linux code could, so that a path
/// back into the driver that missed the restore shows on every call, not only when the
/// compiler happens to use x18 (`call` checks x18 when driver code returns). Arguments past
/// the eighth are on the stack, so the frame starts with a copy of the caller's first eight
/// stack slots, where the implementation looks for them. Before its frame, the thunk lowers the
/// lowest-stack-pointer slot to sp, the driver's own (x16 and x17 are the intra-procedure-call
/// scratch registers a veneer may use).
#[cfg(any(test, target_arch = "aarch64"))]
mod arm64 {
    use super::super::cpu::X18_POISON;
    use super::{SLOT_CALLER, SLOT_IMPORT, SLOT_LOWEST_SP};

    pub const THUNK_SIZE: usize = 112;
    // The frame (fixed in the stp/ldp words below): 96 bytes, x29/x30 at 0, the driver's x18
    // at 16, the copied stack arguments at 32.
    /// Byte offset of the target's address (8-aligned, after the code).
    const LITERAL: usize = 104;
    /// Index of the word that loads the target's address.
    const LDR_LITERAL_WORD: usize = 21;
    const X16: u32 = 16;
    const X17: u32 = 17;
    const X18: u32 = 18;
    const LR: u32 = 30;
    /// `brk #0`, the padding: a jump into it traps.
    const BRK: u32 = 0xD420_0000;

    /// `str Xt, [Xn, #offset]` (unsigned, 8-byte scaled offset).
    fn str_x(t: u32, n: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(8) && offset / 8 < 4096);
        0xF900_0000 | (offset / 8) << 10 | n << 5 | t
    }

    /// `ldr Xt, [Xn, #offset]` (unsigned, 8-byte scaled offset).
    fn ldr_x(t: u32, n: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(8) && offset / 8 < 4096);
        0xF940_0000 | (offset / 8) << 10 | n << 5 | t
    }

    /// `str Wt, [Xn, #offset]` (unsigned, 4-byte scaled offset).
    fn str_w(t: u32, n: u32, offset: u32) -> u32 {
        assert!(offset.is_multiple_of(4) && offset / 4 < 4096);
        0xB900_0000 | (offset / 4) << 10 | n << 5 | t
    }

    /// `movz Wd, #imm` and `movk Wd, #imm, lsl #16`.
    fn mov_w(d: u32, value: u32) -> [u32; 2] {
        [
            0x5280_0000 | (value & 0xFFFF) << 5 | d,
            0x72A0_0000 | (value >> 16) << 5 | d,
        ]
    }

    /// `movz Xd, #(value >> 48), lsl #48` for a value with only its top 16 bits set.
    fn movz_x_top(d: u32, value: u64) -> u32 {
        assert_eq!(value & 0xFFFF_FFFF_FFFF, 0);
        0xD2E0_0000 | ((value >> 48) as u32) << 5 | d
    }

    /// `ldr Xt, <literal>` from the word at `from` to the byte offset `to`.
    fn ldr_literal(t: u32, from: usize, to: usize) -> u32 {
        0x5800_0000 | (((to - from * 4) / 4) as u32) << 5 | t
    }

    /// Encodes the thunk for import `index` that calls `target` (AArch64 machine code).
    pub fn encode(index: u32, target: usize) -> [u8; THUNK_SIZE] {
        let [movz, movk] = mov_w(X16, index);
        let words: [u32; 26] = [
            0x9100_03F0,                                 // mov x16, sp
            ldr_x(X17, X18, SLOT_LOWEST_SP),             // ldr x17, [x18, #SLOT_LOWEST_SP]
            0xEB10_023F,                                 // cmp x17, x16
            0x5400_0049,                                 // b.ls +8 (a lower or zero slot stays)
            str_x(X16, X18, SLOT_LOWEST_SP),             // str x16, [x18, #SLOT_LOWEST_SP]
            0xA9BA_7BFD,                                 // stp x29, x30, [sp, #-96]!
            0x9100_03FD,                                 // mov x29, sp
            0xF900_0BF2,                                 // str x18, [sp, #16]
            str_x(LR, X18, SLOT_CALLER),                 // str x30, [x18, #SLOT_CALLER]
            movz,                                        // movz w16, #index (low half)
            movk,                                        // movk w16, #index (high half), lsl #16
            str_w(X16, X18, SLOT_IMPORT),                // str w16, [x18, #SLOT_IMPORT]
            0xA946_47B0,                                 // ldp x16, x17, [x29, #96]
            0xA902_47F0,                                 // stp x16, x17, [sp, #32]
            0xA947_47B0,                                 // ldp x16, x17, [x29, #112]
            0xA903_47F0,                                 // stp x16, x17, [sp, #48]
            0xA948_47B0,                                 // ldp x16, x17, [x29, #128]
            0xA904_47F0,                                 // stp x16, x17, [sp, #64]
            0xA949_47B0,                                 // ldp x16, x17, [x29, #144]
            0xA905_47F0,                                 // stp x16, x17, [sp, #80]
            movz_x_top(X18, X18_POISON),                 // movz x18, #poison, lsl #48
            ldr_literal(X16, LDR_LITERAL_WORD, LITERAL), // ldr x16, target
            0xD63F_0200,                                 // blr x16
            0xF940_0BF2,                                 // ldr x18, [sp, #16]
            0xA8C6_7BFD,                                 // ldp x29, x30, [sp], #96
            0xD65F_03C0,                                 // ret
        ];
        let mut thunk = [0u8; THUNK_SIZE];
        for (slot, bytes) in thunk.chunks_exact_mut(4).enumerate() {
            bytes.copy_from_slice(&words.get(slot).copied().unwrap_or(BRK).to_le_bytes());
        }
        thunk[LITERAL..LITERAL + 8].copy_from_slice(&(target as u64).to_le_bytes());
        thunk
    }
}

/// The executable page(s) holding every thunk.
#[derive(Debug)]
pub struct Thunks {
    mapping: Mapping,
}

impl Thunks {
    /// Builds one thunk per target, in order.
    pub fn build(targets: &[usize]) -> Result<Self, LoadError> {
        let len = (targets.len() * THUNK_SIZE).max(1);
        let mut mapping = Mapping::new(len, libc::PROT_READ | libc::PROT_WRITE)?;
        for (index, &target) in targets.iter().enumerate() {
            mapping.write(
                index * THUNK_SIZE,
                &encode(index as u32, target),
                "import thunk",
            )?;
        }
        let whole = mapping.len();
        mapping.protect(0, whole, libc::PROT_READ | libc::PROT_EXEC)?;
        Ok(Self { mapping })
    }

    /// The address of thunk `index`.
    pub fn address(&self, index: usize) -> usize {
        self.mapping.base() + index * THUNK_SIZE
    }

    pub fn range(&self) -> (usize, usize) {
        (self.mapping.base(), self.mapping.len())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn x64_thunk_fits_and_ends_in_an_indirect_jump() {
        let thunk = super::x64::encode(7, 0x1122_3344_5566_7788);
        let end = thunk.iter().rposition(|&b| b != 0xCC).unwrap() + 1;
        assert_eq!(&thunk[end - 2..end], &[0xFF, 0xE0]);
        assert_eq!(
            &thunk[end - 10..end - 2],
            &0x1122_3344_5566_7788u64.to_le_bytes()
        );
        assert_eq!(&thunk[end - 36..end - 32], &7u32.to_le_bytes());
    }

    #[test]
    fn x64_thunk_matches_what_an_assembler_makes_of_it() {
        // The thunk's source assembled by GNU as (2.40, --64, Intel syntax) with index
        // 0x12345678.
        let expected: [u8; 57] = [
            0x4c, 0x8b, 0x1c, 0x24, 0x65, 0x4c, 0x89, 0x1c, 0x25, 0x00, 0x0f, 0x00, 0x00, 0x65,
            0xc7, 0x04, 0x25, 0x08, 0x0f, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0x65, 0x48, 0x39,
            0x24, 0x25, 0x10, 0x0f, 0x00, 0x00, 0x76, 0x09, 0x65, 0x48, 0x89, 0x24, 0x25, 0x10,
            0x0f, 0x00, 0x00, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff,
            0xe0,
        ];
        let thunk = super::x64::encode(0x1234_5678, 0x1122_3344_5566_7788);
        assert_eq!(thunk[..57], expected);
        assert!(thunk[57..].iter().all(|&b| b == 0xCC), "int3 pads the code");
    }

    #[test]
    fn arm64_thunk_matches_what_an_assembler_makes_of_it() {
        // The thunk's source assembled by GNU as (aarch64-linux-gnu-as 2.40) with index
        // 0x56781234, the literal placed at byte 104.
        let expected: [u32; 26] = [
            0x910003f0, 0xf9478a51, 0xeb10023f, 0x54000049, 0xf9078a50, 0xa9ba7bfd, 0x910003fd,
            0xf9000bf2, 0xf907825e, 0x52824690, 0x72aacf10, 0xb90f0a50, 0xa94647b0, 0xa90247f0,
            0xa94747b0, 0xa90347f0, 0xa94847b0, 0xa90447f0, 0xa94947b0, 0xa90547f0, 0xd2f75a32,
            0x580000b0, 0xd63f0200, 0xf9400bf2, 0xa8c67bfd, 0xd65f03c0,
        ];
        let thunk = super::arm64::encode(0x5678_1234, 0x1122_3344_5566_7788);
        let words: Vec<u32> = thunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        assert_eq!(words[..26], expected);
        assert_eq!(&thunk[104..112], &0x1122_3344_5566_7788u64.to_le_bytes());
    }
}
