//! The AWS SDK for Rust, through the AWS backend, against the local backend's HTTP server:
//! the wire format of the SageMaker Runtime API as the official client parses it, success and
//! errors (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>).

use std::time::Duration;

use sagemaker_aws::AwsSession;
use sagemaker_core::spec::InvokeEndpointRequest;
use sagemaker_core::{ErrorKind, WaitConfig};
use sagemaker_model::DeployConfig;
use sagemaker_predictor::Predictor;
use sagemaker_sklearn::{SKLearn, SklearnContainer, sklearn_predictor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_aws_sdk_parses_the_local_runtime_server() {
    let root = tempfile::tempdir().unwrap();
    let local = sagemaker_local::LocalSession::builder()
        .root(root.path())
        .container(sagemaker_sklearn::IMAGE_REPOSITORY, SklearnContainer::new())
        .build()
        .unwrap();
    let csv = root.path().join("iris.csv");
    std::fs::write(
        &csv,
        "species,a,b,c,d\nsetosa,5.1,3.5,1.4,0.2\nsetosa,4.9,3.0,1.4,0.2\nvirginica,6.3,3.3,6.0,2.5\nvirginica,5.8,2.7,5.1,1.9\n",
    )
    .unwrap();
    let train = local.upload_data(&csv, "wire").await.unwrap();
    let estimator = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .hyperparameter("target", "species")
        .session(local.clone())
        .build()
        .unwrap();
    estimator.fit(train.to_string()).await.unwrap();
    estimator
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .endpoint_name("wire-iris")
                .wait_config(WaitConfig::default().poll_interval(Duration::from_millis(10)))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let url = local
        .backend()
        .runtime_url()
        .expect("the local server runs once an endpoint exists");

    let aws = AwsSession::builder()
        .region("us-east-1")
        .static_credentials("testing", "testing")
        .endpoint_url(url)
        .max_attempts(1)
        .build()
        .unwrap();
    // Success: the body, content type and variant as the SDK reads them.
    let labels = sklearn_predictor(Predictor::attach("wire-iris", aws.clone()))
        .predict(&vec![vec![6.2, 3.4, 5.4, 2.3], vec![5.0, 3.4, 1.5, 0.2]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["virginica", "setosa"]));
    let mut request = InvokeEndpointRequest::new("wire-iris", b"5.0,3.4,1.5,0.2".to_vec());
    request.content_type = Some("text/csv".into());
    request.accept = Some("text/csv".into());
    let answer = aws.backend().invoke_endpoint(request).await.unwrap();
    assert_eq!(answer.body, b"setosa\n");
    assert_eq!(answer.content_type.as_deref(), Some("text/csv"));
    assert_eq!(
        answer.invoked_production_variant.as_deref(),
        Some("AllTraffic")
    );

    // The model's error: ModelError with its original status and message.
    let mut request = InvokeEndpointRequest::new("wire-iris", b"1,2,3".to_vec());
    request.content_type = Some("text/csv".into());
    let e = aws.backend().invoke_endpoint(request).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelError, "{e}");
    assert_eq!(e.context("original_status_code"), Some("400"), "{e}");
    assert!(
        e.context("original_message")
            .unwrap_or_default()
            .contains('4'),
        "{e}"
    );

    // An unknown endpoint: ValidationError "... not found" becomes NotFound.
    let e = aws
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new(
            "no-such-endpoint",
            b"1".to_vec(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Over 6 MB: 413, refused before the body is read.
    let e = aws
        .backend()
        .invoke_endpoint(InvokeEndpointRequest::new(
            "wire-iris",
            vec![b'1'; 6 * 1024 * 1024 + 1],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PayloadTooLarge, "{e}");
}
