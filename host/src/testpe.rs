//! Assembling tiny x64 driver images for the loader's own tests: exported functions given as
//! machine code, imports, pointer slots in `.data` that need base relocations, and a map file
//! naming every function (for crash reports). The layout follows the PE format's import and
//! export directory descriptions.
#![forbid(unsafe_code)]

use std::path::Path;

use object::pe;
use object::write::pe::{NtHeaders, Writer};

/// Where a 32-bit RIP-relative displacement in a function's code must point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The import address table slot of import `n`.
    ImportSlot(usize),
    /// Pointer slot `n` in `.data`.
    DataSlot(usize),
    /// Byte `n` of the zeroed area after the pointer slots in `.data`.
    Zeroed(usize),
    /// The start of function `n` (to pass a callback).
    Function(usize),
}

/// One exported function.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub code: Vec<u8>,
    /// `(offset in code, target)`: the 4 bytes at the offset become `target - (field + 4)`.
    pub fixups: Vec<(usize, Target)>,
}

impl Function {
    pub fn new(name: &str, code: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            code: code.to_vec(),
            fixups: Vec::new(),
        }
    }

    pub fn fixup(mut self, offset: usize, target: Target) -> Self {
        self.fixups.push((offset, target));
        self
    }
}

/// A few x86-64 instructions, enough to call imports the Microsoft x64 way from a test
/// function: `prologue` reserves the home space and keeps RSP 16-byte aligned at each call.
#[derive(Debug, Clone, Default)]
pub struct Asm {
    code: Vec<u8>,
    fixups: Vec<(usize, Target)>,
}

impl Asm {
    fn bytes(mut self, bytes: &[u8]) -> Self {
        self.code.extend_from_slice(bytes);
        self
    }

    fn rip_relative(mut self, opcode: &[u8], target: Target) -> Self {
        self.code.extend_from_slice(opcode);
        self.fixups.push((self.code.len(), target));
        self.code.extend_from_slice(&[0; 4]);
        self
    }

    fn with_imm32(self, opcode: &[u8], value: u32) -> Self {
        self.bytes(opcode).bytes(&value.to_le_bytes())
    }

    /// sub rsp, 40
    pub fn prologue(self) -> Self {
        self.bytes(&[0x48, 0x83, 0xEC, 0x28])
    }

    /// add rsp, 40; ret
    pub fn epilogue(self) -> Self {
        self.bytes(&[0x48, 0x83, 0xC4, 0x28, 0xC3])
    }

    /// lea rcx, [rip + target]
    pub fn lea_rcx(self, target: Target) -> Self {
        self.rip_relative(&[0x48, 0x8D, 0x0D], target)
    }

    /// lea rdx, [rip + target]
    pub fn lea_rdx(self, target: Target) -> Self {
        self.rip_relative(&[0x48, 0x8D, 0x15], target)
    }

    /// mov [rip + target], rdx
    pub fn store_rdx(self, target: Target) -> Self {
        self.rip_relative(&[0x48, 0x89, 0x15], target)
    }

    /// mov rcx, rax
    pub fn mov_rcx_rax(self) -> Self {
        self.bytes(&[0x48, 0x89, 0xC1])
    }

    /// mov rcx, [rip + target]
    pub fn load_rcx(self, target: Target) -> Self {
        self.rip_relative(&[0x48, 0x8B, 0x0D], target)
    }

    /// mov [rip + target], rax
    pub fn store_rax(self, target: Target) -> Self {
        self.rip_relative(&[0x48, 0x89, 0x05], target)
    }

    /// mov ecx, value
    pub fn mov_ecx(self, value: u32) -> Self {
        self.with_imm32(&[0xB9], value)
    }

    /// mov edx, value
    pub fn mov_edx(self, value: u32) -> Self {
        self.with_imm32(&[0xBA], value)
    }

    /// mov r8d, value
    pub fn mov_r8d(self, value: u32) -> Self {
        self.with_imm32(&[0x41, 0xB8], value)
    }

