//! How hard muster may press a target: a rate limit and an in-flight cap shared by every
//! conversation, and retries of requests the target did not act on.
//!
//! Only two failures are retried: a connection that could not be made (the request never reached
//! the agent) and a 429, 503 or 529 answer (the agent said it did not take the request). A timeout, a
//! reset after sending, any other status or a reply that parsed are never retried: the agent may
//! have acted, and a drill must judge what it did the first time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore, SemaphorePermit};

/// How long to wait before a request: a slot taken from a pacer shared with other processes.
pub type SlotFuture = Pin<Box<dyn Future<Output = Result<Duration, String>> + Send>>;

/// A rate limit kept outside this process, so every process sending to one target (distributed
/// drill workers) is paced together: each request first takes the next slot, `interval` after the
/// last one any of them took.
pub trait SharedPacing: Send + Sync + std::fmt::Debug {
    /// Reserve the next slot to `target`: how long to wait before sending.
    fn reserve(&self, target: &str, interval: Duration) -> SlotFuture;
}

/// Longest `Retry-After` muster waits for; a target asking for longer makes the turn inconclusive.
pub(crate) const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

#[derive(Debug)]
pub(crate) struct Traffic {
    in_flight: Option<Semaphore>,
    interval: Option<Duration>,
    next_slot: Mutex<Instant>,
    pub(crate) retries: u32,
    /// Set once, when the target's rate limit is kept across processes: the target's key and
    /// the pacer. Replaces the local slot (the shared one covers this process too).
    shared: OnceLock<(String, Arc<dyn SharedPacing>)>,
}

impl Traffic {
    pub(crate) fn new(rate_limit: Option<f64>, max_in_flight: Option<u32>, retries: u32) -> Self {
        Traffic {
            in_flight: max_in_flight.map(|n| Semaphore::new(n.max(1) as usize)),
            interval: rate_limit
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_slot: Mutex::new(Instant::now()),
            retries,
            shared: OnceLock::new(),
        }
    }

    /// Pace through `pacing` from now on; `false` if a shared pacer was already set.
    pub(crate) fn share(&self, target: String, pacing: Arc<dyn SharedPacing>) -> bool {
        self.shared.set((target, pacing)).is_ok()
    }

    /// Waits for the next request slot under the rate limit, then for room under the in-flight
    /// cap. The permit is held for the request's lifetime.
    pub(crate) async fn admit(&self) -> Option<SemaphorePermit<'_>> {
        if let (Some(interval), Some((target, pacing))) = (self.interval, self.shared.get()) {
            match pacing.reserve(target, interval).await {
                Ok(wait) => {
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
                // Never faster than the limit: without the shared slot, this process keeps to
                // the limit on its own.
                Err(e) => {
                    tracing::warn!(error = %e, "the shared rate limit could not be reached; pacing locally");
                    self.local_slot(interval).await;
                }
            }
        } else if let Some(interval) = self.interval {
            self.local_slot(interval).await;
        }
        match &self.in_flight {
            Some(s) => s.acquire().await.ok(),
            None => None,
        }
    }

    async fn local_slot(&self, interval: Duration) {
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Exponential backoff with jitter for attempt `n` (0-based): about 250 ms, 500 ms, 1 s… up to 8 s.
pub(crate) fn backoff(attempt: u32, jitter_seed: u64) -> Duration {
    let base = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(6))
        .min(BACKOFF_CAP);
    // ±25%, from the clock's low bits: enough to keep concurrent conversations from retrying in step.
    let jitter = 0.75 + (jitter_seed % 1000) as f64 / 2000.0;
    base.mul_f64(jitter)
}

/// `Retry-After` as seconds or an HTTP date, relative to now.
pub(crate) fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-27T10:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(0, 500) >= Duration::from_millis(187)
                && backoff(0, 500) <= Duration::from_millis(313)
        );
        assert!(backoff(2, 0) >= Duration::from_millis(750));
        assert!(backoff(20, 999) <= BACKOFF_CAP.mul_f64(1.25));
    }

    #[tokio::test]
    async fn the_rate_limit_spaces_requests() {
        let traffic = Traffic::new(Some(50.0), None, 0);
        let started = Instant::now();
        for _ in 0..6 {
            let _permit = traffic.admit().await;
        }
        // Six slots at 20 ms intervals: the last starts 100 ms after the first.
        assert!(
            started.elapsed() >= Duration::from_millis(95),
            "{:?}",
            started.elapsed()
        );
    }

    /// Hands out the waits it is given, and counts what it was asked.
    #[derive(Debug)]
    struct Pacer {
        wait: Result<Duration, String>,
        asked: std::sync::Mutex<Vec<(String, Duration)>>,
    }

    impl SharedPacing for Pacer {
        fn reserve(&self, target: &str, interval: Duration) -> SlotFuture {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push((target.to_owned(), interval));
            }
            let wait = self.wait.clone();
            Box::pin(async move { wait })
        }
    }

    #[tokio::test]
    async fn a_shared_pacer_decides_every_slot_and_its_failure_falls_back_to_local_pacing() {
        // The shared pacer says "now" every time: no local spacing on top of it.
        let traffic = Traffic::new(Some(10.0), None, 0);
        let pacer = Arc::new(Pacer {
            wait: Ok(Duration::ZERO),
            asked: std::sync::Mutex::new(Vec::new()),
        });
        assert!(traffic.share("http://agent/".into(), pacer.clone()));
        assert!(!traffic.share("http://agent/".into(), pacer.clone()));
        let started = Instant::now();
        for _ in 0..3 {
            let _permit = traffic.admit().await;
        }
        assert!(started.elapsed() < Duration::from_millis(150));
        let asked = pacer.asked.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(
            asked,
            vec![("http://agent/".to_owned(), Duration::from_millis(100)); 3]
        );

        // Unreachable: never faster than the limit, this process paces itself.
        let traffic = Traffic::new(Some(20.0), None, 0);
        traffic.share(
            "http://agent/".into(),
            Arc::new(Pacer {
                wait: Err("down".into()),
                asked: std::sync::Mutex::new(Vec::new()),
            }),
        );
        let started = Instant::now();
        for _ in 0..3 {
            let _permit = traffic.admit().await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(95),
            "{:?}",
            started.elapsed()
        );
    }
}
