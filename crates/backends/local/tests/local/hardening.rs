//! Hostile input against the local backend: bad URIs, refused transforms, panicking models.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sagemaker_core::container::{
    Container, ContainerError, Handler, InvocationError, InvocationRequest, InvocationResponse,
    ServingEnv, TrainingEnv,
};
use sagemaker_core::spec::*;
use sagemaker_core::{ErrorKind, Result, Session, StorageUri, WaitConfig, names};
use sagemaker_local::{AsyncNotification, LocalSession};

use sagemaker_test_support::http::{HttpClient, header};

const IMAGE: &str = "hardening";
const BUCKET: &str = "sagemaker-local";

/// A container whose handler panics on a body that starts with `panic`, and otherwise answers
/// the body upper-cased with the request's Accept as its content type.
#[derive(Debug, Clone, Copy)]
struct Hostile;

impl Container for Hostile {
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        std::fs::write(env.paths.model_dir.join("weights"), b"1")
            .map_err(|e| ContainerError::algorithm(e.to_string()))
    }

    fn load(&self, _model_dir: &Path, _env: &ServingEnv) -> Result<Arc<dyn Handler>> {
        Ok(Arc::new(Upper))
    }
}

struct Upper;

impl Handler for Upper {
    fn invoke(
        &self,
        request: &InvocationRequest,
    ) -> std::result::Result<InvocationResponse, InvocationError> {
        if request.body.starts_with(b"panic") {
            panic!(
                "the model cannot read {:?}",
                String::from_utf8_lossy(&request.body)
            );
        }
        Ok(InvocationResponse::new(
            request.body.to_ascii_uppercase(),
            request
                .accept
                .clone()
                .unwrap_or_else(|| "text/plain".into()),
        ))
    }
}

fn session(root: &Path) -> Session {
    LocalSession::builder()
        .root(root)
        .container(IMAGE, Hostile)
        .build()
        .unwrap()
}

/// Creates a model named `name` of the hostile container (no artifact: it needs none).
async fn model(s: &Session, name: &str) {
    s.backend()
        .create_model(ModelSpec {
            vpc_config: None,
            model_name: name.into(),
            primary_container: ContainerDefinition {
                image: IMAGE.into(),
                model_data_url: None,
                environment: BTreeMap::new(),
            },
            execution_role_arn: None,
            tags: vec![],
        })
        .await
        .unwrap();
}

/// Creates an endpoint (and its config) of model `name`, named `name`, and waits for it.
async fn endpoint(s: &Session, name: &str, async_config: Option<AsyncInferenceConfig>) {
    model(s, name).await;
    let b = s.backend();
    b.create_endpoint_config(EndpointConfigSpec {
        endpoint_config_name: name.into(),
        production_variants: vec![ProductionVariant {
            variant_name: "AllTraffic".into(),
            model_name: name.into(),
            initial_instance_count: Some(1),
            instance_type: Some("local".into()),
            initial_variant_weight: 1.0,
            serverless_config: None,
        }],
        async_inference_config: async_config,
        tags: vec![],
    })
    .await
    .unwrap();
    b.create_endpoint(EndpointSpec {
        endpoint_name: name.into(),
        endpoint_config_name: name.into(),
        tags: vec![],
    })
    .await
    .unwrap();
    let d = s.wait_for_endpoint(name, &wait()).await.unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
}

fn transform_spec(
    name: &str,
    model: &str,
    input: &StorageUri,
    output: &StorageUri,
) -> TransformJobSpec {
    TransformJobSpec {
        transform_job_name: name.into(),
        model_name: model.into(),
        max_concurrent_transforms: Some(2),
        max_payload_in_mb: Some(1),
        batch_strategy: Some(BatchStrategy::SingleRecord),
        environment: BTreeMap::new(),
        transform_input: TransformInput {
            data_source: TransformDataSource {
                s3_data_source: TransformS3DataSource {
                    s3_data_type: S3DataType::S3Prefix,
                    s3_uri: input.clone(),
                },
            },
            content_type: Some("text/csv".into()),
            compression_type: CompressionType::None,
            split_type: SplitType::Line,
        },
        transform_output: TransformOutput {
            s3_output_path: output.clone(),
            accept: Some("text/csv".into()),
            assemble_with: AssembleWith::Line,
            kms_key_id: None,
        },
        transform_resources: TransformResources {
            instance_type: "local".into(),
            instance_count: 1,
        },
        data_processing: None,
        tags: vec![],
    }
}

