//! Checks of a built driver image (`rswan.sys`), run after every build and by the tests.
//!
//! The image is read with the `object` crate. Each check adds a problem that says what is wrong
//! and how to fix it; all problems are reported together. What the checks require and why:
//! - Machine matches the architecture (PE Format, "Machine Types").
//! - Subsystem is NATIVE (1): kernel-mode drivers are native images (PE Format, "Windows
//!   Subsystem"; the linker's /DRIVER and /SUBSYSTEM:NATIVE).
//! - The entry point is `DriverEntry`, found by name in the image's own PDB (matched by the
//!   CodeView GUID and age), since a driver image exports nothing.
//! - Imports come only from `ntoskrnl.exe`, `NDIS.SYS` and `HAL.dll`, by name, and every name is
//!   in `driver/imports.allowlist` for this architecture (see [`allowlist`]).
//! - No section is both writable and executable.
//! - The image is relocatable: IMAGE_FILE_RELOCS_STRIPPED is clear ("must therefore be loaded at
//!   its preferred base address", PE Format), DYNAMIC_BASE and NX_COMPAT are set, the `.reloc`
//!   blocks are well formed, and every absolute address found in the image has a base relocation.
//!   An x64/ARM64 image whose code is all RIP/PC-relative legitimately has no `.reloc` at all.
//! - The PE checksum (which the kernel loader verifies for drivers) matches the file.
//! - x86 only: no x87/MMX/SSE/AVX instruction in any executable section, since the x86 kernel
//!   does not save that state for drivers (WDK: "Using Floating Point in a WDM Driver").
//! - No function's fixed stack frame exceeds [`FRAME_BUDGET_BYTES`] (see there why; the few
//!   functions known to be over it may not grow, [`frame_budget::OVER_BUDGET`]): x64 and
//!   ARM64 frames come from the unwind data ([`unwind`]), x86 frames (no unwind table) from the
//!   compiler's S_FRAMEPROC records in the PDB ([`procedures`]); functions are named from the
//!   PDB. What this does not see: frames of alloca-style dynamic allocations (the driver has
//!   none: `no_std` Rust has no alloca) and how deep calls nest (the host measures that when it
//!   runs the image: `stack.driver_max_bytes`).

mod allowlist;
mod entry;
mod frame_budget;
mod procedures;
mod unwind;
mod x86_code;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use object::LittleEndian as LE;
use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, ImageThunkData, PeFile};
use object::read::{Object, ReadRef};

use crate::arch::Arch;

pub use allowlist::Allowlist;
pub use frame_budget::{FRAME_BUDGET_BYTES, OVER_BUDGET};

/// DLLs a kernel-mode NDIS driver may import from.
pub const ALLOWED_DLLS: [&str; 3] = ["ntoskrnl.exe", "NDIS.SYS", "HAL.dll"];

/// One imported function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    pub dll: String,
    pub function: String,
}

impl fmt::Display for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}!{}", self.dll, self.function)
    }
}

/// What a passing image looks like, for the package table and the tests.
#[derive(Debug, Clone)]
pub struct ImageReport {
    pub arch: Arch,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// SizeOfImage: the size of the image once mapped.
    pub size_of_image: u32,
    pub entry_rva: u32,
    pub checksum: u32,
    pub imports: Vec<Import>,
    pub base_relocations: usize,
    /// Instructions decoded in the executable sections (x86 and x64; ARM64 is not decoded).
    pub instructions_decoded: usize,
    /// How many functions' frames were measured, and from what.
    pub frames_measured: usize,
    pub frame_source: &'static str,
    /// The largest fixed stack frames, largest first.
    pub largest_frames: Vec<NamedFrame>,
}

/// A function's fixed stack frame, named from the PDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFrame {
    pub name: String,
    pub rva: u32,
    pub bytes: u32,
}

impl fmt::Display for NamedFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes in {} (RVA {:#x})",
            self.bytes, self.name, self.rva
        )
    }
}

/// How many of the largest frames the report keeps.
const LARGEST_FRAMES: usize = 3;

impl ImageReport {
    pub fn imported_functions(&self) -> usize {
        self.imports.len()
    }
}

