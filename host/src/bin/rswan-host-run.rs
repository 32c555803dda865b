//! Runs one host scenario on one driver image: `rswan-host-run <scenario> <image> [args...]`.
//! Tests start it as a child process (rswan_host::child) and read its report lines.
#![forbid(unsafe_code)]

fn main() {
    rswan_host::runner::main()
}
