//! Fixed stack frame sizes from an image's unwind data (`.pdata` / `.xdata`).
//!
//! x64 and ARM64 images carry a function table entry for every function that allocates stack
//! or calls another function; leaf functions without one use no stack of their own beyond the
//! return address. The frame of a function is the number of bytes its prologue moves the stack
//! pointer down by (pushes, saves with pre-decrement, allocations), not counting the return
//! address the caller's `call` pushes on x64.
//!
//! - x64 (Microsoft: "x64 exception handling"): RUNTIME_FUNCTION (begin, end, unwind info RVA),
//!   UNWIND_INFO with its UNWIND_CODE array: UWOP_PUSH_NONVOL (8 bytes), UWOP_ALLOC_SMALL
//!   (info * 8 + 8), UWOP_ALLOC_LARGE (info 0: next slot * 8; info 1: next two slots
//!   unscaled), UWOP_PUSH_MACHFRAME (40 or 48); the other documented codes save registers
//!   into space already allocated. A chained UNWIND_INFO (UNW_FLAG_CHAININFO) adds the frame
//!   of the primary entry it names.
//! - ARM64 (Microsoft: "ARM64 exception handling"): each .pdata record is the function's RVA
//!   and either packed unwind data (Flag 1 or 2, whose 9-bit Frame Size field is the whole
//!   frame / 16) or the RVA of an .xdata record (Flag 0) whose unwind codes describe the prolog
//!   and the epilogs. The frame is the largest of the prolog's and each epilog's stack
//!   adjustments (alloc_s/m/l and the pre-indexed saves). A frame-chained prolog may end with
//!   `add fp, sp, #x` and allocate its locals with `sub sp, sp, #n` just after it, unrecorded
//!   (unwinding restores sp from fp); so the instructions right after the prolog are decoded
//!   too for `sub sp, sp, #imm` and the `__chkstk` form `sub sp, sp, x15, uxtx #4` (x15 set by
//!   `mov`/`movk` just before; Microsoft: "Overview of ARM64 ABI conventions", "Stack").

use crate::arch::Arch;

/// Read access to the mapped image by RVA.
pub trait ImageBytes {
    /// `len` bytes at `rva`, or None if they are not all inside the image's initialized data.
    fn bytes(&self, rva: u32, len: usize) -> Option<&[u8]>;
}

/// The fixed frame of one function (one function table entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub rva: u32,
    pub bytes: u32,
}

/// The frame of every function in the exception directory `table` (its bytes).
pub fn frames(arch: Arch, table: &[u8], image: &impl ImageBytes) -> Result<Vec<Frame>, String> {
    match arch {
        Arch::X64 => table
            .chunks_exact(12)
            .map(|entry| {
                let rva = word(entry, 0);
                let unwind = word(entry, 8);
                x64_frame(unwind, image, 0)
                    .map(|bytes| Frame { rva, bytes })
                    .map_err(|e| format!("function at RVA {rva:#x}: {e}"))
            })
            .collect(),
        Arch::Arm64 => table
            .chunks_exact(8)
            .map(|entry| {
                let rva = word(entry, 0);
                arm64_frame(rva, word(entry, 4), image)
                    .map(|bytes| Frame { rva, bytes })
                    .map_err(|e| format!("function at RVA {rva:#x}: {e}"))
            })
            .collect(),
        Arch::X86 => Err("x86 images have no function table (.pdata)".into()),
    }
}

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn read<'a>(
    image: &'a impl ImageBytes,
    rva: u32,
    len: usize,
    what: &str,
) -> Result<&'a [u8], String> {
    image
        .bytes(rva, len)
        .ok_or_else(|| format!("{what} at RVA {rva:#x} ({len} bytes) is outside the image"))
}

const UNW_FLAG_CHAININFO: u8 = 0x4;
/// Chains longer than this are malformed (each link is one shrink-wrapped region).
const MAX_CHAIN: usize = 32;

