//! End-to-end tests through the facade: the SKLearn estimator on the local backend, every
//! bad input of the training issue, attach from a second process, custom containers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sagemaker::container::{Container, ContainerError, Handler, ServingEnv, TrainingEnv};
use sagemaker::prelude::*;
use sagemaker::sklearn::{Algorithm, SklearnModel};
use sagemaker::spec::ListTrainingJobs;

/// A session on its own temporary root, so tests run in parallel.
fn session(root: &Path) -> Session {
    LocalSession::builder().root(root).build().unwrap()
}

fn iris_csv() -> String {
    let iris = smartcore::dataset::iris::load_dataset();
    let mut out = String::from("sepal_length,sepal_width,petal_length,petal_width,species\n");
    for (i, row) in iris.data.chunks(4).enumerate() {
        let species = &iris.target_names[iris.target[i] as usize];
        out.push_str(&format!(
            "{},{},{},{},{species}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    out
}

/// Writes `content` to `root/name` and uploads it; returns the s3:// URI.
async fn upload(s: &Session, root: &Path, name: &str, content: &str) -> StorageUri {
    let path = root.join(name);
    std::fs::write(&path, content).unwrap();
    s.upload_data(&path, "data").await.unwrap()
}

fn sklearn(s: &Session, algorithm: &str) -> sagemaker::sklearn::SKLearnBuilder {
    SKLearn::builder()
        .entry_point(algorithm)
        .framework_version("1.2-1")
        .instance_type("local")
        .session(s.clone())
}

/// Splits iris rows 70/30 with the same rule as the example.
fn iris_split() -> (String, String) {
    let all = iris_csv();
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (i, line) in lines.enumerate() {
        if (i * 7 + 3) % 10 < 3 {
            test.push_str(line);
            test.push('\n');
        } else {
            train.push_str(line);
            train.push('\n');
        }
    }
    (train, test)
}

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

/// A custom container: predicts the mean label. Panics when asked to.
struct MeanContainer;

impl Container for MeanContainer {
    fn train(&self, env: &TrainingEnv) -> Result<(), ContainerError> {
        if env.hyperparameters.get("panic").map(String::as_str) == Some("True") {
            panic!("the custom container was told to panic");
        }
        let dir = env.paths.channel_dir("training");
        let mut sum = 0.0;
        let mut n = 0.0;
        for entry in std::fs::read_dir(&dir).map_err(|e| ContainerError::client(e.to_string()))? {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines() {
                sum += line
                    .parse::<f64>()
                    .map_err(|e| ContainerError::client(format!("{line}: {e}")))?;
                n += 1.0;
            }
        }
        env.report_metric("train:mean", sum / n);
        std::fs::write(env.paths.model_dir.join("mean.txt"), (sum / n).to_string()).unwrap();
        Ok(())
    }

    fn load(
        &self,
        _dir: &Path,
        _env: &ServingEnv,
    ) -> sagemaker::Result<std::sync::Arc<dyn Handler>> {
        Err(sagemaker::Error::unsupported("mean container", "serving"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_containers_train_and_a_panic_fails_the_job() {
    let root = tempfile::tempdir().unwrap();
    let s = LocalSession::builder()
        .root(root.path())
        .container("mean-trainer", MeanContainer)
        .build()
        .unwrap();
    let data = upload(&s, root.path(), "y.txt", "1\n2\n6\n").await;
    let est = Estimator::builder()
        .image_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/mean-trainer:3")
        .instance_type("local")
        .hyperparameter("panic", false)
        .session(s.clone())
        .build()
        .unwrap();
    let job = est.fit(data.clone()).await.unwrap();
    assert!(job.name().starts_with("mean-trainer-"));
    assert_eq!(
        job.describe().await.unwrap().metric("train:mean"),
        Some(3.0)
    );
    assert_eq!(
        job.describe().await.unwrap().hyper_parameters["panic"],
        "False"
    );

    let est = Estimator::builder()
        .image_uri("mean-trainer")
        .instance_type("local")
        .hyperparameter("panic", true)
        .session(s.clone())
        .build()
        .unwrap();
    let e = est.fit(data).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::JobFailed);
    let reason = e.failure_reason().unwrap();
    assert!(
        reason.starts_with("AlgorithmError: the container panicked"),
        "{reason}"
    );
    assert!(reason.contains("told to panic"), "{reason}");
    // The backend keeps working after a panic.
    let est = Estimator::builder()
        .image_uri("mean-trainer")
        .instance_type("local")
        .session(s.clone())
        .build()
        .unwrap();
    let y = upload(&s, root.path(), "y2.txt", "4\n").await;
    assert_eq!(
        est.fit(y)
            .await
            .unwrap()
            .describe()
            .await
            .unwrap()
            .metric("train:mean"),
        Some(4.0)
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
            "a_second_process_attaches_and_reads_status_metrics_and_log",
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

// ---- real-time inference -------------------------------------------------------------------

async fn trained_iris(s: &Session, root: &Path, base: &str) -> Estimator {
    let data = upload(s, root, "iris.csv", &iris_csv()).await;
    let est = sklearn(s, "LogisticRegression")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .base_job_name(base)
        .build()
        .unwrap();
    est.fit(data).await.unwrap();
    est
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_predict_and_delete_like_the_python_sdk() {
    use sagemaker::predictor::{
        BytesDeserializer, CsvDeserializer, IdentitySerializer, NpyData, NumpyDeserializer,
    };
    use sagemaker::sklearn::sklearn_predictor;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let est = trained_iris(&s, root.path(), "iris-deploy").await;
    let predictor = sklearn_predictor(
        est.deploy(DeployConfig::new(2, "ml.m5.large"))
            .await
            .unwrap(),
    );
    let name = predictor.endpoint_name().to_string();
    assert!(name.starts_with("iris-deploy-20"), "{name}");
    // Model, endpoint config and endpoint share the name, as the Python SDK's deploy does.
    let backend = s.backend();
    let d = backend.describe_endpoint(&name).await.unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
    assert_eq!(d.endpoint_config_name, name);
    assert_eq!(d.production_variants[0].current_instance_count, 2);
    let config = backend.describe_endpoint_config(&name).await.unwrap();
    assert_eq!(config.production_variants[0].variant_name, "AllTraffic");
    assert_eq!(config.production_variants[0].model_name, name);
    let model = backend.describe_model(&name).await.unwrap();
    assert_eq!(
        model.primary_container.environment["SAGEMAKER_PROGRAM"],
        "LogisticRegression"
    );

    // The seed's two rows, then one row alone (a one-row matrix, not the upstream 500).
    let rows = vec![vec![5.1, 3.5, 1.4, 0.2], vec![6.7, 3.1, 5.6, 2.4]];
    assert_eq!(
        predictor.predict(&rows).await.unwrap(),
        serde_json::json!(["setosa", "virginica"])
    );
    assert_eq!(
        predictor.predict(&[5.1, 3.5, 1.4, 0.2][..]).await.unwrap(),
        serde_json::json!(["setosa"])
    );

    // JSON in (the three shapes), CSV and NPY out.
    let raw = Predictor::attach(name.clone(), s.clone());
    for body in [
        "[[5.1,3.5,1.4,0.2]]",
        "[5.1,3.5,1.4,0.2]",
        "{\"instances\": [[5.1,3.5,1.4,0.2]]}",
    ] {
        let mut r = sagemaker::spec::InvokeEndpointRequest::new("", body.as_bytes().to_vec());
        r.content_type = Some("application/json".into());
        let answer = raw.predict_raw(r).await.unwrap();
        assert_eq!(answer.body, b"[\"setosa\"]", "{body}");
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            answer.invoked_production_variant.as_deref(),
            Some("AllTraffic")
        );
    }
    let csv_out = raw
        .clone()
        .with_serializer(IdentitySerializer::new("text/csv"))
        .with_deserializer(CsvDeserializer::new());
    let table = csv_out
        .predict("5.1,3.5,1.4,0.2\n6.7,3.1,5.6,2.4")
        .await
        .unwrap();
    assert_eq!(
        table,
        vec![vec!["setosa".to_string()], vec!["virginica".to_string()]]
    );
    let npy = raw
        .clone()
        .with_serializer(NumpySerializer::new())
        .with_deserializer(NumpyDeserializer::new());
    let arr = npy.predict(&rows).await.unwrap();
    assert_eq!(arr.shape, vec![2]);
    assert_eq!(
        arr.data,
        NpyData::Str(vec!["setosa".into(), "virginica".into()])
    );

    // Bad requests: the container's status comes back inside a ModelError; nothing breaks.
    let bytes = raw
        .clone()
        .with_serializer(IdentitySerializer::new("text/csv"))
        .with_deserializer(BytesDeserializer);
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "text/plain",
            "1,2,3,4",
            415,
            "content type 'text/plain' is not supported",
        ),
        (
            "text/csv",
            "5.1,3.5,1.4",
            400,
            "row 1: 3 values, the model expects 4 features",
        ),
        ("text/csv", "5.1,3.5,1.4,0.2\n1,2", 400, "row 2: 2 values"),
        (
            "text/csv",
            "5.1,abc,1.4,0.2",
            400,
            "row 1, column 2: value 'abc' is not a number",
        ),
        ("text/csv", "", 400, "the body holds no rows"),
        (
            "application/json",
            "[[1,2,3,4],[1,2]]",
            400,
            "row 2: 2 values",
        ),
        ("application/json", "{oops", 400, "invalid JSON"),
    ];
    for (ct, body, status, needle) in cases {
        let e = bytes
            .predict_with(*body, &InvokeOptions::new().content_type(*ct))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ModelError, "{body}: {e}");
        assert_eq!(
            e.context("original_status_code"),
            Some(status.to_string().as_str()),
            "{body}: {e}"
        );
        assert!(
            e.context("original_message").unwrap().contains(needle),
            "{body}: {e}"
        );
    }
    let e = bytes
        .predict_with(
            "5.1,3.5,1.4,0.2",
            &InvokeOptions::new().accept("application/xml"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.context("original_status_code"), Some("406"), "{e}");
    assert_eq!(
        predictor.predict(&rows).await.unwrap(),
        serde_json::json!(["setosa", "virginica"])
    );

    // Cleanup in the Python SDK's order; the endpoint is gone afterwards.
    predictor.delete_model().await.unwrap();
    predictor.delete_endpoint(true).await.unwrap();
    let e = predictor.predict(&rows).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(backend.describe_endpoint_config(&name).await.is_err());
    assert!(backend.describe_model(&name).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_split_traffic_updates_never_fail_a_request_and_cleanup_is_one_call() {
    use sagemaker::spec::ProductionVariant;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let est = trained_iris(&s, root.path(), "ab").await;
    let a = est.create_model().await.unwrap();
    let a_name = a.create().await.unwrap().model_name;
    let b = est.create_model().await.unwrap();
    let b_name = b.create().await.unwrap().model_name;
    assert_ne!(a_name, b_name);
    let variant = |name: &str, model: &str, weight: f32| ProductionVariant {
        variant_name: name.into(),
        model_name: model.into(),
        initial_instance_count: Some(1),
        instance_type: Some("ml.m5.large".into()),
        initial_variant_weight: weight,
        serverless_config: None,
    };
    sagemaker::model::deploy_variants(
        &s,
        "ab-test",
        vec![variant("A", &a_name, 3.0), variant("B", &b_name, 1.0)],
        &DeployConfig::new(1, "ml.m5.large"),
    )
    .await
    .unwrap();
    let p = Predictor::attach("ab-test", s.clone());
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..400 {
        let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
        r.content_type = Some("text/csv".into());
        let v = p
            .predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .unwrap();
        *counts.entry(v).or_insert(0) += 1;
    }
    let (ca, cb) = (counts["A"], counts["B"]);
    assert!(
        (290..=310).contains(&ca) && ca + cb == 400,
        "split by weight 3:1: {counts:?}"
    );
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    r.target_variant = Some("B".into());
    assert_eq!(
        p.predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .as_deref(),
        Some("B")
    );

    // Switch to a config with only B while a client keeps calling: no request fails.
    s.backend()
        .create_endpoint_config(sagemaker::spec::EndpointConfigSpec {
            endpoint_config_name: "ab-test-b".into(),
            production_variants: vec![variant("B", &b_name, 1.0)],
            async_inference_config: None,
            tags: vec![],
        })
        .await
        .unwrap();
    let stop = sagemaker::CancellationToken::new();
    let client = {
        let (p, stop) = (p.clone(), stop.clone());
        tokio::spawn(async move {
            let mut served = 0;
            while !stop.is_cancelled() {
                let mut r =
                    sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
                r.content_type = Some("text/csv".into());
                let answer = p
                    .predict_raw(r)
                    .await
                    .expect("no request fails during an update");
                assert_eq!(answer.body, b"[\"setosa\"]");
                served += 1;
                tokio::task::yield_now().await;
            }
            served
        })
    };
    let updated = p.update_endpoint("ab-test-b", true).await.unwrap();
    assert_eq!(updated.endpoint_status, EndpointStatus::InService);
    assert_eq!(updated.endpoint_config_name, "ab-test-b");
    tokio::time::sleep(Duration::from_millis(20)).await;
    stop.cancel();
    assert!(client.await.unwrap() > 0);
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    assert_eq!(
        p.predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .as_deref(),
        Some("B")
    );

    // Deleting a model in use: the record goes, the endpoint keeps serving (as SageMaker).
    s.backend().delete_model(&b_name).await.unwrap();
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    assert!(p.predict_raw(r).await.is_ok());

    // One call deletes what is left.
    let (endpoints, configs, models) = sagemaker::model::delete_all(&s, "").await.unwrap();
    assert_eq!((endpoints, configs, models), (1, 2, 1));
    assert!(s.backend().list_endpoints().await.unwrap().is_empty());
    assert!(s.backend().list_models().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_artifacts_fail_the_endpoint_with_the_reason() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    // Not a gzip file at all.
    let junk: StorageUri = "s3://sagemaker-local/junk/model.tar.gz".parse().unwrap();
    s.store()
        .put_bytes(b"definitely not gzip".to_vec(), &junk)
        .await
        .unwrap();
    // A valid tarball whose manifest names an unknown algorithm.
    let dir = root.path().join("fake-model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"format_version":1,"algorithm":"SupportVectorMachine"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("model.json"), "{}").unwrap();
    let tar = root.path().join("fake.tar.gz");
    sagemaker::artifact::pack_dir(&dir, &tar).unwrap();
    let fake = s.upload_data(&tar, "fake").await.unwrap();
    for (uri, needle) in [
        (junk.to_string(), "model data"),
        (fake.to_string(), "SupportVectorMachine"),
    ] {
        let model = sagemaker::sklearn::SKLearnModel::builder()
            .model_data(uri)
            .framework_version("1.2-1")
            .session(s.clone())
            .build()
            .unwrap();
        let e = model
            .deploy(DeployConfig::new(1, "local"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EndpointFailed, "{e}");
        assert!(e.failure_reason().unwrap().contains(needle), "{e}");
    }
    let e = sagemaker::sklearn::SKLearnModel::builder()
        .model_data("s3://sagemaker-local/nothing/model.tar.gz")
        .framework_version("1.2-1")
        .session(s.clone())
        .build()
        .unwrap()
        .deploy(DeployConfig::new(1, "local"))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Validation,
        "missing model data is refused at CreateModel: {e}"
    );
    let e = DeployConfig::default();
    let model = Model::builder()
        .image_uri("sagemaker-scikit-learn")
        .session(s.clone())
        .build()
        .unwrap();
    let err = model.deploy(e).await.unwrap_err();
    assert_eq!(err.context("field"), Some("instance_type"));
}

// ---- batch transform -----------------------------------------------------------------------

use sagemaker::spec::{
    AssembleWith, BatchStrategy, CompressionType, JoinSource, SplitType, TransformJobStatus,
};
use sagemaker::transformer::TransformerBuilder;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_endpoints_serve_different_models_at_once() {
    use sagemaker::sklearn::sklearn_predictor;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let classifier = trained_iris(&s, root.path(), "iris-clf").await;
    // y = 2·a + 1, label first.
    let reg: String = (0..60)
        .map(|i| format!("{},{}\n", 2.0 * f64::from(i) + 1.0, i))
        .collect();
    let data = upload(&s, root.path(), "line.csv", &reg).await;
    let regressor = sklearn(&s, "LinearRegression")
        .base_job_name("line")
        .build()
        .unwrap();
    regressor.fit(data).await.unwrap();

    let a = sklearn_predictor(
        classifier
            .deploy(DeployConfig::new(1, "local"))
            .await
            .unwrap(),
    );
    let b = sklearn_predictor(
        regressor
            .deploy(DeployConfig::new(1, "local"))
            .await
            .unwrap(),
    );
    assert_ne!(a.endpoint_name(), b.endpoint_name());
    for _ in 0..3 {
        assert_eq!(
            a.predict(&[5.1, 3.5, 1.4, 0.2][..]).await.unwrap(),
            serde_json::json!(["setosa"])
        );
        let y = b.predict(&[10.0][..]).await.unwrap();
        assert!((y[0].as_f64().unwrap() - 21.0).abs() < 1e-6, "{y}");
    }
    let d = s
        .backend()
        .describe_endpoint(b.endpoint_name())
        .await
        .unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
    assert_eq!(sagemaker::model::delete_all(&s, "").await.unwrap().0, 2);
}
