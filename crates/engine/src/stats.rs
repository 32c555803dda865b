//! Statistics per VC and per adapter.
//!
//! [`WanStats`] has the fields of `NDIS_WAN_CO_GET_STATS_INFO` (WDK page
//! "OID_WAN_CO_GET_STATS_INFO"), in order; [`WanStats::to_ndis`] gives them as the structure's
//! 14 `ULONG`s. Counters are 64-bit inside and wrap to 32 bits there, as a `ULONG` counter does. rswan does no compression (NDISWAN does, above it): the
//! "uncompressed" byte counts equal the byte counts and the "compressed" ones stay 0. PPPoE over
//! Ethernet has no CRC, alignment, serial-overrun or framing layer of its own, so those count
//! only what the driver reports through [`Engine::count_receive_error`](crate::Engine::count_receive_error).

/// The counters of `NDIS_WAN_CO_GET_STATS_INFO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WanStats {
    /// `BytesSent`.
    pub bytes_sent: u64,
    /// `BytesRcvd`.
    pub bytes_rcvd: u64,
    /// `FramesSent`.
    pub frames_sent: u64,
    /// `FramesRcvd`.
    pub frames_rcvd: u64,
    /// `CRCErrors`.
    pub crc_errors: u64,
    /// `TimeoutErrors`: sessions lost to a timeout.
    pub timeout_errors: u64,
    /// `AlignmentErrors`.
    pub alignment_errors: u64,
    /// `SerialOverrunErrors`.
    pub serial_overrun_errors: u64,
    /// `FramingErrors`: malformed frames of the session, as the driver's parser reports them.
    pub framing_errors: u64,
    /// `BufferOverrunErrors`: received frames dropped because the VC's receive budget was full.
    pub buffer_overrun_errors: u64,
    /// `BytesTransmittedUncompressed`.
    pub bytes_transmitted_uncompressed: u64,
    /// `BytesReceivedUncompressed`.
    pub bytes_received_uncompressed: u64,
    /// `BytesTransmittedCompressed`.
    pub bytes_transmitted_compressed: u64,
    /// `BytesReceivedCompressed`.
    pub bytes_received_compressed: u64,
}

impl WanStats {
    /// The 14 `ULONG`s of `NDIS_WAN_CO_GET_STATS_INFO`, in the structure's order.
    pub fn to_ndis(&self) -> [u32; 14] {
        [
            self.bytes_sent,
            self.bytes_rcvd,
            self.frames_sent,
            self.frames_rcvd,
            self.crc_errors,
            self.timeout_errors,
            self.alignment_errors,
            self.serial_overrun_errors,
            self.framing_errors,
            self.buffer_overrun_errors,
            self.bytes_transmitted_uncompressed,
            self.bytes_received_uncompressed,
            self.bytes_transmitted_compressed,
            self.bytes_received_compressed,
        ]
        .map(|counter| counter as u32)
    }

    /// Adds every counter of `other`.
    pub fn add(&mut self, other: &WanStats) {
        self.bytes_sent += other.bytes_sent;
        self.bytes_rcvd += other.bytes_rcvd;
        self.frames_sent += other.frames_sent;
        self.frames_rcvd += other.frames_rcvd;
        self.crc_errors += other.crc_errors;
        self.timeout_errors += other.timeout_errors;
        self.alignment_errors += other.alignment_errors;
        self.serial_overrun_errors += other.serial_overrun_errors;
        self.framing_errors += other.framing_errors;
        self.buffer_overrun_errors += other.buffer_overrun_errors;
        self.bytes_transmitted_uncompressed += other.bytes_transmitted_uncompressed;
        self.bytes_received_uncompressed += other.bytes_received_uncompressed;
        self.bytes_transmitted_compressed += other.bytes_transmitted_compressed;
        self.bytes_received_compressed += other.bytes_received_compressed;
    }

    pub(crate) fn sent(&mut self, len: u32) {
        self.frames_sent += 1;
        self.bytes_sent += u64::from(len);
        self.bytes_transmitted_uncompressed += u64::from(len);
    }

    pub(crate) fn received(&mut self, len: u32) {
        self.frames_rcvd += 1;
        self.bytes_rcvd += u64::from(len);
        self.bytes_received_uncompressed += u64::from(len);
    }
}

/// One VC's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcStats {
    /// The `OID_WAN_CO_GET_STATS_INFO` counters.
    pub wan: WanStats,
    /// Sends completed with a failure status (general statistics: `ifOutErrors`/discards).
    pub send_errors: u64,
    /// Received frames not indicated (general statistics: `ifInDiscards`).
    pub receive_discards: u64,
}

impl VcStats {
    /// Adds every counter of `other`.
    pub fn add(&mut self, other: &VcStats) {
        self.wan.add(&other.wan);
        self.send_errors += other.send_errors;
        self.receive_discards += other.receive_discards;
    }
}

/// The adapter's statistics: the sum over its VCs, live and deleted, plus what belongs to no VC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdapterStats {
    /// Sum of every VC's counters since initialisation.
    pub vcs: VcStats,
    /// Received frames for no known session (dropped before any VC).
    pub receive_unknown_session: u64,
    /// Sends completed with `INVALID_PARAMETER` because their VC handle was stale.
    pub send_stale_vc: u64,
    /// VCs allocated now.
    pub vcs_in_use: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndis_array_follows_the_structure_order_and_wraps() {
        let mut s = WanStats::default();
        s.sent(1500);
        s.sent(100);
        s.received(40);
        s.buffer_overrun_errors = 3;
        s.bytes_received_compressed = u64::from(u32::MAX) + 5;
        let a = s.to_ndis();
        assert_eq!(a[0], 1600); // BytesSent
        assert_eq!(a[1], 40); // BytesRcvd
        assert_eq!(a[2], 2); // FramesSent
        assert_eq!(a[3], 1); // FramesRcvd
        assert_eq!(a[9], 3); // BufferOverrunErrors
        assert_eq!(a[10], 1600); // BytesTransmittedUncompressed
        assert_eq!(a[11], 40); // BytesReceivedUncompressed
        assert_eq!(a[13], 4); // wrapped like a ULONG
        let mut total = VcStats::default();
        total.add(&VcStats {
            wan: s,
            send_errors: 2,
            receive_discards: 1,
        });
        total.add(&VcStats {
            wan: s,
            send_errors: 1,
            receive_discards: 0,
        });
        assert_eq!(total.wan.frames_sent, 4);
        assert_eq!(total.send_errors, 3);
    }
}