/// One line for the build log: what was checked and found.
impl fmt::Display for ImageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imports: Vec<String> = self.imports.iter().map(Import::to_string).collect();
        write!(
            f,
            "{}: {} bytes (mapped {}), entry DriverEntry at {:#x}, checksum {:#010x}, {} base \
             relocation(s), {} instruction(s) decoded, {} stack frame(s) measured from the {} \
             (largest: {}), imports {}",
            self.arch,
            self.file_size,
            self.size_of_image,
            self.entry_rva,
            self.checksum,
            self.base_relocations,
            self.instructions_decoded,
            self.frames_measured,
            self.frame_source,
            self.largest_frames
                .first()
                .map_or("none".to_string(), NamedFrame::to_string),
            imports.join(", ")
        )
    }
}

/// Every problem found in one image.
#[derive(Debug, Clone)]
pub struct ImageCheckError {
    pub image: PathBuf,
    pub arch: Arch,
    pub problems: Vec<String>,
}

impl fmt::Display for ImageCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) failed {} image check(s):",
            self.image.display(),
            self.arch,
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {}", problem.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ImageCheckError {}

/// Checks the image at `path` built for `arch` against the import allowlist file.
///
/// The PDB is expected next to the image with the same stem (`rswan.sys` -> `rswan.pdb`),
/// as both the build and the package put it.
pub fn check_image(
    path: &Path,
    arch: Arch,
    allowlist: &Path,
) -> Result<ImageReport, ImageCheckError> {
    let fail = |problems: Vec<String>| ImageCheckError {
        image: path.to_path_buf(),
        arch,
        problems,
    };
    let data =
        std::fs::read(path).map_err(|e| fail(vec![format!("cannot read the image: {e}")]))?;
    let allowlist = Allowlist::load(allowlist).map_err(fail)?;
    let facts = ImageFacts::read(&data).map_err(|e| fail(vec![e]))?;

    let mut problems = Vec::new();
    check_machine(&facts, arch, &mut problems);
    if !problems.is_empty() {
        // Code, relocations and imports read as another architecture would only add noise.
        return Err(fail(problems));
    }
    check_subsystem(&facts, &mut problems);
    check_sections(&facts, &mut problems);
    let code = check_code(&facts, &data, arch, &mut problems);
    check_relocations(&facts, &data, arch, &code.absolute_refs, &mut problems);
    check_checksum(&facts, &data, &mut problems);
    problems.extend(facts.import_errors.iter().cloned());
    check_import_dlls(&facts.imports, &mut problems);
    problems.extend(allowlist.check(arch, &facts.imports));
    let pdb = path.with_extension("pdb");
    // The frames are named from (and on x86 measured with) the PDB the entry check vouches for.
    let frames = match entry::check_entry(&pdb, arch, facts.entry_rva, facts.codeview.as_ref()) {
        Ok(()) => check_frames(&facts, &data, arch, &pdb, &mut problems),
        Err(problem) => {
            problems.push(problem);
            FrameFindings::default()
        }
    };
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(ImageReport {
        arch,
        file_size: data.len() as u64,
        size_of_image: facts.size_of_image,
        entry_rva: facts.entry_rva,
        checksum: facts.checksum,
        imports: facts.imports,
        base_relocations: facts.relocations.map_or(0, |r| r.len()),
        instructions_decoded: code.instructions,
        frames_measured: frames.measured,
        frame_source: frames.source,
        largest_frames: frames.largest,
    })
}

/// What the frame check measured.
#[derive(Debug, Default)]
struct FrameFindings {
    measured: usize,
    source: &'static str,
    largest: Vec<NamedFrame>,
}

