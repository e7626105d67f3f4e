//! Brute-force brake on client authentication, per client ID and per source address.
//!
//! Failures are counted in a fixed window. Past `before_delay` failures, each further
//! failure is answered more slowly (up to two seconds); past `before_429`, failures are
//! answered 429 with `Retry-After`. Successes are never refused: a legitimate client that
//! presents a good secret is not locked out by someone hammering its ID. Guessing a 256-bit
//! secret is hopeless anyway; the brake protects the service and the audit log.
//! Counts are per process.
//!
//! What gets recorded is rate-limited too, so that no attacker can flood it: an audit row is
//! due at most once per window per *client ID* (an attacker rotating source addresses does not
//! make new rows), and failures that name no known client are logged (tracing, warn) at most
//! once a second in all, each line counting those it stands for.
//!
//! Memory is bounded: past `capacity` keys, windows that have ended are dropped, and if that is
//! not enough the least recently failed keys are evicted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys held at once by default (a few MiB).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// How often a failure that names no known client may be logged.
const UNATTRIBUTED_LOG_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    last_failure: Instant,
    failures: u32,
    last_audit: Option<Instant>,
    unaudited: u32,
}

/// What to do with a failed authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer 401 now.
    Refuse,
    /// Answer 401 after this delay.
    Delay(Duration),
    /// Answer 429; retry after this many seconds.
    TooMany(u64),
}

/// The answer to one failure: how to respond, and whether to record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// How to answer.
    pub verdict: Verdict,
    /// `Some(n)` when this client ID's audit row is due: the row stands for `n` failures of
    /// the ID (this one and those not recorded since the last row). `None` without a client ID.
    pub audit: Option<u32>,
}

struct Unattributed {
    last_logged: Option<Instant>,
    suppressed: u32,
}

/// Failure counters.
pub struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
    unattributed: Mutex<Unattributed>,
    window: Duration,
    before_delay: u32,
    before_429: u32,
    capacity: usize,
}

impl Limiter {
    /// A limiter with the given thresholds, holding at most [`DEFAULT_CAPACITY`] keys.
    pub fn new(window: Duration, before_delay: u32, before_429: u32) -> Limiter {
        Limiter::with_capacity(window, before_delay, before_429, DEFAULT_CAPACITY)
    }

    /// A limiter holding at most `capacity` keys.
    pub fn with_capacity(
        window: Duration,
        before_delay: u32,
        before_429: u32,
        capacity: usize,
    ) -> Limiter {
        Limiter {
            windows: Mutex::new(HashMap::new()),
            unattributed: Mutex::new(Unattributed {
                last_logged: None,
                suppressed: 0,
            }),
            window,
            before_delay,
            before_429,
            capacity: capacity.max(2),
        }
    }

    /// Counts one failure against the client ID (when it is well formed) and the source
    /// address, and says how to answer it and whether its audit row is due.
    pub fn fail(&self, client_id: Option<&str>, source: Option<IpAddr>) -> Failure {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut worst = 0;
        let mut retry_after = 0;
        let mut audit = None;
        let keys = client_id
            .map(|id| (format!("client:{id}"), true))
            .into_iter()
            .chain(source.map(|ip| (format!("ip:{ip}"), false)));
        for (key, audited) in keys {
            if !windows.contains_key(&key) && windows.len() >= self.capacity {
                self.make_room(&mut windows, now);
            }
            let w = windows.entry(key).or_insert(Window {
                started: now,
                last_failure: now,
                failures: 0,
                last_audit: None,
                unaudited: 0,
            });
            if now.duration_since(w.started) >= self.window {
                w.started = now;
                w.failures = 0;
            }
            w.failures += 1;
            w.last_failure = now;
            if audited {
                w.unaudited += 1;
                if w.last_audit
                    .is_none_or(|at| now.duration_since(at) >= self.window)
                {
                    audit = Some(w.unaudited);
                    w.last_audit = Some(now);
                    w.unaudited = 0;
                }
            }
            if w.failures > worst {
                worst = w.failures;
                retry_after =
                    (self.window.saturating_sub(now.duration_since(w.started))).as_secs() + 1;
            }
        }
        let verdict = if worst > self.before_429 {
            Verdict::TooMany(retry_after)
        } else if worst > self.before_delay {
            let steps = (worst - self.before_delay).min(10);
            Verdict::Delay(Duration::from_millis(200 * steps as u64))
        } else {
            Verdict::Refuse
        };
        Failure { verdict, audit }
    }

