//! NDIS.SYS exports of the configuration interface over a file that stands for the adapter's
//! registry key (WDK: nf-ndis-ndisopenconfigurationex, nf-ndis-ndisreadconfiguration,
//! nf-ndis-ndiscloseconfiguration, ns-ndis-_ndis_configuration_parameter).
//!
//! The environment variable `RSWAN_REGISTRY` names the file; without it the key is empty and
//! every value is missing. The file is written like a `.reg` export: `;` comments, `[key]`
//! lines (ignored: the file is one key), and one value a line, `"Name"=dword:0000002a` (a
//! REG_DWORD in hex) or `"Name"="text"` (a REG_SZ; `\"` and `\\` escape). Value names compare
//! without regard to case, as the registry's do.
//!
//! What a read returns lives in pool blocks of the configuration handle until
//! NdisCloseConfiguration frees them ("frees any temporary storage allocated in calls to other
//! NdisXxx functions that required the returned ConfigurationHandle"), so a handle never
//! closed shows at unload as a pool leak at the NdisOpenConfigurationEx call.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use core::mem::offset_of;

use rswan_ndis::configuration::{
    CONFIGURATION_OBJECT_REVISION_1, ConfigurationObject, ConfigurationParameter,
    OBJECT_TYPE_CONFIGURATION_OBJECT, SIZEOF_CONFIGURATION_OBJECT_REVISION_1, parameter_type,
};
use rswan_ndis::{NdisStatus, UnicodeString, status};

use crate::kernel::checks::stop;
use crate::kernel::irql::PASSIVE_LEVEL;
use crate::kernel::pool::{self, FREED_FILL};
use crate::kernel::{caller, faults, require_irql_at_most};
use crate::loader::memmap::{peek, peek_u16, peek_usize, poke, poke_u16, poke_u32, poke_usize};
use crate::loader::memory;
use crate::report;
use crate::verifier::Violation;

/// The variable that names the registry file.
pub const REGISTRY_VARIABLE: &str = "RSWAN_REGISTRY";
/// Pool tag of the configuration handle and of what reads return ('NCfg').
const TAG: u32 = u32::from_le_bytes(*b"NCfg");

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![
        (
            "NdisOpenConfigurationEx",
            ndis_open_configuration_ex as *const () as usize,
        ),
        (
            "NdisReadConfiguration",
            ndis_read_configuration as *const () as usize,
        ),
        (
            "NdisCloseConfiguration",
            ndis_close_configuration as *const () as usize,
        ),
    ]
}

/// A registry value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Dword(u32),
    Sz(String),
}

/// Parses the registry file's text: value names (lower-cased) and values.
pub fn parse(text: &str) -> Result<HashMap<String, RegValue>, String> {
    let mut values = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with(';')
            || line.starts_with('[')
            || line.starts_with("Windows Registry Editor")
        {
            continue;
        }
        let bad = |why: &str| format!("registry file line {}: {why}: {line}", number + 1);
        let rest = line
            .strip_prefix('"')
            .ok_or_else(|| bad("a value starts with its quoted name"))?;
        let (name, rest) = rest
            .split_once("\"=")
            .ok_or_else(|| bad("no `\"=` after the name"))?;
        let value = if let Some(hex) = rest.strip_prefix("dword:") {
            RegValue::Dword(u32::from_str_radix(hex, 16).map_err(|_| bad("not 8 hex digits"))?)
        } else {
            RegValue::Sz(unquote(rest).ok_or_else(|| bad("not a quoted string"))?)
        };
        values.insert(name.to_lowercase(), value);
    }
    Ok(values)
}

fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// An open configuration handle: the key's values and the blocks reads returned.
struct OpenKey {
    values: HashMap<String, RegValue>,
    blocks: Vec<usize>,
}

fn open_keys() -> MutexGuard<'static, HashMap<usize, OpenKey>> {
    static KEYS: OnceLock<Mutex<HashMap<usize, OpenKey>>> = OnceLock::new();
    KEYS.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn violation(message: String) -> ! {
    stop(&Violation::new(
        "NDIS",
        format!("{message} (at {{site:0}})"),
        vec![caller()],
    ))
}

