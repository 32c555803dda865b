//! The image checks on the three real release images, cross-checked with independent readers
//! (llvm-readobj, llvm-pdbutil, Python's pefile), and on doctored copies that must fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::x86_code::find_float_instructions;
use super::*;
use crate::driver_build::{self, Toolchain};
use crate::tools::{self, Tool};

const LLVM_PDBUTIL: Tool = Tool {
    command: "llvm-pdbutil",
    debian_package: "llvm",
    purpose: "reading the driver's PDB independently in the image check tests",
};

fn allowlist() -> PathBuf {
    crate::repo_root().join("driver/imports.allowlist")
}

/// Where the tests build and doctor images: their own target dir, so they never wait on or
/// disturb another build.
fn test_dir() -> PathBuf {
    crate::repo_root().join("target/xtask-test-images")
}

/// The release image of `arch`, built once per test run (cargo makes this a no-op when the
/// images are current), so a test never skips for want of an image.
fn image(arch: Arch) -> PathBuf {
    static BUILT: OnceLock<Result<Vec<(Arch, PathBuf)>, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let root = crate::repo_root();
        let toolchain = Toolchain::select(&root).map_err(|e| e.to_string())?;
        let (images, _) = driver_build::build(&toolchain, &root, &test_dir(), &Arch::ALL)
            .map_err(|e| format!("building the driver images for the tests: {e}"))?;
        Ok(images.into_iter().map(|b| (b.arch, b.image)).collect())
    });
    match built {
        Ok(images) => images
            .iter()
            .find(|(a, _)| *a == arch)
            .map(|(_, path)| path.clone())
            .expect("the build returns every arch asked for"),
        Err(e) => panic!("{e}"),
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hex(s: &str) -> u64 {
    let s = s.trim();
    u64::from_str_radix(s.trim_start_matches("0x").trim_start_matches("0X"), 16)
        .unwrap_or_else(|e| panic!("`{s}` is not hex: {e}"))
}

/// What llvm-readobj says about an image.
#[derive(Debug, Default)]
struct Readobj {
    machine: u64,
    subsystem: u64,
    entry: u64,
    dll_characteristics: u64,
    imports: BTreeSet<(String, String)>,
    /// (VirtualAddress, Characteristics) per section, in order.
    sections: Vec<(u64, u64)>,
}

fn readobj(image: &Path) -> Readobj {
    let readobj = tools::require(tools::LLVM_READOBJ).unwrap_or_else(|e| panic!("{e}"));
    let text = run(Command::new(readobj)
        .args(["--file-headers", "--coff-imports", "--sections"])
        .arg(image));
    let mut r = Readobj::default();
    let mut dll = String::new();
    let mut in_import = false;
    let mut in_optional_characteristics = false;
    // The value inside the last parentheses of `Key: NAME (0x1)` or `Key [ (0x60000020)`.
    let paren = |line: &str| hex(line.rsplit('(').next().unwrap_or("").trim_end_matches(')'));
    for line in text.lines().map(str::trim) {
        let field = |key: &str| line.strip_prefix(key).map(str::trim);
        if line.starts_with("Import {") {
            in_import = true;
        } else if line.starts_with("Section {") {
            in_import = false;
        } else if let Some(v) = field("Machine:") {
            r.machine = paren(v);
        } else if let Some(v) = field("Subsystem:") {
            r.subsystem = paren(v);
            in_optional_characteristics = true;
        } else if let Some(v) = field("AddressOfEntryPoint:") {
            r.entry = hex(v);
        } else if line.starts_with("Characteristics [") && in_optional_characteristics {
            // The first Characteristics after Subsystem is DllCharacteristics.
            r.dll_characteristics = paren(line);
            in_optional_characteristics = false;
        } else if let Some(v) = field("VirtualAddress:") {
            r.sections.push((hex(v), 0));
        } else if line.starts_with("Characteristics [") && !r.sections.is_empty() {
            if let Some(last) = r.sections.last_mut() {
                last.1 = paren(line);
            }
        } else if let Some(v) = field("Name:").filter(|_| in_import) {
            dll = v.to_string();
        } else if let Some(v) = field("Symbol:").filter(|_| in_import) {
            let name = v.split_whitespace().next().unwrap_or_default();
            r.imports.insert((dll.clone(), name.to_string()));
        }
    }
    r
}

/// DriverEntry's RVA according to llvm-pdbutil (section:offset, offset in decimal) and the
/// section addresses llvm-readobj reports.
fn pdbutil_driver_entry(arch: Arch, pdb: &Path, sections: &[(u64, u64)]) -> u64 {
    let pdbutil = tools::require(LLVM_PDBUTIL).unwrap_or_else(|e| panic!("{e}"));
    let text = run(Command::new(pdbutil).args(["dump", "--publics"]).arg(pdb));
    let wanted = match arch {
        Arch::X86 => "`_DriverEntry@8`",
        _ => "`DriverEntry`",
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end().ends_with(wanted) {
            let addr = lines
                .next()
                .expect("a public symbol line is followed by its address");
            let addr = addr
                .rsplit("addr = ")
                .next()
                .expect("addr = SSSS:OOOO")
                .trim();
            let (section, offset) = addr.split_once(':').expect("SSSS:OOOO");
            let section: usize = section.parse().expect("section number");
            let offset: u64 = offset.parse().expect("decimal offset");
            return sections[section - 1].0 + offset;
        }
    }
    panic!("llvm-pdbutil lists no {wanted} in {}", pdb.display());
}

#[test]
fn real_images_pass_every_check() {
    for arch in Arch::ALL {
        let path = image(arch);
        let report = check_image(&path, arch, &allowlist()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.arch, arch);
        assert_eq!(report.file_size, std::fs::metadata(&path).unwrap().len());
        assert!(report.size_of_image >= report.file_size as u32 / 2);
        assert!(
            report.imported_functions() >= 2,
            "{arch}: {:?}",
            report.imports
        );
        assert!(report.imports.contains(&Import {
            dll: "NDIS.SYS".into(),
            function: "NdisMRegisterMiniportDriver".into(),
        }));
        let facts = ImageFacts::read(&std::fs::read(&path).unwrap()).unwrap();
        assert!(
            !facts.debug_data.is_empty(),
            "{arch}: the debug data (left out of the pointer scan) is found"
        );
        let line = report.to_string();
        assert!(
            line.starts_with(&format!("{arch}: {} bytes", report.file_size))
                && line.contains(", imports NDIS.SYS!")
                && line.contains("NDIS.SYS!NdisMDeregisterMiniportDriver, "),
            "{line}"
        );
        match arch {
            Arch::Arm64 => assert_eq!(report.instructions_decoded, 0),
            _ => assert!(report.instructions_decoded > 10, "{arch}: nothing decoded"),
        }
    }
}

#[test]
fn llvm_readobj_and_pdbutil_agree_with_the_report() {
    for arch in Arch::ALL {
        let path = image(arch);
        let report = check_image(&path, arch, &allowlist()).unwrap_or_else(|e| panic!("{e}"));
        let r = readobj(&path);
        assert_eq!(r.machine, u64::from(arch.pe_machine()), "{arch}: Machine");
        assert_eq!(r.subsystem, 1, "{arch}: Subsystem NATIVE");
        assert_eq!(r.entry, u64::from(report.entry_rva), "{arch}: entry point");
        assert_eq!(
            r.entry,
            pdbutil_driver_entry(arch, &path.with_extension("pdb"), &r.sections),
            "{arch}: the entry point is DriverEntry according to llvm-pdbutil"
        );
        let dynamic_base_nx = u64::from(
            pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE.0 | pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT.0,
        );
        assert_eq!(
            r.dll_characteristics & dynamic_base_nx,
            dynamic_base_nx,
            "{arch}"
        );
        let ours: BTreeSet<(String, String)> = report
            .imports
            .iter()
            .map(|i| (i.dll.clone(), i.function.clone()))
            .collect();
        assert_eq!(r.imports, ours, "{arch}: imports");
        let wx = u64::from(pe::IMAGE_SCN_MEM_WRITE.0 | pe::IMAGE_SCN_MEM_EXECUTE.0);
        assert!(!r.sections.is_empty());
        for (va, flags) in &r.sections {
            assert_ne!(flags & wx, wx, "{arch}: section at {va:#x} is W+X");
        }
    }
}

#[test]
fn pefile_agrees_on_checksum_and_headers() {
    tools::apt_install(&["python3-pefile"]).unwrap_or_else(|e| panic!("{e}"));
    let script = r#"
import sys, pefile
pe = pefile.PE(sys.argv[1])
print(pe.OPTIONAL_HEADER.CheckSum, pe.generate_checksum(), pe.FILE_HEADER.Machine,
      pe.OPTIONAL_HEADER.Subsystem, pe.OPTIONAL_HEADER.AddressOfEntryPoint,
      sum(len(e.imports) for e in getattr(pe, 'DIRECTORY_ENTRY_IMPORT', [])))
"#;
    for arch in Arch::ALL {
        let path = image(arch);
        let report = check_image(&path, arch, &allowlist()).unwrap_or_else(|e| panic!("{e}"));
        let out = run(Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(script)
            .arg(&path));
        let fields: Vec<u64> = out
            .split_whitespace()
            .map(|f| f.parse().expect("pefile prints numbers"))
            .collect();
        let [stored, generated, machine, subsystem, entry, imports] = fields[..] else {
            panic!("unexpected pefile output `{out}`");
        };
        assert_eq!(
            stored, generated,
            "{arch}: pefile finds the stored checksum valid"
        );
        assert_eq!(stored, u64::from(report.checksum), "{arch}");
        let data = std::fs::read(&path).unwrap();
        let facts = ImageFacts::read(&data).unwrap();
        assert_eq!(
            u64::from(pe_checksum(&data, facts.checksum_offset)),
            generated,
            "{arch}: our checksum algorithm and pefile's agree"
        );
        assert_eq!(machine, u64::from(arch.pe_machine()));
        assert_eq!(subsystem, 1);
        assert_eq!(entry, u64::from(report.entry_rva));
        assert_eq!(imports, report.imported_functions() as u64);
    }
}

/// Offsets into a PE image's headers, for doctoring copies.
struct Layout {
    file_header: usize,
    optional_header: usize,
    data_directories: usize,
    sections: usize,
    section_count: usize,
}

fn layout(data: &[u8]) -> Layout {
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([data[o], data[o + 1]]));
    let pe = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
    let file_header = pe + 4;
    let optional_header = file_header + 20;
    let magic = u16_at(optional_header);
    Layout {
        file_header,
        optional_header,
        data_directories: optional_header + if magic == 0x20b { 112 } else { 96 },
        sections: optional_header + u16_at(file_header + 16),
        section_count: u16_at(file_header + 2),
    }
}

