//! Hosting: models, endpoint configs and endpoints (instance, serverless, async), updates,
//! and `InvokeEndpoint`/`InvokeEndpointAsync` with every header.

use super::*;

#[tokio::test]
async fn deploy_sends_create_model_endpoint_config_and_endpoint() {
    let models = slot();
    let configs = slot();
    let endpoints = slot();
    let (m, c, e) = (models.clone(), configs.clone(), endpoints.clone());
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::describe_training_job)
                .then_output(|| training_job("trained", sm::TrainingJobStatus::Completed, None)),
            mock!(aws_sdk_sagemaker::Client::create_model)
                .match_requests(move |r| {
                    m.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| CreateModelOutput::builder().model_arn("arn:m").build()),
            mock!(aws_sdk_sagemaker::Client::create_endpoint_config)
                .match_requests(move |r| {
                    c.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateEndpointConfigOutput::builder()
                        .endpoint_config_arn("arn:c")
                        .build()
                }),
            mock!(aws_sdk_sagemaker::Client::create_endpoint)
                .match_requests(move |r| {
                    e.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateEndpointOutput::builder()
                        .endpoint_arn("arn:e")
                        .build()
                }),
            mock!(aws_sdk_sagemaker::Client::describe_endpoint)
                .sequence()
                .output(|| {
                    DescribeEndpointOutput::builder()
                        .endpoint_name("ep")
                        .endpoint_status(sm::EndpointStatus::Creating)
                        .build()
                })
                .output(|| {
                    DescribeEndpointOutput::builder()
                        .endpoint_name("ep")
                        .endpoint_config_name("ep")
                        .endpoint_status(sm::EndpointStatus::InService)
                        .build()
                })
                .repeatedly()
                .build(),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    let session = session(&rules);
    let estimator = Estimator::attach_with(
        "trained",
        session.clone(),
        &WaitConfig::default().poll_interval(Duration::from_millis(1)),
    )
    .await
    .unwrap();
    let predictor = estimator
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .endpoint_name("ep")
                .wait_config(WaitConfig::default().poll_interval(Duration::from_millis(1)))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(predictor.endpoint_name(), "ep");

    let models = models.lock().unwrap();
    let model = &models[0];
    assert_eq!(
        model.model_name(),
        Some("ep"),
        "model = endpoint = config name"
    );
    assert_eq!(
        model.execution_role_arn(),
        Some("arn:aws:iam::123456789012:role/SageMakerRole")
    );
    let pc = model.primary_container().unwrap();
    assert_eq!(pc.image(), Some("img"));
    assert_eq!(
        pc.model_data_url(),
        Some(format!("s3://{BUCKET}/trained/output/model.tar.gz").as_str())
    );
    let env = pc.environment().unwrap();
    assert_eq!(env["SAGEMAKER_PROGRAM"], "LogisticRegression.py");
    assert_eq!(
        env["SAGEMAKER_SUBMIT_DIRECTORY"],
        format!("s3://{BUCKET}/trained/source/sourcedir.tar.gz")
    );
    assert_eq!(env["SAGEMAKER_CONTAINER_LOG_LEVEL"], "20");
    assert_eq!(env["SAGEMAKER_REGION"], "us-east-1");
    let vpc = model
        .vpc_config()
        .expect("the job's VPC carries over to its model");
    assert_eq!(vpc.subnets(), ["subnet-9"]);

    let configs = configs.lock().unwrap();
    assert_eq!(configs[0].endpoint_config_name(), Some("ep"));
    let v = &configs[0].production_variants()[0];
    assert_eq!(v.variant_name(), Some("AllTraffic"));
    assert_eq!(v.model_name(), Some("ep"));
    assert_eq!(v.initial_instance_count(), Some(1));
    assert_eq!(
        v.instance_type(),
        Some(&sm::ProductionVariantInstanceType::MlM5Large)
    );
    assert_eq!(v.initial_variant_weight(), Some(1.0));
    let endpoints = endpoints.lock().unwrap();
    assert_eq!(endpoints[0].endpoint_name(), Some("ep"));
    assert_eq!(endpoints[0].endpoint_config_name(), Some("ep"));
}

