//! Counters and a wait-time histogram of a pool (`pool.stats()`): plain atomic increments where
//! connections are borrowed and created, read in one call when JS asks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (inclusive, in milliseconds) of the wait-time buckets; one more bucket counts
/// the waits above the last bound. Documented in docs/observability.md.
pub const WAIT_BOUNDS_MILLIS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
];

/// What a pool has done since it was made.
#[derive(Default)]
pub struct PoolMetrics {
    acquired: AtomicU64,
    created: AtomicU64,
    timed_out: AtomicU64,
    abandoned: AtomicU64,
    /// Failed borrows by error code (SQLSTATE or driver code); touched only on failures.
    errors: Mutex<BTreeMap<String, u64>>,
    wait_counts: [AtomicU64; WAIT_BOUNDS_MILLIS.len() + 1],
    wait_sum_micros: AtomicU64,
}

/// A copy of [`PoolMetrics`] at one moment.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub acquired: u64,
    pub created: u64,
    pub timed_out: u64,
    pub abandoned: u64,
    pub errors: BTreeMap<String, u64>,
    /// Borrows (successful or not) per wait-time bucket, bucket `i` counting waits at most
    /// `WAIT_BOUNDS_MILLIS[i]` and above the bound before it.
    pub wait_counts: Vec<u64>,
    pub wait_sum_millis: f64,
}

impl PoolMetrics {
    /// A connection was opened for the pool.
    pub fn created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    /// A borrow ended after `waited`: with a connection, or with the error `code`
    /// (`timed_out` when it was acquireTimeoutMillis that ended it).
    pub fn borrowed(&self, waited: Duration, failed: Option<&str>, timed_out: bool) {
        let millis = waited.as_secs_f64() * 1000.0;
        let bucket = WAIT_BOUNDS_MILLIS.partition_point(|&b| b < millis);
        self.wait_counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.wait_sum_micros
            .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
        match failed {
            None => {
                self.acquired.fetch_add(1, Ordering::Relaxed);
            }
            Some(code) => {
                if timed_out {
                    self.timed_out.fetch_add(1, Ordering::Relaxed);
                }
                let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
                *errors.entry(code.to_owned()).or_default() += 1;
            }
        }
    }

    /// A caller stopped waiting for a connection (its signal aborted, its timeout passed).
    pub fn abandoned(&self) {
        self.abandoned.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            acquired: self.acquired.load(Ordering::Relaxed),
            created: self.created.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
            errors: self
                .errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            wait_counts: self
                .wait_counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            wait_sum_millis: self.wait_sum_micros.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_land_in_their_bucket() {
        let m = PoolMetrics::default();
        m.borrowed(Duration::from_micros(50), None, false);
        m.borrowed(Duration::from_micros(100), None, false);
        m.borrowed(Duration::from_millis(3), Some("ERR_POOL_TIMEOUT"), true);
        m.borrowed(Duration::from_secs(6), Some("28P01"), false);
        let s = m.snapshot();
        assert_eq!(s.wait_counts[0], 2, "0.05 and 0.1 ms are at most 0.1 ms");
        assert_eq!(s.wait_counts[5], 1, "3 ms is in (2.5, 5]");
        assert_eq!(
            s.wait_counts[WAIT_BOUNDS_MILLIS.len()],
            1,
            "6 s is above the last bound"
        );
        assert_eq!(s.acquired, 2);
        assert_eq!(s.timed_out, 1);
        assert_eq!(s.errors.get("28P01"), Some(&1));
        assert_eq!(s.errors.get("ERR_POOL_TIMEOUT"), Some(&1));
        assert!((s.wait_sum_millis - 6003.15).abs() < 1e-9);
    }
}
