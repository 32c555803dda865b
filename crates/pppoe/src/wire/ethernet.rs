//! Ethernet II header: addresses and the two PPPoE ethertypes.

use super::Error;

/// Length of an Ethernet II header (no 802.1Q tag: NDIS hands VLAN tags out of band).
pub const HEADER_LEN: usize = 14;
/// Ethertype of PPPoE discovery frames (RFC 2516 section 4).
pub const ETHERTYPE_DISCOVERY: u16 = 0x8863;
/// Ethertype of PPPoE session frames (RFC 2516 section 4).
pub const ETHERTYPE_SESSION: u16 = 0x8864;

/// A 48-bit Ethernet (MAC) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff, where a PADI goes.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// True for group addresses (the I/G bit), broadcast included.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// True for an address that can be the source of a frame: not a group address, not zero.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && self.0 != [0; 6]
    }
}

impl core::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The fields of an Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetHeader {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub ethertype: u16,
}

impl EthernetHeader {
    /// Splits `frame` into its header and the bytes after it.
    pub fn parse(frame: &[u8]) -> Result<(EthernetHeader, &[u8]), Error> {
        let (head, rest) = frame.split_at_checked(HEADER_LEN).ok_or(Error::Truncated)?;
        let mut dst = [0; 6];
        let mut src = [0; 6];
        dst.copy_from_slice(&head[0..6]);
        src.copy_from_slice(&head[6..12]);
        let ethertype = u16::from_be_bytes([head[12], head[13]]);
        Ok((
            EthernetHeader {
                dst: MacAddr(dst),
                src: MacAddr(src),
                ethertype,
            },
            rest,
        ))
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let head = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        head[0..6].copy_from_slice(&self.dst.0);
        head[6..12].copy_from_slice(&self.src.0);
        head[12..14].copy_from_slice(&self.ethertype.to_be_bytes());
        Ok(())
    }
}
