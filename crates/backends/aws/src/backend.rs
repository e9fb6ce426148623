//! [`AwsBackend`]: the [`Backend`] trait forwarded to the AWS SDK for Rust.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sagemaker::types as sm;
use sagemaker_core::error::context;
use sagemaker_core::spec::*;
use sagemaker_core::{ArtifactStore, Backend, Capability, Error, ErrorKind, Result};
use tokio::sync::OnceCell;

use crate::convert::*;
use crate::error::map;
use crate::paginate;
use crate::s3::S3Store;

pub(crate) struct Clients {
    pub(crate) region: String,
    pub(crate) sagemaker: aws_sdk_sagemaker::Client,
    pub(crate) runtime: aws_sdk_sagemakerruntime::Client,
    pub(crate) store: Arc<S3Store>,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) default_bucket: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) log_poll_interval: Duration,
}

/// The AWS backend: SageMaker, SageMaker Runtime, S3, STS and CloudWatch Logs.
///
/// Built by [`crate::AwsSession`]; cheap to share behind the `Session`'s `Arc`.
pub struct AwsBackend {
    c: Clients,
    account: OnceCell<String>,
    bucket: OnceCell<String>,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the clients: their configs hold the credentials provider.
        f.debug_struct("AwsBackend")
            .field("region", &self.c.region)
            .finish_non_exhaustive()
    }
}

impl AwsBackend {
    pub(crate) fn new(c: Clients) -> Self {
        let account = OnceCell::new_with(c.account_id.clone());
        AwsBackend {
            c,
            account,
            bucket: OnceCell::new(),
        }
    }

    /// The SageMaker client.
    pub fn sagemaker_client(&self) -> &aws_sdk_sagemaker::Client {
        &self.c.sagemaker
    }

    /// The S3 client.
    pub fn s3_client(&self) -> &aws_sdk_s3::Client {
        self.c.store.client()
    }

    /// How often log tailing polls CloudWatch Logs.
    pub fn log_poll_interval(&self) -> Duration {
        self.c.log_poll_interval
    }

    /// The account id (STS `GetCallerIdentity`, asked once).
    pub async fn account_id(&self) -> Result<String> {
        self.account
            .get_or_try_init(|| async {
                let out = self
                    .c
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| map("GetCallerIdentity", "", e))?;
                out.account()
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| Error::new(ErrorKind::Internal, "STS returned no account id"))
            })
            .await
            .cloned()
    }

    /// The ARN partition of the region (`aws`, `aws-cn`, `aws-us-gov`).
    fn partition(&self) -> &'static str {
        partition(&self.c.region)
    }

    /// A role as SageMaker wants it: a role ARN as is, a bare role name expanded to
    /// `arn:{partition}:iam::{account}:role/{name}`; anything else is an error.
    pub async fn expand_role(&self, role: Option<&str>, what: &str) -> Result<String> {
        let Some(role) = role.filter(|r| !r.is_empty()) else {
            return Err(Error::invalid_config(
                "role",
                format!(
                    "{what} on AWS needs an IAM execution role: set `role` to a role name or \
                     arn:aws:iam::ACCOUNT:role/NAME"
                ),
            ));
        };
        if role.starts_with("arn:") {
            return if is_role_arn(role) {
                Ok(role.to_string())
            } else {
                Err(Error::invalid_config(
                    "role",
                    format!("'{role}' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
                ))
            };
        }
        if !is_role_name(role) {
            return Err(Error::invalid_config(
                "role",
                format!(
                    "'{role}' is neither an IAM role name (1-64 of letters, digits and +=,.@_-) \
                     nor a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
                ),
            ));
        }
        let account = self.account_id().await?;
        Ok(format!(
            "arn:{}:iam::{account}:role/{role}",
            self.partition()
        ))
    }

    /// Checks a training job's name and storage URIs and returns its expanded role.
    async fn checked_training_role(&self, spec: &TrainingJobSpec) -> Result<String> {
        for c in &spec.input_data_config {
            s3_uri(&c.data_source.s3_data_source.s3_uri)?;
        }
        s3_uri(&spec.output_data_config.s3_output_path)?;
        self.expand_role(spec.role_arn.as_deref(), "a training job")
            .await
    }
}

pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|rest| !rest.is_empty() && rest.split('/').all(|p| !p.is_empty()))
}

#[async_trait]
impl Backend for AwsBackend {
    fn name(&self) -> &str {
        "aws"
    }

    fn capabilities(&self) -> Capability {
        Capability::none()
            .with_training(true)
            .with_python_scripts(true)
            .with_endpoints(true)
            .with_batch_transform(true)
            .with_serverless(true)
            .with_async_inference(true)
            .with_file_uris(false)
    }

    fn region(&self) -> &str {
        &self.c.region
    }

    fn store(&self) -> Arc<dyn ArtifactStore> {
        self.c.store.clone()
    }

    /// `sagemaker-{region}-{account}` (or the configured bucket), created when missing as
    /// the Python SDK does: `HeadBucket` with the expected owner, `CreateBucket` on 404,
    /// a clear error when someone else owns it.
    async fn default_bucket(&self) -> Result<String> {
        self.bucket
            .get_or_try_init(|| async {
                let (bucket, owner) = match &self.c.default_bucket {
                    Some(b) => (b.clone(), None),
                    None => {
                        let account = self.account_id().await?;
                        (
                            format!("sagemaker-{}-{account}", self.c.region),
                            Some(account),
                        )
                    }
                };
                let s3 = self.c.store.client();
                let head = s3
                    .head_bucket()
                    .bucket(&bucket)
                    .set_expected_bucket_owner(owner.clone())
                    .send()
                    .await;
                match head {
                    Ok(_) => return Ok(bucket),
                    Err(e) => {
                        let status = e.raw_response().map(|r| r.status().as_u16());
                        if status == Some(403) {
                            return Err(Error::new(
                                ErrorKind::Validation,
                                format!(
                                    "the default bucket '{bucket}' exists but this account cannot use it \
                                     (owned by another account, or access is denied); pass your own \
                                     bucket with AwsSession::builder().default_bucket(..)"
                                ),
                            )
                            .with_context(context::RESOURCE, bucket.clone()));
                        }
                        let err = map("HeadBucket", &bucket, e);
                        if err.kind() != ErrorKind::NotFound {
                            return Err(err);
                        }
                    }
                }
                let mut create = s3.create_bucket().bucket(&bucket);
                if self.c.region != "us-east-1" {
                    create = create.create_bucket_configuration(
                        aws_sdk_s3::types::CreateBucketConfiguration::builder()
                            .location_constraint(self.c.region.as_str().into())
                            .build(),
                    );
                }
                match create.send().await {
                    Ok(_) => {}
                    Err(e) => {
                        let code = e
                            .as_service_error()
                            .and_then(|s| aws_sdk_s3::error::ProvideErrorMetadata::code(s))
                            .map(str::to_string);
                        // Another process of ours created it meanwhile: fine.
                        if code.as_deref() != Some("BucketAlreadyOwnedByYou") {
                            return Err(map("CreateBucket", &bucket, e));
                        }
                    }
                }
                tracing::info!(bucket = %bucket, "created the default bucket");
                Ok(bucket)
            })
            .await
            .cloned()
    }

    async fn validate_training_job(&self, spec: &TrainingJobSpec) -> Result<()> {
        self.checked_training_role(spec).await.map(|_| ())
    }

