//! Serverless and asynchronous inference on the local backend, with an iris
//! `LogisticRegression`: the serverless cold start (first request after idle) and warm
//! latency, and async throughput from `predict_async` to the result written.
//!
//! `cargo bench -p sagemaker --bench serverless_async` (release build; under a minute).
//!
//! - Cold start: the endpoint is scaled to zero (`LocalBackend::scale_to_zero`, what the idle
//!   timeout does), then one one-row request is timed end to end, in process. Also measured
//!   with a real idle timeout (200 ms idle, then a request) a few times.
//! - Warm: one-row requests one after another on a warm worker, in process.
//! - Async: `AsyncPredictor::predict_async` of one-row CSV requests (each uploads its input
//!   and queues it) from `SUBMITTERS` tasks, timed until the endpoint reports every result written;
//!   then every result is read back and checked (not timed). One instance, with 1, 2 and 4
//!   concurrent invocations.

use std::path::Path;
use std::time::{Duration, Instant};

use sagemaker::local::LocalBackend;
use sagemaker::model::DeployConfig;
use sagemaker::predictor::{IdentitySerializer, JsonDeserializer};
use sagemaker::prelude::*;
use sagemaker::spec::InvokeEndpointRequest;
use sagemaker_test_support::{iris_csv, iris_logistic, upload};

const ONE_ROW: &str = "5.1,3.5,1.4,0.2";
const COLD_STARTS: usize = 50;
const REAL_IDLE_COLD_STARTS: usize = 5;
const WARM_CALLS: usize = 20_000;
const ASYNC_REQUESTS: usize = 20_000;
/// Tasks calling `predict_async` at once.
const SUBMITTERS: usize = 4;

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        v.len(),
        quantile(&v, 0.0),
        quantile(&v, 0.5),
        quantile(&v, 0.99),
        quantile(&v, 1.0)
    );
}

async fn iris_model(s: &Session, root: &Path) -> Model {
    let data = upload(s, root, "iris.csv", &iris_csv()).await;
    let est = iris_logistic(s).build().unwrap();
    est.fit(data).await.unwrap();
    est.create_model().await.unwrap()
}

fn request(endpoint: &str) -> InvokeEndpointRequest {
    let mut r = InvokeEndpointRequest::new(endpoint, ONE_ROW.as_bytes().to_vec());
    r.content_type = Some("text/csv".into());
    r.accept = Some("application/json".into());
    r
}

async fn serverless(backend: &LocalBackend, s: &Session, model: &Model) {
    let predictor = model
        .deploy(DeployConfig::serverless(
            ServerlessInferenceConfig::default(),
        ))
        .await
        .unwrap();
    let name = predictor.endpoint_name().to_string();
    let mut cold = Vec::new();
    let mut setup = Vec::new();
    for _ in 0..COLD_STARTS {
        backend.scale_to_zero(&name).unwrap();
        let t = Instant::now();
        let r = predictor.predict_raw(request(&name)).await.unwrap();
        cold.push(t.elapsed());
        assert_eq!(r.body, b"[\"setosa\"]");
        setup.push(
            backend
                .endpoint_metrics(&name)
                .unwrap()
                .last_model_setup_time
                .unwrap(),
        );
    }
    assert_eq!(
        backend.endpoint_metrics(&name).unwrap().cold_starts,
        COLD_STARTS as u64
    );
    let mut warm = Vec::with_capacity(WARM_CALLS);
    for _ in 0..WARM_CALLS {
        let t = Instant::now();
        predictor.predict_raw(request(&name)).await.unwrap();
        warm.push(t.elapsed());
    }
    println!("| serverless, one iris row, in process | n | min µs | p50 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|---|");
    summary("cold start (after scale to zero), end to end", cold);
    summary("  of which model load (ModelSetupTime)", setup);
    summary("warm request", warm);
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();

    // A real idle timeout: a second backend on the same root, serving the same model.
    let idle_backend = sagemaker::LocalSession::builder()
        .root(backend.root())
        .serverless_idle_timeout(Duration::from_millis(200))
        .build_backend()
        .unwrap();
    let _ = s;
    let model = Model::builder()
        .name(model.name().unwrap())
        .image_uri(model.image_uri())
        .session(Session::new(idle_backend.clone()))
        .build()
        .unwrap();
    let predictor = model
        .deploy(DeployConfig::serverless(
            ServerlessInferenceConfig::default(),
        ))
        .await
        .unwrap();
    let name = predictor.endpoint_name().to_string();
    let mut idle_cold = Vec::new();
    for _ in 0..REAL_IDLE_COLD_STARTS {
        // Wait out the idle timeout (plus the reaper's period): the worker is unloaded.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            idle_backend.endpoint_metrics(&name).unwrap().warm_workers,
            0
        );
        let t = Instant::now();
        predictor.predict_raw(request(&name)).await.unwrap();
        idle_cold.push(t.elapsed());
    }
    summary("cold start after a real 200 ms idle timeout", idle_cold);
    println!();
}

