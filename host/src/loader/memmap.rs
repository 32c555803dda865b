//! The memory the host knows to be alive, and field access to it.
//!
//! Packets, requests and call parameters are shared between the host and the driver by
//! address. Every read or write the host makes through [`peek`] and [`poke`] first checks
//! that the whole range lies in memory that is alive right now: a block the host allocated
//! for the driver (the arena), a live pool allocation, the mapped image, or the stack of the
//! calling thread. A driver that hands back an NBL after freeing it, or a pointer into freed
//! pool, is then caught as a verifier violation instead of corrupting the host.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::memory;
use crate::kernel::checks::checks;

fn arena() -> MutexGuard<'static, BTreeMap<usize, usize>> {
    static ARENA: OnceLock<Mutex<BTreeMap<usize, usize>>> = OnceLock::new();
    ARENA
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A zeroed block of `size` bytes the host shares with the driver; 0 when out of memory.
pub fn allocate(size: usize) -> usize {
    let block = memory::allocate(size, 0);
    if block != 0 {
        arena().insert(block, size);
    }
    block
}

/// Releases a block from [`allocate`]. Returns false (and frees nothing) if `block` is not a
/// live arena block.
pub fn release(block: usize) -> bool {
    let Some(size) = arena().remove(&block) else {
        return false;
    };
    memory::release(block, size, crate::kernel::pool::FREED_FILL);
    true
}

/// The live arena block that starts at `block`, and its size.
pub fn arena_block(block: usize) -> Option<usize> {
    arena().get(&block).copied()
}

fn in_arena(address: usize, len: usize) -> bool {
    arena()
        .range(..=address)
        .next_back()
        .is_some_and(|(&start, &size)| address + len <= start + size)
}

fn in_pool(address: usize, len: usize) -> bool {
    checks()
        .pool
        .containing(address)
        .is_some_and(|(start, allocation)| address + len <= start + allocation.size)
}

fn in_image(address: usize, len: usize) -> bool {
    super::image_range().is_some_and(|(base, size)| address >= base && address + len <= base + size)
}

/// The calling thread's stack, as (lowest address, size).
fn current_stack() -> (usize, usize) {
    thread_local! {
        static STACK: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
    }
    STACK.with(|cell| {
        if cell.get().1 == 0 {
            cell.set(query_stack());
        }
        cell.get()
    })
}

fn query_stack() -> (usize, usize) {
    // SAFETY: an all-zero pthread_attr_t is only storage for pthread_getattr_np to fill.
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    // SAFETY: `me` is the calling thread; `attr` is writable.
    let rc = unsafe { libc::pthread_getattr_np(me, &mut attr) };
    if rc != 0 {
        return (0, 0);
    }
    let mut low: *mut libc::c_void = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `attr` was initialised by pthread_getattr_np; the out pointers are valid.
    let rc = unsafe { libc::pthread_attr_getstack(&attr, &mut low, &mut size) };
    // SAFETY: `attr` was initialised above and is destroyed once.
    unsafe { libc::pthread_attr_destroy(&mut attr) };
    if rc != 0 {
        return (0, 0);
    }
    (low as usize, size)
}

fn on_stack(address: usize, len: usize) -> bool {
    let (low, size) = current_stack();
    address >= low && address + len <= low + size
}

/// Whether `[address, address + len)` is memory the host knows to be alive.
pub fn is_live(address: usize, len: usize) -> bool {
    address != 0
        && address.checked_add(len).is_some()
        && (in_arena(address, len)
            || in_pool(address, len)
            || in_image(address, len)
            || on_stack(address, len))
}

/// Checks a range; the error names what was accessed.
pub fn check(address: usize, len: usize, what: &str) -> Result<(), String> {
    if is_live(address, len) {
        Ok(())
    } else {
        Err(format!(
            "{what} at {address:#x} ({len} bytes) is not live memory: not a host block, not \
             live pool, not the image and not this thread's stack (freed, or never allocated)"
        ))
    }
}

fn checked(address: usize, len: usize, what: &str) {
    if let Err(message) = check(address, len, what) {
        crate::report::violation("MEMORY", &message);
    }
}

/// Reads `len` bytes at `address` (a violation ends the scenario if it is not live memory).
pub fn peek(address: usize, len: usize, what: &str) -> Vec<u8> {
    checked(address, len, what);
    let mut bytes = vec![0u8; len];
    // SAFETY: the range is live memory (checked above); `bytes` is a separate allocation.
    unsafe { std::ptr::copy_nonoverlapping(address as *const u8, bytes.as_mut_ptr(), len) };
    bytes
}

/// Writes `bytes` at `address` (a violation ends the scenario if it is not live memory).
pub fn poke(address: usize, bytes: &[u8], what: &str) {
    checked(address, bytes.len(), what);
    // SAFETY: the range is live memory (checked above); `bytes` is a separate allocation.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), address as *mut u8, bytes.len()) };
}

pub fn peek_usize(address: usize, what: &str) -> usize {
    let bytes = peek(address, size_of::<usize>(), what);
    usize::from_le_bytes(bytes.try_into().unwrap_or_default())
}

pub fn peek_u32(address: usize, what: &str) -> u32 {
    let bytes = peek(address, 4, what);
    u32::from_le_bytes(bytes.try_into().unwrap_or_default())
}

pub fn peek_u16(address: usize, what: &str) -> u16 {
    let bytes = peek(address, 2, what);
    u16::from_le_bytes(bytes.try_into().unwrap_or_default())
}

pub fn poke_usize(address: usize, value: usize, what: &str) {
    poke(address, &value.to_le_bytes(), what);
}

pub fn poke_u32(address: usize, value: u32, what: &str) {
    poke(address, &value.to_le_bytes(), what);
}

pub fn poke_u16(address: usize, value: u16, what: &str) {
    poke(address, &value.to_le_bytes(), what);
}