/// A pool block of `size` zeroed bytes charged to the configuration interface.
fn block(size: usize) -> usize {
    let address = memory::allocate(size, 0);
    if address == 0 {
        report::error("the host is out of memory");
    }
    pool::allocated(address, size, TAG, caller());
    address
}

fn free(address: usize) {
    let size = pool::freed(address, Some(TAG), caller());
    memory::release(address, size, FREED_FILL);
}

/// The key of the registry file, read anew at each open.
fn key_values() -> HashMap<String, RegValue> {
    let Some(path) = std::env::var_os(REGISTRY_VARIABLE) else {
        return HashMap::new();
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        report::error(&format!(
            "{REGISTRY_VARIABLE}={}: {e}",
            path.to_string_lossy()
        ))
    });
    parse(&text).unwrap_or_else(|message| report::error(&message))
}

/// WDK: NdisOpenConfigurationEx. IRQL: PASSIVE_LEVEL. NDIS_STATUS_RESOURCES "due to
/// insufficient resources" (an injected fault).
extern "efiapi" fn ndis_open_configuration_ex(
    config_object: usize,
    configuration_handle: usize,
) -> NdisStatus {
    require_irql_at_most(PASSIVE_LEVEL, "NdisOpenConfigurationEx");
    if config_object == 0 || configuration_handle == 0 {
        violation("NdisOpenConfigurationEx with a NULL pointer".into());
    }
    type O = ConfigurationObject;
    let header = peek(config_object, 4, "NDIS_CONFIGURATION_OBJECT.Header");
    let size = usize::from(u16::from_le_bytes([header[2], header[3]]));
    if header[0] != OBJECT_TYPE_CONFIGURATION_OBJECT
        || header[1] < CONFIGURATION_OBJECT_REVISION_1
        || size < SIZEOF_CONFIGURATION_OBJECT_REVISION_1
    {
        violation(format!(
            "NdisOpenConfigurationEx with Header {{Type {:#x}, Revision {}, Size {size}}}; the \
             NDIS_CONFIGURATION_OBJECT page asks for NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT, \
             revision 1, NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1",
            header[0], header[1]
        ));
    }
    if peek_usize(config_object + offset_of!(O, ndis_handle), "NdisHandle") == 0 {
        violation("NdisOpenConfigurationEx with a NULL NdisHandle".into());
    }
    if faults::should_fail("NdisOpenConfigurationEx") {
        return status::RESOURCES;
    }
    let handle = block(16);
    let values = key_values();
    open_keys().insert(
        handle,
        OpenKey {
            values,
            blocks: Vec::new(),
        },
    );
    poke_usize(configuration_handle, handle, "ConfigurationHandle");
    status::SUCCESS
}

/// WDK: NdisReadConfiguration. IRQL: PASSIVE_LEVEL. `*Status` NDIS_STATUS_FAILURE when the
/// value is not in the key; NDIS_STATUS_RESOURCES when NDIS could not allocate (an injected
/// fault). An integer asked of a REG_SZ is its decimal (`NdisParameterInteger`) or hex
/// (`NdisParameterHexInteger`) digits ("An integer in decimal notation"), and comes back
/// typed `NdisParameterInteger` (NDIS_CONFIGURATION_PARAMETER, ParameterType). A string
/// asked of a REG_DWORD fails here [I: whether Windows converts it is undocumented].
extern "efiapi" fn ndis_read_configuration(
    status_out: usize,
    parameter_value: usize,
    configuration_handle: usize,
    keyword: usize,
    requested: u32,
) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisReadConfiguration");
    if status_out == 0 || parameter_value == 0 || keyword == 0 {
        violation("NdisReadConfiguration with a NULL pointer".into());
    }
    let length = usize::from(peek_u16(
        keyword + offset_of!(UnicodeString, length),
        "Keyword.Length",
    ));
    let buffer = peek_usize(
        keyword + offset_of!(UnicodeString, buffer),
        "Keyword.Buffer",
    );
    let units: Vec<u16> = peek(buffer, length, "Keyword.Buffer")
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let name = String::from_utf16_lossy(&units);
    let value = {
        let keys = open_keys();
        let Some(key) = keys.get(&configuration_handle) else {
            violation(format!(
                "NdisReadConfiguration({name}) on {configuration_handle:#x}, which is no open \
                 configuration handle"
            ));
        };
        key.values.get(&name.to_lowercase()).cloned()
    };
    if faults::should_fail("NdisReadConfiguration") {
        poke_u32(status_out, status::RESOURCES as u32, "Status");
        return;
    }
    let answer = match (requested, value) {
        (parameter_type::INTEGER, Some(RegValue::Dword(v)))
        | (parameter_type::HEX_INTEGER, Some(RegValue::Dword(v))) => Some(Answer::Integer(v)),
        (parameter_type::INTEGER, Some(RegValue::Sz(text))) => {
            text.trim().parse().ok().map(Answer::Integer)
        }
        (parameter_type::HEX_INTEGER, Some(RegValue::Sz(text))) => {
            u32::from_str_radix(text.trim(), 16)
                .ok()
                .map(Answer::Integer)
        }
        (parameter_type::STRING, Some(RegValue::Sz(text))) => Some(Answer::String(text)),
        _ => None,
    };
    report::observe(
        "registry.read",
        format!("{name} as type {requested}: {answer:?}"),
    );
    let Some(answer) = answer else {
        poke_u32(status_out, status::FAILURE as u32, "Status");
        return;
    };
    let parameter = write_parameter(answer);
    match open_keys().get_mut(&configuration_handle) {
        Some(key) => key.blocks.push(parameter),
        None => violation("the configuration handle was closed during a read".into()),
    }
    poke_usize(parameter_value, parameter, "ParameterValue");
    poke_u32(status_out, status::SUCCESS as u32, "Status");
}

