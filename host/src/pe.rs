//! Reading a PE32+ driver image into a plain description the loader maps: sections with their
//! protections, base relocations, imports and exports (PE format: "Optional Header Data
//! Directories", ".reloc", ".idata", ".edata"). Nothing here touches memory outside the file.
#![forbid(unsafe_code)]

use std::fmt;

use object::LittleEndian as LE;
use object::pe;
use object::read::pe::{ExportTarget, ImageNtHeaders, ImageOptionalHeader, Import, PeFile64};

/// The CPU an image is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    X64,
    Arm64,
}

/// One section as it is mapped.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub rva: u32,
    pub virtual_size: u32,
    /// The initialized bytes; the rest of `virtual_size` is zero.
    pub data: Vec<u8>,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

/// A base relocation the loader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocationKind {
    /// `IMAGE_REL_BASED_DIR64`: add the load delta to the 64-bit value at the address.
    Dir64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocation {
    pub rva: u32,
    pub kind: RelocationKind,
}

/// One imported function and the import address table slot the loader fills for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRef {
    pub dll: String,
    pub name: String,
    pub iat_rva: u32,
}

/// Everything the loader needs from an image file.
#[derive(Debug, Clone)]
pub struct PeImage {
    pub machine: Machine,
    pub preferred_base: u64,
    pub size_of_image: u32,
    pub size_of_headers: u32,
    pub section_alignment: u32,
    pub subsystem: u16,
    pub entry_rva: u32,
    pub headers: Vec<u8>,
    pub sections: Vec<Section>,
    pub relocations: Vec<Relocation>,
    pub imports: Vec<ImportRef>,
    pub exports: Vec<(String, u32)>,
}

