//! Remote functions end to end on the local backend: every call is a real training job whose
//! container re-executes this test binary, so it has its own `main` (`harness = false`) that
//! calls `sagemaker::remote::init()` first.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use sagemaker::ErrorKind;
use sagemaker::remote::{RemoteError, RemoteExecutor, RemoteFunction, RemoteSettings};
use sagemaker::spec::{ListTrainingJobs, SecondaryStatus, TrainingJobStatus};
use sagemaker::{Session, StorageUri};
use serde::{Deserialize, Serialize};

/// The error type of the test functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fail {
    code: u32,
    why: String,
}

#[sagemaker::remote(instance_type = "ml.m5.xlarge", job_name_prefix = "add")]
fn add(a: i64, b: i64) -> Result<i64, Fail> {
    a.checked_add(b).ok_or_else(|| Fail {
        code: 1,
        why: "overflow".into(),
    })
}

#[sagemaker::remote(instance_type = "ml.m5.large")]
fn num_cpus() -> Result<String, String> {
    std::env::var("SM_NUM_CPUS").map_err(|e| e.to_string())
}

#[sagemaker::remote(instance_type = "ml.m5.large")]
fn divide(a: f64, b: f64) -> Result<f64, Fail> {
    if b == 0.0 {
        return Err(Fail {
            code: 22,
            why: format!("cannot divide {a} by zero"),
        });
    }
    Ok(a / b)
}

#[sagemaker::remote(instance_type = "ml.m5.large")]
fn boom(msg: String) -> Result<(), String> {
    panic!("boom: {msg}")
}

#[sagemaker::remote(instance_type = "ml.m5.large")]
fn exits(code: i32) -> Result<(), String> {
    std::process::exit(code)
}

/// Works for `secs` seconds (the workload of the timeout and cancel tests).
#[sagemaker::remote(instance_type = "ml.m5.large")]
fn busy(secs: u64) -> Result<u64, String> {
    println!("busy for {secs} s");
    std::thread::sleep(Duration::from_secs(secs));
    Ok(secs)
}

#[sagemaker::remote(instance_type = "ml.m5.large")]
fn square(x: u64) -> Result<u64, String> {
    Ok(x * x)
}

/// Takes a map whose keys JSON cannot encode.
#[sagemaker::remote(instance_type = "ml.m5.large")]
fn keyed(m: BTreeMap<Vec<u8>, u8>) -> Result<usize, String> {
    Ok(m.len())
}

/// Reads what the job was given: a file of the working directory, whether an ignored file
/// came along, and the dependencies file.
#[sagemaker::remote(instance_type = "ml.m5.large")]
fn read_inputs() -> Result<(String, bool, String), String> {
    let data = std::fs::read_to_string("data/input.txt").map_err(|e| e.to_string())?;
    let log_came = std::path::Path::new("run.log").exists();
    let deps_dir = std::env::var("SM_CHANNEL_DEPENDENCIES").map_err(|e| e.to_string())?;
    let deps = std::fs::read_to_string(std::path::Path::new(&deps_dir).join("requirements.txt"))
        .map_err(|e| e.to_string())?;
    Ok((data, log_came, deps))
}

fn no_settings() -> sagemaker::Result<RemoteSettings> {
    RemoteSettings::builder()
        .instance_type("ml.m5.large")
        .build()
}

fn never_runs(_: (u32,)) -> Result<u32, String> {
    unreachable!("this function is not registered: the job cannot find it")
}

/// A function this binary does not register: its job must fail with `NotFound`.
static UNREGISTERED: RemoteFunction<(u32,), u32, String> = RemoteFunction::new(
    "remote::not_registered",
    concat!(env!("CARGO_PKG_NAME"), "@", env!("CARGO_PKG_VERSION")),
    no_settings,
    never_runs,
);

struct Env {
    _dir: tempfile::TempDir,
    session: Session,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let session = sagemaker::LocalSession::builder()
        .root(dir.path())
        .build()
        .unwrap();
    Env { _dir: dir, session }
}

fn on<A, T, E>(f: &RemoteFunction<A, T, E>, session: &Session) -> RemoteSettings
where
    A: Serialize + serde::de::DeserializeOwned + Send + 'static,
    T: Serialize + serde::de::DeserializeOwned + Send + 'static,
    E: Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    f.settings()
        .unwrap()
        .to_builder()
        .session(session.clone())
        .build()
        .unwrap()
}

