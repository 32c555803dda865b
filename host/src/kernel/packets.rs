//! NET_BUFFER_LIST, NET_BUFFER and MDL as NDIS builds and edits them (WDK:
//! NdisAllocateNetBufferListPool, NdisAllocateNetBufferAndNetBufferList, NdisFreeNetBufferList,
//! NdisAllocateMdl, NdisFreeMdl, NdisGetDataBuffer, NdisRetreatNetBufferDataStart,
//! NdisAdvanceNetBufferDataStart; "NET_BUFFER Architecture"). Every structure lives in host
//! arena memory and is reached field by field at the offsets of the rswan-ndis types, with
//! every access checked against live memory (crate::loader::memmap).
//!
//! The data of a NET_BUFFER starts `DataOffset` bytes into its MDL chain; `CurrentMdl` is the
//! MDL holding that byte and `CurrentMdlOffset` its position in it; `DataLength` bytes follow.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use core::mem::offset_of;

use rswan_ndis::buffer::{Mdl, NetBuffer, NetBufferData, NetBufferList, mdl_flags};

use crate::loader::handles;
use crate::loader::memmap::{
    self, allocate, peek, peek_u32, peek_usize, poke, poke_u16, poke_u32, poke_usize,
};

const PAGE: usize = 4096;
/// MEMORY_ALLOCATION_ALIGNMENT on 64-bit Windows.
const ALIGN: usize = 16;
/// Room for NetBufferListInfo entries of later NDIS versions than rswan-ndis describes.
const NBL_INFO_ENTRIES: usize = 32;
/// NET_BUFFER_LIST_CONTEXT: Next, Size, Offset, then ContextData at the allocation alignment.
const CONTEXT_HEADER: usize = 16;

fn nbl_size() -> usize {
    offset_of!(NetBufferList, net_buffer_list_info) + NBL_INFO_ENTRIES * size_of::<usize>()
}

const NB_DATA: usize = offset_of!(NetBuffer, data);
const NB_NEXT: usize = NB_DATA + offset_of!(NetBufferData, next);
const NB_CURRENT_MDL: usize = NB_DATA + offset_of!(NetBufferData, current_mdl);
const NB_CURRENT_MDL_OFFSET: usize = NB_DATA + offset_of!(NetBufferData, current_mdl_offset);
const NB_DATA_LENGTH: usize = NB_DATA + offset_of!(NetBufferData, data_length);
const NB_MDL_CHAIN: usize = NB_DATA + offset_of!(NetBufferData, mdl_chain);
const NB_DATA_OFFSET: usize = NB_DATA + offset_of!(NetBufferData, data_offset);
const NB_POOL_HANDLE: usize = offset_of!(NetBuffer, ndis_pool_handle);

const NBL_NEXT: usize = offset_of!(NetBufferList, next);
const NBL_FIRST_NB: usize = offset_of!(NetBufferList, first_net_buffer);
const NBL_CONTEXT: usize = offset_of!(NetBufferList, context);
const NBL_POOL_HANDLE: usize = offset_of!(NetBufferList, ndis_pool_handle);
const NBL_SOURCE_HANDLE: usize = offset_of!(NetBufferList, source_handle);
const NBL_STATUS: usize = offset_of!(NetBufferList, status);

/// An NBL pool (NdisAllocateNetBufferListPool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolParameters {
    pub allocate_net_buffer: bool,
    pub context_size: u16,
    pub tag: u32,
    pub data_size: u32,
}

/// What an NBL from a pool carries besides itself, freed with it.
#[derive(Debug, Clone, Default)]
struct NblParts {
    pool: usize,
    net_buffer: usize,
    context: usize,
    /// A data buffer and its MDL, when the pool gives each NBL data of its own.
    data: Option<(usize, usize)>,
}

#[derive(Debug, Default)]
struct Packets {
    pools: HashMap<usize, (PoolParameters, usize)>,
    nbls: HashMap<usize, NblParts>,
    /// MDLs NDIS allocated (NdisAllocateMdl, or to extend a NET_BUFFER), by address.
    mdls: HashMap<usize, usize>,
    /// Per NET_BUFFER, the (MDL, buffer) pairs NdisRetreatNetBufferDataStart chained in
    /// front of its chain, innermost first.
    added: HashMap<usize, Vec<(usize, usize)>>,
    /// Clones: their NET_BUFFERs, the MDLs NDIS made for them, and the clone flags.
    clones: HashMap<usize, (Vec<usize>, Vec<usize>, u32)>,
}

