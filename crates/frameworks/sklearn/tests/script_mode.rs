//! Script mode on the local backend: a user's own `train.py` trains, serves and
//! batch-transforms through the scikit-learn container, in child Python processes.
//!
//! The scikit-learn scripts run in the pinned test environment (`cargo xtask test` creates it
//! and passes it as `SAGEMAKER_TEST_PYTHON_ENV`); the others only need the standard library
//! and run with `python3` on `PATH`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sagemaker_core::error::context;
use sagemaker_core::spec::{
    AssembleWith, InvokeEndpointRequest, SecondaryStatus, SplitType, TrainingJobStatus,
    TransformJobStatus,
};
use sagemaker_core::{ErrorKind, Session, StorageUri};
use sagemaker_estimator::Estimator;
use sagemaker_model::DeployConfig;
use sagemaker_predictor::DeleteEndpoint;
use sagemaker_sklearn::{SKLearn, SKLearnModel, SklearnContainer};
use sagemaker_transformer::{TransformArgs, Transformer};

/// The pinned test environment with scikit-learn.
fn test_venv() -> PathBuf {
    if let Some(p) = std::env::var_os("SAGEMAKER_TEST_PYTHON_ENV") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target"));
    let venv = target.join("test-venv");
    assert!(
        venv.join("bin/python").is_file(),
        "the scikit-learn script tests run in the pinned test environment: run `cargo xtask test` \
         (it creates {}) or set SAGEMAKER_TEST_PYTHON_ENV to a venv installed from \
         xtask/python/requirements-test.txt",
        venv.display()
    );
    venv
}

fn session(root: &Path, python: Option<PathBuf>) -> Session {
    let mut b = sagemaker_local::LocalSession::builder()
        .root(root)
        .container(sagemaker_sklearn::IMAGE_REPOSITORY, SklearnContainer::new());
    if let Some(p) = python {
        b = b.python_env(p);
    }
    b.build().unwrap()
}

/// A source directory holding `files`.
fn source(root: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let dir = root.join(name);
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir.display().to_string()
}

fn estimator(s: &Session, dir: &str) -> sagemaker_sklearn::SKLearnBuilder {
    SKLearn::builder()
        .entry_point("train.py")
        .source_dir(dir)
        .framework_version("1.2-1")
        .instance_type("local")
        .session(s.clone())
}

async fn data(s: &Session, root: &Path, text: &str) -> StorageUri {
    let path = root.join("train.csv");
    std::fs::write(&path, text).unwrap();
    s.upload_data(&path, "data").await.unwrap()
}

/// The files of a job's `model.tar.gz`, extracted.
async fn artifact(s: &Session, uri: &StorageUri, into: &Path) -> PathBuf {
    let bytes = s.store().get_bytes(uri).await.unwrap();
    let tar = into.with_extension("tar.gz");
    std::fs::write(&tar, bytes).unwrap();
    sagemaker_core::artifact::extract_file(&tar, into, Default::default()).unwrap();
    into.to_path_buf()
}

/// Fits and returns the failure reason of a job that must fail.
async fn failure_of(est: &Estimator<SKLearn>, train: &StorageUri) -> String {
    let err = est.fit(train.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::JobFailed, "{err}");
    err.context(context::FAILURE_REASON)
        .unwrap_or_default()
        .to_string()
}

async fn invoke(s: &Session, endpoint: &str, body: &[u8], ct: &str, accept: &str) -> Vec<u8> {
    let mut r = InvokeEndpointRequest::new(endpoint, body.to_vec());
    r.content_type = Some(ct.into());
    r.accept = Some(accept.into());
    s.backend().invoke_endpoint(r).await.unwrap().body
}

const IRIS_LIKE: &str =
    "label,a,b\n0,0.1,1.0\n0,0.3,1.2\n0,0.2,0.9\n1,2.1,3.0\n1,2.4,3.3\n1,1.9,2.8\n";