    async fn create_training_job(&self, spec: TrainingJobSpec) -> Result<TrainingJobDescription> {
        let role = self.checked_training_role(&spec).await?;
        let mut spec = spec;
        spec.role_arn = Some(role.clone());
        let algo = &spec.algorithm_specification;
        let metric_definitions: Vec<sm::MetricDefinition> = algo
            .metric_definitions
            .iter()
            .map(|m| {
                sm::MetricDefinition::builder()
                    .name(&m.name)
                    .regex(&m.regex)
                    .build()
            })
            .collect();
        let channels = spec
            .input_data_config
            .iter()
            .map(channel)
            .collect::<Result<Vec<_>>>()?;
        let out = self
            .c
            .sagemaker
            .create_training_job()
            .training_job_name(&spec.training_job_name)
            .algorithm_specification(
                sm::AlgorithmSpecification::builder()
                    .training_image(&algo.training_image)
                    .training_input_mode(algo.training_input_mode.as_str().into())
                    .set_metric_definitions(
                        (!metric_definitions.is_empty()).then_some(metric_definitions),
                    )
                    .set_container_entrypoint(
                        (!algo.container_entrypoint.is_empty())
                            .then(|| algo.container_entrypoint.clone()),
                    )
                    .set_container_arguments(
                        (!algo.container_arguments.is_empty())
                            .then(|| algo.container_arguments.clone()),
                    )
                    .build(),
            )
            .role_arn(role)
            .set_input_data_config((!channels.is_empty()).then_some(channels))
            .output_data_config(
                sm::OutputDataConfig::builder()
                    .s3_output_path(s3_uri(&spec.output_data_config.s3_output_path)?)
                    .set_kms_key_id(spec.output_data_config.kms_key_id.clone())
                    .build(),
            )
            .resource_config(
                sm::ResourceConfig::builder()
                    .instance_count(count(spec.resource_config.instance_count))
                    .instance_type(spec.resource_config.instance_type.as_str().into())
                    .volume_size_in_gb(count(spec.resource_config.volume_size_in_gb))
                    .build(),
            )
            .stopping_condition(
                sm::StoppingCondition::builder()
                    .max_runtime_in_seconds(
                        i32::try_from(spec.stopping_condition.max_runtime_in_seconds)
                            .unwrap_or(i32::MAX),
                    )
                    .build(),
            )
            .set_hyper_parameters(to_map(&spec.hyper_parameters))
            .set_environment(to_map(&spec.environment))
            .set_vpc_config(spec.vpc_config.as_ref().map(vpc))
            .set_tags(tags(&spec.tags))
            .send()
            .await
            .map_err(|e| map("CreateTrainingJob", &spec.training_job_name, e))?;
        let arn = out.training_job_arn().unwrap_or_default().to_string();
        Ok(TrainingJobDescription::from_spec(
            &spec,
            arn,
            Timestamp::now_utc(),
        ))
    }

    async fn describe_training_job(&self, name: &str) -> Result<TrainingJobDescription> {
        let out = self
            .c
            .sagemaker
            .describe_training_job()
            .training_job_name(name)
            .send()
            .await
            .map_err(|e| map("DescribeTrainingJob", name, e))?;
        training_description(&out)
    }

    async fn list_training_jobs(
        &self,
        filter: &ListTrainingJobs,
    ) -> Result<Vec<TrainingJobSummary>> {
        let mut req = self
            .c
            .sagemaker
            .list_training_jobs()
            .sort_by(sm::SortBy::CreationTime)
            .sort_order(sm::SortOrder::Descending)
            .set_name_contains(filter.name_contains.clone())
            .set_status_equals(filter.status_equals.map(|s| s.as_str().into()));
        if let Some(n) = filter.max_results {
            req = req.max_results(count(u32::try_from(n.min(100)).unwrap_or(100)));
        }
        let pages = req.into_paginator().send();
        let mut rows = paginate::collect(
            pages,
            "ListTrainingJobs",
            filter.max_results,
            |page, rows| {
                for s in page.training_job_summaries() {
                    let created = ts_or_now(s.creation_time());
                    let mut row = TrainingJobSummary::new(
                        s.training_job_name().unwrap_or_default(),
                        s.training_job_arn().unwrap_or_default(),
                        parse_enum(
                            s.training_job_status()
                                .map(|s| s.as_str())
                                .unwrap_or("InProgress"),
                            "TrainingJobStatus",
                        )?,
                        created,
                    );
                    row.training_end_time = ts(s.training_end_time());
                    row.last_modified_time = ts(s.last_modified_time()).unwrap_or(created);
                    if filter.matches(&row) {
                        rows.push(row);
                    }
                }
                Ok(())
            },
        )
        .await?;
        rows.sort_by_key(|r| std::cmp::Reverse(r.creation_time));
        if let Some(n) = filter.max_results {
            rows.truncate(n);
        }
        Ok(rows)
    }