/// Every function's fixed frame, named, largest first: from the unwind table on x64 and ARM64,
/// from the PDB's S_FRAMEPROC records on x86.
fn measure_frames(
    facts: &ImageFacts,
    data: &[u8],
    arch: Arch,
    pdb: &Path,
) -> Result<(Vec<NamedFrame>, &'static str), String> {
    let codeview = facts
        .codeview
        .as_ref()
        .ok_or("the image names no PDB, so its functions cannot be named: link with /DEBUG")?;
    let procedures = procedures::read(pdb, codeview)?;
    let name = |rva: u32| {
        procedures::containing(&procedures, rva).map_or_else(
            || format!("the function at RVA {rva:#x}"),
            |p| p.name.clone(),
        )
    };
    let (mut frames, source) = match arch {
        Arch::X64 | Arch::Arm64 => {
            let (rva, size) = facts.exception_table.ok_or(
                "the image has no exception directory (.pdata), so its stack frames cannot be \
                 measured: every non-leaf x64/ARM64 function needs unwind data (Microsoft: \
                 \"x64 exception handling\", \"ARM64 exception handling\")",
            )?;
            let view = SectionBytes { facts, data };
            let table = unwind::ImageBytes::bytes(&view, rva, size as usize)
                .ok_or("the exception directory lies outside the image's sections")?;
            let frames: Vec<NamedFrame> = unwind::frames(arch, table, &view)?
                .into_iter()
                .map(|f| NamedFrame {
                    name: name(f.rva),
                    rva: f.rva,
                    bytes: f.bytes,
                })
                .collect();
            (frames, "unwind data")
        }
        Arch::X86 => {
            let frames: Vec<NamedFrame> = procedures
                .iter()
                .filter_map(|p| {
                    p.recorded_frame.map(|bytes| NamedFrame {
                        name: p.name.clone(),
                        rva: p.rva,
                        bytes,
                    })
                })
                .collect();
            (frames, "PDB's S_FRAMEPROC records")
        }
    };
    frames.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.rva.cmp(&b.rva)));
    Ok((frames, source))
}

fn check_frames(
    facts: &ImageFacts,
    data: &[u8],
    arch: Arch,
    pdb: &Path,
    problems: &mut Vec<String>,
) -> FrameFindings {
    let (frames, source) = match measure_frames(facts, data, arch, pdb) {
        Ok(measured) => measured,
        Err(problem) => {
            problems.push(format!("stack frames: {problem}"));
            return FrameFindings::default();
        }
    };
    if frames.is_empty() {
        problems.push(format!(
            "stack frames: no function frame found in the {source}: build with debug = \"full\" \
             (Cargo.toml [profile.release]) so the PDB describes every function"
        ));
    }
    problems.extend(frame_budget::check(&frames));
    FrameFindings {
        measured: frames.len(),
        source,
        largest: frames.into_iter().take(LARGEST_FRAMES).collect(),
    }
}

/// The image's section bytes by RVA, for the unwind reader.
struct SectionBytes<'a> {
    facts: &'a ImageFacts,
    data: &'a [u8],
}

impl unwind::ImageBytes for SectionBytes<'_> {
    fn bytes(&self, rva: u32, len: usize) -> Option<&[u8]> {
        let section = self.facts.section_of(rva)?;
        let start = (rva - section.rva) as usize;
        section
            .initialized(self.data)
            .get(start..start.checked_add(len)?)
    }
}

/// A section header, reduced to what the checks use.
#[derive(Debug, Clone)]
struct Section {
    name: String,
    rva: u32,
    virtual_size: u32,
    raw_offset: u32,
    raw_size: u32,
    characteristics: u32,
}

impl Section {
    /// The bytes of the section that are in the file and inside the mapped size.
    fn initialized<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        let len = self.virtual_size.min(self.raw_size) as usize;
        let start = self.raw_offset as usize;
        data.get(start..start.saturating_add(len)).unwrap_or(&[])
    }

    fn executable(&self) -> bool {
        self.characteristics & pe::IMAGE_SCN_MEM_EXECUTE.0 != 0
    }

    fn contains_rva(&self, rva: u32) -> bool {
        rva >= self.rva && rva - self.rva < self.virtual_size.max(self.raw_size)
    }
}

/// The CodeView record that names the image's PDB.
#[derive(Debug, Clone)]
struct CodeView {
    guid: [u8; 16],
    age: u32,
}

/// A base relocation: where it applies and its IMAGE_REL_BASED_* type.
#[derive(Debug, Clone, Copy)]
struct BaseRelocation {
    rva: u32,
    kind: u16,
}

/// Everything the checks read from the headers and directories.
#[derive(Debug)]
struct ImageFacts {
    machine: u16,
    subsystem: u16,
    file_characteristics: u16,
    dll_characteristics: u16,
    image_base: u64,
    size_of_image: u32,
    entry_rva: u32,
    checksum: u32,
    checksum_offset: usize,
    sections: Vec<Section>,
    imports: Vec<Import>,
    import_errors: Vec<String>,
    /// None when the image has no base relocation directory.
    relocations: Option<Vec<BaseRelocation>>,
    relocation_errors: Vec<String>,
    codeview: Option<CodeView>,
    /// RVA ranges of debug data (such as the CodeView GUID): bytes that hold no addresses.
    debug_data: Vec<std::ops::Range<u32>>,
    /// The exception directory (.pdata) as (RVA, size), if any.
    exception_table: Option<(u32, u32)>,
}