#[tokio::test]
async fn invoke_endpoint_sends_every_header_and_keeps_model_errors() {
    let seen = slot();
    let s = seen.clone();
    let rules = Rules {
        runtime: vec![
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .match_requests(move |r| {
                    s.lock().unwrap().push(r.clone());
                    r.endpoint_name() == Some("ep")
                })
                .then_output(|| {
                    InvokeEndpointOutput::builder()
                        .body(aws_smithy_types::Blob::new(b"[\"setosa\"]".to_vec()))
                        .content_type("application/json")
                        .invoked_production_variant("AllTraffic")
                        .custom_attributes("")
                        .build()
                }),
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
                .match_requests(|r| r.endpoint_name() == Some("broken"))
                .then_error(|| {
                    InvokeEndpointError::ModelError(
                        aws_sdk_sagemakerruntime::types::error::ModelError::builder()
                            .message("Received client error (400) from primary")
                            .original_status_code(400)
                            .original_message("wrong feature count: expected 4, got 3")
                            .log_stream_arn("arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/broken")
                            .build(),
                    )
                }),
        ],
        ..Rules::default()
    };
    let session = session(&rules);
    let predictor = sagemaker_sklearn::sklearn_predictor(sagemaker_predictor::Predictor::attach(
        "ep",
        session.clone(),
    ))
    .with_options(
        InvokeOptions::new()
            .custom_attributes("trace=1")
            .target_variant("AllTraffic")
            .inference_id("req-7"),
    );
    let labels = predictor
        .predict(&vec![vec![5.1, 3.5, 1.4, 0.2]])
        .await
        .unwrap();
    assert_eq!(labels, serde_json::json!(["setosa"]));
    // A copy: the rule's matcher locks the slot again on the next call.
    let r = seen.lock().unwrap()[0].clone();
    assert_eq!(r.content_type(), Some("text/csv"));
    assert_eq!(r.accept(), Some("application/json"));
    assert_eq!(r.custom_attributes(), Some("trace=1"));
    assert_eq!(r.target_variant(), Some("AllTraffic"));
    assert_eq!(r.inference_id(), Some("req-7"));
    assert_eq!(r.body().unwrap().as_ref(), b"5.1,3.5,1.4,0.2");

    let e = session
        .backend()
        .invoke_endpoint(sagemaker_core::spec::InvokeEndpointRequest::new(
            "broken",
            b"1,2,3".to_vec(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ModelError);
    assert_eq!(e.context("original_status_code"), Some("400"));
    assert_eq!(
        e.context("original_message"),
        Some("wrong feature count: expected 4, got 3")
    );
    assert!(e.context("log_stream_arn").is_some());
}

#[tokio::test]
async fn serverless_and_async_configs_and_invoke_endpoint_async_have_the_api_shapes() {
    use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigInput;
    use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::{
        InvokeEndpointAsyncInput, InvokeEndpointAsyncOutput,
    };
    use sagemaker_core::StorageUri;
    use sagemaker_core::spec::{
        AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceNotificationConfig,
        AsyncNotificationTopicType, EndpointConfigSpec, InvokeEndpointAsyncRequest,
        ProductionVariant, ProductionVariantServerlessConfig,
    };

    let configs: Arc<Mutex<Vec<CreateEndpointConfigInput>>> = slot();
    let invokes: Arc<Mutex<Vec<InvokeEndpointAsyncInput>>> = slot();
    let (c, i) = (configs.clone(), invokes.clone());
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::create_endpoint_config)
                .match_requests(move |r| {
                    c.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateEndpointConfigOutput::builder()
                        .endpoint_config_arn("arn:c")
                        .build()
                }),
        ],
        runtime: vec![
            mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint_async)
                .match_requests(move |r| {
                    i.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    InvokeEndpointAsyncOutput::builder()
                        .inference_id("inf-1")
                        .output_location(format!("s3://{BUCKET}/async/out/inf-1.out"))
                        .failure_location(format!("s3://{BUCKET}/async/failed/inf-1-error.out"))
                        .build()
                }),
        ],
        ..Rules::default()
    };
    let session = session(&rules);
    let mut variant = ProductionVariant {
        variant_name: "AllTraffic".into(),
        model_name: "m".into(),
        initial_instance_count: None,
        instance_type: None,
        initial_variant_weight: 1.0,
        serverless_config: Some(ProductionVariantServerlessConfig {
            memory_size_in_mb: 2048,
            max_concurrency: 5,
            provisioned_concurrency: Some(2),
        }),
    };
    session
        .backend()
        .create_endpoint_config(EndpointConfigSpec {
            endpoint_config_name: "serverless".into(),
            production_variants: vec![variant.clone()],
            async_inference_config: None,
            tags: vec![],
        })
        .await
        .unwrap();
    let notification = AsyncInferenceNotificationConfig {
        success_topic: Some("arn:aws:sns:us-east-1:123456789012:ok".into()),
        error_topic: Some("arn:aws:sns:us-east-1:123456789012:err".into()),
        include_inference_response_in: vec![AsyncNotificationTopicType::SuccessNotificationTopic],
    };
    let mut async_config = AsyncInferenceConfig::default();
    async_config.output_config.s3_output_path = Some(StorageUri::s3(BUCKET, "async/out"));
    async_config.output_config.s3_failure_path = Some(StorageUri::s3(BUCKET, "async/failed"));
    async_config.output_config.notification_config = Some(notification);
    async_config.client_config = Some(AsyncInferenceClientConfig {
        max_concurrent_invocations_per_instance: Some(4),
    });
    variant.serverless_config = None;
    variant.initial_instance_count = Some(1);
    variant.instance_type = Some("ml.m5.large".into());
    session
        .backend()
        .create_endpoint_config(EndpointConfigSpec {
            endpoint_config_name: "async".into(),
            production_variants: vec![variant],
            async_inference_config: Some(async_config),
            tags: vec![],
        })
        .await
        .unwrap();

    let configs = configs.lock().unwrap().clone();
    let v = &configs[0].production_variants()[0];
    assert_eq!(v.instance_type(), None);
    assert_eq!(v.initial_instance_count(), None);
    let sc = v.serverless_config().unwrap();
    assert_eq!(sc.memory_size_in_mb(), Some(2048));
    assert_eq!(sc.max_concurrency(), Some(5));
    assert_eq!(sc.provisioned_concurrency(), Some(2));
    assert!(configs[0].async_inference_config().is_none());
    let a = configs[1].async_inference_config().unwrap();
    let o = a.output_config().unwrap();
    assert_eq!(
        o.s3_output_path(),
        Some(format!("s3://{BUCKET}/async/out").as_str())
    );
    assert_eq!(
        o.s3_failure_path(),
        Some(format!("s3://{BUCKET}/async/failed").as_str())
    );
    let n = o.notification_config().unwrap();
    assert_eq!(
        n.success_topic(),
        Some("arn:aws:sns:us-east-1:123456789012:ok")
    );
    assert_eq!(
        n.error_topic(),
        Some("arn:aws:sns:us-east-1:123456789012:err")
    );
    assert_eq!(
        n.include_inference_response_in(),
        [sm::AsyncNotificationTopicTypes::SuccessNotificationTopic]
    );
    assert_eq!(
        a.client_config()
            .unwrap()
            .max_concurrent_invocations_per_instance(),
        Some(4)
    );

    let mut request =
        InvokeEndpointAsyncRequest::new("ep", StorageUri::s3(BUCKET, "async/in/req-1"));
    request.content_type = Some("text/csv".into());
    request.accept = Some("application/json".into());
    request.inference_id = Some("inf-1".into());
    request.request_ttl_seconds = Some(600);
    request.invocation_timeout_seconds = Some(120);
    let answer = session
        .backend()
        .invoke_endpoint_async(request)
        .await
        .unwrap();
    assert_eq!(answer.inference_id, "inf-1");
    assert_eq!(
        answer.output_location.to_string(),
        format!("s3://{BUCKET}/async/out/inf-1.out")
    );
    assert!(answer.failure_location.is_some());
    let r = invokes.lock().unwrap()[0].clone();
    assert_eq!(r.endpoint_name(), Some("ep"));
    assert_eq!(
        r.input_location(),
        Some(format!("s3://{BUCKET}/async/in/req-1").as_str())
    );
    assert_eq!(r.content_type(), Some("text/csv"));
    assert_eq!(r.accept(), Some("application/json"));
    assert_eq!(r.inference_id(), Some("inf-1"));
    assert_eq!(r.request_ttl_seconds(), Some(600));
    assert_eq!(r.invocation_timeout_seconds(), Some(120));
}

