//! Brute-force brake on client authentication, per client ID and per source address.
//!
//! Failures are counted in a fixed window. Past `before_delay` failures, each further
//! failure is answered more slowly (up to two seconds); past `before_429`, failures are
//! answered 429 with `Retry-After`. Successes are never refused: a legitimate client that
//! presents a good secret is not locked out by someone hammering its ID. Guessing a 256-bit
//! secret is hopeless anyway; the brake protects the service and the audit log.
//! Counts are per process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_KEYS: usize = 100_000;

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
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

/// Failure counters.
pub struct Limiter {
    windows: Mutex<HashMap<String, Window>>,
    window: Duration,
    before_delay: u32,
    before_429: u32,
}

impl Limiter {
    /// A limiter with the given thresholds.
    pub fn new(window: Duration, before_delay: u32, before_429: u32) -> Limiter {
        Limiter {
            windows: Mutex::new(HashMap::new()),
            window,
            before_delay,
            before_429,
        }
    }

    /// Counts one failure for each key and says how to answer it. Also says whether this
    /// failure should be written to the audit log (at most one line per key per window), and
    /// how many failures that line stands for.
    pub fn fail(&self, keys: &[String]) -> (Verdict, Option<u32>) {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_KEYS {
            let span = self.window;
            windows.retain(|_, w| now.duration_since(w.started) < span);
        }
        let mut worst = 0;
        let mut retry_after = 0;
        let mut audit = None;
        for key in keys {
            let w = windows.entry(key.clone()).or_insert(Window {
                started: now,
                failures: 0,
                last_audit: None,
                unaudited: 0,
            });
            if now.duration_since(w.started) >= self.window {
                *w = Window {
                    started: now,
                    failures: 0,
                    last_audit: w.last_audit,
                    unaudited: w.unaudited,
                };
            }
            w.failures += 1;
            w.unaudited += 1;
            if w.last_audit
                .is_none_or(|at| now.duration_since(at) >= self.window)
            {
                audit = Some(audit.unwrap_or(0).max(w.unaudited));
                w.last_audit = Some(now);
                w.unaudited = 0;
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
        (verdict, audit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_refused_then_slowed_then_answered_429() {
        let limiter = Limiter::new(Duration::from_secs(60), 2, 4);
        let key = vec!["client:x".to_owned()];
        assert_eq!(limiter.fail(&key).0, Verdict::Refuse);
        assert_eq!(limiter.fail(&key).0, Verdict::Refuse);
        assert!(matches!(limiter.fail(&key).0, Verdict::Delay(_)));
        assert!(matches!(limiter.fail(&key).0, Verdict::Delay(_)));
        assert!(matches!(limiter.fail(&key).0, Verdict::TooMany(s) if (1..=61).contains(&s)));
    }

    #[test]
    fn only_the_first_failure_of_a_window_is_audited_per_key() {
        let limiter = Limiter::new(Duration::from_secs(60), 10, 20);
        let key = vec!["ip:1".to_owned()];
        assert_eq!(limiter.fail(&key).1, Some(1));
        assert_eq!(limiter.fail(&key).1, None);
        assert_eq!(limiter.fail(&key).1, None);
    }
}
