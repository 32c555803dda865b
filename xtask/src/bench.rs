//! `cargo xtask bench`: runs every benchmark of the workspace. Each benchmark prints its own
//! figures as ratios to a baseline measured in the same run; none of them asserts a time.

use std::process::Command;

use crate::Result;

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        return Err(format!("bench takes no options (got `{arg}`)").into());
    }
    let status = Command::new("cargo")
        .current_dir(crate::repo_root())
        .args([
            "bench",
            "--workspace",
            "--exclude",
            "rswan",
            "--exclude",
            "xtask",
            "--benches",
        ])
        .status()?;
    if !status.success() {
        return Err("a benchmark failed".into());
    }
    Ok(())
}
