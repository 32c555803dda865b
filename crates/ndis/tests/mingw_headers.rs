//! The bindings against the mingw-w64 DDK headers, through bindgen (libclang), for both
//! 32-bit (i686) and 64-bit (x86_64) Windows.
//!
//! mingw-w64 is a clean-room, public-domain set of Windows headers (Debian `mingw-w64-common`).
//! Its ddk/ndis.h is NDIS 5-era: it has the CoNDIS call-parameter structures, the TAPI and WAN
//! structures, MDL and NDIS_SPIN_LOCK, but none of the NDIS 6 structures (NET_BUFFER_LIST,
//! the characteristics and attributes, NDIS_OID_REQUEST, ...). For every structure both define,
//! the test compares sizes and field offsets, field by field, with the documented layout the
//! crate asserts at compile time (`Documented::LAYOUT`); it also compares the values of the
//! constants. Where mingw-w64 differs from the WDK documentation, the case says how, and the
//! test checks that the difference is exactly that.
//!
//! Needs: Debian `mingw-w64-common` (the headers) and `libclang-dev` (libclang and its builtin
//! headers). `RSWAN_MINGW_INCLUDE` and `RSWAN_CLANG_INCLUDE` override where they are looked for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rswan_ndis::layout::{Documented, StructLayout};
use rswan_ndis::{
    buffer, callmgr, configuration, debug, event, lock, miniport, oid, oids, protocol, status,
    tapi, wan,
};

/// The two targets: index 0 is 32-bit, 1 is 64-bit, as in the layout tables.
const TARGETS: [&str; 2] = ["i686-w64-mingw32", "x86_64-w64-mingw32"];

fn mingw_include() -> PathBuf {
    let dir = std::env::var_os("RSWAN_MINGW_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/mingw-w64/include"));
    assert!(
        dir.join("ddk/ndis.h").is_file(),
        "mingw-w64 DDK headers not found in {}: install them with `apt-get install -y \
         mingw-w64-common` (or set RSWAN_MINGW_INCLUDE)",
        dir.display()
    );
    dir
}

/// The directory of clang's builtin headers (stddef.h, x86intrin.h, ...), which libclang needs
/// and does not always find by itself.
fn clang_include() -> PathBuf {
    if let Some(dir) = std::env::var_os("RSWAN_CLANG_INCLUDE") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("llvm-"))
        .flat_map(|e| {
            std::fs::read_dir(e.path().join("lib/clang"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path().join("include"))
        .filter(|p| p.join("stddef.h").is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "clang's builtin headers not found under /usr/lib/llvm-*/lib/clang/*/include: \
             install them with `apt-get install -y libclang-dev` (or set RSWAN_CLANG_INCLUDE)"
        )
    })
}

/// A translation unit over the mingw-w64 headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    /// ddk/ndis.h and ddk/ndistapi.h, with ndistapi.h's own `NDIS_VAR_DATA_DESC` (LONG Offset)
    /// removed so that ntddndis.h's (ULONG_PTR Offset, the current SDK's) applies.
    Ndis,
    /// The same with ddk/ndistapi.h as shipped: its LONG `NDIS_VAR_DATA_DESC`.
    NdisTapiAsShipped,
    /// ddk/ndiswan.h, which repeats NDIS 5 definitions of ndis.h and so is parsed alone.
    NdisWan,
}

/// Renames the user-mode ntddndis.h's definitions that mingw-w64's ddk/ndis.h (or, for
/// `NDIS_VAR_DATA_DESC`, ddk/ndistapi.h) defines again, around its inclusion.
fn include_ntddndis_renaming(names: &[&str]) -> String {
    let mut text = String::new();
    for name in names {
        text += &format!("#define {name} rswan_um_{name}\n");
    }
    text += "#include <ntddndis.h>\n";
    for name in names {
        text += &format!("#undef {name}\n");
    }
    text
}

const REQUEST_TYPE_NAMES: &[&str] = &[
    "_NDIS_REQUEST_TYPE",
    "NDIS_REQUEST_TYPE",
    "PNDIS_REQUEST_TYPE",
    "NdisRequestQueryInformation",
    "NdisRequestSetInformation",
    "NdisRequestQueryStatistics",
    "NdisRequestOpen",
    "NdisRequestClose",
    "NdisRequestSend",
    "NdisRequestTransferData",
    "NdisRequestReset",
    "NdisRequestGeneric1",
    "NdisRequestGeneric2",
    "NdisRequestGeneric3",
    "NdisRequestGeneric4",
    "NdisRequestMethod",
];

/// The header text of a unit. Constants are read through one anonymous enum each, because
/// clang evaluates enumerators (casts included) and bindgen prints their values.
fn unit_source(unit: Unit, scratch: &Path) -> String {
    let mut text = String::from(
        "#include <ntdef.h>\n#include <ddk/wdm.h>\n#include <dpfilter.h>\n\
         #include <ifdef.h>\n#include <ipifcons.h>\n",
    );
    match unit {
        Unit::Ndis | Unit::NdisTapiAsShipped => {
            let mut renamed = REQUEST_TYPE_NAMES.to_vec();
            if unit == Unit::NdisTapiAsShipped {
                renamed.extend([
                    "_NDIS_VAR_DATA_DESC",
                    "NDIS_VAR_DATA_DESC",
                    "PNDIS_VAR_DATA_DESC",
                ]);
            }
            text += &include_ntddndis_renaming(&renamed);
            // mingw-w64's prototype of NdisMWanIndicateReceiveComplete lacks a comma; this
            // turns it into a well-formed declaration of another name.
            text += "#define NdisMWanIndicateReceiveComplete(args) \
                     rswan_malformed_NdisMWanIndicateReceiveComplete(void)\n";
            text += "#include <ddk/ndis.h>\n";
            if unit == Unit::Ndis {
                let path = scratch.join("ndistapi_ulong_ptr.h");
                std::fs::write(&path, ndistapi_with_ulong_ptr()).expect("write scratch header");
                text += "#include \"ndistapi_ulong_ptr.h\"\n";
            } else {
                text += "#include <ddk/ndistapi.h>\n";
            }
        }
        Unit::NdisWan => {
            text += "typedef PVOID NDIS_HANDLE;\ntypedef int NDIS_STATUS;\ntypedef unsigned int UINT;\n\
                     typedef PHYSICAL_ADDRESS NDIS_PHYSICAL_ADDRESS;\n\
                     typedef enum { NdisWanErrorControl } NDIS_WAN_QUALITY;\n\
                     #include <ddk/ndiswan.h>\n";
        }
    }
    for constant in CONSTANTS.iter().filter(|c| c.unit == unit) {
        let name = constant.c_name;
        let line = format!("enum {{ rswan_const_{name} = ({name}) }};\n");
        text += &if constant.macro_name {
            format!("#ifdef {name}\n{line}#endif\n")
        } else {
            line
        };
    }
    text
}

