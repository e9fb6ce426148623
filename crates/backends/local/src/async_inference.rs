//! Asynchronous endpoints on the local backend: one queue per endpoint served by
//! `instances × MaxConcurrentInvocationsPerInstance` worker threads. Inputs are read from
//! the store, results written to it atomically (`{S3OutputPath}/{id}.out`), failures to
//! `{S3FailurePath}/{id}-error.out`; notifications go to the session's callback in place of
//! SNS. Closing the queue (deleting the endpoint) fails every request still waiting, with a
//! failure object and an error notification each: none is dropped silently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sagemaker_core::spec::{
    AsyncInferenceConfig, AsyncNotificationTopicType, InvokeEndpointAsyncRequest,
    InvokeEndpointRequest,
};
use sagemaker_core::{Result, StorageUri};
use time::OffsetDateTime;

use crate::store::{LocalStore, write_atomic};
use crate::{Inner, lock};

/// SageMaker's limit on an asynchronous request's input: 1 GB.
pub const ASYNC_MAX_PAYLOAD_BYTES: usize = 1024 * 1024 * 1024;

/// The local default of `MaxConcurrentInvocationsPerInstance` (the service picks its own).
pub const DEFAULT_MAX_CONCURRENT_INVOCATIONS_PER_INSTANCE: u32 = 4;

/// How an asynchronous inference ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsyncInvocationStatus {
    /// The result was written to the output location.
    Completed,
    /// The failure was written to the failure location.
    Failed,
}

/// What the local backend delivers in place of an SNS message when an asynchronous
/// inference ends, to the callback set with
/// [`LocalSessionBuilder::on_async_notification`](crate::LocalSessionBuilder::on_async_notification).
///
/// Delivered only when the endpoint's `NotificationConfig` names a topic for that outcome
/// (`SuccessTopic` / `ErrorTopic`), after the result or failure object is written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AsyncNotification {
    /// The topic the message is for (`SuccessTopic` or `ErrorTopic`).
    pub topic: String,
    /// The endpoint.
    pub endpoint_name: String,
    /// The request's inference id.
    pub inference_id: String,
    /// How it ended.
    pub status: AsyncInvocationStatus,
    /// Where the input was read.
    pub input_location: StorageUri,
    /// Where the result was written (success).
    pub output_location: Option<StorageUri>,
    /// Where the failure was written (failure).
    pub failure_location: Option<StorageUri>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// The inference response, when `IncludeInferenceResponseIn` names this topic's type.
    pub inference_response: Option<Vec<u8>>,
    /// When it ended.
    pub event_time: OffsetDateTime,
}

/// The callback notifications are delivered to.
pub(crate) type NotifyFn = Arc<dyn Fn(&AsyncNotification) + Send + Sync>;

struct Job {
    request: InvokeEndpointAsyncRequest,
    inference_id: String,
    output: StorageUri,
    failure: StorageUri,
    enqueued: Instant,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// Counters of an asynchronous endpoint.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) running: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// The queue of one asynchronous endpoint.
pub(crate) struct AsyncQueue {
    endpoint: String,
    config: AsyncInferenceConfig,
    state: Mutex<State>,
    wake: Condvar,
    workers: Mutex<Vec<JoinHandle<()>>>,
    inner: Weak<Inner>,
    store: Arc<LocalStore>,
    notify: Option<NotifyFn>,
    pub(crate) counters: Counters,
}

impl AsyncQueue {
    /// A queue for `endpoint` with `workers` threads, invoking through `inner`.
    pub(crate) fn start(
        inner: &Arc<Inner>,
        endpoint: &str,
        config: AsyncInferenceConfig,
        workers: usize,
    ) -> Result<Arc<Self>> {
        let queue = Arc::new(AsyncQueue {
            endpoint: endpoint.to_string(),
            config,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            workers: Mutex::new(Vec::new()),
            inner: Arc::downgrade(inner),
            store: inner.store.clone(),
            notify: inner.notify.clone(),
            counters: Counters::default(),
        });
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers.max(1) {
            let q = queue.clone();
            let handle = std::thread::Builder::new()
                .name(format!("async-{endpoint}-{i}"))
                .spawn(move || q.work())
                .map_err(|e| {
                    sagemaker_core::Error::new(
                        sagemaker_core::ErrorKind::Internal,
                        format!("cannot start an async worker: {e}"),
                    )
                })?;
            handles.push(handle);
        }
        *lock(&queue.workers) = handles;
        Ok(queue)
    }