fn sdk<T: std::fmt::Debug, E: std::fmt::Debug>(r: Result<T, RemoteError<E>>) -> sagemaker::Error {
    match r {
        Err(RemoteError::Sdk(e)) => e,
        other => panic!("expected an SDK error, got {other:?}"),
    }
}

async fn only_job(session: &Session) -> sagemaker::spec::TrainingJobDescription {
    let jobs = session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    session
        .backend()
        .describe_training_job(&jobs[0].training_job_name)
        .await
        .unwrap()
}

async fn returns_value_as_a_logged_training_job() {
    let e = env();
    let s = on(add::function(), &e.session);
    assert_eq!(add::function().call_with(&s, (2, 40)).await.unwrap(), 42);
    let d = only_job(&e.session).await;
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert!(
        d.training_job_name.starts_with("add-"),
        "{}",
        d.training_job_name
    );
    assert_eq!(d.resource_config.instance_type, "ml.m5.xlarge");
    let log = e
        .session
        .backend()
        .training_job_logs(&d.training_job_name)
        .await
        .unwrap();
    assert!(log.contains("running remote::add"), "{log}");
    let base = StorageUri::s3("sagemaker-local", &d.training_job_name);
    for part in ["arguments", "results"] {
        for file in ["payload.json", "metadata.json"] {
            let uri = base.join(part).join(file);
            assert!(e.session.store().exists(&uri).await.unwrap(), "{uri}");
        }
    }

    // The overhead of one call: job record, payloads, a child process, the result.
    let n = 5;
    let started = Instant::now();
    for i in 0..n {
        assert_eq!(add::function().call_with(&s, (i, 1)).await.unwrap(), i + 1);
    }
    println!(
        "    remote call overhead on the local backend: {:.1} ms per call (mean of {n})",
        started.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

async fn instance_type_sets_sm_num_cpus() {
    let e = env();
    let large = on(num_cpus::function(), &e.session);
    assert_eq!(
        num_cpus::function().call_with(&large, ()).await.unwrap(),
        "2"
    );
    let big = large
        .to_builder()
        .instance_type("ml.c5.9xlarge")
        .build()
        .unwrap();
    assert_eq!(
        num_cpus::function().call_with(&big, ()).await.unwrap(),
        "36"
    );
}

async fn function_error_comes_back_as_its_own_type() {
    let e = env();
    let s = on(divide::function(), &e.session);
    assert_eq!(
        divide::function().call_with(&s, (1.0, 4.0)).await.unwrap(),
        0.25
    );
    match divide::function().call_with(&s, (1.0, 0.0)).await {
        Err(RemoteError::Function(f)) => assert_eq!(
            f,
            Fail {
                code: 22,
                why: "cannot divide 1 by zero".into()
            }
        ),
        other => panic!("expected the function's error, got {other:?}"),
    }
    let jobs = e
        .session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new().status_equals(TrainingJobStatus::Failed))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let d = e
        .session
        .backend()
        .describe_training_job(&jobs[0].training_job_name)
        .await
        .unwrap();
    let reason = d.failure_reason.unwrap();
    assert!(reason.contains("returned an error"), "{reason}");
}

async fn arguments_that_fail_to_serialize() {
    let e = env();
    let s = on(keyed::function(), &e.session);
    let bad = BTreeMap::from([(vec![1u8], 1u8)]);
    let err = sdk(keyed::function().call_with(&s, (bad.clone(),)).await);
    assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
    assert!(err.message().contains("remote::keyed"), "{err}");
    let exec = RemoteExecutor::builder().settings(s).build().unwrap();
    let err = exec.submit(keyed::function(), (bad,)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
    let jobs = e
        .session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new())
        .await
        .unwrap();
    assert!(jobs.is_empty(), "no job may start: {jobs:?}");
}

async fn tampered_or_mismatched_payload_is_refused() {
    let e = env();
    let s = on(add::function(), &e.session);
    assert_eq!(add::function().call_with(&s, (1, 2)).await.unwrap(), 3);
    let job = only_job(&e.session).await.training_job_name;
    let store = e.session.store();
    let results = StorageUri::s3("sagemaker-local", &job).join("results");

    // Tampered value: the hash no longer matches.
    store
        .put_bytes(b"4".to_vec(), &results.join("payload.json"))
        .await
        .unwrap();
    let fut = sagemaker::remote::get_future(add::function(), &job, &e.session)
        .await
        .unwrap();
    let err = sdk(fut.result(None).await);
    assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
    assert!(err.message().contains("integrity check failed"), "{err}");

    // Right hash, other SDK version: refused too, saying so.
    let meta_uri = results.join("metadata.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&store.get_bytes(&meta_uri).await.unwrap()).unwrap();
    meta["sha256_hash"] = sagemaker::remote::payload::sha256_hex(b"4").into();
    meta["sdk_version"] = "0.0.0".into();
    store
        .put_bytes(serde_json::to_vec(&meta).unwrap(), &meta_uri)
        .await
        .unwrap();
    let err = sdk(fut.result(None).await);
    assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
    assert!(err.message().contains("sagemaker 0.0.0"), "{err}");

    // A future of another function on that job is refused.
    let err = sagemaker::remote::get_future(square::function(), &job, &e.session)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
}

/// The job side refuses tampered arguments: run this binary as the job's process would be
/// run, on an arguments payload whose bytes no longer match their metadata.
async fn tampered_arguments_are_refused_by_the_job() {
    use sagemaker::remote::payload::{Identity, Metadata, metadata_for};
    let dir = tempfile::tempdir().unwrap();
    let (args, out, output) = (
        dir.path().join("arguments"),
        dir.path().join("out"),
        dir.path().join("output"),
    );
    std::fs::create_dir_all(&args).unwrap();
    let who = Identity {
        function: add::function().name(),
        binary_version: add::function().binary_version(),
    };
    let meta: Metadata = metadata_for(b"[1,2]", who);
    std::fs::write(
        args.join("metadata.json"),
        serde_json::to_vec(&meta).unwrap(),
    )
    .unwrap();
    std::fs::write(args.join("payload.json"), b"[1,9]").unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            sagemaker::remote::FUNCTION_FLAG,
            who.function,
            "--binary-version",
            who.binary_version,
        ])
        .env("SM_CHANNEL_ARGUMENTS", &args)
        .env(sagemaker::remote::OUTPUT_DIR_ENV, &out)
        .env("SM_OUTPUT_DIR", &output)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "the job fails with the SDK's exit code"
    );
    let failure = std::fs::read_to_string(output.join("failure")).unwrap();
    assert!(failure.contains("integrity check failed"), "{failure}");
    assert!(!out.join("results").exists(), "the function never ran");
    let exception = std::fs::read_to_string(out.join("exception/payload.json")).unwrap();
    assert!(exception.contains("Serialization"), "{exception}");
}

