//! The loader: the only part of the host with `unsafe` (the crate root denies
//! `unsafe_op_in_unsafe_fn`, the workspace lints require a `SAFETY:` comment on every block).
//!
//! It maps a PE32+ image ([`map`]), binds each import to a Rust function with the Windows
//! calling convention of the host's architecture (x64 on x86-64, ARM64 on AArch64) through a
//! small thunk ([`thunks`], [`imports`]), gives every thread that runs driver code a processor
//! block ([`cpu`]), calls into the image ([`call`]), measures how deep the driver's stack goes
//! ([`stack`]) and reports faults ([`fault`]). The
//! architecture-specific parts (thunk code, the call, the processor block's register, the
//! fault decoder) sit behind `cfg(target_arch)`. [`Driver`] is the safe face of all this.

pub mod call;
pub mod cpu;
pub mod fault;
pub mod guest;
pub mod handles;
pub mod imports;
pub mod map;
pub mod memmap;
pub mod memory;
pub mod stack;
pub mod thunks;

use std::path::Path;
use std::sync::OnceLock;

use rswan_ndis::NdisStatus;

use crate::kernel::{self, checks, irql};
use crate::pe::{LoadError, Machine, PeImage};
use crate::report;
use crate::symbols::Symbols;
use crate::verifier::Violation;

/// Where the image lies and which of its ranges hold code.
#[derive(Debug, Clone)]
struct Layout {
    base: usize,
    size: usize,
    code: Vec<(usize, usize)>,
}

static LAYOUT: OnceLock<Layout> = OnceLock::new();

/// `DRIVER_OBJECT` is opaque to the driver (it only passes it to NDIS); its x64 size (0x150)
/// is allocated so that a driver reading a documented field reads zeros, not other memory.
const DRIVER_OBJECT_SIZE: usize = 0x150;
/// IO_TYPE_DRIVER, the Type of a DRIVER_OBJECT (WDK: DRIVER_OBJECT structure, "Type").
const IO_TYPE_DRIVER: u16 = 4;

/// `UNICODE_STRING` as the kernel passes it.
#[repr(C)]
#[derive(Debug)]
struct UnicodeString {
    length: u16,
    maximum_length: u16,
    buffer: *const u16,
}

/// A loaded driver image.
#[derive(Debug)]
pub struct Driver {
    image: PeImage,
    mapping: map::Mapping,
    _thunks: thunks::Thunks,
    driver_object: Box<[u64; DRIVER_OBJECT_SIZE / 8]>,
    registry_path: Box<UnicodeString>,
    _registry_path_text: Vec<u16>,
}

// SAFETY: the raw pointer in `registry_path` points into `_registry_path_text`, owned by the
// same value and never written; the driver may read it from any thread.
unsafe impl Send for Driver {}
// SAFETY: as above.
unsafe impl Sync for Driver {}

/// The registry path a service key of rswan has (WDK: DriverEntry, "RegistryPath").
const REGISTRY_PATH: &str = r"\Registry\Machine\System\CurrentControlSet\Services\rswan";

