//! Waiting for a resource to reach a terminal state: written once here, used by every backend.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::watch;
pub use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};

/// What a progress callback sees on each look at the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// The resource's name.
    pub name: String,
    /// Its status (with secondary status where there is one), e.g. `InProgress/Training`.
    pub status: String,
    /// How long the wait has lasted.
    pub elapsed: Duration,
}

type ProgressFn = Arc<dyn Fn(&WaitProgress) + Send + Sync>;

/// How to wait: poll interval, timeout, cancellation and a progress callback.
///
/// Backends that can notify changes (the local backend) wake the waiter the moment the state
/// changes; the poll interval is then only a fallback (e.g. for a job run by another process).
///
/// ```
/// use std::time::Duration;
/// use sagemaker_core::{CancellationToken, WaitConfig};
///
/// let cancel = CancellationToken::new();
/// let wait = WaitConfig::default()
///     .poll_interval(Duration::from_secs(2))
///     .timeout(Duration::from_secs(600))
///     .cancellation(cancel.clone())
///     .on_progress(|p| eprintln!("{} is {}", p.name, p.status));
/// assert_eq!(wait.get_timeout(), Some(Duration::from_secs(600)));
/// ```
#[must_use]
#[derive(Clone)]
pub struct WaitConfig {
    poll_interval: Duration,
    timeout: Option<Duration>,
    cancel: Option<CancellationToken>,
    progress: Option<ProgressFn>,
}

impl Default for WaitConfig {
    /// Polls every 5 s (the Python SDK's default), no timeout, no cancellation.
    fn default() -> Self {
        WaitConfig {
            poll_interval: Duration::from_secs(5),
            timeout: None,
            cancel: None,
            progress: None,
        }
    }
}

