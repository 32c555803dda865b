//! External tools the tasks need, and how a fresh machine gets them.
//!
//! A missing tool is installed with apt-get when we run as root on Debian (CI and the
//! project's machines do); anywhere else the error names the command that fixes it.
//! `RSWAN_NO_INSTALL=1` turns installing off, so that a missing tool is an error.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use crate::Result;

/// A command-line tool and the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub command: &'static str,
    pub debian_package: &'static str,
    /// What rswan uses it for, for the error message.
    pub purpose: &'static str,
}

pub const OSSLSIGNCODE: Tool = Tool {
    command: "osslsigncode",
    debian_package: "osslsigncode",
    purpose: "test-signing rswan.sys and rswan.cat",
};
pub const OPENSSL: Tool = Tool {
    command: "openssl",
    debian_package: "openssl",
    purpose: "making the test-signing certificate",
};
#[cfg(test)]
pub const LLVM_READOBJ: Tool = Tool {
    command: "llvm-readobj",
    debian_package: "llvm",
    purpose: "reading the driver image independently in the image checks",
};

/// Debian packages the whole test suite needs: signing and image readers (xtask), Python's
/// asn1crypto and pefile as independent parsers of catalogs and images, iproute2 for network
/// namespaces, the real PPPoE peers (rp-pppoe's `pppoe`, `l2tpns`) and `tshark` for the wire
/// checks (tests/), libclang with the mingw-w64 DDK headers for bindgen's layout checks
/// (crates/ndis), and qemu-user with an aarch64 cross linker for running the ARM64 image in an
/// aarch64 build of the host (host/tests/arm64_driver.rs).
pub const TEST_DEBIAN_PACKAGES: &[&str] = &[
    "osslsigncode",
    "openssl",
    "llvm",
    "python3-asn1crypto",
    "python3-pefile",
    "iproute2",
    "pppoe",
    "l2tpns",
    "tshark",
    "libclang-dev",
    "mingw-w64-common",
    "qemu-user",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
];

/// Answers to the questions some of those packages ask on install (debconf-set-selections
/// format): tshark's "should non-root users capture packets?".
pub const DEBCONF_SELECTIONS: &str =
    "wireshark-common wireshark-common/install-setuid boolean false\n";

/// Finds `tool` on PATH, installing its package first if allowed.
pub fn require(tool: Tool) -> Result<PathBuf> {
    require_with(tool, install_allowed())
}

fn require_with(tool: Tool, may_install: bool) -> Result<PathBuf> {
    if let Some(path) = which(tool.command) {
        return Ok(path);
    }
    if may_install {
        eprintln!(
            "xtask: {} not found; installing Debian package `{}` ({})",
            tool.command, tool.debian_package, tool.purpose
        );
        apt_install(&[tool.debian_package])?;
        if let Some(path) = which(tool.command) {
            return Ok(path);
        }
    }
    Err(format!(
        "{} not found ({}): install it with `apt-get install {}`",
        tool.command, tool.purpose, tool.debian_package
    )
    .into())
}

/// Installs the Debian packages that are not installed yet.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !debian_package_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !install_allowed() {
        return Err(format!(
            "missing Debian packages: {}: install them with `apt-get install {}`",
            missing.join(" "),
            missing.join(" ")
        )
        .into());
    }
    eprintln!("xtask: apt-get install {}", missing.join(" "));
    preseed_debconf()?;
    let status = Command::new("apt-get")
        .args(["update", "-qq"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !status.success() {
        return Err("`apt-get update` failed".into());
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !status.success() {
        return Err(format!("`apt-get install {}` failed", missing.join(" ")).into());
    }
    Ok(())
}

/// Makes sure osslsigncode has `extract-data` (2.6 and later), which the catalog tests use to
/// read its own notion of an image's Authenticode hash. Debian bookworm ships 2.5; its
/// backports suite has a newer one, so the backports suite is added from the same mirror the
/// machine's Debian sources already name.
pub fn ensure_osslsigncode_extract_data() -> Result<()> {
    let has_extract_data = || {
        Command::new("osslsigncode")
            .arg("--help")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout).contains("extract-data")
                    || String::from_utf8_lossy(&o.stderr).contains("extract-data")
            })
            .unwrap_or(false)
    };
    if has_extract_data() {
        return Ok(());
    }
    let fix = "osslsigncode 2.6 or later is needed (`extract-data`): install it from your \
               release's backports, e.g. `apt-get install -t bookworm-backports osslsigncode`";
    if !install_allowed() {
        return Err(fix.into());
    }
    let codename = os_release("VERSION_CODENAME").ok_or(fix)?;
    let suite = format!("{codename}-backports");
    add_backports_source(&codename, &suite)?;
    preseed_debconf()?;
    let update = Command::new("apt-get").args(["update", "-qq"]).status()?;
    let install = Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "-t",
            &suite,
            "osslsigncode",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if !(update.success() && install.success() && has_extract_data()) {
        return Err(fix.into());
    }
    Ok(())
}

fn os_release(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim_matches('"').to_string())
}

/// Adds `<codename>-backports` with the URIs and key of the deb822 stanza that carries
/// `<codename>` itself.
fn add_backports_source(codename: &str, suite: &str) -> Result<()> {
    let list = std::path::Path::new("/etc/apt/sources.list.d/rswan-backports.sources");
    if list.exists() {
        return Ok(());
    }
    let sources = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")?;
    let stanza = sources
        .split("\n\n")
        .find(|stanza| {
            stanza.lines().any(|l| {
                l.strip_prefix("Suites:")
                    .is_some_and(|suites| suites.split_whitespace().any(|s| s == codename))
            })
        })
        .ok_or("no Debian source for this release in /etc/apt/sources.list.d/debian.sources")?;
    let mut text = String::new();
    for line in stanza.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("Suites:") {
            text.push_str(&format!("Suites: {suite}\n"));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    std::fs::write(list, text)?;
    Ok(())
}

fn preseed_debconf() -> Result<()> {
    let mut child = Command::new("debconf-set-selections")
        .stdin(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("debconf-set-selections has no stdin")?
        .write_all(DEBCONF_SELECTIONS.as_bytes())?;
    if !child.wait()?.success() {
        return Err("debconf-set-selections failed".into());
    }
    Ok(())
}

fn debian_package_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn install_allowed() -> bool {
    std::env::var_os("RSWAN_NO_INSTALL").is_none_or(|v| v.is_empty() || v == "0")
        && is_root()
        && which("apt-get").is_some()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// The first executable named `command` on PATH.
pub fn which(command: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_the_package_that_fixes_it() {
        let tool = Tool {
            command: "rswan-no-such-tool",
            debian_package: "rswan-no-such-package",
            purpose: "testing the error",
        };
        let err = require_with(tool, false).unwrap_err().to_string();
        assert!(
            err.contains("rswan-no-such-tool not found (testing the error)"),
            "{err}"
        );
        assert!(
            err.contains("`apt-get install rswan-no-such-package`"),
            "{err}"
        );
    }

    #[test]
    fn a_present_tool_is_found_on_path() {
        let tool = Tool {
            command: "sh",
            debian_package: "dash",
            purpose: "shell",
        };
        assert!(require_with(tool, false).unwrap().ends_with("sh"));
    }
}
