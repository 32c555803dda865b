//! Decoding x86/x64 code with `iced-x86`: floating-point/SIMD instructions (forbidden in the
//! x86 image) and instruction fields that hold an absolute address (each needs a relocation).
//!
//! Sections are decoded by linear sweep. LLVM puts jump tables and constants in `.rdata` for
//! COFF targets and lld pads between functions with `int3`, so a driver's `.text` decodes
//! whole; bytes that do not decode are reported, never skipped silently.

use std::ops::Range;

use iced_x86::{
    CpuidFeature, Decoder, DecoderOptions, EncodingKind, Formatter, Instruction, IntelFormatter,
    OpKind, Register,
};

/// An instruction that uses x87, MMX, SSE or AVX state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloatInstruction {
    pub rva: u32,
    /// The instruction in Intel syntax, e.g. `movaps xmm0,xmm1`.
    pub text: String,
}

/// What one executable section holds.
#[derive(Debug, Default)]
pub(super) struct CodeScan {
    pub instructions: usize,
    pub float: Vec<FloatInstruction>,
    /// RVAs of displacement/immediate fields whose value is an address inside the image.
    pub absolute_refs: Vec<u32>,
    /// RVA of the first byte of each run of bytes that does not decode.
    pub undecodable: Vec<u32>,
}

/// Decodes `code`, the bytes of a section mapped at `section_rva`.
pub(super) fn scan(
    code: &[u8],
    bitness: u32,
    image_base: u64,
    section_rva: u32,
    image: &Range<u64>,
) -> CodeScan {
    let mut result = CodeScan::default();
    let mut decoder = Decoder::with_ip(
        bitness,
        code,
        image_base + u64::from(section_rva),
        DecoderOptions::NONE,
    );
    let mut formatter = IntelFormatter::new();
    let mut instruction = Instruction::default();
    let mut in_invalid_run = false;
    while decoder.can_decode() {
        let offset = decoder.position() as u32;
        decoder.decode_out(&mut instruction);
        let rva = section_rva + offset;
        if instruction.is_invalid() {
            if !in_invalid_run {
                result.undecodable.push(rva);
            }
            in_invalid_run = true;
            continue;
        }
        in_invalid_run = false;
        result.instructions += 1;
        if uses_float_state(&instruction) {
            let mut text = String::new();
            formatter.format(&instruction, &mut text);
            result.float.push(FloatInstruction { rva, text });
        }
        let offsets = decoder.get_constant_offsets(&instruction);
        if offsets.has_displacement()
            && absolute_memory_operand(&instruction)
            && image.contains(&displacement(&instruction, bitness))
        {
            result
                .absolute_refs
                .push(rva + offsets.displacement_offset() as u32);
        }
        if offsets.has_immediate() && immediate_in(&instruction, image) {
            result
                .absolute_refs
                .push(rva + offsets.immediate_offset() as u32);
        }
    }
    result
}

/// Every x87/MMX/SSE/AVX instruction in 32-bit `code` mapped at `rva` (image base 0).
#[cfg(test)]
pub fn find_float_instructions(code: &[u8], rva: u32) -> Vec<FloatInstruction> {
    scan(code, 32, 0, rva, &(0..0)).float
}

fn absolute_memory_operand(instruction: &Instruction) -> bool {
    let has_memory = (0..instruction.op_count()).any(|i| instruction.op_kind(i) == OpKind::Memory);
    has_memory && instruction.memory_base() == Register::None
}

fn displacement(instruction: &Instruction, bitness: u32) -> u64 {
    match bitness {
        32 => u64::from(instruction.memory_displacement32()),
        _ => instruction.memory_displacement64(),
    }
}

fn immediate_in(instruction: &Instruction, image: &Range<u64>) -> bool {
    (0..instruction.op_count()).any(|i| {
        matches!(
            instruction.op_kind(i),
            OpKind::Immediate32 | OpKind::Immediate32to64 | OpKind::Immediate64
        ) && image.contains(&instruction.immediate(i))
    })
}

/// True if the instruction reads or writes x87, MMX, SSE, AVX (or newer vector) state.
fn uses_float_state(instruction: &Instruction) -> bool {
    if instruction.encoding() != EncodingKind::Legacy {
        return true;
    }
    let vector_register =
        |r: Register| r.is_st() || r.is_mm() || r.is_vector_register() || r.is_k() || r.is_tmm();
    let register_operand = (0..instruction.op_count()).any(|i| {
        instruction.op_kind(i) == OpKind::Register && vector_register(instruction.op_register(i))
    });
    register_operand
        || vector_register(instruction.memory_index())
        || instruction
            .cpuid_features()
            .iter()
            .any(|f| float_feature(*f))
}

fn float_feature(feature: CpuidFeature) -> bool {
    use CpuidFeature as F;
    matches!(
        feature,
        F::FPU
            | F::FPU287
            | F::FPU287XL_ONLY
            | F::FPU387
            | F::FPU387SL_ONLY
            | F::CYRIX_FPU
            | F::FXSR
            | F::MMX
            | F::CYRIX_EMMI
            | F::D3NOW
            | F::D3NOWEXT
            | F::CYRIX_D3NOW
            | F::SSE
            | F::SSE2
            | F::SSE3
            | F::SSSE3
            | F::SSE4_1
            | F::SSE4_2
            | F::SSE4A
            | F::AES
            | F::PCLMULQDQ
            | F::SHA
            | F::GFNI
            | F::F16C
            | F::FMA
            | F::FMA4
            | F::XOP
            | F::AVX
            | F::AVX2
            | F::AVX512F
            | F::AVX512VL
            | F::AVX512BW
            | F::AVX512DQ
            | F::AVX512CD
            | F::AVX512ER
            | F::AVX512PF
            | F::AVX512_4FMAPS
            | F::AVX512_4VNNIW
            | F::AVX512_BF16
            | F::AVX512_BITALG
            | F::AVX512_IFMA
            | F::AVX512_VBMI
            | F::AVX512_VBMI2
            | F::AVX512_VNNI
            | F::AVX512_VP2INTERSECT
            | F::AVX512_VPOPCNTDQ
            | F::VAES
            | F::VPCLMULQDQ
            | F::AMX_BF16
            | F::AMX_TILE
            | F::AMX_INT8
    )
}