async fn throughput(backend: &LocalBackend, s: &Session, model: &Model, per_instance: u32) {
    let config = AsyncInferenceConfig::builder()
        .max_concurrent_invocations_per_instance(per_instance)
        .build()
        .unwrap();
    let raw = model
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .async_inference_config(config)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let name = raw.endpoint_name().to_string();
    let predictor = AsyncPredictor::new(
        raw.predictor()
            .clone()
            .with_serializer(IdentitySerializer::new("text/csv"))
            .with_deserializer(JsonDeserializer::new()),
    );
    let t = Instant::now();
    let tasks: Vec<_> = (0..SUBMITTERS)
        .map(|_| {
            let predictor = predictor.clone();
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(ASYNC_REQUESTS / SUBMITTERS);
                for _ in 0..ASYNC_REQUESTS / SUBMITTERS {
                    out.push(predictor.predict_async(ONE_ROW).await.unwrap());
                }
                out
            })
        })
        .collect();
    let mut responses = Vec::with_capacity(ASYNC_REQUESTS);
    for task in tasks {
        responses.extend(task.await.unwrap());
    }
    let submitted = t.elapsed();
    WaitConfig::default()
        .timeout(Duration::from_secs(600))
        .wait_until(
            &name,
            s.backend().changes(),
            || async { backend.endpoint_metrics(&name) },
            |m| {
                (
                    format!("{} done", m.async_completed + m.async_failed),
                    m.async_completed + m.async_failed == ASYNC_REQUESTS as u64,
                )
            },
        )
        .await
        .unwrap();
    let done = t.elapsed();
    let m = backend.endpoint_metrics(&name).unwrap();
    assert_eq!(m.async_completed, ASYNC_REQUESTS as u64);
    for r in &responses {
        assert_eq!(
            r.get_result(None).await.unwrap(),
            serde_json::json!(["setosa"])
        );
    }
    println!(
        "| {per_instance} | {ASYNC_REQUESTS} | {:.0} | {:.0} | {:.2} |",
        ASYNC_REQUESTS as f64 / done.as_secs_f64(),
        ASYNC_REQUESTS as f64 / submitted.as_secs_f64(),
        done.as_secs_f64()
    );
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let root = tempfile::tempdir().unwrap();
        let backend = sagemaker::LocalSession::builder()
            .root(root.path())
            .build_backend()
            .unwrap();
        let s = Session::new(backend.clone());
        let model = iris_model(&s, root.path()).await;
        serverless(&backend, &s, &model).await;
        println!("| async: concurrent invocations (1 instance) | requests | end-to-end req/s | submit req/s | seconds |");
        println!("|---|---|---|---|---|");
        for per_instance in [1, 2, 4] {
            throughput(&backend, &s, &model, per_instance).await;
        }
    });
}
