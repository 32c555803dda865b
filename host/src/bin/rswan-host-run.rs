//! Runs one host scenario on one driver image: `rswan-host-run <scenario> <image> [args...]`.
//! Tests start it as a child process (rswan_host::child) and read its report lines.
#![forbid(unsafe_code)]

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(scenario), Some(image)) = (args.next(), args.next()) else {
        eprintln!("usage: rswan-host-run <scenario> <image> [args...]\nscenarios:");
        for (name, what) in rswan_host::scenario::SCENARIOS {
            eprintln!("  {name:20} {what}");
        }
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    rswan_host::scenario::run(&scenario, &PathBuf::from(image), &rest)
}