fn packets() -> MutexGuard<'static, Packets> {
    static PACKETS: OnceLock<Mutex<Packets>> = OnceLock::new();
    PACKETS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A new NBL pool handle.
pub fn allocate_pool(parameters: PoolParameters) -> usize {
    let handle = handles::next();
    packets().pools.insert(handle, (parameters, 0));
    handle
}

/// Frees a pool; every NBL allocated from it must have been freed.
pub fn free_pool(handle: usize) -> Result<(), String> {
    let mut packets = packets();
    match packets.pools.get(&handle) {
        None => Err(format!("NBL pool {handle:#x} is not a live pool")),
        Some((_, live)) if *live > 0 => Err(format!(
            "NBL pool {handle:#x} freed with {live} NET_BUFFER_LIST(s) from it not freed"
        )),
        Some(_) => {
            packets.pools.remove(&handle);
            Ok(())
        }
    }
}

/// The unload-time check: every NBL pool, NBL and MDL NDIS allocated was freed.
pub fn check_all_freed() -> Result<(), String> {
    let packets = packets();
    let added: usize = packets.added.values().map(Vec::len).sum();
    let driver_mdls = packets.mdls.len().saturating_sub(added);
    if packets.pools.is_empty()
        && packets.nbls.is_empty()
        && packets.clones.is_empty()
        && driver_mdls == 0
    {
        return Ok(());
    }
    Err(format!(
        "not freed at unload: {} NBL pool(s), {} NET_BUFFER_LIST(s), {} clone(s), {} MDL(s)",
        packets.pools.len(),
        packets.nbls.len(),
        packets.clones.len(),
        driver_mdls
    ))
}

/// An MDL describing `length` bytes at `address` (NdisAllocateMdl): mapped to system space,
/// as nonpaged memory is.
pub fn allocate_mdl(address: usize, length: u32) -> usize {
    let pages = (address % PAGE + length as usize).div_ceil(PAGE).max(1);
    let size = size_of::<Mdl>() + pages * size_of::<usize>();
    let mdl = allocate(size);
    if mdl == 0 {
        return 0;
    }
    poke_u16(mdl + offset_of!(Mdl, size), size as u16, "MDL.Size");
    poke_u16(
        mdl + offset_of!(Mdl, mdl_flags),
        (mdl_flags::MAPPED_TO_SYSTEM_VA | mdl_flags::SOURCE_IS_NONPAGED_POOL) as u16,
        "MDL.MdlFlags",
    );
    poke_usize(
        mdl + offset_of!(Mdl, mapped_system_va),
        address,
        "MDL.MappedSystemVa",
    );
    poke_usize(
        mdl + offset_of!(Mdl, start_va),
        address - address % PAGE,
        "MDL.StartVa",
    );
    poke_u32(mdl + offset_of!(Mdl, byte_count), length, "MDL.ByteCount");
    poke_u32(
        mdl + offset_of!(Mdl, byte_offset),
        (address % PAGE) as u32,
        "MDL.ByteOffset",
    );
    packets().mdls.insert(mdl, address);
    mdl
}

/// Frees an MDL from [`allocate_mdl`].
pub fn free_mdl(mdl: usize) -> Result<(), String> {
    if packets().mdls.remove(&mdl).is_none() || !memmap::release(mdl) {
        return Err(format!(
            "NdisFreeMdl({mdl:#x}) of an MDL NDIS did not allocate (or freed twice)"
        ));
    }
    Ok(())
}

/// The system address and length of an MDL's data.
pub fn mdl_data(mdl: usize) -> (usize, usize) {
    let flags = memmap::peek_u16(mdl + offset_of!(Mdl, mdl_flags), "MDL.MdlFlags");
    let length = peek_u32(mdl + offset_of!(Mdl, byte_count), "MDL.ByteCount") as usize;
    let address = if flags as i16 & mdl_flags::MAPPED_TO_SYSTEM_VA != 0 {
        peek_usize(
            mdl + offset_of!(Mdl, mapped_system_va),
            "MDL.MappedSystemVa",
        )
    } else {
        peek_usize(mdl + offset_of!(Mdl, start_va), "MDL.StartVa")
            + peek_u32(mdl + offset_of!(Mdl, byte_offset), "MDL.ByteOffset") as usize
    };
    (address, length)
}