const SKLEARN_TRAIN: &str = r#"
import argparse, os, sys
import numpy as np
import joblib
from sklearn.linear_model import LogisticRegression

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--max_iter", type=int, default=10)
    args = p.parse_args()
    data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAINING"], "train.csv"),
                      delimiter=",", skiprows=1)
    model = LogisticRegression(max_iter=args.max_iter).fit(data[:, 1:], data[:, 0])
    print("train_accuracy=%.3f" % model.score(data[:, 1:], data[:, 0]))
    print("warning on stderr", file=sys.stderr)
    # Hard-coded, as most scripts written for SageMaker do.
    joblib.dump(model, "/opt/ml/model/model.joblib")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sklearn_script_trains_serves_and_transforms() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), Some(test_venv()));
    let dir = source(root.path(), "src", &[("train.py", SKLEARN_TRAIN)]);
    let train = data(&s, root.path(), IRIS_LIKE).await;
    let est = estimator(&s, &dir)
        .hyperparameter("max_iter", 200)
        .metric_definition("train:accuracy", "train_accuracy=([0-9.]+)")
        .build()
        .unwrap();
    let job = est.fit(train).await.unwrap();
    let d = job.describe().await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(
        d.hyper_parameters["sagemaker_submit_directory"],
        format!(
            "\"file://{}\"",
            Path::new(&dir).canonicalize().unwrap().display()
        )
    );
    assert_eq!(d.final_metric_data_list[0].metric_name, "train:accuracy");
    assert_eq!(d.final_metric_data_list[0].value, 1.0);
    let logs = job.logs().await.unwrap();
    assert!(logs.contains("warning on stderr"), "{logs}");
    assert!(logs.contains("train.py --max_iter 200"), "{logs}");

    // Deploy: the workers import train.py (its __main__ block does not run) and call model_fn.
    let predictor = est
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let name = predictor.endpoint_name().to_string();
    let csv = invoke(
        &s,
        &name,
        b"0.2,1.0\n2.2,3.1\n",
        "text/csv",
        "application/json",
    )
    .await;
    assert_eq!(String::from_utf8(csv).unwrap(), "[0.0, 1.0]");
    // One CSV row stays one row (the container's squeeze() made it 1-D and failed).
    let one = invoke(&s, &name, b"2.2,3.1", "text/csv; charset=utf-8", "text/csv").await;
    assert_eq!(String::from_utf8(one).unwrap(), "1.0\n");
    let json = invoke(&s, &name, b"[[0.2, 1.0]]", "application/json", "*/*").await;
    assert_eq!(String::from_utf8(json).unwrap(), "[0.0]");
    let npy = sagemaker_predictor::codecs::write_npy_f64(&[2, 2], &[0.2, 1.0, 2.2, 3.1]);
    let answer = invoke(&s, &name, &npy, "application/x-npy", "application/x-npy").await;
    assert!(answer.starts_with(b"\x93NUMPY"), "{answer:?}");

    // A bad accept is the caller's error, with the default handler's reason.
    let mut r = InvokeEndpointRequest::new(name.clone(), b"1,2".to_vec());
    r.content_type = Some("text/csv".into());
    r.accept = Some("image/png".into());
    let err = s.backend().invoke_endpoint(r).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelError);
    assert_eq!(err.context(context::ORIGINAL_STATUS_CODE), Some("406"));

    // Batch transform through the same workers, with an input filter dropping the label.
    s.store()
        .put_bytes(
            b"0,0.2,1.0\n1,2.2,3.1\n".to_vec(),
            &"s3://sagemaker-local/batch/in.csv".parse().unwrap(),
        )
        .await
        .unwrap();
    let model = est.create_model().await.unwrap();
    model.create().await.unwrap();
    let t = Transformer::builder()
        .model_name(model.name().unwrap())
        .instance_type("local")
        .output_path("s3://sagemaker-local/batch/out")
        .accept("text/csv")
        .assemble_with(AssembleWith::Line)
        .session(s.clone())
        .build()
        .unwrap();
    let tj = t
        .transform(
            "s3://sagemaker-local/batch/in.csv",
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[1:]"),
        )
        .await
        .unwrap();
    assert_eq!(
        tj.describe().await.unwrap().transform_job_status,
        TransformJobStatus::Completed
    );
    let out = s
        .store()
        .get_bytes(&"s3://sagemaker-local/batch/out/in.csv.out".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "0.0\n1.0\n");

    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