    async fn stop_training_job(&self, name: &str) -> Result<()> {
        self.c
            .sagemaker
            .stop_training_job()
            .training_job_name(name)
            .send()
            .await
            .map_err(|e| map("StopTrainingJob", name, e))?;
        Ok(())
    }

    async fn training_job_logs(&self, name: &str) -> Result<String> {
        crate::logs::read_all(&self.c.logs, crate::logs::TRAINING_GROUP, name).await
    }

    async fn create_model(&self, spec: ModelSpec) -> Result<ModelDescription> {
        let role = self
            .expand_role(spec.execution_role_arn.as_deref(), "a model")
            .await?;
        let out = self
            .c
            .sagemaker
            .create_model()
            .model_name(&spec.model_name)
            .execution_role_arn(&role)
            .primary_container(container(&spec.primary_container)?)
            .set_vpc_config(spec.vpc_config.as_ref().map(vpc))
            .set_tags(tags(&spec.tags))
            .send()
            .await
            .map_err(|e| map("CreateModel", &spec.model_name, e))?;
        Ok(ModelDescription::new(
            spec.model_name,
            out.model_arn().unwrap_or_default(),
            spec.primary_container,
            Some(role),
            Timestamp::now_utc(),
        ))
    }

    async fn describe_model(&self, name: &str) -> Result<ModelDescription> {
        let out = self
            .c
            .sagemaker
            .describe_model()
            .model_name(name)
            .send()
            .await
            .map_err(|e| map("DescribeModel", name, e))?;
        let c = out.primary_container().or_else(|| out.containers().first());
        let primary = ContainerDefinition {
            image: c.and_then(|c| c.image()).unwrap_or_default().to_string(),
            model_data_url: uri(c.and_then(|c| c.model_data_url()), "ModelDataUrl")?,
            environment: from_map(c.and_then(|c| c.environment())),
        };
        Ok(ModelDescription::new(
            out.model_name().unwrap_or(name),
            out.model_arn().unwrap_or_default(),
            primary,
            present(out.execution_role_arn()),
            ts_or_now(out.creation_time()),
        ))
    }

    async fn list_models(&self) -> Result<Vec<String>> {
        let pages = self.c.sagemaker.list_models().into_paginator().send();
        paginate::collect(pages, "ListModels", None, |page, out| {
            out.extend(
                page.models()
                    .iter()
                    .filter_map(|m| m.model_name().map(str::to_string)),
            );
            Ok(())
        })
        .await
    }

    async fn delete_model(&self, name: &str) -> Result<()> {
        self.c
            .sagemaker
            .delete_model()
            .model_name(name)
            .send()
            .await
            .map_err(|e| map("DeleteModel", name, e))?;
        Ok(())
    }

