//! The three architectures rswan ships, and what each means to the toolchain, the PE image,
//! the INF and the catalog.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    X64,
    Arm64,
    X86,
}

impl Arch {
    pub const ALL: [Arch; 3] = [Arch::X64, Arch::Arm64, Arch::X86];

    /// The folder name under `target/package/` and the name users type.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X64 => "x64",
            Arch::Arm64 => "arm64",
            Arch::X86 => "x86",
        }
    }

    /// What cargo's `--target` takes. x86 is a JSON target (soft-float: the x86 kernel forbids
    /// x87/MMX/SSE without saved state), relative to the repository root.
    pub fn target(self) -> &'static str {
        match self {
            Arch::X64 => "x86_64-pc-windows-msvc",
            Arch::Arm64 => "aarch64-pc-windows-msvc",
            Arch::X86 => "driver/i686-rswan-windows-msvc.json",
        }
    }

    /// The directory cargo writes this target's output to, under the target dir.
    pub fn target_dir_name(self) -> &'static str {
        match self {
            Arch::X64 => "x86_64-pc-windows-msvc",
            Arch::Arm64 => "aarch64-pc-windows-msvc",
            Arch::X86 => "i686-rswan-windows-msvc",
        }
    }

    /// IMAGE_FILE_HEADER.Machine.
    pub fn pe_machine(self) -> u16 {
        match self {
            Arch::X64 => 0x8664,
            Arch::Arm64 => 0xAA64,
            Arch::X86 => 0x014C,
        }
    }

    /// The INF platform extension of decorated sections.
    pub fn inf_decoration(self) -> &'static str {
        match self {
            Arch::X64 => "NTamd64",
            Arch::Arm64 => "NTarm64",
            Arch::X86 => "NTx86",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Arch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown architecture `{s}`: rswan ships x64, arm64 and x86 (e.g. `--arch x64,arm64`)")
            })
    }
}

/// Parses a comma-separated list such as `x64,arm64`.
pub fn parse_list(s: &str) -> Result<Vec<Arch>, String> {
    let mut arches = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let arch = part.parse()?;
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    if arches.is_empty() {
        return Err("no architecture given: use x64, arm64 and/or x86".into());
    }
    Ok(arches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rejects_unknown_with_the_fix() {
        assert_eq!(
            parse_list("x64, ARM64,x64").unwrap(),
            vec![Arch::X64, Arch::Arm64]
        );
        let err = parse_list("x64,mips").unwrap_err();
        assert!(err.contains("unknown architecture `mips`") && err.contains("x64, arm64 and x86"));
        assert!(parse_list(" , ").is_err());
    }
}
