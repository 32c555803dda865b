//! Mapping an image the way the kernel loader does: every section at its RVA in one reserved
//! range, base relocations applied for wherever that range landed, the import address table
//! filled, then each page given its section's protection (no page both writable and
//! executable).

use std::ptr::NonNull;

use crate::pe::{LoadError, PeImage, RelocationKind};

const PAGE: usize = 4096;

#[cfg(target_arch = "aarch64")]
unsafe extern "C" {
    /// libgcc's (and compiler-rt's) instruction cache synchronization for `[begin, end)`.
    fn __clear_cache(begin: *mut libc::c_char, end: *mut libc::c_char);
}

/// An anonymous private mapping, unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; the code and data in it
// are shared with driver threads exactly as the kernel shares a loaded image.
unsafe impl Send for Mapping {}
// SAFETY: as above; `Mapping` itself only hands out addresses.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Reserves `len` bytes (rounded up to pages) readable and writable.
    pub fn new(len: usize, prot: i32) -> Result<Self, LoadError> {
        let len = len.div_ceil(PAGE) * PAGE;
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches
        // no existing memory.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(LoadError::Os(std::io::Error::last_os_error().to_string()));
        }
        let base = NonNull::new(addr.cast::<u8>()).ok_or_else(|| LoadError::Os("null".into()))?;
        Ok(Self { base, len })
    }

    pub fn base(&self) -> usize {
        self.base.as_ptr() as usize
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` to `offset`; the range must lie inside the mapping and still be writable.
    pub fn write(&mut self, offset: usize, bytes: &[u8], what: &str) -> Result<(), LoadError> {
        offset
            .checked_add(bytes.len())
            .filter(|&end| end <= self.len)
            .map(drop)
            .ok_or_else(|| LoadError::OutOfBounds(what.to_owned()))?;
        // SAFETY: the range was checked against the mapping, which is writable until `protect`
        // runs (the loader writes only before that), and `bytes` is a separate allocation.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.base.as_ptr().wrapping_add(offset),
                bytes.len(),
            );
        }
        Ok(())
    }

    /// Reads the 8 bytes at `offset`.
    fn read_u64(&self, offset: usize, what: &str) -> Result<u64, LoadError> {
        if offset.checked_add(8).is_none_or(|end| end > self.len) {
            return Err(LoadError::OutOfBounds(what.to_owned()));
        }
        // SAFETY: the 8 bytes lie inside the mapping, which is readable during loading.
        Ok(unsafe {
            self.base
                .as_ptr()
                .wrapping_add(offset)
                .cast::<u64>()
                .read_unaligned()
        })
    }

    /// Sets the protection of the pages covering `[offset, offset + len)`.
    pub fn protect(&mut self, offset: usize, len: usize, prot: i32) -> Result<(), LoadError> {
        if !offset.is_multiple_of(PAGE) || offset + len > self.len {
            return Err(LoadError::OutOfBounds("protected range".into()));
        }
        #[cfg(target_arch = "aarch64")]
        if prot & libc::PROT_EXEC != 0 {
            // AArch64 instruction fetch does not see data writes until the caches are
            // synchronized (x86-64 keeps them coherent by itself).
            let start = self.base.as_ptr().wrapping_add(offset);
            // SAFETY: the range lies inside this mapping, still readable (the loader writes
            // code, then makes it executable); __clear_cache only cleans and invalidates cache
            // lines.
            unsafe { __clear_cache(start.cast(), start.wrapping_add(len).cast()) };
        }
        // SAFETY: the range is page-aligned and inside this mapping; changing its protection
        // affects no memory Rust code holds references into.
        let rc =
            unsafe { libc::mprotect(self.base.as_ptr().wrapping_add(offset).cast(), len, prot) };
        if rc != 0 {
            return Err(LoadError::Os(std::io::Error::last_os_error().to_string()));
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `mmap` with this length and is unmapped once.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}

/// The protection of one page: the union of the sections that cover it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PageProt {
    read: bool,
    write: bool,
    exec: bool,
}

impl PageProt {
    fn to_libc(self) -> i32 {
        let mut prot = libc::PROT_NONE;
        if self.read {
            prot |= libc::PROT_READ;
        }
        if self.write {
            prot |= libc::PROT_WRITE;
        }
        if self.exec {
            prot |= libc::PROT_EXEC;
        }
        prot
    }
}

/// Maps `image`, relocates it, fills each import slot with the address `bind` returns for it
/// and protects it. `bind` is called once per import, in image order.
pub fn map_image(image: &PeImage, bind: impl Fn(usize) -> usize) -> Result<Mapping, LoadError> {
    for section in &image.sections {
        if section.writable && section.executable {
            return Err(LoadError::WritableAndExecutable(format!(
                "section {}",
                section.name
            )));
        }
    }
    let mut mapping = Mapping::new(
        image.size_of_image as usize,
        libc::PROT_READ | libc::PROT_WRITE,
    )?;
    mapping.write(0, &image.headers, "headers")?;
    for section in &image.sections {
        mapping.write(section.rva as usize, &section.data, &section.name)?;
        if section.rva as usize + section.virtual_size as usize > mapping.len() {
            return Err(LoadError::OutOfBounds(format!("section {}", section.name)));
        }
    }

    let delta = (mapping.base() as u64).wrapping_sub(image.preferred_base);
    for reloc in &image.relocations {
        match reloc.kind {
            RelocationKind::Dir64 => {
                let what = format!("relocation at rva 0x{:x}", reloc.rva);
                let value = mapping.read_u64(reloc.rva as usize, &what)?;
                mapping.write(
                    reloc.rva as usize,
                    &value.wrapping_add(delta).to_le_bytes(),
                    &what,
                )?;
            }
        }
    }

    for (index, import) in image.imports.iter().enumerate() {
        let address = bind(index) as u64;
        mapping.write(
            import.iat_rva as usize,
            &address.to_le_bytes(),
            &format!("import slot of {}", import.name),
        )?;
    }

    // Page protections: headers read-only, each section its own; pages shared by two sections
    // (small section alignment) take the union, which must still not be W+X.
    let pages = mapping.len() / PAGE;
    let mut prots = vec![PageProt::default(); pages];
    let header_pages = (image.size_of_headers as usize).div_ceil(PAGE).max(1);
    for prot in prots.iter_mut().take(header_pages) {
        prot.read = true;
    }
    for section in &image.sections {
        let first = section.rva as usize / PAGE;
        let last = (section.rva as usize + section.virtual_size.max(1) as usize).div_ceil(PAGE);
        for (page, prot) in prots.iter_mut().enumerate().take(last).skip(first) {
            prot.read |= section.readable;
            prot.write |= section.writable;
            prot.exec |= section.executable;
            if prot.write && prot.exec {
                return Err(LoadError::WritableAndExecutable(format!(
                    "page at rva 0x{:x} (shared by section {})",
                    page * PAGE,
                    section.name
                )));
            }
        }
    }
    let mut start = 0;
    while start < pages {
        let mut end = start + 1;
        while end < pages && prots[end] == prots[start] {
            end += 1;
        }
        mapping.protect(start * PAGE, (end - start) * PAGE, prots[start].to_libc())?;
        start = end;
    }
    Ok(mapping)
}