    async fn create_endpoint_config(
        &self,
        spec: EndpointConfigSpec,
    ) -> Result<EndpointConfigDescription> {
        let out = self
            .c
            .sagemaker
            .create_endpoint_config()
            .endpoint_config_name(&spec.endpoint_config_name)
            .set_production_variants(Some(
                spec.production_variants
                    .iter()
                    .map(production_variant)
                    .collect(),
            ))
            .set_async_inference_config(
                spec.async_inference_config
                    .as_ref()
                    .map(async_config)
                    .transpose()?,
            )
            .set_tags(tags(&spec.tags))
            .send()
            .await
            .map_err(|e| map("CreateEndpointConfig", &spec.endpoint_config_name, e))?;
        Ok(EndpointConfigDescription::new(
            spec.endpoint_config_name,
            out.endpoint_config_arn().unwrap_or_default(),
            spec.production_variants,
            Timestamp::now_utc(),
        )
        .with_async_inference_config(spec.async_inference_config))
    }

    async fn describe_endpoint_config(&self, name: &str) -> Result<EndpointConfigDescription> {
        let out = self
            .c
            .sagemaker
            .describe_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
            .map_err(|e| map("DescribeEndpointConfig", name, e))?;
        Ok(EndpointConfigDescription::new(
            out.endpoint_config_name().unwrap_or(name),
            out.endpoint_config_arn().unwrap_or_default(),
            out.production_variants().iter().map(variant_from).collect(),
            ts_or_now(out.creation_time()),
        )
        .with_async_inference_config(
            out.async_inference_config()
                .map(async_config_from)
                .transpose()?,
        ))
    }

    async fn list_endpoint_configs(&self) -> Result<Vec<String>> {
        let pages = self
            .c
            .sagemaker
            .list_endpoint_configs()
            .into_paginator()
            .send();
        paginate::collect(pages, "ListEndpointConfigs", None, |page, out| {
            out.extend(
                page.endpoint_configs()
                    .iter()
                    .filter_map(|m| m.endpoint_config_name().map(str::to_string)),
            );
            Ok(())
        })
        .await
    }

    async fn delete_endpoint_config(&self, name: &str) -> Result<()> {
        self.c
            .sagemaker
            .delete_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
            .map_err(|e| map("DeleteEndpointConfig", name, e))?;
        Ok(())
    }

    async fn create_endpoint(&self, spec: EndpointSpec) -> Result<EndpointDescription> {
        let out = self
            .c
            .sagemaker
            .create_endpoint()
            .endpoint_name(&spec.endpoint_name)
            .endpoint_config_name(&spec.endpoint_config_name)
            .set_tags(tags(&spec.tags))
            .send()
            .await
            .map_err(|e| map("CreateEndpoint", &spec.endpoint_name, e))?;
        Ok(EndpointDescription::new(
            spec.endpoint_name,
            out.endpoint_arn().unwrap_or_default(),
            spec.endpoint_config_name,
            EndpointStatus::Creating,
            Timestamp::now_utc(),
        ))
    }

    async fn describe_endpoint(&self, name: &str) -> Result<EndpointDescription> {
        let out = self
            .c
            .sagemaker
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .map_err(|e| map("DescribeEndpoint", name, e))?;
        let created = ts_or_now(out.creation_time());
        let mut d = EndpointDescription::new(
            out.endpoint_name().unwrap_or(name),
            out.endpoint_arn().unwrap_or_default(),
            out.endpoint_config_name().unwrap_or_default(),
            parse_enum(
                out.endpoint_status()
                    .map(|s| s.as_str())
                    .unwrap_or("Creating"),
                "EndpointStatus",
            )?,
            created,
        );
        d.failure_reason = present(out.failure_reason());
        d.last_modified_time = ts(out.last_modified_time()).unwrap_or(created);
        d.production_variants = out
            .production_variants()
            .iter()
            .map(|v| {
                ProductionVariantSummary::new(
                    v.variant_name().unwrap_or_default(),
                    v.current_weight().unwrap_or(1.0),
                    v.current_instance_count()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                )
                .with_serverless_config(v.current_serverless_config().map(serverless_from))
            })
            .collect();
        Ok(d)
    }

