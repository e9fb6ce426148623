//! Training through the facade: the SKLearn estimator end to end, every built-in algorithm,
//! hyperparameters, fit without waiting, attach from a second process, labels, storage.

use std::path::PathBuf;
use std::time::Duration;

use sagemaker::prelude::*;
use sagemaker::sklearn::{Algorithm, SklearnModel};
use sagemaker_test_support::{iris_csv, iris_split, session, sklearn, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iris_logistic_regression_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let (train, test) = iris_split();
    let train = upload(&s, root.path(), "iris_train.csv", &train).await;
    let test = upload(&s, root.path(), "iris_test.csv", &test).await;
    let estimator = sklearn(&s, "LogisticRegression")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .build()
        .unwrap();
    let job = estimator
        .fit(
            Inputs::new()
                .channel("training", train)
                .channel("validation", test),
        )
        .await
        .unwrap();
    assert!(
        job.name().starts_with("sagemaker-scikit-learn-20"),
        "{}",
        job.name()
    );
    let d = job.describe().await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    let accuracy = d.metric("validation:accuracy").unwrap();
    assert!(accuracy >= 0.95, "accuracy {accuracy}");
    assert!(d.metric("validation:f1").unwrap() >= 0.95);
    assert!(d.metric("train:accuracy").unwrap() >= 0.95);
    // Framework hyperparameters are JSON-encoded, with script-mode keys, as the Python SDK sends.
    assert_eq!(d.hyper_parameters["max_iter"], "200");
    assert_eq!(d.hyper_parameters["target"], "\"species\"");
    assert_eq!(
        d.hyper_parameters["sagemaker_program"],
        "\"LogisticRegression\""
    );
    assert_eq!(
        d.hyper_parameters["sagemaker_job_name"],
        format!("\"{}\"", job.name())
    );
    assert_eq!(d.hyper_parameters["sagemaker_region"], "\"us-east-1\"");
    assert_eq!(d.hyper_parameters["sagemaker_container_log_level"], "20");
    assert_eq!(
        d.algorithm_specification.training_image,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    );

    // The artifact holds the model and a manifest; it loads and predicts the original labels.
    let artifact = job.model_data().await.unwrap();
    assert_eq!(
        artifact.to_string(),
        format!("s3://sagemaker-local/{}/output/model.tar.gz", job.name())
    );
    let model_dir = root.path().join("model");
    let tar = s.store().local_path(&artifact).unwrap();
    sagemaker::artifact::extract_file(&tar, &model_dir, Default::default()).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["algorithm"], "LogisticRegression");
    assert_eq!(manifest["n_features"], 4);
    assert_eq!(
        manifest["classes"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
    assert_eq!(manifest["target_name"], "species");
    assert_eq!(manifest["hyperparameters"]["max_iter"], 200);
    let model = SklearnModel::load(&model_dir).unwrap();
    assert_eq!(model.algorithm(), Algorithm::LogisticRegression);
    let predicted = model
        .predict_rows(&[5.1, 3.5, 1.4, 0.2, 6.7, 3.1, 5.6, 2.4])
        .unwrap();
    assert_eq!(predicted, vec!["setosa", "virginica"]);
    let proba = model.predict_proba_rows(&[5.1, 3.5, 1.4, 0.2]).unwrap();
    assert_eq!(proba.len(), 1);
    assert!((proba[0].iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(proba[0][0] > 0.9, "setosa is the likely class: {proba:?}");

    // The log tells the story and the metrics.
    let log = job.logs().await.unwrap();
    assert!(
        log.contains("LogisticRegression: 105 rows, 4 features, 3 classes"),
        "{log}"
    );
    assert!(log.contains("#metrics validation:accuracy="), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_algorithm_trains_and_serves() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let classification = upload(&s, root.path(), "iris.csv", &iris_csv()).await;
    // y = 3·x1 − 2·x2 + 1 + small noise, label first (no header).
    let mut reg = String::new();
    for i in 0..200 {
        let (a, b) = ((i % 17) as f64 / 3.0, (i % 11) as f64 / 2.0);
        let noise = ((i * 37 % 13) as f64 - 6.0) / 1000.0;
        reg.push_str(&format!("{},{a},{b}\n", 3.0 * a - 2.0 * b + 1.0 + noise));
    }
    let regression = upload(&s, root.path(), "reg.csv", &reg).await;
    for algorithm in Algorithm::ALL {
        let mut b = sklearn(&s, algorithm.name());
        if algorithm
            .hyperparameters()
            .iter()
            .any(|h| h.name == "random_state")
        {
            b = b.hyperparameter("random_state", 0);
        }
        let data = match algorithm.task() {
            sagemaker::sklearn::Task::Classification => {
                b = b.hyperparameter("target", "species");
                classification.clone()
            }
            sagemaker::sklearn::Task::Clustering => {
                b = b.hyperparameter("n_clusters", 3);
                regression.clone()
            }
            _ => regression.clone(),
        };
        if matches!(
            algorithm,
            Algorithm::RandomForestClassifier | Algorithm::RandomForestRegressor
        ) {
            b = b.hyperparameter("n_estimators", 10);
        }
        if matches!(algorithm, Algorithm::Lasso | Algorithm::ElasticNet) {
            b = b.hyperparameter("alpha", 0.01);
        }
        let job = b
            .build()
            .unwrap()
            .fit(
                Inputs::new()
                    .channel("training", data.clone())
                    .channel("validation", data),
            )
            .await;
        let job = job.unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        let d = job.describe().await.unwrap();
        match algorithm.task() {
            sagemaker::sklearn::Task::Classification => {
                let acc = d.metric("validation:accuracy").unwrap();
                assert!(acc > 0.9, "{algorithm}: accuracy {acc}");
            }
            sagemaker::sklearn::Task::Regression => {
                let r2 = d.metric("validation:r2").unwrap();
                assert!(r2 > 0.9, "{algorithm}: r2 {r2}");
            }
            _ => {
                let inertia = d.metric("validation:inertia").unwrap();
                assert!(
                    inertia.is_finite() && inertia > 0.0,
                    "{algorithm}: inertia {inertia}"
                );
            }
        }
        let dir = root.path().join(format!("model-{algorithm}"));
        let tar = s
            .store()
            .local_path(&job.model_data().await.unwrap())
            .unwrap();
        sagemaker::artifact::extract_file(&tar, &dir, Default::default()).unwrap();
        let model = SklearnModel::load(&dir).unwrap();
        let row: Vec<f64> = vec![1.0; model.n_features()];
        assert_eq!(model.predict_rows(&row).unwrap().len(), 1, "{algorithm}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperparameters_are_honoured() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = upload(&s, root.path(), "iris.csv", &iris_csv()).await;
    let fit = |max_iter: u32| {
        let est = sklearn(&s, "LogisticRegression")
            .hyperparameter("max_iter", max_iter)
            .hyperparameter("target", "species")
            .build()
            .unwrap();
        let data = data.clone();
        async move { est.fit(data).await.unwrap().logs().await.unwrap() }
    };
    let short = fit(1).await;
    assert!(
        short.contains("lbfgs: 1 iterations, converged: false"),
        "{short}"
    );
    assert!(short.contains("ConvergenceWarning"), "{short}");
    let long = fit(1000).await;
    assert!(long.contains("converged: true"), "{long}");

    // n_neighbors is scikit-learn's 5 unless set; a k-NN with k=150 predicts the majority.
    let est = sklearn(&s, "KNeighborsClassifier")
        .hyperparameter("target", "species")
        .hyperparameter("n_neighbors", 150)
        .build()
        .unwrap();
    let d = est
        .fit(data.clone())
        .await
        .unwrap()
        .describe()
        .await
        .unwrap();
    let acc = d.metric("train:accuracy").unwrap();
    assert!(
        (acc - 1.0 / 3.0).abs() < 1e-9,
        "k=150 votes the (tied) majority: {acc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fit_without_waiting_then_wait_stop_and_file_uris() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let path = root.path().join("iris.csv");
    std::fs::write(&path, iris_csv()).unwrap();
    let est = sklearn(&s, "RandomForestClassifier")
        .hyperparameter("target", "species")
        .hyperparameter("n_estimators", 300)
        .output_path(format!("file://{}", root.path().join("out").display()))
        .build()
        .unwrap();
    // file:// input read in place, no wait.
    let job = est
        .fit_with(
            TrainingInput::file(&path).unwrap(),
            FitOptions::new().wait(false),
        )
        .await
        .unwrap();
    assert_eq!(est.latest_training_job().unwrap().name(), job.name());
    let d = job.wait().await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    let artifact = job.model_data().await.unwrap();
    assert_eq!(
        artifact.to_string(),
        format!(
            "file://{}/out/{}/output/model.tar.gz",
            root.path().display(),
            job.name()
        )
    );
    assert!(
        root.path()
            .join("out")
            .join(job.name())
            .join("output/model.tar.gz")
            .is_file()
    );

    // Stopping a finished job is refused; a stopped job waits fine and has no artifact.
    let e = job.stop().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_attaches_and_reads_status_metrics_and_log() {
    if let Ok(job) = std::env::var("SAGEMAKER_TEST_ATTACH_JOB") {
        // Child process: attach with a fresh backend and report what it sees.
        let root = PathBuf::from(std::env::var("SAGEMAKER_TEST_ROOT").unwrap());
        let est = Estimator::attach(&job, session(&root)).await.unwrap();
        let d = est.latest_training_job().unwrap().describe().await.unwrap();
        let log = est.logs().await.unwrap();
        println!(
            "ATTACHED {} {} {} {} {}",
            d.training_job_status,
            d.metric("validation:accuracy").unwrap(),
            est.config().hyperparameters["max_iter"],
            est.base_job_name(),
            log.contains("Completed - Training job completed")
        );
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let (train, test) = iris_split();
    let train = upload(&s, root.path(), "iris_train.csv", &train).await;
    let test = upload(&s, root.path(), "iris_test.csv", &test).await;
    let est = sklearn(&s, "LogisticRegression")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .base_job_name("iris-attach")
        .build()
        .unwrap();
    let job = est
        .fit(
            Inputs::new()
                .channel("training", train)
                .channel("validation", test),
        )
        .await
        .unwrap();
    let accuracy = job
        .describe()
        .await
        .unwrap()
        .metric("validation:accuracy")
        .unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            // The module path is part of the test's name in a multi-module binary.
            "training::a_second_process_attaches_and_reads_status_metrics_and_log",
            "--nocapture",
        ])
        .env("SAGEMAKER_TEST_ATTACH_JOB", job.name())
        .env("SAGEMAKER_TEST_ROOT", root.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ATTACHED "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(
        line,
        format!("ATTACHED Completed {accuracy} 200 iris-attach true")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_and_numeric_labels_and_target_by_index() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    // Label in the last column, referenced by index -1, numeric labels 10 and 20, no header.
    let mut csv = String::new();
    for i in 0..40 {
        let x = i as f64 / 4.0;
        csv.push_str(&format!(
            "{x},{},{}\n",
            10.0 - x,
            if x < 5.0 { 10 } else { 20 }
        ));
    }
    let data = upload(&s, root.path(), "num.csv", &csv).await;
    let job = sklearn(&s, "DecisionTreeClassifier")
        .hyperparameter("target", -1)
        .hyperparameter("random_state", 1)
        .build()
        .unwrap()
        .fit(data)
        .await
        .unwrap();
    let dir = root.path().join("m");
    sagemaker::artifact::extract_file(
        &s.store()
            .local_path(&job.model_data().await.unwrap())
            .unwrap(),
        &dir,
        Default::default(),
    )
    .unwrap();
    let model = SklearnModel::load(&dir).unwrap();
    assert_eq!(model.classes(), ["10", "20"]);
    assert_eq!(
        model.predict_rows(&[1.0, 9.0, 9.0, 1.0]).unwrap(),
        vec!["10", "20"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_download_directories() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let src = root.path().join("src");
    std::fs::create_dir_all(src.join("nested")).unwrap();
    std::fs::write(src.join("a.csv"), "1,2\n").unwrap();
    std::fs::write(src.join("nested/b.csv"), "3,4\n").unwrap();
    let prefix = s.upload_data(&src, "datasets/v1").await.unwrap();
    assert_eq!(prefix.to_string(), "s3://sagemaker-local/datasets/v1");
    let objects = s.store().list(&prefix).await.unwrap();
    let keys: Vec<_> = objects.iter().map(|o| o.uri.to_string()).collect();
    assert_eq!(
        keys,
        [
            "s3://sagemaker-local/datasets/v1/a.csv",
            "s3://sagemaker-local/datasets/v1/nested/b.csv"
        ]
    );

    let dest = root.path().join("dest");
    let written = s.download_data(&prefix, &dest).await.unwrap();
    assert_eq!(written.len(), 2);
    assert_eq!(std::fs::read(dest.join("nested/b.csv")).unwrap(), b"3,4\n");
    let one = s
        .download_data(&prefix.join("a.csv"), &dest.join("single"))
        .await
        .unwrap();
    assert_eq!(one, vec![dest.join("single/a.csv")]);
    let e = s
        .download_data(&"s3://sagemaker-local/nothing/here".parse().unwrap(), &dest)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

/// A noisy 3-class table (label first) whose forests grow deep trees.
fn forest_csv(rows: usize, features: usize) -> String {
    let mut s = 7u64;
    let mut u = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::new();
    for _ in 0..rows {
        let x: Vec<f64> = (0..features).map(|_| u() * 4.0 - 2.0).collect();
        let score = x[0] + 0.5 * x[1] - x[2] * x[3] + 2.0 * u();
        let label = if score < -0.5 {
            0
        } else if score < 0.8 {
            1
        } else {
            2
        };
        let fields: Vec<String> = x.iter().map(|v| format!("{v:.6}")).collect();
        out.push_str(&format!("{label},{}\n", fields.join(",")));
    }
    out
}

/// The container's own fit time, from its `fit took X ms` log line.
fn fit_time(log: &str) -> Duration {
    let ms: f64 = log
        .lines()
        .find_map(|l| l.split("fit took ").nth(1))
        .and_then(|r| r.trim_end_matches(" ms").trim().parse().ok())
        .expect("a fit time in the log");
    Duration::from_secs_f64(ms / 1e3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_or_max_runtime_ends_a_forest_fit_between_trees() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let data = upload(&s, root.path(), "forest.csv", &forest_csv(4000, 10)).await;
    let quick = WaitConfig::default().poll_interval(Duration::from_millis(20));
    let forest = |trees: usize| {
        sklearn(&s, "RandomForestClassifier")
            .hyperparameter("n_estimators", trees)
            .hyperparameter("random_state", 0)
    };
    // The baseline: a twentieth of the long fit, run to the end.
    let started = std::time::Instant::now();
    let job = forest(20)
        .build()
        .unwrap()
        .fit_with(data.clone(), FitOptions::new().wait(false))
        .await
        .unwrap();
    let d = job.wait_with(&quick).await.unwrap();
    assert_eq!(d.training_job_status, TrainingJobStatus::Completed);
    let baseline_wall = started.elapsed();
    let baseline_fit = fit_time(&job.logs().await.unwrap());

    // The long fit (about 20 × baseline_fit), stopped once under way.
    let job = forest(400)
        .build()
        .unwrap()
        .fit_with(data.clone(), FitOptions::new().wait(false))
        .await
        .unwrap();
    while !job.logs().await.unwrap().contains("rows, 10 features") {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(baseline_fit / 2).await;
    let stopping = std::time::Instant::now();
    job.stop().await.unwrap();
    let d = job.wait_with(&quick).await.unwrap();
    let stop_took = stopping.elapsed();
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    assert!(
        stop_took < baseline_fit,
        "the stop took {stop_took:?}, a twentieth of the fit takes {baseline_fit:?}"
    );
    assert!(job.model_data().await.is_err());
    let log = job.logs().await.unwrap();
    assert!(!log.contains("fit took"), "the fit ran to its end:\n{log}");

    // MaxRuntimeInSeconds stops it the same way.
    let started = std::time::Instant::now();
    let job = forest(400)
        .max_run(Duration::from_secs(1))
        .build()
        .unwrap()
        .fit_with(data, FitOptions::new().wait(false))
        .await
        .unwrap();
    let d = job.wait_with(&quick).await.unwrap();
    let took = started.elapsed();
    assert_eq!(d.training_job_status, TrainingJobStatus::Stopped);
    assert!(format!("{:?}", d.secondary_status).contains("MaxRuntimeExceeded"));
    assert!(
        took < Duration::from_secs(1) + baseline_wall,
        "a 1 s MaxRuntimeInSeconds ended after {took:?}"
    );
    assert!(job.model_data().await.is_err());
}
