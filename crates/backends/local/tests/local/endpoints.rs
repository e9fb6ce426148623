//! Endpoints over HTTP: the runtime API's wire format, models that are loading, hostile
//! artifacts, the per-endpoint container contract, draining, endpoints of dead processes.

use std::time::Duration;

use sagemaker_core::spec::*;
use sagemaker_core::testkit::ConformanceContainer;
use sagemaker_core::{ErrorKind, Session, StorageUri, WaitConfig, names};
use sagemaker_local::LocalSession;
use sagemaker_test_support::http::{HttpClient, header};

use crate::{IMAGE, base_spec, raw, session, write_fixture};

/// Trains the conformance container and deploys its artifact as `endpoint`.
async fn deploy_conformance(
    s: &Session,
    root: &std::path::Path,
    endpoint: &str,
    env: &[(&str, &str)],
) -> StorageUri {
    let data = s
        .upload_data_to(write_fixture(root), "sagemaker-local", "data")
        .await
        .unwrap();
    let job = names::name_from_base("serve");
    s.backend()
        .create_training_job(base_spec(&job, data))
        .await
        .unwrap();
    let d = s
        .wait_for_training_job(&job, &WaitConfig::default())
        .await
        .unwrap();
    let artifact = d.model_artifacts.unwrap().s3_model_artifacts;
    create_endpoint(s, endpoint, &artifact, env).await;
    artifact
}