/// A stdlib-only inference script: answers its worker's pid; `fail` raises.
const PID_SERVE: &str = r#"
import json, os

def model_fn(model_dir):
    return {"dir": model_dir}

def input_fn(body, content_type):
    return body

def predict_fn(data, model):
    if data.strip() in (b"fail", "fail"):
        raise ValueError("asked to fail")
    return os.getpid()

def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"#;

async fn script_model(s: &Session, root: &Path, files: &[(&str, &str)], workers: u32) -> String {
    let dir = source(root, "serve-src", files);
    let model_dir = root.join("model-files");
    std::fs::create_dir_all(&model_dir).unwrap();
    std::fs::write(model_dir.join("weights.txt"), "1").unwrap();
    let tar = root.join("model.tar.gz");
    sagemaker_core::artifact::pack_dir(&model_dir, &tar).unwrap();
    let uri = s.upload_data(&tar, "models").await.unwrap();
    let model = SKLearnModel::builder()
        .model_data(uri.to_string())
        .entry_point("serve.py")
        .source_dir(dir)
        .framework_version("1.2-1")
        .env("SAGEMAKER_MODEL_SERVER_WORKERS", workers.to_string())
        .session(s.clone())
        .build()
        .unwrap();
    let predictor = model
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    predictor.endpoint_name().to_string()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Waits (bounded) until none of `pids` is running.
async fn gone(pids: &[u32]) -> bool {
    for _ in 0..100 {
        if pids.iter().all(|p| !alive(*p)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_survive_user_errors_and_crashes_and_leave_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let name = script_model(&s, root.path(), &[("serve.py", PID_SERVE)], 2).await;
    let pid_of = |b: Vec<u8>| -> u32 { String::from_utf8(b).unwrap().parse().unwrap() };

    // A user exception fails the request with its message (424 ModelError, original 500).
    let mut r = InvokeEndpointRequest::new(name.clone(), b"fail".to_vec());
    r.content_type = Some("text/plain".into());
    let err = s.backend().invoke_endpoint(r).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelError);
    assert_eq!(err.context(context::ORIGINAL_STATUS_CODE), Some("500"));
    assert!(err.message().contains("ValueError: asked to fail"), "{err}");

    let mut pids = std::collections::BTreeSet::new();
    for _ in 0..6 {
        pids.insert(pid_of(invoke(&s, &name, b"x", "text/plain", "*/*").await));
    }
    assert!(!pids.is_empty() && pids.len() <= 2, "{pids:?}");

    // Kill one worker: at most the request it was serving fails; the endpoint keeps
    // answering and a new worker takes its place.
    let victim = *pids.iter().next().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    let mut failures = 0;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let mut r = InvokeEndpointRequest::new(name.clone(), b"x".to_vec());
        r.content_type = Some("text/plain".into());
        match s.backend().invoke_endpoint(r).await {
            Ok(a) => {
                seen.insert(pid_of(a.body));
            }
            Err(e) => {
                assert!(e.message().contains("died while handling"), "{e}");
                failures += 1;
            }
        }
        if seen.iter().any(|p| !pids.contains(p)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failures <= 1, "{failures} requests failed");
    assert!(!seen.contains(&victim));
    assert!(
        seen.iter().any(|p| !pids.contains(p)),
        "no replacement worker answered: {seen:?}"
    );

    // Deleting the endpoint stops every worker.
    let all: Vec<u32> = pids.iter().chain(&seen).copied().collect();
    sagemaker_predictor::Predictor::attach(name, s.clone())
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
    assert!(gone(&all).await, "Python workers left running: {all:?}");
}

#[test]
fn no_worker_outlives_its_session() {
    let root = tempfile::tempdir().unwrap();
    // The session and its endpoint server live on this runtime; dropping both is what a
    // program's exit does.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pids: Vec<u32> = runtime.block_on(async {
        let s = session(root.path(), None);
        let name = script_model(&s, root.path(), &[("serve.py", PID_SERVE)], 2).await;
        let mut pids = Vec::new();
        for _ in 0..4 {
            let body = invoke(&s, &name, b"x", "text/plain", "*/*").await;
            pids.push(String::from_utf8(body).unwrap().parse().unwrap());
        }
        pids
    });
    assert!(pids.iter().all(|p| alive(*p)));
    drop(runtime);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "Python workers left running: {pids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_without_model_fn_fails_the_endpoint() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let dir = source(root.path(), "src", &[("serve.py", "X = 1\n")]);
    let tar = root.path().join("m.tar.gz");
    std::fs::create_dir_all(root.path().join("m")).unwrap();
    std::fs::write(root.path().join("m/w"), "1").unwrap();
    sagemaker_core::artifact::pack_dir(&root.path().join("m"), &tar).unwrap();
    let uri = s.upload_data(&tar, "models").await.unwrap();
    let err = SKLearnModel::builder()
        .model_data(uri.to_string())
        .entry_point("serve.py")
        .source_dir(dir)
        .framework_version("1.2-1")
        .session(s.clone())
        .build()
        .unwrap()
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .build()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Please provide a model_fn implementation"),
        "{err}"
    );
}