impl ImageFacts {
    fn read(data: &[u8]) -> Result<ImageFacts, String> {
        let magic = object::read::pe::optional_header_magic(data)
            .map_err(|e| format!("not a PE image: {e}"))?;
        match magic {
            pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC => Self::read_as::<pe::ImageNtHeaders32>(data),
            pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => Self::read_as::<pe::ImageNtHeaders64>(data),
            other => Err(format!("unknown optional header magic {other:#x}")),
        }
    }

    fn read_as<Pe: ImageNtHeaders>(data: &[u8]) -> Result<ImageFacts, String> {
        let file =
            PeFile::<Pe>::parse(data).map_err(|e| format!("cannot parse the PE image: {e}"))?;
        let nt = file.nt_headers();
        let header = nt.file_header();
        let optional = nt.optional_header();
        // IMAGE_NT_HEADERS = Signature (4) + IMAGE_FILE_HEADER (20) + optional header, whose
        // CheckSum field is at offset 64 in both PE32 and PE32+ (PE Format, "Optional Header
        // Windows-Specific Fields").
        let checksum_offset = file.dos_header().nt_headers_offset() as usize + 4 + 20 + 64;

        let sections = file
            .section_table()
            .iter()
            .map(|s| Section {
                name: String::from_utf8_lossy(s.raw_name()).into_owned(),
                rva: s.virtual_address.get(LE),
                virtual_size: s.virtual_size.get(LE),
                raw_offset: s.pointer_to_raw_data.get(LE),
                raw_size: s.size_of_raw_data.get(LE),
                characteristics: s.characteristics.get(LE).0,
            })
            .collect();

        let (imports, import_errors) = read_imports(&file);
        let (relocations, relocation_errors) = read_relocations(&file);
        let codeview = file.pdb_info().ok().flatten().map(|cv| CodeView {
            guid: cv.guid(),
            age: cv.age(),
        });

        Ok(ImageFacts {
            machine: header.machine.get(LE).0,
            subsystem: optional.subsystem().0,
            file_characteristics: header.characteristics.get(LE).0,
            dll_characteristics: optional.dll_characteristics().0,
            image_base: optional.image_base(),
            size_of_image: optional.size_of_image(),
            entry_rva: optional.address_of_entry_point(),
            checksum: optional.check_sum(),
            checksum_offset,
            sections,
            imports,
            import_errors,
            relocations,
            relocation_errors,
            codeview,
            debug_data: read_debug_data(&file),
            exception_table: file
                .data_directory(pe::IMAGE_DIRECTORY_ENTRY_EXCEPTION)
                .map(|d| (d.virtual_address.get(LE), d.size.get(LE)))
                .filter(|&(_, size)| size > 0),
        })
    }

    fn section_of(&self, rva: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.contains_rva(rva))
    }

    /// Where an RVA is, for messages: `.text+0x12 (RVA 0x1012)`.
    fn describe_rva(&self, rva: u32) -> String {
        match self.section_of(rva) {
            Some(s) => format!("{}+{:#x} (RVA {rva:#x})", s.name, rva - s.rva),
            None => format!("RVA {rva:#x} (outside every section)"),
        }
    }
}

