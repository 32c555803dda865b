//! rswan-host's scenario runner for the end-to-end tests and `rswan-link`, which cannot start
//! another package's binaries: `rswan-e2e-host-run <scenario> <image> [args...]`.
#![forbid(unsafe_code)]

fn main() {
    rswan_host::runner::main()
}