    /// Whether a failure that names no known client (an unknown or malformed client ID, from
    /// any address) may be logged now: `Some(n)`, the number of such failures the line stands
    /// for, at most once per second for the whole process.
    pub fn log_unattributed(&self) -> Option<u32> {
        let now = Instant::now();
        let mut u = self.unattributed.lock().unwrap_or_else(|p| p.into_inner());
        u.suppressed += 1;
        if u.last_logged
            .is_none_or(|at| now.duration_since(at) >= UNATTRIBUTED_LOG_INTERVAL)
        {
            u.last_logged = Some(now);
            Some(std::mem::take(&mut u.suppressed))
        } else {
            None
        }
    }

    /// How many keys are held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees room for at least one key: drops keys whose window and audit period have both
    /// ended; if the map is still over nine tenths full, evicts the least recently failed keys
    /// down to nine tenths, so that evictions are rare and an attacker flooding new keys
    /// cannot push out a key it keeps failing on.
    fn make_room(&self, windows: &mut HashMap<String, Window>, now: Instant) {
        let span = self.window;
        windows.retain(|_, w| {
            now.duration_since(w.started) < span
                || w.last_audit.is_some_and(|at| now.duration_since(at) < span)
        });
        let target = self.capacity - self.capacity / 10;
        if windows.len() <= target {
            return;
        }
        let mut by_age: Vec<(Instant, String)> = windows
            .iter()
            .map(|(k, w)| (w.last_failure, k.clone()))
            .collect();
        let excess = by_age.len() - target;
        by_age.select_nth_unstable_by_key(excess - 1, |(at, _)| *at);
        for (_, key) in by_age.into_iter().take(excess) {
            windows.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
    }

    #[test]
    fn failures_are_refused_then_slowed_then_answered_429() {
        let limiter = Limiter::new(Duration::from_secs(60), 2, 4);
        let fail = || limiter.fail(Some("x"), None).verdict;
        assert_eq!(fail(), Verdict::Refuse);
        assert_eq!(fail(), Verdict::Refuse);
        assert!(matches!(fail(), Verdict::Delay(_)));
        assert!(matches!(fail(), Verdict::Delay(_)));
        assert!(matches!(fail(), Verdict::TooMany(s) if (1..=61).contains(&s)));
    }

    #[test]
    fn only_the_first_failure_of_a_window_is_audited_per_client_id() {
        let limiter = Limiter::new(Duration::from_secs(60), 10, 20);
        assert_eq!(limiter.fail(Some("c"), ip(1)).audit, Some(1));
        assert_eq!(limiter.fail(Some("c"), ip(1)).audit, None);
        assert_eq!(limiter.fail(Some("c"), ip(1)).audit, None);
    }

    #[test]
    fn rotating_source_addresses_does_not_make_new_audit_rows() {
        let limiter = Limiter::new(Duration::from_secs(60), 100, 200);
        assert_eq!(limiter.fail(Some("victim"), ip(1)).audit, Some(1));
        for n in 2..50 {
            assert_eq!(
                limiter.fail(Some("victim"), ip(n)).audit,
                None,
                "a new address must not make the client ID's audit row due again"
            );
        }
        assert_eq!(limiter.fail(None, ip(99)).audit, None, "no client ID");
    }

    #[test]
    fn the_next_audit_row_counts_the_failures_it_stands_for() {
        let limiter = Limiter::new(Duration::from_millis(50), 100, 200);
        assert_eq!(limiter.fail(Some("c"), ip(1)).audit, Some(1));
        limiter.fail(Some("c"), ip(2));
        limiter.fail(Some("c"), ip(3));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(limiter.fail(Some("c"), ip(4)).audit, Some(3));
    }

    #[test]
    fn unattributed_failures_are_logged_at_most_once_a_second_with_a_count() {
        let limiter = Limiter::new(Duration::from_secs(60), 10, 20);
        assert_eq!(limiter.log_unattributed(), Some(1));
        for _ in 0..100 {
            assert_eq!(limiter.log_unattributed(), None);
        }
    }

    #[test]
    fn memory_stays_bounded_when_every_key_is_within_its_window() {
        // Arrange: a long window, so no key ever expires on its own.
        let limiter = Limiter::with_capacity(Duration::from_secs(3600), 100, 200, 100);

        // Act: one failure from each of a thousand addresses, while one key keeps failing.
        for n in 0..1000u32 {
            let [_, _, a, b] = n.to_be_bytes();
            limiter.fail(None, Some(IpAddr::V4(Ipv4Addr::new(10, 0, a, b))));
            limiter.fail(None, ip(1));
        }

        // Assert: never more keys than the capacity, and the key still failing was kept with
        // its count, so the brake still holds it.
        assert!(limiter.len() <= 100, "{} keys", limiter.len());
        let hot = limiter.fail(None, ip(1)).verdict;
        assert!(
            matches!(hot, Verdict::TooMany(_)),
            "the hammering address keeps its count: {hot:?}"
        );
    }
}
