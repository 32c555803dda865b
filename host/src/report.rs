//! The line protocol between a scenario child and the test that started it.
//!
//! The child writes lines starting with `RSWAN ` to stdout: `IMAGE` (where the image was
//! mapped), `OBS` (an observation the test asserts on), and at most one terminal line: `OK`,
//! `FAULT` (written by the loader's signal handler), `BUGCHECK`, `VERIFIER`, `LOADERROR` or
//! `ERROR`. The parent parses them into a [`ChildReport`] and renders failures with symbols.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::sync::OnceLock;

use crate::symbols::Symbols;

/// Exit statuses of a scenario child, one per way it can end.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const LOAD_ERROR: i32 = 2;
    pub const BUGCHECK: i32 = 3;
    pub const VERIFIER: i32 = 4;
}

/// The child's image and its symbols, for naming call sites in violation reports.
static SITES: OnceLock<(usize, usize, Symbols)> = OnceLock::new();

/// Child side: where the image was mapped, and its symbols.
pub fn set_image_symbols(base: usize, size: usize, symbols: Symbols) {
    let _ = SITES.set((base, size, symbols));
}

/// Child side: `address` as `image+0xRVA (symbol+0xOFF)` when it lies in the image.
pub fn site(address: usize) -> String {
    match SITES.get() {
        Some((base, size, symbols)) if address >= *base && address < base + size => {
            let rva = (address - base) as u32;
            match symbols.lookup(rva) {
                Some((name, offset)) => {
                    format!("{}+{rva:#x} ({name}+{offset:#x})", symbols.image_name())
                }
                None => format!("{}+{rva:#x}", symbols.image_name()),
            }
        }
        _ if address == 0 => "the host".to_owned(),
        _ => format!("{address:#x}"),
    }
}

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "RSWAN {line}");
    let _ = out.flush();
}

/// Child side: where the image was mapped.
pub fn image(base: usize, size: usize) {
    emit(&format!("IMAGE base={base:#x} size={size:#x}"));
}

/// Child side: an observation `key` = `value` (the value may contain spaces).
pub fn observe(key: &str, value: impl fmt::Display) {
    emit(&format!("OBS {key} {value}"));
}

/// Child side: the scenario ran to its end.
pub fn ok() -> ! {
    emit("OK");
    std::process::exit(exit::OK)
}

/// Child side: the scenario itself failed (an expectation about the driver did not hold).
pub fn error(message: &str) -> ! {
    emit(&format!("ERROR {}", one_line(message)));
    std::process::exit(exit::ERROR)
}

/// Child side: the image could not be loaded.
pub fn load_error(message: &str) -> ! {
    emit(&format!("LOADERROR {}", one_line(message)));
    std::process::exit(exit::LOAD_ERROR)
}

/// Child side: the driver called KeBugCheckEx (WDK: KeBugCheckEx "brings down the system in
/// a controlled manner"): the scenario stops here.
pub fn bugcheck(code: u32, parameters: [usize; 4], caller: usize) -> ! {
    emit(&format!(
        "BUGCHECK code={code:#x} p1={:#x} p2={:#x} p3={:#x} p4={:#x} caller={caller:#x}",
        parameters[0], parameters[1], parameters[2], parameters[3]
    ));
    std::process::exit(exit::BUGCHECK)
}

/// Child side: a verifier rule was broken; like Driver Verifier, the run stops at once.
pub fn violation(rule: &str, detail: &str) -> ! {
    emit(&format!("VERIFIER {rule} {}", one_line(detail)));
    std::process::exit(exit::VERIFIER)
}

fn one_line(text: &str) -> String {
    text.replace('\n', " | ")
}

/// How a child ended, as far as its lines tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Ok,
    Error(String),
    LoadError(String),
    Fault(BTreeMap<String, String>),
    BugCheck(BTreeMap<String, String>),
    Verifier {
        rule: String,
        detail: String,
    },
    /// No terminal line: the child died some other way.
    Vanished {
        status: String,
    },
}