/// ddk/ndistapi.h without its `NDIS_VAR_DATA_DESC` typedef.
fn ndistapi_with_ulong_ptr() -> String {
    let shipped = std::fs::read_to_string(mingw_include().join("ddk/ndistapi.h"))
        .expect("read ddk/ndistapi.h");
    let typedef = "typedef struct  _NDIS_VAR_DATA_DESC {\n\tUSHORT  Length;\n\tUSHORT  MaximumLength;\n\
                   \tLONG  Offset;\n} NDIS_VAR_DATA_DESC, *PNDIS_VAR_DATA_DESC;";
    assert_eq!(
        shipped.matches(typedef).count(),
        1,
        "ddk/ndistapi.h no longer declares NDIS_VAR_DATA_DESC with a LONG Offset as expected: \
         look at it again"
    );
    shipped.replace(typedef, "")
}

/// What bindgen computed for one unit and target.
#[derive(Debug, Default)]
struct Parsed {
    sizes: BTreeMap<String, usize>,
    offsets: BTreeMap<String, BTreeMap<String, usize>>,
    constants: BTreeMap<String, i64>,
    text: String,
}

/// Reads bindgen's layout assertions (`["Size of T"][size_of::<T>() - 48usize]` and
/// `["Offset of field: T::F"][offset_of!(T, F) - 8usize]`) and the `rswan_const_` values.
fn parse(text: String) -> Parsed {
    let mut parsed = Parsed::default();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("[\"") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find("\"]") else { break };
        let label = &rest[..end];
        let tail = &rest[end..];
        let stop = tail.find(';').unwrap_or(tail.len());
        let value = tail[..stop]
            .rsplit_once("- ")
            .and_then(|(_, v)| v.trim().strip_suffix("usize]"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(value) = value {
            if let Some(ty) = label.strip_prefix("Size of ") {
                parsed.sizes.insert(ty.to_string(), value);
            } else if let Some((ty, field)) = label
                .strip_prefix("Offset of field: ")
                .and_then(|f| f.split_once("::"))
            {
                parsed
                    .offsets
                    .entry(ty.to_string())
                    .or_default()
                    .insert(field.to_string(), value);
            }
        }
        rest = &rest[end..];
    }
    for line in text.split(';') {
        let Some(at) = line.find("rswan_const_") else {
            continue;
        };
        let after = &line[at + "rswan_const_".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let Some((_, value)) = line.split_once('=') else {
            continue;
        };
        let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        let value = value.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '_');
        let value =
            value.trim_end_matches(|c: char| c.is_ascii_alphanumeric() && !c.is_ascii_digit());
        if let Ok(v) = value.parse::<i64>() {
            parsed.constants.insert(name, v);
        }
    }
    parsed.text = text;
    parsed
}

fn generate(unit: Unit, target: &str) -> Parsed {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mingw-{unit:?}-{target}"));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let mingw = mingw_include();
    let source = unit_source(unit, &scratch);
    let bindings = bindgen::Builder::default()
        .header_contents("rswan_mingw.h", &source)
        .clang_args([
            "-target".to_string(),
            target.to_string(),
            format!("-I{}", scratch.display()),
            format!("-I{}", mingw.display()),
            format!("-I{}", mingw.join("ddk").display()),
            format!("-isystem{}", clang_include().display()),
            "-w".to_string(),
            // Windows 7 and NDIS 6.20, what rswan targets: enables the NDIS 6 parts the
            // headers have.
            "-D_WIN32_WINNT=0x0601".to_string(),
            "-DNTDDI_VERSION=0x06010000".to_string(),
            "-DNDIS_SUPPORT_NDIS6=1".to_string(),
            "-DNDIS_SUPPORT_NDIS61=1".to_string(),
            "-DNDIS_SUPPORT_NDIS620=1".to_string(),
        ])
        .allowlist_type(ALLOWED_TYPES.join("|"))
        .allowlist_var("rswan_const_.*")
        .layout_tests(true)
        .formatter(bindgen::Formatter::None)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen over the mingw-w64 headers ({unit:?}, {target}): {e}"));
    parse(bindings.to_string())
}

fn parsed(unit: Unit, width: usize) -> &'static Parsed {
    static CACHE: OnceLock<std::sync::Mutex<BTreeMap<(Unit, usize), &'static Parsed>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry((unit, width))
        .or_insert_with(|| Box::leak(Box::new(generate(unit, TARGETS[width]))))
}

