//! The exact request of every SageMaker, Runtime, S3 and STS call the SDK makes, pinned
//! field by field against the Python SDK's (<https://sagemaker.readthedocs.io/en/stable/>), with
//! `aws-smithy-mocks`; plus waits, error mapping and retries, which moto cannot show.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sagemaker::operation::create_endpoint::CreateEndpointOutput;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigOutput;
use aws_sdk_sagemaker::operation::create_model::CreateModelOutput;
use aws_sdk_sagemaker::operation::create_training_job::{
    CreateTrainingJobInput, CreateTrainingJobOutput,
};
use aws_sdk_sagemaker::operation::create_transform_job::{
    CreateTransformJobInput, CreateTransformJobOutput,
};
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_training_job::{
    DescribeTrainingJobError, DescribeTrainingJobOutput,
};
use aws_sdk_sagemaker::operation::stop_training_job::StopTrainingJobOutput;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointOutput;
use aws_sdk_sagemaker::types as sm;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::{
    InvokeEndpointError, InvokeEndpointOutput,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;
use sagemaker_aws::AwsSession;
use sagemaker_core::spec::{CompressionType, JoinSource, SplitType, TrainingJobStatus};
use sagemaker_core::{ErrorKind, Session, WaitConfig};
use sagemaker_estimator::{Estimator, FitOptions};
use sagemaker_model::{DeployConfig, Model};
use sagemaker_predictor::InvokeOptions;
use sagemaker_sklearn::SKLearn;
use sagemaker_transformer::{TransformArgs, Transformer};

const ACCOUNT: &str = "123456789012";
const BUCKET: &str = "sagemaker-us-east-1-123456789012";

macro_rules! mocked {
    ($krate:ident, $rules:expr) => {{
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version($krate::config::BehaviorVersion::latest())
                .region($krate::config::Region::new("us-east-1"))
                .credentials_provider($krate::config::Credentials::new(
                    "testing", "testing", None, None, "test",
                ))
                .http_client(aws_smithy_mocks::create_mock_http_client())
                .interceptor(interceptor)
                .retry_config(
                    aws_smithy_types::retry::RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                )
                .build(),
        )
    }};
}

/// Rules per service; empty means "no call to this service is expected".
#[derive(Default)]
struct Rules {
    sagemaker: Vec<Rule>,
    runtime: Vec<Rule>,
    s3: Vec<Rule>,
    sts: Vec<Rule>,
    logs: Vec<Rule>,
}

fn session(rules: &Rules) -> Session {
    AwsSession::builder()
        .region("us-east-1")
        .sagemaker_client(mocked!(aws_sdk_sagemaker, &rules.sagemaker))
        .runtime_client(mocked!(aws_sdk_sagemakerruntime, &rules.runtime))
        .s3_client(mocked!(aws_sdk_s3, &rules.s3))
        .sts_client(mocked!(aws_sdk_sts, &rules.sts))
        .logs_client(mocked!(aws_sdk_cloudwatchlogs, &rules.logs))
        .build()
        .unwrap()
}

/// A slot the matcher of a rule copies each request into.
fn slot<T>() -> Arc<Mutex<Vec<T>>> {
    Arc::new(Mutex::new(Vec::new()))
}

fn sts_rule() -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account(ACCOUNT)
            .arn("arn:aws:sts::123456789012:user/test")
            .build()
    })
}

fn bucket_exists_rule(owners: Arc<Mutex<Vec<Option<String>>>>) -> Rule {
    mock!(aws_sdk_s3::Client::head_bucket)
        .match_requests(move |r| {
            owners
                .lock()
                .unwrap()
                .push(r.expected_bucket_owner().map(str::to_string));
            r.bucket() == Some(BUCKET)
        })
        .then_output(|| aws_sdk_s3::operation::head_bucket::HeadBucketOutput::builder().build())
}

fn put_object_rule(keys: Arc<Mutex<Vec<String>>>) -> Rule {
    mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |r| {
            keys.lock().unwrap().push(format!(
                "s3://{}/{}",
                r.bucket().unwrap_or_default(),
                r.key().unwrap_or_default()
            ));
            true
        })
        .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build())
}

