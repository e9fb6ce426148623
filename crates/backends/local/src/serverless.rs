//! Serverless variants on the local backend: workers loaded on demand (a cold start) and
//! unloaded after an idle time (scale to zero, except the provisioned ones), at most
//! `MaxConcurrency` requests at once, the excess refused with `ThrottlingException`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sagemaker_core::container::{Container, Handler, ServingEnv};
use sagemaker_core::spec::ProductionVariantServerlessConfig;
use sagemaker_core::{Error, ErrorKind, Result};

use tokio::sync::watch;

use crate::lock;

/// SageMaker's limit on a serverless request (and response) payload: 4 MB.
pub const SERVERLESS_MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// The default time a serverless worker stays loaded after its last request.
pub const DEFAULT_SERVERLESS_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The workers of one serverless variant.
pub(crate) struct ServerlessPool {
    pub(crate) config: ProductionVariantServerlessConfig,
    endpoint: String,
    variant: String,
    container: Arc<dyn Container>,
    model_dir: PathBuf,
    env: ServingEnv,
    /// The backend's change feed: unloading ticks it, so waits on metrics wake.
    changes: watch::Sender<u64>,
    /// Loaded workers not serving a request, most recently used last.
    warm: Mutex<Vec<(Arc<dyn Handler>, Instant)>>,
    in_flight: AtomicU32,
    pub(crate) cold_starts: AtomicU64,
    pub(crate) throttles: AtomicU64,
    pub(crate) invocations: AtomicU64,
    /// Nanoseconds of the last cold start's model load (0: none yet).
    pub(crate) last_setup_ns: AtomicU64,
}

/// One admitted request: holds a concurrency slot and a loaded worker; gives both back when
/// dropped.
pub(crate) struct Lease<'a> {
    pool: &'a ServerlessPool,
    pub(crate) handler: Option<Arc<dyn Handler>>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.handler.take() {
            lock(&self.pool.warm).push((h, Instant::now()));
        }
        self.pool.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ServerlessPool {
    /// A pool with its provisioned workers loaded (loading errors fail the endpoint).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        endpoint: &str,
        variant: &str,
        config: ProductionVariantServerlessConfig,
        container: Arc<dyn Container>,
        model_dir: PathBuf,
        env: ServingEnv,
        idle_timeout: Duration,
        changes: watch::Sender<u64>,
    ) -> Result<Arc<Self>> {
        let pool = Arc::new(ServerlessPool {
            config,
            endpoint: endpoint.to_string(),
            variant: variant.to_string(),
            container,
            model_dir,
            env,
            changes,
            warm: Mutex::new(Vec::new()),
            in_flight: AtomicU32::new(0),
            cold_starts: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
            invocations: AtomicU64::new(0),
            last_setup_ns: AtomicU64::new(0),
        });
        let now = Instant::now();
        for _ in 0..config.provisioned_concurrency.unwrap_or(0) {
            let h = pool.container.load(&pool.model_dir, &pool.env)?;
            lock(&pool.warm).push((h, now));
        }
        // Scale to zero in the background; the task ends when the pool is dropped.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&pool);
            rt.spawn(reaper(weak, idle_timeout));
        }
        Ok(pool)
    }

    /// Admits a request (or refuses it with [`ErrorKind::Throttled`] when `MaxConcurrency`
    /// requests are running) and hands it a warm worker, loading one when none is warm (a
    /// cold start, logged and counted).
    pub(crate) fn acquire(&self) -> Result<Lease<'_>> {
        let max = self.config.max_concurrency;
        let admitted = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            self.throttles.fetch_add(1, Ordering::Relaxed);
            return Err(Error::new(ErrorKind::Throttled, "Rate exceeded")
                .with_context(sagemaker_core::error::context::RESOURCE, &self.endpoint));
        }
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let mut lease = Lease {
            pool: self,
            handler: None,
        };
        let warm = lock(&self.warm).pop().map(|(h, _)| h);
        lease.handler = Some(match warm {
            Some(h) => h,
            None => {
                let started = Instant::now();
                let h = self.container.load(&self.model_dir, &self.env)?;
                let took = started.elapsed();
                self.cold_starts.fetch_add(1, Ordering::Relaxed);
                self.last_setup_ns
                    .store(took.as_nanos().max(1) as u64, Ordering::Relaxed);
                tracing::info!(
                    target: "sagemaker::local",
                    endpoint = %self.endpoint,
                    variant = %self.variant,
                    model_setup_ms = took.as_secs_f64() * 1e3,
                    "serverless cold start"
                );
                h
            }
        });
        Ok(lease)
    }

    /// Unloads workers idle for `idle` or longer (all idle ones with `Duration::ZERO`),
    /// keeping the provisioned ones. Returns how many were unloaded.
    pub(crate) fn unload_idle(&self, idle: Duration) -> usize {
        let keep = self.config.provisioned_concurrency.unwrap_or(0) as usize;
        let now = Instant::now();
        let mut warm = lock(&self.warm);
        let before = warm.len();
        // Most recently used last: the provisioned ones kept are the freshest.
        let mut kept = Vec::with_capacity(before);
        for (h, used) in warm.drain(..).rev() {
            if kept.len() < keep || now.duration_since(used) < idle {
                kept.push((h, used));
            }
        }
        kept.reverse();
        let unloaded = before - kept.len();
        *warm = kept;
        drop(warm);
        if unloaded > 0 {
            self.changes.send_modify(|v| *v = v.wrapping_add(1));
            tracing::info!(target: "sagemaker::local", endpoint = %self.endpoint, variant = %self.variant, unloaded, "serverless workers unloaded after idling");
        }
        unloaded
    }

    /// Loaded workers not serving a request.
    pub(crate) fn warm_workers(&self) -> usize {
        lock(&self.warm).len()
    }

    /// The last cold start's model setup time.
    pub(crate) fn last_setup_time(&self) -> Option<Duration> {
        match self.last_setup_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }
}

async fn reaper(pool: Weak<ServerlessPool>, idle: Duration) {
    let period = (idle / 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(period).await;
        let Some(pool) = pool.upgrade() else { return };
        pool.unload_idle(idle);
    }
}
