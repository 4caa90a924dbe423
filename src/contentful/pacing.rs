//! Client-side pacing and the retry schedule. One [`Pacer`] is shared by every request of a client:
//! it hands out evenly spaced start slots, starting at the configured rate and then following the
//! `X-Contentful-RateLimit-Second-Limit` the server announces, up as well as down (issue 20: a
//! fixed 7/s made every run on an org limited at 10/s 1.35-1.48x slower than needed), keeping a
//! 5% margin under it: the server counts requests per one-second window as they arrive, so
//! pacing at exactly the limit lets one late arrival make eleven in a window of ten and earn a
//! 429. A ceiling (an explicit `--max-rps`) is never exceeded whatever the server announces. The
//! backoff functions are pure so the schedule is unit-tested.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Hands out request start times no closer together than the current rate allows.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    /// The rate before the server has announced its limit.
    start_rps: u32,
    /// The rate never exceeded, whatever the server announces (an explicit `--max-rps`).
    ceiling: Option<u32>,
    /// The server's latest announced per-second limit, once seen.
    announced: Option<u32>,
    next: Option<Instant>,
}

/// How far under an announced limit the pacer stays (5%).
const ANNOUNCED_MARGIN: f64 = 1.05;

impl PacerState {
    /// The gap between two request starts: the starting rate's until the server announces its
    /// limit, then the announced limit's with the margin; never shorter than the ceiling's.
    fn interval(&self) -> Duration {
        let pace = match self.announced {
            Some(limit) => interval(limit).mul_f64(ANNOUNCED_MARGIN),
            None => interval(self.start_rps),
        };
        match self.ceiling {
            Some(c) => pace.max(interval(c)),
            None => pace,
        }
    }
}

impl Pacer {
    /// A pacer starting at `start_rps` requests per second, never faster than `ceiling`.
    pub fn new(start_rps: u32, ceiling: Option<u32>) -> Self {
        let ceiling = ceiling.map(|c| c.max(1));
        Pacer {
            state: Mutex::new(PacerState {
                start_rps: ceiling.map_or(start_rps, |c| start_rps.min(c)).max(1),
                ceiling,
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

    /// The gap between two request starts now.
    pub async fn gap(&self) -> Duration {
        self.state.lock().await.interval()
    }

    /// Follows the server's announced per-second limit (up or down; the pacer keeps its margin
    /// under it and stays under the ceiling). Returns the new gap when it changed.
    pub async fn follow(&self, announced: u32) -> Option<Duration> {
        if announced == 0 {
            return None;
        }
        let mut st = self.state.lock().await;
        let before = st.interval();
        st.announced = Some(announced);
        let after = st.interval();
        (after != before).then_some(after)
    }

    /// Pushes every later slot back until `until` (after a 429 everyone waits, not just one task).
    pub async fn hold_until(&self, until: Instant) {
        let mut st = self.state.lock().await;
        if st.next.is_none_or(|n| n < until) {
            st.next = Some(until);
        }
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
    async fn an_announced_limit_is_followed_up_and_down_with_a_margin() {
        let p = Pacer::new(7, None);
        assert_eq!(p.gap().await, interval(7));
        // The server announces 10/s: go up to it, 5% under (105 ms apart, ~9.5/s).
        assert_eq!(p.follow(10).await, Some(Duration::from_millis(105)));
        assert_eq!(p.gap().await, Duration::from_millis(105));
        // The same announcement again changes nothing.
        assert_eq!(p.follow(10).await, None);
        // A lower announcement slows down, a higher one speeds up again.
        assert_eq!(p.follow(5).await, Some(Duration::from_millis(210)));
        assert_eq!(p.follow(20).await, Some(Duration::from_micros(52_500)));
        // Nonsense (0) is ignored.
        assert_eq!(p.follow(0).await, None);
        assert_eq!(p.gap().await, Duration::from_micros(52_500));
    }

    #[tokio::test]
    async fn a_ceiling_is_never_exceeded_whatever_the_server_announces() {
        let p = Pacer::new(7, Some(3));
        assert_eq!(p.gap().await, interval(3));
        assert_eq!(p.follow(10).await, None);
        assert_eq!(p.gap().await, interval(3));
        // Below the ceiling, the announcement (with its margin) wins.
        assert_eq!(p.follow(2).await, Some(Duration::from_millis(525)));
        let p = Pacer::new(7, Some(10));
        p.follow(10).await;
        assert_eq!(p.gap().await, Duration::from_millis(105));
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
    async fn pacer_spaces_requests_and_follows_the_announced_limit() {
        // The pacer's decisions (start slots) are checked against a fixed start, so nothing
        // waits on the clock.
        let ms = Duration::from_millis;
        let pacer = Pacer::new(50, None);
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

        assert!(pacer.follow(20).await.is_some());
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

    #[tokio::test(start_paused = true)]
    async fn under_paused_time_a_run_goes_at_the_announced_rate_not_the_starting_one() {
        let ms = Duration::from_millis;
        let p = Pacer::new(7, None);
        let t0 = Instant::now();
        // The first answer announces 10/s; the next request still waits the 7/s gap it reserved.
        p.acquire().await;
        p.follow(10).await;
        for _ in 0..100 {
            p.acquire().await;
        }
        let took = t0.elapsed();
        let want = interval(7) + ms(105) * 99;
        assert!(took.abs_diff(want) < ms(2), "{took:?} against {want:?}");
        // At the fixed 7/s of before, the same 101 requests took 100 gaps of 142.9 ms.
        assert!(took < interval(7) * 100 * 3 / 4, "{took:?}");
    }
}