fn read_imports<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(
    file: &PeFile<'data, Pe, R>,
) -> (Vec<Import>, Vec<String>) {
    let mut imports = Vec::new();
    let mut errors = Vec::new();
    let table = match file.import_table() {
        Ok(Some(table)) => table,
        Ok(None) => return (imports, errors),
        Err(e) => return (imports, vec![format!("cannot read the import table: {e}")]),
    };
    let mut descriptors = match table.descriptors() {
        Ok(d) => d,
        Err(e) => {
            return (
                imports,
                vec![format!("cannot read the import descriptors: {e}")],
            );
        }
    };
    loop {
        let descriptor = match descriptors.next() {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                errors.push(format!("cannot read an import descriptor: {e}"));
                break;
            }
        };
        let dll = match table.name(descriptor.name.get(LE)) {
            Ok(name) => String::from_utf8_lossy(name).into_owned(),
            Err(e) => {
                errors.push(format!("cannot read an imported DLL's name: {e}"));
                continue;
            }
        };
        // The lookup table (OriginalFirstThunk) names the imports; the IAT may be bound.
        let lookup = match descriptor.original_first_thunk.get(LE) {
            0 => descriptor.first_thunk.get(LE),
            rva => rva,
        };
        let mut thunks = match table.thunks(lookup) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("cannot read the imports from {dll}: {e}"));
                continue;
            }
        };
        loop {
            let thunk = match thunks.next::<Pe>() {
                Ok(Some(t)) => t,
                Ok(None) => break,
                Err(e) => {
                    errors.push(format!("cannot read an import from {dll}: {e}"));
                    break;
                }
            };
            if thunk.is_ordinal() {
                errors.push(format!(
                    "{dll} is imported by ordinal {}: import every function by name (raw-dylib \
                     without `import_name_type = \"ordinal\"`)",
                    thunk.ordinal()
                ));
                continue;
            }
            match table.hint_name(thunk.address()) {
                Ok((_, name)) => imports.push(Import {
                    dll: dll.clone(),
                    function: String::from_utf8_lossy(name).into_owned(),
                }),
                Err(e) => errors.push(format!("cannot read an import name from {dll}: {e}")),
            }
        }
    }
    imports.sort();
    (imports, errors)
}

/// Where the debug directory's entries keep their data (PE Format, "Debug Directory": each
/// 28-byte entry has SizeOfData at offset 16 and AddressOfRawData at offset 20).
fn read_debug_data<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(
    file: &PeFile<'data, Pe, R>,
) -> Vec<std::ops::Range<u32>> {
    let Some(directory) = file.data_directory(pe::IMAGE_DIRECTORY_ENTRY_DEBUG) else {
        return Vec::new();
    };
    let Ok(entries) = directory.data(file.data(), &file.section_table()) else {
        return Vec::new();
    };
    let field = |entry: &[u8], at: usize| {
        u32::from_le_bytes([entry[at], entry[at + 1], entry[at + 2], entry[at + 3]])
    };
    entries
        .chunks_exact(28)
        .map(|entry| {
            let (size, rva) = (field(entry, 16), field(entry, 20));
            rva..rva.saturating_add(size)
        })
        .filter(|range| !range.is_empty())
        .collect()
}

fn read_relocations<'data, Pe: ImageNtHeaders, R: ReadRef<'data>>(
    file: &PeFile<'data, Pe, R>,
) -> (Option<Vec<BaseRelocation>>, Vec<String>) {
    let blocks = match file
        .data_directories()
        .relocation_blocks(file.data(), &file.section_table())
    {
        Ok(Some(blocks)) => blocks,
        Ok(None) => return (None, Vec::new()),
        Err(e) => {
            return (
                Some(Vec::new()),
                vec![format!("cannot read the .reloc directory: {e}")],
            );
        }
    };
    let mut relocations = Vec::new();
    let mut errors = Vec::new();
    for block in blocks {
        match block {
            Ok(block) => relocations.extend(block.map(|r| BaseRelocation {
                rva: r.virtual_address,
                kind: r.typ.0,
            })),
            Err(e) => {
                errors.push(format!("malformed base relocation block: {e}"));
                break;
            }
        }
    }
    (Some(relocations), errors)
}

fn machine_name(machine: u16) -> &'static str {
    match pe::Machine(machine) {
        pe::IMAGE_FILE_MACHINE_AMD64 => "AMD64",
        pe::IMAGE_FILE_MACHINE_ARM64 => "ARM64",
        pe::IMAGE_FILE_MACHINE_I386 => "I386",
        pe::IMAGE_FILE_MACHINE_ARM64EC => "ARM64EC",
        pe::IMAGE_FILE_MACHINE_ARMNT => "ARMNT",
        _ => "unknown",
    }
}

fn check_machine(facts: &ImageFacts, arch: Arch, problems: &mut Vec<String>) {
    let expected = arch.pe_machine();
    if facts.machine != expected {
        problems.push(format!(
            "Machine is {:#06x} ({}) but a {arch} image must be {expected:#06x} ({}): build with \
             --target {}",
            facts.machine,
            machine_name(facts.machine),
            machine_name(expected),
            arch.target()
        ));
    }
}

fn check_subsystem(facts: &ImageFacts, problems: &mut Vec<String>) {
    if facts.subsystem != pe::IMAGE_SUBSYSTEM_NATIVE.0 {
        problems.push(format!(
            "Subsystem is {} but a kernel-mode driver must be NATIVE (1): link with \
             /SUBSYSTEM:NATIVE (build.rs)",
            facts.subsystem
        ));
    }
}