/// The job side as on AWS (no local store, so no `SAGEMAKER_REMOTE_OUTPUT_DIR`): the value,
/// or the function's own error, goes into `SM_MODEL_DIR` (which SageMaker uploads as
/// model.tar.gz only when the job completes), and a function error completes the job.
async fn without_a_local_store_the_job_writes_into_sm_model_dir() {
    use sagemaker::remote::payload::{Identity, metadata_for};
    let who = Identity {
        function: divide::function().name(),
        binary_version: divide::function().binary_version(),
    };
    for (args_json, kind) in [(&b"[6.0,3.0]"[..], "results"), (b"[1.0,0.0]", "exception")] {
        let dir = tempfile::tempdir().unwrap();
        let (args, model, output) = (
            dir.path().join("arguments"),
            dir.path().join("model"),
            dir.path().join("output"),
        );
        std::fs::create_dir_all(&args).unwrap();
        std::fs::write(
            args.join("metadata.json"),
            serde_json::to_vec(&metadata_for(args_json, who)).unwrap(),
        )
        .unwrap();
        std::fs::write(args.join("payload.json"), args_json).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                sagemaker::remote::FUNCTION_FLAG,
                who.function,
                "--binary-version",
                who.binary_version,
            ])
            .env("SM_CHANNEL_ARGUMENTS", &args)
            .env("SM_MODEL_DIR", &model)
            .env("SM_OUTPUT_DIR", &output)
            .env_remove(sagemaker::remote::OUTPUT_DIR_ENV)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{kind}: the job completes");
        assert!(!output.join("failure").exists(), "{kind}");
        let payload = std::fs::read_to_string(model.join(kind).join("payload.json")).unwrap();
        assert!(model.join(kind).join("metadata.json").is_file(), "{kind}");
        if kind == "results" {
            assert_eq!(payload, "2.0");
        } else {
            assert!(payload.contains("cannot divide 1 by zero"), "{payload}");
        }
    }
}