/// Why an image was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Malformed(String),
    UnsupportedMachine(u16),
    WritableAndExecutable(String),
    UnsupportedRelocation {
        rva: u32,
        kind: u16,
    },
    ImportByOrdinal {
        dll: String,
        ordinal: u16,
    },
    /// Imports the host does not implement, as `DLL!name`.
    UnimplementedImports(Vec<String>),
    OutOfBounds(String),
    Os(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed PE image: {why}"),
            Self::UnsupportedMachine(m) => write!(f, "unsupported machine 0x{m:04x}"),
            Self::WritableAndExecutable(what) => {
                write!(f, "{what} would be both writable and executable")
            }
            Self::UnsupportedRelocation { rva, kind } => {
                write!(
                    f,
                    "unsupported base relocation type {kind} at rva 0x{rva:x}"
                )
            }
            Self::ImportByOrdinal { dll, ordinal } => {
                write!(f, "import by ordinal {dll}!#{ordinal} is not supported")
            }
            Self::UnimplementedImports(names) => {
                write!(f, "unimplemented import(s): {}", names.join(", "))
            }
            Self::OutOfBounds(what) => write!(f, "{what} lies outside the image"),
            Self::Os(why) => write!(f, "mapping the image failed: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}

fn malformed(err: impl fmt::Display) -> LoadError {
    LoadError::Malformed(err.to_string())
}

impl PeImage {
    /// Parses a PE32+ image (x64 or ARM64).
    pub fn parse(file: &[u8]) -> Result<Self, LoadError> {
        let pe = PeFile64::parse(file).map_err(malformed)?;
        let nt = pe.nt_headers();
        let machine = match nt.file_header().machine.get(LE) {
            pe::IMAGE_FILE_MACHINE_AMD64 => Machine::X64,
            pe::IMAGE_FILE_MACHINE_ARM64 => Machine::Arm64,
            other => return Err(LoadError::UnsupportedMachine(other.0)),
        };
        let optional = nt.optional_header();
        let size_of_headers = optional.size_of_headers.get(LE);
        let headers = file
            .get(..size_of_headers as usize)
            .ok_or_else(|| malformed("SizeOfHeaders exceeds the file"))?
            .to_vec();

        let mut sections = Vec::new();
        for header in pe.section_table().iter() {
            let name = String::from_utf8_lossy(header.raw_name())
                .trim_end_matches('\0')
                .to_owned();
            let flags = header.characteristics.get(LE);
            let data = header.pe_data(file).map_err(malformed)?;
            let virtual_size = header.virtual_size.get(LE).max(data.len() as u32);
            let data_len = data.len().min(virtual_size as usize);
            sections.push(Section {
                name,
                rva: header.virtual_address.get(LE),
                virtual_size,
                data: data[..data_len].to_vec(),
                readable: flags.0 & pe::IMAGE_SCN_MEM_READ.0 != 0,
                writable: flags.0 & pe::IMAGE_SCN_MEM_WRITE.0 != 0,
                executable: flags.0 & pe::IMAGE_SCN_MEM_EXECUTE.0 != 0,
            });
        }

        let directories = pe.data_directories();
        let section_table = pe.section_table();
        let mut relocations = Vec::new();
        if let Some(mut blocks) = directories
            .relocation_blocks(file, &section_table)
            .map_err(malformed)?
        {
            while let Some(block) = blocks.next().map_err(malformed)? {
                for reloc in block {
                    match reloc.typ {
                        pe::IMAGE_REL_BASED_ABSOLUTE => {}
                        pe::IMAGE_REL_BASED_DIR64 => relocations.push(Relocation {
                            rva: reloc.virtual_address,
                            kind: RelocationKind::Dir64,
                        }),
                        kind => {
                            return Err(LoadError::UnsupportedRelocation {
                                rva: reloc.virtual_address,
                                kind: kind.0,
                            });
                        }
                    }
                }
            }
        }

        let mut imports = Vec::new();
        if let Some(table) = pe.import_table().map_err(malformed)? {
            let mut descriptors = table.descriptors().map_err(malformed)?;
            while let Some(descriptor) = descriptors.next().map_err(malformed)? {
                let dll = String::from_utf8_lossy(
                    table.name(descriptor.name.get(LE)).map_err(malformed)?,
                )
                .into_owned();
                let iat = descriptor.first_thunk.get(LE);
                // The lookup table names the imports; without one the IAT itself does.
                let lookup = match descriptor.original_first_thunk.get(LE) {
                    0 => iat,
                    rva => rva,
                };
                let mut thunks = table.thunks(lookup).map_err(malformed)?;
                let mut index = 0u32;
                while let Some(thunk) = thunks.next::<pe::ImageNtHeaders64>().map_err(malformed)? {
                    let name = match table
                        .import::<pe::ImageNtHeaders64>(thunk)
                        .map_err(malformed)?
                    {
                        Import::Name(_hint, name) => String::from_utf8_lossy(name).into_owned(),
                        Import::Ordinal(ordinal) => {
                            return Err(LoadError::ImportByOrdinal { dll, ordinal });
                        }
                    };
                    imports.push(ImportRef {
                        dll: dll.clone(),
                        name,
                        iat_rva: iat + index * 8,
                    });
                    index += 1;
                }
            }
        }

        let mut exports = Vec::new();
        if let Some(table) = pe.export_table().map_err(malformed)? {
            for export in table.exports().map_err(malformed)? {
                if let (Some(name), ExportTarget::Address(rva)) = (export.name, export.target) {
                    exports.push((String::from_utf8_lossy(name).into_owned(), rva));
                }
            }
        }

        Ok(Self {
            machine,
            preferred_base: optional.image_base(),
            size_of_image: optional.size_of_image.get(LE),
            size_of_headers,
            section_alignment: optional.section_alignment.get(LE),
            subsystem: optional.subsystem.get(LE).0,
            entry_rva: optional.address_of_entry_point.get(LE),
            headers,
            sections,
            relocations,
            imports,
            exports,
        })
    }

    /// The RVA of an exported function.
    pub fn export(&self, name: &str) -> Option<u32> {
        self.exports
            .iter()
            .find(|(export, _)| export == name)
            .map(|&(_, rva)| rva)
    }
}