fn check_sections(facts: &ImageFacts, problems: &mut Vec<String>) {
    for s in &facts.sections {
        let wx = pe::IMAGE_SCN_MEM_WRITE.0 | pe::IMAGE_SCN_MEM_EXECUTE.0;
        if s.characteristics & wx == wx {
            problems.push(format!(
                "section {} is both writable and executable (characteristics {:#010x}): keep code \
                 and writable data apart (no /SECTION:...,RWE, no #[link_section] that merges them)",
                s.name, s.characteristics
            ));
        }
    }
}

/// What decoding the executable sections found.
#[derive(Debug, Default)]
struct CodeFindings {
    instructions: usize,
    /// RVAs of instruction fields that hold an absolute address inside the image.
    absolute_refs: Vec<u32>,
}

fn check_code(
    facts: &ImageFacts,
    data: &[u8],
    arch: Arch,
    problems: &mut Vec<String>,
) -> CodeFindings {
    let bitness = match arch {
        Arch::X86 => 32,
        Arch::X64 => 64,
        // ARM64 code reaches data PC-relatively; a literal pool holding an address is caught
        // by the pointer scan of check_relocations, which covers ARM64 code too.
        Arch::Arm64 => return CodeFindings::default(),
    };
    let mut findings = CodeFindings::default();
    let image = facts.image_base..facts.image_base + u64::from(facts.size_of_image);
    for section in facts.sections.iter().filter(|s| s.executable()) {
        let scan = x86_code::scan(
            section.initialized(data),
            bitness,
            facts.image_base,
            section.rva,
            &image,
        );
        findings.instructions += scan.instructions;
        findings.absolute_refs.extend(scan.absolute_refs);
        for rva in scan.undecodable {
            problems.push(format!(
                "undecodable bytes in executable section at {}: the instruction scan cannot vouch \
                 for this section (data in code?)",
                facts.describe_rva(rva)
            ));
        }
        if arch == Arch::X86 && !scan.float.is_empty() {
            let list: Vec<String> = scan
                .float
                .iter()
                .map(|f| format!("{}: {}", facts.describe_rva(f.rva), f.text))
                .collect();
            problems.push(format!(
                "{} x87/MMX/SSE/AVX instruction(s) in the x86 image, which the x86 kernel does not \
                 allow without saving the floating-point state; build with the soft-float target \
                 driver/i686-rswan-windows-msvc.json and keep f32/f64 out of the driver:\n{}",
                list.len(),
                list.join("\n")
            ));
        }
    }
    findings
}

fn check_relocations(
    facts: &ImageFacts,
    data: &[u8],
    arch: Arch,
    code_refs: &[u32],
    problems: &mut Vec<String>,
) {
    if facts.file_characteristics & pe::IMAGE_FILE_RELOCS_STRIPPED.0 != 0 {
        problems.push(
            "IMAGE_FILE_RELOCS_STRIPPED is set, so the image could only load at its preferred \
             base: do not link with /FIXED"
                .into(),
        );
    }
    for (flag, name, fix) in [
        (
            pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE.0,
            "DYNAMIC_BASE",
            "/DYNAMICBASE",
        ),
        (
            pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT.0,
            "NX_COMPAT",
            "/NXCOMPAT",
        ),
    ] {
        if facts.dll_characteristics & flag == 0 {
            problems.push(format!(
                "DllCharacteristics {:#06x} lacks {name}: link with {fix}",
                facts.dll_characteristics
            ));
        }
    }
    problems.extend(facts.relocation_errors.iter().cloned());

    let (pointer_kind, pointer_size) = match arch {
        Arch::X86 => (pe::IMAGE_REL_BASED_HIGHLOW.0, 4),
        Arch::X64 | Arch::Arm64 => (pe::IMAGE_REL_BASED_DIR64.0, 8),
    };
    let relocations = facts.relocations.as_deref().unwrap_or(&[]);
    let mut relocated = HashSet::new();
    let mut wrong_kind = Vec::new();
    for r in relocations {
        if r.kind == pe::IMAGE_REL_BASED_ABSOLUTE.0 {
            continue;
        }
        if r.kind != pointer_kind {
            wrong_kind.push(format!("type {} at {}", r.kind, facts.describe_rva(r.rva)));
        }
        let end = u64::from(r.rva) + pointer_size;
        if facts.section_of(r.rva).is_none() || end > u64::from(facts.size_of_image) {
            problems.push(format!(
                "base relocation at RVA {:#x} points outside the image's sections",
                r.rva
            ));
        }
        relocated.insert(r.rva);
    }
    if !wrong_kind.is_empty() {
        problems.push(format!(
            "{} base relocation(s) are not of the {arch} pointer type {pointer_kind}:\n{}",
            wrong_kind.len(),
            wrong_kind.join("\n")
        ));
    }

    // A 64-bit value that falls inside the image is almost surely an address; a 32-bit one is
    // not (x86 images sit low, where ASCII and UTF-16 text and small constants land too), so
    // the x86 image's data is not scanned: its code operands are (decoded above), and the
    // relocation directory itself is checked whatever the arch.
    let data_refs = if pointer_size == 8 {
        pointers_in_sections(facts, data, arch, pointer_size)
    } else {
        Vec::new()
    };
    let mut missing: Vec<u32> = code_refs
        .iter()
        .chain(&data_refs)
        .copied()
        .filter(|rva| !relocated.contains(rva))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|&rva| facts.describe_rva(rva)).collect();
        problems.push(format!(
            "{} absolute address(es) inside the image have no base relocation, so they would be \
             wrong wherever the kernel maps the image; link without /FIXED and with the image's \
             relocations kept:\n{}",
            missing.len(),
            list.join("\n")
        ));
    }
}

