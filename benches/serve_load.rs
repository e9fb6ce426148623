//! Serving load benchmark: an iris `LogisticRegression` deployed on the local backend and
//! driven over HTTP/1.1 keep-alive connections, plus the in-process `Predictor::predict_raw`
//! latency, the time from `deploy()` to the first prediction, and the memory of an endpoint.
//!
//! `cargo bench -p sagemaker --bench serve_load` (release build; about 2 minutes). Prints a
//! Markdown table of every figure next to its goal (the serving goals in `docs/benchmarks.md`).
//!
//! The server runs on a 2-worker tokio runtime (the anchor's shape: 2 vCPUs). The load
//! generator is the workspace's one (`sagemaker_test_support::load`): its own OS thread with
//! a current-thread runtime, one task per keep-alive connection. Each run connects, warms up
//! for `WARMUP`, then records every request that starts and ends inside the next `RUN`.
//! Non-2xx answers and connection failures count as errors. If `wrk` is on `PATH`,
//! `wrk -t1 -c16 -d10s` runs too, as a cross-check.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use sagemaker::DeleteEndpoint;
use sagemaker::Predictor;
use sagemaker::model::DeployConfig;
use sagemaker::spec::InvokeEndpointRequest;
use sagemaker_test_support::http::HttpClient;
use sagemaker_test_support::load::{Load, post_request};
use sagemaker_test_support::{iris_csv, iris_logistic, iris_rows, session, upload};

/// Warm-up of each load run, not recorded.
const WARMUP: Duration = Duration::from_secs(1);
/// Recorded duration of each load run.
const RUN: Duration = Duration::from_secs(5);
/// Load runs per scenario; the median (by req/s) is reported.
const RUNS: usize = 3;
/// The one-row body of the anchors (`row1.csv`).
const ONE_ROW: &str = "5.1,3.5,1.4,0.2";
/// Calls per timed batch of the in-process measurement.
const BATCH: usize = 1000;
/// Timed batches of the in-process measurement (after `BATCH_WARMUP` untimed ones).
const BATCHES: usize = 200;
const BATCH_WARMUP: usize = 20;
/// Fresh endpoints timed from `deploy()` to their first prediction.
const FRESH_DEPLOYS: usize = 5;
/// Endpoints deployed to measure the memory of one.
const MEMORY_DEPLOYS: usize = 10;
const INSTANCE_TYPE: &str = "ml.m5.large";

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this process and its reaped children (`wrk`) so far, user + system, in
/// seconds; Linux reports it in clock ticks, 100 per second on mainstream architectures.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: utime, stime, cutime, cstime are 14 to 17.
    let ticks = stat.rsplit_once(')')?.1.split_whitespace().skip(11).take(4);
    let ticks: Vec<f64> = ticks.map(|t| t.parse().ok()).collect::<Option<_>>()?;
    Some(ticks.iter().sum::<f64>() / 100.0)
}

/// Busy CPU time of the whole machine so far (all cores, all but idle and iowait), seconds.
fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((ticks.iter().sum::<f64>() - idle) / 100.0)
}

/// CPU use during a stretch of time, in cores: this process's and everybody else's.
struct CpuMeter {
    wall: Instant,
    ours: Option<f64>,
    machine: Option<f64>,
}

impl CpuMeter {
    fn start() -> Self {
        CpuMeter {
            wall: Instant::now(),
            ours: process_cpu_seconds(),
            machine: machine_busy_seconds(),
        }
    }

