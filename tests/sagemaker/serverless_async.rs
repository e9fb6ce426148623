//! Serverless and asynchronous inference through the facade: configs validated in
//! `build()`, deploy, `AsyncPredictor` and its four failure cases, and the load cases.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sagemaker::container::Container;
use sagemaker::local::LocalBackend;
use sagemaker::predictor::{BytesDeserializer, IdentitySerializer, JsonDeserializer};
use sagemaker::prelude::*;
use sagemaker::sklearn::sklearn_predictor;
use sagemaker_core::testkit::ProbeContainer;

use crate::trained_iris;

fn backend(root: &Path, probe: Option<ProbeContainer>) -> (LocalBackend, Session) {
    let mut b = LocalSession::builder().root(root);
    if let Some(p) = probe {
        b = b.container_arc("probe", Arc::new(p) as Arc<dyn Container>);
    }
    let backend = b.build_backend().unwrap();
    (backend.clone(), Session::new(backend))
}

async fn iris_model(s: &Session, root: &Path, base: &str) -> Model {
    trained_iris(s, root, base)
        .await
        .create_model()
        .await
        .unwrap()
}

fn probe_model(s: &Session) -> Model {
    Model::builder()
        .image_uri("probe")
        .session(s.clone())
        .build()
        .unwrap()
}

fn wait() -> WaitConfig {
    WaitConfig::default().timeout(Duration::from_secs(120))
}

