//! Serverless and asynchronous endpoints on the local backend: cold starts, throttling,
//! the async queue, the `async-invocations` route, notifications and deletion with work
//! queued.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sagemaker_core::spec::*;
use sagemaker_core::testkit::{Probe, ProbeContainer};
use sagemaker_core::{ErrorKind, Session, StorageUri, WaitConfig, names};
use sagemaker_local::{AsyncInvocationStatus, AsyncNotification, LocalBackend, LocalSession};
use sagemaker_test_support::http::{HttpClient, header};

const IMAGE: &str = "probe";

struct Fixture {
    _root: tempfile::TempDir,
    backend: LocalBackend,
    session: Session,
    probe: Arc<Probe>,
    notes: Arc<Mutex<Vec<AsyncNotification>>>,
    notes_rx: std::sync::mpsc::Receiver<AsyncNotification>,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let (container, probe) = ProbeContainer::new();
    let notes = Arc::new(Mutex::new(Vec::new()));
    let (tx, notes_rx) = std::sync::mpsc::channel();
    let sink = notes.clone();
    let backend = LocalSession::builder()
        .root(root.path())
        .container(IMAGE, container)
        .on_async_notification(move |n| {
            sink.lock().unwrap().push(n.clone());
            let _ = tx.send(n.clone());
        })
        .build_backend()
        .unwrap();
    let session = Session::new(backend.clone());
    Fixture {
        _root: root,
        backend,
        session,
        probe,
        notes,
        notes_rx,
    }
}

fn serverless(
    memory: u32,
    max: u32,
    provisioned: Option<u32>,
) -> ProductionVariantServerlessConfig {
    ProductionVariantServerlessConfig {
        memory_size_in_mb: memory,
        max_concurrency: max,
        provisioned_concurrency: provisioned,
    }
}

fn variant(model: &str, sc: Option<ProductionVariantServerlessConfig>) -> ProductionVariant {
    ProductionVariant {
        variant_name: "AllTraffic".into(),
        model_name: model.into(),
        initial_instance_count: sc.is_none().then_some(1),
        instance_type: sc.is_none().then(|| "local".into()),
        initial_variant_weight: 1.0,
        serverless_config: sc,
    }
}

fn async_config(per_instance: u32, topics: bool) -> AsyncInferenceConfig {
    let mut a = AsyncInferenceConfig::default();
    a.output_config.s3_output_path = Some("s3://sagemaker-local/async/out".parse().unwrap());
    a.output_config.s3_failure_path = Some("s3://sagemaker-local/async/failed".parse().unwrap());
    a.client_config = Some(AsyncInferenceClientConfig {
        max_concurrent_invocations_per_instance: Some(per_instance),
    });
    if topics {
        a.output_config.notification_config = Some(AsyncInferenceNotificationConfig {
            success_topic: Some("done".into()),
            error_topic: Some("failed".into()),
            include_inference_response_in: vec![
                AsyncNotificationTopicType::SuccessNotificationTopic,
            ],
        });
    }
    a
}

async fn model(s: &Session) -> String {
    let name = names::name_from_base("probe-model");
    s.backend()
        .create_model(ModelSpec {
            vpc_config: None,
            model_name: name.clone(),
            primary_container: ContainerDefinition {
                image: IMAGE.into(),
                model_data_url: None,
                environment: Default::default(),
            },
            execution_role_arn: None,
            tags: vec![],
        })
        .await
        .unwrap();
    name
}

async fn endpoint(s: &Session, v: ProductionVariant, a: Option<AsyncInferenceConfig>) -> String {
    let name = names::name_from_base("sa");
    let b = s.backend();
    b.create_endpoint_config(EndpointConfigSpec {
        endpoint_config_name: name.clone(),
        production_variants: vec![v],
        async_inference_config: a,
        tags: vec![],
    })
    .await
    .unwrap();
    b.create_endpoint(EndpointSpec {
        endpoint_name: name.clone(),
        endpoint_config_name: name.clone(),
        tags: vec![],
    })
    .await
    .unwrap();
    let d = s
        .wait_for_endpoint(&name, &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService, "{d:?}");
    name
}

fn invoke(endpoint: &str, body: &[u8]) -> InvokeEndpointRequest {
    InvokeEndpointRequest::new(endpoint, body.to_vec())
}

