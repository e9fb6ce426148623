//! The load generator: keep-alive HTTP/1.1 connections sending one request back to back,
//! for a duration or a number of requests, with latency percentiles.
//!
//! It runs on its own OS thread with a current-thread tokio runtime, one task per connection,
//! so that it uses at most one core and leaves the others to the server it measures (the
//! benchmarks' anchor machine has 2 vCPUs). It writes pre-built request bytes and parses the
//! answers itself (`Content-Length`, chunked, or up to the end of the stream) rather than
//! going through [`crate::http`]'s client: a measuring tool has to cost far less per request
//! than the server it measures, and a general client's per-request allocations and task
//! hand-offs would show in the figures.
//!
//! Each connection warms up for [`Load::warmup`], then every request that starts in the
//! recorded window (and, for a duration, ends in it) is recorded: a 2xx answer as a latency,
//! anything else (other statuses, I/O failures, failed connects) as an error. A failure or a
//! `Connection: close` answer reconnects.
//!
//! ```no_run
//! use std::time::Duration;
//! use sagemaker_test_support::load::{Load, post_request};
//!
//! let addr = "127.0.0.1:8080".parse().unwrap();
//! let request = post_request("127.0.0.1:8080", "/invocations", &[("Content-Type", "text/csv")], b"1,2");
//! let report = Load::new(addr, request).connections(16).duration(Duration::from_secs(5)).run();
//! println!("{:.0} req/s, p99 {:.3} ms", report.rps(), report.p99_ms());
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// The raw bytes of `POST path` to `authority` with `headers` and `body`, keep-alive.
///
/// ```
/// let r = sagemaker_test_support::load::post_request("h:1", "/p", &[("Accept", "text/csv")], b"x");
/// assert_eq!(r, b"POST /p HTTP/1.1\r\nHost: h:1\r\nAccept: text/csv\r\nContent-Length: 1\r\n\r\nx");
/// ```
pub fn post_request(authority: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// When a run stops recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this long (requests that end later are not recorded).
    After(Duration),
    /// After this many recorded requests, over all connections.
    Requests(u64),
}

/// A load run: where, what, how many connections, how long.
#[derive(Debug, Clone)]
pub struct Load {
    addr: SocketAddr,
    request: Arc<[u8]>,
    connections: usize,
    warmup: Duration,
    stop: Stop,
}

impl Load {
    /// `request` (raw bytes, e.g. from [`post_request`]) sent to `addr`; by default 1
    /// connection, 1 s of warm-up, 5 s recorded.
    pub fn new(addr: SocketAddr, request: Vec<u8>) -> Self {
        Load {
            addr,
            request: request.into(),
            connections: 1,
            warmup: Duration::from_secs(1),
            stop: Stop::After(Duration::from_secs(5)),
        }
    }

    /// Keep-alive connections at once (at least 1).
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.max(1);
        self
    }

    /// Time spent sending before recording starts.
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.warmup = warmup;
        self
    }

    /// Record for `duration`.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.stop = Stop::After(duration);
        self
    }

    /// Record `n` requests (over all connections), however long they take.
    pub fn requests(mut self, n: u64) -> Self {
        self.stop = Stop::Requests(n);
        self
    }

    /// Runs the load on its own OS thread and returns what it recorded.
    pub fn run(&self) -> LoadReport {
        let load = self.clone();
        std::thread::Builder::new()
            .name("load-generator".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime for the load generator")
                    .block_on(load.drive())
            })
            .expect("spawning the load generator")
            .join()
            .expect("the load generator panicked")
    }

    async fn drive(self) -> LoadReport {
        let record_from = Instant::now() + self.warmup;
        let (end, budget) = match self.stop {
            Stop::After(d) => (record_from + d, None),
            // A request count has no deadline; a day bounds a server that stopped answering.
            Stop::Requests(n) => (
                record_from + Duration::from_secs(86_400),
                Some(Arc::new(AtomicU64::new(n))),
            ),
        };
        let window = Window {
            record_from,
            end,
            budget,
        };
        let tasks: Vec<_> = (0..self.connections)
            .map(|_| {
                let request = self.request.clone();
                let window = window.clone();
                tokio::spawn(connection(self.addr, request, window))
            })
            .collect();
        let mut latencies_ns = Vec::new();
        let mut errors = 0;
        let mut last_done = record_from;
        for t in tasks {
            let s = t.await.expect("a connection task panicked");
            latencies_ns.extend(s.latencies_ns);
            errors += s.errors;
            last_done = last_done.max(s.last_done);
        }
        latencies_ns.sort_unstable();
        let seconds = match self.stop {
            Stop::After(d) => d.as_secs_f64(),
            Stop::Requests(_) => (last_done - record_from).as_secs_f64(),
        };
        LoadReport {
            latencies_ns,
            errors,
            seconds,
        }
    }
}

