//! Passwords and logins: argon2id hashes, and failed logins slowed down
//! per email so that guessing is expensive.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

/// An argon2id PHC string of `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Failed logins per email: after the first few, each failure is answered
/// only after a delay that doubles, up to a ceiling.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Failures answered at once.
const FREE_FAILURES: u32 = 3;
/// Longest delay.
const MAX_DELAY: Duration = Duration::from_secs(30);
/// A quiet period that forgives earlier failures.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

impl LoginThrottle {
    /// How long to wait before answering a failed login for `email`,
    /// counting this failure.
    pub fn failed(&self, email: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let entry = failures.entry(email.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) > FORGET_AFTER {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
        delay_after(entry.0)
    }

    /// A successful login clears the count.
    pub fn succeeded(&self, email: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(email);
    }
}

fn delay_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(8);
    (Duration::from_millis(500) * (1 << doublings)).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_through_argon2id() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("battery staple", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn repeated_failures_are_slowed_down_and_success_resets() {
        let throttle = LoginThrottle::default();
        let delays: Vec<Duration> = (0..7).map(|_| throttle.failed("a@lab")).collect();
        assert_eq!(delays[..3], [Duration::ZERO; 3]);
        assert_eq!(delays[3], Duration::from_millis(500));
        assert_eq!(delays[6], Duration::from_secs(4));
        assert_eq!(delay_after(40), MAX_DELAY);
        assert_eq!(throttle.failed("b@lab"), Duration::ZERO);
        throttle.succeeded("a@lab");
        assert_eq!(throttle.failed("a@lab"), Duration::ZERO);
    }
}
