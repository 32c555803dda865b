//! Debug output through `DbgPrintEx` (WDK: nf-wdm-dbgprintex), one line per message, under the
//! IHV network component so `ed nt!Kd_IHVNETWORK_Mask` (or the registry's Debug Print Filter)
//! selects it.

use core::fmt::{self, Write};

/// `DPFLTR_IHVNETWORK_ID` (dpfilter.h).
pub const COMPONENT_ID: u32 = 80;

/// `DPFLTR_*_LEVEL` values.
pub mod level {
    pub const ERROR: u32 = 0;
    pub const WARNING: u32 = 1;
    pub const TRACE: u32 = 2;
    pub const INFO: u32 = 3;
}

/// Longest line printed, NUL included; longer messages are cut (and end in `...`).
pub const LINE_CAPACITY: usize = 256;

/// A NUL-terminated line on the stack (non-paged, as DbgPrintEx requires at raised IRQL).
#[derive(Debug)]
pub struct Line {
    bytes: [u8; LINE_CAPACITY],
    len: usize,
    truncated: bool,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            bytes: [0; LINE_CAPACITY],
            len: 0,
            truncated: false,
        }
    }
}

impl Line {
    /// Formats `args` into a line, cutting it to fit; a `%` is kept as is because the line is
    /// passed as a `%s` argument, never as the format.
    pub fn format(args: fmt::Arguments<'_>) -> Line {
        let mut line = Line::default();
        // `write_str` never fails; a cut message is marked instead.
        let _ = line.write_fmt(args);
        if line.truncated {
            let end = LINE_CAPACITY - 1;
            line.bytes[end - 3..end].copy_from_slice(b"...");
            line.len = end;
        }
        line.bytes[line.len] = 0;
        line
    }

    /// The text, without the NUL.
    pub fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The text with its NUL.
    pub fn c_str(&self) -> &[u8] {
        &self.bytes[..=self.len]
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LINE_CAPACITY - 1 - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        self.truncated |= take < s.len();
        Ok(())
    }
}

/// Prints one line: `rswan: <message>`.
///
/// IRQL: <= DIRQL (everything printed is on the stack, and only `%s` is used).
#[cfg(windows)]
pub fn print(level: u32, args: fmt::Arguments<'_>) {
    let line = Line::format(args);
    // SAFETY: both strings are NUL-terminated and live across the call; the format uses one
    // `%s`, matched by one pointer argument.
    unsafe {
        crate::imports::DbgPrintEx(
            COMPONENT_ID,
            level,
            c"rswan: %s\n".as_ptr().cast(),
            line.c_str().as_ptr(),
        )
    };
}

/// `dbg_print!(level::TRACE, "call {} connected", id)`: one line of debug output.
#[macro_export]
macro_rules! dbg_print {
    ($level:expr, $($arg:tt)*) => {
        $crate::debug::print($level, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_line_is_kept_whole_and_nul_terminated() {
        let line = Line::format(format_args!("vc {} up, {}%", 7, 100));
        assert_eq!(line.text(), b"vc 7 up, 100%");
        assert_eq!(line.c_str().last(), Some(&0));
        assert_eq!(line.c_str().len(), line.text().len() + 1);
    }

    #[test]
    fn a_long_line_is_cut_with_an_ellipsis_and_still_terminated() {
        let long = [b'x'; 400];
        let text = core::str::from_utf8(&long).unwrap();
        let line = Line::format(format_args!("{text}"));
        assert_eq!(line.text().len(), LINE_CAPACITY - 1);
        assert!(line.text().ends_with(b"..."));
        assert_eq!(line.c_str()[LINE_CAPACITY - 1], 0);
    }
}
