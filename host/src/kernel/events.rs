//! What the driver told the Windows side, in order: completions, dispatches, indications and
//! status. The import functions append; the scenario (playing NDIS, NDPROXY, NDISWAN and the
//! lower adapter) waits for the event it expects, with a time limit, so a lost completion
//! fails with what did arrive instead of hanging.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// One thing the driver handed to the Windows side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    OpenAfComplete {
        status: i32,
        af: usize,
        af_context: usize,
    },
    CloseAfComplete {
        status: i32,
        af: usize,
    },
    RegisterSapComplete {
        status: i32,
        sap: usize,
        sap_context: usize,
    },
    DeregisterSapComplete {
        status: i32,
        sap: usize,
    },
    MakeCallComplete {
        status: i32,
        vc: usize,
        call_parameters: usize,
    },
    CloseCallComplete {
        status: i32,
        vc: usize,
    },
    IncomingCall {
        sap: usize,
        vc: usize,
        call_parameters: usize,
    },
    CallConnected {
        vc: usize,
    },
    IncomingCloseCall {
        status: i32,
        vc: usize,
    },
    VcActivated {
        vc: usize,
    },
    VcDeactivated {
        vc: usize,
    },
    VcCreatedByDriver {
        vc: usize,
        vc_context: usize,
    },
    VcDeletedByDriver {
        vc: usize,
    },
    NotifyCloseAf {
        af: usize,
    },
    /// A CM OID request (NDPROXY's) completed with NdisMCmOidRequestComplete.
    CmOidComplete {
        request: usize,
        status: i32,
    },
    /// A miniport OID request (NDISWAN's) completed with NdisMCoOidRequestComplete.
    MiniportOidComplete {
        request: usize,
        status: i32,
    },
    SendComplete {
        vc: usize,
        nbl: usize,
        status: i32,
    },
    Receive {
        vc: usize,
        nbl: usize,
        frame: Vec<u8>,
        kept: bool,
    },
    Status {
        vc: usize,
        code: i32,
        buffer: Vec<u8>,
    },
    /// A frame the driver sent to the lower binding.
    LowerSend {
        binding: usize,
        nbl: usize,
        frame: Vec<u8>,
    },
    /// The driver gave back a frame the lower adapter indicated.
    LowerReturn {
        nbl: usize,
    },
    BindComplete {
        status: i32,
    },
    UnbindComplete,
    PauseComplete {
        adapter: usize,
    },
}

struct Log {
    events: Mutex<VecDeque<Event>>,
    arrived: Condvar,
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| Log {
        events: Mutex::default(),
        arrived: Condvar::new(),
    })
}

fn events() -> MutexGuard<'static, VecDeque<Event>> {
    log().events.lock().unwrap_or_else(|e| e.into_inner())
}

/// Appends an event.
pub fn push(event: Event) {
    events().push_back(event);
    log().arrived.notify_all();
}

/// Waits up to `limit` until `found` finds something in the log (it may take events out);
/// on timeout, the log as it stands.
fn wait_until<T>(
    limit: Duration,
    mut found: impl FnMut(&mut VecDeque<Event>) -> Option<T>,
) -> Result<T, MutexGuard<'static, VecDeque<Event>>> {
    let deadline = Instant::now() + limit;
    let mut queue = events();
    loop {
        if let Some(value) = found(&mut queue) {
            return Ok(value);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(queue);
        }
        queue = log()
            .arrived
            .wait_timeout(queue, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Removes and returns the first event `matches` accepts, waiting up to `limit` for it.
/// On timeout the error lists what is in the log.
pub fn take(limit: Duration, matches: impl Fn(&Event) -> bool) -> Result<Event, String> {
    wait_until(limit, |queue| {
        let index = queue.iter().position(&matches)?;
        queue.remove(index)
    })
    .map_err(|queue| {
        format!(
            "not there after {:.1} s; the driver reported: {:?}",
            limit.as_secs_f64(),
            *queue
        )
    })
}

/// Removes and returns every event `matches` accepts, oldest first, waiting up to `limit` for
/// the first of them (none: an empty list). For actors that handle events in bulk (NDISWAN
/// under load) instead of waiting for one at a time.
pub fn take_all(limit: Duration, matches: impl Fn(&Event) -> bool) -> Vec<Event> {
    wait_until(limit, |queue| {
        if !queue.iter().any(&matches) {
            return None;
        }
        let (taken, kept): (VecDeque<Event>, VecDeque<Event>) = queue.drain(..).partition(&matches);
        *queue = kept;
        Some(taken.into())
    })
    .unwrap_or_default()
}

/// Whether the log holds an event `matches` accepts, waiting up to `limit` for one; the event
/// stays for whoever takes it (to learn which of several outcomes came first).
pub fn wait_for(limit: Duration, matches: impl Fn(&Event) -> bool) -> bool {
    wait_until(limit, |queue| queue.iter().any(&matches).then_some(())).is_ok()
}

/// Removes and returns every event now in the log.
pub fn drain() -> Vec<Event> {
    events().drain(..).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_finds_the_matching_event_and_reports_the_rest_on_timeout() {
        push(Event::CallConnected { vc: 7 });
        push(Event::VcActivated { vc: 7 });
        let found = take(Duration::from_millis(10), |e| {
            matches!(e, Event::VcActivated { .. })
        });
        assert_eq!(found, Ok(Event::VcActivated { vc: 7 }));
        let missing = take(Duration::from_millis(10), |e| {
            matches!(e, Event::CloseCallComplete { .. })
        })
        .unwrap_err();
        assert!(missing.contains("CallConnected"), "{missing}");
        drain();
    }
}
