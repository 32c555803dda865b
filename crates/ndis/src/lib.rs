//! NDIS 6 / CoNDIS / TAPI-proxy bindings for rswan.
//!
//! Hand-written from the public WDK documentation (learn.microsoft.com, the ndis.h DDI
//! reference) and the documented values of the public headers: the windows-sys crates carry
//! only the NDIS 5-era API, and wdk-sys generates its bindings from an installed WDK on a
//! Windows host, which this Linux build does not have. Layout tests compare every structure
//! that crosses the NDIS boundary against its documented size and field offsets.
//!
//! Every function imported from the kernel is declared in [`imports`]; the rest of the crate
//! is plain data and thin wrappers whose IRQL is documented on each item.
#![no_std]

pub mod imports;
pub mod miniport;
pub mod types;

pub use types::*;
