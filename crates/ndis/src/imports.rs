//! Functions imported from `NDIS.SYS` and `ntoskrnl.exe`.
//!
//! Linked with `raw-dylib`, so no import library is needed. On x86 the kernel exports stdcall
//! functions under their undecorated names. Every name here must also be listed in
//! `driver/imports.allowlist`, which the image checks enforce. On the host these declarations
//! are never called (the host binds the real image's imports instead), so they stay unlinked.

use crate::miniport::MiniportDriverCharacteristics;
use crate::types::{DriverObject, NdisHandle, NdisStatus, UnicodeString};

#[cfg_attr(
    all(windows, target_arch = "x86"),
    link(
        name = "NDIS.SYS",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
#[cfg_attr(
    all(windows, not(target_arch = "x86")),
    link(name = "NDIS.SYS", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "system" {
    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismregisterminiportdriver).
    pub fn NdisMRegisterMiniportDriver(
        driver_object: *mut DriverObject,
        registry_path: *mut UnicodeString,
        driver_context: NdisHandle,
        characteristics: *const MiniportDriverCharacteristics,
        driver_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismderegisterminiportdriver).
    pub fn NdisMDeregisterMiniportDriver(driver_handle: NdisHandle);
}

#[cfg_attr(
    all(windows, target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
#[cfg_attr(
    all(windows, not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "system" {
    /// IRQL: any (WDK: nf-wdm-kebugcheckex). Does not return.
    pub fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;
}
