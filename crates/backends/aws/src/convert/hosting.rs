//! Hosting: containers, production variants, serverless and asynchronous inference
//! configs, both ways.

use aws_sdk_sagemaker::types as sm;
use sagemaker_core::Result;
use sagemaker_core::spec::*;

use super::*;

pub(crate) fn container(c: &ContainerDefinition) -> Result<sm::ContainerDefinition> {
    Ok(sm::ContainerDefinition::builder()
        .image(&c.image)
        .set_model_data_url(c.model_data_url.as_ref().map(s3_uri).transpose()?)
        .set_environment(to_map(&c.environment))
        .build())
}

pub(crate) fn production_variant(v: &ProductionVariant) -> sm::ProductionVariant {
    sm::ProductionVariant::builder()
        .variant_name(&v.variant_name)
        .model_name(&v.model_name)
        .set_initial_instance_count(v.initial_instance_count.map(count))
        .set_instance_type(v.instance_type.as_deref().map(Into::into))
        .initial_variant_weight(v.initial_variant_weight)
        .set_serverless_config(v.serverless_config.map(serverless_config))
        .build()
}

pub(crate) fn serverless_config(
    c: ProductionVariantServerlessConfig,
) -> sm::ProductionVariantServerlessConfig {
    sm::ProductionVariantServerlessConfig::builder()
        .memory_size_in_mb(count(c.memory_size_in_mb))
        .max_concurrency(count(c.max_concurrency))
        .set_provisioned_concurrency(c.provisioned_concurrency.map(count))
        .build()
}

pub(crate) fn serverless_from(
    c: &sm::ProductionVariantServerlessConfig,
) -> ProductionVariantServerlessConfig {
    let n = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
    ProductionVariantServerlessConfig {
        memory_size_in_mb: n(c.memory_size_in_mb()).unwrap_or_default(),
        max_concurrency: n(c.max_concurrency()).unwrap_or_default(),
        provisioned_concurrency: n(c.provisioned_concurrency()),
    }
}

pub(crate) fn async_config(c: &AsyncInferenceConfig) -> Result<sm::AsyncInferenceConfig> {
    let o = &c.output_config;
    let notification = o.notification_config.as_ref().map(|n| {
        sm::AsyncInferenceNotificationConfig::builder()
            .set_success_topic(n.success_topic.clone())
            .set_error_topic(n.error_topic.clone())
            .set_include_inference_response_in((!n.include_inference_response_in.is_empty()).then(
                || {
                    n.include_inference_response_in
                        .iter()
                        .map(|t| t.as_str().into())
                        .collect()
                },
            ))
            .build()
    });
    Ok(sm::AsyncInferenceConfig::builder()
        .output_config(
            sm::AsyncInferenceOutputConfig::builder()
                .set_kms_key_id(o.kms_key_id.clone())
                .set_s3_output_path(o.s3_output_path.as_ref().map(s3_uri).transpose()?)
                .set_s3_failure_path(o.s3_failure_path.as_ref().map(s3_uri).transpose()?)
                .set_notification_config(notification)
                .build(),
        )
        .set_client_config(c.client_config.map(|cc| {
            sm::AsyncInferenceClientConfig::builder()
                .set_max_concurrent_invocations_per_instance(
                    cc.max_concurrent_invocations_per_instance.map(count),
                )
                .build()
        }))
        .build())
}

pub(crate) fn async_config_from(c: &sm::AsyncInferenceConfig) -> Result<AsyncInferenceConfig> {
    let mut out = AsyncInferenceConfig::default();
    if let Some(o) = c.output_config() {
        out.output_config.kms_key_id = present(o.kms_key_id());
        out.output_config.s3_output_path = uri(o.s3_output_path(), "S3OutputPath")?;
        out.output_config.s3_failure_path = uri(o.s3_failure_path(), "S3FailurePath")?;
        out.output_config.notification_config = o
            .notification_config()
            .map(|n| -> Result<AsyncInferenceNotificationConfig> {
                Ok(AsyncInferenceNotificationConfig {
                    success_topic: present(n.success_topic()),
                    error_topic: present(n.error_topic()),
                    include_inference_response_in: n
                        .include_inference_response_in()
                        .iter()
                        .map(|t| parse_enum(t.as_str(), "AsyncNotificationTopicTypes"))
                        .collect::<Result<_>>()?,
                })
            })
            .transpose()?;
    }
    out.client_config = c.client_config().map(|cc| AsyncInferenceClientConfig {
        max_concurrent_invocations_per_instance: cc
            .max_concurrent_invocations_per_instance()
            .and_then(|n| u32::try_from(n).ok()),
    });
    Ok(out)
}

pub(crate) fn variant_from(v: &sm::ProductionVariant) -> ProductionVariant {
    ProductionVariant {
        variant_name: v.variant_name().unwrap_or_default().to_string(),
        model_name: v.model_name().unwrap_or_default().to_string(),
        initial_instance_count: v
            .initial_instance_count()
            .and_then(|n| u32::try_from(n).ok()),
        instance_type: v.instance_type().map(|t| t.as_str().to_string()),
        initial_variant_weight: v.initial_variant_weight().unwrap_or(1.0),
        serverless_config: v.serverless_config().map(serverless_from),
    }
}
