//! Support code for rswan's end-to-end tests: network namespaces and veth pairs, processes with
//! timeouts, packet captures checked with tshark, RFC 1662 framing, a RADIUS responder, and the
//! lwIP PPP program that stands where Windows RAS stands.
#![forbid(unsafe_code)]

pub mod capture;
pub mod hdlc;
pub mod loaded_driver;
pub mod lwip;
pub mod netns;
pub mod peers;
pub mod pppoe_link;
pub mod process;
pub mod radius;
pub mod ras;

use std::path::Path;

/// The lwIP PPP program built by build.rs from tests/lwip-ppp.
pub fn lwip_ppp_program() -> &'static Path {
    Path::new(env!("LWIP_PPP_BIN"))
}
