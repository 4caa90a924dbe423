//! Client-side pacing and the retry schedule. One [`Pacer`] is shared by every request of a client:
//! it hands out evenly spaced start slots at the configured rate, and slows (never speeds up) to
//! the `X-Contentful-RateLimit-Second-Limit` the server announces, keeping a small margin under
//! it: the server counts requests per one-second window as they arrive, so pacing at exactly the
//! limit lets one late arrival make eleven in a window of ten and earn a 429. The backoff functions
//! are pure so the schedule is unit-tested.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Hands out request start times no closer together than `1 / rps`.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    /// The configured rate (`--max-rps`), lowered to what the server announces.
    rps: u32,
    /// The server's announced per-second limit, once seen.
    announced: Option<u32>,
    next: Option<Instant>,
}

/// How far under an announced limit the pacer stays (5%).
const ANNOUNCED_MARGIN: f64 = 1.05;

impl PacerState {
    /// The gap between two request starts: the configured rate's, or the announced limit's with
    /// the margin, whichever is longer.
    fn interval(&self) -> Duration {
        let configured = interval(self.rps);
        match self.announced {
            Some(limit) => configured.max(interval(limit).mul_f64(ANNOUNCED_MARGIN)),
            None => configured,
        }
    }
}

impl Pacer {
    pub fn new(rps: u32) -> Self {
        Pacer {
            state: Mutex::new(PacerState {
                rps: rps.max(1),
                announced: None,
                next: None,
            }),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let slot = self.reserve(Instant::now()).await;
        tokio::time::sleep_until(slot).await;
    }

    /// The pacer's decision for a request asking at `now`: the start slot it gets (the next
    /// free slot, or `now` when the pacer is idle), with the slot after it reserved for the
    /// next request. [`Pacer::acquire`] sleeps until the slot; tests check slots without time.
    async fn reserve(&self, now: Instant) -> Instant {
        let mut st = self.state.lock().await;
        let slot = st.next.map_or(now, |n| n.max(now));
        st.next = Some(slot + st.interval());
        slot
    }

    /// The gap between two request starts now (the configured rate, or the server's announced
    /// limit with its margin, whichever is slower).
    pub async fn gap(&self) -> Duration {
        self.state.lock().await.interval()
    }

    /// Records the server's announced limit (the pacer keeps a margin under it) and lowers the
    /// rate to it when that is below the current one. Returns the new rate when it dropped.
    pub async fn lower_to(&self, announced: u32) -> Option<u32> {
        let mut st = self.state.lock().await;
        if announced >= 1 {
            st.announced = Some(st.announced.map_or(announced, |a| a.min(announced)));
        }
        if announced >= 1 && announced < st.rps {
            st.rps = announced;
            return Some(announced);
        }
        None
    }

    /// Pushes every later slot back until `until` (after a 429 everyone waits, not just one task).
    pub async fn hold_until(&self, until: Instant) {
        let mut st = self.state.lock().await;
        if st.next.is_none_or(|n| n < until) {
            st.next = Some(until);
        }
    }

    #[cfg(test)]
    pub async fn rps(&self) -> u32 {
        self.state.lock().await.rps
    }
}

fn interval(rps: u32) -> Duration {
    Duration::from_secs_f64(1.0 / f64::from(rps.max(1)))
}

/// Exponential backoff without jitter before retry number `retry` (1 = first retry):
/// `base · 2^(retry-1)`, capped at 30 s.
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(Duration::from_secs(30))
}

/// A random extra wait in `[0, max)` so clients that failed together do not retry together.
pub(crate) fn jitter(max: Duration) -> Duration {
    use rand::Rng;
    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..ms))
}

