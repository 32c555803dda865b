//! NDPROXY, the TAPI side of the call manager (WDK: "CoNDIS TAPI Initialization", "Making
//! Outgoing Calls", "CoNDIS TAPI Shutdown"; notes/tapi-proxy.md): it opens the
//! CO_ADDRESS_FAMILY_TAPI_PROXY family the MCM registered, queries the TAPI caps OIDs through
//! ProtocolCmOidRequest, and closes the family. A handler may finish synchronously or return
//! NDIS_STATUS_PENDING and complete later; both are accepted.
#![forbid(unsafe_code)]

use std::time::Duration;

use core::mem::offset_of;

use rswan_ndis::callmgr::{CoAddressFamily, address_family};
use rswan_ndis::status;

use crate::kernel::events::{self, Event};
use crate::kernel::objects;
use crate::kernel::{RegisteredMiniport, kernel};
use crate::loader::memmap::{self, peek_usize, poke_u32};
use crate::loader::{call_handler, handles};
use crate::windows::request::{Answer, Request};

/// How long a pended completion may take.
pub const COMPLETION_LIMIT: Duration = Duration::from_secs(10);

/// The TAPI caps OIDs (notes/tapi-proxy.md, section 1; documented values).
pub const OID_CO_TAPI_CM_CAPS: u32 = 0xFE00_1001;
pub const OID_CO_TAPI_LINE_CAPS: u32 = 0xFE00_1002;
pub const OID_CO_TAPI_ADDRESS_CAPS: u32 = 0xFE00_1003;

/// An open TAPI proxy address family.
#[derive(Debug)]
pub struct OpenAf {
    /// NdisAfHandle, the host's.
    pub handle: usize,
    /// CallMgrAfContext, the driver's.
    pub context: usize,
}

fn call_manager(name: &str) -> Result<(RegisteredMiniport, usize), String> {
    let miniport = kernel()
        .miniport()
        .ok_or("no miniport driver is registered")?;
    let cm = miniport
        .call_manager
        .ok_or("the miniport registered no call manager handlers")?;
    Ok((miniport, cm.get(name)))
}

/// Opens the TAPI proxy AF the adapter registered (ProtocolCmOpenAf).
pub fn open_af() -> Result<OpenAf, String> {
    let (_, open) = call_manager("CmOpenAfHandler")?;
    let adapter = objects::adapter().ok_or("the adapter is not initialized")?;
    let family = objects::families()
        .into_iter()
        .find(|f| f.0 == address_family::TAPI_PROXY)
        .ok_or("the adapter registered no CO_ADDRESS_FAMILY_TAPI_PROXY family")?;
    let af = memmap::allocate(size_of::<CoAddressFamily>());
    poke_u32(
        af + offset_of!(CoAddressFamily, address_family),
        family.0,
        "AddressFamily",
    );
    poke_u32(
        af + offset_of!(CoAddressFamily, major_version),
        family.1,
        "MajorVersion",
    );
    poke_u32(
        af + offset_of!(CoAddressFamily, minor_version),
        family.2,
        "MinorVersion",
    );
    let context_out = memmap::allocate(size_of::<usize>());
    let handle = handles::next();
    let result = call_handler(
        open,
        &[adapter.context.unwrap_or(0), af, handle, context_out],
        "ProtocolCmOpenAf",
    ) as u32 as i32;
    let outcome = match result {
        status::SUCCESS => Ok(peek_usize(context_out, "CallMgrAfContext")),
        status::PENDING => match events::take(
            COMPLETION_LIMIT,
            |e| matches!(e, Event::OpenAfComplete { af, .. } if *af == handle),
        )? {
            Event::OpenAfComplete {
                status: status::SUCCESS,
                af_context,
                ..
            } => Ok(af_context),
            other => Err(format!("opening the AF completed with {other:?}")),
        },
        other => Err(format!("ProtocolCmOpenAf returned {:#010x}", other as u32)),
    };
    memmap::release(context_out);
    memmap::release(af);
    Ok(OpenAf {
        handle,
        context: outcome?,
    })
}

/// A CM OID request on the AF (ProtocolCmOidRequest with no VC or party).
pub fn oid(af: &OpenAf, request: &Request) -> Result<Answer, String> {
    let (_, cm_oid) = call_manager("CmOidRequestHandler")?;
    request.issue(
        cm_oid,
        &[af.context, 0, 0, request.address],
        "ProtocolCmOidRequest",
        |event, address| match event {
            Event::CmOidComplete { request, status } if *request == address => Some(*status),
            _ => None,
        },
        COMPLETION_LIMIT,
    )
}

/// Closes the AF (ProtocolCmCloseAf); PENDING is completed by NdisCmCloseAddressFamilyComplete.
pub fn close_af(af: OpenAf) -> Result<(), String> {
    let (_, close) = call_manager("CmCloseAfHandler")?;
    let result = call_handler(close, &[af.context], "ProtocolCmCloseAf") as u32 as i32;
    match result {
        status::SUCCESS => Ok(()),
        status::PENDING => match events::take(
            COMPLETION_LIMIT,
            |e| matches!(e, Event::CloseAfComplete { af: a, .. } if *a == af.handle),
        )? {
            Event::CloseAfComplete {
                status: status::SUCCESS,
                ..
            } => Ok(()),
            other => Err(format!("closing the AF completed with {other:?}")),
        },
        other => Err(format!("ProtocolCmCloseAf returned {:#010x}", other as u32)),
    }
}
