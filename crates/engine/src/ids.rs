//! Identifiers the engine hands out and takes back. All are plain integers: the driver stores
//! them in NDIS context fields (a VC's `MiniportVcContext`, an NBL's reserved space).

use core::fmt;
use core::num::NonZeroU32;

/// Bits of a [`VcId`] that hold the slot index; the rest hold the slot's generation.
const VC_INDEX_BITS: u32 = 20;
const VC_INDEX_MASK: u32 = (1 << VC_INDEX_BITS) - 1;
/// Generations run 1..=MAX_GENERATION, so a `VcId` is never zero (a usable context value).
pub(crate) const MAX_GENERATION: u16 = (1 << (32 - VC_INDEX_BITS)) - 1;
/// The most VCs one engine can hold.
pub const MAX_VCS: u32 = 1 << VC_INDEX_BITS;

/// A VC: its slot in the pool (O(1) lookup) and the slot's generation, so a handle kept past
/// the VC's deletion is recognised as stale instead of reaching the VC that reused the slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VcId(NonZeroU32);

impl VcId {
    pub(crate) fn new(index: u32, generation: u16) -> Self {
        debug_assert!(index <= VC_INDEX_MASK && generation != 0);
        let raw = (u32::from(generation) << VC_INDEX_BITS) | index;
        Self(NonZeroU32::new(raw).unwrap_or(NonZeroU32::MIN))
    }

    /// Slot index in the VC pool.
    pub fn index(self) -> u32 {
        self.0.get() & VC_INDEX_MASK
    }

    pub(crate) fn generation(self) -> u16 {
        (self.0.get() >> VC_INDEX_BITS) as u16
    }

    /// The value to store in an NDIS context field (never 0).
    pub fn to_raw(self) -> u32 {
        self.0.get()
    }

    /// Back from [`VcId::to_raw`]; `None` for 0. A stale or forged value is caught when used.
    pub fn from_raw(raw: u32) -> Option<Self> {
        NonZeroU32::new(raw).map(Self)
    }
}

impl fmt::Debug for VcId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vc{}.{}", self.index(), self.generation())
    }
}

/// A line (a TAPI line of the address family), 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineId(pub u32);

/// A lower binding (an Ethernet adapter the protocol half is bound to), 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BindingId(pub u16);

/// The driver's token for a request it pended (an OID request); returned in
/// [`Event::OidComplete`](crate::batch::Event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub usize);

/// A PPPoE session as the receive path sees it (RFC 2516: a session is identified by the
/// SESSION_ID together with the peer's Ethernet address), plus the binding it arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// PPPoE SESSION_ID (never 0 for an established session, RFC 2516 section 4).
    pub session_id: u16,
    /// The peer's Ethernet address.
    pub peer_mac: [u8; 6],
    /// The binding the session runs over.
    pub binding: BindingId,
}

/// Where a VC's frames go below the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A PPPoE session on a lower binding.
    Pppoe(SessionKey),
    /// The other end of a loopback line pair (a null modem inside the driver).
    Loopback(VcId),
}

impl Route {
    /// The lower binding this route uses, if any.
    pub fn binding(self) -> Option<BindingId> {
        match self {
            Route::Pppoe(key) => Some(key.binding),
            Route::Loopback(_) => None,
        }
    }
}

/// What the driver gets with a frame to transmit and gives back with its completion, so the
/// engine finds the VC in O(1) and accounts the bytes. Store it in the NBL's reserved space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxTag {
    /// The VC the frame was sent on.
    pub vc: VcId,
    /// Its length in bytes, as given to [`Engine::send`](crate::Engine::send).
    pub len: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vc_id_round_trips_and_is_never_zero() {
        for (index, generation) in [(0, 1), (MAX_VCS - 1, MAX_GENERATION), (77, 4000)] {
            let id = VcId::new(index, generation);
            assert_eq!(id.index(), index);
            assert_eq!(id.generation(), generation);
            assert_ne!(id.to_raw(), 0);
            assert_eq!(VcId::from_raw(id.to_raw()), Some(id));
        }
        assert_eq!(VcId::from_raw(0), None);
    }
}
