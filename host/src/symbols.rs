//! Names for addresses in an image: the public symbols of its PDB (written next to the image by
//! the linker), else a map file (`<stem>.map`, lines of `RVA name` in hex) that test images
//! carry, plus the image's exports.
#![forbid(unsafe_code)]

use std::fs::File;
use std::path::Path;

use pdb::FallibleIterator;

use crate::pe::PeImage;

#[derive(Debug, Clone, Default)]
pub struct Symbols {
    image_name: String,
    /// Sorted by RVA.
    entries: Vec<(u32, String)>,
}

impl Symbols {
    /// Symbols for the image at `path`, from whatever sources exist beside it.
    pub fn for_image(path: &Path) -> Self {
        let mut entries = Vec::new();
        if let Ok(bytes) = std::fs::read(path)
            && let Ok(image) = PeImage::parse(&bytes)
        {
            entries.extend(image.exports.iter().map(|(name, rva)| (*rva, name.clone())));
        }
        let pdb_path = path.with_extension("pdb");
        if let Ok(from_pdb) = read_pdb(&pdb_path) {
            entries.extend(from_pdb);
        }
        if let Ok(text) = std::fs::read_to_string(path.with_extension("map")) {
            entries.extend(parse_map(&text));
        }
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        Self {
            image_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            entries,
        }
    }

    pub fn image_name(&self) -> &str {
        &self.image_name
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The nearest symbol at or below `rva`, with the distance from it.
    pub fn lookup(&self, rva: u32) -> Option<(&str, u32)> {
        let index = self.entries.partition_point(|(start, _)| *start <= rva);
        let (start, name) = self.entries.get(index.checked_sub(1)?)?;
        Some((name.as_str(), rva - start))
    }

    /// The RVA of the symbol called `name`.
    pub fn rva_of(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .find(|(_, n)| n == name)
            .map(|(rva, _)| *rva)
    }
}

fn parse_map(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .filter_map(|line| {
            let (rva, name) = line.trim().split_once(char::is_whitespace)?;
            let rva = u32::from_str_radix(rva.trim_start_matches("0x"), 16).ok()?;
            Some((rva, name.trim().to_owned()))
        })
        .collect()
}

fn read_pdb(path: &Path) -> Result<Vec<(u32, String)>, pdb::Error> {
    let file = File::open(path)?;
    let mut pdb = pdb::PDB::open(file)?;
    let address_map = pdb.address_map()?;
    let mut entries = Vec::new();
    let globals = pdb.global_symbols()?;
    let mut iter = globals.iter();
    while let Some(symbol) = iter.next()? {
        if let Ok(pdb::SymbolData::Public(public)) = symbol.parse()
            && let Some(rva) = public.offset.to_rva(&address_map)
        {
            entries.push((rva.0, public.name.to_string().into_owned()));
        }
    }
    // Procedures from the module streams name functions the public table may lack.
    let dbi = pdb.debug_information()?;
    let mut modules = dbi.modules()?;
    while let Some(module) = modules.next()? {
        let Some(info) = pdb.module_info(&module)? else {
            continue;
        };
        let mut symbols = info.symbols()?;
        while let Some(symbol) = symbols.next()? {
            if let Ok(pdb::SymbolData::Procedure(proc)) = symbol.parse()
                && let Some(rva) = proc.offset.to_rva(&address_map)
            {
                entries.push((rva.0, proc.name.to_string().into_owned()));
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_the_nearest_symbol_below() {
        let symbols = Symbols {
            image_name: "x.sys".into(),
            entries: parse_map("1000 first\n1040 second\n"),
        };
        assert_eq!(symbols.lookup(0x1000), Some(("first", 0)));
        assert_eq!(symbols.lookup(0x103f), Some(("first", 0x3f)));
        assert_eq!(symbols.lookup(0x1050), Some(("second", 0x10)));
        assert_eq!(symbols.lookup(0xfff), None);
        assert_eq!(symbols.rva_of("second"), Some(0x1040));
    }
}
