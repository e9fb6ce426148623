//! Bad input: bad training data fails the job with file, line and column; bad requests are
//! refused before any job starts; waits time out and cancel with typed errors.

use std::time::Duration;

use sagemaker::prelude::*;
use sagemaker::spec::ListTrainingJobs;
use sagemaker_test_support::{iris_csv, session, sklearn, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_training_data_fails_the_job_with_file_line_and_column() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty.csv", "", &["no CSV data: empty.csv holds no rows"]),
        (
            "header_only.csv",
            "a,b,species\n",
            &["header but no data rows"],
        ),
        (
            "ragged.csv",
            "a,b,species\n1,2,x\n3,y\n",
            &["ragged.csv, line 3", "ragged row"],
        ),
        (
            "text.csv",
            "a,b,species\n1,2,x\n1,abc,y\n",
            &["text.csv, line 3, column 2 ('b')", "'abc' is not a number"],
        ),
        (
            "nan.csv",
            "a,b,species\n1,2,x\nNaN,1,y\n",
            &["nan.csv, line 3, column 1", "not a finite number"],
        ),
        (
            "inf.csv",
            "a,b,species\n1,2,x\n1,-inf,y\n",
            &["inf.csv, line 3, column 2", "not a finite number"],
        ),
        (
            "no_target.csv",
            "a,b,c\n1,2,3\n4,5,6\n",
            &["target column 'species' is missing", "a, b, c"],
        ),
        (
            "one_class.csv",
            "a,b,species\n1,2,x\n3,4,x\n",
            &["one class only (x)"],
        ),
    ];
    for (file, content, expected) in cases {
        let data = upload(&s, root.path(), file, content).await;
        let est = sklearn(&s, "LogisticRegression")
            .hyperparameter("target", "species")
            .output_path("s3://sagemaker-local/failures")
            .build()
            .unwrap();
        let e = est.fit(data).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::JobFailed, "{file}: {e}");
        let reason = e.failure_reason().unwrap();
        assert!(
            reason.starts_with("ClientError: channel 'training'"),
            "{file}: {reason}"
        );
        for needle in *expected {
            assert!(
                reason.contains(needle),
                "{file}: '{needle}' not in: {reason}"
            );
        }
        let job_name = e.job_name().unwrap().to_string();
        assert_eq!(e.context("status"), Some("Failed"));
        assert!(
            e.log_tail().unwrap().contains("[sagemaker] Failed"),
            "{file}: {:?}",
            e.log_tail()
        );
        // No artifact, and model_data says why.
        let job = TrainingJob::new(&job_name, s.clone());
        let md = job.model_data().await.unwrap_err();
        assert_eq!(md.kind(), ErrorKind::NotFound);
        assert!(md.message().contains("it failed"), "{md}");
        let out = root
            .path()
            .join("s3/sagemaker-local/failures")
            .join(&job_name);
        assert!(
            !out.join("output/model.tar.gz").exists(),
            "{file}: a failed job left an artifact"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_before_any_job_starts() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = upload(&s, root.path(), "iris.csv", &iris_csv()).await;

    // Unknown algorithm, unknown and mistyped hyperparameters: InvalidConfig at build().
    let e = sklearn(&s, "SupportVectorMachine").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.message().contains("LogisticRegression") && e.message().contains("entry_point"),
        "{e}"
    );
    let e = sklearn(&s, "LogisticRegression")
        .hyperparameter("max_depth", 3)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.message().contains("'max_depth' is not accepted") && e.message().contains("max_iter"),
        "{e}"
    );
    let e = sklearn(&s, "LogisticRegression")
        .hyperparameter("max_iter", "many")
        .build()
        .unwrap_err();
    assert!(
        e.message().contains("max_iter") && e.message().contains("integer"),
        "{e}"
    );
    let e = sklearn(&s, "RandomForestClassifier")
        .instance_count(2)
        .build()
        .unwrap_err();
    assert_eq!(e.context("field"), Some("instance_count"));
    let e = sklearn(&s, "LogisticRegression")
        .instance_type("ml.p3.2xlarge")
        .build()
        .unwrap_err();
    assert!(e.message().contains("GPU"), "{e}");
    let e = SKLearn::builder()
        .entry_point("LogisticRegression")
        .instance_type("local")
        .session(s.clone())
        .build()
        .unwrap_err();
    assert!(
        e.message()
            .contains("framework_version or py_version was None"),
        "{e}"
    );
    let e = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("0.1")
        .instance_type("local")
        .session(s.clone())
        .build()
        .unwrap_err();
    assert!(
        e.message().contains("Supported sklearn version(s): 0.20.0"),
        "{e}"
    );

    // A script missing from its source_dir: refused by name, and no job is created.
    let est = sklearn(&s, "train.py").source_dir("src").build().unwrap();
    let e = est.fit(data.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.message().contains("train.py"), "{e}");

    // Invalid and duplicate job names.
    let est = sklearn(&s, "LogisticRegression")
        .hyperparameter("target", "species")
        .build()
        .unwrap();
    let e = est
        .fit_with(data.clone(), FitOptions::new().job_name("bad_name"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    est.fit_with(data.clone(), FitOptions::new().job_name("twice"))
        .await
        .unwrap();
    let e = est
        .fit_with(data.clone(), FitOptions::new().job_name("twice"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");

    // A channel URI with nothing behind it.
    let e = est
        .fit("s3://sagemaker-local/no/such/prefix/")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(
        e.message().contains("channel 'training'") && e.message().contains("no/such/prefix"),
        "{e}"
    );
    let e = est.fit("https://example.com/data.csv").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");

    let jobs = s
        .backend()
        .list_training_jobs(&ListTrainingJobs::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "only the one valid job exists: {jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_time_out_and_cancel_with_typed_errors() {
    let root = tempfile::tempdir().unwrap();
    let s = LocalSession::builder()
        .root(root.path())
        .container("slow", sagemaker_core::testkit::ConformanceContainer)
        .build()
        .unwrap();
    let data = upload(&s, root.path(), "iris.csv", &iris_csv()).await;
    let est = Estimator::builder()
        .image_uri("slow")
        .instance_type("local")
        .hyperparameter("sleep_ms", 60_000)
        .session(s.clone())
        .build()
        .unwrap();
    let job = est
        .fit_with(data, FitOptions::new().wait(false))
        .await
        .unwrap();
    let e = job
        .wait_with(&WaitConfig::default().timeout(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_temporary());
    let token = sagemaker::CancellationToken::new();
    token.cancel();
    let e = job
        .wait_with(&WaitConfig::default().cancellation(token))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    job.stop().await.unwrap();
    let d = job.wait().await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    let e = job.model_data().await.unwrap_err();
    assert!(e.message().contains("Stopped"), "{e}");
}
