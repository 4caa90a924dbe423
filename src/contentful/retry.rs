//! The retry decision, as a pure function (the shape of cargo's `util/network/retry.rs`): given
//! which attempt failed and how, [`RetryPolicy::decide`] says whether to try again and after how
//! long. The client's loop sends, classifies the result as a [`Failure`], asks, and sleeps; the
//! policy itself touches no clock and no network, so every branch is unit-tested without time.

use std::time::Duration;

use super::pacing::{backoff, rate_limit_wait};

/// How one attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No response arrived. `never_sent` when the connection could not even be opened, so the
    /// server cannot have seen the request.
    Transport {
        /// The request provably never reached the server.
        never_sent: bool,
    },
    /// The server answered with this status (not 2xx). `reset` is
    /// `X-Contentful-RateLimit-Reset` in seconds, when sent.
    Status {
        /// HTTP status.
        code: u16,
        /// Seconds until the rate limit resets, when the server said.
        reset: Option<u64>,
    },
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again after this wait. `hold_everyone` when every request of the client must wait
    /// too (a 429: the server refused the whole client, not this request).
    Retry {
        /// How long to wait first.
        wait: Duration,
        /// Push the shared pacer's next slot back by `wait` as well.
        hold_everyone: bool,
    },
    /// Return the failure to the caller.
    GiveUp,
}

/// The client's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// First backoff; doubles per retry.
    pub backoff_base: Duration,
    /// A 429 whose reset is further away than this is not waited for.
    pub max_rate_limit_wait: Duration,
}

impl RetryPolicy {
    /// Whether attempt number `attempt` (1 = the first) of a request may be retried after
    /// `failure`. `is_post` marks a request that is not idempotent: it is retried only when it
    /// provably never reached the server or was refused before processing (429, 503), because a
    /// POST whose answer was lost may have created its object. `jitter(max)` returns a random
    /// extra wait below `max` (tests pass a fixed one).
    pub fn decide(
        &self,
        attempt: u32,
        is_post: bool,
        failure: Failure,
        jitter: &mut impl FnMut(Duration) -> Duration,
    ) -> Decision {
        if attempt >= self.max_attempts.max(1) {
            return Decision::GiveUp;
        }
        let backoff_with_jitter = |jitter: &mut dyn FnMut(Duration) -> Duration| {
            let wait = backoff(self.backoff_base, attempt);
            wait + jitter(wait / 2 + Duration::from_millis(1))
        };
        match failure {
            Failure::Transport { never_sent } => {
                if is_post && !never_sent {
                    return Decision::GiveUp;
                }
                Decision::Retry {
                    wait: backoff_with_jitter(jitter),
                    hold_everyone: false,
                }
            }
            Failure::Status { code: 429, reset } => {
                if reset.is_some_and(|r| Duration::from_secs(r) > self.max_rate_limit_wait) {
                    return Decision::GiveUp;
                }
                Decision::Retry {
                    wait: rate_limit_wait(reset, self.backoff_base, attempt, jitter),
                    hold_everyone: true,
                }
            }
            // 503 is refused before processing; other 5xx may follow a processed POST.
            Failure::Status { code: 503, .. } => Decision::Retry {
                wait: backoff_with_jitter(jitter),
                hold_everyone: false,
            },
            Failure::Status {
                code: 500 | 502 | 504,
                ..
            } if !is_post => Decision::Retry {
                wait: backoff_with_jitter(jitter),
                hold_everyone: false,
            },
            Failure::Status { .. } => Decision::GiveUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            backoff_base: MS(100),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }

    fn no_jitter(_: Duration) -> Duration {
        Duration::ZERO
    }

    fn retry(wait: Duration) -> Decision {
        Decision::Retry {
            wait,
            hold_everyone: false,
        }
    }

    #[test]
    fn transport_failures_back_off_exponentially_until_the_last_attempt() {
        let p = policy();
        let dropped = Failure::Transport { never_sent: false };
        let waits: Vec<Decision> = (1..=5)
            .map(|a| p.decide(a, false, dropped, &mut no_jitter))
            .collect();
        assert_eq!(
            waits,
            vec![
                retry(MS(100)),
                retry(MS(200)),
                retry(MS(400)),
                retry(MS(800)),
                Decision::GiveUp
            ]
        );
    }

    #[test]
    fn a_post_is_retried_only_when_the_server_cannot_have_processed_it() {
        let p = policy();
        let d = |f| p.decide(1, true, f, &mut no_jitter);
        assert_eq!(d(Failure::Transport { never_sent: true }), retry(MS(100)));
        assert_eq!(
            d(Failure::Transport { never_sent: false }),
            Decision::GiveUp
        );
        for code in [500, 502, 504] {
            assert_eq!(d(Failure::Status { code, reset: None }), Decision::GiveUp);
            // The same status on an idempotent request is retried.
            assert_eq!(
                p.decide(
                    1,
                    false,
                    Failure::Status { code, reset: None },
                    &mut no_jitter
                ),
                retry(MS(100))
            );
        }
        assert_eq!(
            d(Failure::Status {
                code: 503,
                reset: None
            }),
            retry(MS(100))
        );
        assert!(matches!(
            d(Failure::Status {
                code: 429,
                reset: Some(1)
            }),
            Decision::Retry {
                hold_everyone: true,
                ..
            }
        ));
    }

    #[test]
    fn a_429_waits_for_the_announced_reset_unless_it_is_too_far_away() {
        let p = policy();
        let limited = |reset| Failure::Status { code: 429, reset };
        assert_eq!(
            p.decide(1, false, limited(Some(2)), &mut no_jitter),
            Decision::Retry {
                wait: Duration::from_secs(2),
                hold_everyone: true
            }
        );
        // A reset of 0 still pauses briefly.
        assert_eq!(
            p.decide(1, false, limited(Some(0)), &mut no_jitter),
            Decision::Retry {
                wait: MS(100),
                hold_everyone: true
            }
        );
        // No reset header: the exponential backoff.
        assert_eq!(
            p.decide(3, false, limited(None), &mut no_jitter),
            Decision::Retry {
                wait: MS(400),
                hold_everyone: true
            }
        );
        assert_eq!(
            p.decide(1, false, limited(Some(3600)), &mut no_jitter),
            Decision::GiveUp
        );
    }

    #[test]
    fn client_errors_are_not_retried_and_jitter_is_added_to_the_wait() {
        let p = policy();
        for code in [400, 401, 403, 404, 409, 422] {
            assert_eq!(
                p.decide(
                    1,
                    false,
                    Failure::Status { code, reset: None },
                    &mut no_jitter
                ),
                Decision::GiveUp
            );
        }
        // Jitter is asked for at most half the backoff (plus 1 ms) and added.
        let mut asked = Vec::new();
        let d = p.decide(
            2,
            false,
            Failure::Transport { never_sent: true },
            &mut |max| {
                asked.push(max);
                MS(7)
            },
        );
        assert_eq!(d, retry(MS(207)));
        assert_eq!(asked, vec![MS(101)]);
        // A single-attempt policy never retries.
        let once = RetryPolicy {
            max_attempts: 1,
            ..p
        };
        assert_eq!(
            once.decide(
                1,
                false,
                Failure::Transport { never_sent: true },
                &mut no_jitter
            ),
            Decision::GiveUp
        );
    }
}