fn mdl_next(mdl: usize) -> usize {
    peek_usize(mdl + offset_of!(Mdl, next), "MDL.Next")
}

/// The MDL holding byte `offset` of the chain, and the offset in it (the end of the chain if
/// the offset is past it).
fn locate(chain: usize, offset: usize) -> (usize, usize) {
    let mut mdl = chain;
    let mut remaining = offset;
    while mdl != 0 {
        let (_, length) = mdl_data(mdl);
        if remaining < length || mdl_next(mdl) == 0 {
            return (mdl, remaining);
        }
        remaining -= length;
        mdl = mdl_next(mdl);
    }
    (0, remaining)
}

/// A NET_BUFFER describing `length` bytes from `offset` of `chain`.
fn fill_net_buffer(nb: usize, chain: usize, offset: usize, length: usize, pool: usize) {
    let (current, current_offset) = locate(chain, offset);
    poke_usize(nb + NB_MDL_CHAIN, chain, "NET_BUFFER.MdlChain");
    poke_usize(nb + NB_CURRENT_MDL, current, "NET_BUFFER.CurrentMdl");
    poke_u32(
        nb + NB_CURRENT_MDL_OFFSET,
        current_offset as u32,
        "NET_BUFFER.CurrentMdlOffset",
    );
    poke_u32(nb + NB_DATA_OFFSET, offset as u32, "NET_BUFFER.DataOffset");
    poke_usize(nb + NB_DATA_LENGTH, length, "NET_BUFFER.DataLength");
    poke_usize(nb + NB_POOL_HANDLE, pool, "NET_BUFFER.NdisPoolHandle");
}

/// NdisAllocateNetBufferAndNetBufferList: an NBL with one NET_BUFFER, and a context area of
/// `context_size` used bytes after `context_backfill` unused ones.
pub fn allocate_nbl(
    pool: usize,
    context_size: u16,
    context_backfill: u16,
    mdl_chain: usize,
    data_offset: u32,
    data_length: usize,
) -> Result<usize, String> {
    let parameters = {
        let packets = packets();
        let (parameters, _) = packets
            .pools
            .get(&pool)
            .ok_or_else(|| format!("NBL pool {pool:#x} is not a live pool"))?;
        *parameters
    };
    if !parameters.allocate_net_buffer {
        return Err(
            "NdisAllocateNetBufferAndNetBufferList from a pool made without fAllocateNetBuffer"
                .into(),
        );
    }
    if usize::from(context_size) % ALIGN != 0 || usize::from(context_backfill) % ALIGN != 0 {
        return Err(format!(
            "ContextSize {context_size} and ContextBackFill {context_backfill} must be multiples of MEMORY_ALLOCATION_ALIGNMENT"
        ));
    }
    let nbl = allocate(nbl_size());
    let nb = allocate(size_of::<NetBuffer>());
    if nbl == 0 || nb == 0 {
        return Ok(0);
    }
    let mut parts = NblParts {
        pool,
        net_buffer: nb,
        ..NblParts::default()
    };
    let used = usize::from(context_size.max(parameters.context_size));
    if used + usize::from(context_backfill) > 0 {
        let total = used + usize::from(context_backfill);
        let context = allocate(CONTEXT_HEADER + total);
        poke_u16(context + 8, total as u16, "NET_BUFFER_LIST_CONTEXT.Size");
        poke_u16(
            context + 10,
            (total - used) as u16,
            "NET_BUFFER_LIST_CONTEXT.Offset",
        );
        poke_usize(nbl + NBL_CONTEXT, context, "NET_BUFFER_LIST.Context");
        parts.context = context;
    }
    let mut chain = mdl_chain;
    if chain == 0 && parameters.data_size > 0 {
        let data = allocate(parameters.data_size as usize);
        let mdl = allocate_mdl(data, parameters.data_size);
        parts.data = Some((data, mdl));
        chain = mdl;
    }
    fill_net_buffer(nb, chain, data_offset as usize, data_length, pool);
    poke_usize(nbl + NBL_FIRST_NB, nb, "NET_BUFFER_LIST.FirstNetBuffer");
    poke_usize(
        nbl + NBL_POOL_HANDLE,
        pool,
        "NET_BUFFER_LIST.NdisPoolHandle",
    );
    let mut packets = packets();
    if let Some((_, live)) = packets.pools.get_mut(&pool) {
        *live += 1;
    }
    packets.nbls.insert(nbl, parts);
    Ok(nbl)
}

