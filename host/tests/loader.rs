//! The loader on tiny images assembled here (rswan_host::testpe) and on the real rswan.sys:
//! relocations, import binding, refused images, and crashes turned into readable failures.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};
use rswan_host::report::Ending;
use rswan_host::symbols::Symbols;
use rswan_host::testpe::{Function, Target, TestImage};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loader");
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir.join(name)
}

fn run(scenario: &str, image: &Path, args: &[&str]) -> Outcome {
    child::run(Path::new(RUNNER), scenario, image, args)
}

/// mov eax, [rcx]; ret
const READ_THROUGH: &[u8] = &[0x8B, 0x01, 0xC3];
/// mov eax, 42; ret
const ANSWER: &[u8] = &[0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3];
/// jmp qword ptr [rip + slot]
const JUMP_THROUGH_SLOT: &[u8] = &[0xFF, 0x25, 0, 0, 0, 0];
/// sub rsp, 40; mov ecx, 0x1234; mov edx, 5; mov r8d, 6; mov r9d, 7; call [rip + import]; int3
const BUGCHECK_VIA_IMPORT: &[u8] = &[
    0x48, 0x83, 0xEC, 0x28, 0xB9, 0x34, 0x12, 0x00, 0x00, 0xBA, 0x05, 0x00, 0x00, 0x00, 0x41, 0xB8,
    0x06, 0x00, 0x00, 0x00, 0x41, 0xB9, 0x07, 0x00, 0x00, 0x00, 0xFF, 0x15, 0, 0, 0, 0, 0xCC,
];

fn sample_image() -> TestImage {
    TestImage {
        functions: vec![
            Function::new("read_through", READ_THROUGH),
            Function::new("answer", ANSWER),
            Function::new("call_through_slot", JUMP_THROUGH_SLOT).fixup(2, Target::DataSlot(0)),
            Function::new("bugcheck_via_import", BUGCHECK_VIA_IMPORT)
                .fixup(28, Target::ImportSlot(0)),
        ],
        imports: vec![("ntoskrnl.exe".into(), "KeBugCheckEx".into())],
        data_slots: vec![1],
        zeroed: 0,
        writable_code: false,
    }
}

fn write(image: &TestImage, name: &str) -> PathBuf {
    let path = scratch(name);
    image.write(&path).expect("writing a test image");
    path
}

#[test]
fn relocations_are_applied_for_the_base_the_image_landed_at() {
    let path = write(&sample_image(), "reloc.sys");
    let outcome = run("call-export", &path, &["call_through_slot"]);
    outcome.expect_ok();
    // The slot held the preferred-base address of `answer`; only a relocated slot reaches it.
    assert_eq!(outcome.observation("return"), "0x2a");
    let base = outcome
        .report
        .image_base
        .expect("the child reports its base");
    assert_ne!(
        base, 0x1_4000_0000,
        "the test needs a load away from the preferred base"
    );
}

#[test]
fn imports_are_bound_and_a_bug_check_names_code_parameters_and_caller() {
    let path = write(&sample_image(), "bugcheck.sys");
    let outcome = run("call-export", &path, &["bugcheck_via_import"]);
    let Ending::BugCheck(fields) = &outcome.report.ending else {
        panic!("expected a bug check, got: {}", outcome.describe());
    };
    assert_eq!(fields["code"], "0x1234");
    assert_eq!(fields["p1"], "0x5");
    assert_eq!(fields["p2"], "0x6");
    assert_eq!(fields["p3"], "0x7");
    let text = outcome.describe();
    // The thunk recorded the return address: just past the call, 0x20 into the function.
    assert!(
        text.contains("(bugcheck_via_import+0x20)"),
        "the caller is not symbolized: {text}"
    );
}

