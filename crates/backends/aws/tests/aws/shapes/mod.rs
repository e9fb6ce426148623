//! The exact request of every SageMaker, Runtime, S3 and STS call the SDK makes, pinned
//! field by field against the Python SDK's (`sagemaker-semantics.md` §2), with
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

mod hosting;
mod remote;
mod training;
mod transform;
mod validation;