async fn workdir_and_dependencies_reach_the_job() {
    let e = env();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("data")).unwrap();
    std::fs::create_dir_all(work.path().join("target")).unwrap();
    std::fs::write(work.path().join("data/input.txt"), "hello").unwrap();
    std::fs::write(work.path().join("run.log"), "noise").unwrap();
    std::fs::write(work.path().join("target/big.bin"), "ignored").unwrap();
    let deps = work.path().join("requirements.txt");
    std::fs::write(&deps, "smartcore==0.7").unwrap();
    let s = on(read_inputs::function(), &e.session)
        .to_builder()
        .include_local_workdir(true)
        .custom_file_filter(sagemaker::remote::FileFilter::default().ignoring("*.log"))
        .dependencies(&deps)
        .build()
        .unwrap();
    let before = std::env::current_dir().unwrap();
    std::env::set_current_dir(work.path()).unwrap();
    let got = read_inputs::function().call_with(&s, ()).await;
    std::env::set_current_dir(before).unwrap();
    assert_eq!(
        got.unwrap(),
        ("hello".to_string(), false, "smartcore==0.7".to_string())
    );
    let job = only_job(&e.session).await.training_job_name;
    let ws = StorageUri::s3("sagemaker-local", &job).join("sm_rf_user_ws");
    let uploaded = e.session.store().list(&ws).await.unwrap();
    assert!(
        uploaded
            .iter()
            .all(|o| !o.uri.to_string().contains("target/")),
        "the filter keeps target/ out: {uploaded:?}"
    );
}

async fn panic_fails_the_job_with_its_message() {
    let e = env();
    let s = on(boom::function(), &e.session);
    let err = sdk(boom::function().call_with(&s, ("kaput".into(),)).await);
    assert_eq!(err.kind(), ErrorKind::JobFailed, "{err}");
    let reason = err.failure_reason().unwrap();
    assert!(reason.contains("panicked"), "{reason}");
    assert!(reason.contains("boom: kaput"), "{reason}");
    assert!(err.log_tail().unwrap().contains("boom: kaput"), "{err}");
    assert_eq!(
        only_job(&e.session).await.training_job_status,
        TrainingJobStatus::Failed
    );
}

async fn process_exit_fails_the_job_not_the_caller() {
    let e = env();
    let s = on(exits::function(), &e.session);
    let err = sdk(exits::function().call_with(&s, (7,)).await);
    assert_eq!(err.kind(), ErrorKind::JobFailed, "{err}");
    let reason = err.failure_reason().unwrap();
    assert!(reason.contains("exit status: 7"), "{reason}");
}

async fn unregistered_function_is_not_found() {
    let e = env();
    let s = no_settings()
        .unwrap()
        .to_builder()
        .session(e.session.clone())
        .build()
        .unwrap();
    let err = sdk(UNREGISTERED.call_with(&s, (1,)).await);
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("not registered"), "{err}");
    assert!(
        err.message().contains("remote::add"),
        "lists what is: {err}"
    );
    assert_eq!(
        only_job(&e.session).await.training_job_status,
        TrainingJobStatus::Failed
    );
}

async fn timeout_leaves_the_job_running_and_max_runtime_stops_it() {
    let e = env();
    let s = on(busy::function(), &e.session);
    let exec = RemoteExecutor::builder()
        .settings(s.clone())
        .build()
        .unwrap();
    let fut = exec.submit(busy::function(), (600,)).unwrap();
    let err = sdk(fut.result(Some(Duration::from_millis(300))).await);
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        fut.running().await.unwrap(),
        "a result timeout does not stop the job"
    );
    assert!(fut.cancel().await.unwrap());
    fut.wait(None).await.unwrap();

    let short = s.to_builder().max_runtime_in_seconds(1).build().unwrap();
    let err = sdk(busy::function().call_with(&short, (600,)).await);
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let jobs = e
        .session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new().max_results(1))
        .await
        .unwrap();
    let d = e
        .session
        .backend()
        .describe_training_job(&jobs[0].training_job_name)
        .await
        .unwrap();
    assert_eq!(d.secondary_status, SecondaryStatus::MaxRuntimeExceeded);
}