const ECHO_ARGS: &str = r#"
import json, os, sys
keys = ["SM_MODEL_DIR", "SM_CHANNELS", "SM_CHANNEL_TRAINING", "SM_HPS", "SM_HP_ALPHA",
        "SM_HP_FLAG", "SM_HP_NAMES", "SM_USER_ARGS", "SM_MODULE_NAME", "SM_USER_ENTRY_POINT",
        "SM_FRAMEWORK_MODULE", "SM_LOG_LEVEL", "SM_CURRENT_HOST", "SM_HOSTS",
        "SAGEMAKER_REGION", "PYTHONUNBUFFERED", "TRAINING_JOB_NAME"]
print("ARGV " + json.dumps(sys.argv[1:]))
print("ENV " + json.dumps({k: os.environ.get(k) for k in keys}, sort_keys=True))
print("CWD " + os.getcwd())
open(os.path.join(os.environ["SM_MODEL_DIR"], "done"), "w").write("1")
"#;

fn line<'a>(logs: &'a str, prefix: &str) -> &'a str {
    logs.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{logs}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_and_environment_follow_the_training_toolkit() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let dir = source(root.path(), "src", &[("train.py", ECHO_ARGS)]);
    let train = data(&s, root.path(), "1\n").await;
    let est = estimator(&s, &dir)
        .hyperparameter("alpha", 0.5)
        .hyperparameter("flag", true)
        .hyperparameter("names", serde_json::json!(["a", "b"]))
        .hyperparameter("n", "x y")
        .build()
        .unwrap();
    let job = est.fit(train).await.unwrap();
    let logs = job.logs().await.unwrap();
    let argv: Vec<String> = serde_json::from_str(line(&logs, "ARGV ")).unwrap();
    // Sorted keys, one-letter keys as -k, values as Python's str() of the decoded JSON.
    assert_eq!(
        argv,
        [
            "--alpha",
            "0.5",
            "--flag",
            "True",
            "-n",
            "x y",
            "--names",
            "['a', 'b']"
        ]
    );
    let env: serde_json::Value = serde_json::from_str(line(&logs, "ENV ")).unwrap();
    assert_eq!(env["SM_MODEL_DIR"], "/opt/ml/model");
    assert_eq!(env["SM_CHANNELS"], "[\"training\"]");
    assert_eq!(env["SM_CHANNEL_TRAINING"], "/opt/ml/input/data/training");
    assert_eq!(
        env["SM_HPS"],
        "{\"alpha\":0.5,\"flag\":true,\"n\":\"x y\",\"names\":[\"a\",\"b\"]}"
    );
    assert_eq!(env["SM_HP_ALPHA"], "0.5");
    assert_eq!(env["SM_HP_FLAG"], "true");
    assert_eq!(env["SM_HP_NAMES"], "[\"a\",\"b\"]");
    assert_eq!(
        env["SM_USER_ARGS"],
        "[\"--alpha\",\"0.5\",\"--flag\",\"True\",\"-n\",\"x y\",\"--names\",\"['a', 'b']\"]"
    );
    assert_eq!(env["SM_MODULE_NAME"], "train");
    assert_eq!(env["SM_USER_ENTRY_POINT"], "train.py");
    assert_eq!(
        env["SM_FRAMEWORK_MODULE"],
        "sagemaker_sklearn_container.training:main"
    );
    assert_eq!(env["SM_LOG_LEVEL"], "20");
    assert_eq!(env["SM_CURRENT_HOST"], "algo-1");
    assert_eq!(env["SM_HOSTS"], "[\"algo-1\"]");
    assert_eq!(env["SAGEMAKER_REGION"], "us-east-1");
    assert_eq!(env["PYTHONUNBUFFERED"], "1");
    assert_eq!(env["TRAINING_JOB_NAME"], job.name());
    assert_eq!(line(&logs, "CWD "), "/opt/ml/code");
    let model = artifact(&s, &job.model_data().await.unwrap(), &root.path().join("m")).await;
    assert!(model.join("done").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_scripts_say_why() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let train = data(&s, root.path(), "1\n").await;
    let fail = |name: &str, files: &[(&str, &str)]| {
        let dir = source(root.path(), name, files);
        estimator(&s, &dir).build().unwrap()
    };

    let raising = fail(
        "raising",
        &[(
            "train.py",
            "def f():\n    raise ValueError('alpha must be positive')\nf()\n",
        )],
    );
    let reason = failure_of(&raising, &train).await;
    assert!(
        reason.starts_with("AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n"),
        "{reason}"
    );
    assert!(
        reason.contains("ValueError: alpha must be positive\"\nCommand \""),
        "{reason}"
    );

    let own = fail(
        "own",
        &[(
            "train.py",
            "import sys\nopen('/opt/ml/output/failure', 'w').write('bad data in row 3')\nsys.exit(2)\n",
        )],
    );
    assert_eq!(failure_of(&own, &train).await, "bad data in row 3");

    let syntax = fail("syntax", &[("train.py", "def broken(:\n")]);
    assert!(failure_of(&syntax, &train).await.contains("SyntaxError"));

    let reqs = fail(
        "reqs",
        &[
            ("train.py", "print('never')\n"),
            ("requirements.txt", "this is not a requirement !!\n"),
        ],
    );
    let reason = failure_of(&reqs, &train).await;
    assert!(reason.starts_with("InstallRequirementsError:"), "{reason}");

    let err = SKLearn::builder()
        .entry_point("missing.py")
        .source_dir(source(root.path(), "empty", &[("other.py", "")]))
        .framework_version("1.2-1")
        .instance_type("local")
        .session(s.clone())
        .build()
        .unwrap()
        .fit(train.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("missing.py"), "{err}");
}

