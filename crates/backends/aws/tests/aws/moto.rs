//! The public API against a real moto server on 127.0.0.1 (moto's server mode:
//! <https://docs.getmoto.org/en/latest/docs/server_mode.html>): S3 round trips,
//! the control-plane conformance check, and the whole sklearn flow (upload, fit, deploy,
//! predict, transform, attach, delete). `cargo xtask test` starts moto and sets
//! `SAGEMAKER_MOTO_URL`; without it these tests fail and say so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sagemaker_aws::AwsSession;
use sagemaker_core::spec::{EndpointStatus, TrainingJobStatus, TransformJobStatus};
use sagemaker_core::testkit::{self, Profile};
use sagemaker_core::{ErrorKind, Session, StorageUri, WaitConfig, names};
use sagemaker_estimator::{Estimator, FitOptions};
use sagemaker_model::DeployConfig;
use sagemaker_predictor::DeleteEndpoint;
use sagemaker_sklearn::{SKLearn, sklearn_predictor};
use sagemaker_transformer::{TransformArgs, TransformerBuilder};

fn moto_url() -> String {
    std::env::var("SAGEMAKER_MOTO_URL").expect(
        "SAGEMAKER_MOTO_URL is not set: run the tests with `cargo xtask test`, which starts a moto server",
    )
}

/// A hermetic session: static dummy credentials, fixed region, moto's URL, no retries, so
/// nothing reads the environment, ~/.aws or the instance metadata service.
fn session() -> Session {
    AwsSession::builder()
        .region("us-east-1")
        .static_credentials("testing", "testing")
        .endpoint_url(moto_url())
        .max_attempts(1)
        .build()
        .unwrap()
}

fn fast() -> WaitConfig {
    WaitConfig::default()
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(60))
}