fn put_u16(data: &mut [u8], at: usize, v: u16) {
    data[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(data: &mut [u8], at: usize, v: u32) {
    data[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn get_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().unwrap())
}

/// Copies the image of `arch` and its PDB to a folder of its own, applies `edit`, and (if
/// `fix_checksum`) rewrites a valid checksum so that only the edited property is wrong.
fn doctored(
    arch: Arch,
    name: &str,
    fix_checksum: bool,
    edit: impl FnOnce(&mut Vec<u8>),
) -> PathBuf {
    let original = image(arch);
    let dir = test_dir().join("doctored").join(arch.name()).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("rswan.sys");
    std::fs::copy(original.with_extension("pdb"), dir.join("rswan.pdb")).unwrap();
    let mut data = std::fs::read(&original).unwrap();
    edit(&mut data);
    if fix_checksum {
        let at = layout(&data).optional_header + 64;
        let sum = pe_checksum(&data, at);
        put_u32(&mut data, at, sum);
    }
    std::fs::write(&copy, &data).unwrap();
    copy
}

fn problems(path: &Path, arch: Arch) -> Vec<String> {
    match check_image(path, arch, &allowlist()) {
        Ok(report) => panic!("{} passed the checks: {report:?}", path.display()),
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.contains(&path.display().to_string()), "{shown}");
            e.problems
        }
    }
}

