//! Request specs and descriptions that mirror the SageMaker API shapes, one module per area:
//! training (`CreateTrainingJob`), hosting (`CreateModel`,
//! `CreateEndpointConfig`, `CreateEndpoint`), runtime (`InvokeEndpoint`,
//! `InvokeEndpointAsync`) and transform (`CreateTransformJob`). Everything is re-exported here,
//! so `sagemaker_core::spec::TrainingJobSpec` is the one path users need.
//!
//! Field names are the API's in Rust case and serialize in the API's `PascalCase`, so a
//! persisted record reads like a `Describe*` response. Specs are what a caller sends (built by
//! the user-facing types); descriptions are what a backend reports.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A timestamp as the API reports it (UTC, millisecond precision, RFC 3339 when serialized).
pub type Timestamp = OffsetDateTime;

macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The API's spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::Error::new(
                        crate::ErrorKind::InvalidConfig,
                        format!(
                            "'{s}' is not a valid {}; expected one of: {}",
                            stringify!($name),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

mod hosting;
mod runtime;
mod training;
mod transform;
mod validate;

pub use hosting::*;
pub use runtime::*;
pub use training::*;
pub use transform::*;
pub use validate::{MAX_CUSTOM_ATTRIBUTES, validate_custom_attributes};

/// A key/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// `VpcConfig`: the subnets and security groups a job's or model's containers run in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// Security group ids (`sg-...`).
    pub security_group_ids: Vec<String>,
    /// Subnet ids (`subnet-...`).
    pub subnets: Vec<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn enums_parse_and_print_api_spelling() {
        for s in TrainingJobStatus::ALL {
            assert_eq!(s.as_str().parse::<TrainingJobStatus>().unwrap(), *s);
        }
        let e = "Done".parse::<TrainingJobStatus>().unwrap_err();
        assert!(e.message().contains("InProgress"), "{e}");
        assert_eq!(
            serde_json::to_string(&SecondaryStatus::LaunchingMLInstances).unwrap(),
            "\"LaunchingMLInstances\""
        );
    }

    #[test]
    fn serverless_and_async_configs_use_api_names_and_old_records_load() {
        let v = serde_json::json!({
            "VariantName": "AllTraffic",
            "ModelName": "m",
            "InitialVariantWeight": 1.0,
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        });
        let variant: ProductionVariant = serde_json::from_value(v.clone()).unwrap();
        let sc = variant.serverless_config.unwrap();
        assert_eq!((sc.memory_size_in_mb, sc.max_concurrency), (2048, 5));
        assert_eq!(serde_json::to_value(&variant).unwrap(), v);
        sc.validate().unwrap();
        let mut bad = sc;
        bad.provisioned_concurrency = Some(6);
        assert_eq!(
            bad.validate().unwrap_err().context("field"),
            Some("ProvisionedConcurrency")
        );

        let config = serde_json::json!({
            "EndpointConfigName": "c",
            "ProductionVariants": [],
            "AsyncInferenceConfig": {
                "OutputConfig": {
                    "S3OutputPath": "s3://bkt/out",
                    "S3FailurePath": "s3://bkt/failed",
                    "NotificationConfig": {
                        "SuccessTopic": "arn:ok",
                        "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"]
                    }
                },
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4}
            },
            "Tags": []
        });
        let spec: EndpointConfigSpec = serde_json::from_value(config.clone()).unwrap();
        let a = spec.async_inference_config.as_ref().unwrap();
        assert_eq!(
            a.client_config
                .unwrap()
                .max_concurrent_invocations_per_instance,
            Some(4)
        );
        assert_eq!(
            a.output_config
                .notification_config
                .as_ref()
                .unwrap()
                .include_inference_response_in,
            vec![AsyncNotificationTopicType::SuccessNotificationTopic]
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), config);

        // A record written before these fields existed still loads.
        let old: EndpointConfigDescription = serde_json::from_value(serde_json::json!({
            "EndpointConfigName": "c",
            "EndpointConfigArn": "arn",
            "ProductionVariants": [{"VariantName": "A", "ModelName": "m",
                "InitialInstanceCount": 1, "InstanceType": "local", "InitialVariantWeight": 1.0}],
            "CreationTime": "2026-11-26T10:00:00Z"
        }))
        .unwrap();
        assert!(old.async_inference_config.is_none());
        assert!(old.production_variants[0].serverless_config.is_none());
    }

    #[test]
    fn invoke_endpoint_async_limits() {
        let mut r = InvokeEndpointAsyncRequest::new("e", "s3://bkt/in".parse().unwrap());
        r.validate_limits().unwrap();
        r.request_ttl_seconds = Some(59);
        assert_eq!(
            r.validate_limits().unwrap_err().context("field"),
            Some("RequestTTLSeconds")
        );
        r.request_ttl_seconds = Some(21_600);
        r.invocation_timeout_seconds = Some(3_601);
        assert_eq!(
            r.validate_limits().unwrap_err().context("field"),
            Some("InvocationTimeoutSeconds")
        );
        r.invocation_timeout_seconds = Some(1);
        r.inference_id = Some("x".repeat(65));
        assert_eq!(
            r.validate_limits().unwrap_err().context("field"),
            Some("InferenceId")
        );
    }

    #[test]
    fn spec_serializes_in_api_case() {
        let spec = TrainingJobSpec {
            vpc_config: None,
            training_job_name: "j".into(),
            algorithm_specification: AlgorithmSpecification {
                training_image: "img".into(),
                training_input_mode: TrainingInputMode::File,
                metric_definitions: vec![],
                container_entrypoint: Vec::new(),
                container_arguments: Vec::new(),
            },
            role_arn: None,
            input_data_config: vec![],
            output_data_config: OutputDataConfig {
                s3_output_path: "s3://bkt/out".parse().unwrap(),
                kms_key_id: None,
            },
            resource_config: ResourceConfig {
                instance_count: 1,
                instance_type: "local".into(),
                volume_size_in_gb: 30,
            },
            stopping_condition: StoppingCondition {
                max_runtime_in_seconds: 86_400,
            },
            hyper_parameters: BTreeMap::new(),
            environment: BTreeMap::new(),
            tags: vec![],
        };
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(v["ResourceConfig"]["VolumeSizeInGB"], 30);
        assert_eq!(v["OutputDataConfig"]["S3OutputPath"], "s3://bkt/out");
        assert_eq!(v["AlgorithmSpecification"]["TrainingInputMode"], "File");
        let back: TrainingJobSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, spec);
    }
}