#[derive(Debug)]
enum Answer {
    Integer(u32),
    String(String),
}

/// An NDIS_CONFIGURATION_PARAMETER (and a string's UTF-16 after it) in a new block.
fn write_parameter(answer: Answer) -> usize {
    type P = ConfigurationParameter;
    let data = offset_of!(P, parameter_data);
    match answer {
        Answer::Integer(value) => {
            let parameter = block(size_of::<P>());
            poke_u32(parameter, parameter_type::INTEGER, "ParameterType");
            poke_u32(parameter + data, value, "IntegerData");
            parameter
        }
        Answer::String(text) => {
            let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let parameter = block(size_of::<P>() + units.len() + 2);
            let characters = parameter + size_of::<P>();
            poke(characters, &units, "StringData.Buffer");
            poke_u32(parameter, parameter_type::STRING, "ParameterType");
            let string = parameter + data;
            poke_u16(
                string + offset_of!(UnicodeString, length),
                units.len() as u16,
                "StringData.Length",
            );
            poke_u16(
                string + offset_of!(UnicodeString, maximum_length),
                units.len() as u16 + 2,
                "StringData.MaximumLength",
            );
            poke_usize(
                string + offset_of!(UnicodeString, buffer),
                characters,
                "StringData.Buffer",
            );
            parameter
        }
    }
}

/// WDK: NdisCloseConfiguration. IRQL: PASSIVE_LEVEL. Frees what the reads returned.
extern "efiapi" fn ndis_close_configuration(configuration_handle: usize) {
    require_irql_at_most(PASSIVE_LEVEL, "NdisCloseConfiguration");
    let Some(key) = open_keys().remove(&configuration_handle) else {
        violation(format!(
            "NdisCloseConfiguration({configuration_handle:#x}): no open configuration handle \
             (closed twice?)"
        ));
    };
    for parameter in key.blocks {
        free(parameter);
    }
    free(configuration_handle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reg_file_gives_dwords_and_strings_by_lower_case_name() {
        let values = parse(
            "Windows Registry Editor Version 5.00\n; comment\n[HKLM\\x]\n\
             \"PppoeLines\"=dword:00000040\n\"AcName\"=\"a \\\"b\\\" \\\\c\"\n\n\"Empty\"=\"\"\n",
        )
        .unwrap();
        assert_eq!(values["pppoelines"], RegValue::Dword(64));
        assert_eq!(values["acname"], RegValue::Sz("a \"b\" \\c".into()));
        assert_eq!(values["empty"], RegValue::Sz(String::new()));
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for text in [
            "Name=dword:1",
            "\"Name\"=dword:xyz",
            "\"Name\"=\"open",
            "\"Name\" 1",
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("line 1"), "{error}");
        }
    }
}