impl fmt::Debug for WaitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitConfig")
            .field("poll_interval", &self.poll_interval)
            .field("timeout", &self.timeout)
            .field("cancellable", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl WaitConfig {
    /// How often to look when the backend cannot notify changes (zero is raised to 1 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Give up with [`ErrorKind::Timeout`] after this long.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Give up with [`ErrorKind::Cancelled`] when `token` is cancelled.
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Called on every look at the resource.
    pub fn on_progress(mut self, f: impl Fn(&WaitProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The poll interval.
    pub fn get_poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The timeout, if any.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Waits until `describe` returns a value for which `status` says it is terminal.
    ///
    /// `changes` is the backend's change feed (see `Backend::changes`); `status` returns the
    /// status text and whether it is terminal.
    pub async fn wait_until<T, F, Fut>(
        &self,
        name: &str,
        mut changes: Option<watch::Receiver<u64>>,
        mut describe: F,
        status: impl Fn(&T) -> (String, bool),
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let started = Instant::now();
        let mut retry = Retry::new(name, self.poll_interval);
        loop {
            // Mark the current version seen *before* describing, so a change that lands
            // between the describe and the sleep still wakes us.
            if let Some(rx) = changes.as_mut() {
                rx.borrow_and_update();
            }
            let value = match describe().await {
                Ok(value) => {
                    retry.succeeded();
                    value
                }
                // A throttle or a dropped connection that outlived the SDK's own retries must
                // not end a multi-hour wait: back off and look again, within the wait's limits.
                Err(e) if e.is_temporary() => {
                    let pause = retry.failed(e, started.elapsed(), self.timeout)?;
                    self.pause_or_cancel(name, "retrying after a temporary error", pause)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (text, terminal) = status(&value);
            if let Some(progress) = &self.progress {
                progress(&WaitProgress {
                    name: name.to_string(),
                    status: text.clone(),
                    elapsed: started.elapsed(),
                });
            }
            if terminal {
                return Ok(value);
            }
            let mut sleep_for = self.poll_interval;
            if let Some(timeout) = self.timeout {
                let elapsed = started.elapsed();
                if elapsed >= timeout {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "gave up waiting for '{name}' after {:.1?}; its status is {text}",
                            elapsed
                        ),
                    )
                    .with_context(crate::error::context::RESOURCE, name)
                    .with_context(crate::error::context::STATUS, text.clone()));
                }
                sleep_for = sleep_for.min(timeout - elapsed);
            }
            let cancelled = async {
                match &self.cancel {
                    Some(token) => token.cancelled().await,
                    None => std::future::pending().await,
                }
            };
            let changed = async {
                match changes.as_mut() {
                    Some(rx) => {
                        if rx.changed().await.is_err() {
                            // The backend dropped its feed: fall back to polling.
                            std::future::pending::<()>().await
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancelled => {
                    return Err(Error::new(
                        ErrorKind::Cancelled,
                        format!("stopped waiting for '{name}' (status {text}): cancelled"),
                    )
                    .with_context(crate::error::context::RESOURCE, name));
                }
                _ = changed => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
        }
    }
}

impl WaitConfig {
    /// Sleeps `pause`, or fails with [`ErrorKind::Cancelled`] as soon as the wait is cancelled.
    async fn pause_or_cancel(&self, name: &str, doing: &str, pause: Duration) -> Result<()> {
        let cancelled = async {
            match &self.cancel {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = cancelled => Err(Error::new(
                ErrorKind::Cancelled,
                format!("stopped waiting for '{name}' ({doing}): cancelled"),
            )
            .with_context(crate::error::context::RESOURCE, name)),
            _ = tokio::time::sleep(pause) => Ok(()),
        }
    }
}

/// How long a wait without a timeout keeps retrying temporary errors that follow one another
/// with no successful look in between.
const UNBOUNDED_RETRY_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first back-off pause after a temporary error.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest back-off pause: the poll interval, but at least this.
const MIN_BACKOFF_CAP: Duration = Duration::from_secs(20);

/// Exponential back-off with jitter over a run of temporary errors.
struct Retry<'a> {
    name: &'a str,
    cap: Duration,
    /// Consecutive failures so far, and when the first of them happened.
    failures: u32,
    first_failure: Option<Duration>,
    jitter: std::collections::hash_map::RandomState,
}

impl<'a> Retry<'a> {
    fn new(name: &'a str, poll_interval: Duration) -> Self {
        Retry {
            name,
            cap: poll_interval.max(MIN_BACKOFF_CAP),
            failures: 0,
            first_failure: None,
            jitter: std::collections::hash_map::RandomState::new(),
        }
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.first_failure = None;
    }

    /// Records a temporary error seen at `elapsed` and returns how long to pause before the
    /// next look, or the error itself (with how long we tried) when the budget is spent: the
    /// wait's timeout, or [`UNBOUNDED_RETRY_WINDOW`] of consecutive errors without one.
    fn failed(
        &mut self,
        e: Error,
        elapsed: Duration,
        timeout: Option<Duration>,
    ) -> Result<Duration> {
        self.failures += 1;
        let first = *self.first_failure.get_or_insert(elapsed);
        let remaining = match timeout {
            Some(timeout) => timeout.saturating_sub(elapsed),
            None => UNBOUNDED_RETRY_WINDOW.saturating_sub(elapsed - first),
        };
        if remaining.is_zero() {
            return Err(e.prefixed(format!(
                "gave up waiting for '{}' after {} temporary error(s) in a row over {:.1?}; the last one",
                self.name,
                self.failures,
                elapsed - first
            )));
        }
        // 200 ms, 400 ms, 800 ms, ... up to the cap; then a random point in its upper half,
        // so that many waiters throttled together do not come back together.
        let exp = FIRST_BACKOFF.saturating_mul(1 << self.failures.min(16).saturating_sub(1));
        let ceiling = exp.min(self.cap);
        let unit = {
            use std::hash::BuildHasher;
            (self.jitter.hash_one(self.failures) >> 11) as f64 / (1u64 << 53) as f64
        };
        let pause = ceiling.mul_f64(0.5 + 0.5 * unit);
        tracing::debug!(
            target: "sagemaker::wait",
            "'{}': temporary error ({e}); looking again in {pause:.1?}",
            self.name
        );
        Ok(pause.min(remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn change_feed_wakes_before_poll_interval() {
        let (tx, rx) = watch::channel(0u64);
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            c.store(1, Ordering::SeqCst);
            tx.send_modify(|v| *v += 1);
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        let started = Instant::now();
        let cfg = WaitConfig::default().poll_interval(Duration::from_secs(30));
        let done = cfg
            .wait_until(
                "x",
                Some(rx),
                || {
                    let v = calls.load(Ordering::SeqCst);
                    async move { Ok::<_, Error>(v) }
                },
                |v| (v.to_string(), *v == 1),
            )
            .await
            .unwrap();
        assert_eq!(done, 1);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn timeout_and_cancel_are_typed() {
        let cfg = WaitConfig::default()
            .poll_interval(Duration::from_millis(5))
            .timeout(Duration::from_millis(30));
        let e = cfg
            .wait_until(
                "job",
                None,
                || async { Ok::<_, Error>(0) },
                |_| ("InProgress".into(), false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.message().contains("InProgress"), "{e}");

        let token = CancellationToken::new();
        token.cancel();
        let cfg = WaitConfig::default().cancellation(token);
        let e = cfg
            .wait_until(
                "job",
                None,
                || async { Ok::<_, Error>(0) },
                |_| ("InProgress".into(), false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
    }

    #[tokio::test]
    async fn progress_sees_every_look() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let n = Arc::new(AtomicU32::new(0));
        let cfg = WaitConfig::default()
            .poll_interval(Duration::from_millis(1))
            .on_progress(move |p| s.lock().unwrap().push(p.status.clone()));
        cfg.wait_until(
            "job",
            None,
            || {
                let v = n.fetch_add(1, Ordering::SeqCst);
                async move { Ok::<_, Error>(v) }
            },
            |v| (format!("s{v}"), *v == 2),
        )
        .await
        .unwrap();
        assert_eq!(*seen.lock().unwrap(), vec!["s0", "s1", "s2"]);
    }

    fn throttled() -> Error {
        Error::new(ErrorKind::Throttled, "ThrottlingException: Rate exceeded")
    }

    #[tokio::test(start_paused = true)]
    async fn temporary_errors_are_retried_until_the_resource_answers() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let cfg = WaitConfig::default().poll_interval(Duration::from_millis(10));
        let done = cfg
            .wait_until(
                "job",
                None,
                || {
                    let n = c.fetch_add(1, Ordering::SeqCst);
                    async move {
                        match n {
                            0 => Err(throttled()),
                            1 => Err(Error::new(ErrorKind::Io, "connection reset by peer")),
                            2 => Err(Error::new(ErrorKind::Timeout, "request timed out")),
                            _ => Ok(n),
                        }
                    }
                },
                |v| (v.to_string(), true),
            )
            .await
            .unwrap();
        assert_eq!(done, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_back_off_and_report_the_last_error_at_the_timeout() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = seen.clone();
        let cfg = WaitConfig::default()
            .poll_interval(Duration::from_secs(1))
            .timeout(Duration::from_secs(60));
        let e = cfg
            .wait_until(
                "job",
                None,
                || {
                    s.lock().unwrap().push(tokio::time::Instant::now());
                    async { Err::<u32, _>(throttled()) }
                },
                |v| (v.to_string(), true),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Throttled);
        assert!(e.message().contains("gave up waiting for 'job'"), "{e}");
        assert!(e.message().contains("Rate exceeded"), "{e}");
        let seen = seen.lock().unwrap();
        let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1] - w[0]).collect();
        // Exponential: the pauses grow (each within its jitter band) until the 20 s cap.
        assert!(gaps[0] >= Duration::from_millis(100) && gaps[0] <= Duration::from_millis(200));
        assert!(gaps[3] >= Duration::from_millis(800) && gaps[3] <= Duration::from_millis(1600));
        assert!(
            gaps.iter().all(|g| *g <= Duration::from_secs(20)),
            "{gaps:?}"
        );
        // Bounded by the wait's own timeout, not by a retry count.
        assert_eq!(*seen.last().unwrap() - seen[0], Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_end_the_wait_at_once_and_cancel_beats_retry() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let e = WaitConfig::default()
            .wait_until(
                "job",
                None,
                || {
                    c.fetch_add(1, Ordering::SeqCst);
                    async { Err::<u32, _>(Error::new(ErrorKind::NotFound, "no job")) }
                },
                |v| (v.to_string(), true),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let token = CancellationToken::new();
        let t = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            t.cancel();
        });
        let e = WaitConfig::default()
            .cancellation(token)
            .wait_until(
                "job",
                None,
                || async { Err::<u32, _>(throttled()) },
                |v| (v.to_string(), true),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_timeout_a_run_of_errors_is_bounded() {
        let e = WaitConfig::default()
            .wait_until(
                "job",
                None,
                || async { Err::<u32, _>(throttled()) },
                |v| (v.to_string(), true),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Throttled);
        assert!(e.message().contains("in a row"), "{e}");
    }
}