/// NdisFreeNetBufferList of an NBL from [`allocate_nbl`] (not the caller's MDLs).
pub fn free_nbl(nbl: usize) -> Result<(), String> {
    let parts = {
        let mut packets = packets();
        let parts = packets.nbls.remove(&nbl).ok_or_else(|| {
            format!(
                "NdisFreeNetBufferList({nbl:#x}) of an NBL not allocated from an NDIS pool (or freed twice)"
            )
        })?;
        if let Some((_, live)) = packets.pools.get_mut(&parts.pool) {
            *live -= 1;
        }
        parts
    };
    // MDLs the retreat path added go back with the NBL.
    free_added_mdls(parts.net_buffer);
    if let Some((data, mdl)) = parts.data {
        free_mdl(mdl)?;
        memmap::release(data);
    }
    if parts.context != 0 {
        memmap::release(parts.context);
    }
    memmap::release(parts.net_buffer);
    memmap::release(nbl);
    Ok(())
}

/// Frees the MDLs (and their buffers) that NdisRetreatNetBufferDataStart chained in front of
/// the caller's chain of `nb`.
fn free_added_mdls(nb: usize) {
    let added = packets().added.remove(&nb).unwrap_or_default();
    for (mdl, buffer) in added {
        let _ = free_mdl(mdl);
        memmap::release(buffer);
    }
}

/// NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS: the clone's NET_BUFFERs use the original's MDLs.
pub const CLONE_USE_ORIGINAL_MDLS: u32 = 0x1;

/// NdisAllocateCloneNetBufferList: a new NBL with one NET_BUFFER per NET_BUFFER of
/// `original`, describing the same data. Without CLONE_USE_ORIGINAL_MDLS each clone NET_BUFFER
/// gets MDLs of its own over the same buffers.
pub fn clone_nbl(original: usize, pool: usize, flags: u32) -> Result<usize, String> {
    if pool != 0 && !packets().pools.contains_key(&pool) {
        return Err(format!("NBL pool {pool:#x} is not a live pool"));
    }
    let clone = allocate(nbl_size());
    let mut nbs = Vec::new();
    let mut mdls = Vec::new();
    let mut previous = 0;
    for nb in net_buffers(original) {
        let (offset, length) = net_buffer_span(nb);
        let mut chain = peek_usize(nb + NB_MDL_CHAIN, "NET_BUFFER.MdlChain");
        if flags & CLONE_USE_ORIGINAL_MDLS == 0 {
            let mut copies = Vec::new();
            let mut mdl = chain;
            while mdl != 0 {
                let (address, mdl_length) = mdl_data(mdl);
                copies.push(allocate_mdl(address, mdl_length as u32));
                mdl = mdl_next(mdl);
            }
            for pair in copies.windows(2) {
                poke_usize(pair[0] + offset_of!(Mdl, next), pair[1], "MDL.Next");
            }
            chain = copies.first().copied().unwrap_or(0);
            mdls.extend(copies);
        }
        let copy = allocate(size_of::<NetBuffer>());
        fill_net_buffer(copy, chain, offset, length, pool);
        if previous == 0 {
            poke_usize(clone + NBL_FIRST_NB, copy, "NET_BUFFER_LIST.FirstNetBuffer");
        } else {
            poke_usize(previous + NB_NEXT, copy, "NET_BUFFER.Next");
        }
        previous = copy;
        nbs.push(copy);
    }
    poke_usize(
        clone + NBL_POOL_HANDLE,
        pool,
        "NET_BUFFER_LIST.NdisPoolHandle",
    );
    packets().clones.insert(clone, (nbs, mdls, flags));
    Ok(clone)
}

/// NdisFreeCloneNetBufferList with the flags of the allocation.
pub fn free_clone(clone: usize, flags: u32) -> Result<(), String> {
    let (nbs, mdls, allocated_with) = packets().clones.remove(&clone).ok_or_else(|| {
        format!("NdisFreeCloneNetBufferList({clone:#x}) of an NBL that is no live clone")
    })?;
    if flags != allocated_with {
        return Err(format!(
            "NdisFreeCloneNetBufferList flags {flags:#x}, but the clone was allocated with {allocated_with:#x}"
        ));
    }
    for nb in nbs {
        free_added_mdls(nb);
        memmap::release(nb);
    }
    for mdl in mdls {
        free_mdl(mdl)?;
    }
    memmap::release(clone);
    Ok(())
}