    async fn list_endpoints(&self) -> Result<Vec<String>> {
        let pages = self.c.sagemaker.list_endpoints().into_paginator().send();
        paginate::collect(pages, "ListEndpoints", None, |page, out| {
            out.extend(
                page.endpoints()
                    .iter()
                    .filter_map(|m| m.endpoint_name().map(str::to_string)),
            );
            Ok(())
        })
        .await
    }

    async fn update_endpoint(&self, name: &str, endpoint_config_name: &str) -> Result<()> {
        self.c
            .sagemaker
            .update_endpoint()
            .endpoint_name(name)
            .endpoint_config_name(endpoint_config_name)
            .send()
            .await
            .map_err(|e| map("UpdateEndpoint", name, e))?;
        Ok(())
    }

    async fn delete_endpoint(&self, name: &str) -> Result<()> {
        self.c
            .sagemaker
            .delete_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .map_err(|e| map("DeleteEndpoint", name, e))?;
        Ok(())
    }

    async fn invoke_endpoint(
        &self,
        request: InvokeEndpointRequest,
    ) -> Result<InvokeEndpointResponse> {
        let name = request.endpoint_name.clone();
        let out = self
            .c
            .runtime
            .invoke_endpoint()
            .endpoint_name(&request.endpoint_name)
            .body(request.body.into())
            .set_content_type(request.content_type)
            .set_accept(request.accept)
            .set_custom_attributes(request.custom_attributes)
            .set_target_variant(request.target_variant)
            .set_inference_id(request.inference_id)
            .send()
            .await
            .map_err(|e| invoke_error(&name, e))?;
        let mut response = InvokeEndpointResponse::default();
        response.content_type = present(out.content_type());
        response.invoked_production_variant = present(out.invoked_production_variant());
        response.custom_attributes = present(out.custom_attributes());
        response.body = out.body.map(|b| b.into_inner()).unwrap_or_default();
        Ok(response)
    }

