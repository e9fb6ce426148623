//! Batch transform: `CreateTransformJob` with every field.

use super::*;

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