const SLEEPER: &str = r#"
import os, signal, sys, time

def on_term(signum, frame):
    open(os.path.join(os.environ["SM_MODEL_DIR"], "checkpoint.txt"), "w").write("saved")
    print("got SIGTERM", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
print("sleeping", flush=True)
time.sleep(120)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_runtime_sends_sigterm_and_keeps_the_model() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let dir = source(root.path(), "src", &[("train.py", SLEEPER)]);
    let train = data(&s, root.path(), "1\n").await;
    let est = estimator(&s, &dir)
        .max_run(Duration::from_secs(2))
        .build()
        .unwrap();
    let result = est.fit(train).await;
    let job = est.latest_training_job().unwrap();
    let d = job.describe().await.unwrap();
    assert_eq!(
        d.training_job_status,
        TrainingJobStatus::Stopped,
        "{result:?}"
    );
    assert_eq!(d.secondary_status, SecondaryStatus::MaxRuntimeExceeded);
    let logs = job.logs().await.unwrap();
    assert!(logs.contains("got SIGTERM"), "{logs}");
    let uri = d
        .model_artifacts
        .expect("a stopped job keeps its model")
        .s3_model_artifacts;
    let model = artifact(&s, &uri, &root.path().join("m")).await;
    assert_eq!(
        std::fs::read_to_string(model.join("checkpoint.txt")).unwrap(),
        "saved"
    );
}

const WRITE_OWN: &str = r#"
import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--value")
a = p.parse_args()
for i in range(5):
    open("/opt/ml/model/model.joblib", "w").write(a.value)
    time.sleep(0.1)