    async fn invoke_endpoint_async(
        &self,
        request: InvokeEndpointAsyncRequest,
    ) -> Result<InvokeEndpointAsyncResponse> {
        let name = request.endpoint_name.clone();
        let out = self
            .c
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&request.endpoint_name)
            .input_location(s3_uri(&request.input_location)?)
            .set_content_type(request.content_type)
            .set_accept(request.accept)
            .set_custom_attributes(request.custom_attributes)
            .set_inference_id(request.inference_id)
            .set_request_ttl_seconds(request.request_ttl_seconds.map(count))
            .set_invocation_timeout_seconds(request.invocation_timeout_seconds.map(count))
            .send()
            .await
            .map_err(|e| map("InvokeEndpointAsync", &name, e))?;
        Ok(InvokeEndpointAsyncResponse::new(
            out.inference_id().unwrap_or_default(),
            required_uri(out.output_location(), "OutputLocation")?,
            uri(out.failure_location(), "FailureLocation")?,
        ))
    }

    async fn create_transform_job(
        &self,
        spec: TransformJobSpec,
    ) -> Result<TransformJobDescription> {
        let input = &spec.transform_input;
        let output = &spec.transform_output;
        let dp = spec.data_processing.as_ref().map(|d| {
            sm::DataProcessing::builder()
                .set_input_filter(d.input_filter.clone())
                .set_output_filter(d.output_filter.clone())
                .set_join_source(d.join_source.map(|j| j.as_str().into()))
                .build()
        });
        let out = self
            .c
            .sagemaker
            .create_transform_job()
            .transform_job_name(&spec.transform_job_name)
            .model_name(&spec.model_name)
            .set_max_concurrent_transforms(spec.max_concurrent_transforms.map(count))
            .set_max_payload_in_mb(spec.max_payload_in_mb.map(count))
            .set_batch_strategy(spec.batch_strategy.map(|b| b.as_str().into()))
            .set_environment(to_map(&spec.environment))
            .transform_input(
                sm::TransformInput::builder()
                    .data_source(
                        sm::TransformDataSource::builder()
                            .s3_data_source(
                                sm::TransformS3DataSource::builder()
                                    .s3_data_type(
                                        input
                                            .data_source
                                            .s3_data_source
                                            .s3_data_type
                                            .as_str()
                                            .into(),
                                    )
                                    .s3_uri(s3_uri(&input.data_source.s3_data_source.s3_uri)?)
                                    .build(),
                            )
                            .build(),
                    )
                    .set_content_type(input.content_type.clone())
                    .compression_type(input.compression_type.as_str().into())
                    .split_type(input.split_type.as_str().into())
                    .build(),
            )
            .transform_output(
                sm::TransformOutput::builder()
                    .s3_output_path(s3_uri(&output.s3_output_path)?)
                    .set_accept(output.accept.clone())
                    .assemble_with(output.assemble_with.as_str().into())
                    .set_kms_key_id(output.kms_key_id.clone())
                    .build(),
            )
            .transform_resources(
                sm::TransformResources::builder()
                    .instance_type(spec.transform_resources.instance_type.as_str().into())
                    .instance_count(count(spec.transform_resources.instance_count))
                    .build(),
            )
            .set_data_processing(dp)
            .set_tags(tags(&spec.tags))
            .send()
            .await
            .map_err(|e| map("CreateTransformJob", &spec.transform_job_name, e))?;
        Ok(TransformJobDescription::from_spec(
            &spec,
            out.transform_job_arn().unwrap_or_default().to_string(),
            Timestamp::now_utc(),
        ))
    }

    async fn describe_transform_job(&self, name: &str) -> Result<TransformJobDescription> {
        let out = self
            .c
            .sagemaker
            .describe_transform_job()
            .transform_job_name(name)
            .send()
            .await
            .map_err(|e| map("DescribeTransformJob", name, e))?;
        transform_description(&out)
    }

    async fn transform_job_logs(&self, name: &str) -> Result<String> {
        crate::logs::read_all(&self.c.logs, crate::logs::TRANSFORM_GROUP, name).await
    }

    async fn stop_transform_job(&self, name: &str) -> Result<()> {
        self.c
            .sagemaker
            .stop_transform_job()
            .transform_job_name(name)
            .send()
            .await
            .map_err(|e| map("StopTransformJob", name, e))?;
        Ok(())
    }
}

/// `InvokeEndpoint` errors: a container's error keeps its original status, message and
/// log stream, as the Python SDK's `ModelError` shows them.
fn invoke_error(
    endpoint: &str,
    e: aws_sdk_sagemakerruntime::error::SdkError<
        aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error {
    use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError as E;
    if let Some(E::ModelError(m)) = e.as_service_error() {
        let status = m.original_status_code().unwrap_or_default();
        let original = m.original_message().unwrap_or_default().to_string();
        let mut err = Error::new(
            ErrorKind::ModelError,
            format!(
                "endpoint '{endpoint}': the model answered {status}: {}",
                if original.is_empty() {
                    m.message().unwrap_or_default()
                } else {
                    &original
                }
            ),
        )
        .with_context(context::RESOURCE, endpoint)
        .with_context(context::ORIGINAL_STATUS_CODE, status.to_string())
        .with_context(context::ORIGINAL_MESSAGE, original)
        .with_context(context::BACKEND, "aws")
        .with_context(context::OPERATION, "InvokeEndpoint");
        if let Some(arn) = present(m.log_stream_arn()) {
            err = err.with_context(context::LOG_STREAM_ARN, arn);
        }
        return err;
    }
    map("InvokeEndpoint", endpoint, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_and_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/SageMakerRole"));
        assert!(is_role_arn(
            "arn:aws-cn:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
        ));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/alice"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/x"));
        assert!(!is_role_arn("arn:aws:s3:::bucket"));
        assert!(is_role_name("SageMakerRole"));
        assert!(!is_role_name("my role"));
        assert!(!is_role_name("service-role/x"));
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