fn x64_frame(unwind_rva: u32, image: &impl ImageBytes, depth: usize) -> Result<u32, String> {
    if depth > MAX_CHAIN {
        return Err(format!("chained unwind info deeper than {MAX_CHAIN} links"));
    }
    let header = read(image, unwind_rva, 4, "UNWIND_INFO")?;
    let version = header[0] & 0x7;
    let flags = header[0] >> 3;
    let count = usize::from(header[2]);
    if version != 1 && version != 2 {
        return Err(format!("UNWIND_INFO version {version} (1 or 2 expected)"));
    }
    let slots = read(image, unwind_rva + 4, count * 2, "unwind codes")?;
    let slot = |i: usize| -> Result<u16, String> {
        slots
            .get(i * 2..i * 2 + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]))
            .ok_or_else(|| format!("unwind code {i} runs past CountOfCodes {count}"))
    };
    let mut bytes: u64 = 0;
    let mut i = 0;
    while i < count {
        let code = slot(i)?;
        let op = (code >> 8) & 0xF;
        let info = code >> 12;
        let (size, nodes) = match op {
            // UWOP_PUSH_NONVOL
            0 => (8, 1),
            // UWOP_ALLOC_LARGE
            1 if info == 0 => (u64::from(slot(i + 1)?) * 8, 2),
            1 if info == 1 => (u64::from(slot(i + 1)?) | u64::from(slot(i + 2)?) << 16, 3),
            1 => return Err(format!("UWOP_ALLOC_LARGE with operation info {info}")),
            // UWOP_ALLOC_SMALL
            2 => (u64::from(info) * 8 + 8, 1),
            // UWOP_SET_FPREG
            3 => (0, 1),
            // UWOP_SAVE_NONVOL, UWOP_SAVE_NONVOL_FAR
            4 => (0, 2),
            5 => (0, 3),
            // UWOP_SAVE_XMM128, UWOP_SAVE_XMM128_FAR
            8 => (0, 2),
            9 => (0, 3),
            // UWOP_PUSH_MACHFRAME
            10 => (if info == 0 { 40 } else { 48 }, 1),
            other => return Err(format!("undocumented unwind operation {other}")),
        };
        bytes += size;
        i += nodes;
    }
    if flags & UNW_FLAG_CHAININFO != 0 {
        // The primary RUNTIME_FUNCTION follows the code array, padded to an even count.
        let at = unwind_rva + 4 + ((count as u32 + 1) & !1) * 2;
        let primary = read(image, at, 12, "chained RUNTIME_FUNCTION")?;
        bytes += u64::from(x64_frame(word(primary, 8), image, depth + 1)?);
    }
    u32::try_from(bytes).map_err(|_| format!("frame of {bytes} bytes"))
}

fn arm64_frame(rva: u32, unwind: u32, image: &impl ImageBytes) -> Result<u32, String> {
    match unwind & 0x3 {
        // Packed: Frame Size is bits 23..31, in units of 16 bytes.
        1 | 2 => Ok((unwind >> 23) * 16),
        0 => arm64_xdata_frame(rva, unwind, image),
        _ => Err("reserved packed unwind Flag 3".into()),
    }
}

fn arm64_xdata_frame(rva: u32, xdata_rva: u32, image: &impl ImageBytes) -> Result<u32, String> {
    let first = word(read(image, xdata_rva, 4, ".xdata header")?, 0);
    let single_epilog = first & (1 << 21) != 0;
    let (mut epilog_count, mut code_words) = ((first >> 22) & 0x1F, (first >> 27) & 0x1F);
    let mut at = xdata_rva + 4;
    if epilog_count == 0 && code_words == 0 {
        let extension = word(read(image, at, 4, ".xdata extension word")?, 0);
        epilog_count = extension & 0xFFFF;
        code_words = (extension >> 16) & 0xFF;
        at += 4;
    }
    let mut starts = Vec::new();
    if single_epilog {
        starts.push(epilog_count as usize);
    } else {
        let scopes = read(image, at, epilog_count as usize * 4, "epilog scopes")?;
        for scope in scopes.chunks_exact(4) {
            starts.push((word(scope, 0) >> 22) as usize);
        }
        at += epilog_count * 4;
    }
    let codes = read(image, at, code_words as usize * 4, "unwind codes")?;
    let prolog = arm64_codes(codes, 0)?;
    let after_prolog = rva + prolog.instructions * 4;
    let mut bytes = prolog.bytes + allocation_after_prolog(image, after_prolog);
    for start in starts {
        bytes = bytes.max(arm64_codes(codes, start)?.bytes);
    }
    Ok(bytes)
}