fn assert_one_problem(problems: &[String], expected: &str) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(expected),
        "expected `{expected}` in {problems:#?}"
    );
}

#[test]
fn writable_executable_section_fails() {
    let path = doctored(Arch::X64, "wx", true, |data| {
        let l = layout(data);
        let text = (0..l.section_count)
            .map(|i| l.sections + i * 40)
            .find(|&s| &data[s..s + 5] == b".text")
            .expect("a .text section");
        let flags = get_u32(data, text + 36) | pe::IMAGE_SCN_MEM_WRITE.0;
        put_u32(data, text + 36, flags);
    });
    assert_one_problem(
        &problems(&path, Arch::X64),
        "section .text is both writable and executable (characteristics 0xe0000020)",
    );
}

#[test]
fn zeroed_checksum_fails() {
    let path = doctored(Arch::Arm64, "checksum", false, |data| {
        let at = layout(data).optional_header + 64;
        put_u32(data, at, 0);
    });
    assert_one_problem(
        &problems(&path, Arch::Arm64),
        "PE checksum is 0x00000000 but the file sums to 0x",
    );
}

#[test]
fn wrong_machine_fails() {
    let path = doctored(Arch::X64, "machine", true, |data| {
        let at = layout(data).file_header;
        put_u16(data, at, pe::IMAGE_FILE_MACHINE_ARM64.0);
    });
    assert_one_problem(
        &problems(&path, Arch::X64),
        "Machine is 0xaa64 (ARM64) but a x64 image must be 0x8664 (AMD64)",
    );
    // The right image checked as the wrong arch fails the same way, with nothing else.
    assert_one_problem(
        &problems(&image(Arch::X86), Arch::X64),
        "Machine is 0x014c (I386) but a x64 image must be 0x8664 (AMD64)",
    );
}