/// C structure names of the cases below.
const ALLOWED_TYPES: &[&str] = &[
    "_MDL",
    "_BINARY_DATA",
    "_NDIS_CONFIGURATION_PARAMETER",
    "_NDIS_SPIN_LOCK",
    "_KEVENT",
    "_NDIS_EVENT",
    "_CO_ADDRESS_FAMILY",
    "_CO_SAP",
    "_flowspec",
    "_CO_SPECIFIC_PARAMETERS",
    "_CO_CALL_MANAGER_PARAMETERS",
    "_CO_MEDIA_PARAMETERS",
    "_CO_CALL_PARAMETERS",
    "_NET_PNP_EVENT",
    "_WAN_CO_LINKPARAMS",
    "_NDIS_WAN_CO_FRAGMENT",
    "_NDIS_VAR_DATA_DESC",
    "_LINE_DIAL_PARAMS",
    "_LINE_DEV_CAPS",
    "_LINE_ADDRESS_CAPS",
    "_LINE_CALL_INFO",
    "_LINE_CALL_PARAMS",
    "_VAR_STRING",
    "_CO_TAPI_CM_CAPS",
    "_CO_TAPI_LINE_CAPS",
    "_CO_TAPI_ADDRESS_CAPS",
    "_CO_TAPI_CALL_DIAGNOSTICS",
    "_CO_AF_TAPI_MAKE_CALL_PARAMETERS",
    "_CO_AF_TAPI_INCOMING_CALL_PARAMETERS",
    "CO_AF_TAPI_SAP",
    "_NDIS_CO_LINK_SPEED",
    "_NDIS_WAN_CO_INFO",
    "_NDIS_WAN_CO_SET_LINK_INFO",
    "_NDIS_WAN_CO_GET_LINK_INFO",
    "_NDIS_WAN_CO_GET_STATS_INFO",
    // NDIS 6 names, to show that mingw-w64 has none of them.
    "_NET_BUFFER",
    "_NET_BUFFER_LIST",
    "_NET_BUFFER_LIST_POOL_PARAMETERS",
    "_NDIS_MINIPORT_DRIVER_CHARACTERISTICS",
    "_NDIS_MINIPORT_CO_CHARACTERISTICS",
    "_NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES",
    "_NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES",
    "_NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS",
    "_NDIS_PROTOCOL_DRIVER_CHARACTERISTICS",
    "_NDIS_BIND_PARAMETERS",
    "_NDIS_OPEN_PARAMETERS",
    "_NET_PNP_EVENT_NOTIFICATION",
    "_NDIS_OID_REQUEST",
    "_NDIS_STATUS_INDICATION",
    "_NDIS_TIMER_CHARACTERISTICS",
];

/// How mingw-w64 relates to the documented layout of a structure.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Same size and same offset for every field, on both widths.
    Same,
    /// Every documented field is at the same offset, and mingw-w64 declares more fields after
    /// them (so its structure is larger).
    MingwAppends(&'static str),
}

struct Case {
    layout: StructLayout,
    unit: Unit,
    /// The mingw-w64 name, when it differs from the documented one.
    mingw_name: Option<&'static str>,
    expect: Expect,
}

fn case<T: Documented>(unit: Unit) -> Case {
    Case {
        layout: T::LAYOUT,
        unit,
        mingw_name: None,
        expect: Expect::Same,
    }
}

fn cases() -> Vec<Case> {
    use Unit::{Ndis, NdisWan};
    vec![
        case::<buffer::Mdl>(Ndis),
        case::<lock::NdisSpinLock>(Ndis),
        case::<event::Kevent>(Ndis),
        case::<event::NdisEvent>(Ndis),
        case::<callmgr::CoAddressFamily>(Ndis),
        case::<callmgr::CoSap>(Ndis),
        case::<callmgr::CoFlowParameters>(Ndis),
        case::<callmgr::CoSpecificParameters>(Ndis),
        case::<callmgr::CoCallManagerParameters>(Ndis),
        case::<callmgr::CoMediaParameters>(Ndis),
        case::<callmgr::CoCallParameters>(Ndis),
        case::<protocol::NetPnpEvent>(Ndis),
        case::<wan::WanCoLinkParams>(Ndis),
        case::<wan::NdisWanCoFragment>(Ndis),
        case::<wan::NdisCoLinkSpeed>(Ndis),
        case::<configuration::BinaryData>(Ndis),
        case::<configuration::ConfigurationParameter>(Ndis),
        case::<tapi::NdisVarDataDesc>(Ndis),
        case::<tapi::LineDialParams>(Ndis),
        case::<tapi::LineDevCaps>(Ndis),
        case::<tapi::LineAddressCaps>(Ndis),
        case::<tapi::LineCallInfo>(Ndis),
        case::<tapi::LineCallParams>(Ndis),
        case::<tapi::VarString>(Ndis),
        case::<tapi::CoTapiCmCaps>(Ndis),
        case::<tapi::CoTapiLineCaps>(Ndis),
        case::<tapi::CoTapiAddressCaps>(Ndis),
        case::<tapi::CoTapiCallDiagnostics>(Ndis),
        case::<tapi::CoAfTapiMakeCallParameters>(Ndis),
        case::<tapi::CoAfTapiIncomingCallParameters>(Ndis),
        case::<wan::NdisWanCoInfo>(NdisWan),
        case::<wan::NdisWanCoLinkInfo>(NdisWan),
        Case {
            mingw_name: Some("_NDIS_WAN_CO_GET_LINK_INFO"),
            ..case::<wan::NdisWanCoLinkInfo>(NdisWan)
        },
        case::<wan::WanCoLinkParams>(NdisWan),
        Case {
            expect: Expect::MingwAppends(
                "mingw-w64's ndiswan.h appends 15 Tunnel* counters that the WDK page of \
                 NDIS_WAN_CO_GET_STATS_INFO does not document; rswan answers the documented 14",
            ),
            ..case::<wan::NdisWanCoGetStatsInfo>(NdisWan)
        },
    ]
}

/// The NDIS 6 structures of the crate, which mingw-w64's NDIS 5 headers do not declare: they
/// are checked against their documented layouts only.
fn ndis6_only() -> Vec<StructLayout> {
    vec![
        buffer::NetBuffer::LAYOUT,
        buffer::NetBufferList::LAYOUT,
        buffer::NetBufferListPoolParameters::LAYOUT,
        miniport::MiniportDriverCharacteristics::LAYOUT,
        miniport::MiniportCoCharacteristics::LAYOUT,
        miniport::MiniportAdapterRegistrationAttributes::LAYOUT,
        miniport::MiniportAdapterGeneralAttributes::LAYOUT,
        callmgr::CoCallManagerOptionalHandlers::LAYOUT,
        protocol::ProtocolDriverCharacteristics::LAYOUT,
        protocol::BindParameters::LAYOUT,
        protocol::OpenParameters::LAYOUT,
        protocol::NetPnpEventNotification::LAYOUT,
        rswan_ndis::request::OidRequest::LAYOUT,
        rswan_ndis::request::StatusIndication::LAYOUT,
        rswan_ndis::timer::TimerCharacteristics::LAYOUT,
        configuration::ConfigurationObject::LAYOUT,
    ]
}