/// POSTs JSON to moto's own API (result queues); returns the status code.
fn moto_post(path: &str, json: &serde_json::Value) -> u16 {
    let url = moto_url();
    let host = url.trim_start_matches("http://");
    let body = json.to_string();
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_round_trips_objects_large_and_small() {
    let session = session();
    let store = session.store();
    let bucket = session.default_bucket().await.unwrap();
    assert_eq!(bucket, "sagemaker-us-east-1-123456789012");
    let base = StorageUri::s3(
        &bucket,
        format!("store-test/{}", names::sagemaker_timestamp()),
    );

    store
        .put_bytes(b"hello".to_vec(), &base.join("a.txt"))
        .await
        .unwrap();
    // Over the multipart threshold: uploaded in parts, read back byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..(sagemaker_aws::MULTIPART_THRESHOLD as usize + 1_000_003))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let big_path = dir.path().join("big.bin");
    std::fs::write(&big_path, &big).unwrap();
    store
        .put_file(&big_path, &base.join("sub/big.bin"))
        .await
        .unwrap();
    store
        .put_bytes(
            b"not inside".to_vec(),
            &StorageUri::s3(&bucket, format!("{}x/c.txt", base.key().unwrap())),
        )
        .await
        .unwrap();

    assert_eq!(
        store.get_bytes(&base.join("a.txt")).await.unwrap(),
        b"hello"
    );
    let back = dir.path().join("out/big.bin");
    store
        .get_file(&base.join("sub/big.bin"), &back)
        .await
        .unwrap();
    assert!(
        std::fs::read(&back).unwrap() == big,
        "multipart upload is byte-exact"
    );

    let listed: Vec<_> = store
        .list(&base)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.uri.file_name().unwrap().to_string(), o.size))
        .collect();
    assert_eq!(
        listed,
        [
            ("a.txt".to_string(), 5),
            ("big.bin".to_string(), big.len() as u64)
        ],
        "a prefix lists its own objects only"
    );
    assert!(store.exists(&base.join("a.txt")).await.unwrap());
    store.delete(&base.join("a.txt")).await.unwrap();
    assert!(!store.exists(&base.join("a.txt")).await.unwrap());
    let e = store.get_bytes(&base.join("a.txt")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // download_data keeps paths relative to the prefix.
    let files = session
        .download_data(&base, dir.path().join("dl"))
        .await
        .unwrap();
    assert_eq!(files, [dir.path().join("dl/sub/big.bin")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_control_plane_on_moto() {
    let session = session();
    let ran = testkit::run_profile(
        &session,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        Profile::MockServer,
    )
    .await
    .unwrap();
    assert_eq!(ran, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_and_unimplemented_calls_give_typed_errors() {
    let session = session();
    let e = session
        .backend()
        .describe_training_job("no-such-job-moto")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("no-such-job-moto"), "{e}");
    // moto answers StopTrainingJob with an HTML 500: an error that says so, not a panic.
    let e = session
        .backend()
        .stop_training_job("no-such-job-moto")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
    assert!(e.message().contains("HTTP 500"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sklearn_flow_runs_on_moto() {
    let session = session();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("iris.csv");
    std::fs::write(
        &csv,
        "species,sepal_length,sepal_width,petal_length,petal_width\nsetosa,5.1,3.5,1.4,0.2\nvirginica,6.7,3.1,5.6,2.4\n",
    )
    .unwrap();
    let prefix = format!("flow-{}", names::sagemaker_timestamp());
    let train = session.upload_data(&csv, &prefix).await.unwrap();
    assert_eq!(
        train.to_string(),
        format!("s3://sagemaker-us-east-1-123456789012/{prefix}/iris.csv")
    );

    let estimator = SKLearn::builder()
        .entry_point("RandomForestClassifier")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role("SageMakerRole")
        .hyperparameter("n_estimators", 10)
        .hyperparameter("target", "species")
        .session(session.clone())
        .build()
        .unwrap();
    let job = estimator
        .fit_with(
            train.to_string(),
            FitOptions::new().wait_config(fast()).logs(true),
        )
        .await
        .unwrap();
    let d = job.describe().await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(
        d.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/SageMakerRole")
    );
    assert_eq!(d.hyper_parameters["n_estimators"], "10");
    assert_eq!(
        d.hyper_parameters["sagemaker_program"],
        "\"RandomForestClassifier.py\""
    );
    // The built-in's Python stand-in was uploaded and is a safe, complete archive.
    let source = StorageUri::s3(
        "sagemaker-us-east-1-123456789012",
        format!("{}/source/sourcedir.tar.gz", job.name()),
    );
    let archive = dir.path().join("sourcedir.tar.gz");
    session.store().get_file(&source, &archive).await.unwrap();
    let unpacked = dir.path().join("src");
    sagemaker_core::artifact::extract_file(&archive, &unpacked, Default::default()).unwrap();
    assert!(unpacked.join("RandomForestClassifier.py").is_file());
    assert_eq!(
        std::fs::read_to_string(unpacked.join("sagemaker_sklearn_builtin.py")).unwrap(),
        sagemaker_sklearn::BUILTIN_MODULE
    );
    assert!(
        job.model_data()
            .await
            .unwrap()
            .to_string()
            .ends_with(&format!("{}/output/model.tar.gz", job.name()))
    );

    let endpoint = names::name_from_base("moto-iris");
    let predictor = sklearn_predictor(
        estimator
            .deploy(
                DeployConfig::builder()
                    .initial_instance_count(1)
                    .instance_type("ml.m5.large")
                    .endpoint_name(endpoint.clone())
                    .wait_config(fast())
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap(),
    );
    let described = predictor.describe_endpoint().await.unwrap();
    assert_eq!(described.endpoint_status, EndpointStatus::InService);
    let model = session.backend().describe_model(&endpoint).await.unwrap();
    assert_eq!(
        model.primary_container.environment["SAGEMAKER_PROGRAM"],
        "RandomForestClassifier.py"
    );
    assert_eq!(
        model.primary_container.environment["SAGEMAKER_SUBMIT_DIRECTORY"],
        source.to_string()
    );

    // moto answers invocations from a queue we fill through its API.
    let status = moto_post(
        "/moto-api/static/sagemaker/endpoint-results",
        &serde_json::json!({
            "account_id": "123456789012",
            "region": "us-east-1",
            "results": [{
                "Body": "[\"virginica\"]",
                "ContentType": "application/json",
                "InvokedProductionVariant": "AllTraffic",
                "CustomAttributes": ""
            }]
        }),
    );
    assert_eq!(status, 201);
    let labels = predictor
        .predict(&vec![vec![6.7, 3.1, 5.6, 2.4]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["virginica"]));

    let transformer = estimator
        .transformer(
            TransformerBuilder::default()
                .instance_count(1)
                .instance_type("ml.m5.large")
                .output_path(format!(
                    "s3://sagemaker-us-east-1-123456789012/{prefix}-out"
                )),
        )
        .await
        .unwrap();
    let t = transformer
        .transform(
            &format!("s3://sagemaker-us-east-1-123456789012/{prefix}/"),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(sagemaker_core::spec::SplitType::Line)
                .wait_config(fast()),
        )
        .await
        .unwrap();
    assert_eq!(
        t.describe().await.unwrap().transform_job_status,
        TransformJobStatus::Completed
    );

    let attached = Estimator::attach_with(job.name(), session.clone(), &fast())
        .await
        .unwrap();
    assert_eq!(
        attached
            .config()
            .hyperparameters
            .get("n_estimators")
            .map(String::as_str),
        Some("10")
    );

    predictor.delete_model().await.unwrap();
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
    assert!(
        !session
            .backend()
            .list_endpoints()
            .await
            .unwrap()
            .contains(&endpoint)
    );
    let e = session
        .backend()
        .describe_model(&endpoint)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_and_async_endpoints_on_moto() {
    use sagemaker_model::{AsyncInferenceConfig, Model, ServerlessInferenceConfig};

    let session = session();
    let bucket = session.default_bucket().await.unwrap();
    let model = |name: &str| {
        Model::builder()
            .image_uri(
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            )
            .model_data(format!("s3://{bucket}/models/iris/model.tar.gz"))
            .role("SageMakerRole")
            .name(name)
            .session(session.clone())
            .build()
            .unwrap()
    };

    // Serverless: ServerlessConfig in place of instance type and count.
    let serverless = names::name_from_base("moto-serverless");
    let predictor = model(&serverless)
        .deploy(
            DeployConfig::builder()
                .serverless_inference_config(
                    ServerlessInferenceConfig::builder()
                        .memory_size_in_mb(3072)
                        .max_concurrency(7)
                        .build()
                        .unwrap(),
                )
                .endpoint_name(serverless.clone())
                .wait_config(fast())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let config = session
        .backend()
        .describe_endpoint_config(&serverless)
        .await
        .unwrap();
    let v = &config.production_variants[0];
    assert_eq!(v.instance_type, None);
    assert_eq!(v.initial_instance_count, None);
    let sc = v.serverless_config.expect("ServerlessConfig round-trips");
    assert_eq!((sc.memory_size_in_mb, sc.max_concurrency), (3072, 7));
    predictor.delete_model().await.unwrap();
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();

    // Asynchronous: the config round-trips; predict_async uploads the payload, invokes, and
    // get_result polls S3 for the output or failure object moto writes.
    let name = names::name_from_base("moto-async");
    let predictor = model(&name)
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .endpoint_name(name.clone())
                .async_inference_config(
                    AsyncInferenceConfig::builder()
                        .output_path(format!("s3://{bucket}/async/out"))
                        .failure_path(format!("s3://{bucket}/async/failed"))
                        .max_concurrent_invocations_per_instance(2)
                        .build()
                        .unwrap(),
                )
                .wait_config(fast())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let config = session
        .backend()
        .describe_endpoint_config(&name)
        .await
        .unwrap();
    let a = config
        .async_inference_config
        .expect("AsyncInferenceConfig round-trips");
    assert_eq!(
        a.output_config.s3_output_path.unwrap().to_string(),
        format!("s3://{bucket}/async/out")
    );
    assert_eq!(
        a.client_config
            .unwrap()
            .max_concurrent_invocations_per_instance,
        Some(2)
    );

    let status = moto_post(
        "/moto-api/static/sagemaker/async-endpoint-results",
        &serde_json::json!({
            "account_id": "123456789012",
            "region": "us-east-1",
            "results": [{"data": "[\"setosa\"]"}, {"is_failure": true, "data": "bad row 3"}]
        }),
    );
    assert_eq!(status, 201);
    let ok = predictor
        .predict_async(&b"5.1,3.5,1.4,0.2".to_vec())
        .await
        .unwrap();
    assert_eq!(ok.get_result(Some(&fast())).await.unwrap(), b"[\"setosa\"]");
    let bad = predictor.predict_async(&b"7,7,7".to_vec()).await.unwrap();
    let e = bad.get_result(Some(&fast())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelError, "{e}");
    assert!(e.to_string().contains("bad row 3"), "{e}");
    predictor.delete_model().await.unwrap();
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
}

/// A `#[remote]` call against moto, as far as moto goes: the arguments and the binary are
/// uploaded, the job is created with the remote-function shape, and since moto completes it
/// at once without running anything (so without a model.tar.gz), waiting for the result is
/// a typed `NotFound` naming the missing artifact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_call_on_moto_creates_its_job_and_reports_the_missing_result() {
    sagemaker_remote::init();
    let session = session();
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::fake_linux_binary(dir.path(), 10_000);
    let f = crate::add::function();
    let settings = f
        .settings()
        .unwrap()
        .to_builder()
        .role("arn:aws:iam::123456789012:role/SageMakerRole")
        .executable(&exe)
        .session(session.clone())
        .build()
        .unwrap();
    let exec = sagemaker_remote::RemoteExecutor::builder()
        .settings(settings)
        .build()
        .unwrap();
    let fut = exec.submit(f, (2, 3)).unwrap();
    let job = fut.started().await.unwrap();
    assert_eq!(fut.uploaded_binary_size().await.unwrap(), Some(10_000));

    let d = session.backend().describe_training_job(&job).await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(
        d.algorithm_specification.training_image,
        sagemaker_remote::default_image_uri("us-east-1").unwrap()
    );
    // moto drops Environment from DescribeTrainingJob; `shapes` pins what is sent.
    let algo = &d.algorithm_specification;
    assert_eq!(algo.container_entrypoint[0], "/bin/sh");
    assert_eq!(
        algo.container_entrypoint[3],
        "/opt/ml/input/data/sagemaker_remote_function_bootstrap/remote-fn"
    );
    assert_eq!(
        algo.container_arguments[..2],
        [sagemaker_remote::FUNCTION_FLAG, "aws::add"]
    );
    let channels: Vec<&str> = d
        .input_data_config
        .iter()
        .map(|c| c.channel_name.as_str())
        .collect();
    assert_eq!(
        channels,
        [
            sagemaker_remote::ARGUMENTS_CHANNEL,
            sagemaker_remote::BOOTSTRAP_CHANNEL
        ]
    );
    let bucket = session.default_bucket().await.unwrap();
    let base = StorageUri::s3(&bucket, &job);
    let store = session.store();
    assert!(
        store
            .exists(&base.join("arguments/metadata.json"))
            .await
            .unwrap()
    );
    let uploaded = store
        .get_bytes(&base.join("sagemaker_remote_function_bootstrap/remote-fn"))
        .await
        .unwrap();
    assert_eq!(uploaded.len(), 10_000);

    let e = fut.result(None).await.unwrap_err();
    let e = e.sdk().expect("an SDK error, not the function's");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.message().contains("model.tar.gz") && e.message().contains(&job),
        "{e}"
    );
    exec.shutdown(true).await;
}
