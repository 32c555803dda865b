//! The command line of a scenario child, `<runner> <scenario> <image> [args...]`, for every
//! binary that runs scenarios: rswan-host-run here, and the runner of the end-to-end tests
//! (rswan-e2e), whose tests cannot start another package's binaries.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// Runs the scenario the process arguments name; never returns.
pub fn main() -> ! {
    let mut args = std::env::args().skip(1);
    let (Some(scenario), Some(image)) = (args.next(), args.next()) else {
        eprintln!("usage: rswan-host-run <scenario> <image> [args...]\nscenarios:");
        for (name, what) in crate::scenario::SCENARIOS {
            eprintln!("  {name:20} {what}");
        }
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    crate::scenario::run(&scenario, &PathBuf::from(image), &rest)
}
