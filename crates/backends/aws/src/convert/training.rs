//! Training jobs: input channels out, `DescribeTrainingJob` back.

use aws_sdk_sagemaker::types as sm;
use sagemaker_core::Result;
use sagemaker_core::spec::*;

use super::*;

pub(crate) fn channel(c: &Channel) -> Result<sm::Channel> {
    let src = &c.data_source.s3_data_source;
    Ok(sm::Channel::builder()
        .channel_name(&c.channel_name)
        .data_source(
            sm::DataSource::builder()
                .s3_data_source(
                    sm::S3DataSource::builder()
                        .s3_data_type(src.s3_data_type.as_str().into())
                        .s3_uri(s3_uri(&src.s3_uri)?)
                        .s3_data_distribution_type(src.s3_data_distribution_type.as_str().into())
                        .build(),
                )
                .build(),
        )
        .set_content_type(c.content_type.clone())
        .set_compression_type(c.compression_type.map(|t| t.as_str().into()))
        .set_record_wrapper_type(c.record_wrapper_type.map(|t| t.as_str().into()))
        .set_input_mode(c.input_mode.map(|t| t.as_str().into()))
        .build())
}

pub(crate) fn channel_from(c: &sm::Channel) -> Result<Channel> {
    let src = c.data_source().and_then(|d| d.s3_data_source());
    Ok(Channel {
        channel_name: c.channel_name().unwrap_or_default().to_string(),
        data_source: DataSource {
            s3_data_source: S3DataSource {
                s3_data_type: match src.and_then(|s| s.s3_data_type()) {
                    Some(t) => parse_enum(t.as_str(), "S3DataType")?,
                    None => S3DataType::S3Prefix,
                },
                s3_uri: required_uri(src.and_then(|s| s.s3_uri()), "S3Uri")?,
                s3_data_distribution_type: match src.and_then(|s| s.s3_data_distribution_type()) {
                    Some(t) => parse_enum(t.as_str(), "S3DataDistributionType")?,
                    None => S3DataDistributionType::FullyReplicated,
                },
            },
        },
        content_type: present(c.content_type()),
        compression_type: c
            .compression_type()
            .map(|t| parse_enum(t.as_str(), "CompressionType"))
            .transpose()?,
        record_wrapper_type: c
            .record_wrapper_type()
            .map(|t| parse_enum(t.as_str(), "RecordWrapperType"))
            .transpose()?,
        input_mode: c
            .input_mode()
            .map(|t| parse_enum(t.as_str(), "TrainingInputMode"))
            .transpose()?,
    })
}

pub(crate) fn training_description(
    out: &aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput,
) -> Result<TrainingJobDescription> {
    let name = out.training_job_name().unwrap_or_default().to_string();
    let algo = out.algorithm_specification();
    let out_cfg = out.output_data_config();
    let res = out.resource_config();
    let transitions = out
        .secondary_status_transitions()
        .iter()
        .map(|t| {
            let mut s = SecondaryStatusTransition::new(
                parse_enum(
                    t.status().map_or("Starting", |s| s.as_str()),
                    "SecondaryStatus",
                )?,
                ts_or_now(t.start_time()),
                t.status_message().unwrap_or_default(),
            );
            s.end_time = ts(t.end_time());
            Ok(s)
        })
        .collect::<Result<Vec<_>>>()?;
    let creation_time = ts_or_now(out.creation_time());
    let secs = |v: Option<i32>| v.and_then(|v| u64::try_from(v).ok());
    let spec = TrainingJobSpec {
        vpc_config: vpc_from(out.vpc_config()),
        training_job_name: name,
        algorithm_specification: AlgorithmSpecification {
            training_image: algo
                .and_then(|a| a.training_image())
                .unwrap_or_default()
                .to_string(),
            training_input_mode: match algo.and_then(|a| a.training_input_mode()) {
                Some(m) => parse_enum(m.as_str(), "TrainingInputMode")?,
                None => TrainingInputMode::File,
            },
            metric_definitions: algo
                .map(|a| a.metric_definitions())
                .unwrap_or_default()
                .iter()
                .map(|m| MetricDefinition {
                    name: m.name().unwrap_or_default().to_string(),
                    regex: m.regex().unwrap_or_default().to_string(),
                })
                .collect(),
            container_entrypoint: algo
                .map(|a| a.container_entrypoint().to_vec())
                .unwrap_or_default(),
            container_arguments: algo
                .map(|a| a.container_arguments().to_vec())
                .unwrap_or_default(),
        },
        role_arn: present(out.role_arn()),
        input_data_config: out
            .input_data_config()
            .iter()
            .map(channel_from)
            .collect::<Result<_>>()?,
        output_data_config: OutputDataConfig {
            s3_output_path: required_uri(out_cfg.and_then(|o| o.s3_output_path()), "S3OutputPath")?,
            kms_key_id: present(out_cfg.and_then(|o| o.kms_key_id())),
        },
        resource_config: ResourceConfig {
            instance_count: res
                .and_then(|r| r.instance_count())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
            instance_type: res
                .and_then(|r| r.instance_type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            volume_size_in_gb: res
                .and_then(|r| r.volume_size_in_gb())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(30),
        },
        stopping_condition: StoppingCondition {
            max_runtime_in_seconds: out
                .stopping_condition()
                .and_then(|s| s.max_runtime_in_seconds())
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(86_400),
        },
        hyper_parameters: from_map(out.hyper_parameters()),
        environment: from_map(out.environment()),
        tags: Vec::new(),
    };
    let mut d = TrainingJobDescription::from_spec(
        &spec,
        out.training_job_arn().unwrap_or_default().to_string(),
        creation_time,
    );
    d.training_job_status = parse_enum(
        out.training_job_status()
            .map(|s| s.as_str())
            .unwrap_or("InProgress"),
        "TrainingJobStatus",
    )?;
    d.secondary_status = parse_enum(
        out.secondary_status()
            .map(|s| s.as_str())
            .unwrap_or("Starting"),
        "SecondaryStatus",
    )?;
    d.failure_reason = present(out.failure_reason());
    d.model_artifacts = uri(
        out.model_artifacts().and_then(|m| m.s3_model_artifacts()),
        "S3ModelArtifacts",
    )?
    .map(|s3_model_artifacts| ModelArtifacts { s3_model_artifacts });
    d.training_start_time = ts(out.training_start_time());
    d.training_end_time = ts(out.training_end_time());
    d.last_modified_time = ts(out.last_modified_time()).unwrap_or(creation_time);
    d.secondary_status_transitions = transitions;
    d.training_time_in_seconds = secs(out.training_time_in_seconds());
    d.billable_time_in_seconds = secs(out.billable_time_in_seconds());
    d.final_metric_data_list = out
        .final_metric_data_list()
        .iter()
        .map(|m| {
            MetricData::new(
                m.metric_name().unwrap_or_default(),
                f64::from(m.value().unwrap_or_default()),
                ts_or_now(m.timestamp()),
            )
        })
        .collect();
    Ok(d)
}
