//! rswan-host: a Linux user-mode stand-in for the Windows kernel and NDIS that loads the real
//! `rswan.sys` and runs it, with Driver Verifier-style rules always on.
//!
//! - [`pe`] reads the image; [`loader`] maps it, binds its imports to the Rust implementations
//!   in [`loader::imports`] (the Windows x64 or ARM64 calling convention) and turns a driver
//!   crash into a report. The loader is the only module with `unsafe`: every other module
//!   forbids it.
//! - [`kernel`] models what those imports do (pool, IRQL, spin locks, DPCs, timers and work
//!   items on emulated processors, packets, registrations, NDIS objects, fault injection) and
//!   [`verifier`] holds the rules they are checked against.
//! - [`windows`] plays the Windows side: NDIS around the adapter, NDPROXY on the TAPI proxy
//!   address family, NDISWAN on the VCs, and an Ethernet adapter under the protocol edge whose
//!   in-memory wire ends in a PPPoE peer.
//! - A scenario ([`scenario`]) runs in a child process ([`child`]), so a crash, a bug check or a
//!   verifier violation becomes a readable test failure ([`report`], [`symbols`]).
//! - [`image`] finds (or builds) the driver image the tests load; [`testpe`] assembles tiny
//!   images for the loader's own tests; [`qemu`] runs scenarios on the ARM64 image in the host
//!   built for aarch64 under qemu-aarch64.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod child;
pub mod image;
pub mod kernel;
pub mod loader;
pub mod pe;
pub mod qemu;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod symbols;
pub mod testpe;
pub mod verifier;
pub mod windows;