/// The NET_BUFFER's data offset and length.
pub fn net_buffer_span(nb: usize) -> (usize, usize) {
    (
        peek_u32(nb + NB_DATA_OFFSET, "NET_BUFFER.DataOffset") as usize,
        // DataLength is a ULONG in the union NDIS writes; the high half is not data.
        peek_usize(nb + NB_DATA_LENGTH, "NET_BUFFER.DataLength") & 0xFFFF_FFFF,
    )
}

/// Copies the used data of a NET_BUFFER.
pub fn net_buffer_bytes(nb: usize) -> Vec<u8> {
    let (offset, length) = net_buffer_span(nb);
    let chain = peek_usize(nb + NB_MDL_CHAIN, "NET_BUFFER.MdlChain");
    let (mut mdl, mut in_mdl) = locate(chain, offset);
    let mut out = Vec::with_capacity(length);
    while out.len() < length && mdl != 0 {
        let (address, mdl_length) = mdl_data(mdl);
        let take = (mdl_length - in_mdl.min(mdl_length)).min(length - out.len());
        out.extend(peek(address + in_mdl, take, "MDL data"));
        in_mdl = 0;
        mdl = mdl_next(mdl);
    }
    out
}

/// NdisGetDataBuffer: the address of `bytes_needed` contiguous bytes at the start of the
/// data: in the MDL itself if they lie in one, else copied to `storage` (if given); 0 when
/// the data is shorter or no storage was given for split data.
pub fn get_data_buffer(nb: usize, bytes_needed: u32, storage: usize) -> usize {
    let (_, length) = net_buffer_span(nb);
    let needed = bytes_needed as usize;
    if needed > length {
        return 0;
    }
    let current = peek_usize(nb + NB_CURRENT_MDL, "NET_BUFFER.CurrentMdl");
    let offset = peek_u32(nb + NB_CURRENT_MDL_OFFSET, "NET_BUFFER.CurrentMdlOffset") as usize;
    if current != 0 {
        let (address, mdl_length) = mdl_data(current);
        if offset + needed <= mdl_length {
            return address + offset;
        }
    }
    if storage == 0 {
        return 0;
    }
    let bytes = net_buffer_bytes(nb);
    poke(storage, &bytes[..needed], "NdisGetDataBuffer Storage");
    storage
}

/// NdisRetreatNetBufferDataStart: `delta` more bytes in front of the data, from unused space
/// if there is enough. Otherwise a new buffer is chained in front: it holds `backfill` unused
/// bytes and the part of `delta` the old unused space cannot, so the data stays contiguous.
pub fn retreat(nb: usize, delta: u32, backfill: u32) -> bool {
    let (offset, length) = net_buffer_span(nb);
    let delta = delta as usize;
    let pool = peek_usize(nb + NB_POOL_HANDLE, "NET_BUFFER.NdisPoolHandle");
    let chain = peek_usize(nb + NB_MDL_CHAIN, "NET_BUFFER.MdlChain");
    if offset >= delta {
        fill_net_buffer(nb, chain, offset - delta, length + delta, pool);
        return true;
    }
    let used = delta - offset;
    let size = used + backfill as usize;
    let buffer = allocate(size);
    if buffer == 0 {
        return false;
    }
    let mdl = allocate_mdl(buffer, size as u32);
    poke_usize(mdl + offset_of!(Mdl, next), chain, "MDL.Next");
    packets().added.entry(nb).or_default().push((mdl, buffer));
    fill_net_buffer(nb, mdl, backfill as usize, length + delta, pool);
    true
}