    /// (this process, other processes) in cores since `start`.
    fn cores(&self) -> (Option<f64>, Option<f64>) {
        let wall = self.wall.elapsed().as_secs_f64();
        let ours = self
            .ours
            .zip(process_cpu_seconds())
            .map(|(a, b)| (b - a) / wall);
        let machine = self
            .machine
            .zip(machine_busy_seconds())
            .map(|(a, b)| (b - a) / wall);
        (ours, ours.zip(machine).map(|(o, m)| (m - o).max(0.0)))
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

// ---- the load generator -------------------------------------------------------------------

/// One load run's outcome.
#[derive(Debug, Clone)]
struct RunResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Errors of this run; for a scenario's median, of all its runs.
    errors: u64,
    /// CPU cores other processes used during the run (noise on a shared box).
    others_cores: Option<f64>,
}

/// A load run with the shared generator: `conns` connections, `WARMUP` then `RUN`.
fn load_run(addr: SocketAddr, request: &[u8], conns: usize) -> RunResult {
    let r = Load::new(addr, request.to_vec())
        .connections(conns)
        .warmup(WARMUP)
        .duration(RUN)
        .run();
    RunResult {
        rps: r.rps(),
        p50_ms: r.p50_ms(),
        p99_ms: r.p99_ms(),
        errors: r.errors,
        others_cores: None,
    }
}

fn http_request(addr: SocketAddr, endpoint: &str, body: &str) -> Vec<u8> {
    post_request(
        &addr.to_string(),
        &format!("/endpoints/{endpoint}/invocations"),
        &[("Content-Type", "text/csv"), ("Accept", "text/csv")],
        body.as_bytes(),
    )
}

/// A scenario: `RUNS` runs, each printed; returns the median run by req/s.
fn scenario(label: &str, addr: SocketAddr, request: &[u8], conns: usize) -> RunResult {
    let mut runs: Vec<RunResult> = (0..RUNS)
        .map(|i| {
            let meter = CpuMeter::start();
            let mut r = load_run(addr, request, conns);
            let (ours, others) = meter.cores();
            r.others_cores = others;
            let cores = |c: Option<f64>| c.map_or("?".into(), |c| format!("{c:.2}"));
            println!(
                "  {label}, run {}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors; CPU cores used by this process {}, by others {}",
                i + 1,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.errors,
                cores(ours),
                cores(others)
            );
            r
        })
        .collect();
    let all_errors = runs.iter().map(|r| r.errors).sum();
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    let mut median = runs[runs.len() / 2].clone();
    median.errors = all_errors;
    median
}

/// One request on a fresh connection, blocking: the status and body, to show what the load
/// runs are getting.
fn sample_answer(addr: SocketAddr, endpoint: &str, body: &str) -> String {
    let headers = [("Content-Type", "text/csv"), ("Accept", "text/csv")];
    let r = HttpClient::new(addr.to_string()).post_blocking(
        &format!("/endpoints/{endpoint}/invocations"),
        &headers,
        body.as_bytes(),
    );
    format!("HTTP {}, body {:?}", r.status, r.text())
}

// ---- wrk ----------------------------------------------------------------------------------

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `wrk -t1 -c16 -d10s --latency` with the one-row body; returns its figures when it ran.
fn run_wrk(dir: &Path, url: &str) -> Option<WrkResult> {
    if !on_path("wrk") {
        println!("wrk: not on PATH, skipped (install it to cross-check the load generator)");
        return None;
    }
    let script = dir.join("post_row1.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"{ONE_ROW}\"\nwrk.headers[\"Content-Type\"] = \"text/csv\"\nwrk.headers[\"Accept\"] = \"text/csv\"\n"
        ),
    )
    .ok()?;
    let meter = CpuMeter::start();
    let output = std::process::Command::new("wrk")
        .args(["-t1", "-c16", "-d10s", "--latency", "-s"])
        .arg(&script)
        .arg(url)
        .output();
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!(
                "wrk: failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return None;
        }
        Err(e) => {
            println!("wrk: could not run it: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let others = meter.cores().1;
    println!(
        "wrk -t1 -c16 -d10s (one row; CPU cores used by other processes {}):",
        others.map_or("?".into(), |c| format!("{c:.2}"))
    );
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("Latency")
            || t.starts_with("Requests/sec")
            || t.starts_with("Non-2xx")
            || t.starts_with("Socket errors")
            || t.starts_with("50%")
            || t.starts_with("99%")
        {
            println!("  {t}");
        }
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .map(str::trim)
    };
    Some(WrkResult {
        rps: field("Requests/sec:")?.parse().ok()?,
        p50_ms: field("50%").and_then(wrk_ms),
        p99_ms: field("99%").and_then(wrk_ms),
        non_2xx: field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()),
    })
}

/// What `wrk` printed.
struct WrkResult {
    rps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    non_2xx: Option<u64>,
}