async fn create_endpoint(s: &Session, endpoint: &str, artifact: &StorageUri, env: &[(&str, &str)]) {
    let b = s.backend();
    b.create_model(ModelSpec {
        vpc_config: None,
        model_name: endpoint.into(),
        primary_container: ContainerDefinition {
            image: IMAGE.into(),
            model_data_url: Some(artifact.clone()),
            environment: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
        execution_role_arn: None,
        tags: vec![],
    })
    .await
    .unwrap();
    b.create_endpoint_config(EndpointConfigSpec {
        endpoint_config_name: endpoint.into(),
        production_variants: vec![ProductionVariant {
            variant_name: "AllTraffic".into(),
            model_name: endpoint.into(),
            initial_instance_count: Some(1),
            instance_type: Some("local".into()),
            initial_variant_weight: 1.0,
            serverless_config: None,
        }],
        async_inference_config: None,
        tags: vec![],
    })
    .await
    .unwrap();
    b.create_endpoint(EndpointSpec {
        endpoint_name: endpoint.into(),
        endpoint_config_name: endpoint.into(),
        tags: vec![],
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_over_http_speaks_the_sagemaker_wire_format() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    deploy_conformance(&s, root.path(), "wire", &[]).await;
    let d = s
        .wait_for_endpoint("wire", &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
    let url = s
        .backend()
        .runtime_url()
        .expect("the server runs once an endpoint exists");
    let addr = url.strip_prefix("http://").unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "binds loopback: {addr}");
    let client = HttpClient::new(&addr);

    // Success: body, Content-Type, the variant and the custom attributes, a request id.
    let (status, h, body) = client
        .post(
            "/endpoints/wire/invocations",
            &[
                ("Content-Type", "text/csv"),
                ("Accept", "application/x-test"),
                ("X-Amzn-SageMaker-Custom-Attributes", "a=1"),
                ("X-Amzn-SageMaker-Inference-Id", "req-7"),
            ],
            b"1,2",
        )
        .await
        .into_parts();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"train.csv|1,2");
    assert_eq!(header(&h, "content-type"), Some("application/x-test"));
    assert_eq!(
        header(&h, "x-amzn-invoked-production-variant"),
        Some("AllTraffic")
    );
    assert_eq!(
        header(&h, "x-amzn-sagemaker-custom-attributes"),
        Some("echo=a=1")
    );
    assert!(header(&h, "x-amzn-requestid").is_some());

    // The container's error becomes a 424 ModelError with the original status and message.
    let (status, h, body) = client
        .post(
            "/endpoints/wire/invocations",
            &[],
            b"status:400:row 3 is bad",
        )
        .await
        .into_parts();
    assert_eq!(status, 424);
    assert_eq!(header(&h, "x-amzn-errortype"), Some("ModelError"));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["OriginalStatusCode"], 400, "a JSON number: {v}");
    assert_eq!(v["OriginalMessage"], "row 3 is bad");
    assert!(
        v["Message"]
            .as_str()
            .unwrap()
            .starts_with("Received client error (400) from primary"),
        "{v}"
    );
    assert!(
        v["LogStreamArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:logs:"),
        "{v}"
    );
    let (status, _, body) = client
        .post("/endpoints/wire/invocations", &[], b"status:500:oops")
        .await
        .into_parts();
    assert_eq!(status, 424);
    assert!(String::from_utf8_lossy(&body).contains("Received server error (500)"));

    // Unknown endpoint: 400 ValidationError, SageMaker's message.
    let (status, h, body) = client
        .post("/endpoints/nope/invocations", &[], b"x")
        .await
        .into_parts();
    assert_eq!(status, 400);
    assert_eq!(header(&h, "x-amzn-errortype"), Some("ValidationError"));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["Message"],
        "Endpoint nope of account 000000000000 not found."
    );

    // Invalid custom attributes: 400 ValidationError (too long).
    let long = "a".repeat(1025);
    let (status, h, _) = client
        .post(
            "/endpoints/wire/invocations",
            &[("X-Amzn-SageMaker-Custom-Attributes", &long)],
            b"x",
        )
        .await
        .into_parts();
    assert_eq!(
        (status, header(&h, "x-amzn-errortype")),
        (400, Some("ValidationError"))
    );

    // A body over 6 MB is refused from its Content-Length, even before it is sent (a head
    // without its body: raw bytes, as a real client would not send it).
    let head = format!(
        "POST /endpoints/wire/invocations HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        6 * 1024 * 1024 + 1
    );
    let (status, _, body) = raw::exchange(&addr, head.into_bytes()).await;
    assert_eq!(status, 413);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["message"], "HTTP content length exceeded 6291456 bytes.");

    // A half-sent request does not block others; the endpoint still answers correctly (a raw
    // stream: a real client would send the whole body).
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut slow,
        b"POST /endpoints/wire/invocations HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
    )
    .unwrap();
    let (status, _, body) = client
        .post("/endpoints/wire/invocations", &[], b"after")
        .await
        .into_parts();
    assert_eq!((status, body), (200, b"train.csv|after".to_vec()));
    drop(slow);

    // The container contract's health check, per endpoint.
    let (status, _, _) = client.get("/endpoints/wire/ping").await.into_parts();
    assert_eq!(status, 200);
    let (status, _, _) = client.get("/endpoints/nope/ping").await.into_parts();
    assert_eq!(status, 404);

    // In process, the same limits give the same kinds of errors.
    let big = InvokeEndpointRequest::new("wire", vec![b'1'; 6 * 1024 * 1024 + 1]);
    let e = s.backend().invoke_endpoint(big).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PayloadTooLarge, "{e}");
    let mut bad_attrs = InvokeEndpointRequest::new("wire", b"x".to_vec());
    bad_attrs.custom_attributes = Some("caf\u{e9}=1".into());
    let e = s.backend().invoke_endpoint(bad_attrs).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.message().contains("not visible ASCII"), "{e}");

    // In process, the same request gives the same bytes.
    let mut r = InvokeEndpointRequest::new("wire", b"1,2".to_vec());
    r.accept = Some("application/x-test".into());
    let answer = s.backend().invoke_endpoint(r).await.unwrap();
    assert_eq!(answer.body, b"train.csv|1,2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loading_model_answers_429_and_two_endpoints_serve_at_once() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let artifact = deploy_conformance(&s, root.path(), "fast", &[]).await;
    create_endpoint(&s, "slow", &artifact, &[("CONFORMANCE_LOAD_MS", "1500")]).await;
    let addr = s
        .backend()
        .runtime_url()
        .unwrap()
        .strip_prefix("http://")
        .unwrap()
        .to_string();
    let client = HttpClient::new(&addr);
    let (status, h, body) = client
        .post("/endpoints/slow/invocations", &[], b"x")
        .await
        .into_parts();
    assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        header(&h, "x-amzn-errortype"),
        Some("ModelNotReadyException")
    );
    let e = s
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new("slow", b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelNotReady);
    assert!(e.is_temporary());
    s.wait_for_endpoint("fast", &WaitConfig::default())
        .await
        .unwrap();
    s.wait_for_endpoint("slow", &WaitConfig::default())
        .await
        .unwrap();
    for name in ["fast", "slow"] {
        let (status, _, body) = client
            .post(
                &format!("/endpoints/{name}/invocations"),
                &[],
                name.as_bytes(),
            )
            .await
            .into_parts();
        assert_eq!(
            (status, body),
            (200, format!("train.csv|{name}").into_bytes())
        );
    }
    let mut listed = s.backend().list_endpoints().await.unwrap();
    listed.sort();
    assert_eq!(listed, ["fast", "slow"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_artifact_fails_the_endpoint_and_writes_nothing_outside() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    // A gzip tarball whose one entry climbs out of the extraction directory.
    let mut header = tar::Header::new_gnu();
    let payload = b"pwned";
    header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"../escaped.tx");
    header.set_size(payload.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    builder.append(&header, &payload[..]).unwrap();
    let bytes = builder.into_inner().unwrap().finish().unwrap();
    let uri: StorageUri = "s3://sagemaker-local/evil/model.tar.gz".parse().unwrap();
    s.store().put_bytes(bytes, &uri).await.unwrap();

    create_endpoint(&s, "evil", &uri, &[]).await;
    let d = s
        .wait_for_endpoint("evil", &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::Failed);
    let reason = d.failure_reason.unwrap();
    assert!(
        reason.contains("../escaped.tx"),
        "the reason names the entry: {reason}"
    );
    let escaped: Vec<_> = walk(root.path())
        .into_iter()
        .filter(|p| p.ends_with("escaped.tx"))
        .collect();
    assert!(escaped.is_empty(), "{escaped:?}");
    let e = s
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new("evil", b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.message().contains("Failed"), "{e}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_endpoint_port_speaks_the_container_contract() {
    let root = tempfile::tempdir().unwrap();
    let backend = LocalSession::builder()
        .root(root.path())
        .container(IMAGE, ConformanceContainer)
        .build_backend()
        .unwrap();
    let s = Session::new(backend.clone());
    deploy_conformance(&s, root.path(), "contract", &[]).await;
    s.wait_for_endpoint("contract", &WaitConfig::default())
        .await
        .unwrap();
    let addr = backend
        .serve_container("contract", "127.0.0.1:0".parse().unwrap())
        .unwrap()
        .to_string();
    let client = HttpClient::new(&addr);
    let (status, _, _) = client.get("/ping").await.into_parts();
    assert_eq!(status, 200);
    let (status, _, body) = client.post("/invocations", &[], b"hi").await.into_parts();
    assert_eq!((status, body), (200, b"train.csv|hi".to_vec()));
    // The container's own status and message, not a 424 ModelError.
    let (status, h, body) = client
        .post("/invocations", &[], b"status:415:no such type")
        .await
        .into_parts();
    assert_eq!((status, body), (415, b"no such type".to_vec()));
    assert_eq!(header(&h, "x-amzn-errortype"), None);
    let e = backend
        .serve_container("missing", "127.0.0.1:0".parse().unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_endpoint_drains_requests_in_flight() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    deploy_conformance(&s, root.path(), "drain", &[]).await;
    s.wait_for_endpoint("drain", &WaitConfig::default())
        .await
        .unwrap();
    let backend = s.backend().clone();
    let slow = tokio::spawn(async move {
        backend
            .invoke_endpoint(InvokeEndpointRequest::new("drain", b"sleep:300".to_vec()))
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.backend().delete_endpoint("drain").await.unwrap();
    // New requests find nothing; the one already running finishes with its answer.
    let e = s
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new("drain", b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let answer = slow.await.unwrap().unwrap();
    assert_eq!(answer.body, b"train.csv|sleep:300");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_whose_process_has_gone_is_not_in_service() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let dir = root.path().join("endpoints/orphan");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let d = EndpointDescription::new(
        "orphan",
        "arn",
        "orphan",
        EndpointStatus::InService,
        time::OffsetDateTime::now_utc(),
    );
    let record = serde_json::json!({ "description": d, "owner": { "pid": pid, "start_ticks": 1 } });
    std::fs::write(
        dir.join("endpoint.json"),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    let seen = s.backend().describe_endpoint("orphan").await.unwrap();
    assert_eq!(seen.endpoint_status, EndpointStatus::Failed);
    assert!(seen.failure_reason.unwrap().contains(&format!("pid {pid}")));
    let e = s
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new("orphan", b"x".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.message().contains("hosted by another process"), "{e}");
}