/// What a run recorded.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Latencies of the recorded 2xx answers, nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
    /// Recorded errors: other statuses, I/O failures, failed connects.
    pub errors: u64,
    /// The recorded window in seconds (the duration, or until the last counted request ended).
    pub seconds: f64,
}

impl LoadReport {
    /// Recorded 2xx answers.
    pub fn requests(&self) -> u64 {
        self.latencies_ns.len() as u64
    }

    /// 2xx answers per second of the recorded window.
    pub fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.latencies_ns.len() as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The `q` quantile (0..=1) of the latencies in milliseconds (nearest rank); NaN when
    /// nothing was recorded.
    ///
    /// ```
    /// let r = sagemaker_test_support::load::LoadReport {
    ///     latencies_ns: (1..=100).map(|ms| ms * 1_000_000).collect(),
    ///     errors: 0,
    ///     seconds: 1.0,
    /// };
    /// assert_eq!((r.p50_ms(), r.p99_ms(), r.quantile_ms(1.0)), (50.0, 99.0, 100.0));
    /// ```
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let sorted = &self.latencies_ns;
        if sorted.is_empty() {
            return f64::NAN;
        }
        let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i] as f64 / 1e6
    }

    /// The median latency in milliseconds.
    pub fn p50_ms(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    /// The 99th percentile latency in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }
}

/// When requests count, shared by the connections of a run.
#[derive(Clone)]
struct Window {
    record_from: Instant,
    end: Instant,
    /// Requests left to record, for [`Stop::Requests`].
    budget: Option<Arc<AtomicU64>>,
}

impl Window {
    /// Whether a request starting at `start` is recorded; `None` when the run is over.
    fn admit(&self, start: Instant) -> Option<bool> {
        if start >= self.end {
            return None;
        }
        if start < self.record_from {
            return Some(false);
        }
        match &self.budget {
            None => Some(true),
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .ok()
                .map(|_| true),
        }
    }

    /// Whether an answer at `done` to a recorded request still counts.
    fn counts(&self, done: Instant) -> bool {
        self.budget.is_some() || done <= self.end
    }
}

/// What one connection recorded.
struct ConnStats {
    latencies_ns: Vec<u64>,
    errors: u64,
    last_done: Instant,
}

