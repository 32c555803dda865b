//! The protocol edge's bindings to the host's Ethernet adapters (WDK: NdisOpenAdapterEx,
//! NdisCloseAdapterEx, NdisCompleteBindAdapterEx, NdisCompleteUnbindAdapterEx): which
//! bindings are open and with which contexts, and the frames on each adapter's wire.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// How the host adapter completes the driver's sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Later, from a DPC on an emulated processor, after this latency (a NIC's transmit and
    /// interrupt moderation; what most miniports do).
    Deferred(std::time::Duration),
    /// Inside NdisSendNetBufferLists, on the caller's thread: the re-entry that deadlocked
    /// Ndiswan.sys in KB Q219380 when it held its lock across the send.
    Inline,
}

/// An open binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// NdisBindingHandle, the host's.
    pub handle: usize,
    /// ProtocolBindingContext, the driver's.
    pub context: usize,
    pub adapter_name: String,
    pub mac: [u8; 6],
}

impl Default for Completion {
    fn default() -> Self {
        Completion::Deferred(DEFAULT_LATENCY)
    }
}

/// The host adapter's default send-completion latency.
pub const DEFAULT_LATENCY: std::time::Duration = std::time::Duration::from_millis(1);

#[derive(Debug, Default)]
struct Bindings {
    /// BindContext of a ProtocolBindAdapterEx in progress, with the adapter it is for.
    binding_in_progress: Option<(usize, String, [u8; 6])>,
    open: HashMap<usize, Binding>,
    /// Frames the driver sent, per adapter name, oldest first.
    wire: HashMap<String, VecDeque<Vec<u8>>>,
    completion: Completion,
    /// Sends outstanding (handed to the adapter, not yet completed), per binding handle.
    outstanding: HashMap<usize, usize>,
    /// Received NBLs indicated without NDIS_RECEIVE_FLAGS_RESOURCES and not yet returned, with
    /// the handle of the binding they were indicated on.
    received: HashMap<usize, usize>,
}

fn bindings() -> MutexGuard<'static, Bindings> {
    static BINDINGS: OnceLock<Mutex<Bindings>> = OnceLock::new();
    BINDINGS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// ProtocolBindAdapterEx is about to run for `adapter_name` with `bind_context`.
pub fn begin_bind(bind_context: usize, adapter_name: &str, mac: [u8; 6]) {
    bindings().binding_in_progress = Some((bind_context, adapter_name.to_owned(), mac));
}

/// NdisOpenAdapterEx: opens the binding of the bind in progress.
pub fn open(bind_context: usize, handle: usize, context: usize) -> Result<Binding, String> {
    let mut bindings = bindings();
    let Some((_, name, mac)) = bindings
        .binding_in_progress
        .clone()
        .filter(|(b, _, _)| *b == bind_context)
    else {
        return Err(format!(
            "NdisOpenAdapterEx with BindContext {bind_context:#x}, which is no ProtocolBindAdapterEx in progress"
        ));
    };
    let binding = Binding {
        handle,
        context,
        adapter_name: name,
        mac,
    };
    bindings.open.insert(handle, binding.clone());
    Ok(binding)
}

pub fn binding(handle: usize) -> Option<Binding> {
    bindings().open.get(&handle).cloned()
}

/// The open binding to `adapter_name`.
pub fn binding_to(adapter_name: &str) -> Option<Binding> {
    bindings()
        .open
        .values()
        .find(|b| b.adapter_name == adapter_name)
        .cloned()
}

/// NdisCloseAdapterEx.
pub fn close(handle: usize) -> Result<Binding, String> {
    bindings()
        .open
        .remove(&handle)
        .ok_or_else(|| format!("NdisCloseAdapterEx({handle:#x}) of a binding that is not open"))
}

/// `count` more (or, negative, fewer) sends outstanding on the binding.
pub fn count_sends(handle: usize, count: isize) {
    let mut bindings = bindings();
    let entry = bindings.outstanding.entry(handle).or_default();
    *entry = entry.saturating_add_signed(count);
}

/// Sends outstanding on the binding.
pub fn outstanding_sends(handle: usize) -> usize {
    bindings().outstanding.get(&handle).copied().unwrap_or(0)
}

pub fn open_count() -> usize {
    bindings().open.len()
}

pub fn set_completion(completion: Completion) {
    bindings().completion = completion;
}

pub fn completion() -> Completion {
    bindings().completion
}

/// A frame the driver sent on `adapter_name`.
pub fn transmit(adapter_name: &str, frame: Vec<u8>) {
    bindings()
        .wire
        .entry(adapter_name.to_owned())
        .or_default()
        .push_back(frame);
}

/// The frames sent on `adapter_name` since the last call.
pub fn take_transmitted(adapter_name: &str) -> Vec<Vec<u8>> {
    bindings()
        .wire
        .get_mut(adapter_name)
        .map(|queue| queue.drain(..).collect())
        .unwrap_or_default()
}

/// `nbl` was indicated on binding `handle` without RESOURCES: the driver owns it until it
/// returns it.
pub fn note_received(handle: usize, nbl: usize) {
    bindings().received.insert(nbl, handle);
}

/// `nbl` was returned: the binding it was indicated on, if it was outstanding.
pub fn take_received(nbl: usize) -> Option<usize> {
    bindings().received.remove(&nbl)
}

/// Received NBLs of binding `handle` not yet returned.
pub fn outstanding_receives(handle: usize) -> usize {
    bindings()
        .received
        .values()
        .filter(|h| **h == handle)
        .count()
}