#[test]
fn wrong_subsystem_fails() {
    let path = doctored(Arch::X86, "subsystem", true, |data| {
        let at = layout(data).optional_header + 68;
        put_u16(data, at, pe::IMAGE_SUBSYSTEM_WINDOWS_GUI.0);
    });
    assert_one_problem(
        &problems(&path, Arch::X86),
        "Subsystem is 2 but a kernel-mode driver must be NATIVE (1)",
    );
}

#[test]
fn entry_point_other_than_driver_entry_fails() {
    let entry = check_image(&image(Arch::X64), Arch::X64, &allowlist())
        .unwrap()
        .entry_rva;
    let path = doctored(Arch::X64, "entry", true, |data| {
        let at = layout(data).optional_header + 16;
        put_u32(data, at, entry + 1);
    });
    assert_one_problem(
        &problems(&path, Arch::X64),
        &format!(
            "the entry point RVA {:#x} is no public symbol, not DriverEntry (RVA {entry:#x})",
            entry + 1
        ),
    );
}

#[test]
fn missing_or_foreign_pdb_fails() {
    let path = doctored(Arch::Arm64, "no-pdb", false, |_| {});
    std::fs::remove_file(path.with_extension("pdb")).unwrap();
    assert_one_problem(&problems(&path, Arch::Arm64), "rswan.pdb: ");
    let path = doctored(Arch::Arm64, "foreign-pdb", false, |_| {});
    std::fs::copy(
        image(Arch::X64).with_extension("pdb"),
        path.with_extension("pdb"),
    )
    .unwrap();
    let problems = problems(&path, Arch::Arm64);
    assert_one_problem(&problems, "belongs to another build");
    // Both GUIDs are shown, in the form llvm-pdbutil and debuggers print.
    let guids = problems[0].matches("GUID ").count();
    assert_eq!(guids, 2, "{problems:#?}");
}

#[test]
fn unrelocatable_flags_fail() {
    let path = doctored(Arch::Arm64, "flags", true, |data| {
        let l = layout(data);
        let characteristics =
            u16::from_le_bytes([data[l.file_header + 18], data[l.file_header + 19]]);
        put_u16(
            data,
            l.file_header + 18,
            characteristics | pe::IMAGE_FILE_RELOCS_STRIPPED.0,
        );
        put_u16(data, l.optional_header + 70, 0);
    });
    let problems = problems(&path, Arch::Arm64);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("IMAGE_FILE_RELOCS_STRIPPED is set"));
    assert!(problems[1].contains("lacks DYNAMIC_BASE: link with /DYNAMICBASE"));
    assert!(problems[2].contains("lacks NX_COMPAT: link with /NXCOMPAT"));
}

