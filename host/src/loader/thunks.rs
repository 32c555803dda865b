//! One small thunk per bound import. The image's import slots point at these, not at the Rust
//! functions directly: each thunk stores the driver's return address and the import's index in
//! the calling thread's processor block (see `cpu`) and jumps on to the implementation, so the
//! implementation knows which instruction in the image called it (lock acquisition sites,
//! completion sites, crash reports).

use super::cpu::{SLOT_CALLER, SLOT_IMPORT};
use super::map::Mapping;
use crate::pe::LoadError;

pub const THUNK_SIZE: usize = 48;

/// Encodes the thunk for import `index` that jumps to `target` (x86-64 machine code).
fn encode(index: u32, target: usize) -> [u8; THUNK_SIZE] {
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
    // movabs rax, target; jmp rax (rax and r11 are volatile in the Microsoft x64 ABI).
    code.extend_from_slice(&[0x48, 0xB8]);
    code.extend_from_slice(&(target as u64).to_le_bytes());
    code.extend_from_slice(&[0xFF, 0xE0]);
    let mut thunk = [0xCC; THUNK_SIZE];
    thunk[..code.len()].copy_from_slice(&code);
    thunk
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
    use super::*;

    #[test]
    fn thunk_fits_and_ends_in_an_indirect_jump() {
        let thunk = encode(7, 0x1122_3344_5566_7788);
        let end = thunk.iter().rposition(|&b| b != 0xCC).unwrap() + 1;
        assert_eq!(&thunk[end - 2..end], &[0xFF, 0xE0]);
        assert_eq!(
            &thunk[end - 10..end - 2],
            &0x1122_3344_5566_7788u64.to_le_bytes()
        );
        assert_eq!(&thunk[end - 16..end - 12], &7u32.to_le_bytes());
    }
}