fn wait() -> WaitConfig {
    WaitConfig::default()
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(60))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uris_never_reach_outside_the_store() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    // A file beside the job records, where `s3://../` used to resolve.
    std::fs::write(root.path().join("inroot.tar.gz"), b"secret").unwrap();
    for uri in [
        "s3://../inroot.tar.gz",
        "s3://./s3/x",
        "s3://a..b/x",
        "s3://-ab/x",
        "s3://127.0.0.1/x",
    ] {
        let e = uri.parse::<StorageUri>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{uri}");
    }
    // Built without parsing, the same bucket is still refused by the store.
    let e = s
        .store()
        .get_bytes(&StorageUri::s3("..", "inroot.tar.gz"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    // Keys are opaque: `..` segments are objects of their own inside the bucket.
    let up = StorageUri::s3(BUCKET, "../../inroot.tar.gz");
    let e = s.store().get_bytes(&up).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    s.store().put_bytes(b"mine".to_vec(), &up).await.unwrap();
    assert_eq!(s.store().get_bytes(&up).await.unwrap(), b"mine");
    assert_eq!(
        std::fs::read(root.path().join("inroot.tar.gz")).unwrap(),
        b"secret"
    );
    assert!(
        s.store()
            .local_path(&up)
            .unwrap()
            .starts_with(root.path().join("s3").join(BUCKET))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_with_accept_unlike_content_type_is_refused_before_the_job_starts() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    model(&s, "join-model").await;
    let input = StorageUri::s3(BUCKET, "join/in/");
    s.store()
        .put_bytes(b"1,2\n3,4\n".to_vec(), &input.join("x.csv"))
        .await
        .unwrap();
    let output = StorageUri::s3(BUCKET, "join/out/");
    let name = names::name_from_base("join");
    let mut spec = transform_spec(&name, "join-model", &input, &output);
    spec.transform_output.accept = Some("application/json".into());
    spec.data_processing = Some(DataProcessing {
        input_filter: None,
        output_filter: None,
        join_source: Some(JoinSource::Input),
    });
    let e = s
        .backend()
        .create_transform_job(spec.clone())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.message().contains("Accept ('application/json')"), "{e}");
    assert!(e.message().contains("ContentType ('text/csv')"), "{e}");
    let e = s.backend().describe_transform_job(&name).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "no job was created: {e}");
    assert!(s.store().list(&output).await.unwrap().is_empty());

    // The same join with matching types runs.
    spec.transform_output.accept = Some("text/csv".into());
    s.backend().create_transform_job(spec).await.unwrap();
    let d = s.wait_for_transform_job(&name, &wait()).await.unwrap();
    assert_eq!(
        d.transform_job_status,
        TransformJobStatus::Completed,
        "{:?}",
        d.failure_reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_model_answers_424_and_the_next_request_is_served() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    endpoint(&s, "panics", None).await;
    let addr = s
        .backend()
        .runtime_url()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let path = "/endpoints/panics/invocations";
    let headers = [("Content-Type", "text/plain")];
    let client = HttpClient::new(&addr);
    let (status, head, body) = client.post(path, &headers, b"panic now").await.into_parts();
    assert_eq!(status, 424, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&head, "x-amzn-errortype"), Some("ModelError"));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["OriginalStatusCode"], 500);
    assert!(
        v["OriginalMessage"]
            .as_str()
            .unwrap()
            .contains("the model cannot read \"panic now\""),
        "{v}"
    );
    // The same replica serves the next request.
    for _ in 0..2 {
        let (status, _, body) = client.post(path, &headers, b"fine").await.into_parts();
        assert_eq!(status, 200);
        assert_eq!(body, b"FINE");
    }
    // In process too: a typed ModelError, not a panic in the caller.
    let e = s
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new("panics", b"panic".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelError);
    assert_eq!(e.context("original_status_code"), Some("500"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transform_whose_model_panics_fails_with_the_message_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    model(&s, "panicky").await;
    let input = StorageUri::s3(BUCKET, "panic/in/");
    s.store()
        .put_bytes(b"a\nb\n".to_vec(), &input.join("good.csv"))
        .await
        .unwrap();
    s.store()
        .put_bytes(b"a\npanic here\nc\n".to_vec(), &input.join("bad.csv"))
        .await
        .unwrap();
    let output = StorageUri::s3(BUCKET, "panic/out/");
    let name = names::name_from_base("panic");
    s.backend()
        .create_transform_job(transform_spec(&name, "panicky", &input, &output))
        .await
        .unwrap();
    let d = s.wait_for_transform_job(&name, &wait()).await.unwrap();
    assert_eq!(d.transform_job_status, TransformJobStatus::Failed);
    let reason = d.failure_reason.unwrap();
    assert!(reason.contains("the model panicked"), "{reason}");
    assert!(reason.contains("bad.csv"), "{reason}");
    // The panicking file has no output, half-written or whole; the other file is complete.
    let written: Vec<String> = s
        .store()
        .list(&output)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.uri.to_string())
        .collect();
    assert_eq!(written, [output.join("good.csv.out").to_string()]);
    assert_eq!(
        s.store()
            .get_bytes(&output.join("good.csv.out"))
            .await
            .unwrap(),
        b"A\nB\n"
    );
    let out_dir = s.store().local_path(&output).unwrap();
    let names: Vec<_> = std::fs::read_dir(out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["good.csv.out"], "no temporary file is left behind");
}

