//! Batch transform: splitting, batching and assembly as SageMaker does, failures without
//! partial output, data processing (filters, joins), environment, manifests, RecordIO.

use std::path::Path;
use std::time::Duration;

use sagemaker::prelude::*;
use sagemaker::sklearn::SklearnModel;
use sagemaker::spec::{
    AssembleWith, BatchStrategy, CompressionType, JoinSource, SplitType, TransformJobStatus,
};
use sagemaker::transformer::TransformerBuilder;
use sagemaker_test_support::session;

use crate::trained_iris;

/// A session with the conformance container (its answers show request boundaries).
fn echo_session(root: &Path) -> Session {
    LocalSession::builder()
        .root(root)
        .container("echo", sagemaker_core::testkit::ConformanceContainer)
        .build()
        .unwrap()
}

/// An echo model: answers `{model files}|{request body}` per request.
async fn echo_model(s: &Session, root: &Path) -> String {
    let model_dir = root.join("echo-model");
    std::fs::create_dir_all(&model_dir).unwrap();
    std::fs::write(model_dir.join("m"), "x").unwrap();
    let tar = root.join("echo.tar.gz");
    sagemaker::artifact::pack_dir(&model_dir, &tar).unwrap();
    let uri = s.upload_data(&tar, "echo-model").await.unwrap();
    let model = Model::builder()
        .image_uri("echo")
        .model_data(uri.to_string())
        .name("echo")
        .session(s.clone())
        .build()
        .unwrap();
    model.create().await.unwrap();
    "echo".into()
}

fn transformer(s: &Session, model: &str) -> TransformerBuilder {
    Transformer::builder()
        .model_name(model)
        .instance_type("local")
        .session(s.clone())
}

async fn put(s: &Session, key: &str, bytes: &[u8]) -> StorageUri {
    let uri: StorageUri = format!("s3://sagemaker-local/{key}").parse().unwrap();
    s.store().put_bytes(bytes.to_vec(), &uri).await.unwrap();
    uri
}

