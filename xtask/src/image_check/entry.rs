//! The entry point check: AddressOfEntryPoint must be `DriverEntry`.
//!
//! A driver image exports nothing and carries no symbol table, so the name comes from the
//! image's PDB, which the linker writes next to it. The PDB is trusted only if its GUID and age
//! match the CodeView record inside the image (the same match a debugger makes).

use std::fs::File;
use std::path::Path;

use pdb::{FallibleIterator, PDB, SymbolData};

use super::CodeView;
use crate::arch::Arch;

/// Names DriverEntry has in the PDB's public symbols. x86 decorates stdcall functions
/// (`_DriverEntry@8`: two 4-byte arguments).
fn driver_entry_names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86 => &["_DriverEntry@8", "_DriverEntry"],
        Arch::X64 | Arch::Arm64 => &["DriverEntry"],
    }
}

pub(super) fn check_entry(
    pdb_path: &Path,
    arch: Arch,
    entry_rva: u32,
    codeview: Option<&CodeView>,
) -> Result<(), String> {
    let codeview = codeview.ok_or(
        "the image has no CodeView record naming its PDB, so its entry point cannot be named: \
         link with /DEBUG",
    )?;
    let publics = read_publics(pdb_path, codeview)?;
    let names = driver_entry_names(arch);
    let entries: Vec<u32> = publics
        .iter()
        .filter(|(name, _)| names.contains(&name.as_str()))
        .map(|&(_, rva)| rva)
        .collect();
    if entries.contains(&entry_rva) {
        return Ok(());
    }
    let at_entry: Vec<&str> = publics
        .iter()
        .filter(|&&(_, rva)| rva == entry_rva)
        .map(|(name, _)| name.as_str())
        .collect();
    let at_entry = match at_entry.is_empty() {
        true => "no public symbol".to_string(),
        false => format!("`{}`", at_entry.join("`, `")),
    };
    Err(match entries.first() {
        None => format!(
            "{} has no public symbol {}: define it with #[unsafe(export_name = \"DriverEntry\")] \
             in driver/src/main.rs; the entry point RVA {entry_rva:#x} is {at_entry}",
            pdb_path.display(),
            names.join(" or ")
        ),
        Some(driver_entry) => format!(
            "the entry point RVA {entry_rva:#x} is {at_entry}, not DriverEntry (RVA \
             {driver_entry:#x}): link with /ENTRY:DriverEntry (build.rs)"
        ),
    })
}

/// Public symbols of the PDB as (name, RVA), after checking that it belongs to the image.
fn read_publics(pdb_path: &Path, codeview: &CodeView) -> Result<Vec<(String, u32)>, String> {
    let unreadable = |e: pdb::Error| unreadable(pdb_path, e);
    let mut pdb = open_pdb(pdb_path, codeview)?;
    let address_map = pdb.address_map().map_err(unreadable)?;
    let symbols = pdb.global_symbols().map_err(unreadable)?;
    let mut publics = Vec::new();
    let mut iter = symbols.iter();
    while let Some(symbol) = iter.next().map_err(unreadable)? {
        if let Ok(SymbolData::Public(public)) = symbol.parse()
            && let Some(rva) = public.offset.to_rva(&address_map)
        {
            publics.push((public.name.to_string().into_owned(), rva.0));
        }
    }
    Ok(publics)
}

fn unreadable(pdb_path: &Path, e: pdb::Error) -> String {
    format!(
        "cannot read {}: {e}; the PDB from the same build must sit next to the image",
        pdb_path.display()
    )
}

/// Opens the image's PDB, after checking that it belongs to the image (GUID and age).
pub(super) fn open_pdb(pdb_path: &Path, codeview: &CodeView) -> Result<PDB<'static, File>, String> {
    let unreadable = |e: pdb::Error| unreadable(pdb_path, e);
    let file = File::open(pdb_path).map_err(|e| {
        format!(
            "cannot open {}: {e}; the PDB from the same build must sit next to the image (cargo \
             writes it beside the .exe; the package copies it as rswan.pdb)",
            pdb_path.display()
        )
    })?;
    let mut pdb = PDB::open(file).map_err(unreadable)?;
    let info = pdb.pdb_information().map_err(unreadable)?;
    // The DBI age is the one the linker writes alongside the image's; tools may bump the other.
    let age = pdb
        .debug_information()
        .map_err(unreadable)?
        .age()
        .unwrap_or(info.age);
    if info.guid.to_bytes_le() != codeview.guid || age != codeview.age {
        return Err(format!(
            "{} belongs to another build (GUID {} age {age}; the image wants GUID {} age {}): \
             copy the PDB of this build next to the image",
            pdb_path.display(),
            info.guid,
            guid_text(&codeview.guid),
            codeview.age
        ));
    }
    Ok(pdb)
}

/// A GUID as stored in a CodeView record (the first three fields little-endian), in the usual
/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form.
fn guid_text(raw: &[u8; 16]) -> String {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let reversed = |bytes: &[u8]| bytes.iter().rev().copied().collect::<Vec<u8>>();
    format!(
        "{}-{}-{}-{}-{}",
        hex(&reversed(&raw[0..4])),
        hex(&reversed(&raw[4..6])),
        hex(&reversed(&raw[6..8])),
        hex(&raw[8..10]),
        hex(&raw[10..16])
    )
}