    /// The output and failure locations of a new request.
    pub(crate) fn locations(&self, id: &str) -> (StorageUri, StorageUri) {
        let out = &self.config.output_config;
        let output_dir = out
            .s3_output_path
            .clone()
            .expect("checked when the endpoint config was created");
        let output = output_dir.join(&format!("{id}.out"));
        let failure = out
            .s3_failure_path
            .clone()
            .unwrap_or(output_dir)
            .join(&format!("{id}-error.out"));
        (output, failure)
    }

    /// Queues a request. Refused (`false`) once the queue is closed.
    pub(crate) fn push(
        &self,
        request: InvokeEndpointAsyncRequest,
        inference_id: String,
        output: StorageUri,
        failure: StorageUri,
    ) -> bool {
        let mut state = lock(&self.state);
        if state.closed {
            return false;
        }
        state.jobs.push_back(Job {
            request,
            inference_id,
            output,
            failure,
            enqueued: Instant::now(),
        });
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        drop(state);
        self.wake.notify_one();
        true
    }

    /// Requests waiting for a worker.
    pub(crate) fn queued(&self) -> usize {
        lock(&self.state).jobs.len()
    }

    /// Closes the queue: every request still waiting fails now (failure object and error
    /// notification, `reason` as the failure), requests running finish. With `join`, waits
    /// for the workers to exit, so every request has its object when this returns.
    pub(crate) fn close(&self, reason: &str, join: bool) {
        let pending: Vec<Job> = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.jobs.drain(..).collect()
        };
        self.wake.notify_all();
        for job in pending {
            self.fail(&job, reason.to_string());
        }
        self.tick();
        if join {
            let me = std::thread::current().id();
            let handles: Vec<_> = lock(&self.workers).drain(..).collect();
            for h in handles {
                if h.thread().id() != me {
                    let _ = h.join();
                }
            }
        }
        self.tick();
    }

