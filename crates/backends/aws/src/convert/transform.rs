//! Transform jobs: `DescribeTransformJob` back.

use sagemaker_core::Result;
use sagemaker_core::spec::*;

use super::*;

pub(crate) fn transform_description(
    out: &aws_sdk_sagemaker::operation::describe_transform_job::DescribeTransformJobOutput,
) -> Result<TransformJobDescription> {
    let input = out.transform_input();
    let src = input
        .and_then(|i| i.data_source())
        .and_then(|d| d.s3_data_source());
    let output = out.transform_output();
    let res = out.transform_resources();
    let dp = out.data_processing();
    let spec = TransformJobSpec {
        transform_job_name: out.transform_job_name().unwrap_or_default().to_string(),
        model_name: out.model_name().unwrap_or_default().to_string(),
        max_concurrent_transforms: out
            .max_concurrent_transforms()
            .and_then(|n| u32::try_from(n).ok()),
        max_payload_in_mb: out.max_payload_in_mb().and_then(|n| u32::try_from(n).ok()),
        batch_strategy: out
            .batch_strategy()
            .map(|b| parse_enum(b.as_str(), "BatchStrategy"))
            .transpose()?,
        environment: from_map(out.environment()),
        transform_input: TransformInput {
            data_source: TransformDataSource {
                s3_data_source: TransformS3DataSource {
                    s3_data_type: match src.and_then(|s| s.s3_data_type()) {
                        Some(t) => parse_enum(t.as_str(), "S3DataType")?,
                        None => S3DataType::S3Prefix,
                    },
                    s3_uri: required_uri(src.and_then(|s| s.s3_uri()), "S3Uri")?,
                },
            },
            content_type: present(input.and_then(|i| i.content_type())),
            compression_type: match input.and_then(|i| i.compression_type()) {
                Some(t) => parse_enum(t.as_str(), "CompressionType")?,
                None => CompressionType::None,
            },
            split_type: match input.and_then(|i| i.split_type()) {
                Some(t) => parse_enum(t.as_str(), "SplitType")?,
                None => SplitType::None,
            },
        },
        transform_output: TransformOutput {
            s3_output_path: required_uri(output.and_then(|o| o.s3_output_path()), "S3OutputPath")?,
            accept: present(output.and_then(|o| o.accept())),
            assemble_with: match output.and_then(|o| o.assemble_with()) {
                Some(t) => parse_enum(t.as_str(), "AssembleWith")?,
                None => AssembleWith::None,
            },
            kms_key_id: present(output.and_then(|o| o.kms_key_id())),
        },
        transform_resources: TransformResources {
            instance_type: res
                .and_then(|r| r.instance_type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            instance_count: res
                .and_then(|r| r.instance_count())
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1),
        },
        data_processing: dp
            .map(|d| -> Result<DataProcessing> {
                Ok(DataProcessing {
                    input_filter: present(d.input_filter()),
                    output_filter: present(d.output_filter()),
                    join_source: d
                        .join_source()
                        .map(|j| parse_enum(j.as_str(), "JoinSource"))
                        .transpose()?,
                })
            })
            .transpose()?,
        tags: Vec::new(),
    };
    let creation_time = ts_or_now(out.creation_time());
    let mut d = TransformJobDescription::from_spec(
        &spec,
        out.transform_job_arn().unwrap_or_default().to_string(),
        creation_time,
    );
    d.transform_job_status = parse_enum(
        out.transform_job_status()
            .map(|s| s.as_str())
            .unwrap_or("InProgress"),
        "TransformJobStatus",
    )?;
    d.failure_reason = present(out.failure_reason());
    d.transform_start_time = ts(out.transform_start_time());
    d.transform_end_time = ts(out.transform_end_time());
    Ok(d)
}