/// NdisAdvanceNetBufferDataStart: `delta` bytes less at the front of the data; with
/// `free_mdl`, the MDLs a retreat added that no longer hold data are freed and unchained.
pub fn advance(nb: usize, delta: u32, free_mdl_too: bool) {
    let (offset, length) = net_buffer_span(nb);
    let delta = (delta as usize).min(length);
    let mut chain = peek_usize(nb + NB_MDL_CHAIN, "NET_BUFFER.MdlChain");
    let pool = peek_usize(nb + NB_POOL_HANDLE, "NET_BUFFER.NdisPoolHandle");
    let mut offset = offset + delta;
    if free_mdl_too {
        loop {
            let top = packets()
                .added
                .get(&nb)
                .and_then(|added| added.last().copied());
            let Some((mdl, buffer)) = top.filter(|(mdl, _)| *mdl == chain) else {
                break;
            };
            let (_, mdl_length) = mdl_data(mdl);
            if offset < mdl_length {
                break;
            }
            offset -= mdl_length;
            chain = mdl_next(mdl);
            if let Some(added) = packets().added.get_mut(&nb) {
                added.pop();
            }
            let _ = free_mdl(mdl);
            memmap::release(buffer);
        }
    }
    fill_net_buffer(nb, chain, offset, length - delta, pool);
}

/// The next NBL of a chain.
pub fn next_nbl(nbl: usize) -> usize {
    peek_usize(nbl + NBL_NEXT, "NET_BUFFER_LIST.Next")
}

/// Sets NET_BUFFER_LIST.Next.
pub fn set_next_nbl(nbl: usize, next: usize) {
    poke_usize(nbl + NBL_NEXT, next, "NET_BUFFER_LIST.Next");
}

/// Every NBL of a chain, in order (bounded, so a cycle is an error, not a hang).
pub fn chain(first: usize) -> Result<Vec<usize>, String> {
    const LIMIT: usize = 1 << 16;
    let mut out = Vec::new();
    let mut nbl = first;
    while nbl != 0 {
        if out.len() == LIMIT {
            return Err(format!(
                "NET_BUFFER_LIST chain from {first:#x} is longer than {LIMIT}: a cycle"
            ));
        }
        out.push(nbl);
        nbl = next_nbl(nbl);
    }
    Ok(out)
}

/// The NET_BUFFERs of an NBL.
pub fn net_buffers(nbl: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut nb = peek_usize(nbl + NBL_FIRST_NB, "NET_BUFFER_LIST.FirstNetBuffer");
    while nb != 0 && out.len() < 1 << 16 {
        out.push(nb);
        nb = peek_usize(nb + NB_NEXT, "NET_BUFFER.Next");
    }
    out
}

/// The frame an NBL carries: the data of its NET_BUFFERs, in order.
pub fn nbl_bytes(nbl: usize) -> Vec<u8> {
    net_buffers(nbl)
        .into_iter()
        .flat_map(net_buffer_bytes)
        .collect()
}

pub fn source_handle(nbl: usize) -> usize {
    peek_usize(nbl + NBL_SOURCE_HANDLE, "NET_BUFFER_LIST.SourceHandle")
}

pub fn set_source_handle(nbl: usize, handle: usize) {
    poke_usize(
        nbl + NBL_SOURCE_HANDLE,
        handle,
        "NET_BUFFER_LIST.SourceHandle",
    );
}

pub fn status(nbl: usize) -> i32 {
    peek_u32(nbl + NBL_STATUS, "NET_BUFFER_LIST.Status") as i32
}

pub fn set_status(nbl: usize, status: i32) {
    poke_u32(nbl + NBL_STATUS, status as u32, "NET_BUFFER_LIST.Status");
}

/// A host-owned NBL carrying `frame` in one MDL (what NDISWAN or an adapter hands the
/// driver). Freed with [`free_host_nbl`].
pub fn host_nbl(frame: &[u8], backfill: usize) -> usize {
    host_nbl_of(&[frame], backfill)
}

/// A host-owned NBL with one NET_BUFFER per frame, in order, each frame in an MDL of its own
/// ("NET_BUFFER architecture": each NET_BUFFER of an NBL is one frame; NDISWAN may chain
/// several). Freed with [`free_host_nbl`].
pub fn host_nbl_of(frames: &[&[u8]], backfill: usize) -> usize {
    let pieces: Vec<Vec<&[u8]>> = frames.iter().map(|frame| vec![*frame]).collect();
    host_nbl_of_pieces(&pieces, backfill)
}