/// One keep-alive connection sending `request` back to back while the window admits it.
async fn connection(addr: SocketAddr, request: Arc<[u8]>, window: Window) -> ConnStats {
    let mut stats = ConnStats {
        latencies_ns: Vec::new(),
        errors: 0,
        last_done: window.record_from,
    };
    let mut buf = Buffer::new();
    'connect: loop {
        let start = Instant::now();
        let Some(recorded) = window.admit(start) else {
            break;
        };
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(_) => {
                if recorded {
                    stats.errors += 1;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        buf.clear();
        // The first request on this connection was admitted above.
        let mut admitted = Some((start, recorded));
        loop {
            let (start, recorded) = match admitted.take() {
                Some(a) => a,
                None => {
                    let start = Instant::now();
                    match window.admit(start) {
                        Some(recorded) => (start, recorded),
                        None => break 'connect,
                    }
                }
            };
            let outcome = match write_all(&stream, &request).await {
                Ok(()) => buf.response(&stream).await,
                Err(e) => Err(e),
            };
            let done = Instant::now();
            let counted = recorded && window.counts(done);
            if counted {
                stats.last_done = stats.last_done.max(done);
            }
            match outcome {
                Ok(answer) => {
                    if counted {
                        if (200..300).contains(&answer.status) {
                            stats.latencies_ns.push((done - start).as_nanos() as u64);
                        } else {
                            stats.errors += 1;
                        }
                    }
                    if answer.close {
                        continue 'connect;
                    }
                }
                Err(_) => {
                    if counted {
                        stats.errors += 1;
                    }
                    continue 'connect;
                }
            }
        }
    }
    stats
}

/// Writes all of `bytes` with readiness + `try_write` (tokio's `net` feature only, so that the
/// workspace's tokio is built with the same features with or without this crate).
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A parsed answer: its status and whether the server closes the connection after it.
struct Answer {
    status: u16,
    close: bool,
}

/// The bytes read from one connection and not yet consumed.
struct Buffer {
    bytes: Vec<u8>,
    filled: usize,
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

impl Buffer {
    fn new() -> Self {
        Buffer {
            bytes: vec![0; 16 * 1024],
            filled: 0,
        }
    }

    fn clear(&mut self) {
        self.filled = 0;
    }

    /// Reads more bytes, growing the buffer when it is full; the end of the stream is an error.
    async fn fill(&mut self, stream: &TcpStream) -> std::io::Result<()> {
        if self.filled == self.bytes.len() {
            self.bytes.resize(self.bytes.len() * 2, 0);
        }
        loop {
            stream.readable().await?;
            match stream.try_read(&mut self.bytes[self.filled..]) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until `len` bytes are buffered.
    async fn fill_to(&mut self, stream: &TcpStream, len: usize) -> std::io::Result<()> {
        while self.filled < len {
            self.fill(stream).await?;
        }
        Ok(())
    }

    /// Reads until `needle` occurs at or after `from`; returns where it starts.
    async fn find(
        &mut self,
        stream: &TcpStream,
        from: usize,
        needle: &[u8],
    ) -> std::io::Result<usize> {
        let mut searched = from;
        loop {
            if let Some(i) = self.bytes[searched..self.filled]
                .windows(needle.len())
                .position(|w| w == needle)
            {
                return Ok(searched + i);
            }
            searched = self.filled.saturating_sub(needle.len() - 1).max(from);
            self.fill(stream).await?;
        }
    }

    /// Reads one answer and drops its bytes, keeping any that follow it.
    async fn response(&mut self, stream: &TcpStream) -> std::io::Result<Answer> {
        let head_end = self.find(stream, 0, b"\r\n\r\n").await? + 4;
        let head = std::str::from_utf8(&self.bytes[..head_end])
            .map_err(|_| invalid("the response head is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("no status line"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| invalid("Content-Length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.to_ascii_lowercase().contains("close");
            }
        }
        let end = if let Some(length) = length {
            self.fill_to(stream, head_end + length).await?;
            head_end + length
        } else if chunked {
            self.chunked_body(stream, head_end).await?
        } else {
            // Neither: the body runs to the end of the stream.
            loop {
                match self.fill(stream).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            close = true;
            self.filled
        };
        self.bytes.copy_within(end..self.filled, 0);
        self.filled -= end;
        Ok(Answer { status, close })
    }

    /// Reads a chunked body starting at `pos`; returns where it ends (no trailers expected).
    async fn chunked_body(&mut self, stream: &TcpStream, mut pos: usize) -> std::io::Result<usize> {
        loop {
            let line_end = self.find(stream, pos, b"\r\n").await?;
            let size_line = std::str::from_utf8(&self.bytes[pos..line_end])
                .map_err(|_| invalid("chunk size"))?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("chunk size"))?;
            pos = line_end + 2;
            // The chunk and its CRLF; the last, empty chunk has the final CRLF only.
            self.fill_to(stream, pos + size + 2).await?;
            pos += size + 2;
            if size == 0 {
                return Ok(pos);
            }
        }
    }
}
