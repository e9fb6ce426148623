//! Training jobs on the local backend: the conformance suite, the on-disk layout, jobs at
//! once, owners that died, max runtime, metric definitions.

use std::time::Duration;

use sagemaker_core::spec::*;
use sagemaker_core::testkit;
use sagemaker_core::{ErrorKind, WaitConfig, names};

use crate::{IMAGE, base_spec, session, write_fixture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    assert_eq!(testkit::run_all(&s, IMAGE).await.unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_records_and_second_backend_see_the_job() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();
    assert_eq!(data.to_string(), "s3://sagemaker-local/data/train.csv");
    assert!(
        root.path()
            .join("s3/sagemaker-local/data/train.csv")
            .is_file()
    );

    let name = names::name_from_base("layout");
    let mut spec = base_spec(&name, data);
    spec.hyper_parameters.insert("lr".into(), "0.1".into());
    s.backend().create_training_job(spec).await.unwrap();
    let d = s
        .wait_for_training_job(&name, &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);

    // The training contract's files were written as SageMaker writes them.
    let config = root
        .path()
        .join("training-jobs")
        .join(&name)
        .join("opt-ml/input/config");
    let hp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("hyperparameters.json")).unwrap())
            .unwrap();
    assert_eq!(hp["lr"], "0.1");
    let idc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("inputdataconfig.json")).unwrap())
            .unwrap();
    assert_eq!(idc["training"]["TrainingInputMode"], "File");
    assert_eq!(idc["training"]["ContentType"], "text/csv");
    let rc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("resourceconfig.json")).unwrap())
            .unwrap();
    assert_eq!(rc["current_host"], "algo-1");

    // The artifact is a tarball of the model dir, at {output}/{job}/output/model.tar.gz.
    let artifact = d.model_artifacts.unwrap().s3_model_artifacts;
    let tar = root
        .path()
        .join(format!("s3/sagemaker-local/out/{name}/output/model.tar.gz"));
    assert_eq!(
        artifact.to_string(),
        format!("s3://sagemaker-local/out/{name}/output/model.tar.gz")
    );
    let out = root.path().join("extracted");
    sagemaker_core::artifact::extract_file(&tar, &out, Default::default()).unwrap();
    assert_eq!(std::fs::read(out.join("train.csv")).unwrap(), b"x,y\n1,2\n");

    // Another backend on the same root (as another process would) reads the record.
    let other = session(root.path());
    let seen = other.backend().describe_training_job(&name).await.unwrap();
    assert_eq!(seen.training_job_status, TrainingJobStatus::Completed);
    assert_eq!(seen.final_metric_data_list, d.final_metric_data_list);
    let logs = other.backend().training_job_logs(&name).await.unwrap();
    assert!(
        logs.contains("[sagemaker] Completed - Training job completed"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_jobs_run_at_once() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();
    let mut names_ = Vec::new();
    for _ in 0..4 {
        let name = names::name_from_base("parallel");
        let mut spec = base_spec(&name, data.clone());
        spec.hyper_parameters
            .insert("sleep_ms".into(), "300".into());
        s.backend().create_training_job(spec).await.unwrap();
        names_.push(name);
    }
    // All four are in progress together before any finishes.
    let running = s
        .backend()
        .list_training_jobs(
            &ListTrainingJobs::new()
                .name_contains("parallel")
                .status_equals(TrainingJobStatus::InProgress),
        )
        .await
        .unwrap();
    assert_eq!(running.len(), 4);
    for name in &names_ {
        let d = s
            .wait_for_training_job(name, &WaitConfig::default())
            .await
            .unwrap();
        assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    }
    let limited = s
        .backend()
        .list_training_jobs(&ListTrainingJobs::new().max_results(2))
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert!(
        limited[0].creation_time >= limited[1].creation_time,
        "newest first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_job_is_seen_done_without_polling() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();
    let name = names::name_from_base("fast");
    s.backend()
        .create_training_job(base_spec(&name, data))
        .await
        .unwrap();
    // A 60 s poll interval: only the change feed can end this wait quickly.
    let wait = WaitConfig::default()
        .poll_interval(Duration::from_secs(60))
        .timeout(Duration::from_secs(30));
    let d = s.wait_for_training_job(&name, &wait).await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_owner_is_reported_failed_and_unknown_images_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();

    let mut spec = base_spec("unknown-image", data.clone());
    spec.algorithm_specification.training_image =
        "123.dkr.ecr.us-east-1.amazonaws.com/nope:1".into();
    let e = s.backend().create_training_job(spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.message().contains("nope") && e.message().contains("conformance"),
        "{e}"
    );

    // A record left InProgress by a process that has exited.
    let name = "orphan-job";
    let dir = root.path().join("training-jobs").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let d = TrainingJobDescription::from_spec(
        &base_spec(name, data),
        "arn".into(),
        time::OffsetDateTime::now_utc(),
    );
    let record = serde_json::json!({ "description": d, "owner": { "pid": pid, "start_ticks": 1 } });
    std::fs::write(dir.join("job.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    let seen = s.backend().describe_training_job(name).await.unwrap();
    assert_eq!(seen.training_job_status, TrainingJobStatus::Failed);
    assert!(seen.failure_reason.unwrap().contains(&format!("pid {pid}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_runtime_stops_the_job() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();
    let name = names::name_from_base("slow");
    let mut spec = base_spec(&name, data);
    spec.stopping_condition.max_runtime_in_seconds = 1;
    spec.hyper_parameters
        .insert("sleep_ms".into(), "30000".into());
    s.backend().create_training_job(spec).await.unwrap();
    let d = s
        .wait_for_training_job(&name, &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    assert_eq!(d.secondary_status, SecondaryStatus::MaxRuntimeExceeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_definitions_scrape_the_log() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = s
        .upload_data_to(write_fixture(root.path()), "sagemaker-local", "data")
        .await
        .unwrap();
    let name = names::name_from_base("metrics");
    let mut spec = base_spec(&name, data.clone());
    spec.algorithm_specification.metric_definitions = vec![MetricDefinition {
        name: "files:copied".into(),
        regex: "copied (\\d+) files".into(),
    }];
    s.backend().create_training_job(spec).await.unwrap();
    let d = s
        .wait_for_training_job(&name, &WaitConfig::default())
        .await
        .unwrap();
    assert_eq!(d.metric("files:copied"), Some(1.0));
    assert_eq!(
        d.metric("train:files"),
        Some(1.0),
        "reported metrics still count"
    );

    let mut bad = base_spec("bad-regex", data);
    bad.algorithm_specification.metric_definitions = vec![MetricDefinition {
        name: "x".into(),
        regex: "(".into(),
    }];
    let e = s.backend().create_training_job(bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.message().contains("MetricDefinitions 'x'"), "{e}");
}
