//! The image's functions as its PDB's module streams describe them: name, RVA, length, and the
//! frame the compiler recorded for each (S_FRAMEPROC).
//!
//! S_FRAMEPROC (record kind 0x1012) follows each S_GPROC32/S_LPROC32; its layout after the
//! 2-byte kind is cbFrame (u32), cbPad, offPad, cbSaveRegs, offExHdlr (u32 each), sectExHdlr
//! (u16), flags (u32) (FRAMEPROCSYM in cvinfo.h of Microsoft's public microsoft-pdb
//! repository). LLVM writes cbFrame as the frame without the callee-saved registers and
//! cbSaveRegs as those registers' bytes, so their sum is the fixed frame; the x86 image, which
//! has no unwind table, is measured with it (the tests compare it with the x64 unwind data).

use std::path::Path;

use pdb::{FallibleIterator, SymbolData};

use super::CodeView;
use super::entry::open_pdb;

/// S_FRAMEPROC (cvinfo.h).
const S_FRAMEPROC: u16 = 0x1012;

/// One function of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure {
    pub name: String,
    pub rva: u32,
    pub len: u32,
    /// cbFrame + cbSaveRegs of its S_FRAMEPROC, if it has one.
    pub recorded_frame: Option<u32>,
}

/// Every procedure in the PDB's module streams, sorted by RVA.
pub fn read(pdb_path: &Path, codeview: &CodeView) -> Result<Vec<Procedure>, String> {
    let unreadable = |e: pdb::Error| format!("cannot read {}: {e}", pdb_path.display());
    let mut pdb = open_pdb(pdb_path, codeview)?;
    let address_map = pdb.address_map().map_err(unreadable)?;
    let debug_info = pdb.debug_information().map_err(unreadable)?;
    let mut modules = debug_info.modules().map_err(unreadable)?;
    let mut procedures = Vec::new();
    while let Some(module) = modules.next().map_err(unreadable)? {
        let Some(info) = pdb.module_info(&module).map_err(unreadable)? else {
            continue;
        };
        let mut symbols = info.symbols().map_err(unreadable)?;
        let mut current: Option<usize> = None;
        while let Some(symbol) = symbols.next().map_err(unreadable)? {
            if symbol.raw_kind() == S_FRAMEPROC {
                if let Some(index) = current.take() {
                    let procedure: &mut Procedure = &mut procedures[index];
                    procedure.recorded_frame = frame_proc(symbol.raw_bytes());
                }
                continue;
            }
            if let Ok(SymbolData::Procedure(procedure)) = symbol.parse() {
                current = None;
                if let Some(rva) = procedure.offset.to_rva(&address_map) {
                    current = Some(procedures.len());
                    procedures.push(Procedure {
                        name: procedure.name.to_string().into_owned(),
                        rva: rva.0,
                        len: procedure.len,
                        recorded_frame: None,
                    });
                }
            }
        }
    }
    procedures.sort_by_key(|p| p.rva);
    Ok(procedures)
}

/// cbFrame + cbSaveRegs of an S_FRAMEPROC record (kind included).
fn frame_proc(record: &[u8]) -> Option<u32> {
    let field = |at: usize| {
        record
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    field(2)?.checked_add(field(14)?)
}

/// The procedure that contains `rva`.
pub fn containing(procedures: &[Procedure], rva: u32) -> Option<&Procedure> {
    let after = procedures.partition_point(|p| p.rva <= rva);
    procedures[..after]
        .iter()
        .rev()
        .find(|p| rva < p.rva.saturating_add(p.len.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_proc_adds_frame_and_saved_registers() {
        let mut record = S_FRAMEPROC.to_le_bytes().to_vec();
        for value in [0x2A0u32, 0, 0, 0x38, 0] {
            record.extend(value.to_le_bytes());
        }
        record.extend([0, 0, 0, 0, 0, 0]);
        assert_eq!(frame_proc(&record), Some(0x2A0 + 0x38));
        assert_eq!(frame_proc(&record[..10]), None);
    }

    #[test]
    fn containing_finds_the_function_around_an_rva() {
        let p = |name: &str, rva, len| Procedure {
            name: name.into(),
            rva,
            len,
            recorded_frame: None,
        };
        let list = [p("a", 0x1000, 0x20), p("b", 0x1040, 0x10)];
        assert_eq!(containing(&list, 0x1000).unwrap().name, "a");
        assert_eq!(containing(&list, 0x104F).unwrap().name, "b");
        assert!(containing(&list, 0x1030).is_none());
        assert!(containing(&list, 0x0FFF).is_none());
    }
}