fn async_config() -> AsyncInferenceConfig {
    let mut a = AsyncInferenceConfig::default();
    a.output_config.s3_output_path = Some(StorageUri::s3(BUCKET, "async/out"));
    a.output_config.s3_failure_path = Some(StorageUri::s3(BUCKET, "async/failed"));
    a.client_config = Some(AsyncInferenceClientConfig {
        max_concurrent_invocations_per_instance: Some(1),
    });
    a.output_config.notification_config = Some(AsyncInferenceNotificationConfig {
        success_topic: Some("done".into()),
        error_topic: Some("failed".into()),
        include_inference_response_in: vec![],
    });
    a
}

async fn wait_for_object(s: &Session, uri: &StorageUri) -> Vec<u8> {
    let store = s.store();
    wait()
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
async fn async_requests_survive_a_panicking_model_and_a_panicking_callback() {
    let root = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<AsyncNotification>();
    let tx = std::sync::Mutex::new(tx);
    let s = Session::new(
        LocalSession::builder()
            .root(root.path())
            .container(IMAGE, Hostile)
            .on_async_notification(move |n| {
                let _ = tx.lock().unwrap().send(n.clone());
                // The user's callback panics on every message.
                panic!("callback bug for {}", n.inference_id);
            })
            .build_backend()
            .unwrap(),
    );
    // One worker: if a panic killed it, nothing after would be answered.
    endpoint(&s, "async-panics", Some(async_config())).await;
    let mut answers = Vec::new();
    for (i, body) in [&b"panic first"[..], b"second", b"panic third", b"fourth"]
        .into_iter()
        .enumerate()
    {
        let input = StorageUri::s3(BUCKET, format!("async/in/{i}"));
        s.store().put_bytes(body.to_vec(), &input).await.unwrap();
        let r = s
            .backend()
            .invoke_endpoint_async(InvokeEndpointAsyncRequest::new("async-panics", input))
            .await
            .unwrap();
        answers.push(r);
    }
    for (i, r) in answers.iter().enumerate() {
        if i % 2 == 0 {
            let failure = r.failure_location.clone().unwrap();
            let text = String::from_utf8(wait_for_object(&s, &failure).await).unwrap();
            assert!(text.contains("the model panicked"), "{text}");
            assert!(!s.store().exists(&r.output_location).await.unwrap());
        } else {
            let out = wait_for_object(&s, &r.output_location).await;
            assert_eq!(out, if i == 1 { &b"SECOND"[..] } else { b"FOURTH" });
        }
    }
    // Every outcome was offered to the callback, panicking or not.
    let notes: Vec<_> = (0..4)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
        .collect();
    assert_eq!(notes.iter().filter(|n| n.topic == "failed").count(), 2);
}

/// Runs a transform of `object` (one input file) with MaxPayloadInMB 1 and returns its
/// failure reason; checks that no output (whole or partial) is visible.
async fn failed_transform(
    s: &Session,
    object: Vec<u8>,
    split: SplitType,
    compression: CompressionType,
) -> String {
    let base = names::name_from_base("bounded");
    let input = StorageUri::s3(BUCKET, format!("{base}/in/"));
    let output = StorageUri::s3(BUCKET, format!("{base}/out/"));
    s.store()
        .put_bytes(object, &input.join("x.bin"))
        .await
        .unwrap();
    let mut spec = transform_spec(&base, "bounded", &input, &output);
    spec.transform_input.split_type = split;
    spec.transform_input.compression_type = compression;
    spec.transform_input.content_type = Some("application/octet-stream".into());
    spec.transform_output.accept = None;
    // SingleRecord: lines go through the per-record reader (MultiRecord reads blocks).
    spec.batch_strategy = Some(BatchStrategy::SingleRecord);
    s.backend().create_transform_job(spec).await.unwrap();
    let d = s.wait_for_transform_job(&base, &wait()).await.unwrap();
    assert_eq!(d.transform_job_status, TransformJobStatus::Failed);
    assert!(s.store().list(&output).await.unwrap().is_empty());
    if let Some(dir) = s.store().local_path(&output) {
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
    d.failure_reason.unwrap()
}

fn recordio_header(flag: u32, len: u32) -> Vec<u8> {
    let mut h = 0xced7_230a_u32.to_le_bytes().to_vec();
    h.extend_from_slice(&((flag << 29) | len).to_le_bytes());
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_objects_records_and_headers_fail_before_they_are_read_whole() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    model(&s, "bounded").await;
    let limit = "MaxPayloadInMB (1048576 bytes)";

    // A gzip bomb sent whole (SplitType None): 64 MB of zeros in a few dozen KB.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        std::io::Write::write_all(&mut enc, &zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let reason = failed_transform(&s, bomb, SplitType::None, CompressionType::Gzip).await;
    assert!(reason.contains(&format!("larger than {limit}")), "{reason}");

    // One line of 3 MB with no newline.
    let reason = failed_transform(
        &s,
        vec![b'7'; 3 << 20],
        SplitType::Line,
        CompressionType::None,
    )
    .await;
    assert!(
        reason.contains(&format!("record 1 is larger than {limit}")),
        "{reason}"
    );

    // A RecordIO header declaring 500 MB, with 4 bytes of data behind it.
    let mut rec = recordio_header(0, 500 << 20);
    rec.extend_from_slice(b"abcd");
    let reason = failed_transform(&s, rec, SplitType::RecordIO, CompressionType::None).await;
    assert!(reason.contains(&format!("larger than {limit}")), "{reason}");
    assert!(reason.contains("declares 524288000 more bytes"), "{reason}");

    // A split record whose parts (600 KB each) add up past the limit.
    let mut parts = Vec::new();
    for flag in [1, 2, 3] {
        parts.extend_from_slice(&recordio_header(flag, 600 << 10));
        parts.extend_from_slice(&vec![1u8; 600 << 10]);
    }
    let reason = failed_transform(&s, parts, SplitType::RecordIO, CompressionType::None).await;
    assert!(
        reason.contains("declares 614400 more bytes after 614408"),
        "{reason}"
    );

    // The backend still runs a well-formed job afterwards.
    let input = StorageUri::s3(BUCKET, "bounded-ok/in/");
    let output = StorageUri::s3(BUCKET, "bounded-ok/out/");
    s.store()
        .put_bytes(b"ok\n".to_vec(), &input.join("x.csv"))
        .await
        .unwrap();
    let name = names::name_from_base("bounded-ok");
    s.backend()
        .create_transform_job(transform_spec(&name, "bounded", &input, &output))
        .await
        .unwrap();
    s.wait_for_transform_job(&name, &wait()).await.unwrap();
    assert_eq!(
        s.store()
            .get_bytes(&output.join("x.csv.out"))
            .await
            .unwrap(),
        b"OK\n"
    );
}