/// RVAs of aligned pointer-sized values, outside x86/x64 code, whose value lies inside the image.
fn pointers_in_sections(facts: &ImageFacts, data: &[u8], arch: Arch, size: u64) -> Vec<u32> {
    let image = facts.image_base..facts.image_base + u64::from(facts.size_of_image);
    let decoded_code = matches!(arch, Arch::X86 | Arch::X64);
    let mut found = Vec::new();
    for section in &facts.sections {
        if section.executable() && decoded_code {
            continue;
        }
        let bytes = section.initialized(data);
        for (i, chunk) in bytes.chunks_exact(size as usize).enumerate() {
            let value = match chunk.len() {
                4 => u64::from(u32::from_le_bytes(chunk.try_into().unwrap_or_default())),
                _ => u64::from_le_bytes(chunk.try_into().unwrap_or_default()),
            };
            let rva = section.rva + (i as u64 * size) as u32;
            let in_debug_data = facts.debug_data.iter().any(|r| r.contains(&rva));
            if image.contains(&value) && !in_debug_data {
                found.push(rva);
            }
        }
    }
    found
}

/// The PE image checksum: the file summed as little-endian 16-bit words with the CheckSum field
/// taken as zero and every carry folded back in, plus the file length. PE Format, "CheckSum":
/// checked at load time for "all drivers"; the page leaves the algorithm to IMAGHELP.DLL
/// (CheckSumMappedFile), so the tests compare this with pefile's independent implementation.
pub fn pe_checksum(data: &[u8], checksum_offset: usize) -> u32 {
    let mut sum: u64 = 0;
    for (i, pair) in data.chunks(2).enumerate() {
        let offset = i * 2;
        if offset >= checksum_offset && offset < checksum_offset + 4 {
            continue;
        }
        let word = u64::from(pair[0]) | u64::from(pair.get(1).copied().unwrap_or(0)) << 8;
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32).wrapping_add(data.len() as u32)
}

fn check_checksum(facts: &ImageFacts, data: &[u8], problems: &mut Vec<String>) {
    let computed = pe_checksum(data, facts.checksum_offset);
    if facts.checksum != computed {
        problems.push(format!(
            "PE checksum is {:#010x} but the file sums to {computed:#010x}: link with /RELEASE \
             (rust-lld writes it; Debian's lld 14 does not) and do not edit the image afterwards",
            facts.checksum
        ));
    }
}

fn check_import_dlls(imports: &[Import], problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for import in imports {
        let allowed = ALLOWED_DLLS
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&import.dll));
        if !allowed && seen.insert(import.dll.to_ascii_lowercase()) {
            problems.push(format!(
                "imports from {} (e.g. {import}); a kernel-mode NDIS driver may import only from \
                 {}: call the kernel's own function instead",
                import.dll,
                ALLOWED_DLLS.join(", ")
            ));
        }
    }
}
