//! The state of the stand-in kernel and NDIS: what the driver registered, and the rules its
//! calls are checked against. The loader's import functions decode the driver's arguments
//! and call in here; nothing in this module touches driver memory.
#![forbid(unsafe_code)]

pub mod binding;
pub mod checks;
pub mod condis;
pub mod deferred;
pub mod events;
pub mod faults;
pub mod irql;
pub mod miniport;
pub mod objects;
pub mod packets;
pub mod pool;
pub mod processors;
pub mod protocol;
pub mod raw;
pub mod sync;
pub mod sync_event;

use std::sync::{Mutex, MutexGuard, OnceLock};

use miniport::{MiniportRegistration, Rejection};

use crate::verifier::Site;

/// rswan's INF marks the adapter NCF_VIRTUAL (notes/ndis-condis-wan.md, "INF facts").
pub const VIRTUAL_MINIPORT: bool = true;

/// A miniport driver NDIS accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredMiniport {
    /// The NdisMiniportDriverHandle NDIS gave back.
    pub handle: usize,
    /// MiniportDriverContext as the driver passed it.
    pub context: usize,
    pub registration: MiniportRegistration,
    /// Set once MiniportSetOptions registered NDIS_MINIPORT_CO_CHARACTERISTICS.
    pub co_ndis: bool,
    /// What MiniportSetOptions registered with NdisSetOptionalHandlers.
    pub co_handlers: Option<condis::CoMiniportHandlers>,
    pub call_manager: Option<condis::CallManagerHandlers>,
}

#[derive(Debug, Default)]
struct State {
    miniport: Option<RegisteredMiniport>,
    deregistrations: usize,
    /// Inside MiniportSetOptions, the only place a miniport may call NdisSetOptionalHandlers.
    in_set_options: bool,
    protocol: Option<RegisteredProtocol>,
    protocol_deregistrations: usize,
}

/// A protocol driver NDIS accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredProtocol {
    pub handle: usize,
    pub context: usize,
    pub registration: protocol::ProtocolRegistration,
}

/// The stand-in kernel.
#[derive(Debug, Default)]
pub struct Kernel {
    state: Mutex<State>,
}

/// The one kernel of this process (a scenario child loads one driver).
pub fn kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(Kernel::default)
}

/// Stops the scenario if the current IRQL is above `max` for a call documented to run at
/// `max` or below (the "IRQL" line of each function's WDK page).
pub fn require_irql_at_most(max: irql::Irql, function: &str) {
    checks::enforce(crate::verifier::irql::at_most(
        irql::current(),
        max,
        function,
        caller(),
    ));
}

/// Time since the stand-in kernel started (the "system up time").
pub fn up_time() -> std::time::Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Where in the image the current import was called from.
pub fn caller() -> Site {
    Site(crate::loader::cpu::last_caller())
}

impl Kernel {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock ends the child anyway; keep reporting what is known.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// NdisMRegisterMiniportDriver, up to the call of MiniportSetOptions: validates and
    /// records the characteristics under `handle`.
    pub fn register_miniport(
        &self,
        registration: MiniportRegistration,
        handle: usize,
        context: usize,
    ) -> Result<(), Rejection> {
        registration.validate(VIRTUAL_MINIPORT)?;
        let mut state = self.state();
        if state.miniport.is_some() {
            // A second registration is legal only for a miniport-intermediate driver's
            // virtual half (NdisMRegisterMiniportDriver remarks); rswan is not one.
            return Err(Rejection {
                status: rswan_ndis::status::FAILURE,
                reason: "a miniport driver is already registered".into(),
            });
        }
        state.miniport = Some(RegisteredMiniport {
            handle,
            context,
            registration,
            co_ndis: false,
            co_handlers: None,
            call_manager: None,
        });
        state.in_set_options = true;
        Ok(())
    }