#[test]
fn absolute_addresses_without_relocations_fail() {
    let report = check_image(&image(Arch::X86), Arch::X86, &allowlist()).unwrap();
    assert!(
        report.base_relocations > 0,
        "the x86 image addresses data absolutely, so it has base relocations"
    );
    let path = doctored(Arch::X86, "no-reloc", true, |data| {
        let at = layout(data).data_directories + 5 * 8;
        put_u32(data, at, 0);
        put_u32(data, at + 4, 0);
    });
    let problems = problems(&path, Arch::X86);
    assert_one_problem(
        &problems,
        "absolute address(es) inside the image have no base relocation",
    );
    // On x86 only code operands are scanned (32-bit data is too often text that looks like an
    // address), so every address listed is one of the code's relocations.
    let listed: Vec<&str> = problems[0]
        .lines()
        .filter(|l| l.contains("(RVA 0x"))
        .collect();
    assert!(
        !listed.is_empty() && listed.len() <= report.base_relocations,
        "{problems:#?}"
    );
    assert!(
        listed.iter().all(|l| l.starts_with(".text+")),
        "{problems:#?}"
    );
}

#[test]
fn sse_in_the_x86_image_fails_with_its_offset() {
    let entry = check_image(&image(Arch::X86), Arch::X86, &allowlist())
        .unwrap()
        .entry_rva;
    // movaps xmm0, xmm1 over the first bytes of DriverEntry.
    let path = doctored(Arch::X86, "sse", true, |data| {
        let l = layout(data);
        let text = l.sections;
        let rva = get_u32(data, text + 12);
        let raw = get_u32(data, text + 20);
        let at = (raw + entry - rva) as usize;
        data[at..at + 3].copy_from_slice(&[0x0f, 0x28, 0xc1]);
    });
    let problems = problems(&path, Arch::X86);
    let float = problems
        .iter()
        .find(|p| p.contains("x87/MMX/SSE/AVX instruction(s) in the x86 image"))
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(
        float.contains(&format!("(RVA {entry:#x}): movaps xmm0,xmm1")),
        "{float}"
    );
}

#[test]
fn float_scan_finds_x87_mmx_sse_avx_and_passes_integer_code() {
    let code: &[u8] = &[
        0x89, 0xd8, // mov eax, ebx
        0x0f, 0x28, 0xc1, // movaps xmm0, xmm1
        0x01, 0xc8, // add eax, ecx
        0xd9, 0x45, 0x08, // fld dword [ebp+8]
        0x0f, 0x77, // emms
        0x0f, 0xef, 0xc0, // pxor mm0, mm0
        0x0f, 0xae, 0x55, 0xfc, // ldmxcsr [ebp-4]
        0xc5, 0xf4, 0x58, 0xc2, // vaddps ymm0, ymm1, ymm2
        0xc3, // ret
    ];
    let found = find_float_instructions(code, 0x1000);
    let found: Vec<(u32, &str)> = found.iter().map(|f| (f.rva, f.text.as_str())).collect();
    assert_eq!(
        found,
        [
            (0x1002, "movaps xmm0,xmm1"),
            (0x1007, "fld st,dword ptr [ebp+8]"),
            (0x100a, "emms"),
            (0x100c, "pxor mm0,mm0"),
            (0x100f, "ldmxcsr [ebp-4]"),
            (0x1013, "vaddps ymm0,ymm1,ymm2"),
        ]
    );
    let integer_only: &[u8] = &[
        0x55, 0x89, 0xe5, 0x8b, 0x45, 0x08, 0x0f, 0xaf, 0xc1, 0x5d, 0xc2, 0x08, 0x00,
    ];
    assert_eq!(find_float_instructions(integer_only, 0), []);
}