/// The wait before retrying a 429: the announced reset (seconds) plus up to 20 % jitter when the
/// server said, otherwise the exponential backoff with up to 50 % jitter. `jitter(max)` returns
/// the random extra wait below `max` ([`jitter`] in the client, a fixed one in tests).
pub(crate) fn rate_limit_wait(
    reset_secs: Option<u64>,
    base: Duration,
    retry: u32,
    jitter: &mut dyn FnMut(Duration) -> Duration,
) -> Duration {
    match reset_secs {
        Some(secs) => {
            let reset = Duration::from_secs(secs);
            // A reset of 0 still deserves a short pause: the server refused this very request.
            let floor = reset.max(Duration::from_millis(100));
            floor + jitter(floor / 5 + Duration::from_millis(1))
        }
        None => {
            let b = backoff(base, retry);
            b + jitter(b / 2 + Duration::from_millis(1))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_announced_limit_is_kept_with_a_margin_a_lower_configured_rate_needs_none() {
        let p = Pacer::new(10);
        assert_eq!(p.gap().await, Duration::from_millis(100));
        // The server announces exactly our rate: stay 5% under it (105 ms apart, ~9.5/s).
        assert_eq!(p.lower_to(10).await, None);
        assert_eq!(p.gap().await, Duration::from_millis(105));
        // A configured rate well under the announced limit is already safe.
        let p = Pacer::new(7);
        p.lower_to(10).await;
        assert_eq!(p.gap().await, interval(7));
        // A lower announcement lowers the rate and keeps the margin.
        let p = Pacer::new(10);
        assert_eq!(p.lower_to(5).await, Some(5));
        assert_eq!(p.gap().await, Duration::from_millis(210));
    }

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 1), Duration::from_millis(500));
        assert_eq!(backoff(base, 2), Duration::from_millis(1000));
        assert_eq!(backoff(base, 3), Duration::from_millis(2000));
        assert_eq!(backoff(base, 4), Duration::from_millis(4000));
        assert_eq!(backoff(base, 40), Duration::from_secs(30));
    }

    #[test]
    fn rate_limit_wait_follows_the_reset_header() {
        for _ in 0..50 {
            let w = rate_limit_wait(Some(2), Duration::from_millis(10), 1, &mut jitter);
            assert!(
                w >= Duration::from_secs(2) && w <= Duration::from_millis(2401),
                "{w:?}"
            );
            let w = rate_limit_wait(None, Duration::from_millis(100), 3, &mut jitter);
            assert!(
                w >= Duration::from_millis(400) && w <= Duration::from_millis(601),
                "{w:?}"
            );
        }
    }

    #[tokio::test]
    async fn pacer_spaces_requests_and_only_lowers_its_rate() {
        // The pacer's decisions (start slots) are checked against a fixed start, so nothing
        // waits on the clock.
        let ms = Duration::from_millis;
        let pacer = Pacer::new(50);
        let t0 = Instant::now();
        let mut slots = Vec::new();
        for _ in 0..11 {
            slots.push(pacer.reserve(t0).await - t0);
        }
        // 11 requests asking at once at 50/s: 20 ms apart, the 11th 200 ms after the first.
        let expected: Vec<Duration> = (0..11).map(|i| ms(20 * i)).collect();
        assert_eq!(slots, expected);
        // A request asking after the last reserved slot starts at once.
        assert_eq!(pacer.reserve(t0 + ms(500)).await - t0, ms(500));

        assert_eq!(pacer.lower_to(100).await, None);
        assert_eq!(pacer.lower_to(20).await, Some(20));
        assert_eq!(pacer.rps().await, 20);
        // The next waits out the old 20 ms slot, the ones after are 52.5 ms apart (20/s
        // announced, with the 5 % margin).
        let t1 = t0 + ms(500);
        let slots: Vec<Duration> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(pacer.reserve(t1).await - t1);
            }
            v
        };
        let gap = pacer.gap().await;
        let want = Duration::from_micros(52_500);
        assert!(gap.abs_diff(want) < Duration::from_micros(1), "{gap:?}");
        assert_eq!(slots, vec![ms(20), ms(20) + gap, ms(20) + gap * 2]);
    }
}