impl Driver {
    /// Loads the image at `path`. One image per process.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError::Os(format!("{path:?}: {e}")))?;
        let driver = Self::load_bytes(&bytes)?;
        report::set_image_symbols(
            driver.base(),
            driver.image.size_of_image as usize,
            Symbols::for_image(path),
        );
        Ok(driver)
    }

    /// Loads an image from its bytes. One image per process.
    pub fn load_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let image = PeImage::parse(bytes)?;
        let host = if cfg!(target_arch = "x86_64") {
            Machine::X64
        } else {
            Machine::Arm64
        };
        if image.machine != host {
            return Err(LoadError::Malformed(format!(
                "the image is for {:?}; this host runs {host:?} code",
                image.machine
            )));
        }
        let mut targets = Vec::with_capacity(image.imports.len());
        let mut missing = Vec::new();
        for import in &image.imports {
            match imports::resolve(&import.dll, &import.name) {
                Some(address) => targets.push(address),
                None => missing.push(format!("{}!{}", import.dll, import.name)),
            }
        }
        if !missing.is_empty() {
            return Err(LoadError::UnimplementedImports(missing));
        }
        let thunks = thunks::Thunks::build(&targets)?;
        let mapping = map::map_image(&image, |index| thunks.address(index))?;
        let base = mapping.base();
        let code = image
            .sections
            .iter()
            .filter(|s| s.executable)
            .map(|s| (base + s.rva as usize, s.virtual_size as usize))
            .collect();
        let layout = Layout {
            base,
            size: image.size_of_image as usize,
            code,
        };
        if LAYOUT.set(layout).is_err() {
            return Err(LoadError::Os(
                "an image is already loaded in this process".into(),
            ));
        }
        kernel::up_time();
        fault::set_image(base, image.size_of_image as usize);
        fault::install();
        cpu::enter();
        report::image(base, image.size_of_image as usize);

        let mut driver_object = Box::new([0u64; DRIVER_OBJECT_SIZE / 8]);
        driver_object[0] = u64::from(IO_TYPE_DRIVER) | ((DRIVER_OBJECT_SIZE as u64) << 16);
        let text: Vec<u16> = REGISTRY_PATH.encode_utf16().collect();
        let registry_path = Box::new(UnicodeString {
            length: (text.len() * 2) as u16,
            maximum_length: (text.len() * 2) as u16,
            buffer: text.as_ptr(),
        });
        Ok(Self {
            image,
            mapping,
            _thunks: thunks,
            driver_object,
            registry_path,
            _registry_path_text: text,
        })
    }

    pub fn base(&self) -> usize {
        self.mapping.base()
    }

    pub fn image(&self) -> &PeImage {
        &self.image
    }

    /// The address NDIS would pass as DriverObject.
    pub fn driver_object(&self) -> usize {
        self.driver_object.as_ptr() as usize
    }

    /// Calls DriverEntry(DriverObject, RegistryPath) at PASSIVE_LEVEL (WDK: DriverEntry for
    /// NDIS miniport drivers).
    pub fn driver_entry(&self) -> NdisStatus {
        let entry = self.base() + self.image.entry_rva as usize;
        let registry_path = &*self.registry_path as *const UnicodeString as usize;
        call_handler(entry, &[self.driver_object(), registry_path], "DriverEntry") as u32
            as NdisStatus
    }

    /// Unloads the driver the way NDIS does: its MiniportDriverUnload with the driver object
    /// (WDK: MINIPORT_UNLOAD). Fails if no miniport driver is registered.
    pub fn unload(&self) -> Result<(), String> {
        let miniport = kernel::kernel()
            .miniport()
            .ok_or("no miniport driver is registered, so NDIS has no unload handler to call")?;
        call_handler(
            miniport.registration.handlers.unload,
            &[self.driver_object()],
            "MiniportDriverUnload",
        );
        Ok(())
    }

    /// Calls the exported function `name` with `args` (test images).
    pub fn call_export(&self, name: &str, args: &[usize]) -> Result<usize, String> {
        let rva = self
            .image
            .export(name)
            .ok_or_else(|| format!("the image exports no `{name}`"))?;
        Ok(call_handler(self.base() + rva as usize, args, name))
    }

    /// Calls the code at `rva` with RAX = `rax` (the x64 `__chkstk` convention); an error on
    /// an AArch64 host, which runs ARM64 images.
    pub fn call_rva_with_rax(&self, rva: u32, rax: usize, what: &str) {
        let address = self.base() + rva as usize;
        check_code_address(address, what);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `address` lies in an executable section of the mapped image (checked
        // above); the caller names code that takes RAX, and a fault is reported by `fault`.
        unsafe {
            call::call_with_rax(address, rax)
        }
        #[cfg(target_arch = "aarch64")]
        report::error(&format!(
            "{what}: there is no RAX on an AArch64 host (rax={rax:#x})"
        ));
    }

    /// Calls the code at `rva` with X15 = `x15` (the ARM64 `__chkstk` convention: the frame
    /// size / 16; Microsoft: "Overview of ARM64 ABI conventions", "Stack"); an error on an
    /// x86-64 host, which runs x64 images.
    pub fn call_rva_with_x15(&self, rva: u32, x15: usize, what: &str) {
        let address = self.base() + rva as usize;
        check_code_address(address, what);
        #[cfg(target_arch = "aarch64")]
        // SAFETY: `address` lies in an executable section of the mapped image (checked
        // above); the caller names code that takes X15, and a fault is reported by `fault`.
        unsafe {
            call::call_with_x15(address, x15)
        }
        #[cfg(target_arch = "x86_64")]
        report::error(&format!(
            "{what}: there is no X15 on an x86-64 host (x15={x15:#x})"
        ));
    }
}

/// Where the loaded image lies, as (base, size).
pub fn image_range() -> Option<(usize, usize)> {
    LAYOUT.get().map(|layout| (layout.base, layout.size))
}

/// Stops the scenario unless `address` lies in an executable section of the loaded image.
fn check_code_address(address: usize, what: &str) {
    let layout = LAYOUT.get().expect("no image is loaded");
    let inside = layout
        .code
        .iter()
        .any(|&(start, len)| address >= start && address < start + len);
    if !inside {
        report::violation(
            "HANDLER",
            &format!(
                "{what} at {address:#x} is not code of the image (image at {:#x}, {:#x} bytes)",
                layout.base, layout.size
            ),
        );
    }
}

/// Calls a driver function (an entry point or a handler it registered) at `address`, after
/// checking that it is code in the image. Called at the current thread's IRQL.
pub fn call_handler(address: usize, args: &[usize], what: &str) -> usize {
    check_code_address(address, what);
    let before = irql::current();
    let held_before = checks::held_locks().len();
    // SAFETY: `address` is code in the image (checked above) that the driver registered or
    // the image declares as this entry point, so it follows the Windows convention and takes
    // these arguments per its WDK prototype; a fault in it is reported by `fault`.
    let called = unsafe { call::call(address, args) };
    stack::record(what, called.depth);
    if let Err(violation) = crate::verifier::stack::within_budget(what, called.depth) {
        checks::stop(&violation);
    }
    let result = called.result;
    let held_after = checks::held_locks();
    if let Some(held) = held_after.get(held_before) {
        checks::stop(&Violation::new(
            "LOCK_HELD_ON_RETURN",
            format!(
                "{what} returned still holding spin lock {:#x} (acquired at {{site:0}})",
                held.lock
            ),
            vec![held.site],
        ));
    }
    let after = irql::current();
    if after != before {
        report::violation(
            "IRQL",
            &format!(
                "{what} returned at {} but was called at {}",
                irql::name(after),
                irql::name(before)
            ),
        );
    }
    result
}