fn training_job(
    name: &str,
    status: sm::TrainingJobStatus,
    reason: Option<&str>,
) -> DescribeTrainingJobOutput {
    DescribeTrainingJobOutput::builder()
        .training_job_name(name)
        .training_job_arn(format!(
            "arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/{name}"
        ))
        .training_job_status(status.clone())
        .secondary_status(match status {
            sm::TrainingJobStatus::Completed => sm::SecondaryStatus::Completed,
            sm::TrainingJobStatus::Failed => sm::SecondaryStatus::Failed,
            _ => sm::SecondaryStatus::Training,
        })
        .set_failure_reason(reason.map(str::to_string))
        .role_arn("arn:aws:iam::123456789012:role/SageMakerRole")
        .vpc_config(
            sm::VpcConfig::builder()
                .subnets("subnet-9")
                .security_group_ids("sg-9")
                .build(),
        )
        .algorithm_specification(
            sm::AlgorithmSpecification::builder()
                .training_image("img")
                .training_input_mode(sm::TrainingInputMode::File)
                .build(),
        )
        .output_data_config(
            sm::OutputDataConfig::builder()
                .s3_output_path(format!("s3://{BUCKET}/"))
                .build(),
        )
        .model_artifacts(
            sm::ModelArtifacts::builder()
                // What the SDK fills in while a job has no artifact yet.
                .s3_model_artifacts(if status == sm::TrainingJobStatus::Completed {
                    format!("s3://{BUCKET}/{name}/output/model.tar.gz")
                } else {
                    String::new()
                })
                .build(),
        )
        .hyper_parameters("sagemaker_program", "\"LogisticRegression.py\"")
        .hyper_parameters(
            "sagemaker_submit_directory",
            format!("\"s3://{BUCKET}/{name}/source/sourcedir.tar.gz\""),
        )
        .creation_time(aws_smithy_types::DateTime::from_secs(1_700_000_000))
        .build()
}