/// Compares one case on one width; returns a description of every difference.
fn differences(case: &Case, width: usize) -> Vec<String> {
    let parsed = parsed(case.unit, width);
    let name = case.mingw_name.unwrap_or(case.layout.c_name);
    let mut found = Vec::new();
    let Some(&size) = parsed.sizes.get(name) else {
        return vec![format!(
            "{name}: not declared by the mingw-w64 headers ({:?})",
            case.unit
        )];
    };
    let empty = BTreeMap::new();
    let fields = parsed.offsets.get(name).unwrap_or(&empty);
    let documented = case.layout.size.expect("cases have a fixed size")[width];
    if size != documented {
        found.push(format!(
            "{name}: size {size} in mingw-w64, {documented} documented"
        ));
    }
    let mut ours = BTreeSet::new();
    for field in case.layout.fields {
        ours.insert(field.c_name);
        match fields.get(field.c_name) {
            Some(&offset) if offset == field.offset[width] => {}
            Some(&offset) => found.push(format!(
                "{name}.{}: offset {offset} in mingw-w64, {} documented",
                field.c_name, field.offset[width]
            )),
            None => found.push(format!("{name}.{}: not in mingw-w64", field.c_name)),
        }
    }
    for field in fields.keys() {
        if !ours.contains(field.as_str()) {
            found.push(format!("{name}.{field}: only in mingw-w64"));
        }
    }
    found
}