#[test]
fn an_unimplemented_import_fails_the_load_naming_it() {
    let mut image = sample_image();
    image.imports = vec![
        ("NDIS.SYS".into(), "NdisMRegisterMiniportDriver".into()),
        ("NDIS.SYS".into(), "NdisFrobnicateAdapter".into()),
        ("ntoskrnl.exe".into(), "KeBugCheckEx".into()),
    ];
    image.functions[3] =
        Function::new("bugcheck_via_import", BUGCHECK_VIA_IMPORT).fixup(28, Target::ImportSlot(2));
    let path = write(&image, "unimplemented.sys");
    let outcome = run("load", &path, &[]);
    let Ending::LoadError(message) = &outcome.report.ending else {
        panic!("expected a load error, got: {}", outcome.describe());
    };
    assert!(
        message.contains("NDIS.SYS!NdisFrobnicateAdapter"),
        "{message}"
    );
    assert!(
        !message.contains("NdisMRegisterMiniportDriver"),
        "{message}"
    );
    assert!(!message.contains("KeBugCheckEx"), "{message}");
}

#[test]
fn an_image_with_writable_code_is_refused() {
    let mut image = sample_image();
    image.writable_code = true;
    let path = write(&image, "wx.sys");
    let outcome = run("load", &path, &[]);
    let Ending::LoadError(message) = &outcome.report.ending else {
        panic!("expected a load error, got: {}", outcome.describe());
    };
    assert!(message.contains("writable and executable"), "{message}");
}

#[test]
fn a_crash_in_the_image_names_offset_symbol_and_registers() {
    let path = write(&sample_image(), "crash.sys");
    let outcome = run("call-export", &path, &["read_through", "0x10"]);
    let Ending::Fault(fields) = &outcome.report.ending else {
        panic!("expected a fault, got: {}", outcome.describe());
    };
    assert_eq!(fields["signal"], "11");
    assert_eq!(fields["addr"], "0x10");
    assert_eq!(fields["rcx"], "0x10");
    assert!(fields["bytes"].starts_with("8b01c3"), "{fields:?}");
    let text = outcome.describe();
    assert!(text.contains("SIGSEGV"), "{text}");
    assert!(
        text.contains("crash.sys+0x1000 (read_through+0x0)"),
        "{text}"
    );
    assert!(text.contains("fault address 0x10"), "{text}");
    assert!(text.contains("rcx=0x10"), "{text}");
}

/// The real image: the loader maps it and binds every import it has today.
fn real_image() -> PathBuf {
    rswan_host::image::x64().unwrap_or_else(|e| panic!("no x64 driver image: {e}"))
}

#[test]
fn the_real_image_loads_with_every_import_bound() {
    let image = real_image();
    let outcome = run("load", &image, &[]);
    outcome.expect_ok();
    let imports: Vec<&str> = outcome
        .report
        .observations
        .iter()
        .filter(|(k, _)| k == "import")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        imports.contains(&"NDIS.SYS!NdisMRegisterMiniportDriver"),
        "{imports:?}"
    );
}

#[test]
fn a_doctored_import_in_the_real_image_fails_the_load_naming_it() {
    let image = real_image();
    let mut bytes = std::fs::read(&image).expect("reading the image");
    let name = b"NdisMRegisterMiniportDriver";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("the image imports NdisMRegisterMiniportDriver");
    bytes[at + 4] = b'X';
    let path = scratch("doctored.sys");
    std::fs::write(&path, &bytes).expect("writing the doctored image");
    let outcome = run("load", &path, &[]);
    let Ending::LoadError(message) = &outcome.report.ending else {
        panic!("expected a load error, got: {}", outcome.describe());
    };
    assert!(
        message.contains("NDIS.SYS!NdisXRegisterMiniportDriver"),
        "{message}"
    );
}

#[test]
fn a_crash_in_the_real_image_is_symbolized_from_its_pdb() {
    let image = real_image();
    let symbols = Symbols::for_image(&image);
    let Some(chkstk) = symbols.rva_of("__chkstk") else {
        panic!(
            "no __chkstk in the symbols of {} (is its .pdb beside it?)",
            image.display()
        );
    };
    // __chkstk probes every page of a 1 GiB frame from the top: it runs off the stack.
    let outcome = run(
        "call-rva-with-rax",
        &image,
        &[&format!("{chkstk:#x}"), "0x40000000"],
    );
    let Ending::Fault(_) = &outcome.report.ending else {
        panic!("expected a fault, got: {}", outcome.describe());
    };
    let text = outcome.describe();
    assert!(text.contains("(__chkstk+0x"), "{text}");
    assert!(text.contains("rax="), "{text}");
}