/// What a sequence of ARM64 unwind codes does to sp, up to its `end`.
struct Arm64Sequence {
    bytes: u32,
    /// Instructions the sequence stands for (each code is one instruction; `end` is none in a
    /// prolog).
    instructions: u32,
}

fn arm64_codes(codes: &[u8], start: usize) -> Result<Arm64Sequence, String> {
    let mut sequence = Arm64Sequence {
        bytes: 0,
        instructions: 0,
    };
    // After `end_c` the codes describe the parent's prolog, not instructions of this fragment.
    let mut phantom = false;
    let mut i = start;
    loop {
        let byte = |k: usize| -> Result<u32, String> {
            codes
                .get(i + k)
                .map(|&b| u32::from(b))
                .ok_or_else(|| format!("unwind codes end without `end` (from index {start})"))
        };
        let b0 = byte(0)?;
        let (size, len) = match b0 {
            // alloc_s: 000xxxxx, size = x * 16
            0x00..=0x1F => ((b0 & 0x1F) * 16, 1),
            // save_r19r20_x: 001zzzzz, pre-indexed by z * 8
            0x20..=0x3F => ((b0 & 0x1F) * 8, 1),
            // save_fplr: 01zzzzzz (no sp change)
            0x40..=0x7F => (0, 1),
            // save_fplr_x: 10zzzzzz, pre-indexed by (z + 1) * 8
            0x80..=0xBF => (((b0 & 0x3F) + 1) * 8, 1),
            // alloc_m: 11000xxx|xxxxxxxx, size = x * 16
            0xC0..=0xC7 => ((((b0 & 0x7) << 8) | byte(1)?) * 16, 2),
            // save_regp: 110010xx|xxzzzzzz; save_reg: 110100xx|xxzzzzzz (no sp change)
            0xC8..=0xCB | 0xD0..=0xD3 => (0, 2),
            // save_regp_x: 110011xx|xxzzzzzz, pre-indexed by (z + 1) * 8
            0xCC..=0xCF => (((byte(1)? & 0x3F) + 1) * 8, 2),
            // save_reg_x: 1101010x|xxxzzzzz, pre-indexed by (z + 1) * 8
            0xD4 | 0xD5 => (((byte(1)? & 0x1F) + 1) * 8, 2),
            // save_lrpair 1101011x, save_fregp 1101100x, save_freg 1101110x (no sp change)
            0xD6 | 0xD7 | 0xD8 | 0xD9 | 0xDC | 0xDD => (0, 2),
            // save_fregp_x: 1101101x|xxzzzzzz, pre-indexed by (z + 1) * 8
            0xDA | 0xDB => (((byte(1)? & 0x3F) + 1) * 8, 2),
            // save_freg_x: 11011110|xxxzzzzz, pre-indexed by (z + 1) * 8
            0xDE => (((byte(1)? & 0x1F) + 1) * 8, 2),
            // alloc_l: 11100000|x(24), size = x * 16
            0xE0 => (((byte(1)? << 16) | (byte(2)? << 8) | byte(3)?) * 16, 4),
            // set_fp, nop, save_next (no sp change)
            0xE1 | 0xE3 | 0xE6 => (0, 1),
            // add_fp: 11100010|xxxxxxxx (no sp change)
            0xE2 => (0, 2),
            // end
            0xE4 => return Ok(sequence),
            // end_c: the codes up to `end` are the parent's (phantom) prolog, part of this
            // function's frame.
            0xE5 => {
                phantom = true;
                i += 1;
                continue;
            }
            // arithmetic on lr with a cookie register (no sp change)
            0xE7 => (0, 2),
            // pac_sign_lr (no sp change)
            0xFC => (0, 1),
            other => {
                return Err(format!(
                    "unwind code {other:#04x} at index {i} is reserved or a custom stack case"
                ));
            }
        };
        sequence.bytes = sequence
            .bytes
            .checked_add(size)
            .ok_or("frame size overflows")?;
        if !phantom {
            sequence.instructions += 1;
        }
        i += len;
    }
}