fn check_layouts(width: usize) {
    assert_eq!(TARGETS.len(), 2);
    let mut failures = Vec::new();
    for case in cases() {
        let found = differences(&case, width);
        match case.expect {
            Expect::Same => failures.extend(found),
            Expect::MingwAppends(why) => {
                let unexpected: Vec<&String> = found
                    .iter()
                    .filter(|d| !d.contains("only in mingw-w64") && !d.contains(": size "))
                    .collect();
                assert!(unexpected.is_empty(), "{why}; but also: {unexpected:#?}");
                assert!(
                    found.iter().any(|d| d.contains("only in mingw-w64")),
                    "{}: expected mingw-w64 to declare more fields ({why}), it no longer does",
                    case.layout.c_name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "layouts differ from mingw-w64 ({}):\n{failures:#?}",
        TARGETS[width]
    );
    for layout in ndis6_only() {
        for unit in [Unit::Ndis, Unit::NdisWan] {
            assert!(
                !parsed(unit, width).sizes.contains_key(layout.c_name),
                "mingw-w64 now declares {}: add it to the compared cases",
                layout.c_name
            );
        }
    }
}

#[test]
fn layouts_match_mingw_w64_on_i686() {
    check_layouts(0);
}

#[test]
fn layouts_match_mingw_w64_on_x86_64() {
    check_layouts(1);
}

/// mingw-w64 gives the name CO_AF_TAPI_SAP to the translate-SAP structure of
/// OID_CO_TAPI_TRANSLATE_TAPI_SAP (six fields); the documented CO_AF_TAPI_SAP (previous-versions
/// page ff545376) is three ULONGs, which is what NDPROXY registers as a SAP.
#[test]
fn mingw_w64_calls_the_translate_sap_structure_co_af_tapi_sap() {
    for width in 0..2 {
        let parsed = parsed(Unit::Ndis, width);
        let compact: String = parsed.text.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            compact.contains("pubtypeCO_AF_TAPI_SAP=_CO_TAPI_TRANSLATE_SAP;"),
            "mingw-w64 no longer aliases CO_AF_TAPI_SAP to _CO_TAPI_TRANSLATE_SAP"
        );
        let translate = parsed
            .offsets
            .get("_CO_TAPI_TRANSLATE_SAP")
            .expect("translate SAP");
        assert!(translate.contains_key("NdisSapParams"));
        assert_ne!(
            parsed.sizes["_CO_TAPI_TRANSLATE_SAP"],
            tapi::CoAfTapiSap::LAYOUT.size.unwrap()[width]
        );
    }
    assert_eq!(core::mem::size_of::<tapi::CoAfTapiSap>(), 12);
}

/// ddk/ndistapi.h as shipped declares `NDIS_VAR_DATA_DESC.Offset` as `LONG` (the NDIS 5
/// documentation's type); the current SDK, windows-sys and mingw-w64's own ntddndis.h declare
/// `ULONG_PTR`, which the bindings use. On 32-bit the two agree; on 64-bit every TAPI structure
/// with such a descriptor differs.
#[test]
fn ndistapi_as_shipped_uses_a_long_offset_which_differs_only_on_64_bit() {
    let shipped_32 = parsed(Unit::NdisTapiAsShipped, 0);
    let shipped_64 = parsed(Unit::NdisTapiAsShipped, 1);
    let desc = tapi::NdisVarDataDesc::LAYOUT;
    assert_eq!(
        shipped_32.sizes["_NDIS_VAR_DATA_DESC"],
        desc.size.unwrap()[0]
    );
    assert_eq!(shipped_64.sizes["_NDIS_VAR_DATA_DESC"], 8, "LONG Offset");
    assert_eq!(desc.size.unwrap()[1], 16, "ULONG_PTR Offset");
    let make_call = tapi::CoAfTapiMakeCallParameters::LAYOUT;
    let dest = make_call
        .fields
        .iter()
        .find(|f| f.c_name == "DestAddress")
        .unwrap();
    let shipped = &shipped_64.offsets["_CO_AF_TAPI_MAKE_CALL_PARAMETERS"];
    assert_eq!(shipped["DestAddress"], 12);
    assert_eq!(dest.offset[1], 16);
    assert_eq!(shipped_64.sizes["_CO_AF_TAPI_MAKE_CALL_PARAMETERS"], 28);
    assert_eq!(make_call.size.unwrap(), [28, 48]);
    assert_eq!(
        shipped_32.offsets["_CO_AF_TAPI_MAKE_CALL_PARAMETERS"]["DestAddress"],
        dest.offset[0]
    );
}

/// One constant of the crate and its name in the mingw-w64 headers.
struct Constant {
    c_name: &'static str,
    value: i64,
    unit: Unit,
    /// A macro (checked with `#ifdef`, so a missing one is reported, not a compile error)
    /// rather than an enumerator.
    macro_name: bool,
}

const fn m(c_name: &'static str, value: i64) -> Constant {
    Constant {
        c_name,
        value,
        unit: Unit::Ndis,
        macro_name: true,
    }
}

const fn e(c_name: &'static str, value: i64) -> Constant {
    Constant {
        c_name,
        value,
        unit: Unit::Ndis,
        macro_name: false,
    }
}

const fn wan_m(c_name: &'static str, value: i64) -> Constant {
    Constant {
        c_name,
        value,
        unit: Unit::NdisWan,
        macro_name: true,
    }
}

const fn s(v: i32) -> i64 {
    v as i64
}

const fn u(v: u32) -> i64 {
    v as i64
}

static CONSTANTS: &[Constant] = &[
    m("NDIS_STATUS_SUCCESS", s(status::SUCCESS)),
    m("NDIS_STATUS_PENDING", s(status::PENDING)),
    m("NDIS_STATUS_NOT_ACCEPTED", s(status::NOT_ACCEPTED)),
    m("NDIS_STATUS_FAILURE", s(status::FAILURE)),
    m(
        "NDIS_STATUS_INVALID_PARAMETER",
        s(status::INVALID_PARAMETER),
    ),
    m("NDIS_STATUS_RESOURCES", s(status::RESOURCES)),
    m("NDIS_STATUS_NOT_SUPPORTED", s(status::NOT_SUPPORTED)),
    m("NDIS_STATUS_INVALID_STATE", s(status::INVALID_STATE)),
    m("NDIS_STATUS_CLOSING", s(status::CLOSING)),
    m("NDIS_STATUS_REQUEST_ABORTED", s(status::REQUEST_ABORTED)),
    m(
        "NDIS_STATUS_ADAPTER_NOT_READY",
        s(status::ADAPTER_NOT_READY),
    ),
    m("NDIS_STATUS_INVALID_LENGTH", s(status::INVALID_LENGTH)),
    m("NDIS_STATUS_INVALID_DATA", s(status::INVALID_DATA)),
    m("NDIS_STATUS_BUFFER_TOO_SHORT", s(status::BUFFER_TOO_SHORT)),
    m("NDIS_STATUS_INVALID_OID", s(status::INVALID_OID)),
    m(
        "NDIS_STATUS_UNSUPPORTED_MEDIA",
        s(status::UNSUPPORTED_MEDIA),
    ),
    m(
        "NDIS_STATUS_NO_ROUTE_TO_DESTINATION",
        s(status::NO_ROUTE_TO_DESTINATION),
    ),
    m("NDIS_STATUS_PAUSED", s(status::PAUSED)),
    m(
        "NDIS_STATUS_WAN_CO_FRAGMENT",
        s(wan::wan_status::WAN_CO_FRAGMENT),
    ),
    m(
        "NDIS_STATUS_WAN_CO_LINKPARAMS",
        s(wan::wan_status::WAN_CO_LINKPARAMS),
    ),
    m(
        "NDIS_STATUS_WAN_CO_MTULINKPARAMS",
        s(wan::wan_status::WAN_CO_MTULINKPARAMS),
    ),
    m("OID_GEN_SUPPORTED_LIST", u(oids::OID_GEN_SUPPORTED_LIST)),
    m("OID_GEN_HARDWARE_STATUS", u(oids::OID_GEN_HARDWARE_STATUS)),
    m("OID_GEN_MEDIA_SUPPORTED", u(oids::OID_GEN_MEDIA_SUPPORTED)),
    m("OID_GEN_MEDIA_IN_USE", u(oids::OID_GEN_MEDIA_IN_USE)),
    m(
        "OID_GEN_MAXIMUM_LOOKAHEAD",
        u(oids::OID_GEN_MAXIMUM_LOOKAHEAD),
    ),
    m(
        "OID_GEN_MAXIMUM_FRAME_SIZE",
        u(oids::OID_GEN_MAXIMUM_FRAME_SIZE),
    ),
    m("OID_GEN_LINK_SPEED", u(oids::OID_GEN_LINK_SPEED)),
    m("OID_GEN_VENDOR_ID", u(oids::OID_GEN_VENDOR_ID)),
    m(
        "OID_GEN_VENDOR_DESCRIPTION",
        u(oids::OID_GEN_VENDOR_DESCRIPTION),
    ),
    m(
        "OID_GEN_CURRENT_PACKET_FILTER",
        u(oids::OID_GEN_CURRENT_PACKET_FILTER),
    ),
    m(
        "OID_GEN_CURRENT_LOOKAHEAD",
        u(oids::OID_GEN_CURRENT_LOOKAHEAD),
    ),
    m("OID_GEN_DRIVER_VERSION", u(oids::OID_GEN_DRIVER_VERSION)),
    m(
        "OID_GEN_MAXIMUM_TOTAL_SIZE",
        u(oids::OID_GEN_MAXIMUM_TOTAL_SIZE),
    ),
    m(
        "OID_GEN_PROTOCOL_OPTIONS",
        u(oids::OID_GEN_PROTOCOL_OPTIONS),
    ),
    m("OID_GEN_MAC_OPTIONS", u(oids::OID_GEN_MAC_OPTIONS)),
    m(
        "OID_GEN_MEDIA_CONNECT_STATUS",
        u(oids::OID_GEN_MEDIA_CONNECT_STATUS),
    ),
    m(
        "OID_GEN_VENDOR_DRIVER_VERSION",
        u(oids::OID_GEN_VENDOR_DRIVER_VERSION),
    ),
    m("OID_GEN_PHYSICAL_MEDIUM", u(oids::OID_GEN_PHYSICAL_MEDIUM)),
    m("OID_GEN_XMIT_OK", u(oids::OID_GEN_XMIT_OK)),
    m("OID_GEN_RCV_OK", u(oids::OID_GEN_RCV_OK)),
    m("OID_GEN_XMIT_ERROR", u(oids::OID_GEN_XMIT_ERROR)),
    m("OID_GEN_RCV_ERROR", u(oids::OID_GEN_RCV_ERROR)),
    m("OID_GEN_RCV_NO_BUFFER", u(oids::OID_GEN_RCV_NO_BUFFER)),
    m(
        "OID_GEN_CO_MINIMUM_LINK_SPEED",
        u(oids::OID_GEN_CO_MINIMUM_LINK_SPEED),
    ),
    m("OID_GEN_CO_SUPPORTED_LIST", u(oids::OID_GEN_SUPPORTED_LIST)),
    m("OID_GEN_CO_LINK_SPEED", u(oids::OID_GEN_LINK_SPEED)),
    m(
        "OID_GEN_CO_VENDOR_DESCRIPTION",
        u(oids::OID_GEN_VENDOR_DESCRIPTION),
    ),
    m(
        "OID_WAN_PERMANENT_ADDRESS",
        u(oids::OID_WAN_PERMANENT_ADDRESS),
    ),
    m("OID_WAN_CURRENT_ADDRESS", u(oids::OID_WAN_CURRENT_ADDRESS)),
    m("OID_WAN_MEDIUM_SUBTYPE", u(oids::OID_WAN_MEDIUM_SUBTYPE)),
    m("OID_WAN_CO_GET_INFO", u(oids::OID_WAN_CO_GET_INFO)),
    m(
        "OID_WAN_CO_SET_LINK_INFO",
        u(oids::OID_WAN_CO_SET_LINK_INFO),
    ),
    m(
        "OID_WAN_CO_GET_LINK_INFO",
        u(oids::OID_WAN_CO_GET_LINK_INFO),
    ),
    m(
        "OID_WAN_CO_GET_COMP_INFO",
        u(oids::OID_WAN_CO_GET_COMP_INFO),
    ),
    m(
        "OID_WAN_CO_SET_COMP_INFO",
        u(oids::OID_WAN_CO_SET_COMP_INFO),
    ),
    m(
        "OID_WAN_CO_GET_STATS_INFO",
        u(oids::OID_WAN_CO_GET_STATS_INFO),
    ),
    m("OID_CO_TAPI_CM_CAPS", u(oids::OID_CO_TAPI_CM_CAPS)),
    m("OID_CO_TAPI_LINE_CAPS", u(oids::OID_CO_TAPI_LINE_CAPS)),
    m(
        "OID_CO_TAPI_ADDRESS_CAPS",
        u(oids::OID_CO_TAPI_ADDRESS_CAPS),
    ),
    m(
        "OID_CO_TAPI_TRANSLATE_TAPI_CALLPARAMS",
        u(oids::OID_CO_TAPI_TRANSLATE_TAPI_CALLPARAMS),
    ),
    m(
        "OID_CO_TAPI_TRANSLATE_NDIS_CALLPARAMS",
        u(oids::OID_CO_TAPI_TRANSLATE_NDIS_CALLPARAMS),
    ),
    m(
        "OID_CO_TAPI_TRANSLATE_TAPI_SAP",
        u(oids::OID_CO_TAPI_TRANSLATE_TAPI_SAP),
    ),
    m(
        "OID_CO_TAPI_GET_CALL_DIAGNOSTICS",
        u(oids::OID_CO_TAPI_GET_CALL_DIAGNOSTICS),
    ),
    m(
        "OID_CO_TAPI_REPORT_DIGITS",
        u(oids::OID_CO_TAPI_REPORT_DIGITS),
    ),
    m(
        "OID_CO_TAPI_DONT_REPORT_DIGITS",
        u(oids::OID_CO_TAPI_DONT_REPORT_DIGITS),
    ),
    m(
        "NDIS_OBJECT_TYPE_DEFAULT",
        buffer::OBJECT_TYPE_DEFAULT as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_BIND_PARAMETERS",
        protocol::object_type::BIND_PARAMETERS as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_OPEN_PARAMETERS",
        protocol::object_type::OPEN_PARAMETERS as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS",
        miniport::object_type::MINIPORT_DRIVER_CHARACTERISTICS as i64,
    ),
    // The WDK calls it NDIS_OBJECT_TYPE_MINIPORT_CO_CHARACTERISTICS.
    m(
        "NDIS_OBJECT_TYPE_CO_MINIPORT_CHARACTERISTICS",
        miniport::object_type::MINIPORT_CO_CHARACTERISTICS as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS",
        protocol::object_type::PROTOCOL_DRIVER_CHARACTERISTICS as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_OID_REQUEST",
        rswan_ndis::request::OBJECT_TYPE_OID_REQUEST as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS",
        rswan_ndis::timer::OBJECT_TYPE_TIMER_CHARACTERISTICS as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_STATUS_INDICATION",
        rswan_ndis::request::OBJECT_TYPE_STATUS_INDICATION as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES",
        miniport::object_type::MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES",
        miniport::object_type::MINIPORT_ADAPTER_GENERAL_ATTRIBUTES as i64,
    ),
    m(
        "NDIS_OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS",
        callmgr::OBJECT_TYPE_CO_CALL_MANAGER_OPTIONAL_HANDLERS as i64,
    ),
    m(
        "NDIS_PROTOCOL_ID_DEFAULT",
        buffer::PROTOCOL_ID_DEFAULT as i64,
    ),
    m(
        "NDIS_MAX_PHYS_ADDRESS_LENGTH",
        miniport::MAX_PHYS_ADDRESS_LENGTH as i64,
    ),
    m(
        "NDIS_MAC_OPTION_NO_LOOPBACK",
        u(miniport::interface::MAC_OPTION_NO_LOOPBACK),
    ),
    m(
        "NDIS_PACKET_TYPE_DIRECTED",
        u(protocol::packet_filter::DIRECTED),
    ),
    m(
        "NDIS_PACKET_TYPE_MULTICAST",
        u(protocol::packet_filter::MULTICAST),
    ),
    m(
        "NDIS_PACKET_TYPE_BROADCAST",
        u(protocol::packet_filter::BROADCAST),
    ),
    m("IF_TYPE_PPP", miniport::interface::IF_TYPE_PPP as i64),
    e(
        "NET_IF_ACCESS_POINT_TO_POINT",
        u(miniport::interface::ACCESS_POINT_TO_POINT),
    ),
    e(
        "NET_IF_DIRECTION_SENDRECEIVE",
        u(miniport::interface::DIRECTION_SENDRECEIVE),
    ),
    e(
        "NET_IF_CONNECTION_DEMAND",
        u(miniport::interface::CONNECTION_DEMAND),
    ),
    e(
        "MediaConnectStateConnected",
        u(miniport::interface::MEDIA_CONNECT_STATE_CONNECTED),
    ),
    e(
        "MediaDuplexStateFull",
        u(miniport::interface::MEDIA_DUPLEX_STATE_FULL),
    ),
    e(
        "NdisPhysicalMediumUnspecified",
        u(miniport::interface::PHYSICAL_MEDIUM_UNSPECIFIED),
    ),
    e(
        "NdisInterfaceInternal",
        u(miniport::INTERFACE_TYPE_INTERNAL),
    ),
    e("NdisMedium802_3", u(miniport::medium::IEEE_802_3)),
    e(
        "NdisParameterInteger",
        u(configuration::parameter_type::INTEGER),
    ),
    e(
        "NdisParameterHexInteger",
        u(configuration::parameter_type::HEX_INTEGER),
    ),
    e(
        "NdisParameterString",
        u(configuration::parameter_type::STRING),
    ),
    e(
        "NdisParameterMultiString",
        u(configuration::parameter_type::MULTI_STRING),
    ),
    e(
        "NdisParameterBinary",
        u(configuration::parameter_type::BINARY),
    ),
    e("NdisMediumWan", u(miniport::medium::WAN)),
    e("NdisMediumCoWan", u(miniport::medium::CO_WAN)),
    e("NdisHardwareStatusReady", u(oid::HARDWARE_STATUS_READY)),
    e("NdisMediaStateConnected", u(oid::MEDIA_STATE_CONNECTED)),
    e("NdisWanMediumSerial", u(wan::medium_subtype::SERIAL)),
    e("NdisWanMediumPppoe", u(wan::medium_subtype::PPPOE)),
    e(
        "NdisRequestQueryInformation",
        u(rswan_ndis::request::request_type::QUERY_INFORMATION),
    ),
    e(
        "NdisRequestSetInformation",
        u(rswan_ndis::request::request_type::SET_INFORMATION),
    ),
    e(
        "NdisRequestQueryStatistics",
        u(rswan_ndis::request::request_type::QUERY_STATISTICS),
    ),
    e(
        "NdisRequestMethod",
        u(rswan_ndis::request::request_type::METHOD),
    ),
    e("NetEventSetPower", u(protocol::net_event::SET_POWER)),
    e("NetEventQueryPower", u(protocol::net_event::QUERY_POWER)),
    e(
        "NetEventQueryRemoveDevice",
        u(protocol::net_event::QUERY_REMOVE_DEVICE),
    ),
    e(
        "NetEventCancelRemoveDevice",
        u(protocol::net_event::CANCEL_REMOVE_DEVICE),
    ),
    e("NetEventReconfigure", u(protocol::net_event::RECONFIGURE)),
    e("NetEventBindList", u(protocol::net_event::BIND_LIST)),
    e(
        "NetEventBindsComplete",
        u(protocol::net_event::BINDS_COMPLETE),
    ),
    e(
        "NetEventPnPCapabilities",
        u(protocol::net_event::PNP_CAPABILITIES),
    ),
    e("NetEventPause", u(protocol::net_event::PAUSE)),
    e("NetEventRestart", u(protocol::net_event::RESTART)),
    e(
        "NormalPoolPriority",
        u(rswan_ndis::memory::NORMAL_POOL_PRIORITY),
    ),
    m(
        "MDL_MAPPED_TO_SYSTEM_VA",
        buffer::mdl_flags::MAPPED_TO_SYSTEM_VA as i64,
    ),
    m(
        "MDL_SOURCE_IS_NONPAGED_POOL",
        buffer::mdl_flags::SOURCE_IS_NONPAGED_POOL as i64,
    ),
    e("DPFLTR_IHVNETWORK_ID", u(debug::COMPONENT_ID)),
    m("DPFLTR_ERROR_LEVEL", u(debug::level::ERROR)),
    m("DPFLTR_WARNING_LEVEL", u(debug::level::WARNING)),
    m("DPFLTR_TRACE_LEVEL", u(debug::level::TRACE)),
    m("DPFLTR_INFO_LEVEL", u(debug::level::INFO)),
    m("CO_ADDRESS_FAMILY_TAPI", u(callmgr::address_family::TAPI)),
    m(
        "CO_ADDRESS_FAMILY_TAPI_PROXY",
        u(callmgr::address_family::TAPI_PROXY),
    ),
    m("CO_ADDRESS_FAMILY_PROXY", u(callmgr::address_family::PROXY)),
    m("PERMANENT_VC", u(callmgr::call_flags::PERMANENT_VC)),
    m(
        "CALL_PARAMETERS_CHANGED",
        u(callmgr::call_flags::CALL_PARAMETERS_CHANGED),
    ),
    m(
        "QUERY_CALL_PARAMETERS",
        u(callmgr::call_flags::QUERY_CALL_PARAMETERS),
    ),
    m("BROADCAST_VC", u(callmgr::call_flags::BROADCAST_VC)),
    m("MULTIPOINT_VC", u(callmgr::call_flags::MULTIPOINT_VC)),
    m("TRANSMIT_VC", u(callmgr::media_flags::TRANSMIT_VC)),
    m("RECEIVE_VC", u(callmgr::media_flags::RECEIVE_VC)),
    m("CO_TAPI_VERSION", u(tapi::CO_TAPI_VERSION)),
    m("CO_TAPI_FLAG_OUTGOING_CALL", u(tapi::flags::OUTGOING_CALL)),
    m("CO_TAPI_FLAG_INCOMING_CALL", u(tapi::flags::INCOMING_CALL)),
    m(
        "CO_TAPI_FLAG_USE_DEFAULT_CALLPARAMS",
        u(tapi::flags::USE_DEFAULT_CALLPARAMS),
    ),
    m("CO_TAPI_FLAG_PER_LINE_CAPS", u(tapi::flags::PER_LINE_CAPS)),
    m(
        "CO_TAPI_FLAG_PER_ADDRESS_CAPS",
        u(tapi::flags::PER_ADDRESS_CAPS),
    ),
    m("AF_TAPI_SAP_TYPE", u(tapi::AF_TAPI_SAP_TYPE)),
    m("CO_TAPI_LINE_ID_UNSPECIFIED", u(tapi::ID_UNSPECIFIED)),
    m("CO_TAPI_ADDRESS_ID_UNSPECIFIED", u(tapi::ID_UNSPECIFIED)),
    m("STRINGFORMAT_ASCII", u(tapi::string_format::ASCII)),
    m("STRINGFORMAT_DBCS", u(tapi::string_format::DBCS)),
    m("STRINGFORMAT_UNICODE", u(tapi::string_format::UNICODE)),
    m("STRINGFORMAT_BINARY", u(tapi::string_format::BINARY)),
    m(
        "LINEADDRESSMODE_ADDRESSID",
        u(tapi::line::ADDRESSMODE_ADDRESSID),
    ),
    m("LINEBEARERMODE_DATA", u(tapi::line::BEARERMODE_DATA)),
    m(
        "LINEMEDIAMODE_DIGITALDATA",
        u(tapi::line::MEDIAMODE_DIGITALDATA),
    ),
    m("LINEANSWERMODE_NONE", u(tapi::line::ANSWERMODE_NONE)),
    m(
        "LINEDEVCAPFLAGS_CLOSEDROP",
        u(tapi::line::DEVCAPFLAGS_CLOSEDROP),
    ),
    m(
        "LINEADDRESSSHARING_PRIVATE",
        u(tapi::line::ADDRESSSHARING_PRIVATE),
    ),
    m(
        "LINEADDRCAPFLAGS_DIALED",
        u(tapi::line::ADDRCAPFLAGS_DIALED),
    ),
    m("LINECALLFEATURE_ANSWER", u(tapi::line::CALLFEATURE_ANSWER)),
    m("LINECALLFEATURE_DROP", u(tapi::line::CALLFEATURE_DROP)),
    m("LINECALLSTATE_IDLE", u(tapi::line::CALLSTATE_IDLE)),
    m("LINECALLSTATE_OFFERING", u(tapi::line::CALLSTATE_OFFERING)),
    m("LINECALLSTATE_DIALING", u(tapi::line::CALLSTATE_DIALING)),
    m(
        "LINECALLSTATE_CONNECTED",
        u(tapi::line::CALLSTATE_CONNECTED),
    ),
    m(
        "LINECALLSTATE_PROCEEDING",
        u(tapi::line::CALLSTATE_PROCEEDING),
    ),
    m(
        "LINECALLSTATE_DISCONNECTED",
        u(tapi::line::CALLSTATE_DISCONNECTED),
    ),
    m(
        "LINEDISCONNECTMODE_NORMAL",
        u(tapi::line::DISCONNECTMODE_NORMAL),
    ),
    m(
        "LINEDISCONNECTMODE_UNKNOWN",
        u(tapi::line::DISCONNECTMODE_UNKNOWN),
    ),
    m(
        "LINEDISCONNECTMODE_BUSY",
        u(tapi::line::DISCONNECTMODE_BUSY),
    ),
    m(
        "LINEDISCONNECTMODE_NOANSWER",
        u(tapi::line::DISCONNECTMODE_NOANSWER),
    ),
    m(
        "LINEDISCONNECTMODE_UNREACHABLE",
        u(tapi::line::DISCONNECTMODE_UNREACHABLE),
    ),
    m(
        "LINECALLORIGIN_OUTBOUND",
        u(tapi::line::CALLORIGIN_OUTBOUND),
    ),
    m("LINECALLORIGIN_INBOUND", u(tapi::line::CALLORIGIN_INBOUND)),
    m("LINECALLREASON_DIRECT", u(tapi::line::CALLREASON_DIRECT)),
    wan_m("PPP_FRAMING", u(wan::framing::PPP_FRAMING)),
    wan_m(
        "PPP_MULTILINK_FRAMING",
        u(wan::framing::PPP_MULTILINK_FRAMING),
    ),
    wan_m(
        "PPP_COMPRESS_ADDRESS_CONTROL",
        u(wan::framing::PPP_COMPRESS_ADDRESS_CONTROL),
    ),
    wan_m(
        "PPP_COMPRESS_PROTOCOL_FIELD",
        u(wan::framing::PPP_COMPRESS_PROTOCOL_FIELD),
    ),
    wan_m("PPP_ACCM_SUPPORTED", u(wan::framing::PPP_ACCM_SUPPORTED)),
    wan_m("PASS_THROUGH_MODE", u(wan::framing::PASS_THROUGH_MODE)),
    wan_m("TAPI_PROVIDER", u(wan::framing::TAPI_PROVIDER)),
];

#[test]
fn constants_match_mingw_w64() {
    let mut failures = Vec::new();
    for (width, target) in TARGETS.iter().enumerate() {
        for constant in CONSTANTS {
            let parsed = parsed(constant.unit, width);
            match parsed.constants.get(constant.c_name) {
                Some(&value) if value as u32 == constant.value as u32 => {}
                Some(&value) => failures.push(format!(
                    "{}: {value:#x} in mingw-w64 ({target}), {:#x} in rswan-ndis",
                    constant.c_name, constant.value
                )),
                None => failures.push(format!("{}: not defined by mingw-w64", constant.c_name)),
            }
        }
    }
    assert!(failures.is_empty(), "constants differ:\n{failures:#?}");
}
