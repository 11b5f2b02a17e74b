//! Polling until a deadline, stopping early when the drill is interrupted.

use std::time::Duration;

use muster_model::common::Duration as ModelDuration;
use muster_model::experiment::Polling;
use tokio::sync::watch;

pub const DEFAULT_EVERY: Duration = Duration::from_secs(1);
const FALLBACK_GIVE_UP: Duration = Duration::from_secs(60);

/// How often to look, and when to stop looking: by default twice the claim, so a control that
/// misses its claim is still measured; never before the claim is up.
pub fn schedule(polling: &Polling, claim: Option<&ModelDuration>) -> (Duration, Duration) {
    let every = polling.every.as_ref().map_or(DEFAULT_EVERY, |d| d.0);
    let claimed = claim.map(|c| c.0);
    let give_up = polling
        .give_up_after
        .as_ref()
        .map(|d| d.0)
        .or_else(|| claimed.map(|c| c * 2))
        .unwrap_or(FALLBACK_GIVE_UP);
    // Never stop looking before the claim is up: "not yet" inside the claim is not a failure.
    let give_up = claimed.map_or(give_up, |c| give_up.max(c));
    (every.max(Duration::from_millis(10)), give_up)
}

/// Whether the drill has been told to stop.
pub fn stopped(cancel: &Option<watch::Receiver<bool>>) -> bool {
    cancel.as_ref().is_some_and(|c| *c.borrow())
}

/// Sleep `every`, waking early if the drill is stopped. Returns `false` when stopped.
pub async fn wait(every: Duration, cancel: &Option<watch::Receiver<bool>>) -> bool {
    match cancel {
        None => {
            tokio::time::sleep(every).await;
            true
        }
        Some(rx) => {
            let mut rx = rx.clone();
            if *rx.borrow() {
                return false;
            }
            let sleep = tokio::time::sleep(every);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => return !*rx.borrow(),
                    changed = rx.changed() => {
                        if changed.is_err() {
                            // Nobody can stop the drill any more: just wait out the interval.
                            (&mut sleep).await;
                            return true;
                        }
                        if *rx.borrow() {
                            return false;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> ModelDuration {
        ModelDuration(Duration::from_millis(ms))
    }

    #[test]
    fn polling_never_gives_up_before_the_claim() {
        let p = Polling {
            every: Some(d(250)),
            give_up_after: Some(d(1000)),
        };
        assert_eq!(schedule(&p, Some(&d(5000))).1, Duration::from_millis(5000));
        assert_eq!(
            schedule(&Polling::default(), Some(&d(5000))).1,
            Duration::from_secs(10)
        );
        assert_eq!(
            schedule(&Polling::default(), None),
            (DEFAULT_EVERY, FALLBACK_GIVE_UP)
        );
        let fast = Polling {
            every: Some(d(0)),
            give_up_after: None,
        };
        assert_eq!(schedule(&fast, None).0, Duration::from_millis(10));
    }
}
