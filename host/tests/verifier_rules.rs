//! Each verifier rule catches a violation made by machine code running in the loader (tiny
//! images assembled here call the real import implementations), names the rule and the call
//! sites with symbols, and lets the correct sequence pass.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use rswan_host::child::{self, Outcome};
use rswan_host::report::Ending;
use rswan_host::testpe::{Asm, Function, Target, TestImage};

const RUNNER: &str = env!("CARGO_BIN_EXE_rswan-host-run");

const ALLOCATE_SPIN_LOCK: usize = 0;
const ACQUIRE: usize = 1;
const RELEASE: usize = 2;
const ALLOCATE_MEMORY: usize = 3;
const FREE_MEMORY: usize = 4;
const DEREGISTER_MINIPORT: usize = 5;
const ALLOCATE_WORK_ITEM: usize = 6;
const QUEUE_WORK_ITEM: usize = 7;
const FREE_WORK_ITEM: usize = 8;
const DBG_PRINT: usize = 9;
const SEND_COMPLETE: usize = 10;

const LOCK_A: Target = Target::Zeroed(0);
const LOCK_B: Target = Target::Zeroed(16);
const SAVED: Target = Target::Zeroed(32);
const TAG: u32 = u32::from_le_bytes(*b"test");

fn image(functions: Vec<Function>) -> TestImage {
    let ndis = |name: &str| ("NDIS.SYS".to_owned(), name.to_owned());
    TestImage {
        functions,
        imports: vec![
            ndis("NdisAllocateSpinLock"),
            ndis("NdisAcquireSpinLock"),
            ndis("NdisReleaseSpinLock"),
            ndis("NdisAllocateMemoryWithTagPriority"),
            ndis("NdisFreeMemory"),
            ndis("NdisMDeregisterMiniportDriver"),
            ndis("NdisAllocateIoWorkItem"),
            ndis("NdisQueueIoWorkItem"),
            ndis("NdisFreeIoWorkItem"),
            ("ntoskrnl.exe".to_owned(), "DbgPrintEx".to_owned()),
            ndis("NdisMCoSendNetBufferListsComplete"),
        ],
        data_slots: Vec::new(),
        zeroed: 64,
        writable_code: false,
    }
}

fn on(asm: Asm, import: usize, lock: Target) -> Asm {
    asm.lea_rcx(lock).call_import(import)
}

fn init_locks(asm: Asm) -> Asm {
    let asm = on(asm, ALLOCATE_SPIN_LOCK, LOCK_A);
    on(asm, ALLOCATE_SPIN_LOCK, LOCK_B)
}

fn nested(asm: Asm, outer: Target, inner: Target) -> Asm {
    let asm = on(asm, ACQUIRE, outer);
    let asm = on(asm, ACQUIRE, inner);
    let asm = on(asm, RELEASE, inner);
    on(asm, RELEASE, outer)
}

fn allocate(asm: Asm) -> Asm {
    asm.mov_ecx(0)
        .mov_edx(64)
        .mov_r8d(TAG)
        .mov_r9d(0)
        .call_import(ALLOCATE_MEMORY)
        .store_rax(SAVED)
}

fn free(asm: Asm) -> Asm {
    asm.load_rcx(SAVED)
        .mov_edx(64)
        .mov_r8d(0)
        .call_import(FREE_MEMORY)
}

fn run(test: &str, function: Function) -> Outcome {
    run_all(test, vec![function])
}

/// Runs the first of `functions`; the others are callbacks it hands to the host.
fn run_all(test: &str, functions: Vec<Function>) -> Outcome {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verifier_rules");
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    let path: PathBuf = dir.join(format!("{test}.sys"));
    let name = functions[0].name.clone();
    image(functions).write(&path).expect("writing a test image");
    child::run(
        Path::new(RUNNER),
        "call-export-then-unload-checks",
        &path,
        &[&name],
    )
}

fn violation(outcome: &Outcome) -> (String, String) {
    match &outcome.report.ending {
        Ending::Verifier { rule, detail } => (rule.clone(), detail.clone()),
        _ => panic!("expected a verifier stop, got: {}", outcome.describe()),
    }
}

#[test]
fn balanced_locks_and_pool_pass() {
    let asm = init_locks(Asm::default().prologue());
    let asm = nested(asm, LOCK_A, LOCK_B);
    let asm = nested(asm, LOCK_A, LOCK_B);
    let asm = free(allocate(asm));
    let outcome = run("balanced", asm.epilogue().function("balanced"));
    outcome.expect_ok();
    assert_eq!(outcome.observation("pool.live"), "0");
}

#[test]
fn a_lock_order_inversion_names_both_acquisition_sites() {
    let asm = init_locks(Asm::default().prologue());
    let asm = nested(asm, LOCK_A, LOCK_B);
    let asm = nested(asm, LOCK_B, LOCK_A);
    let outcome = run("inversion", asm.epilogue().function("inversion"));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "LOCK_ORDER");
    // Each lock call is a 7-byte lea and a 6-byte call, after the 4-byte prologue and the
    // two initializations: the first order's calls return at 0x2b (A) and 0x38 (B), the
    // second's at 0x5f (B) and 0x6c (A).
    for site in [
        "(inversion+0x2b)",
        "(inversion+0x38)",
        "(inversion+0x5f)",
        "(inversion+0x6c)",
    ] {
        assert!(detail.contains(site), "{site} missing from: {detail}");
    }
}

