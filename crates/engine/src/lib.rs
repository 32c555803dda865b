#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod batch;
mod engine;
pub mod ids;
pub mod lock_order;
pub mod platform;
mod ring;
mod session;
pub mod state;
pub mod stats;
pub mod status;
pub mod sync;

pub use engine::{AdapterPhase, BindingPhase, Config, ConfigError, Engine, VcOwner};
pub use engine::{DownCause, ReceiveError};
pub use session::InsertError;
