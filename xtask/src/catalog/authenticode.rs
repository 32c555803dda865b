//! The hashes a catalog lists for a file: the Authenticode hash of a PE image, the plain hash
//! of a flat file (an INF).
//!
//! The Authenticode hash (Microsoft's "Windows Authenticode Portable Executable Signature
//! Format" specification) covers the whole image except three ranges: the optional header's
//! CheckSum field, the Certificate Table entry of the data directory, and the certificate table
//! itself. An image without a certificate table whose size is not a multiple of 8 is hashed as
//! if padded with zero bytes to the next multiple of 8: signing pads the file the same way
//! before appending the table, so the hash of an image is the same before and after it is
//! test-signed. The image is hashed in file order, as signtool and osslsigncode do for images
//! whose sections follow the headers in order (the only kind a linker writes).

use std::ops::Range;

use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::Result;

/// The SHA-1 and SHA-256 hashes of one file, as a catalog lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigests {
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
}

/// The Authenticode hashes of a PE image (an unsigned or an embedded-signed one).
pub fn pe_image(image: &[u8]) -> Result<FileDigests> {
    let hashed = HashedParts::of_pe(image)?;
    Ok(FileDigests {
        sha1: hashed.digest::<Sha1>(image).into(),
        sha256: hashed.digest::<Sha256>(image).into(),
    })
}

/// The hashes of a flat file: every byte, nothing skipped, no padding.
pub fn flat_file(contents: &[u8]) -> FileDigests {
    FileDigests {
        sha1: Sha1::digest(contents).into(),
        sha256: Sha256::digest(contents).into(),
    }
}

/// Which bytes of a PE image its Authenticode hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HashedParts {
    ranges: [Range<usize>; 3],
    zero_padding: usize,
}

/// IMAGE_NT_OPTIONAL_HDR32_MAGIC / IMAGE_NT_OPTIONAL_HDR64_MAGIC (PE format, "Optional Header
/// Standard Fields").
const PE32_MAGIC: u16 = 0x10B;
const PE32_PLUS_MAGIC: u16 = 0x20B;
/// Offset of CheckSum in the optional header (the same for PE32 and PE32+).
const CHECKSUM_OFFSET: usize = 64;
/// The Certificate Table is data-directory entry 4.
const CERTIFICATE_TABLE_INDEX: u32 = 4;

impl HashedParts {
    fn of_pe(image: &[u8]) -> Result<HashedParts> {
        if image.get(..2) != Some(b"MZ") {
            return Err("not a PE image: it does not start with the MZ signature".into());
        }
        let pe_offset = read_u32(image, 0x3C, "e_lfanew")? as usize;
        if image.get(pe_offset..pe_offset.saturating_add(4)) != Some(b"PE\0\0") {
            return Err(format!(
                "not a PE image: no PE signature at e_lfanew {pe_offset:#x} (file is {} bytes)",
                image.len()
            )
            .into());
        }
        let coff = pe_offset + 4;
        let optional_header_size = usize::from(read_u16(image, coff + 16, "SizeOfOptionalHeader")?);
        let optional = coff + 20;
        let (rva_count_offset, directory_offset) =
            match read_u16(image, optional, "optional header magic")? {
                PE32_MAGIC => (92, 96),
                PE32_PLUS_MAGIC => (108, 112),
                other => {
                    return Err(format!(
                        "unsupported PE optional header magic {other:#x} (expected 0x10b or 0x20b)"
                    )
                    .into());
                }
            };
        let rva_count = read_u32(image, optional + rva_count_offset, "NumberOfRvaAndSizes")?;
        let certificate_entry_in_optional = directory_offset + 8 * CERTIFICATE_TABLE_INDEX as usize;
        if rva_count <= CERTIFICATE_TABLE_INDEX
            || optional_header_size < certificate_entry_in_optional + 8
        {
            return Err(format!(
                "PE image has no Certificate Table entry ({rva_count} data-directory entries, \
                 optional header of {optional_header_size} bytes)"
            )
            .into());
        }
        let checksum = optional + CHECKSUM_OFFSET;
        let certificate_entry = optional + certificate_entry_in_optional;
        let table_offset = read_u32(image, certificate_entry, "Certificate Table offset")? as usize;
        let table_size = read_u32(image, certificate_entry + 4, "Certificate Table size")? as usize;

        let (hashed_end, zero_padding) = if table_offset == 0 && table_size == 0 {
            (image.len(), image.len().next_multiple_of(8) - image.len())
        } else {
            // Since MS12-024 the table must be the last thing in the file (osslsigncode and
            // Windows both require it): anything after it would be outside every hash.
            if table_size == 0
                || table_offset < certificate_entry + 8
                || table_offset.checked_add(table_size) != Some(image.len())
            {
                return Err(format!(
                    "PE image's certificate table (offset {table_offset:#x}, size \
                     {table_size:#x}) is not at the end of the {}-byte file",
                    image.len()
                )
                .into());
            }
            (table_offset, 0)
        };
        Ok(HashedParts {
            ranges: [
                0..checksum,
                checksum + 4..certificate_entry,
                certificate_entry + 8..hashed_end,
            ],
            zero_padding,
        })
    }

    fn digest<D: Digest>(&self, image: &[u8]) -> sha1::digest::Output<D> {
        let mut hasher = D::new();
        for range in &self.ranges {
            hasher.update(&image[range.clone()]);
        }
        hasher.update(&[0u8; 8][..self.zero_padding]);
        hasher.finalize()
    }
}

fn read_u16(image: &[u8], offset: usize, what: &str) -> Result<u16> {
    image
        .get(offset..offset + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| truncated(image, offset, what))
}

fn read_u32(image: &[u8], offset: usize, what: &str) -> Result<u32> {
    image
        .get(offset..offset + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| truncated(image, offset, what))
}

fn truncated(image: &[u8], offset: usize, what: &str) -> Box<dyn std::error::Error> {
    format!(
        "truncated PE image: {what} at offset {offset:#x} lies past the end of the {}-byte file",
        image.len()
    )
    .into()
}
