//! A copy of a structure the driver passed, read field by field at the offsets of the
//! rswan-ndis type that describes it (`core::mem::offset_of!`). The host never reinterprets
//! driver memory as a Rust value: a NULL in a field the type declares non-nullable, or any
//! other bit pattern the driver wrote, stays a number here.
#![forbid(unsafe_code)]

use rswan_ndis::NdisObjectHeader;

/// The bytes of one structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(pub Vec<u8>);

impl Raw {
    fn bytes<const N: usize>(&self, offset: usize) -> [u8; N] {
        let mut out = [0u8; N];
        let available = self.0.get(offset..).unwrap_or(&[]);
        let take = available.len().min(N);
        out[..take].copy_from_slice(&available[..take]);
        out
    }

    /// The field at `offset`; bytes past the copy read as zero.
    pub fn u8_at(&self, offset: usize) -> u8 {
        self.bytes::<1>(offset)[0]
    }

    pub fn u16_at(&self, offset: usize) -> u16 {
        u16::from_le_bytes(self.bytes(offset))
    }

    pub fn u32_at(&self, offset: usize) -> u32 {
        u32::from_le_bytes(self.bytes(offset))
    }

    pub fn u64_at(&self, offset: usize) -> u64 {
        u64::from_le_bytes(self.bytes(offset))
    }

    pub fn usize_at(&self, offset: usize) -> usize {
        usize::from_le_bytes(self.bytes(offset))
    }

    /// The NDIS_OBJECT_HEADER every NDIS 6 structure starts with.
    pub fn header(&self) -> NdisObjectHeader {
        NdisObjectHeader {
            object_type: self.u8_at(0),
            revision: self.u8_at(1),
            size: self.u16_at(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_little_endian_and_past_the_end_as_zero() {
        let raw = Raw(vec![0x8A, 2, 0x98, 0, 1, 2, 3, 4]);
        assert_eq!(raw.header().object_type, 0x8A);
        assert_eq!(raw.header().size, 0x98);
        assert_eq!(raw.u32_at(4), 0x0403_0201);
        assert_eq!(raw.u64_at(4), 0x0403_0201);
    }
}