fn imports(list: &[(&str, &str)]) -> Vec<Import> {
    list.iter()
        .map(|(dll, function)| Import {
            dll: dll.to_string(),
            function: function.to_string(),
        })
        .collect()
}

#[test]
fn allowlist_names_the_line_to_add_or_change() {
    let text = "\
# comment
NDIS.SYS!NdisMRegisterMiniportDriver  x64,arm64,x86  # ddi/ndis/nf-ndis-ndismregisterminiportdriver
ntoskrnl.exe!KeBugCheckEx  x64  # ddi/wdm/nf-wdm-kebugcheckex
";
    let list = Allowlist::parse(text, Path::new("driver/imports.allowlist")).unwrap();
    let ok = imports(&[
        ("NDIS.SYS", "NdisMRegisterMiniportDriver"),
        ("ntoskrnl.exe", "KeBugCheckEx"),
    ]);
    assert_eq!(list.check(Arch::X64, &ok), Vec::<String>::new());

    let problems = list.check(
        Arch::X86,
        &imports(&[("ndis.sys", "NdisAllocateMemoryWithTagPriority")]),
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains(
        "the x86 image imports NDIS.SYS!NdisAllocateMemoryWithTagPriority but \
         driver/imports.allowlist does not list it"
    ));
    assert!(problems[0].contains(
        "add the line\n    NDIS.SYS!NdisAllocateMemoryWithTagPriority  x86  # \
         ddi/ndis/nf-ndis-ndisallocatememorywithtagpriority\n"
    ));

    let problems = list.check(Arch::X86, &ok);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains(
        "driver/imports.allowlist:3 allows it only for x64. Check that ddi/wdm/nf-wdm-kebugcheckex \
         documents it for x86, then change that line to\n    \
         ntoskrnl.exe!KeBugCheckEx  x64,x86  # ddi/wdm/nf-wdm-kebugcheckex"
    ));

    // Names are case-sensitive, as the kernel's export lookup is.
    assert_eq!(
        list.check(
            Arch::X64,
            &imports(&[("NDIS.SYS", "ndismregisterminiportdriver")])
        )
        .len(),
        1
    );
}

#[test]
fn malformed_allowlist_lines_name_their_line() {
    let text = "\
NDIS.SYS!NdisMRegisterMiniportDriver  x64
NDIS.SYS!NdisMRegisterMiniportDriver  x64,mips  # ddi/ndis/nf-ndis-ndismregisterminiportdriver
USER32.dll!MessageBoxW  x64  # winuser
NDIS.SYS!NdisA  x64  # a
NDIS.SYS!NdisA  x86  # a
NdisB  x64  # b
";
    let errors = Allowlist::parse(text, Path::new("a.allowlist")).unwrap_err();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert!(
        errors[0].starts_with("a.allowlist:1: ")
            && errors[0].contains("names no WDK documentation page")
    );
    assert!(errors[1].starts_with("a.allowlist:2: unknown architecture `mips`"));
    assert!(errors[2].starts_with("a.allowlist:3: USER32.dll is not a DLL"));
    assert!(errors[3].starts_with("a.allowlist:5: NDIS.SYS!NdisA is already listed on line 4"));
    assert!(errors[4].starts_with("a.allowlist:6: `NdisB` is not `DLL!Function`"));
}

#[test]
fn imports_from_other_dlls_fail() {
    let mut problems = Vec::new();
    check_import_dlls(
        &imports(&[
            ("NDIS.SYS", "NdisMRegisterMiniportDriver"),
            ("hal.DLL", "KeStallExecutionProcessor"),
            ("msvcrt.dll", "memcpy"),
            ("msvcrt.dll", "memset"),
        ]),
        &mut problems,
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with(
        "imports from msvcrt.dll (e.g. msvcrt.dll!memcpy); a kernel-mode NDIS driver may import \
         only from ntoskrnl.exe, NDIS.SYS, HAL.dll"
    ));
}

#[test]
fn the_project_allowlist_parses_and_every_line_names_a_page() {
    let text = std::fs::read_to_string(allowlist()).unwrap();
    let list = Allowlist::load(&allowlist()).unwrap_or_else(|e| panic!("{e:#?}"));
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .count();
    assert_eq!(list.entries.len(), lines);
    assert!(list.entries.iter().all(|e| e.page.starts_with("ddi/")));
}

