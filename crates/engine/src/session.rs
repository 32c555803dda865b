//! The PPPoE session index: (session id, peer MAC, binding) -> VC in O(1), for the receive path.
//!
//! Open addressing with linear probing and backward-shift deletion, split into shards that each
//! have their own lock (level `SessionShard`), so receives on different sessions rarely meet on
//! a lock. Every shard is sized at initialisation for a load factor of at most 1/2 plus slack;
//! the hash is keyed with a seed from the driver, since peers choose MACs and session ids.

use crate::fallible::{self, OutOfMemory};
use crate::ids::{SessionKey, VcId};
use crate::lock_order::{LockAfter, SessionShard};
use crate::platform::Platform;
use crate::sync::{Ctx, OrderedLock};
use alloc::boxed::Box;

pub(crate) struct Shard {
    slots: Box<[Option<(SessionKey, VcId)>]>,
    len: usize,
}

/// Why an insert failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// The key is already in the index (for another VC).
    Duplicate,
    /// The shard is at its load limit.
    Full,
}

impl Shard {
    fn with_slots(slots: usize) -> Result<Self, OutOfMemory> {
        Ok(Self {
            slots: fallible::boxed_slice(slots, |_| Ok(None))?,
            len: 0,
        })
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn find(&self, key: &SessionKey, hash: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.slots[i] {
                None => return None,
                Some((k, _)) if k == key => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    fn insert(&mut self, key: SessionKey, vc: VcId, hash: u64) -> Result<(), InsertError> {
        if self.find(&key, hash).is_some() {
            return Err(InsertError::Duplicate);
        }
        // Keep at least half the slots free: probes stay short and `find` always ends.
        if (self.len + 1) * 2 > self.slots.len() {
            return Err(InsertError::Full);
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.slots[i].is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Some((key, vc));
        self.len += 1;
        Ok(())
    }

    fn remove(&mut self, key: &SessionKey, hash: u64, seed: u64) -> Option<VcId> {
        let mut hole = self.find(key, hash)?;
        let removed = self.slots[hole].take().map(|(_, vc)| vc);
        self.len -= 1;
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some((k, _)) = &self.slots[j] else { break };
            let home = hash_key(seed, k) as usize & mask;
            // Move the entry back into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
        removed
    }
}

pub(crate) fn hash_key(seed: u64, key: &SessionKey) -> u64 {
    let mac = key.peer_mac;
    let word = u64::from(key.session_id)
        | u64::from(key.binding.0) << 16
        | u64::from(u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]])) << 32;
    let word2 = u64::from(u16::from_le_bytes([mac[4], mac[5]]));
    // Two rounds of a multiply-xorshift mix (splitmix64's finaliser) keyed by the seed.
    let mut h = seed ^ word;
    for extra in [word2, 0] {
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= (h >> 31) ^ extra;
    }
    h
}

pub(crate) struct SessionIndex<P: Platform> {
    shards: Box<[OrderedLock<SessionShard, Shard, P>]>,
    seed: u64,
}

impl<P: Platform> SessionIndex<P> {
    pub(crate) fn new(max_sessions: usize, seed: u64) -> Result<Self, OutOfMemory> {
        let shard_count = (max_sessions / 64).clamp(1, 64).next_power_of_two();
        let per_shard = max_sessions
            .div_ceil(shard_count)
            .checked_mul(2)
            .and_then(|slots| slots.checked_add(8))
            .and_then(usize::checked_next_power_of_two)
            .ok_or(OutOfMemory)?;
        let shards = fallible::boxed_slice(shard_count, |_| {
            Shard::with_slots(per_shard).map(OrderedLock::new)
        })?;
        Ok(Self { shards, seed })
    }

    fn locate(&self, key: &SessionKey) -> (&OrderedLock<SessionShard, Shard, P>, u64) {
        let hash = hash_key(self.seed, key);
        // High bits pick the shard, low bits the slot inside it.
        let shard = (hash >> 48) as usize & (self.shards.len() - 1);
        (&self.shards[shard], hash)
    }

    pub(crate) fn lookup<L>(&self, cx: Ctx<'_, L, P>, key: &SessionKey) -> Option<VcId>
    where
        SessionShard: LockAfter<L>,
        L: crate::lock_order::Level,
    {
        let (lock, hash) = self.locate(key);
        let shard = cx.lock(lock);
        shard
            .find(key, hash)
            .and_then(|i| shard.slots[i].map(|(_, vc)| vc))
    }

    pub(crate) fn insert<L>(
        &self,
        cx: Ctx<'_, L, P>,
        key: SessionKey,
        vc: VcId,
    ) -> Result<(), InsertError>
    where
        SessionShard: LockAfter<L>,
        L: crate::lock_order::Level,
    {
        let (lock, hash) = self.locate(&key);
        cx.lock(lock).insert(key, vc, hash)
    }

    /// Removes `key` if it maps to `vc`; true if it did.
    pub(crate) fn remove<L>(&self, cx: Ctx<'_, L, P>, key: &SessionKey, vc: VcId) -> bool
    where
        SessionShard: LockAfter<L>,
        L: crate::lock_order::Level,
    {
        let (lock, hash) = self.locate(key);
        let mut shard = cx.lock(lock);
        match shard.find(key, hash).and_then(|i| shard.slots[i]) {
            Some((_, owner)) if owner == vc => shard.remove(key, hash, self.seed).is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::ids::BindingId;
    use std::collections::HashMap;

    fn key(i: u32) -> SessionKey {
        SessionKey {
            session_id: (i % 65_000) as u16 + 1,
            peer_mac: [2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8],
            binding: BindingId((i % 3) as u16),
        }
    }

    #[test]
    fn shard_matches_a_hash_map_through_inserts_and_removals() {
        let seed = 0x1234_5678;
        let mut shard = Shard::with_slots(256).unwrap();
        let mut model = HashMap::new();
        // A fixed pseudo-random walk of inserts and removes over 200 keys.
        let mut x: u64 = 7;
        for step in 0..20_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = key((x >> 33) as u32 % 200);
            let h = hash_key(seed, &k);
            let vc = VcId::new(step % 1000, 1);
            if x & 1 == 0 {
                let r = shard.insert(k, vc, h);
                match model.get(&k) {
                    Some(_) => assert_eq!(r, Err(InsertError::Duplicate)),
                    None if model.len() + 1 > 128 => assert_eq!(r, Err(InsertError::Full)),
                    None => {
                        assert_eq!(r, Ok(()));
                        model.insert(k, vc);
                    }
                }
            } else {
                assert_eq!(shard.remove(&k, h, seed), model.remove(&k));
            }
            assert_eq!(shard.len, model.len());
        }
        for i in 0..200 {
            let k = key(i);
            let found = shard
                .find(&k, hash_key(seed, &k))
                .and_then(|s| shard.slots[s].map(|e| e.1));
            assert_eq!(found, model.get(&k).copied());
        }
    }

    #[test]
    fn keys_differing_only_in_mac_or_binding_are_distinct() {
        let a = key(5);
        let mut b = a;
        b.peer_mac[0] ^= 0x80;
        let mut c = a;
        c.binding = BindingId(9);
        let mut shard = Shard::with_slots(16).unwrap();
        for (i, k) in [a, b, c].into_iter().enumerate() {
            assert_eq!(
                shard.insert(k, VcId::new(i as u32, 1), hash_key(1, &k)),
                Ok(())
            );
        }
        assert_eq!(
            shard
                .find(&b, hash_key(1, &b))
                .and_then(|s| shard.slots[s].map(|e| e.1)),
            Some(VcId::new(1, 1))
        );
    }
}