fn iris_estimator(session: Session) -> Estimator<SKLearn> {
    SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role("SageMakerRole")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .session(session)
        .build()
        .unwrap()
}

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
async fn transform_sends_every_field_including_data_processing() {
    let seen: Arc<Mutex<Vec<CreateTransformJobInput>>> = slot();
    let s = seen.clone();
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::create_transform_job)
                .match_requests(move |r| {
                    s.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateTransformJobOutput::builder()
                        .transform_job_arn("arn:t")
                        .build()
                }),
        ],
        ..Rules::default()
    };
    let session = session(&rules);
    let transformer = Transformer::builder()
        .model_name("iris-model")
        .instance_count(2)
        .instance_type("ml.m5.xlarge")
        .strategy(sagemaker_core::spec::BatchStrategy::MultiRecord)
        .assemble_with(sagemaker_core::spec::AssembleWith::Line)
        .output_path(format!("s3://{BUCKET}/batch-out"))
        .accept("text/csv")
        .max_concurrent_transforms(4)
        .max_payload(6)
        .env("LOG", "1")
        .tag("team", "ml")
        .session(session)
        .build()
        .unwrap();
    transformer
        .transform(
            &format!("s3://{BUCKET}/batch-in/"),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .compression_type(CompressionType::Gzip)
                .input_filter("$[1:]")
                .output_filter("$[0,-1]")
                .join_source(JoinSource::Input)
                .job_name("batch-1")
                .wait(false),
        )
        .await
        .unwrap();
    let r = &seen.lock().unwrap()[0];
    assert_eq!(r.transform_job_name(), Some("batch-1"));
    assert_eq!(r.model_name(), Some("iris-model"));
    assert_eq!(r.max_concurrent_transforms(), Some(4));
    assert_eq!(r.max_payload_in_mb(), Some(6));
    assert_eq!(r.batch_strategy(), Some(&sm::BatchStrategy::MultiRecord));
    assert_eq!(r.environment().unwrap()["LOG"], "1");
    let input = r.transform_input().unwrap();
    let src = input.data_source().unwrap().s3_data_source().unwrap();
    assert_eq!(src.s3_data_type(), Some(&sm::S3DataType::S3Prefix));
    assert_eq!(
        src.s3_uri(),
        Some(format!("s3://{BUCKET}/batch-in/").as_str())
    );
    assert_eq!(input.content_type(), Some("text/csv"));
    assert_eq!(input.compression_type(), Some(&sm::CompressionType::Gzip));
    assert_eq!(input.split_type(), Some(&sm::SplitType::Line));
    let output = r.transform_output().unwrap();
    assert_eq!(
        output.s3_output_path(),
        Some(format!("s3://{BUCKET}/batch-out").as_str())
    );
    assert_eq!(output.accept(), Some("text/csv"));
    assert_eq!(output.assemble_with(), Some(&sm::AssemblyType::Line));
    let res = r.transform_resources().unwrap();
    assert_eq!(res.instance_count(), Some(2));
    assert_eq!(
        res.instance_type(),
        Some(&sm::TransformInstanceType::MlM5Xlarge)
    );
    let dp = r.data_processing().unwrap();
    assert_eq!(dp.input_filter(), Some("$[1:]"));
    assert_eq!(dp.output_filter(), Some("$[0,-1]"));
    assert_eq!(dp.join_source(), Some(&sm::JoinSource::Input));
    assert_eq!(r.tags()[0].key(), Some("team"));
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

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let rules = Rules {
        sts: vec![sts_rule()],
        s3: vec![bucket_exists_rule(slot())],
        ..Rules::default()
    };
    let session = session(&rules);

    // Half a VPC.
    let e = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .subnets(vec!["subnet-1".to_string()])
        .session(session.clone())
        .build()
        .unwrap_err();
    assert_eq!(e.context("field"), Some("security_group_ids"), "{e}");

    // A role that is neither a role name nor a role ARN.
    for role in ["arn:aws:iam::123456789012:user/alice", "my role"] {
        let e = SKLearn::builder()
            .entry_point("LogisticRegression")
            .framework_version("1.2-1")
            .instance_type("ml.m5.large")
            .role(role)
            .session(session.clone())
            .build()
            .unwrap()
            .fit_with(
                format!("s3://{BUCKET}/d.csv"),
                FitOptions::new().wait(false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{role}: {e}");
        assert_eq!(e.context("field"), Some("role"));
    }

    // file:// data on the AWS backend.
    let e = iris_estimator(session.clone())
        .fit_with("file:///tmp/iris.csv", FitOptions::new().wait(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.message().contains("file:///tmp/iris.csv"), "{e}");

    // s3:// URIs with invalid buckets: refused by the URI parser, or by S3's stricter rules.
    let e = iris_estimator(session.clone())
        .fit_with("s3://Bad_Bucket/iris.csv", FitOptions::new().wait(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("Bad_Bucket"), "{e}");
    for bucket in ["my..bucket", "-bucket", "10.0.0.1"] {
        let e = iris_estimator(session.clone())
            .fit_with(
                format!("s3://{bucket}/iris.csv"),
                FitOptions::new().wait(false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bucket}: {e}");
        assert!(
            e.message().contains("not a valid S3 bucket name"),
            "{bucket}: {e}"
        );
    }

    // An entry point missing from source_dir.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.py"), "print(1)\n").unwrap();
    let e = SKLearn::builder()
        .entry_point("train.py")
        .source_dir(dir.path().to_str().unwrap())
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role("SageMakerRole")
        .session(session.clone())
        .build()
        .unwrap()
        .fit_with(
            format!("s3://{BUCKET}/d.csv"),
            FitOptions::new().wait(false),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.message()
            .contains("No file named \"train.py\" was found in directory"),
        "{e}"
    );
}

/// A `model.tar.gz` holding what the remote-function job writes into `SM_MODEL_DIR`:
/// `{kind}/payload.json` and `{kind}/metadata.json`, written by `crate::add`.
fn remote_artifact(kind: &str, payload: &[u8]) -> Vec<u8> {
    let f = crate::add::function();
    let who = sagemaker_remote::payload::Identity {
        function: f.name(),
        binary_version: f.binary_version(),
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(model.join(kind)).unwrap();
    std::fs::write(model.join(kind).join("payload.json"), payload).unwrap();
    std::fs::write(
        model.join(kind).join("metadata.json"),
        serde_json::to_vec(&sagemaker_remote::payload::metadata_for(payload, who)).unwrap(),
    )
    .unwrap();
    let tar = dir.path().join("model.tar.gz");
    sagemaker_core::artifact::pack_dir(&model, &tar).unwrap();
    std::fs::read(tar).unwrap()
}

/// The rules of one remote call on AWS whose job completes with `artifact` as its
/// `model.tar.gz`: what was created, which objects were put, which were got.
struct RemoteCall {
    rules: Rules,
    created: Arc<Mutex<Vec<CreateTrainingJobInput>>>,
    put: Arc<Mutex<Vec<String>>>,
    got: Arc<Mutex<Vec<String>>>,
}

fn remote_call(artifact: Vec<u8>) -> RemoteCall {
    let created: Arc<Mutex<Vec<CreateTrainingJobInput>>> = slot();
    let put = slot();
    let got: Arc<Mutex<Vec<String>>> = slot();
    let (c, d, g) = (created.clone(), created.clone(), got.clone());
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
            // The job of the last create, completed (with its model.tar.gz under the default
            // bucket's `{job}/output/`).
            mock!(aws_sdk_sagemaker::Client::describe_training_job).then_output(move || {
                let name = d
                    .lock()
                    .unwrap()
                    .last()
                    .unwrap()
                    .training_job_name()
                    .unwrap()
                    .to_string();
                training_job(&name, sm::TrainingJobStatus::Completed, None)
            }),
        ],
        s3: vec![
            bucket_exists_rule(slot()),
            put_object_rule(put.clone()),
            // No payload under `{job}/results/` or `{job}/exception/` yet.
            mock!(aws_sdk_s3::Client::head_object).then_http_response(|| {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(404).unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                )
            }),
            mock!(aws_sdk_s3::Client::get_object)
                .match_requests(move |r| {
                    g.lock().unwrap().push(format!(
                        "s3://{}/{}",
                        r.bucket().unwrap_or_default(),
                        r.key().unwrap_or_default()
                    ));
                    r.key().is_some_and(|k| k.ends_with("/output/model.tar.gz"))
                })
                .then_output(move || {
                    aws_sdk_s3::operation::get_object::GetObjectOutput::builder()
                        .body(aws_sdk_s3::primitives::ByteStream::from(artifact.clone()))
                        .build()
                }),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    RemoteCall {
        rules,
        created,
        put,
        got,
    }
}

/// A `#[remote]` call on AWS: the `CreateTrainingJob` it sends (the default scikit-learn
/// image, the uploaded binary run through `/bin/sh -c`, the arguments and binary channels,
/// role, output path, environment with the binary's size, tags, limits), then the result read
/// back from the job's `model.tar.gz` and copied to `{s3_root_uri}/{job}/results/`.
#[tokio::test]
async fn a_remote_call_sends_create_training_job_and_reads_its_model_tar_gz() {
    sagemaker_remote::init();
    let call = remote_call(remote_artifact("results", b"5"));
    let session = session(&call.rules);
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::fake_linux_binary(dir.path(), 4096);
    let f = crate::add::function();
    let settings = f
        .settings()
        .unwrap()
        .to_builder()
        .role("arn:aws:iam::123456789012:role/SageMakerRole")
        .executable(&exe)
        .session(session)
        .build()
        .unwrap();
    assert_eq!(f.call_with(&settings, (2, 3)).await.unwrap(), 5);

    let created = call.created.lock().unwrap();
    assert_eq!(created.len(), 1);
    let r = &created[0];
    let job = r.training_job_name().unwrap();
    assert!(job.starts_with("add-"), "{job}");
    let algo = r.algorithm_specification().unwrap();
    assert_eq!(
        algo.training_image(),
        Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    );
    assert_eq!(
        algo.training_input_mode(),
        Some(&sm::TrainingInputMode::File)
    );
    assert_eq!(
        algo.container_entrypoint(),
        [
            "/bin/sh",
            "-c",
            "chmod +x \"$0\" && exec \"$0\" \"$@\"",
            "/opt/ml/input/data/sagemaker_remote_function_bootstrap/remote-fn"
        ]
    );
    assert_eq!(
        algo.container_arguments(),
        [
            "--sagemaker-remote-function",
            "aws::add",
            "--binary-version",
            &format!("sagemaker-aws@{}", env!("CARGO_PKG_VERSION"))
        ]
    );
    assert_eq!(
        r.role_arn(),
        Some("arn:aws:iam::123456789012:role/SageMakerRole")
    );
    let channels: Vec<(&str, &str)> = r
        .input_data_config()
        .iter()
        .map(|c| {
            let s3 = c.data_source().unwrap().s3_data_source().unwrap();
            assert_eq!(s3.s3_data_type(), Some(&sm::S3DataType::S3Prefix));
            assert_eq!(
                s3.s3_data_distribution_type(),
                Some(&sm::S3DataDistribution::FullyReplicated)
            );
            (c.channel_name().unwrap(), s3.s3_uri().unwrap())
        })
        .collect();
    let arguments = format!("s3://{BUCKET}/{job}/arguments");
    let bootstrap = format!("s3://{BUCKET}/{job}/sagemaker_remote_function_bootstrap");
    assert_eq!(
        channels,
        [
            ("arguments", arguments.as_str()),
            ("sagemaker_remote_function_bootstrap", bootstrap.as_str())
        ]
    );
    assert_eq!(
        r.output_data_config().unwrap().s3_output_path(),
        Some(format!("s3://{BUCKET}/").as_str())
    );
    let res = r.resource_config().unwrap();
    assert_eq!(
        res.instance_type(),
        Some(&sm::TrainingInstanceType::MlM5Xlarge)
    );
    assert_eq!(res.instance_count(), Some(1));
    assert_eq!(res.volume_size_in_gb(), Some(30));
    assert_eq!(
        r.stopping_condition().unwrap().max_runtime_in_seconds(),
        Some(86_400)
    );
    let env: Vec<(&str, &str)> = r
        .environment()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    assert_eq!(
        env,
        [
            ("MODE", "fast"),
            ("SAGEMAKER_REMOTE_BINARY_SIZE", "4096"),
            ("SAGEMAKER_REMOTE_FUNCTION_NAME", "aws::add"),
        ]
    );
    let tags: Vec<(&str, &str)> = r
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags, [("team", "ml")]);
    assert!(r.hyper_parameters().is_none_or(|h| h.is_empty()));

    // Uploads: the arguments (payload first), the binary; then the result copied from the
    // artifact to where get_future and other readers look for it.
    let put = call.put.lock().unwrap();
    let key = |rest: &str| format!("s3://{BUCKET}/{job}/{rest}");
    assert_eq!(
        *put,
        [
            key("arguments/payload.json"),
            key("arguments/metadata.json"),
            key("sagemaker_remote_function_bootstrap/remote-fn"),
            key("results/payload.json"),
            key("results/metadata.json"),
        ]
    );
    assert_eq!(*call.got.lock().unwrap(), [key("output/model.tar.gz")]);
}

/// On AWS a function's own error completes the job with the exception payload in its
/// output: it comes back as the function's `E`. A payload that fails its SHA-256 check is
/// refused.
#[tokio::test]
async fn a_remote_functions_error_and_a_tampered_result_come_back_typed() {
    sagemaker_remote::init();
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::fake_linux_binary(dir.path(), 64);
    let f = crate::add::function();
    let settings = |session: Session| {
        f.settings()
            .unwrap()
            .to_builder()
            .role("arn:aws:iam::123456789012:role/SageMakerRole")
            .executable(&exe)
            .session(session)
            .build()
            .unwrap()
    };

    let exc =
        serde_json::to_vec(&serde_json::json!({"Function": "9223372036854775807 + 1 overflows"}))
            .unwrap();
    let call = remote_call(remote_artifact("exception", &exc));
    let e = f
        .call_with(&settings(session(&call.rules)), (i64::MAX, 1))
        .await
        .unwrap_err();
    assert_eq!(
        e.into_function().as_deref(),
        Some("9223372036854775807 + 1 overflows")
    );
    assert!(
        call.put
            .lock()
            .unwrap()
            .iter()
            .any(|k| k.ends_with("/exception/metadata.json")),
        "the exception is copied next to the arguments"
    );

    // The metadata says "5", the payload is "6".
    let mut tampered = remote_artifact("results", b"5");
    {
        let d = tempfile::tempdir().unwrap();
        let tar = d.path().join("m.tar.gz");
        std::fs::write(&tar, &tampered).unwrap();
        let out = d.path().join("m");
        sagemaker_core::artifact::extract_file(&tar, &out, Default::default()).unwrap();
        std::fs::write(out.join("results/payload.json"), b"6").unwrap();
        sagemaker_core::artifact::pack_dir(&out, &tar.with_extension("2")).unwrap();
        tampered = std::fs::read(tar.with_extension("2")).unwrap();
    }
    let call = remote_call(tampered);
    let e = f
        .call_with(&settings(session(&call.rules)), (2, 3))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::Serialization), "{e}");
    assert!(e.to_string().contains("integrity check failed"), "{e}");
    assert!(
        !call
            .put
            .lock()
            .unwrap()
            .iter()
            .any(|k| k.contains("/results/")),
        "a refused payload is not copied"
    );
}