    fn tick(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.tick();
        }
    }

    fn next(&self) -> Option<Job> {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn work(self: Arc<Self>) {
        while let Some(job) = self.next() {
            self.counters.running.fetch_add(1, Ordering::Relaxed);
            // The model's panics are already its 500s; this catches ours, so that the request
            // still gets its failure object and the worker lives on to serve the next one.
            if let Err(message) = crate::guard::catch(|| self.run(&job)) {
                self.fail(
                    &job,
                    format!("InternalFailure: the asynchronous worker panicked: {message}"),
                );
            }
            self.counters.running.fetch_sub(1, Ordering::Relaxed);
            self.tick();
        }
    }

    fn run(&self, job: &Job) {
        let (store, notify) = (&self.store, self.notify.as_ref());
        let ttl = Duration::from_secs(u64::from(
            job.request
                .request_ttl_seconds
                .unwrap_or(InvokeEndpointAsyncRequest::MAX_REQUEST_TTL_SECONDS),
        ));
        if job.enqueued.elapsed() > ttl {
            let reason = format!(
                "Request expired: it waited in the queue longer than its RequestTTLSeconds ({} s)",
                ttl.as_secs()
            );
            return self.fail(job, reason);
        }
        let body = match store
            .path_of(&job.request.input_location)
            .and_then(|p| read_bounded(&p, ASYNC_MAX_PAYLOAD_BYTES))
        {
            Ok(b) => b,
            Err(e) => {
                let reason = format!(
                    "Could not read the input {}: {}",
                    job.request.input_location,
                    e.message()
                );
                return self.fail(job, reason);
            }
        };
        let Some(backend) = self.inner.upgrade() else {
            return self.fail(job, "the local backend was dropped".into());
        };
        let mut request = InvokeEndpointRequest::new(self.endpoint.clone(), body);
        request.content_type = job.request.content_type.clone();
        request.accept = job.request.accept.clone();
        request.custom_attributes = job.request.custom_attributes.clone();
        request.inference_id = Some(job.inference_id.clone());
        let started = Instant::now();
        let result = backend.invoke_with_limit(&request, ASYNC_MAX_PAYLOAD_BYTES);
        drop(backend);
        let timeout = Duration::from_secs(u64::from(
            job.request
                .invocation_timeout_seconds
                .unwrap_or(InvokeEndpointAsyncRequest::DEFAULT_INVOCATION_TIMEOUT_SECONDS),
        ));
        match result {
            Ok(_) if started.elapsed() > timeout => {
                let reason = format!(
                    "Inference timed out: the model took longer than InvocationTimeoutSeconds ({} s)",
                    timeout.as_secs()
                );
                self.fail(job, reason);
            }
            Ok(answer) => {
                let written = store
                    .path_of(&job.output)
                    .and_then(|p| write_atomic(&p, &answer.body));
                match written {
                    Ok(()) => {
                        self.counters.completed.fetch_add(1, Ordering::Relaxed);
                        let topics = self.config.output_config.notification_config.as_ref();
                        if let (Some(_), Some(topic)) =
                            (notify, topics.and_then(|n| n.success_topic.clone()))
                        {
                            let include = topics.is_some_and(|n| {
                                n.include_inference_response_in
                                    .contains(&AsyncNotificationTopicType::SuccessNotificationTopic)
                            });
                            self.deliver(&AsyncNotification {
                                topic,
                                endpoint_name: self.endpoint.clone(),
                                inference_id: job.inference_id.clone(),
                                status: AsyncInvocationStatus::Completed,
                                input_location: job.request.input_location.clone(),
                                output_location: Some(job.output.clone()),
                                failure_location: None,
                                failure_reason: None,
                                inference_response: include.then_some(answer.body),
                                event_time: OffsetDateTime::now_utc(),
                            });
                        }
                    }
                    Err(e) => {
                        let reason = format!("Could not write the result: {}", e.message());
                        self.fail(job, reason);
                    }
                }
            }
            Err(e) => self.fail(job, e.message().to_string()),
        }
    }

    /// Hands a notification to the session's callback. The callback is user code: its panic
    /// is logged and the notification dropped, after the result or failure object was written,
    /// so the request itself is never lost.
    fn deliver(&self, notification: &AsyncNotification) {
        let Some(notify) = self.notify.as_ref() else {
            return;
        };
        if let Err(message) = crate::guard::catch(|| notify(notification)) {
            tracing::error!(target: "sagemaker::local", endpoint = %self.endpoint, inference_id = %notification.inference_id, "the notification callback panicked: {message}");
        }
    }

    /// Writes the failure object and sends the error notification.
    fn fail(&self, job: &Job, reason: String) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self
            .store
            .path_of(&job.failure)
            .and_then(|p| write_atomic(&p, reason.as_bytes()))
        {
            tracing::error!(target: "sagemaker::local", endpoint = %self.endpoint, inference_id = %job.inference_id, "cannot write the failure object {}: {e}", job.failure);
        }
        tracing::debug!(target: "sagemaker::local", endpoint = %self.endpoint, inference_id = %job.inference_id, %reason, "async inference failed");
        let topics = self.config.output_config.notification_config.as_ref();
        if let (Some(_), Some(topic)) = (
            self.notify.as_ref(),
            topics.and_then(|n| n.error_topic.clone()),
        ) {
            let include = topics.is_some_and(|n| {
                n.include_inference_response_in
                    .contains(&AsyncNotificationTopicType::ErrorNotificationTopic)
            });
            self.deliver(&AsyncNotification {
                topic,
                endpoint_name: self.endpoint.clone(),
                inference_id: job.inference_id.clone(),
                status: AsyncInvocationStatus::Failed,
                input_location: job.request.input_location.clone(),
                output_location: None,
                failure_location: Some(job.failure.clone()),
                failure_reason: Some(reason.clone()),
                inference_response: include.then(|| reason.into_bytes()),
                event_time: OffsetDateTime::now_utc(),
            });
        }
    }
}

/// Reads an input of at most `limit` bytes: its size is checked before anything is read, and
/// the read stops one byte past the limit in case the file grows meanwhile.
fn read_bounded(path: &std::path::Path, limit: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |e| sagemaker_core::Error::io(path, e);
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = || {
        sagemaker_core::Error::new(
            sagemaker_core::ErrorKind::PayloadTooLarge,
            format!("it is larger than the {limit}-byte limit of an asynchronous request"),
        )
    };
    let declared = file.metadata().map_err(io)?.len();
    if declared > limit as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    file.take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(io)?;
    if body.len() > limit {
        return Err(too_large());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_input_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        // Sparse: a 1 GiB + 1 file costs no disk, and reading it would cost 1 GiB of memory.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(ASYNC_MAX_PAYLOAD_BYTES as u64 + 1).unwrap();
        let e = read_bounded(&path, ASYNC_MAX_PAYLOAD_BYTES).unwrap_err();
        assert_eq!(e.kind(), sagemaker_core::ErrorKind::PayloadTooLarge);
        assert!(e.message().contains("1073741824-byte limit"), "{e}");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_bounded(&path, 5).unwrap(), b"12345");
        assert_eq!(
            read_bounded(&path, 4).unwrap_err().kind(),
            sagemaker_core::ErrorKind::PayloadTooLarge
        );
    }
}