    /// mov r9d, value
    pub fn mov_r9d(self, value: u32) -> Self {
        self.with_imm32(&[0x41, 0xB9], value)
    }

    /// call qword ptr [rip + import slot n]
    pub fn call_import(self, n: usize) -> Self {
        self.rip_relative(&[0xFF, 0x15], Target::ImportSlot(n))
    }

    /// The assembled code as exported function `name`.
    pub fn function(self, name: &str) -> Function {
        Function {
            name: name.to_owned(),
            code: self.code,
            fixups: self.fixups,
        }
    }
}

/// A test image under construction.
#[derive(Debug, Clone, Default)]
pub struct TestImage {
    pub functions: Vec<Function>,
    /// `(dll, name)`.
    pub imports: Vec<(String, String)>,
    /// Each slot holds the absolute address of function `n` (a DIR64 relocation).
    pub data_slots: Vec<usize>,
    /// Bytes of zeroed, writable data after the pointer slots (locks, saved values).
    pub zeroed: usize,
    /// Marks `.text` writable as well (a W+X section the loader must refuse).
    pub writable_code: bool,
}

const PREFERRED_BASE: u64 = 0x1_4000_0000;
const SECTION_ALIGNMENT: u32 = 0x1000;
const FILE_ALIGNMENT: u32 = 0x200;

fn align(value: usize, to: usize) -> usize {
    value.div_ceil(to) * to
}

/// `.rdata`: import address tables, import descriptors, lookup tables, names, then the export
/// directory. Its length depends only on the names, never on `rva`.
struct Rdata {
    bytes: Vec<u8>,
    /// RVA of each import's IAT slot.
    iat_slots: Vec<u32>,
    iat: (u32, u32),
    import_directory: (u32, u32),
    export_directory: (u32, u32),
}