async fn cancel_a_queued_and_a_running_call() {
    let e = env();
    let s = on(busy::function(), &e.session);
    let exec = RemoteExecutor::builder()
        .settings(s)
        .max_parallel_jobs(1)
        .build()
        .unwrap();
    let running = exec.submit(busy::function(), (600,)).unwrap();
    let queued = exec.submit(square::function(), (3,)).unwrap();
    let job = running.started().await.unwrap();
    assert!(
        queued.job_name().is_none(),
        "one slot: the second call waits; {queued:?} {:?}",
        e.session.backend().describe_training_job(&job).await
    );

    assert!(queued.cancel().await.unwrap());
    assert!(queued.cancelled().await.unwrap());
    assert!(queued.done().await.unwrap());
    let err = sdk(queued.result(None).await);
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");

    assert!(running.cancel().await.unwrap());
    let err = sdk(running.result(None).await);
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(running.cancelled().await.unwrap());
    assert!(!running.cancel().await.unwrap(), "nothing left to cancel");
    let d = e
        .session
        .backend()
        .describe_training_job(&job)
        .await
        .unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    exec.shutdown(true).await;
    // The queued call never made a job.
    let jobs = e
        .session
        .backend()
        .list_training_jobs(&ListTrainingJobs::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(exec.submit(square::function(), (1,)).is_err(), "shut down");
}

async fn map_runs_at_most_max_parallel_jobs_at_once() {
    let e = env();
    let s = on(square::function(), &e.session);
    let exec = RemoteExecutor::builder()
        .settings(s)
        .max_parallel_jobs(2)
        .build()
        .unwrap();
    let out = exec
        .map(square::function(), (1..=6u64).map(|x| (x,)))
        .await
        .unwrap();
    let values: Vec<u64> = out.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(values, vec![1, 4, 9, 16, 25, 36]);

    // Each job's life, from creation to its end: never more than 2 overlap.
    let futures = exec
        .list_futures(square::function(), "square")
        .await
        .unwrap();
    assert_eq!(futures.len(), 6);
    assert!(
        exec.list_futures(add::function(), "square")
            .await
            .unwrap()
            .is_empty()
    );
    let again = exec
        .get_future(square::function(), &futures[0].job_name().unwrap())
        .await
        .unwrap();
    assert!(again.done().await.unwrap());
    let value = again.result(None).await.unwrap();
    assert!(values.contains(&value), "{value} is one of {values:?}");
    let mut spans = Vec::new();
    for f in &futures {
        let d = e
            .session
            .backend()
            .describe_training_job(&f.job_name().unwrap())
            .await
            .unwrap();
        spans.push((d.creation_time, d.training_end_time.unwrap()));
    }
    for (start, _) in &spans {
        let live = spans
            .iter()
            .filter(|(s, end)| s <= start && start < end)
            .count();
        assert!(live <= 2, "{live} jobs ran at once: {spans:?}");
    }
}

type TestFn = fn() -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), (|| Box::pin($name()) as Pin<Box<dyn Future<Output = ()> + Send>>) as TestFn)),*]
    };
}

fn main() {
    sagemaker::remote::init();
    let all: &[(&str, TestFn)] = tests![
        returns_value_as_a_logged_training_job,
        instance_type_sets_sm_num_cpus,
        function_error_comes_back_as_its_own_type,
        arguments_that_fail_to_serialize,
        tampered_or_mismatched_payload_is_refused,
        tampered_arguments_are_refused_by_the_job,
        without_a_local_store_the_job_writes_into_sm_model_dir,
        workdir_and_dependencies_reach_the_job,
        panic_fails_the_job_with_its_message,
        process_exit_fails_the_job_not_the_caller,
        unregistered_function_is_not_found,
        timeout_leaves_the_job_running_and_max_runtime_stops_it,
        cancel_a_queued_and_a_running_call,
        map_runs_at_most_max_parallel_jobs_at_once,
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in all {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        println!("test {name} ...");
        match runtime.block_on(async { tokio::spawn(test()).await }) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