#[test]
fn releasing_out_of_order_is_caught() {
    let asm = init_locks(Asm::default().prologue());
    let asm = on(asm, ACQUIRE, LOCK_A);
    let asm = on(asm, ACQUIRE, LOCK_B);
    let asm = on(asm, RELEASE, LOCK_A);
    let outcome = run("release_order", asm.epilogue().function("release_order"));
    assert_eq!(violation(&outcome).0, "LOCK_RELEASE_ORDER");
}

#[test]
fn acquiring_a_held_lock_again_is_caught_instead_of_hanging() {
    let asm = init_locks(Asm::default().prologue());
    let asm = on(asm, ACQUIRE, LOCK_A);
    let asm = on(asm, ACQUIRE, LOCK_A);
    let outcome = run("recursion", asm.epilogue().function("recursion"));
    assert_eq!(violation(&outcome).0, "LOCK_RECURSION");
}

#[test]
fn a_passive_level_call_under_a_spin_lock_is_caught() {
    let asm = init_locks(Asm::default().prologue());
    let asm = on(asm, ACQUIRE, LOCK_A);
    let asm = asm.mov_ecx(0).call_import(DEREGISTER_MINIPORT);
    let outcome = run("irql", asm.epilogue().function("irql"));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "IRQL");
    assert!(detail.contains("NdisMDeregisterMiniportDriver"), "{detail}");
    assert!(detail.contains("DISPATCH_LEVEL"), "{detail}");
}

#[test]
fn a_pool_leak_is_reported_at_unload_with_tag_size_and_site() {
    let asm = allocate(Asm::default().prologue());
    let outcome = run("leak", asm.epilogue().function("leak"));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "POOL_LEAK");
    assert!(detail.contains("64 bytes tag 'test'"), "{detail}");
    assert!(detail.contains("(leak+0x"), "{detail}");
}

#[test]
fn a_double_free_is_caught() {
    let asm = free(free(allocate(Asm::default().prologue())));
    let outcome = run("double_free", asm.epilogue().function("double_free"));
    assert_eq!(violation(&outcome).0, "POOL_FREE");
}

/// Queues a work item whose routine (function 1) prints its context (as DbgPrintEx's
/// component), frees the item and, when
/// `leave_locked`, returns holding a spin lock.
fn work_item_functions(leave_locked: bool) -> Vec<Function> {
    let queue = Asm::default()
        .prologue()
        .mov_ecx(0)
        .call_import(ALLOCATE_WORK_ITEM)
        .mov_rcx_rax()
        .lea_rdx(Target::Function(1))
        .mov_r8d(0x77)
        .call_import(QUEUE_WORK_ITEM)
        .epilogue()
        .function("queue_work");
    let routine = Asm::default()
        .prologue()
        .store_rdx(SAVED)
        .mov_edx(3)
        .mov_r8d(0)
        .call_import(DBG_PRINT)
        .load_rcx(SAVED)
        .call_import(FREE_WORK_ITEM);
    let routine = if leave_locked {
        let routine = on(routine, ALLOCATE_SPIN_LOCK, LOCK_A);
        on(routine, ACQUIRE, LOCK_A)
    } else {
        routine
    };
    vec![queue, routine.epilogue().function("work_routine")]
}

#[test]
fn a_work_item_runs_on_a_processor_at_passive_level() {
    let outcome = run_all("work_item", work_item_functions(false));
    outcome.expect_ok();
    assert!(
        outcome.observation("dbgprint").contains("component=119"),
        "the routine did not get its context: {:?}",
        outcome.report.observations
    );
}

#[test]
fn a_work_item_that_returns_holding_a_lock_is_caught() {
    let outcome = run_all("work_item_locked", work_item_functions(true));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "LOCK_HELD_ON_RETURN");
    assert!(detail.contains("(work_routine+0x"), "{detail}");
}

/// Completes a (bogus) send on a (bogus) VC, holding spin lock A when `locked`.
fn complete_send(locked: bool) -> Function {
    let asm = init_locks(Asm::default().prologue());
    let asm = if locked {
        on(asm, ACQUIRE, LOCK_A)
    } else {
        asm
    };
    let asm = asm
        .mov_ecx(0x1000)
        .mov_edx(0x2000)
        .mov_r8d(0)
        .call_import(SEND_COMPLETE);
    let asm = if locked {
        on(asm, RELEASE, LOCK_A)
    } else {
        asm
    };
    asm.epilogue().function("complete_send")
}

#[test]
fn a_completion_under_a_driver_spin_lock_breaks_the_kb_q219380_rule() {
    let outcome = run("q219380", complete_send(true));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "Q219380");
    assert!(
        detail.contains("NdisMCoSendNetBufferListsComplete"),
        "{detail}"
    );
    // Both the completion and the acquisition of the held lock are named.
    assert!(detail.contains("called at q219380.sys+"), "{detail}");
    assert!(detail.contains("acquired at q219380.sys+"), "{detail}");
}

#[test]
fn without_the_lock_the_same_completion_fails_only_on_its_unknown_vc() {
    let outcome = run("q219380_unlocked", complete_send(false));
    let (rule, detail) = violation(&outcome);
    assert_eq!(rule, "NDIS");
    assert!(detail.contains("no live VC"), "{detail}");
}