async fn out(s: &Session, uri: &str) -> String {
    String::from_utf8(s.store().get_bytes(&uri.parse().unwrap()).await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_splits_batches_and_assembles_as_sagemaker_does() {
    let root = tempfile::tempdir().unwrap();
    let s = echo_session(root.path());
    let model = echo_model(&s, root.path()).await;
    put(&s, "in/a.csv", b"1\n2\n3\n").await;
    put(&s, "in/sub/b.csv", b"4\n5\n").await;
    let args = || {
        TransformArgs::new()
            .content_type("text/plain")
            .split_type(SplitType::Line)
    };

    // MultiRecord packs whole records into one request; one .out per input, relative paths kept.
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::MultiRecord)
        .assemble_with(AssembleWith::None)
        .output_path("s3://sagemaker-local/out1")
        .build()
        .unwrap();
    let job = t
        .transform("s3://sagemaker-local/in/", args())
        .await
        .unwrap();
    assert_eq!(
        job.describe().await.unwrap().transform_job_status,
        TransformJobStatus::Completed
    );
    assert_eq!(
        out(&s, "s3://sagemaker-local/out1/a.csv.out").await,
        "m|1\n2\n3\n"
    );
    assert_eq!(
        out(&s, "s3://sagemaker-local/out1/sub/b.csv.out").await,
        "m|4\n5\n"
    );

    // SingleRecord: one request per record; AssembleWith=Line: a newline after each answer.
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::SingleRecord)
        .assemble_with(AssembleWith::Line)
        .output_path("s3://sagemaker-local/out2")
        .build()
        .unwrap();
    t.transform("s3://sagemaker-local/in/a.csv", args())
        .await
        .unwrap();
    assert_eq!(
        out(&s, "s3://sagemaker-local/out2/a.csv.out").await,
        "m|1\nm|2\nm|3\n"
    );

    // SplitType=None: the whole object is one request.
    let t = transformer(&s, &model)
        .output_path("s3://sagemaker-local/out3")
        .build()
        .unwrap();
    t.transform("s3://sagemaker-local/in/a.csv", TransformArgs::new())
        .await
        .unwrap();
    assert_eq!(
        out(&s, "s3://sagemaker-local/out3/a.csv.out").await,
        "m|1\n2\n3\n"
    );

    // MultiRecord stops before MaxPayloadInMB: 1 MB payloads over 3 MB of records, in order.
    let line = "x".repeat(999);
    let big: String = (0..3000).map(|i| format!("{i:04}{line}\n")).collect();
    put(&s, "big/big.txt", big.as_bytes()).await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::MultiRecord)
        .max_payload(1)
        .max_concurrent_transforms(4)
        .output_path("s3://sagemaker-local/out4")
        .build()
        .unwrap();
    let job = t
        .transform("s3://sagemaker-local/big/", args())
        .await
        .unwrap();
    let result = out(&s, "s3://sagemaker-local/out4/big.txt.out").await;
    let requests = result.matches("m|").count();
    assert!(
        (3..=4).contains(&requests),
        "{requests} requests for 3 MB at 1 MB each"
    );
    assert_eq!(result.replace("m|", ""), big, "records in input order");
    assert!(
        job.logs()
            .await
            .unwrap()
            .contains("4 parallel invocation(s)")
    );

    // Gzip inputs are decompressed; an invalid gzip file fails alone, leaving no .out.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"7\n8\n").unwrap();
    put(&s, "gz/good.gz", &gz.finish().unwrap()).await;
    put(&s, "gz/bad.gz", b"this is not gzip").await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::MultiRecord)
        .output_path("s3://sagemaker-local/out5")
        .build()
        .unwrap();
    let e = t
        .transform(
            "s3://sagemaker-local/gz/",
            args().compression_type(CompressionType::Gzip),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::JobFailed);
    let reason = e.failure_reason().unwrap();
    assert!(
        reason.contains("bad.gz") && reason.contains("not a valid gzip"),
        "{reason}"
    );
    assert_eq!(
        out(&s, "s3://sagemaker-local/out5/good.gz.out").await,
        "m|7\n8\n"
    );
    assert!(
        !s.store()
            .exists(&"s3://sagemaker-local/out5/bad.gz.out".parse().unwrap())
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_failures_leave_no_partial_output() {
    let root = tempfile::tempdir().unwrap();
    let s = echo_session(root.path());
    let model = echo_model(&s, root.path()).await;
    // A record over the payload limit fails its file; a model error fails its file; the
    // good file still completes; the reason names files and records.
    let huge = format!("ok\n{}\n", "y".repeat(MB + 10));
    put(&s, "mixed/1-huge.txt", huge.as_bytes()).await;
    put(&s, "mixed/2-good.txt", b"fine\n").await;
    put(&s, "mixed/3-error.txt", b"fine\nstatus:400:bad record\n").await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::SingleRecord)
        .max_payload(1)
        .output_path("s3://sagemaker-local/mixed-out")
        .build()
        .unwrap();
    let e = t
        .transform(
            "s3://sagemaker-local/mixed/",
            TransformArgs::new().split_type(SplitType::Line),
        )
        .await
        .unwrap_err();
    let reason = e.failure_reason().unwrap();
    assert!(reason.contains("2 of 3 input file(s) failed"), "{reason}");
    assert!(
        reason.contains("1-huge.txt: record 2 is") && reason.contains("larger than MaxPayloadInMB"),
        "{reason}"
    );
    assert!(
        reason.contains("3-error.txt: records 2-2: the model answered 400 bad record"),
        "{reason}"
    );
    let listed: Vec<String> = s
        .store()
        .list(&"s3://sagemaker-local/mixed-out/".parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.uri.to_string())
        .collect();
    assert_eq!(
        listed,
        ["s3://sagemaker-local/mixed-out/2-good.txt.out"],
        "no partial or temporary file is visible"
    );

    // Stop in the middle: Stopped, and no .out at all.
    let slow: String = (0..200).map(|_| "sleep:20\n").collect();
    put(&s, "slow/slow.txt", slow.as_bytes()).await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::SingleRecord)
        .max_concurrent_transforms(1)
        .output_path("s3://sagemaker-local/slow-out")
        .build()
        .unwrap();
    let job = t
        .transform(
            "s3://sagemaker-local/slow/",
            TransformArgs::new().split_type(SplitType::Line).wait(false),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    job.stop().await.unwrap();
    let d = job.wait(&WaitConfig::default()).await.unwrap();
    assert_eq!(d.transform_job_status, TransformJobStatus::Stopped);
    assert!(
        s.store()
            .list(&"s3://sagemaker-local/slow-out/".parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    // Refused before any job starts: empty prefix, output inside input, bad filters, limits.
    let e = transformer(&s, &model)
        .build()
        .unwrap()
        .transform("s3://sagemaker-local/empty/", TransformArgs::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.message().contains("No S3 objects found"), "{e}");
    let e = transformer(&s, &model)
        .output_path("s3://sagemaker-local/mixed/out")
        .build()
        .unwrap()
        .transform("s3://sagemaker-local/mixed/", TransformArgs::new())
        .await
        .unwrap_err();
    assert_eq!(e.context("field"), Some("output_path"), "{e}");
    let csv = || {
        TransformArgs::new()
            .content_type("text/csv")
            .split_type(SplitType::Line)
    };
    let t = transformer(&s, &model)
        .accept("text/csv")
        .assemble_with(AssembleWith::Line)
        .build()
        .unwrap();
    for (filter, needle) in [
        ("$[1:x]", "position 5"),
        ("1:2", "position 1"),
        ("$..a", "$..a"),
    ] {
        let e = t
            .transform("s3://sagemaker-local/mixed/", csv().input_filter(filter))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{filter}: {e}");
        assert!(e.message().contains(needle), "{filter}: {e}");
    }
    let e = transformer(&s, &model)
        .accept("text/csv")
        .assemble_with(AssembleWith::None)
        .build()
        .unwrap()
        .transform(
            "s3://sagemaker-local/mixed/",
            csv().join_source(JoinSource::Input),
        )
        .await
        .unwrap_err();
    assert_eq!(e.context("field"), Some("assemble_with"), "{e}");
    let e = transformer(&s, &model)
        .max_concurrent_transforms(20)
        .max_payload(6)
        .build()
        .unwrap_err();
    assert!(e.message().contains("20 × 6"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_data_processing_filters_joins_and_matches_row_by_row() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let est = trained_iris(&s, root.path(), "iris-batch").await;
    let iris = smartcore::dataset::iris::load_dataset();
    let mut features = String::new();
    let mut with_ids = String::new();
    let mut json_lines = String::new();
    for (i, row) in iris.data.chunks(4).enumerate() {
        features.push_str(&format!("{},{},{},{}\n", row[0], row[1], row[2], row[3]));
        with_ids.push_str(&format!(
            "id{i},{},{},{},{}\n",
            row[0], row[1], row[2], row[3]
        ));
        json_lines.push_str(&format!(
            "{{\"id\":{i},\"features\":[{},{},{},{}]}}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    put(&s, "batch/plain/x.csv", features.as_bytes()).await;
    put(&s, "batch/ids/x.csv", with_ids.as_bytes()).await;
    put(&s, "batch/json/x.jsonl", json_lines.as_bytes()).await;
    let cfg = || {
        Transformer::builder()
            .instance_type("ml.m5.large")
            .strategy(BatchStrategy::MultiRecord)
            .assemble_with(AssembleWith::Line)
            .accept("text/csv")
    };

    // The seed's transform; the output equals predicting row by row.
    let t = est
        .transformer(cfg().output_path("s3://sagemaker-local/batch-out/plain"))
        .await
        .unwrap();
    assert!(t.model_name().starts_with("iris-batch-"));
    let job = t
        .transform(
            "s3://sagemaker-local/batch/plain/",
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[0,1,2,3]"),
        )
        .await
        .unwrap();
    assert!(job.name().starts_with("iris-batch-"), "{}", job.name());
    let batch = out(&s, "s3://sagemaker-local/batch-out/plain/x.csv.out").await;
    let dir = root.path().join("batch-model");
    let tar = s
        .store()
        .local_path(&est.model_data().await.unwrap())
        .unwrap();
    sagemaker::artifact::extract_file(&tar, &dir, Default::default()).unwrap();
    let model = SklearnModel::load(&dir).unwrap();
    let expected: String = iris
        .data
        .chunks(4)
        .map(|r| {
            format!(
                "{}\n",
                model
                    .predict_rows(&r.iter().map(|v| f64::from(*v)).collect::<Vec<_>>())
                    .unwrap()[0]
            )
        })
        .collect();
    assert_eq!(batch, expected);
    assert_eq!(batch.lines().count(), 150);

    // CSV: keep the id out of the model, join predictions to the input, write id + prediction.
    let t = est
        .transformer(cfg().output_path("s3://sagemaker-local/batch-out/ids"))
        .await
        .unwrap();
    t.transform(
        "s3://sagemaker-local/batch/ids/",
        TransformArgs::new()
            .content_type("text/csv")
            .split_type(SplitType::Line)
            .input_filter("$[1:]")
            .join_source(JoinSource::Input)
            .output_filter("$[0,-1]"),
    )
    .await
    .unwrap();
    let joined = out(&s, "s3://sagemaker-local/batch-out/ids/x.csv.out").await;
    let lines: Vec<&str> = joined.lines().collect();
    assert_eq!(lines.len(), 150);
    assert_eq!(lines[0], "id0,setosa");
    assert_eq!(
        lines[149],
        format!("id149,{}", expected.lines().last().unwrap())
    );

    // JSON Lines: select the features, join under SageMakerOutput, keep id and the output.
    let t = est
        .transformer(
            cfg()
                .accept("application/json")
                .output_path("s3://sagemaker-local/batch-out/json"),
        )
        .await
        .unwrap();
    t.transform(
        "s3://sagemaker-local/batch/json/",
        TransformArgs::new()
            .content_type("application/jsonlines")
            .split_type(SplitType::Line)
            .input_filter("$.features")
            .join_source(JoinSource::Input)
            .output_filter("$['id','SageMakerOutput']"),
    )
    .await
    .unwrap();
    let json_out = out(&s, "s3://sagemaker-local/batch-out/json/x.jsonl.out").await;
    let first: serde_json::Value = serde_json::from_str(json_out.lines().next().unwrap()).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"id": 0, "SageMakerOutput": "setosa"})
    );

    // An index outside the joined record fails the file, naming the record.
    let t = est
        .transformer(cfg().output_path("s3://sagemaker-local/batch-out/bad"))
        .await
        .unwrap();
    let e = t
        .transform(
            "s3://sagemaker-local/batch/ids/",
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[1:]")
                .join_source(JoinSource::Input)
                .output_filter("$[0,9]"),
        )
        .await
        .unwrap_err();
    let reason = e.failure_reason().unwrap();
    assert!(
        reason.contains("x.csv: record 1: output filter") && reason.contains("index 9"),
        "{reason}"
    );
    // A JSON record where CSV was declared fails the file, naming the record.
    put(&s, "batch/wrong/x.csv", b"{\"a\": [1, 2, 3, 4]}\n").await;
    let t = est
        .transformer(cfg().output_path("s3://sagemaker-local/batch-out/wrong"))
        .await
        .unwrap();
    let e = t
        .transform(
            "s3://sagemaker-local/batch/wrong/",
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[0,1,2,3]"),
        )
        .await
        .unwrap_err();
    let reason = e.failure_reason().unwrap();
    assert!(
        reason.contains("x.csv: records 1-1") && reason.contains("not a number"),
        "{reason}"
    );
}

const MB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_environment_manifests_and_records_from_another_process() {
    let root = tempfile::tempdir().unwrap();
    let s = echo_session(root.path());
    let model = echo_model(&s, root.path()).await;
    // The container sees SageMaker's batch variables, derived or set on the job.
    let vars = [
        "SAGEMAKER_BATCH",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB",
        "SAGEMAKER_BATCH_STRATEGY",
        "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS",
        "MY_VAR",
    ];
    let body: String = vars.iter().map(|v| format!("env:{v}\n")).collect();
    put(&s, "env/in.txt", body.as_bytes()).await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::SingleRecord)
        .max_payload(2)
        .max_concurrent_transforms(3)
        .assemble_with(AssembleWith::Line)
        .env("MY_VAR", "42")
        .output_path("s3://sagemaker-local/env-out")
        .build()
        .unwrap();
    let job = t
        .transform(
            "s3://sagemaker-local/env/",
            TransformArgs::new().split_type(SplitType::Line),
        )
        .await
        .unwrap();
    assert_eq!(
        out(&s, "s3://sagemaker-local/env-out/in.txt.out").await,
        "SAGEMAKER_BATCH=true\nSAGEMAKER_MAX_PAYLOAD_IN_MB=2\nSAGEMAKER_BATCH_STRATEGY=SINGLE_RECORD\nSAGEMAKER_MAX_CONCURRENT_TRANSFORMS=3\nMY_VAR=42\n"
    );

    // A manifest lists the objects to process (relative to its prefix).
    put(&s, "man/a.txt", b"one\n").await;
    put(&s, "man/b/c.txt", b"two\n").await;
    put(&s, "man/skip.txt", b"never\n").await;
    let manifest = put(
        &s,
        "manifests/list.json",
        br#"[{"prefix": "s3://sagemaker-local/man/"}, "a.txt", "b/c.txt"]"#,
    )
    .await;
    let t = transformer(&s, &model)
        .output_path("s3://sagemaker-local/man-out")
        .build()
        .unwrap();
    t.transform(
        &manifest.to_string(),
        TransformArgs::new()
            .data_type(sagemaker::spec::S3DataType::ManifestFile)
            .split_type(SplitType::Line),
    )
    .await
    .unwrap();
    let listed: Vec<String> = s
        .store()
        .list(&"s3://sagemaker-local/man-out/".parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.uri.to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "s3://sagemaker-local/man-out/a.txt.out",
            "s3://sagemaker-local/man-out/b/c.txt.out"
        ]
    );

    // Another backend on the same root reads the finished job's record, log and settings.
    let other = echo_session(root.path());
    let d = other
        .backend()
        .describe_transform_job(job.name())
        .await
        .unwrap();
    assert_eq!(d.transform_job_status, TransformJobStatus::Completed);
    assert!(d.transform_start_time.unwrap() <= d.transform_end_time.unwrap());
    assert_eq!(d.spec.max_concurrent_transforms, Some(3));
    assert!(
        other
            .backend()
            .transform_job_logs(job.name())
            .await
            .unwrap()
            .contains("Completed")
    );
    let attached = Transformer::attach(job.name(), other.clone())
        .await
        .unwrap();
    assert_eq!(attached.model_name(), "echo");
    assert_eq!(
        attached.describe().await.unwrap().transform_job_status,
        TransformJobStatus::Completed
    );
}

/// One MXNet RecordIO record: magic, length (flag 0), data padded to 4 bytes.
fn recordio(data: &[u8]) -> Vec<u8> {
    let mut out = 0xced7_230a_u32.to_le_bytes().to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_splits_recordio_records() {
    let root = tempfile::tempdir().unwrap();
    let s = echo_session(root.path());
    let model = echo_model(&s, root.path()).await;
    let records: Vec<Vec<u8>> = [&b"alpha"[..], b"be", b"gamma-ray"]
        .iter()
        .map(|r| recordio(r))
        .collect();
    put(&s, "rio/in.rec", &records.concat()).await;
    let t = transformer(&s, &model)
        .strategy(BatchStrategy::SingleRecord)
        .output_path("s3://sagemaker-local/rio-out")
        .build()
        .unwrap();
    t.transform(
        "s3://sagemaker-local/rio/",
        TransformArgs::new().split_type(SplitType::RecordIO),
    )
    .await
    .unwrap();
    let got = s
        .store()
        .get_bytes(&"s3://sagemaker-local/rio-out/in.rec.out".parse().unwrap())
        .await
        .unwrap();
    let expected: Vec<u8> = records
        .iter()
        .flat_map(|r| [b"m|".to_vec(), r.clone()].concat())
        .collect();
    assert_eq!(
        got, expected,
        "one request per whole record, raw bytes kept"
    );

    put(&s, "rio-bad/in.rec", b"not recordio at all").await;
    let e = t
        .transform(
            "s3://sagemaker-local/rio-bad/",
            TransformArgs::new().split_type(SplitType::RecordIO),
        )
        .await
        .unwrap_err();
    assert!(
        e.failure_reason()
            .unwrap()
            .contains("not a RecordIO record"),
        "{e}"
    );
}
