//! ntoskrnl.exe exports.

use crate::loader::cpu;
use crate::report;

pub fn exports() -> Vec<(&'static str, usize)> {
    vec![("KeBugCheckEx", ke_bug_check_ex as *const () as usize)]
}

/// WDK: KeBugCheckEx. IRQL: any. "Brings down the system in a controlled manner": here the
/// scenario ends with a report of the code, the four parameters and the calling site.
extern "win64" fn ke_bug_check_ex(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> ! {
    report::bugcheck(code, [p1, p2, p3, p4], cpu::last_caller())
}
