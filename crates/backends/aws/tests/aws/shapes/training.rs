//! Training: `CreateTrainingJob` as the Python SDK sends it, the default bucket, waits,
//! and service errors mapped to kinds with throttling retried.

use super::*;

#[tokio::test]
async fn fit_sends_the_python_sdks_create_training_job() {
    let created: Arc<Mutex<Vec<CreateTrainingJobInput>>> = slot();
    let owners = slot();
    let keys = slot();
    let c = created.clone();
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::create_training_job)
                .match_requests(move |r| {
                    c.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateTrainingJobOutput::builder()
                        .training_job_arn("arn:aws:sagemaker:us-east-1:123456789012:training-job/x")
                        .build()
                }),
        ],
        s3: vec![
            bucket_exists_rule(owners.clone()),
            put_object_rule(keys.clone()),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    let estimator = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role("SageMakerRole")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .subnets(vec!["subnet-0a1b".to_string()])
        .security_group_ids(vec!["sg-0c2d".to_string()])
        .session(session(&rules))
        .build()
        .unwrap();
    let job = estimator
        .fit_with(
            format!("s3://{BUCKET}/iris/train.csv"),
            FitOptions::new().wait(false),
        )
        .await
        .unwrap();
    let name = job.name().to_string();
    assert!(name.starts_with("sagemaker-scikit-learn-"), "{name}");

    let reqs = created.lock().unwrap();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.training_job_name(), Some(name.as_str()));
    let algo = r.algorithm_specification().unwrap();
    assert_eq!(
        algo.training_image(),
        Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    );
    assert_eq!(
        algo.training_input_mode(),
        Some(&sm::TrainingInputMode::File)
    );
    let metrics: Vec<_> = algo
        .metric_definitions()
        .iter()
        .map(|m| m.name().unwrap().to_string())
        .collect();
    assert_eq!(
        metrics,
        [
            "train:accuracy",
            "train:f1",
            "validation:accuracy",
            "validation:f1"
        ]
    );
    assert_eq!(
        r.role_arn(),
        Some("arn:aws:iam::123456789012:role/SageMakerRole"),
        "a bare role name is expanded with the caller's account"
    );
    let ch = &r.input_data_config()[0];
    assert_eq!(ch.channel_name(), Some("training"));
    let src = ch.data_source().unwrap().s3_data_source().unwrap();
    assert_eq!(src.s3_data_type(), Some(&sm::S3DataType::S3Prefix));
    assert_eq!(
        src.s3_uri(),
        Some(format!("s3://{BUCKET}/iris/train.csv").as_str())
    );
    assert_eq!(
        src.s3_data_distribution_type(),
        Some(&sm::S3DataDistribution::FullyReplicated)
    );
    assert_eq!(
        r.output_data_config().unwrap().s3_output_path(),
        Some(format!("s3://{BUCKET}/").as_str())
    );
    let res = r.resource_config().unwrap();
    assert_eq!(res.instance_count(), Some(1));
    assert_eq!(
        res.instance_type(),
        Some(&sm::TrainingInstanceType::MlM5Large)
    );
    assert_eq!(res.volume_size_in_gb(), Some(30));
    assert_eq!(
        r.stopping_condition().unwrap().max_runtime_in_seconds(),
        Some(86_400)
    );
    let hps = r.hyper_parameters().unwrap();
    let source = format!("\"s3://{BUCKET}/{name}/source/sourcedir.tar.gz\"");
    for (k, v) in [
        ("max_iter", "200"),
        ("target", "\"species\""),
        ("sagemaker_program", "\"LogisticRegression.py\""),
        ("sagemaker_submit_directory", source.as_str()),
        ("sagemaker_container_log_level", "20"),
        ("sagemaker_job_name", format!("\"{name}\"").as_str()),
        ("sagemaker_region", "\"us-east-1\""),
    ] {
        assert_eq!(hps.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(hps.len(), 7, "{hps:?}");
    assert!(r.environment().is_none() && r.tags().is_empty());
    let vpc = r.vpc_config().expect("VpcConfig");
    assert_eq!(vpc.subnets(), ["subnet-0a1b"]);
    assert_eq!(vpc.security_group_ids(), ["sg-0c2d"]);

    assert_eq!(
        *keys.lock().unwrap(),
        [format!("s3://{BUCKET}/{name}/source/sourcedir.tar.gz")],
        "the built-in's Python stand-in is uploaded as sourcedir.tar.gz"
    );
    assert_eq!(
        owners.lock().unwrap().first().cloned().flatten().as_deref(),
        Some(ACCOUNT),
        "HeadBucket of the default bucket names the expected owner"
    );
}

#[tokio::test]
async fn the_default_bucket_is_created_when_missing() {
    let created = slot();
    let c = created.clone();
    let rules = Rules {
        s3: vec![
            mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(404).unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                )
            }),
            mock!(aws_sdk_s3::Client::create_bucket)
                .match_requests(move |r| {
                    c.lock()
                        .unwrap()
                        .push(r.bucket().unwrap_or_default().to_string());
                    true
                })
                .then_output(|| {
                    aws_sdk_s3::operation::create_bucket::CreateBucketOutput::builder().build()
                }),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    let session = session(&rules);
    assert_eq!(session.default_bucket().await.unwrap(), BUCKET);
    assert_eq!(session.default_bucket().await.unwrap(), BUCKET, "cached");
    assert_eq!(*created.lock().unwrap(), [BUCKET]);
}

