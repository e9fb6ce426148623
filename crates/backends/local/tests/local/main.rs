//! The local backend against the shared conformance suite, plus local-only behaviour: one
//! test binary, one module per area.

mod endpoints;
mod hardening;
mod raw;
mod serverless_async;
mod training;

use sagemaker_core::spec::*;
use sagemaker_core::testkit::ConformanceContainer;
use sagemaker_core::{Session, StorageUri};
use sagemaker_local::LocalSession;

const IMAGE: &str = "conformance";

fn session(root: &std::path::Path) -> Session {
    LocalSession::builder()
        .root(root)
        .container(IMAGE, ConformanceContainer)
        .build()
        .unwrap()
}

fn write_fixture(root: &std::path::Path) -> std::path::PathBuf {
    let path = root.join("train.csv");
    std::fs::write(&path, "x,y\n1,2\n").unwrap();
    path
}

fn base_spec(name: &str, data: StorageUri) -> TrainingJobSpec {
    TrainingJobSpec {
        vpc_config: None,
        training_job_name: name.into(),
        algorithm_specification: AlgorithmSpecification {
            training_image: IMAGE.into(),
            training_input_mode: TrainingInputMode::File,
            metric_definitions: vec![],
            container_entrypoint: Vec::new(),
            container_arguments: Vec::new(),
        },
        role_arn: None,
        input_data_config: vec![Channel {
            channel_name: "training".into(),
            data_source: DataSource {
                s3_data_source: S3DataSource {
                    s3_data_type: S3DataType::S3Prefix,
                    s3_uri: data,
                    s3_data_distribution_type: S3DataDistributionType::FullyReplicated,
                },
            },
            content_type: Some("text/csv".into()),
            compression_type: None,
            record_wrapper_type: None,
            input_mode: None,
        }],
        output_data_config: OutputDataConfig {
            s3_output_path: "s3://sagemaker-local/out".parse().unwrap(),
            kms_key_id: None,
        },
        resource_config: ResourceConfig {
            instance_count: 1,
            instance_type: "local".into(),
            volume_size_in_gb: 30,
        },
        stopping_condition: StoppingCondition {
            max_runtime_in_seconds: 3600,
        },
        hyper_parameters: Default::default(),
        environment: Default::default(),
        tags: vec![],
    }
}