/// A `wrk` duration (`168.00us`, `3.27ms`, `1.02s`) in milliseconds.
fn wrk_ms(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(v) = text.strip_suffix("us") {
        (v, 1e-3)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = text.strip_suffix("m") {
        (v, 60e3)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1e3)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().map(|v| v * scale)
}

// ---- the bench ----------------------------------------------------------------------------

/// The median over `batches` timed batches of `BATCH` calls (after `BATCH_WARMUP` untimed
/// ones) of `predict_raw(request.clone())`, in µs per call; the clone is part of the call, as
/// `predict_raw` takes the request by value.
fn in_process_median_us<S, D>(
    rt: &tokio::runtime::Runtime,
    predictor: &Predictor<S, D>,
    request: &InvokeEndpointRequest,
    batches: usize,
) -> f64 {
    rt.block_on(async {
        let mut timed = Vec::with_capacity(batches);
        for b in 0..BATCH_WARMUP + batches {
            let start = Instant::now();
            for _ in 0..BATCH {
                let r = predictor
                    .predict_raw(std::hint::black_box(request.clone()))
                    .await
                    .expect("an in-process prediction");
                std::hint::black_box(r);
            }
            if b >= BATCH_WARMUP {
                timed.push(start.elapsed().as_secs_f64() * 1e6 / BATCH as f64);
            }
        }
        median(&mut timed)
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the server runtime");
    let root = tempfile::tempdir().expect("a temporary directory");
    let session = session(root.path());

    // Train and deploy.
    let estimator = iris_logistic(&session)
        .instance_type(INSTANCE_TYPE)
        .build()
        .expect("the estimator");
    let predictor = rt.block_on(async {
        let train = upload(&session, root.path(), "iris.csv", &iris_csv()).await;
        estimator.fit(train).await?;
        estimator
            .deploy(
                DeployConfig::builder()
                    .initial_instance_count(1)
                    .instance_type(INSTANCE_TYPE)
                    .build()
                    .unwrap(),
            )
            .await
    });
    let predictor = predictor.expect("training and deploying iris");
    let endpoint = predictor.endpoint_name().to_string();
    let base_url = session
        .backend()
        .runtime_url()
        .expect("the local backend serves HTTP once an endpoint exists");
    let addr: SocketAddr = base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("the runtime URL is http://ip:port");
    println!("endpoint {endpoint} at {base_url}");

    let mut one_row = InvokeEndpointRequest::new(endpoint.clone(), ONE_ROW.as_bytes().to_vec());
    one_row.content_type = Some("text/csv".into());
    one_row.accept = Some("text/csv".into());

    // Memory per endpoint.
    let rss_before = rss_kib();
    let extra: Vec<sagemaker::sklearn::SKLearnPredictor> = rt.block_on(async {
        let mut extra = Vec::new();
        for i in 0..MEMORY_DEPLOYS {
            let p = estimator
                .deploy(
                    DeployConfig::builder()
                        .initial_instance_count(1)
                        .instance_type(INSTANCE_TYPE)
                        .endpoint_name(format!("serve-load-mem-{i}"))
                        .build()
                        .unwrap(),
                )
                .await
                .expect("deploying an endpoint");
            p.predict_raw(one_row.clone()).await.expect("a prediction");
            extra.push(p);
        }
        extra
    });
    let rss_after = rss_kib();
    let per_endpoint_kib = match (rss_before, rss_after) {
        (Some(b), Some(a)) => Some((a as f64 - b as f64) / MEMORY_DEPLOYS as f64),
        _ => None,
    };
    println!(
        "RSS before {rss_before:?} KiB, after {MEMORY_DEPLOYS} more endpoints {rss_after:?} KiB"
    );
    rt.block_on(async {
        for p in &extra {
            p.delete_endpoint(DeleteEndpoint::AndConfig)
                .await
                .expect("deleting an endpoint");
        }
    });

    // Deploy → first successful prediction, fresh endpoints.
    let mut fresh_ms: Vec<f64> = (0..FRESH_DEPLOYS)
        .map(|i| {
            rt.block_on(async {
                let start = Instant::now();
                let p = estimator
                    .deploy(
                        DeployConfig::builder()
                            .initial_instance_count(1)
                            .instance_type(INSTANCE_TYPE)
                            .endpoint_name(format!("serve-load-fresh-{i}"))
                            .build()
                            .unwrap(),
                    )
                    .await
                    .expect("deploying a fresh endpoint");
                loop {
                    match p.predict_raw(one_row.clone()).await {
                        Ok(_) => break,
                        Err(e) if start.elapsed() > Duration::from_secs(10) => {
                            panic!("no prediction 10 s after deploy(): {e}")
                        }
                        Err(_) => {}
                    }
                    tokio::task::yield_now().await;
                }
                let ms = start.elapsed().as_secs_f64() * 1e3;
                p.delete_endpoint(DeleteEndpoint::AndConfig)
                    .await
                    .expect("deleting a fresh endpoint");
                ms
            })
        })
        .collect();
    println!("deploy → first prediction (ms): {fresh_ms:.2?}");
    let fresh_ms = median(&mut fresh_ms);

    // In-process latency: predict_raw of one row (and, for reference, 100 rows), no HTTP.
    let rows100 = iris_rows(100);
    let mut hundred_rows = one_row.clone();
    hundred_rows.body = rows100.as_bytes().to_vec();
    let in_process_us = in_process_median_us(&rt, &predictor, &one_row, BATCHES);
    println!(
        "in-process predict_raw, one row: {in_process_us:.2} µs per call (median of {BATCHES} batches of {BATCH})"
    );
    let in_process_100_us = in_process_median_us(&rt, &predictor, &hundred_rows, BATCHES / 10);
    println!(
        "in-process predict_raw, 100 rows: {in_process_100_us:.2} µs per call (median of {} batches of {BATCH})",
        BATCHES / 10
    );

    // HTTP load.
    let req1 = http_request(addr, &endpoint, ONE_ROW);
    let req100 = http_request(addr, &endpoint, &rows100);
    println!(
        "HTTP load: {RUNS} runs per scenario, {}s warm-up + {}s each",
        WARMUP.as_secs(),
        RUN.as_secs()
    );
    println!(
        "one row over HTTP: {}",
        sample_answer(addr, &endpoint, ONE_ROW)
    );
    let one16 = scenario("1 row, 16 conns", addr, &req1, 16);
    let hundred16 = scenario("100 rows, 16 conns", addr, &req100, 16);
    let one1 = scenario("1 row, 1 conn", addr, &req1, 1);

    let wrk = run_wrk(
        root.path(),
        &format!("{base_url}/endpoints/{endpoint}/invocations"),
    );

    // The table.
    let check = |ok: bool| if ok { "✅" } else { "❌" };
    println!();
    println!("| figure | measured | goal | met |");
    println!("|---|---|---|---|");
    println!(
        "| 1 row, 16 conns: req/s | {:.0} | ≥ 60 000 | {} |",
        one16.rps,
        check(one16.rps >= 60_000.0)
    );
    println!(
        "| 1 row, 16 conns: p50 / p99 ms | {:.3} / {:.3} | p99 ≤ 3 | {} |",
        one16.p50_ms,
        one16.p99_ms,
        check(one16.p99_ms <= 3.0)
    );
    println!(
        "| 100 rows, 16 conns: req/s (rows/s) | {:.0} ({:.2}M) | ≥ 30 000 | {} |",
        hundred16.rps,
        hundred16.rps * 100.0 / 1e6,
        check(hundred16.rps >= 30_000.0)
    );
    println!(
        "| 100 rows, 16 conns: p50 / p99 ms | {:.3} / {:.3} | report | |",
        hundred16.p50_ms, hundred16.p99_ms
    );
    println!(
        "| 1 row, 1 conn: p50 ms (p99; req/s) | {:.3} ({:.3}; {:.0}) | ≤ 0.12 | {} |",
        one1.p50_ms,
        one1.p99_ms,
        one1.rps,
        check(one1.p50_ms <= 0.12)
    );
    println!(
        "| HTTP errors (non-200 or failed), all runs of each scenario | {} / {} / {} | 0 | {} |",
        one16.errors,
        hundred16.errors,
        one1.errors,
        check(one16.errors + hundred16.errors + one1.errors == 0)
    );
    println!(
        "| in-process `predict_raw`, 1 row: µs per call | {in_process_us:.2} | ≤ 5 | {} |",
        check(in_process_us <= 5.0)
    );
    println!(
        "| `deploy()` → first prediction, fresh endpoint: ms (median of {FRESH_DEPLOYS}) | {fresh_ms:.2} | ≤ 50 | {} |",
        check(fresh_ms <= 50.0)
    );
    println!(
        "| in-process `predict_raw`, 100 rows: µs per call | {in_process_100_us:.2} | report | |"
    );
    match per_endpoint_kib {
        Some(kib) => println!(
            "| RSS per endpoint ({MEMORY_DEPLOYS} more endpoints of the same model) | {kib:.0} KiB | report | |"
        ),
        None => println!("| RSS per endpoint | (no /proc/self/status) | report | |"),
    }
    let busy = [&one16, &hundred16, &one1]
        .iter()
        .filter_map(|r| r.others_cores)
        .fold(0.0, f64::max);
    println!(
        "| CPU used by other processes during the median HTTP runs (max) | {busy:.2} cores | ≈ 0 (a quiet box) | {} |",
        check(busy < 0.1)
    );
    match wrk {
        Some(w) => {
            let ms = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.3}"));
            println!(
                "| wrk -t1 -c16 -d10s, 1 row: req/s | {:.0} | ≥ 60 000 | {} |",
                w.rps,
                check(w.rps >= 60_000.0)
            );
            println!(
                "| wrk, 1 row: p50 / p99 ms (non-2xx) | {} / {} ({}) | p99 ≤ 3 | {} |",
                ms(w.p50_ms),
                ms(w.p99_ms),
                w.non_2xx.unwrap_or(0),
                check(w.p99_ms.is_some_and(|p| p <= 3.0) && w.non_2xx.unwrap_or(0) == 0)
            );
        }
        None => println!("| wrk -t1 -c16 -d10s, 1 row | skipped (no wrk) | | |"),
    }
}
