//! Inputs for the catalog and signing tests: a real driver image, small hand-made PE images,
//! and scratch folders.
//!
//! The driver image is, in this order: the file named by `RSWAN_TEST_SYS`; the x64 release
//! image `x86_64-pc-windows-msvc/release/rswan.exe` in the xtask target dir (honours
//! `CARGO_TARGET_DIR`) or in the repository's `target/`; otherwise the tests build it into the
//! xtask target dir with the package build (`driver_build`), once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::arch::Arch;
use crate::driver_build::{self, Toolchain};

/// An empty folder for one test under `<target>/xtask-tests/`.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = crate::target_dir().join("xtask-tests").join(test);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("clearing {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// A real x64 rswan image (see the module documentation for where it comes from).
pub fn driver_image() -> &'static Path {
    static IMAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match IMAGE.get_or_init(find_or_build_driver_image) {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

fn find_or_build_driver_image() -> Result<PathBuf, String> {
    let relative = Path::new(Arch::X64.target_dir_name()).join("release/rswan.exe");
    if let Some(path) = std::env::var_os("RSWAN_TEST_SYS") {
        let path = PathBuf::from(path);
        return check_image(&path).map(|()| path);
    }
    for target in [crate::target_dir(), crate::repo_root().join("target")] {
        let candidate = target.join(&relative);
        if candidate.is_file() {
            return check_image(&candidate).map(|()| candidate);
        }
    }
    let root = crate::repo_root();
    let toolchain = Toolchain::select(&root).map_err(|e| {
        format!("no rswan.exe found and no toolchain to build one (set RSWAN_TEST_SYS): {e}")
    })?;
    let (images, _) = driver_build::build(&toolchain, &root, &crate::target_dir(), &[Arch::X64])
        .map_err(|e| format!("building rswan.exe for the catalog tests failed: {e}"))?;
    let image = images[0].image.clone();
    check_image(&image).map(|()| image)
}

fn check_image(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    if bytes.starts_with(b"MZ") {
        Ok(())
    } else {
        Err(format!("{} is not a PE image", path.display()))
    }
}

/// A minimal valid PE image: headers (0x200 bytes) and one 0x200-byte section, then
/// `trailing` bytes of overlay, so the file size can be any value. PE32+ (x64) or PE32 (x86).
pub fn tiny_pe(pe32_plus: bool, trailing: usize) -> Vec<u8> {
    let mut image = vec![0u8; 0x400 + trailing];
    let put16 = |image: &mut Vec<u8>, at: usize, v: u16| {
        image[at..at + 2].copy_from_slice(&v.to_le_bytes())
    };
    let put32 = |image: &mut Vec<u8>, at: usize, v: u32| {
        image[at..at + 4].copy_from_slice(&v.to_le_bytes())
    };
    image[..2].copy_from_slice(b"MZ");
    let pe = 0x80;
    put32(&mut image, 0x3C, pe as u32);
    image[pe..pe + 4].copy_from_slice(b"PE\0\0");
    let coff = pe + 4;
    let (machine, magic, optional_size, rva_count_at) = if pe32_plus {
        (0x8664, 0x20B, 240, 108)
    } else {
        (0x14C, 0x10B, 224, 92)
    };
    put16(&mut image, coff, machine);
    put16(&mut image, coff + 2, 1); // NumberOfSections
    put16(&mut image, coff + 16, optional_size);
    put16(&mut image, coff + 18, 0x22); // executable, large-address aware
    let optional = coff + 20;
    put16(&mut image, optional, magic);
    put32(&mut image, optional + 32, 0x1000); // SectionAlignment
    put32(&mut image, optional + 36, 0x200); // FileAlignment
    put32(&mut image, optional + 56, 0x2000); // SizeOfImage
    put32(&mut image, optional + 60, 0x200); // SizeOfHeaders
    put32(&mut image, optional + 64, 0x1234_5678); // CheckSum (not hashed)
    put16(&mut image, optional + 68, 1); // Subsystem NATIVE
    put32(&mut image, optional + rva_count_at, 16);
    let section = optional + usize::from(optional_size);
    image[section..section + 5].copy_from_slice(b".text");
    put32(&mut image, section + 8, 0x200); // VirtualSize
    put32(&mut image, section + 12, 0x1000); // VirtualAddress
    put32(&mut image, section + 16, 0x200); // SizeOfRawData
    put32(&mut image, section + 20, 0x200); // PointerToRawData
    put32(&mut image, section + 36, 0x6000_0020); // code, execute, read
    for (i, byte) in image[0x200..].iter_mut().enumerate() {
        *byte = (i * 7 + usize::from(pe32_plus)) as u8;
    }
    image
}
