//! Driver Verifier-style rules, always on. Each rule is a plain state machine fed with the
//! driver's calls; a broken rule yields a [`Violation`] that names the rule and the call sites
//! (addresses in the image, rendered with symbols by the caller). The kernel stand-in feeds
//! them and stops the scenario at the first violation, as Driver Verifier bug-checks.
//!
//! - [`lock_order`]: the lock-acquisition-order graph (Driver Verifier's deadlock detection),
//!   recursive acquisition, release by a thread that does not hold the lock, release out of
//!   order (NdisAcquireSpinLock stores the old IRQL in the lock).
//! - [`irql`]: calls made above the IRQL their WDK page allows.
//! - [`completion`]: every NBL and every OID request completed exactly once, and in time.
//! - [`lending`]: a received NBL is not returned (or, indicated with RESOURCES, kept) while
//!   an NBL indicated up still describes its data; pause and close wait for returns.
//! - [`pool`]: frees match allocations and tags; nothing is left at unload.
//! - [`q219380`]: no completion, indication or lower send while a driver spin lock is held
//!   (the Ndiswan.sys deadlock of KB Q219380).
//! - [`stack`]: no entry point goes deeper into the kernel stack than the driver's budget.
#![forbid(unsafe_code)]

pub mod completion;
pub mod irql;
pub mod lending;
pub mod lock_order;
pub mod pool;
pub mod q219380;
pub mod stack;

use std::fmt;

/// An address in the image where the driver called the host (the return address of the call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site(pub usize);

/// A broken rule. `message` has `{site:N}` placeholders for `sites[N]`, so the caller can
/// render the addresses with symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub message: String,
    pub sites: Vec<Site>,
}

impl Violation {
    pub fn new(rule: &'static str, message: impl Into<String>, sites: Vec<Site>) -> Self {
        Self {
            rule,
            message: message.into(),
            sites,
        }
    }

    /// The message with each site rendered by `name`.
    pub fn render(&self, name: impl Fn(Site) -> String) -> String {
        let mut text = self.message.clone();
        for (index, site) in self.sites.iter().enumerate() {
            text = text.replace(&format!("{{site:{index}}}"), &name(*site));
        }
        text
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.render(|site| format!("{:#x}", site.0));
        write!(f, "{}: {text}", self.rule)
    }
}