#[test]
fn signed_images_pass_every_check() {
    // The package checks the image after osslsigncode has appended the signature and
    // rewritten the checksum, so the checks must hold for a signed image too.
    let openssl = tools::require(tools::OPENSSL).unwrap_or_else(|e| panic!("{e}"));
    let osslsigncode = tools::require(tools::OSSLSIGNCODE).unwrap_or_else(|e| panic!("{e}"));
    let dir = test_dir().join("signed");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    run(Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=rswan image check test"])
        .args(["-addext", "extendedKeyUsage=codeSigning", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    for arch in Arch::ALL {
        let unsigned = image(arch);
        let signed = dir.join(arch.name()).join("rswan.sys");
        std::fs::create_dir_all(signed.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&signed);
        std::fs::copy(unsigned.with_extension("pdb"), signed.with_extension("pdb")).unwrap();
        run(Command::new(&osslsigncode)
            .args(["sign", "-h", "sha256", "-ph", "-certs"])
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .arg("-in")
            .arg(&unsigned)
            .arg("-out")
            .arg(&signed));
        let report = check_image(&signed, arch, &allowlist()).unwrap_or_else(|e| panic!("{e}"));
        let before = check_image(&unsigned, arch, &allowlist()).unwrap();
        assert!(
            report.file_size > before.file_size,
            "{arch}: the signature was appended"
        );
        assert_ne!(
            report.checksum, before.checksum,
            "{arch}: osslsigncode rewrote the checksum"
        );
        assert_eq!(report.imports, before.imports);
    }
}

/// Every function's frame from the image's unwind data and the same function's S_FRAMEPROC
/// frame from its PDB, as (name, unwind, recorded).
fn unwind_and_recorded_frames(arch: Arch) -> Vec<(String, u32, Option<u32>)> {
    let path = image(arch);
    let data = std::fs::read(&path).unwrap();
    let facts = ImageFacts::read(&data).unwrap();
    let pdb = path.with_extension("pdb");
    let (frames, source) = measure_frames(&facts, &data, arch, &pdb).unwrap();
    assert_eq!(source, "unwind data");
    let procedures = procedures::read(&pdb, facts.codeview.as_ref().unwrap()).unwrap();
    frames
        .iter()
        .map(|f| {
            let recorded = procedures
                .iter()
                .find(|p| p.rva == f.rva)
                .and_then(|p| p.recorded_frame);
            (f.name.clone(), f.bytes, recorded)
        })
        .collect()
}

/// The x64 and ARM64 frames read from the unwind data equal, function by function, the frames
/// the compiler wrote into the PDB (S_FRAMEPROC): two independent records agree, which is also
/// why the x86 image (no unwind table) is measured from its S_FRAMEPROC records.
#[test]
fn unwind_frames_equal_the_compilers_frame_records_on_x64_and_arm64() {
    for arch in [Arch::X64, Arch::Arm64] {
        let frames = unwind_and_recorded_frames(arch);
        assert!(
            frames.len() > 100,
            "{arch}: only {} functions",
            frames.len()
        );
        let differ: Vec<_> = frames.iter().filter(|(_, u, r)| Some(*u) != *r).collect();
        assert!(
            differ.is_empty(),
            "{arch}: {} of {} functions' unwind frames differ from their S_FRAMEPROC \
             (name, unwind, recorded): {differ:?}",
            differ.len(),
            frames.len()
        );
    }
}

/// llvm-readobj's reading of the x64 unwind codes: per function start RVA, the bytes its
/// pushes and allocations take.
fn readobj_x64_frames(image: &Path, image_base: u64) -> Vec<(u32, u32)> {
    let readobj = tools::require(tools::LLVM_READOBJ).unwrap_or_else(|e| panic!("{e}"));
    let out = run(Command::new(readobj).arg("--unwind").arg(image));
    let mut frames: Vec<(u32, u32)> = Vec::new();
    for line in out.lines().map(str::trim) {
        if let Some(start) = line.strip_prefix("StartAddress: (") {
            let address = hex(start.trim_end_matches(')'));
            frames.push(((address - image_base) as u32, 0));
        } else if let Some((_, code)) = line.split_once(": ") {
            let Some(last) = frames.last_mut() else {
                continue;
            };
            if code.starts_with("PUSH_NONVOL") {
                last.1 += 8;
            } else if let Some(size) = code
                .strip_prefix("ALLOC_LARGE size=")
                .or_else(|| code.strip_prefix("ALLOC_SMALL size="))
            {
                last.1 += size.parse::<u32>().unwrap();
            }
        }
    }
    frames
}

#[test]
fn x64_frames_agree_with_llvm_readobj() {
    let path = image(Arch::X64);
    let data = std::fs::read(&path).unwrap();
    let facts = ImageFacts::read(&data).unwrap();
    let (frames, _) =
        measure_frames(&facts, &data, Arch::X64, &path.with_extension("pdb")).unwrap();
    let mut ours: Vec<(u32, u32)> = frames.iter().map(|f| (f.rva, f.bytes)).collect();
    ours.sort_unstable();
    let theirs = readobj_x64_frames(&path, facts.image_base);
    assert!(
        theirs.len() > 100,
        "llvm-readobj listed {} functions",
        theirs.len()
    );
    assert_eq!(ours, theirs);
}

#[test]
fn real_images_pass_with_their_largest_frame_reported() {
    for arch in Arch::ALL {
        let path = image(arch);
        let report = check_image(&path, arch, &allowlist()).unwrap_or_else(|e| panic!("{e}"));
        let largest = report.largest_frames.first().expect("a largest frame");
        println!(
            "{arch}: {} frames from the {}; largest: {}",
            report.frames_measured,
            report.frame_source,
            report
                .largest_frames
                .iter()
                .map(NamedFrame::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        assert!(report.frames_measured > 100, "{arch}: {report}");
        assert!(largest.bytes > 0);
        assert!(
            report
                .largest_frames
                .windows(2)
                .all(|w| w[0].bytes >= w[1].bytes),
            "{arch}: largest first"
        );
        assert!(
            report
                .largest_frames
                .iter()
                .all(|f| f.name.starts_with("rswan")),
            "{arch}: the largest frames are named from the PDB: {:?}",
            report.largest_frames
        );
        assert!(report.to_string().contains(&largest.to_string()));
    }
}

/// The file offset of `rva` in an image whose facts are `facts`.
fn file_offset(facts: &ImageFacts, rva: u32) -> usize {
    let section = facts.section_of(rva).expect("an RVA inside a section");
    (section.raw_offset + (rva - section.rva)) as usize
}

#[test]
fn a_frame_raised_over_the_budget_fails_with_the_functions_name() {
    let original = std::fs::read(image(Arch::X64)).unwrap();
    let facts = ImageFacts::read(&original).unwrap();
    let (table_rva, table_size) = facts.exception_table.expect("a .pdata directory");
    let table = file_offset(&facts, table_rva);
    // The first function whose unwind codes start with UWOP_ALLOC_LARGE (info 0): its size
    // slot, scaled by 8, becomes 0x600 * 8 = 12 KiB.
    let (function_rva, slot) = original[table..table + table_size as usize]
        .chunks_exact(12)
        .find_map(|entry| {
            let unwind = file_offset(&facts, get_u32(entry, 8));
            let code = &original[unwind + 4..unwind + 6];
            (original[unwind + 2] >= 2 && code[1] == 0x01).then(|| (get_u32(entry, 0), unwind + 6))
        })
        .expect("a function with UWOP_ALLOC_LARGE");
    let path = doctored(Arch::X64, "frame-budget", true, |data| {
        put_u16(data, slot, 0x600);
    });
    let problems = problems(&path, Arch::X64);
    assert_one_problem(&problems, "over the 2048-byte budget");
    assert!(
        problems[0].contains(&format!("(RVA {function_rva:#x})")),
        "{problems:?}"
    );
    assert!(problems[0].contains(" bytes in rswan"), "{problems:?}");
}