/// Everything a child reported.
#[derive(Debug, Clone)]
pub struct ChildReport {
    pub image_base: Option<usize>,
    pub image_size: Option<usize>,
    pub observations: Vec<(String, String)>,
    pub ending: Ending,
    pub stderr: String,
}

fn key_values(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn parse_hex(text: &str) -> Option<usize> {
    usize::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

impl ChildReport {
    /// Parses a child's stdout; `status` describes how it exited.
    pub fn parse(stdout: &str, stderr: &str, status: &str) -> Self {
        let mut report = Self {
            image_base: None,
            image_size: None,
            observations: Vec::new(),
            ending: Ending::Vanished {
                status: status.to_owned(),
            },
            stderr: stderr.to_owned(),
        };
        for line in stdout.lines() {
            let Some(rest) = line.strip_prefix("RSWAN ") else {
                continue;
            };
            let (kind, body) = rest.split_once(' ').unwrap_or((rest, ""));
            match kind {
                "IMAGE" => {
                    let kv = key_values(body);
                    report.image_base = kv.get("base").and_then(|v| parse_hex(v));
                    report.image_size = kv.get("size").and_then(|v| parse_hex(v));
                }
                "OBS" => {
                    let (key, value) = body.split_once(' ').unwrap_or((body, ""));
                    report.observations.push((key.to_owned(), value.to_owned()));
                }
                "OK" => report.ending = Ending::Ok,
                "ERROR" => report.ending = Ending::Error(body.to_owned()),
                "LOADERROR" => report.ending = Ending::LoadError(body.to_owned()),
                "FAULT" => {
                    let kv = key_values(body);
                    if let (Some(base), Some(size)) = (kv.get("base"), kv.get("size")) {
                        report.image_base = parse_hex(base).filter(|&b| b != 0);
                        report.image_size = parse_hex(size);
                    }
                    report.ending = Ending::Fault(kv);
                }
                "BUGCHECK" => report.ending = Ending::BugCheck(key_values(body)),
                "VERIFIER" => {
                    let (rule, detail) = body.split_once(' ').unwrap_or((body, ""));
                    report.ending = Ending::Verifier {
                        rule: rule.to_owned(),
                        detail: detail.to_owned(),
                    };
                }
                _ => {}
            }
        }
        report
    }

    /// The value of the first observation named `key`.
    pub fn observation(&self, key: &str) -> Option<&str> {
        self.observations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `address` as `image+0xRVA (symbol+0xOFF)` when it lies in the image.
    pub fn locate(&self, address: usize, symbols: &Symbols) -> String {
        match (self.image_base, self.image_size) {
            (Some(base), Some(size)) if address >= base && address < base + size => {
                let rva = (address - base) as u32;
                match symbols.lookup(rva) {
                    Some((name, offset)) => {
                        format!("{}+{rva:#x} ({name}+{offset:#x})", symbols.image_name())
                    }
                    None => format!("{}+{rva:#x}", symbols.image_name()),
                }
            }
            _ => format!("{address:#x} (outside the image)"),
        }
    }

    /// A readable account of how the child ended.
    pub fn describe(&self, symbols: &Symbols) -> String {
        match &self.ending {
            Ending::Ok => "scenario passed".to_owned(),
            Ending::Error(message) => format!("scenario failed: {message}"),
            Ending::LoadError(message) => format!("the image did not load: {message}"),
            Ending::Vanished { status } => format!(
                "the child ended without a report ({status}); stderr:\n{}",
                self.stderr
            ),
            Ending::BugCheck(kv) => {
                let caller = kv.get("caller").and_then(|v| parse_hex(v)).unwrap_or(0);
                format!(
                    "the driver bug-checked: KeBugCheckEx({}, {}, {}, {}, {}) called from {}",
                    kv.get("code").map_or("?", String::as_str),
                    kv.get("p1").map_or("?", String::as_str),
                    kv.get("p2").map_or("?", String::as_str),
                    kv.get("p3").map_or("?", String::as_str),
                    kv.get("p4").map_or("?", String::as_str),
                    self.locate(caller, symbols)
                )
            }
            Ending::Verifier { rule, detail } => {
                format!("verifier rule {rule} broken: {detail}")
            }
            Ending::Fault(kv) => {
                let get = |k: &str| kv.get(k).and_then(|v| parse_hex(v)).unwrap_or(0);
                let signal = kv.get("signal").map_or("?", String::as_str);
                let signal_name = match signal {
                    "11" => "SIGSEGV (access violation)",
                    "7" => "SIGBUS",
                    "4" => "SIGILL (illegal or privileged instruction)",
                    "8" => "SIGFPE (divide error)",
                    "5" => "SIGTRAP (breakpoint)",
                    _ => "signal",
                };
                // An x86-64 child reports `rip` and the x64 registers, an AArch64 child `pc`,
                // `sp` and x0-x30 (crate::loader::fault).
                let arm64 = kv.contains_key("pc");
                let ip = if arm64 { get("pc") } else { get("rip") };
                let mut text = format!(
                    "the driver crashed: {signal_name} {signal} at {}, fault address {:#x}",
                    self.locate(ip, symbols),
                    get("addr")
                );
                if let Some(bytes) = kv.get("bytes") {
                    text.push_str(&format!("\n  instruction bytes: {bytes}"));
                }
                let import = kv.get("import").map_or("?", String::as_str);
                if get("caller") != 0 {
                    text.push_str(&format!(
                        "\n  last import called: #{import} from {}",
                        self.locate(get("caller"), symbols)
                    ));
                }
                text.push_str("\n  registers:");
                let names: Vec<String> = if arm64 {
                    std::iter::once("sp".to_owned())
                        .chain((0..31).map(|n| format!("x{n}")))
                        .collect()
                } else {
                    [
                        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
                        "r11", "r12", "r13", "r14", "r15",
                    ]
                    .map(str::to_owned)
                    .to_vec()
                };
                for name in names {
                    text.push_str(&format!(" {name}={:#x}", get(&name)));
                }
                if arm64 && get("x18") as u64 == crate::loader::cpu::X18_POISON {
                    text.push_str(
                        "\n  x18 holds the import thunks' poison: driver code ran on after an \
                         import without its KPCR restored",
                    );
                }
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fault line as an AArch64 child writes it (crate::loader::fault), with `x18` and `pc`.
    fn arm64_fault(x18: u64) -> String {
        let mut line = "RSWAN FAULT signal=11 addr=0x0 base=0x10000 size=0x2000 import=3 \
                        caller=0x10400 pc=0x10800 sp=0x7000"
            .to_owned();
        for n in 0..31 {
            let value = if n == 18 { x18 } else { n };
            line.push_str(&format!(" x{n}={value:#x}"));
        }
        line
    }

    #[test]
    fn an_arm64_fault_is_located_by_pc_and_lists_the_aarch64_registers() {
        let report = ChildReport::parse(&arm64_fault(0x5000), "", "exit status: 86");
        let text = report.describe(&Symbols::default());
        assert!(text.contains("SIGSEGV (access violation) 11 at "), "{text}");
        assert!(text.contains("+0x800"), "{text}");
        assert!(text.contains(" sp=0x7000 x0=0x0 x1=0x1 "), "{text}");
        assert!(text.contains(" x30=0x1e"), "{text}");
        assert!(!text.contains("rax="), "{text}");
        assert!(!text.contains("poison"), "{text}");
    }

    #[test]
    fn an_arm64_fault_with_the_thunks_poison_in_x18_says_so() {
        let line = arm64_fault(crate::loader::cpu::X18_POISON);
        let text = ChildReport::parse(&line, "", "exit status: 86").describe(&Symbols::default());
        assert!(
            text.contains("x18 holds the import thunks' poison"),
            "{text}"
        );
    }
}
