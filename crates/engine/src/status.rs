//! NDIS status codes the engine produces, as plain values.
//!
//! Values are those of the public `ndis.h` header, as listed on the WDK pages "NDIS_STATUS
//! values" (network driver design guide) and the status pages named below. The engine keeps
//! them as `u32` so that the driver passes them to NDIS unchanged (`NDIS_STATUS` is a 32-bit
//! `NTSTATUS`-style value).

/// An `NDIS_STATUS` value.
pub type Status = u32;

/// `NDIS_STATUS_SUCCESS`.
pub const SUCCESS: Status = 0x0000_0000;
/// `NDIS_STATUS_PENDING`: the operation completes later, through an event of the batch.
pub const PENDING: Status = 0x0000_0103;
/// `NDIS_STATUS_NOT_ACCEPTED`: a send on a VC that carries no active call (not yet activated).
/// A success-severity value in `ndis.h`; NDISWAN treats every value but SUCCESS as a failed send.
pub const NOT_ACCEPTED: Status = 0x0001_0003;
/// `NDIS_STATUS_FAILURE`.
pub const FAILURE: Status = 0xC000_0001;
/// `NDIS_STATUS_INVALID_PARAMETER` (a stale or unknown VC handle).
pub const INVALID_PARAMETER: Status = 0xC000_000D;
/// `NDIS_STATUS_RESOURCES`: the VC's bounded send queue is full (back-pressure).
pub const RESOURCES: Status = 0xC000_009A;
/// `NDIS_STATUS_NOT_SUPPORTED`.
pub const NOT_SUPPORTED: Status = 0xC000_00BB;
/// `NDIS_STATUS_INVALID_STATE` (`STATUS_INVALID_DEVICE_STATE`): a call operation that the call's
/// state does not allow.
pub const INVALID_STATE: Status = 0xC000_0184;
/// `NDIS_STATUS_CLOSING`: sends pending on a VC whose call is closing, or sent to it afterwards.
pub const CLOSING: Status = 0xC001_0002;
/// `NDIS_STATUS_REQUEST_ABORTED`: a make call cancelled by a close before it completed.
pub const REQUEST_ABORTED: Status = 0xC001_000C;
/// `NDIS_STATUS_PAUSED`: sends during a pause of the miniport adapter, and sends queued when the
/// pause began ("Pausing a Miniport Adapter": a paused miniport completes sends with this status).
pub const PAUSED: Status = 0xC023_002A;

/// `NDIS_STATUS_WAN_CO_LINKPARAMS`: the status indication that carries `WAN_CO_LINKPARAMS`
/// (WDK page "NDIS_STATUS_WAN_CO_LINKPARAMS").
pub const WAN_CO_LINKPARAMS: Status = 0x4001_0016;

/// True for the values NDIS treats as a failure of the operation.
pub const fn is_failure(status: Status) -> bool {
    status != SUCCESS && status != PENDING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_have_error_severity() {
        // The top two bits of an NTSTATUS are its severity: 3 = error.
        for s in [
            FAILURE,
            INVALID_PARAMETER,
            RESOURCES,
            NOT_SUPPORTED,
            INVALID_STATE,
            CLOSING,
            REQUEST_ABORTED,
            PAUSED,
        ] {
            assert_eq!(s >> 30, 3, "{s:#x}");
            assert!(is_failure(s));
        }
        assert!(!is_failure(SUCCESS));
        assert!(!is_failure(PENDING));
        assert!(is_failure(NOT_ACCEPTED));
    }
}