#[tokio::test]
async fn stop_and_update_endpoint_send_their_calls() {
    let stopped = slot();
    let updated = slot();
    let (s, u) = (stopped.clone(), updated.clone());
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::stop_training_job)
                .match_requests(move |r| {
                    s.lock()
                        .unwrap()
                        .push(r.training_job_name().unwrap_or_default().to_string());
                    true
                })
                .then_output(|| StopTrainingJobOutput::builder().build()),
            mock!(aws_sdk_sagemaker::Client::update_endpoint)
                .match_requests(move |r| {
                    u.lock().unwrap().push((
                        r.endpoint_name().unwrap_or_default().to_string(),
                        r.endpoint_config_name().unwrap_or_default().to_string(),
                    ));
                    true
                })
                .then_output(|| {
                    UpdateEndpointOutput::builder()
                        .endpoint_arn("arn:e")
                        .build()
                }),
        ],
        ..Rules::default()
    };
    let session = session(&rules);
    sagemaker_estimator::TrainingJob::new("long-job", session.clone())
        .stop()
        .await
        .unwrap();
    session
        .backend()
        .update_endpoint("ep", "ep-config-2")
        .await
        .unwrap();
    assert_eq!(*stopped.lock().unwrap(), ["long-job"]);
    assert_eq!(
        *updated.lock().unwrap(),
        [("ep".to_string(), "ep-config-2".to_string())]
    );
}
