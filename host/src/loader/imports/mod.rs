//! The kernel and NDIS functions the host implements, by the DLL and name the image imports
//! them under. Each implementation is an `extern "efiapi"` function that decodes the driver's
//! arguments and hands the work to the safe model in [`crate::kernel`].
//!
//! `efiapi` is Rust's name for the convention the driver calls with on both hosts: on x86-64 it
//! is the Microsoft x64 convention (`win64`); on AArch64 it is the C convention, AAPCS64,
//! which the Windows ARM64 ABI follows for these signatures (all integer and pointer
//! arguments and results; Microsoft: "Overview of ARM64 ABI conventions", "Parameter passing"
//! and "Return values"). What that ABI adds, x18 pointing to the KPCR and kept across calls,
//! the import thunks take care of (`super::thunks`).

mod condis;
pub mod configuration;
mod lockword;
pub mod lower;
mod ndis;
mod ntoskrnl;

/// Module names compare case-insensitively, as the kernel loader compares them.
pub fn resolve(dll: &str, name: &str) -> Option<usize> {
    let dll = dll.to_ascii_lowercase();
    let table = match dll.as_str() {
        "ndis.sys" => ndis_exports(),
        "ntoskrnl.exe" => ntoskrnl::exports(),
        _ => return None,
    };
    table
        .iter()
        .find(|(export, _)| *export == name)
        .map(|&(_, address)| address)
}

fn ndis_exports() -> Vec<(&'static str, usize)> {
    let mut table = ndis::exports();
    table.extend(condis::exports());
    table.extend(lower::exports());
    table.extend(configuration::exports());
    table
}

/// Every implemented import as `DLL!name`, for reports.
pub fn implemented() -> Vec<String> {
    let mut names: Vec<String> = ndis_exports()
        .iter()
        .map(|(name, _)| format!("NDIS.SYS!{name}"))
        .chain(
            ntoskrnl::exports()
                .iter()
                .map(|(name, _)| format!("ntoskrnl.exe!{name}")),
        )
        .collect();
    names.sort();
    names
}
