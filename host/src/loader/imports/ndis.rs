//! NDIS.SYS exports.

use rswan_ndis::miniport::MiniportDriverCharacteristics;
use rswan_ndis::{NdisObjectHeader, NdisStatus, status};

use crate::kernel::irql::PASSIVE_LEVEL;
use crate::kernel::miniport::{MiniportRegistration, SIZE_REVISION_2, SIZE_REVISION_3};
use crate::kernel::{kernel, require_irql_at_most};
use crate::loader::{call_handler, handles};
use crate::report;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        (
            "NdisMRegisterMiniportDriver",
            ndis_m_register_miniport_driver as *const () as usize,
        ),
        (
            "NdisMDeregisterMiniportDriver",
            ndis_m_deregister_miniport_driver as *const () as usize,
        ),
    ]
}

/// WDK: NdisMRegisterMiniportDriver function. IRQL: PASSIVE_LEVEL.
///
/// NDIS copies the characteristics, validates them (kernel::miniport), calls
/// MiniportSetOptions "within the context of" this call, and writes the driver handle.
extern "win64" fn ndis_m_register_miniport_driver(
    _driver_object: usize,
    _registry_path: usize,
    driver_context: usize,
    characteristics: *const u8,
    driver_handle: *mut usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMRegisterMiniportDriver");
    if characteristics.is_null() || driver_handle.is_null() {
        report::violation(
            "NDIS",
            "NdisMRegisterMiniportDriver with a NULL characteristics or handle pointer",
        );
    }
    // SAFETY: the driver passes its NDIS_MINIPORT_DRIVER_CHARACTERISTICS, which starts with
    // an NDIS_OBJECT_HEADER (a bad pointer faults and is reported against this import).
    let header = unsafe { characteristics.cast::<NdisObjectHeader>().read_unaligned() };
    // Copy no more than the header says the driver wrote, and no more than revision 3 holds.
    let mut copy = [0u8; SIZE_REVISION_3 as usize];
    let len = usize::from(header.size).min(copy.len());
    // SAFETY: the driver declares `header.size` readable bytes; `len` is at most that.
    unsafe { std::ptr::copy_nonoverlapping(characteristics, copy.as_mut_ptr(), len) };
    // SAFETY: `copy` is as large as the rswan-ndis structure; its handler fields are
    // Option<fn>, for which every bit pattern read here (zero or an address) is valid.
    let parsed = unsafe {
        copy.as_ptr()
            .cast::<MiniportDriverCharacteristics>()
            .read_unaligned()
    };
    let mut synchronous = [0u8; 8];
    synchronous.copy_from_slice(&copy[SIZE_REVISION_2 as usize..SIZE_REVISION_3 as usize]);
    let registration =
        MiniportRegistration::from_characteristics(&parsed, usize::from_le_bytes(synchronous));
    let handle = handles::next();
    if let Err(rejection) = kernel().register_miniport(registration, handle, driver_context) {
        report::observe("ndis.register_miniport.rejected", &rejection);
        return rejection.status;
    }
    let set_options = registration.handlers.set_options;
    let set_options_status = if set_options == 0 {
        status::SUCCESS
    } else {
        call_handler(set_options, &[handle, driver_context], "MiniportSetOptions") as u32
            as NdisStatus
    };
    match kernel().finish_miniport_registration(set_options_status) {
        Ok(()) => {
            // SAFETY: the driver passes a pointer to its handle variable (checked non-null).
            unsafe { driver_handle.write_unaligned(handle) };
            status::SUCCESS
        }
        Err(rejection) => {
            report::observe("ndis.register_miniport.rejected", &rejection);
            rejection.status
        }
    }
}

/// WDK: NdisMDeregisterMiniportDriver function. IRQL: PASSIVE_LEVEL.
extern "win64" fn ndis_m_deregister_miniport_driver(driver_handle: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisMDeregisterMiniportDriver");
    if let Err(message) = kernel().deregister_miniport(driver_handle) {
        report::violation("NDIS", &message);
    }
}