async fn put(s: &Session, body: &[u8]) -> StorageUri {
    let uri = StorageUri::s3(
        "sagemaker-local",
        format!("async/in/{}", names::unique_id()),
    );
    s.store().put_bytes(body.to_vec(), &uri).await.unwrap();
    uri
}

async fn wait_for_object(s: &Session, uri: &StorageUri) -> Vec<u8> {
    let store = s.store();
    WaitConfig::default()
        .timeout(Duration::from_secs(60))
        .wait_until(
            &uri.to_string(),
            s.backend().changes(),
            || store.exists(uri),
            |e| (e.to_string(), *e),
        )
        .await
        .unwrap();
    store.get_bytes(uri).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_config_out_of_range_and_mixed_with_async_is_refused() {
    let f = fixture();
    let m = model(&f.session).await;
    let b = f.session.backend();
    let cases = [
        (
            vec![variant(&m, Some(serverless(512, 5, None)))],
            None,
            "MemorySizeInMB",
        ),
        (
            vec![variant(&m, Some(serverless(3000, 5, None)))],
            None,
            "MemorySizeInMB",
        ),
        (
            vec![variant(&m, Some(serverless(7168, 5, None)))],
            None,
            "MemorySizeInMB",
        ),
        (
            vec![variant(&m, Some(serverless(2048, 0, None)))],
            None,
            "MaxConcurrency",
        ),
        (
            vec![variant(&m, Some(serverless(2048, 201, None)))],
            None,
            "MaxConcurrency",
        ),
        (
            vec![variant(&m, Some(serverless(2048, 5, Some(0))))],
            None,
            "ProvisionedConcurrency",
        ),
        (
            vec![variant(&m, Some(serverless(2048, 5, Some(6))))],
            None,
            "ProvisionedConcurrency",
        ),
        (
            vec![variant(&m, Some(serverless(2048, 5, None)))],
            Some(async_config(1, false)),
            "AsyncInferenceConfig is not supported with serverless",
        ),
        (
            vec![
                variant(&m, Some(serverless(2048, 5, None))),
                ProductionVariant {
                    variant_name: "B".into(),
                    ..variant(&m, Some(serverless(2048, 5, None)))
                },
            ],
            None,
            "exactly one production variant",
        ),
        (
            vec![ProductionVariant {
                instance_type: Some("ml.m5.large".into()),
                ..variant(&m, Some(serverless(2048, 5, None)))
            }],
            None,
            "not both",
        ),
        (
            vec![variant(&m, None)],
            Some({
                let mut a = async_config(1, false);
                a.client_config = Some(AsyncInferenceClientConfig {
                    max_concurrent_invocations_per_instance: Some(0),
                });
                a
            }),
            "MaxConcurrentInvocationsPerInstance",
        ),
    ];
    for (variants, a, expected) in cases {
        let e = b
            .create_endpoint_config(EndpointConfigSpec {
                endpoint_config_name: names::name_from_base("bad"),
                production_variants: variants,
                async_inference_config: a,
                tags: vec![],
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        assert!(e.message().contains(expected), "{expected}: {e}");
    }
    assert!(b.list_endpoint_configs().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_cold_starts_scale_to_zero_and_provisioned_workers() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(
        &f.session,
        variant(&m, Some(serverless(1024, 3, None))),
        None,
    )
    .await;
    let b = f.session.backend();
    // Nothing is loaded until the first request.
    assert_eq!(f.probe.loads(), 0);
    let d = b.describe_endpoint(&name).await.unwrap();
    assert_eq!(d.production_variants[0].current_instance_count, 0);
    assert_eq!(
        d.production_variants[0].current_serverless_config,
        Some(serverless(1024, 3, None))
    );
    let r = b.invoke_endpoint(invoke(&name, b"a")).await.unwrap();
    assert_eq!(r.body, b"a");
    let m1 = f.backend.endpoint_metrics(&name).unwrap();
    assert_eq!((m1.cold_starts, m1.warm_workers), (1, 1));
    assert!(m1.last_model_setup_time.is_some());
    // Warm: no new load.
    b.invoke_endpoint(invoke(&name, b"b")).await.unwrap();
    assert_eq!(f.backend.endpoint_metrics(&name).unwrap().cold_starts, 1);
    assert_eq!(f.probe.loads(), 1);
    // Idle long enough: unloaded; the next request is a cold start again.
    assert_eq!(f.backend.scale_to_zero(&name).unwrap(), 1);
    assert_eq!(f.backend.endpoint_metrics(&name).unwrap().warm_workers, 0);
    b.invoke_endpoint(invoke(&name, b"c")).await.unwrap();
    let m2 = f.backend.endpoint_metrics(&name).unwrap();
    assert_eq!((m2.cold_starts, m2.serverless_invocations), (2, 3));
    assert_eq!(f.probe.loads(), 2);

    // Provisioned concurrency: loaded at creation, never unloaded, no cold start.
    let warm = endpoint(
        &f.session,
        variant(&m, Some(serverless(2048, 4, Some(2)))),
        None,
    )
    .await;
    assert_eq!(f.probe.loads(), 4);
    assert_eq!(f.backend.scale_to_zero(&warm).unwrap(), 0);
    b.invoke_endpoint(invoke(&warm, b"d")).await.unwrap();
    let m3 = f.backend.endpoint_metrics(&warm).unwrap();
    assert_eq!((m3.cold_starts, m3.warm_workers), (0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_are_unloaded_after_the_idle_timeout() {
    let root = tempfile::tempdir().unwrap();
    let (container, probe) = ProbeContainer::new();
    let backend = LocalSession::builder()
        .root(root.path())
        .container(IMAGE, container)
        .serverless_idle_timeout(Duration::from_millis(20))
        .build_backend()
        .unwrap();
    let s = Session::new(backend.clone());
    let m = model(&s).await;
    let name = endpoint(&s, variant(&m, Some(serverless(1024, 2, None))), None).await;
    s.backend()
        .invoke_endpoint(invoke(&name, b"a"))
        .await
        .unwrap();
    // Wait for the unload itself (the backend's change feed ticks when it happens).
    let metrics = WaitConfig::default()
        .timeout(Duration::from_secs(60))
        .wait_until(
            &name,
            s.backend().changes(),
            || async { backend.endpoint_metrics(&name) },
            |m| (format!("{} warm", m.warm_workers), m.warm_workers == 0),
        )
        .await
        .unwrap();
    assert_eq!(metrics.cold_starts, 1);
    s.backend()
        .invoke_endpoint(invoke(&name, b"b"))
        .await
        .unwrap();
    assert_eq!(backend.endpoint_metrics(&name).unwrap().cold_starts, 2);
    assert_eq!(probe.loads(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_give_only_successes_and_throttling() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(
        &f.session,
        variant(&m, Some(serverless(2048, 5, None))),
        None,
    )
    .await;
    let rt = tokio::runtime::Handle::current();
    let start = Arc::new(std::sync::Barrier::new(200));
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (backend, name, rt, start) = (
                f.session.backend().clone(),
                name.clone(),
                rt.clone(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                let body = format!("sleep:20 call {i}").into_bytes();
                rt.block_on(backend.invoke_endpoint(InvokeEndpointRequest::new(name, body.clone())))
                    .map(|r| assert_eq!(r.body, body))
            })
        })
        .collect();
    let (mut ok, mut throttled) = (0u64, 0u64);
    for t in threads {
        match t.join().unwrap() {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Throttled, "{e}");
                assert!(e.is_temporary());
                throttled += 1;
            }
        }
    }
    assert_eq!(ok + throttled, 200);
    // The first five are always admitted; 200 callers released at once over 20 ms calls
    // overlap far beyond five.
    assert!(ok >= 5, "{ok} succeeded");
    assert!(throttled >= 1, "nothing was throttled");
    assert!(f.probe.max_in_flight() <= 5, "{}", f.probe.max_in_flight());
    let metrics = f.backend.endpoint_metrics(&name).unwrap();
    assert_eq!(metrics.throttles, throttled);
    assert_eq!(metrics.serverless_invocations, ok);
    assert!(metrics.warm_workers <= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_the_4_mb_limit_over_http() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(
        &f.session,
        variant(&m, Some(serverless(2048, 1, None))),
        None,
    )
    .await;
    let client = HttpClient::new(f.backend.server_address().unwrap().to_string());
    // One request holds the only slot.
    let held = {
        let (backend, name) = (f.session.backend().clone(), name.clone());
        tokio::spawn(async move {
            backend
                .invoke_endpoint(InvokeEndpointRequest::new(name, b"hold".to_vec()))
                .await
        })
    };
    let probe = f.probe.clone();
    tokio::task::spawn_blocking(move || probe.wait_held(1))
        .await
        .unwrap();
    let path = format!("/endpoints/{name}/invocations");
    let (status, headers, body) = client.post(&path, &[], b"x").await.into_parts();
    assert_eq!(status, 400);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("ThrottlingException")
    );
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["message"].is_string(), "{v}");
    f.probe.release();
    assert_eq!(held.await.unwrap().unwrap().body, b"hold");

    let big = vec![b'1'; 4 * 1024 * 1024 + 1];
    let (status, headers, body) = client.post(&path, &[], &big).await.into_parts();
    assert_eq!(status, 413);
    assert_eq!(header(&headers, "x-amzn-errortype"), None);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["message"], "HTTP content length exceeded 4194304 bytes.");
    let (status, _, body) = client.post(&path, &[], b"ok").await.into_parts();
    assert_eq!((status, body), (200, b"ok".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_invocations_route_answers_like_invoke_endpoint_async() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(&f.session, variant(&m, None), Some(async_config(2, false))).await;
    let client = HttpClient::new(f.backend.server_address().unwrap().to_string());
    let input = put(&f.session, b"over http").await;
    let path = format!("/endpoints/{name}/async-invocations");
    let (status, headers, body) = client
        .post(
            &path,
            &[
                ("X-Amzn-SageMaker-InputLocation", &input.to_string()),
                ("X-Amzn-SageMaker-Content-Type", "text/plain"),
                ("X-Amzn-SageMaker-Accept", "text/plain"),
                ("X-Amzn-SageMaker-Inference-Id", "my-id-1"),
                ("X-Amzn-SageMaker-RequestTTLSeconds", "600"),
                ("X-Amzn-SageMaker-InvocationTimeoutSeconds", "60"),
            ],
            b"",
        )
        .await
        .into_parts();
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["InferenceId"], "my-id-1");
    assert!(header(&headers, "x-amzn-requestid").is_some());
    let output: StorageUri = header(&headers, "x-amzn-sagemaker-outputlocation")
        .unwrap()
        .parse()
        .unwrap();
    let failure = header(&headers, "x-amzn-sagemaker-failurelocation").unwrap();
    assert!(
        output
            .to_string()
            .starts_with("s3://sagemaker-local/async/out/")
    );
    assert!(output.to_string().ends_with(".out"));
    assert!(failure.starts_with("s3://sagemaker-local/async/failed/"));
    assert!(failure.ends_with("-error.out"));
    assert_eq!(wait_for_object(&f.session, &output).await, b"over http");

    // No input location, an input that does not exist, bad TTL, a real-time endpoint.
    let missing = "s3://sagemaker-local/async/in/nothing-here";
    let input_s = input.to_string();
    let realtime = endpoint(&f.session, variant(&m, None), None).await;
    for (p, headers, expected) in [
        (path.clone(), vec![], "inputLocation"),
        (
            path.clone(),
            vec![("X-Amzn-SageMaker-InputLocation", missing)],
            "Could not find the input",
        ),
        (
            path.clone(),
            vec![
                ("X-Amzn-SageMaker-InputLocation", missing),
                ("X-Amzn-SageMaker-RequestTTLSeconds", "5"),
            ],
            "RequestTTLSeconds",
        ),
        (
            format!("/endpoints/{realtime}/async-invocations"),
            vec![("X-Amzn-SageMaker-InputLocation", input_s.as_str())],
            "not an asynchronous endpoint",
        ),
    ] {
        let (status, h, body) = client.post(&p, &headers, b"").await.into_parts();
        assert_eq!(status, 400, "{expected}");
        assert_eq!(header(&h, "x-amzn-errortype"), Some("ValidationError"));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["Message"].as_str().unwrap().contains(expected), "{v}");
    }
    // The in-process call says the same, with a kind to branch on.
    let e = f
        .session
        .backend()
        .invoke_endpoint_async(InvokeEndpointAsyncRequest::new(
            name.clone(),
            missing.parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_requests_write_failures_and_notify_others_succeed() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(&f.session, variant(&m, None), Some(async_config(3, true))).await;
    let b = f.session.backend();
    let mut sent = Vec::new();
    for i in 0..30 {
        let body = if i % 3 == 0 {
            format!("fail:row {i} is bad")
        } else {
            format!("row {i}")
        };
        let mut r =
            InvokeEndpointAsyncRequest::new(name.clone(), put(&f.session, body.as_bytes()).await);
        r.inference_id = Some(format!("req-{i}"));
        sent.push((i, b.invoke_endpoint_async(r).await.unwrap()));
    }
    for (i, r) in &sent {
        let failure = r.failure_location.clone().unwrap();
        if i % 3 == 0 {
            let text = String::from_utf8(wait_for_object(&f.session, &failure).await).unwrap();
            assert!(text.contains(&format!("row {i} is bad")), "{text}");
            assert!(text.contains("Received client error (400)"), "{text}");
            assert!(!f.session.store().exists(&r.output_location).await.unwrap());
        } else {
            let out = wait_for_object(&f.session, &r.output_location).await;
            assert_eq!(out, format!("row {i}").into_bytes());
            assert!(!f.session.store().exists(&failure).await.unwrap());
        }
    }
    let metrics = f.backend.endpoint_metrics(&name).unwrap();
    assert_eq!((metrics.async_completed, metrics.async_failed), (20, 10));
    // Notifications are sent after the objects are written: 30 arrive, one per request.
    let notes: Vec<AsyncNotification> = (0..30)
        .map(|_| f.notes_rx.recv_timeout(Duration::from_secs(60)).unwrap())
        .collect();
    let failed: Vec<_> = notes
        .iter()
        .filter(|n| n.status == AsyncInvocationStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 10);
    for n in &failed {
        assert_eq!(n.topic, "failed");
        assert!(n.failure_reason.as_deref().unwrap().contains("is bad"));
        assert!(n.inference_response.is_none());
    }
    for n in notes
        .iter()
        .filter(|n| n.status == AsyncInvocationStatus::Completed)
    {
        assert_eq!(n.topic, "done");
        let i: usize = n
            .inference_id
            .strip_prefix("req-")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            n.inference_response.as_deref(),
            Some(format!("row {i}").as_bytes())
        );
        assert_eq!(n.output_location.as_ref(), Some(&sent[i].1.output_location));
    }
    assert_eq!(f.notes.lock().unwrap().len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_async_endpoint_ends_every_queued_request() {
    let f = fixture();
    let m = model(&f.session).await;
    let name = endpoint(&f.session, variant(&m, None), Some(async_config(1, true))).await;
    let b = f.session.backend();
    let mut sent = Vec::new();
    for body in std::iter::once("hold".to_string()).chain((0..20).map(|i| format!("queued {i}"))) {
        let r =
            InvokeEndpointAsyncRequest::new(name.clone(), put(&f.session, body.as_bytes()).await);
        sent.push(b.invoke_endpoint_async(r).await.unwrap());
    }
    // One worker: the first request runs (held), the other 20 wait in the queue.
    let probe = f.probe.clone();
    tokio::task::spawn_blocking(move || probe.wait_held(1))
        .await
        .unwrap();
    assert_eq!(f.backend.endpoint_metrics(&name).unwrap().async_queued, 20);
    let deleting = {
        let (b, name) = (b.clone(), name.clone());
        tokio::spawn(async move { b.delete_endpoint(&name).await })
    };
    // Deleting fails the 20 queued requests at once (each gets its error notification)...
    let rx = f.notes_rx;
    let rx = tokio::task::spawn_blocking(move || {
        for _ in 0..20 {
            let n = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!(n.status, AsyncInvocationStatus::Failed);
        }
        rx
    })
    .await
    .unwrap();
    // ...and waits for the running one, which finishes.
    f.probe.release();
    deleting.await.unwrap().unwrap();
    let store = f.session.store();
    assert_eq!(
        store.get_bytes(&sent[0].output_location).await.unwrap(),
        b"hold"
    );
    for r in &sent[1..] {
        let failure = r.failure_location.clone().unwrap();
        let text = String::from_utf8(store.get_bytes(&failure).await.unwrap()).unwrap();
        assert!(
            text.contains("was deleted before the request ran"),
            "{text}"
        );
        assert!(!store.exists(&r.output_location).await.unwrap());
    }
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(60)).unwrap().status,
        AsyncInvocationStatus::Completed
    );
    // Nothing more is accepted.
    let e = b
        .invoke_endpoint_async(InvokeEndpointAsyncRequest::new(
            name.clone(),
            put(&f.session, b"late").await,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