fn build_rdata(image: &TestImage, rva: u32, function_rvas: &[u32]) -> Rdata {
    let mut dlls: Vec<&str> = Vec::new();
    for (dll, _) in &image.imports {
        if !dlls.contains(&dll.as_str()) {
            dlls.push(dll);
        }
    }
    let per_dll = |dll: &str| -> Vec<usize> {
        (0..image.imports.len())
            .filter(|&i| image.imports[i].0 == dll)
            .collect()
    };
    let mut bytes = Vec::new();
    let put32 = |bytes: &mut Vec<u8>, at: usize, v: u32| {
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    let put64 = |bytes: &mut Vec<u8>, at: usize, v: u64| {
        bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    };
    // IATs, one null-terminated table per DLL, then the same shape for the lookup tables.
    let table_len: usize = dlls.iter().map(|d| (per_dll(d).len() + 1) * 8).sum();
    let iat_start = 0;
    let descriptors_start = table_len;
    let descriptors_len = (dlls.len() + 1) * 20;
    let ilt_start = descriptors_start + descriptors_len;
    let names_start = ilt_start + table_len;
    bytes.resize(names_start, 0);

    let mut iat_slots = vec![0u32; image.imports.len()];
    let mut table_offset = 0;
    for (d, dll) in dlls.iter().enumerate() {
        let members = per_dll(dll);
        let descriptor = descriptors_start + d * 20;
        put32(
            &mut bytes,
            descriptor,
            rva + (ilt_start + table_offset) as u32,
        );
        put32(
            &mut bytes,
            descriptor + 16,
            rva + (iat_start + table_offset) as u32,
        );
        for (k, &import) in members.iter().enumerate() {
            // IMAGE_IMPORT_BY_NAME: a 2-byte hint, the name, NUL, at an even address.
            if bytes.len() % 2 == 1 {
                bytes.push(0);
            }
            let hint_name = bytes.len();
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(image.imports[import].1.as_bytes());
            bytes.push(0);
            let slot = table_offset + k * 8;
            put64(
                &mut bytes,
                iat_start + slot,
                u64::from(rva) + hint_name as u64,
            );
            put64(
                &mut bytes,
                ilt_start + slot,
                u64::from(rva) + hint_name as u64,
            );
            iat_slots[import] = rva + (iat_start + slot) as u32;
        }
        let dll_name = bytes.len();
        bytes.extend_from_slice(dll.as_bytes());
        bytes.push(0);
        put32(&mut bytes, descriptor + 12, rva + dll_name as u32);
        table_offset += (members.len() + 1) * 8;
    }

    // Export directory (40 bytes), address table, name pointers, ordinals, names.
    let mut export_directory = (0, 0);
    if !image.functions.is_empty() {
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        let mut order: Vec<usize> = (0..image.functions.len()).collect();
        order.sort_by(|&a, &b| image.functions[a].name.cmp(&image.functions[b].name));
        let count = image.functions.len();
        let dir = bytes.len();
        let eat = dir + 40;
        let names = eat + 4 * count;
        let ordinals = names + 4 * count;
        bytes.resize(ordinals + 2 * count, 0);
        let module_name = bytes.len();
        bytes.extend_from_slice(b"test.sys\0");
        put32(&mut bytes, dir + 12, rva + module_name as u32);
        put32(&mut bytes, dir + 16, 1);
        put32(&mut bytes, dir + 20, count as u32);
        put32(&mut bytes, dir + 24, count as u32);
        put32(&mut bytes, dir + 28, rva + eat as u32);
        put32(&mut bytes, dir + 32, rva + names as u32);
        put32(&mut bytes, dir + 36, rva + ordinals as u32);
        for (i, function_rva) in function_rvas.iter().enumerate() {
            put32(&mut bytes, eat + 4 * i, *function_rva);
        }
        for (k, &i) in order.iter().enumerate() {
            let name = bytes.len();
            bytes.extend_from_slice(image.functions[i].name.as_bytes());
            bytes.push(0);
            put32(&mut bytes, names + 4 * k, rva + name as u32);
            let ordinal = (i as u16).to_le_bytes();
            bytes[ordinals + 2 * k..ordinals + 2 * k + 2].copy_from_slice(&ordinal);
        }
        export_directory = (rva + dir as u32, (bytes.len() - dir) as u32);
    }
    Rdata {
        iat: (rva + iat_start as u32, table_len as u32),
        import_directory: (
            if dlls.is_empty() {
                0
            } else {
                rva + descriptors_start as u32
            },
            if dlls.is_empty() {
                0
            } else {
                descriptors_len as u32
            },
        ),
        export_directory,
        iat_slots,
        bytes,
    }
}

impl TestImage {
    /// The image file's bytes and its map (`RVA name` lines).
    pub fn build(&self) -> (Vec<u8>, String) {
        // .text layout: each function 16-byte aligned; offsets do not depend on RVAs.
        let mut offsets = Vec::new();
        let mut text_len = 0;
        for function in &self.functions {
            offsets.push(text_len);
            text_len = align(text_len + function.code.len(), 16);
        }
        let text_len = text_len.max(16);
        let rdata_len = build_rdata(self, 0, &vec![0; self.functions.len()])
            .bytes
            .len();
        let data_len = (self.data_slots.len() * 8 + self.zeroed).max(8);

        let mut file = Vec::new();
        let mut writer = Writer::new(true, SECTION_ALIGNMENT, FILE_ALIGNMENT, &mut file);
        writer.reserve_dos_header_and_stub();
        writer.reserve_nt_headers(pe::IMAGE_NUMBEROF_DIRECTORY_ENTRIES);
        writer.reserve_section_headers(if self.data_slots.is_empty() { 3 } else { 4 });
        let text_flags = if self.writable_code {
            pe::IMAGE_SCN_CNT_CODE
                | pe::IMAGE_SCN_MEM_EXECUTE
                | pe::IMAGE_SCN_MEM_READ
                | pe::IMAGE_SCN_MEM_WRITE
        } else {
            pe::IMAGE_SCN_CNT_CODE | pe::IMAGE_SCN_MEM_EXECUTE | pe::IMAGE_SCN_MEM_READ
        };
        let text = writer.reserve_section(
            *b".text\0\0\0",
            text_flags,
            text_len as u32,
            text_len as u32,
        );
        let rdata_range = writer.reserve_rdata_section(rdata_len as u32);
        let data = writer.reserve_data_section(data_len as u32, data_len as u32);
        let function_rvas: Vec<u32> = offsets
            .iter()
            .map(|&o| text.virtual_address + o as u32)
            .collect();
        let rdata = build_rdata(self, rdata_range.virtual_address, &function_rvas);
        let slot_rva = |n: usize| data.virtual_address + (n * 8) as u32;

        let mut text_bytes = vec![0xCC; text_len];
        for (function, &offset) in self.functions.iter().zip(&offsets) {
            let mut code = function.code.clone();
            for &(at, target) in &function.fixups {
                let field_rva = text.virtual_address + (offset + at) as u32;
                let target_rva = match target {
                    Target::ImportSlot(n) => rdata.iat_slots[n],
                    Target::DataSlot(n) => slot_rva(n),
                    Target::Zeroed(n) => slot_rva(self.data_slots.len()) + n as u32,
                    Target::Function(n) => function_rvas[n],
                };
                let displacement = target_rva.wrapping_sub(field_rva + 4);
                code[at..at + 4].copy_from_slice(&displacement.to_le_bytes());
            }
            text_bytes[offset..offset + code.len()].copy_from_slice(&code);
        }
        let mut data_bytes = vec![0u8; data_len];
        for (n, &function) in self.data_slots.iter().enumerate() {
            let address = PREFERRED_BASE + u64::from(function_rvas[function]);
            data_bytes[n * 8..n * 8 + 8].copy_from_slice(&address.to_le_bytes());
            writer.add_reloc(slot_rva(n), pe::IMAGE_REL_BASED_DIR64);
        }
        let reloc = if self.data_slots.is_empty() {
            None
        } else {
            Some(writer.reserve_reloc_section())
        };

        writer.set_data_directory(
            pe::IMAGE_DIRECTORY_ENTRY_IMPORT,
            rdata.import_directory.0,
            rdata.import_directory.1,
        );
        writer.set_data_directory(pe::IMAGE_DIRECTORY_ENTRY_IAT, rdata.iat.0, rdata.iat.1);
        writer.set_data_directory(
            pe::IMAGE_DIRECTORY_ENTRY_EXPORT,
            rdata.export_directory.0,
            rdata.export_directory.1,
        );
        writer
            .write_dos_header_and_stub()
            .expect("writing the DOS header");
        writer.write_nt_headers(NtHeaders {
            machine: pe::IMAGE_FILE_MACHINE_AMD64,
            time_date_stamp: 0,
            characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
            major_linker_version: 14,
            minor_linker_version: 0,
            address_of_entry_point: function_rvas.first().copied().unwrap_or(0),
            image_base: PREFERRED_BASE,
            major_operating_system_version: 6,
            minor_operating_system_version: 0,
            major_image_version: 0,
            minor_image_version: 0,
            major_subsystem_version: 6,
            minor_subsystem_version: 0,
            subsystem: pe::IMAGE_SUBSYSTEM_NATIVE,
            dll_characteristics: pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE
                | pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
            size_of_stack_reserve: 0x10_0000,
            size_of_stack_commit: 0x1000,
            size_of_heap_reserve: 0x10_0000,
            size_of_heap_commit: 0x1000,
        });
        writer.write_section_headers();
        writer.write_section(text.file_offset, &text_bytes);
        writer.write_section(rdata_range.file_offset, &rdata.bytes);
        writer.write_section(data.file_offset, &data_bytes);
        if reloc.is_some() {
            writer.write_reloc_section();
        }
        let map = self
            .functions
            .iter()
            .zip(&function_rvas)
            .map(|(f, rva)| format!("{rva:x} {}\n", f.name))
            .collect();
        (file, map)
    }

    /// Writes the image to `path` and its map beside it (`<stem>.map`).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let (file, map) = self.build();
        std::fs::write(path, file)?;
        std::fs::write(path.with_extension("map"), map)
    }
}