/// How many instructions after the prolog are searched for the locals' allocation: room for
/// `mov x15, #n`, `movk`, `bl __chkstk` and the `sub`s.
const POST_PROLOG_INSTRUCTIONS: u32 = 6;

/// Bytes allocated by `sub sp, sp, ...` right after the prolog at `rva` (see the module text).
fn allocation_after_prolog(image: &impl ImageBytes, rva: u32) -> u32 {
    let mut bytes = 0u32;
    let mut x15 = 0u32;
    for n in 0..POST_PROLOG_INSTRUCTIONS {
        let Some(word_bytes) = image.bytes(rva + n * 4, 4) else {
            break;
        };
        let insn = word(word_bytes, 0);
        // SUB (immediate), 64-bit, Rd = Rn = sp: 1 1 0 100010 sh imm12 11111 11111
        if insn & 0xFF80_03FF == 0xD100_03FF {
            let imm = (insn >> 10) & 0xFFF;
            let shift = if insn & (1 << 22) != 0 { 12 } else { 0 };
            bytes = bytes.saturating_add(imm << shift);
        // MOVZ x15, #imm16, lsl #(hw * 16)
        } else if insn & 0xFF80_001F == 0xD280_000F {
            x15 = ((insn >> 5) & 0xFFFF) << (((insn >> 21) & 0x3) * 16);
        // MOVK x15, #imm16, lsl #(hw * 16)
        } else if insn & 0xFF80_001F == 0xF280_000F {
            let shift = ((insn >> 21) & 0x3) * 16;
            x15 = (x15 & !(0xFFFF << shift)) | ((insn >> 5) & 0xFFFF) << shift;
        // SUB (extended register) sp, sp, x15, uxtx #4
        } else if insn == 0xCB2F_73FF {
            bytes = bytes.saturating_add(x15.saturating_mul(16));
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image whose bytes start at `base`.
    struct Bytes {
        base: u32,
        data: Vec<u8>,
    }

    impl ImageBytes for Bytes {
        fn bytes(&self, rva: u32, len: usize) -> Option<&[u8]> {
            let start = rva.checked_sub(self.base)? as usize;
            self.data.get(start..start + len)
        }
    }

    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn slots(codes: &[u16]) -> Vec<u8> {
        codes.iter().flat_map(|c| c.to_le_bytes()).collect()
    }

    /// UNWIND_CODE: offset in prolog, operation, info.
    fn code(offset: u8, op: u16, info: u16) -> u16 {
        u16::from(offset) | op << 8 | info << 12
    }

    /// An x64 UNWIND_INFO (version 1) with `codes`, at RVA 0x100.
    fn x64_info(flags: u8, codes: &[u16]) -> Vec<u8> {
        let mut info = vec![1 | flags << 3, 0x20, codes.len() as u8, 0];
        info.extend(slots(codes));
        if codes.len() % 2 == 1 {
            info.extend([0, 0]);
        }
        info
    }

    #[test]
    fn x64_pushes_and_every_allocation_form_add_up() {
        // push rbx; push rsi (2 x 8), UWOP_ALLOC_SMALL info 5 (48), UWOP_SET_FPREG,
        // UWOP_SAVE_NONVOL (no change), UWOP_SAVE_XMM128 (no change).
        let small = x64_info(
            0,
            &[
                code(12, 4, 3),
                0x0010,
                code(10, 8, 6),
                0x0002,
                code(9, 3, 0),
                code(8, 2, 5),
                code(2, 0, 6),
                code(1, 0, 3),
            ],
        );
        // UWOP_ALLOC_LARGE info 0: 0x210 slots of 8 = 4224 bytes, plus one push.
        let large = x64_info(0, &[code(8, 1, 0), 0x0210, code(1, 0, 5)]);
        // UWOP_ALLOC_LARGE info 1: 0x0001_2340 bytes unscaled.
        let huge = x64_info(0, &[code(8, 1, 1), 0x2340, 0x0001]);
        // UWOP_PUSH_MACHFRAME with an error code (48).
        let machine = x64_info(0, &[code(0, 10, 1)]);
        let mut data = Vec::new();
        let mut table = Vec::new();
        for (i, info) in [small, large, huge, machine].iter().enumerate() {
            let rva = 0x100 + data.len() as u32;
            table.extend(le(&[
                0x1000 + i as u32 * 0x100,
                0x1080 + i as u32 * 0x100,
                rva,
            ]));
            data.extend(info);
        }
        let image = Bytes { base: 0x100, data };
        let frames = frames(Arch::X64, &table, &image).unwrap();
        let sizes: Vec<u32> = frames.iter().map(|f| f.bytes).collect();
        assert_eq!(sizes, [16 + 48, 4224 + 8, 0x0001_2340, 48]);
        assert_eq!(frames[1].rva, 0x1100);
    }

    #[test]
    fn x64_chained_info_adds_the_primary_frame() {
        // Primary at 0x100: sub rsp, 0x28 (ALLOC_SMALL info 4 = 40) after push rbp (8).
        let primary = x64_info(0, &[code(5, 2, 4), code(1, 0, 5)]);
        // Chained at 0x110: one UWOP_SAVE_NONVOL, then the primary's RUNTIME_FUNCTION.
        let mut chained = x64_info(UNW_FLAG_CHAININFO, &[code(4, 4, 3), 0x0004]);
        chained.extend(le(&[0x1000, 0x1040, 0x100]));
        let mut data = primary;
        data.resize(0x10, 0);
        data.extend(chained);
        let image = Bytes { base: 0x100, data };
        let table = le(&[0x1040, 0x1060, 0x110]);
        assert_eq!(frames(Arch::X64, &table, &image).unwrap()[0].bytes, 48);
    }

    #[test]
    fn x64_malformed_unwind_info_is_an_error() {
        let undocumented = x64_info(0, &[code(1, 7, 0)]);
        let image = Bytes {
            base: 0x100,
            data: undocumented,
        };
        let error = frames(Arch::X64, &le(&[0x1000, 0x1010, 0x100]), &image).unwrap_err();
        assert!(error.contains("undocumented unwind operation 7"), "{error}");
        let outside = frames(Arch::X64, &le(&[0x1000, 0x1010, 0x900]), &image).unwrap_err();
        assert!(outside.contains("outside the image"), "{outside}");
    }

    /// A packed ARM64 .pdata word: Flag 1, FunctionLength, RegF, RegI, H, CR, Frame Size / 16.
    fn packed(length: u32, reg_f: u32, reg_i: u32, cr: u32, frame: u32) -> u32 {
        1 | length << 2 | reg_f << 13 | reg_i << 16 | cr << 21 | (frame / 16) << 23
    }

    #[test]
    fn arm64_packed_frame_size_is_the_frame() {
        // Microsoft's Example 1 word (0x416101ed): frameSize 2080 bytes.
        let table = le(&[0x1000, 0x416101ED, 0x2000, packed(12, 0, 2, 3, 8176)]);
        let image = Bytes {
            base: 0,
            data: Vec::new(),
        };
        let sizes: Vec<u32> = frames(Arch::Arm64, &table, &image)
            .unwrap()
            .iter()
            .map(|f| f.bytes)
            .collect();
        assert_eq!(sizes, [2080, 8176]);
    }

    /// An .xdata record with one epilog scope (E = 0) starting at code index `epilog_index`.
    fn xdata(codes: &[u8], epilog_index: u32) -> Vec<u8> {
        let code_words = codes.len().div_ceil(4) as u32;
        let header = 100 | 1 << 22 | code_words << 27;
        let scope = 80 | epilog_index << 22;
        let mut data = le(&[header, scope]);
        data.extend(codes);
        data.resize(8 + code_words as usize * 4, 0xE3);
        data
    }

    #[test]
    fn arm64_prolog_codes_add_up() {
        // Prolog (reverse order): save_fregp 0 (no change), save_regp_x r19 (z = 3: 32),
        // save_fplr_x (z = 1: 16), alloc_m (0x21 * 16 = 528), alloc_s (2 * 16 = 32),
        // save_r19r20_x (z = 2: 16), save_reg_x (z = 1: 16), save_fregp_x (z = 1: 16),
        // save_freg_x (z = 0: 8), end. Epilog: alloc_s 1, end.
        let codes = [
            0xD8, 0x02, 0xCC, 0x03, 0x81, 0xC0, 0x21, 0x02, 0x22, 0xD4, 0x01, 0xDA, 0x01, 0xDE,
            0x00, 0xE4, 0x01, 0xE4,
        ];
        let data = xdata(&codes, 16);
        let image = Bytes { base: 0x100, data };
        let frame = frames(Arch::Arm64, &le(&[0x2000, 0x100]), &image).unwrap();
        assert_eq!(frame[0].bytes, 32 + 16 + 528 + 32 + 16 + 16 + 16 + 8);
    }

    #[test]
    fn arm64_alloc_l_and_end_c_and_the_largest_epilog_count() {
        // Prolog: alloc_l 0x000101 * 16, end_c, phantom parent save_fplr_x (z = 3: 32), end.
        // Epilog: alloc_m 0x7FF * 16 (larger than the prolog), end.
        let codes = [0xE0, 0x00, 0x01, 0x01, 0xE5, 0x83, 0xE4, 0xC7, 0xFF, 0xE4];
        let data = xdata(&codes, 7);
        let image = Bytes { base: 0x100, data };
        let frame = frames(Arch::Arm64, &le(&[0x2000, 0x100]), &image).unwrap();
        assert_eq!(frame[0].bytes, 0x7FF * 16);
        let prolog = arm64_codes(&codes, 0).unwrap();
        assert_eq!(prolog.bytes, 0x101 * 16 + 32);
    }

    #[test]
    fn arm64_locals_allocated_after_a_frame_chained_prolog_are_counted() {
        // Prolog: add fp, sp, #80 (add_fp 10); stp x29, x30, [sp, #80] (save_fplr 10);
        // stp x19, x20, [sp, #-96]! (save_r19r20_x 12); end. The function's code: three prolog
        // instructions, then `sub sp, sp, #608` and `sub sp, sp, #1, lsl #12`, then
        // `mov x15, #0x20; bl; sub sp, sp, x15, uxtx #4`.
        let codes = [0xE2, 0x0A, 0x4A, 0x2C, 0xE4];
        let mut data = xdata(&codes, 4);
        data.resize(0x100, 0);
        let code = [
            0xA9BA_53F3u32,
            0xA905_7BFD,
            0x9101_43FD,
            0xD109_83FF,
            0xD140_07FF,
            0xD280_040F,
            0x9400_0000,
            0xCB2F_73FF,
        ];
        data.extend(le(&code));
        let image = Bytes { base: 0x100, data };
        let frame = frames(Arch::Arm64, &le(&[0x200, 0x100]), &image).unwrap();
        assert_eq!(frame[0].bytes, 96 + 608 + 4096 + 0x20 * 16);
    }

    #[test]
    fn arm64_reserved_codes_and_missing_end_are_errors() {
        let image = Bytes {
            base: 0x100,
            data: xdata(&[0xF0, 0xE4], 1),
        };
        let error = frames(Arch::Arm64, &le(&[0x2000, 0x100]), &image).unwrap_err();
        assert!(error.contains("reserved"), "{error}");
        let unended = Bytes {
            base: 0x100,
            data: le(&[100 | 1 << 21 | 1 << 27, 0x0202_0202]),
        };
        let error = frames(Arch::Arm64, &le(&[0x2000, 0x100]), &unended).unwrap_err();
        assert!(error.contains("without `end`"), "{error}");
    }
}