/// A host-owned NBL with one NET_BUFFER per frame, each frame given as its pieces, each piece
/// in a buffer and MDL of its own, chained in order (a NIC may receive one frame into several
/// buffers). `backfill` unused bytes lead the first buffer of each frame. Freed with
/// [`free_host_nbl`].
pub fn host_nbl_of_pieces(frames: &[Vec<&[u8]>], backfill: usize) -> usize {
    let nbl = allocate(nbl_size());
    let mut parts = Vec::new();
    let mut previous = 0;
    for frame in frames {
        let mut buffers = Vec::new();
        let mut chain = 0;
        let mut last_mdl = 0;
        for (index, piece) in frame.iter().enumerate() {
            let lead = if index == 0 { backfill } else { 0 };
            let length = lead + piece.len();
            let buffer = allocate(length.max(1));
            poke(buffer + lead, piece, "frame data");
            let mdl = allocate_mdl(buffer, length as u32);
            if last_mdl == 0 {
                chain = mdl;
            } else {
                poke_usize(last_mdl + offset_of!(Mdl, next), mdl, "MDL.Next");
            }
            last_mdl = mdl;
            buffers.push(HostBuffer {
                mdl,
                address: buffer,
                length,
            });
        }
        let length = frame.iter().map(|piece| piece.len()).sum();
        let nb = allocate(size_of::<NetBuffer>());
        fill_net_buffer(nb, chain, backfill, length, 0);
        if previous == 0 {
            poke_usize(nbl + NBL_FIRST_NB, nb, "NET_BUFFER_LIST.FirstNetBuffer");
        } else {
            poke_usize(previous + NB_NEXT, nb, "NET_BUFFER.Next");
        }
        previous = nb;
        parts.push((nb, buffers));
    }
    host_nbls().insert(nbl, parts);
    nbl
}

/// One data buffer of a host NBL and the MDL describing it.
#[derive(Debug, Clone, Copy)]
struct HostBuffer {
    mdl: usize,
    address: usize,
    length: usize,
}

/// A host NBL's NET_BUFFERs, each with its buffers, by NBL address.
type HostNbls = HashMap<usize, Vec<(usize, Vec<HostBuffer>)>>;

fn host_nbls() -> MutexGuard<'static, HostNbls> {
    static HOST: OnceLock<Mutex<HostNbls>> = OnceLock::new();
    HOST.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The memory of a host NBL's data buffers, as (start, end) address ranges; empty for an NBL
/// that is not a live host NBL.
pub fn host_nbl_memory(nbl: usize) -> Vec<(usize, usize)> {
    host_nbls().get(&nbl).map_or_else(Vec::new, |parts| {
        parts
            .iter()
            .flat_map(|(_, buffers)| buffers.iter().map(|b| (b.address, b.address + b.length)))
            .collect()
    })
}

/// The memory an NBL's data occupies, as (start, end) address ranges over its MDLs, for every
/// NET_BUFFER.
pub fn nbl_data_memory(nbl: usize) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for nb in net_buffers(nbl) {
        let (offset, length) = net_buffer_span(nb);
        let chain = peek_usize(nb + NB_MDL_CHAIN, "NET_BUFFER.MdlChain");
        let (mut mdl, mut in_mdl) = locate(chain, offset);
        let mut left = length;
        while left > 0 && mdl != 0 {
            let (address, mdl_length) = mdl_data(mdl);
            let take = (mdl_length - in_mdl.min(mdl_length)).min(left);
            if take > 0 {
                ranges.push((address + in_mdl, address + in_mdl + take));
            }
            left -= take;
            in_mdl = 0;
            mdl = mdl_next(mdl);
        }
    }
    ranges
}