    /// NdisMRegisterMiniportDriver after MiniportSetOptions returned `set_options_status`:
    /// the registration stands, or is withdrawn with the status to return.
    pub fn finish_miniport_registration(
        &self,
        set_options_status: rswan_ndis::NdisStatus,
    ) -> Result<(), Rejection> {
        let mut state = self.state();
        state.in_set_options = false;
        let Some(miniport) = state.miniport else {
            return Err(Rejection {
                status: rswan_ndis::status::FAILURE,
                reason: "no registration in progress".into(),
            });
        };
        let mcm = match (miniport.co_handlers, miniport.call_manager) {
            (Some(co), Some(cm)) => condis::check_mcm(&co, &cm),
            (None, Some(_)) => Err(
                "call manager handlers registered without NDIS_MINIPORT_CO_CHARACTERISTICS".into(),
            ),
            _ => Ok(()),
        };
        let outcome = if set_options_status != rswan_ndis::status::SUCCESS {
            // SET_OPTIONS: on failure the driver undoes its allocations and returns a status
            // other than NDIS_STATUS_SUCCESS; the registration fails with it.
            Err(Rejection {
                status: set_options_status,
                reason: format!(
                    "MiniportSetOptions returned {:#010x}",
                    set_options_status as u32
                ),
            })
        } else if let Err(reason) = mcm {
            Err(Rejection {
                status: rswan_ndis::status::FAILURE,
                reason,
            })
        } else {
            miniport
                .registration
                .validate_after_set_options(miniport.co_ndis)
        };
        if outcome.is_err() {
            state.miniport = None;
        }
        outcome
    }

    /// NdisSetOptionalHandlers from a miniport driver: only inside MiniportSetOptions, with
    /// the handle NDIS passed to it (WDK: NdisSetOptionalHandlers, remarks).
    pub fn set_optional_handlers(
        &self,
        handle: usize,
        handlers: condis::OptionalHandlers,
    ) -> Result<(), String> {
        let mut state = self.state();
        let in_set_options = state.in_set_options;
        let Some(miniport) = state.miniport.as_mut().filter(|m| m.handle == handle) else {
            return Err(format!(
                "NdisSetOptionalHandlers({handle:#x}) with a handle that is no registered driver's"
            ));
        };
        if !in_set_options {
            return Err(
                "a miniport driver calls NdisSetOptionalHandlers in the context of MiniportSetOptions"
                    .into(),
            );
        }
        match handlers {
            condis::OptionalHandlers::CoMiniport(co) => {
                miniport.co_handlers = Some(co);
                miniport.co_ndis = true;
            }
            condis::OptionalHandlers::CallManager(cm) => miniport.call_manager = Some(cm),
        }
        Ok(())
    }

    /// The registered miniport driver, if any.
    pub fn miniport(&self) -> Option<RegisteredMiniport> {
        self.state().miniport
    }

    /// NdisMDeregisterMiniportDriver: the handle must be the one NDIS returned, given back
    /// once.
    pub fn deregister_miniport(&self, handle: usize) -> Result<(), String> {
        let mut state = self.state();
        match state.miniport {
            Some(miniport) if miniport.handle == handle => {
                state.miniport = None;
                state.deregistrations += 1;
                Ok(())
            }
            Some(miniport) => Err(format!(
                "NdisMDeregisterMiniportDriver({handle:#x}) with a handle NDIS did not return (it returned {:#x})",
                miniport.handle
            )),
            None => Err(format!(
                "NdisMDeregisterMiniportDriver({handle:#x}) with no miniport driver registered"
            )),
        }
    }

    /// NdisRegisterProtocolDriver: one protocol driver per image here.
    pub fn register_protocol(&self, protocol: RegisteredProtocol) -> Result<(), String> {
        let mut state = self.state();
        if let Some(existing) = &state.protocol {
            return Err(format!(
                "a protocol driver ({}) is already registered",
                existing.registration.name
            ));
        }
        state.protocol = Some(protocol);
        Ok(())
    }

    /// The registered protocol driver, if any.
    pub fn protocol(&self) -> Option<RegisteredProtocol> {
        self.state().protocol.clone()
    }

    /// NdisDeregisterProtocolDriver with the handle NDIS returned, once.
    pub fn deregister_protocol(&self, handle: usize) -> Result<(), String> {
        let mut state = self.state();
        match &state.protocol {
            Some(protocol) if protocol.handle == handle => {
                state.protocol = None;
                state.protocol_deregistrations += 1;
                Ok(())
            }
            _ => Err(format!(
                "NdisDeregisterProtocolDriver({handle:#x}) with a handle that is no registered protocol's"
            )),
        }
    }

    pub fn protocol_deregistrations(&self) -> usize {
        self.state().protocol_deregistrations
    }

    /// How many times a miniport driver was deregistered.
    pub fn deregistrations(&self) -> usize {
        self.state().deregistrations
    }
}