assert open("/opt/ml/model/model.joblib").read() == a.value
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_jobs_each_see_their_own_opt_ml() {
    let mounts = || std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let before = mounts();
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let dir = source(root.path(), "src", &[("train.py", WRITE_OWN)]);
    let train = data(&s, root.path(), "1\n").await;
    let a = estimator(&s, &dir)
        .hyperparameter("value", "a")
        .build()
        .unwrap();
    let b = estimator(&s, &dir)
        .hyperparameter("value", "b")
        .build()
        .unwrap();
    let (ja, jb) = tokio::join!(a.fit(train.clone()), b.fit(train.clone()));
    for (job, value) in [(ja.unwrap(), "a"), (jb.unwrap(), "b")] {
        let m = artifact(
            &s,
            &job.model_data().await.unwrap(),
            &root.path().join(value),
        )
        .await;
        assert_eq!(
            std::fs::read_to_string(m.join("model.joblib")).unwrap(),
            value
        );
    }
    // The jobs' mounts lived in their own namespaces: the host's table is as it was.
    assert_eq!(before, mounts());
    assert!(!Path::new("/opt/ml/model/model.joblib").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_namespaces_scripts_run_in_place() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let train = data(&s, root.path(), "1\n").await;
    let portable = source(
        root.path(),
        "portable",
        &[(
            "train.py",
            "import os\nprint('BASE', os.environ['SAGEMAKER_BASE_DIR'])\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'm'), 'w').write('1')\n",
        )],
    );
    let est = estimator(&s, &portable)
        .environment("SAGEMAKER_SCRIPT_NO_NAMESPACE", "1")
        .build()
        .unwrap();
    let job = est.fit(train.clone()).await.unwrap();
    let logs = job.logs().await.unwrap();
    let base = line(&logs, "BASE ");
    assert!(base.ends_with("/opt-ml"), "{base}");
    assert!(logs.contains("isolation: none"), "{logs}");

    let hard_coded = source(
        root.path(),
        "hard",
        &[(
            "train.py",
            "open('/opt/ml/input/data/training/train.csv').read()\n",
        )],
    );
    let est = estimator(&s, &hard_coded)
        .environment("SAGEMAKER_SCRIPT_NO_NAMESPACE", "1")
        .build()
        .unwrap();
    let reason = failure_of(&est, &train).await;
    assert!(
        reason.contains("namespace isolation is unavailable"),
        "{reason}"
    );
    assert!(reason.contains("SM_CHANNEL_<NAME>"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sourcedir_tarball_in_the_store_is_staged_as_the_toolkit_does() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path(), None);
    let dir = source(
        root.path(),
        "src",
        &[(
            "train.py",
            "import os\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'from-tarball'), 'w').write('1')\n",
        )],
    );
    let tar = root.path().join("sourcedir.tar.gz");
    sagemaker_core::artifact::pack_dir(Path::new(&dir), &tar).unwrap();
    let code = s.upload_data(&tar, "code").await.unwrap();
    let train = data(&s, root.path(), "1\n").await;
    // A request as the Python SDK sends it to SageMaker: the code is an s3:// tarball.
    let est = estimator(&s, &dir).build().unwrap();
    let inputs: sagemaker_estimator::Inputs = train.into();
    let mut spec = est.training_job_spec(&inputs, None).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    spec.hyper_parameters
        .insert("sagemaker_submit_directory".into(), format!("\"{code}\""));
    s.backend().create_training_job(spec.clone()).await.unwrap();
    let d = s
        .wait_for_training_job(&spec.training_job_name, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        d.training_job_status,
        TrainingJobStatus::Completed,
        "{:?}",
        d.failure_reason
    );
    let uri = d.model_artifacts.unwrap().s3_model_artifacts;
    let model = artifact(&s, &uri, &root.path().join("m")).await;
    assert!(model.join("from-tarball").is_file());

    // A tarball that is not there is refused before the job exists.
    spec.training_job_name.push_str("-2");
    spec.hyper_parameters.insert(
        "sagemaker_submit_directory".into(),
        "\"s3://sagemaker-local/nothing/sourcedir.tar.gz\"".into(),
    );
    let err = s.backend().create_training_job(spec).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
