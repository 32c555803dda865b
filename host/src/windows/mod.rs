//! The Windows side of the driver, played by the host: NDIS managing the miniport adapter,
//! NDPROXY opening the TAPI proxy address family and making calls, NDISWAN on the VCs, and
//! the Ethernet adapter below the protocol edge. Each actor calls the driver's handlers the
//! way its WDK pages say and waits for the completions the driver reports
//! (crate::kernel::events).
#![forbid(unsafe_code)]

pub mod adapter;
pub mod call;
pub mod lower;
pub mod ndiswan;
pub mod ndproxy;
pub mod packet_wire;
pub mod ras;
pub mod request;
pub mod wire_clients;
pub mod wire_peer;