#[test]
fn serverless_config_out_of_range_is_refused_in_build() {
    let ok = ServerlessInferenceConfig::builder().build().unwrap();
    assert_eq!((ok.memory_size_in_mb(), ok.max_concurrency()), (2048, 5));
    assert_eq!(ok.provisioned_concurrency(), None);
    for mb in [1024, 3072, 6144] {
        ServerlessInferenceConfig::builder()
            .memory_size_in_mb(mb)
            .build()
            .unwrap();
    }
    let b = ServerlessInferenceConfig::builder;
    for (builder, field) in [
        (b().memory_size_in_mb(0), "memory_size_in_mb"),
        (b().memory_size_in_mb(1000), "memory_size_in_mb"),
        (b().memory_size_in_mb(2500), "memory_size_in_mb"),
        (b().memory_size_in_mb(7168), "memory_size_in_mb"),
        (b().max_concurrency(0), "max_concurrency"),
        (b().max_concurrency(201), "max_concurrency"),
        (b().provisioned_concurrency(0), "provisioned_concurrency"),
        (b().provisioned_concurrency(6), "provisioned_concurrency"),
        (
            b().max_concurrency(2).provisioned_concurrency(3),
            "provisioned_concurrency",
        ),
    ] {
        let e = builder.build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
        assert_eq!(e.context("field"), Some(field), "{e}");
    }
    let a = AsyncInferenceConfig::builder;
    for (builder, field) in [
        (
            a().max_concurrent_invocations_per_instance(0),
            "max_concurrent_invocations_per_instance",
        ),
        (
            a().max_concurrent_invocations_per_instance(1001),
            "max_concurrent_invocations_per_instance",
        ),
        (a().output_path("not a uri"), "output_path"),
        (a().failure_path("ftp://x/y"), "failure_path"),
        (a().success_topic(" "), "success_topic"),
        (
            a().output_path("s3://bkt/same")
                .failure_path("s3://bkt/same"),
            "failure_path",
        ),
    ] {
        let e = builder.build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
        assert_eq!(e.context("field"), Some(field), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_and_async_on_one_variant_are_refused_before_any_call() {
    let root = tempfile::tempdir().unwrap();
    let (container, _probe) = ProbeContainer::new();
    let (_b, s) = backend(root.path(), Some(container));
    let serverless = ServerlessInferenceConfig::default();
    // Both refused when the config is built, before any call.
    let e = DeployConfig::builder()
        .serverless_inference_config(serverless)
        .async_inference_config(AsyncInferenceConfig::default())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert_eq!(e.context("field"), Some("async_inference_config"));
    let e = DeployConfig::builder()
        .initial_instance_count(1)
        .instance_type("ml.m5.large")
        .serverless_inference_config(serverless)
        .build()
        .unwrap_err();
    assert_eq!(e.context("field"), Some("instance_type"), "{e}");
    // Refused before CreateModel: nothing was created.
    assert!(s.backend().list_models().await.unwrap().is_empty());
    assert!(
        s.backend()
            .list_endpoint_configs()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_iris_has_no_instances_and_counts_its_cold_start() {
    let root = tempfile::tempdir().unwrap();
    let (b, s) = backend(root.path(), None);
    let model = iris_model(&s, root.path(), "iris-serverless").await;
    let config = ServerlessInferenceConfig::builder()
        .memory_size_in_mb(3072)
        .max_concurrency(2)
        .build()
        .unwrap();
    let predictor = sklearn_predictor(
        model
            .deploy(DeployConfig::serverless(config))
            .await
            .unwrap(),
    );
    let name = predictor.endpoint_name().to_string();
    let ec = s.backend().describe_endpoint_config(&name).await.unwrap();
    let v = &ec.production_variants[0];
    assert_eq!(
        (v.instance_type.as_deref(), v.initial_instance_count),
        (None, None)
    );
    assert_eq!(v.serverless_config, Some(config.to_spec()));
    assert!(ec.async_inference_config.is_none());
    assert_eq!(b.endpoint_metrics(&name).unwrap().cold_starts, 0);
    let labels = predictor
        .predict(&vec![vec![5.1, 3.5, 1.4, 0.2], vec![6.7, 3.1, 5.6, 2.4]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["setosa", "virginica"]));
    predictor.predict(&[5.1, 3.5, 1.4, 0.2][..]).await.unwrap();
    let m = b.endpoint_metrics(&name).unwrap();
    assert_eq!((m.cold_starts, m.serverless_invocations), (1, 2));
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_async_refuses_no_input_a_missing_input_and_a_target_variant() {
    let root = tempfile::tempdir().unwrap();
    let (container, _probe) = ProbeContainer::new();
    let (_b, s) = backend(root.path(), Some(container));
    let predictor = probe_model(&s)
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let e = predictor
        .predict_async_with::<str>(None, None, &InvokeOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert_eq!(e.context("field"), Some("data"));

    let missing = "s3://sagemaker-local/async-endpoint-inputs/not-there";
    let e = predictor.predict_async_from(missing).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.context("path"), Some(missing));
    let e = predictor.predict_async_from("nowhere").await.unwrap_err();
    assert_eq!(e.context("field"), Some("input_path"), "{e}");
    let e = predictor
        .predict_async_with(
            Some("x"),
            None,
            &InvokeOptions::new().target_variant("AllTraffic"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.context("field"), Some("target_variant"), "{e}");
    // The backend refuses a missing input the same way when called directly.
    let e = s
        .backend()
        .invoke_endpoint_async(sagemaker::spec::InvokeEndpointAsyncRequest::new(
            predictor.endpoint_name(),
            missing.parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // Data at a given input path is uploaded there.
    let at = "s3://sagemaker-local/my-inputs/one";
    let r = predictor
        .predict_async_with(Some("here"), Some(at), &InvokeOptions::new())
        .await
        .unwrap();
    assert_eq!(
        s.store().get_bytes(&at.parse().unwrap()).await.unwrap(),
        b"here"
    );
    assert_eq!(r.get_result(Some(&wait())).await.unwrap(), b"here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_iris_default_paths_results_and_the_models_failures() {
    let root = tempfile::tempdir().unwrap();
    let (_b, s) = backend(root.path(), None);
    let model = iris_model(&s, root.path(), "iris-async").await;
    let raw = model
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let name = raw.endpoint_name().to_string();
    let model_name = model.name().unwrap();
    // The Python SDK's default paths: .../async-endpoint-{outputs,failures}/{model}-{secs}-{hex}.
    let ec = s.backend().describe_endpoint_config(&name).await.unwrap();
    let out = ec.async_inference_config.unwrap().output_config;
    let output_path = out.s3_output_path.unwrap().to_string();
    let prefix = format!("s3://sagemaker-local/async-endpoint-outputs/{model_name}-");
    assert!(output_path.starts_with(&prefix), "{output_path}");
    let failure_path = out.s3_failure_path.unwrap().to_string();
    assert!(
        failure_path.starts_with(&format!(
            "s3://sagemaker-local/async-endpoint-failures/{model_name}-"
        )),
        "{failure_path}"
    );

    let iris = AsyncPredictor::new(sklearn_predictor(raw.predictor().clone()));
    let labels = iris
        .predict(
            &vec![vec![5.1, 3.5, 1.4, 0.2], vec![6.7, 3.1, 5.6, 2.4]],
            &wait(),
        )
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["setosa", "virginica"]));

    // A model that fails on some requests: their failure objects are written, the others
    // succeed.
    let csv = AsyncPredictor::new(
        Predictor::attach(name.clone(), s.clone())
            .with_serializer(IdentitySerializer::new("text/csv"))
            .with_deserializer(JsonDeserializer::new()),
    );
    let mut sent = Vec::new();
    for i in 0..12 {
        let body = if i % 4 == 1 {
            format!("not,a,number,{i}")
        } else {
            "6.7,3.1,5.6,2.4".to_string()
        };
        sent.push((i, csv.predict_async(body.as_str()).await.unwrap()));
    }
    for (i, r) in &sent {
        let result = r.get_result(Some(&wait())).await;
        let failure = r.failure_path().unwrap();
        assert!(failure.to_string().starts_with(&failure_path), "{failure}");
        if i % 4 == 1 {
            let e = result.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ModelError, "{e}");
            assert!(!e.is_temporary());
            assert_eq!(e.context("failure_location"), Some(&*failure.to_string()));
            let body = String::from_utf8(s.store().get_bytes(failure).await.unwrap()).unwrap();
            assert_eq!(e.context("original_message"), Some(body.as_str()));
            assert!(body.contains("Received client error (400)"), "{body}");
            assert!(!s.store().exists(r.output_path()).await.unwrap());
        } else {
            assert_eq!(result.unwrap(), serde_json::json!(["virginica"]));
            assert!(!s.store().exists(failure).await.unwrap());
        }
    }
    iris.delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_result_not_ready_then_polling_timeout_then_the_result() {
    let root = tempfile::tempdir().unwrap();
    let (container, probe) = ProbeContainer::new();
    let (_b, s) = backend(root.path(), Some(container));
    let predictor = probe_model(&s)
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let r = predictor.predict_async("hold").await.unwrap();
    let p = probe.clone();
    tokio::task::spawn_blocking(move || p.wait_held(1))
        .await
        .unwrap();
    let e = r.get_result(None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResultNotReady, "{e}");
    assert!(e.is_temporary());
    assert!(
        e.message().contains("Inference could still be running"),
        "{e}"
    );
    assert_eq!(
        e.context("output_location"),
        Some(&*r.output_path().to_string())
    );
    let short = WaitConfig::default()
        .poll_interval(Duration::from_millis(5))
        .timeout(Duration::from_millis(30));
    let e = r.get_result(Some(&short)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        e.message().contains("Inference could still be running"),
        "{e}"
    );
    assert_eq!(e.context("inference_id"), Some(r.inference_id()));
    probe.release();
    assert_eq!(r.get_result(Some(&wait())).await.unwrap(), b"hold");
    // Read again: the same result.
    assert_eq!(r.get_result(None).await.unwrap(), b"hold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_async_requests_with_max_concurrency_4_all_complete_once() {
    const N: usize = 10_000;
    let root = tempfile::tempdir().unwrap();
    let (container, probe) = ProbeContainer::new();
    let (b, s) = backend(root.path(), Some(container));
    let config = AsyncInferenceConfig::builder()
        .output_path("s3://sagemaker-local/load/out")
        .failure_path("s3://sagemaker-local/load/failed")
        .max_concurrent_invocations_per_instance(4)
        .build()
        .unwrap();
    let predictor: AsyncPredictor<IdentitySerializer, BytesDeserializer> = probe_model(&s)
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .async_inference_config(config)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let mut responses = Vec::with_capacity(N);
    for i in 0..N {
        responses.push(
            predictor
                .predict_async(format!("request {i}").as_str())
                .await
                .unwrap(),
        );
    }
    let outputs: HashSet<String> = responses
        .iter()
        .map(|r| r.output_path().to_string())
        .collect();
    assert_eq!(outputs.len(), N, "output locations are not distinct");
    for (i, r) in responses.iter().enumerate() {
        let got = r.get_result(Some(&wait())).await.unwrap();
        assert_eq!(got, format!("request {i}").into_bytes());
    }
    let listed = s
        .store()
        .list(&"s3://sagemaker-local/load/out".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(listed.len(), N, "lost or duplicated results");
    assert!(
        s.store()
            .list(&"s3://sagemaker-local/load/failed".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(probe.invocations(), N as u64);
    assert!(probe.max_in_flight() <= 4, "{}", probe.max_in_flight());
    let m = b.endpoint_metrics(predictor.endpoint_name()).unwrap();
    assert_eq!(
        (m.async_accepted, m.async_completed, m.async_failed),
        (N as u64, N as u64, 0)
    );
}
