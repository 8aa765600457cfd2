//! The client cache: answers by request key and batch items by `(group, key)`, kept for the
//! time their upstream `Cache-Control` allows, bounded by entries and bytes (least recently
//! used out first). Errors are never stored. Time comes from the `Clock`.

use rustc_hash::FxHashMap;

/// How the client cache behaves. Off unless the client is given one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    pub max_entries: usize,
    /// Approximate: bodies and keys.
    pub max_bytes: usize,
    /// A shared cache (an edge handler serving many users): honours `s-maxage` and never
    /// stores `private` answers. A private cache (one browser user) stores them.
    pub shared: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 1000,
            max_bytes: 8 * 1024 * 1024,
            shared: false,
        }
    }
}

/// Seconds an answer may be kept under this `Cache-Control`, or `None` when it must not be
/// stored (`no-store`, `no-cache`, `private` in a shared cache, no `max-age`, zero).
pub fn storable_for(cache_control: Option<&str>, shared: bool) -> Option<u64> {
    let mut max_age = None;
    let mut s_maxage = None;
    for part in cache_control?.split(',') {
        let part = part.trim();
        let (name, arg) = part.split_once('=').unwrap_or((part, ""));
        let arg = arg.trim().trim_matches('"').parse::<u64>().ok();
        match name.trim().to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return None,
            "private" if shared => return None,
            "max-age" => max_age = arg,
            "s-maxage" => s_maxage = arg,
            _ => {}
        }
    }
    let ttl = if shared {
        s_maxage.or(max_age)
    } else {
        max_age
    };
    ttl.filter(|&t| t > 0)
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at_ms: u64,
    bytes: usize,
    used: u64,
}

/// A least-recently-used map with expiry. Hand-written, a few dozen lines instead of a
/// dependency: a hash map whose entries carry a use tick; eviction scans for the oldest (a
/// linear scan, done only when the cache is full, is smaller in wasm than an ordered index).
#[derive(Debug)]
pub(crate) struct Lru<V> {
    config: CacheConfig,
    entries: FxHashMap<String, Entry<V>>,
    tick: u64,
    bytes: usize,
}

impl<V: Clone> Lru<V> {
    pub(crate) fn new(config: CacheConfig) -> Self {
        Lru {
            config,
            entries: FxHashMap::default(),
            tick: 0,
            bytes: 0,
        }
    }

    /// A fresh value; an expired one is dropped.
    pub(crate) fn get(&mut self, key: &str, now_ms: u64) -> Option<V> {
        let entry = self.entries.get_mut(key)?;
        if entry.expires_at_ms <= now_ms {
            self.remove(key);
            return None;
        }
        self.tick += 1;
        entry.used = self.tick;
        Some(entry.value.clone())
    }

    pub(crate) fn insert(&mut self, key: String, value: V, bytes: usize, expires_at_ms: u64) {
        let bytes = bytes + key.len();
        if bytes > self.config.max_bytes || self.config.max_entries == 0 {
            return;
        }
        self.remove(&key);
        while self.entries.len() >= self.config.max_entries
            || self.bytes + bytes > self.config.max_bytes
        {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.remove(&k),
                None => break,
            }
        }
        self.tick += 1;
        self.bytes += bytes;
        self.entries.insert(
            key,
            Entry {
                value,
                expires_at_ms,
                bytes,
                used: self.tick,
            },
        );
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.bytes -= e.bytes;
        }
    }

    pub(crate) fn contains_fresh(&self, key: &str, now_ms: u64) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| e.expires_at_ms > now_ms)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_decides_what_is_stored_and_for_how_long() {
        assert_eq!(storable_for(Some("max-age=60"), false), Some(60));
        assert_eq!(
            storable_for(Some("public, max-age=60, s-maxage=5"), true),
            Some(5)
        );
        assert_eq!(
            storable_for(Some("max-age=60, s-maxage=5"), false),
            Some(60)
        );
        assert_eq!(storable_for(Some("private, max-age=60"), false), Some(60));
        assert_eq!(storable_for(Some("private, max-age=60"), true), None);
        assert_eq!(storable_for(Some("no-store, max-age=60"), false), None);
        assert_eq!(storable_for(Some("no-cache"), false), None);
        assert_eq!(storable_for(Some("max-age=0"), false), None);
        assert_eq!(storable_for(None, false), None);
    }

    #[test]
    fn least_recently_used_entries_go_first_by_count_and_by_bytes() {
        let config = CacheConfig {
            max_entries: 2,
            max_bytes: 100,
            shared: false,
        };
        let mut lru = Lru::new(config);
        lru.insert("a".into(), 1, 10, 1000);
        lru.insert("b".into(), 2, 10, 1000);
        assert_eq!(lru.get("a", 0), Some(1)); // a is now the most recent
        lru.insert("c".into(), 3, 10, 1000);
        assert_eq!(
            (lru.get("b", 0), lru.get("a", 0), lru.get("c", 0)),
            (None, Some(1), Some(3))
        );
        lru.insert("d".into(), 4, 90, 1000); // 91 bytes: both others must go
        assert_eq!((lru.len(), lru.get("d", 0)), (1, Some(4)));
        assert_eq!(lru.bytes(), 91);
        lru.insert("huge".into(), 5, 200, 1000);
        assert_eq!(lru.get("huge", 0), None);
        assert_eq!(lru.get("d", 999), Some(4));
        assert_eq!(lru.get("d", 1000), None); // expired
        assert_eq!(lru.len(), 0);
    }
}
