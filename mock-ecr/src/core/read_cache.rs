//! Values read from the database, kept in memory while the database is unchanged.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// Values by key for one database generation ([`crate::store::Database::generation`]). Any
/// committed change starts a new generation, which empties the cache, so it never returns a
/// value that the database no longer has.
#[derive(Debug)]
pub(super) struct ReadCache<K, V> {
    state: Mutex<State<K, V>>,
    capacity: usize,
}

#[derive(Debug)]
struct State<K, V> {
    generation: u64,
    values: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> ReadCache<K, V> {
    /// Creates an empty cache that empties itself when it reaches `capacity` values.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                generation: 0,
                values: HashMap::new(),
            }),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the value of `key` read at `generation`, if the cache has it.
    pub(super) fn get(&self, generation: u64, key: &K) -> Option<V> {
        let state = self.lock();
        if state.generation != generation {
            return None;
        }
        state.values.get(key).cloned()
    }

    /// Keeps `value`, read from the database at `generation`, unless the database has changed
    /// since.
    pub(super) fn insert(&self, generation: u64, key: K, value: &V) {
        let mut state = self.lock();
        if generation > state.generation {
            state.generation = generation;
            state.values.clear();
        }
        if generation != state.generation {
            return;
        }
        if state.values.len() >= self.capacity {
            state.values.clear();
        }
        state.values.insert(key, value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::ReadCache;

    #[test]
    fn new_generation_empties_cache() {
        let cache = ReadCache::new(8);
        cache.insert(3, "a", &1);
        assert_eq!(cache.get(3, &"a"), Some(1));
        assert_eq!(cache.get(4, &"a"), None, "a later generation misses");

        cache.insert(4, "b", &2);
        assert_eq!(cache.get(4, &"b"), Some(2));
        assert_eq!(cache.get(4, &"a"), None, "generation 3's values are gone");
    }

    #[test]
    fn stale_read_is_not_kept() {
        let cache = ReadCache::new(8);
        cache.insert(5, "a", &1);
        // A read that began before generation 5 finishes after it.
        cache.insert(4, "b", &2);
        assert_eq!(cache.get(4, &"b"), None);
        assert_eq!(cache.get(5, &"b"), None);
        assert_eq!(cache.get(5, &"a"), Some(1));
    }

    #[test]
    fn full_cache_starts_over() {
        let cache = ReadCache::new(2);
        cache.insert(1, "a", &1);
        cache.insert(1, "b", &2);
        cache.insert(1, "c", &3);
        assert_eq!(cache.get(1, &"a"), None);
        assert_eq!(cache.get(1, &"c"), Some(3));
    }
}