#[tokio::test]
async fn a_default_bucket_owned_by_someone_else_is_a_clear_error() {
    let rules = Rules {
        s3: vec![
            mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(403).unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                )
            }),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    let e = session(&rules).default_bucket().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.message().contains("default_bucket"), "{e}");
}

#[tokio::test]
async fn waiting_follows_the_job_to_completed_or_failed_with_its_reason() {
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::describe_training_job)
                .match_requests(|r| r.training_job_name() == Some("job-ok"))
                .sequence()
                .output(|| training_job("job-ok", sm::TrainingJobStatus::InProgress, None))
                .times(2)
                .output(|| training_job("job-ok", sm::TrainingJobStatus::Completed, None))
                .repeatedly()
                .build(),
            mock!(aws_sdk_sagemaker::Client::describe_training_job)
                .match_requests(|r| r.training_job_name() == Some("job-bad"))
                .then_output(|| {
                    training_job(
                        "job-bad",
                        sm::TrainingJobStatus::Failed,
                        Some("AlgorithmError: column 'species' not found"),
                    )
                }),
            mock!(aws_sdk_sagemaker::Client::describe_training_job)
                .match_requests(|r| r.training_job_name() == Some("job-slow"))
                .then_output(|| training_job("job-slow", sm::TrainingJobStatus::InProgress, None)),
        ],
        logs: vec![
            mock!(aws_sdk_cloudwatchlogs::Client::describe_log_streams)
                .match_requests(|r| {
                    r.log_group_name() == Some("/aws/sagemaker/TrainingJobs")
                        && r.log_stream_name_prefix() == Some("job-bad/")
                })
                .then_output(|| {
                    aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput::builder()
                        .log_streams(
                            aws_sdk_cloudwatchlogs::types::LogStream::builder()
                                .log_stream_name("job-bad/algo-1-1700000000")
                                .build(),
                        )
                        .build()
                }),
            // CloudWatch ends a stream by returning the token it was given and no events.
            mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
                .match_requests(|r| r.next_token() == Some("f/1"))
                .then_output(|| {
                    aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput::builder()
                        .next_forward_token("f/1")
                        .build()
                }),
            mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
                .match_requests(|r| {
                    r.log_stream_name() == Some("job-bad/algo-1-1700000000")
                        && r.next_token().is_none()
                })
                .then_output(|| {
                    let event = |t: i64, m: &str| {
                        aws_sdk_cloudwatchlogs::types::OutputLogEvent::builder()
                            .timestamp(t)
                            .message(m)
                            .build()
                    };
                    aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput::builder()
                        .events(event(2, "ClientError: column 'species' not found"))
                        .events(event(1, "Reading /opt/ml/input/data/training"))
                        .next_forward_token("f/1")
                        .build()
                }),
        ],
        ..Rules::default()
    };
    let session = session(&rules);
    let fast = WaitConfig::default().poll_interval(Duration::from_millis(1));
    let job = sagemaker_estimator::TrainingJob::new("job-ok", session.clone());
    let d = job.wait_with(&fast).await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(
        d.model_artifacts.unwrap().s3_model_artifacts.to_string(),
        format!("s3://{BUCKET}/job-ok/output/model.tar.gz")
    );

    let d = session
        .backend()
        .describe_training_job("job-slow")
        .await
        .unwrap();
    assert!(
        d.model_artifacts.is_none(),
        "an empty S3ModelArtifacts the SDK fills in is absent"
    );

    let e = sagemaker_estimator::TrainingJob::new("job-bad", session.clone())
        .wait_with(&fast)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::JobFailed);
    assert_eq!(
        e.failure_reason(),
        Some("AlgorithmError: column 'species' not found")
    );
    assert_eq!(
        e.log_tail(),
        Some("Reading /opt/ml/input/data/training\nClientError: column 'species' not found"),
        "the tail of the CloudWatch log, events in time order"
    );

    let e = sagemaker_estimator::TrainingJob::new("job-slow", session)
        .wait_with(&fast.clone().timeout(Duration::from_millis(30)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn service_errors_map_to_kinds_and_throttling_is_retried_then_temporary() {
    let throttle = mock!(aws_sdk_sagemaker::Client::describe_training_job)
        .match_requests(|r| r.training_job_name() == Some("busy"))
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .repeatedly()
        .build();
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::describe_training_job)
                .match_requests(|r| r.training_job_name() == Some("missing"))
                .then_error(|| {
                    DescribeTrainingJobError::generic(
                        ErrorMetadata::builder()
                            .code("ValidationException")
                            .message("Could not find training job 'arn:aws:sagemaker:us-east-1:123456789012:training-job/missing'")
                            .build(),
                    )
                }),
            throttle.clone(),
            mock!(aws_sdk_sagemaker::Client::describe_model).then_error(|| {
                aws_sdk_sagemaker::operation::describe_model::DescribeModelError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationException")
                        .message("Could not find model \"arn:aws:sagemaker:us-east-1:123456789012:model/m\".")
                        .build(),
                )
            }),
            mock!(aws_sdk_sagemaker::Client::create_model).then_error(|| {
                aws_sdk_sagemaker::operation::create_model::CreateModelError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationException")
                        .message("Cannot create already existing model \"m\".")
                        .build(),
                )
            }),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    let session = session(&rules);
    let e = session
        .backend()
        .describe_training_job("missing")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.context("operation"), Some("DescribeTrainingJob"));

    let e = session
        .backend()
        .describe_training_job("busy")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Throttled, "{e}");
    assert!(e.is_temporary());
    assert_eq!(throttle.num_calls(), 3, "retried up to the attempt limit");

    let model = Model::builder()
        .image_uri("img")
        .model_data(format!("s3://{BUCKET}/m/model.tar.gz"))
        .role("SageMakerRole")
        .name("m")
        .session(session.clone())
        .build()
        .unwrap();
    let e = session
        .backend()
        .create_model(model.model_spec())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    // Model::create tolerates an existing model, as the Python SDK does: it describes it.
    let e = model.create().await.unwrap_err();
    assert_eq!(e.context("operation"), Some("DescribeModel"), "{e}");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