/// Frees an NBL from [`host_nbl`], [`host_nbl_of`] or [`host_nbl_of_pieces`] once the driver
/// gave it back.
pub fn free_host_nbl(nbl: usize) -> Result<(), String> {
    let parts = host_nbls()
        .remove(&nbl)
        .ok_or_else(|| format!("{nbl:#x} is not a host NBL (or was freed twice)"))?;
    for (nb, buffers) in parts {
        free_added_mdls(nb);
        for buffer in buffers {
            free_mdl(buffer.mdl)?;
            memmap::release(buffer.address);
        }
        memmap::release(nb);
    }
    memmap::release(nbl);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> usize {
        allocate_pool(PoolParameters {
            allocate_net_buffer: true,
            context_size: 16,
            tag: u32::from_le_bytes(*b"test"),
            data_size: 0,
        })
    }

    /// A buffer holding `bytes` and an MDL for it.
    fn mdl_over(bytes: &[u8]) -> (usize, usize) {
        let buffer = memmap::allocate(bytes.len());
        poke(buffer, bytes, "test buffer");
        (buffer, allocate_mdl(buffer, bytes.len() as u32))
    }

    #[test]
    fn an_nbl_describes_its_data_across_mdls() {
        let pool = pool();
        let (_, first) = mdl_over(b"xxHELLO");
        let (_, second) = mdl_over(b" WORLDyy");
        poke_usize(first + offset_of!(Mdl, next), second, "MDL.Next");
        let nbl = allocate_nbl(pool, 0, 0, first, 2, 11).unwrap();
        assert_eq!(nbl_bytes(nbl), b"HELLO WORLD");
        let nb = net_buffers(nbl)[0];
        // Contiguous in the first MDL: pointed to in place.
        let in_place = get_data_buffer(nb, 5, 0);
        assert_eq!(peek(in_place, 5, "data"), b"HELLO");
        // Split across MDLs: only with storage.
        assert_eq!(get_data_buffer(nb, 7, 0), 0);
        let storage = memmap::allocate(16);
        assert_eq!(get_data_buffer(nb, 7, storage), storage);
        assert_eq!(peek(storage, 7, "storage"), b"HELLO W");
        assert_eq!(get_data_buffer(nb, 12, storage), 0, "longer than the data");
        free_nbl(nbl).unwrap();
        assert!(free_nbl(nbl).is_err(), "a second free is refused");
        free_mdl(first).unwrap();
        free_mdl(second).unwrap();
        free_pool(pool).unwrap();
    }

    #[test]
    fn retreat_uses_unused_space_then_chains_a_buffer_and_advance_frees_it() {
        let pool = pool();
        let (_, mdl) = mdl_over(b"..PPP");
        let nbl = allocate_nbl(pool, 0, 0, mdl, 2, 3).unwrap();
        let nb = net_buffers(nbl)[0];
        assert!(retreat(nb, 2, 0));
        assert_eq!(net_buffer_span(nb), (0, 5));
        // 6 more bytes with no unused space left: a new MDL in front.
        assert!(retreat(nb, 6, 4));
        assert_eq!(net_buffer_span(nb), (4, 11));
        let front = get_data_buffer(nb, 6, 0);
        poke(front, b"HEADER", "header");
        assert_eq!(nbl_bytes(nbl), b"HEADER..PPP");
        advance(nb, 8, true);
        assert_eq!(nbl_bytes(nbl), b"PPP");
        assert_eq!(
            peek_usize(nb + NB_MDL_CHAIN, "chain"),
            mdl,
            "the added MDL is unchained"
        );
        free_nbl(nbl).unwrap();
        assert!(free_pool(pool).is_ok());
    }

    #[test]
    fn a_pool_with_live_nbls_is_not_freed() {
        let pool = pool();
        let (_, mdl) = mdl_over(b"data");
        let nbl = allocate_nbl(pool, 16, 16, mdl, 0, 4).unwrap();
        assert!(free_pool(pool).unwrap_err().contains("not freed"));
        free_nbl(nbl).unwrap();
        free_pool(pool).unwrap();
    }

    #[test]
    fn a_frame_in_pieces_is_one_net_buffer_over_chained_mdls() {
        let nbl = host_nbl_of_pieces(&[vec![b"\x01\x02\x03".as_slice(), b"\x04\x05"]], 4);
        assert_eq!(nbl_bytes(nbl), [1, 2, 3, 4, 5]);
        let memory = host_nbl_memory(nbl);
        assert_eq!(memory.len(), 2);
        assert_eq!(memory[0].1 - memory[0].0, 7, "backfill and the first piece");
        let data = nbl_data_memory(nbl);
        assert_eq!(data, [(memory[0].0 + 4, memory[0].1), memory[1]]);
        free_host_nbl(nbl).unwrap();
        assert!(host_nbl_memory(nbl).is_empty());
    }

    #[test]
    fn host_nbls_carry_their_frame() {
        let nbl = host_nbl(b"\xff\x03\xc0\x21", 32);
        assert_eq!(nbl_bytes(nbl), b"\xff\x03\xc0\x21");
        let nb = net_buffers(nbl)[0];
        assert!(retreat(nb, 20, 0), "the backfill takes a header in place");
        assert_eq!(net_buffer_span(nb), (12, 24));
        free_host_nbl(nbl).unwrap();
    }
}
