//! A bounded LRU of prepared statements, per connection.
//!
//! Dropping the last clone of a tokio-postgres `Statement` sends `Close` for it, so evicting an
//! entry closes the statement on the server as soon as no running query still uses it: the
//! server never holds more than `capacity` cached statements (plus those in flight).

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use tokio_postgres::Statement;

pub struct StatementCache {
    // None when caching is disabled (statementCacheSize = 0).
    inner: Option<Mutex<LruCache<String, Statement>>>,
}

impl StatementCache {
    pub fn new(capacity: usize) -> Self {
        StatementCache {
            inner: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub fn get(&self, sql: &str) -> Option<Statement> {
        let m = self.inner.as_ref()?;
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        g.get(sql).cloned()
    }

    /// Stores `stmt`; the least recently used entry is dropped (and so closed) when full.
    pub fn put(&self, sql: &str, stmt: &Statement) {
        if let Some(m) = &self.inner {
            let evicted = {
                let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
                g.push(sql.to_string(), stmt.clone())
            };
            // Dropped outside the lock: dropping a Statement queues a Close message.
            drop(evicted);
        }
    }

    pub fn remove(&self, sql: &str) {
        if let Some(m) = &self.inner {
            let removed = m.lock().unwrap_or_else(|p| p.into_inner()).pop(sql);
            drop(removed);
        }
    }

    /// The server-side name of the statement cached for `sql` ("" for an unnamed one, with
    /// `prepare: false`), without making it the most recently used.
    pub fn name_of(&self, sql: &str) -> Option<String> {
        let m = self.inner.as_ref()?;
        let g = m.lock().unwrap_or_else(|p| p.into_inner());
        g.peek(sql).map(|s| s.name().to_string())
    }

    pub fn len(&self) -> usize {
        self.inner
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
