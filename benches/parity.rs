//! Accuracy parity with scikit-learn: the SDK's built-in classifiers trained through
//! `Estimator::fit` on the same train/test CSV files as `benches/python/parity.py`, compared
//! with the accuracies it recorded in `sklearn.json`, printed as a Markdown table.
//!
//! `benches/python/run_parity.sh` does everything (venv, data, scikit-learn, this bench). By
//! hand: `SAGEMAKER_PARITY_DIR=target/parity cargo bench -p sagemaker --bench parity`, with
//! optional filters after `--` (`-- iris`, `-- syn/KNeighbors`) to run only matching rows.
//!
//! Parity goals: `LogisticRegression` within 0.001, `DecisionTreeClassifier` and
//! `RandomForestClassifier` within 0.01, `KNeighborsClassifier` identical (same number of
//! correct predictions).

use std::path::{Path, PathBuf};
use std::time::Instant;

use sagemaker::prelude::*;
use serde_json::Value;

/// The environment variable naming the directory `parity.py` wrote.
const DIR_ENV: &str = "SAGEMAKER_PARITY_DIR";

/// One (data set, algorithm) pair as `parity.py` recorded it.
struct Reference {
    dataset: String,
    algorithm: String,
    hyperparameters: serde_json::Map<String, Value>,
    test_rows: usize,
    accuracy: f64,
    fit_seconds: f64,
}

/// What our side measured for one pair.
struct Ours {
    accuracy: f64,
    /// The fit alone, as the container logs it (`fit took … ms`).
    fit_seconds: Option<f64>,
    /// The job's training time: CSV read, fit, train and validation scoring, artifact.
    job_seconds: f64,
    job_name: String,
}

/// The parity goal of an algorithm, as the largest accepted |ours − sklearn|; `None` means
/// identical (the same number of correct predictions).
fn tolerance(algorithm: &str) -> Option<f64> {
    match algorithm {
        "LogisticRegression" => Some(0.001),
        "DecisionTreeClassifier" | "RandomForestClassifier" => Some(0.01),
        _ => None,
    }
}

fn meets(reference: &Reference, ours: f64) -> bool {
    match tolerance(&reference.algorithm) {
        Some(tol) => (ours - reference.accuracy).abs() <= tol + 1e-12,
        None => {
            let n = reference.test_rows as f64;
            (ours * n).round() == (reference.accuracy * n).round()
        }
    }
}

fn goal(algorithm: &str) -> String {
    match tolerance(algorithm) {
        Some(tol) => format!("±{tol}"),
        None => "identical".to_string(),
    }
}

fn load_references(dir: &Path) -> Result<(Value, Vec<Reference>), String> {
    let path = dir.join("sklearn.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = json["results"]
        .as_array()
        .ok_or_else(|| format!("{}: no \"results\" array", path.display()))?;
    let mut out = Vec::new();
    for row in rows {
        let field = |name: &str| {
            row.get(name)
                .cloned()
                .ok_or_else(|| format!("{}: a result has no \"{name}\"", path.display()))
        };
        out.push(Reference {
            dataset: field("dataset")?.as_str().unwrap_or_default().to_string(),
            algorithm: field("algorithm")?.as_str().unwrap_or_default().to_string(),
            hyperparameters: field("hyperparameters")?
                .as_object()
                .cloned()
                .unwrap_or_default(),
            test_rows: field("test_rows")?.as_u64().unwrap_or(0) as usize,
            accuracy: field("accuracy")?.as_f64().unwrap_or(f64::NAN),
            fit_seconds: field("fit_seconds")?.as_f64().unwrap_or(f64::NAN),
        });
    }
    Ok((json, out))
}

/// The first `rows` lines of `src`, written to `dest` (the trimmed validation file).
fn head(src: &Path, dest: &Path, rows: usize) -> Result<(), String> {
    let text =
        std::fs::read_to_string(src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    let mut out: String = text.lines().take(rows).collect::<Vec<_>>().join("\n");
    out.push('\n');
    std::fs::write(dest, out).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}

/// The `fit took 12.345 ms` line of the container's log, in seconds.
fn logged_fit_seconds(log: &str) -> Option<f64> {
    log.lines().rev().find_map(|line| {
        let rest = &line[line.find("fit took ")? + "fit took ".len()..];
        let ms: f64 = rest.split_whitespace().next()?.parse().ok()?;
        Some(ms / 1e3)
    })
}

/// Trains `reference.algorithm` through the SDK, as a user would, and reads back the
/// validation accuracy.
async fn train(
    session: &Session,
    reference: &Reference,
    train: &StorageUri,
    test: &StorageUri,
) -> Result<Ours> {
    let estimator = SKLearn::builder()
        .entry_point(reference.algorithm.as_str())
        .framework_version("1.2-1")
        .instance_type("local")
        .hyperparameters(reference.hyperparameters.clone())
        .session(session.clone())
        .build()?;
    let job = estimator
        .fit(
            Inputs::new()
                .channel("training", train)
                .channel("validation", test),
        )
        .await?;
    let description = job.describe().await?;
    let accuracy = description.metric("validation:accuracy").ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("job {} reported no validation:accuracy", job.name()),
        )
    })?;
    let log = job.logs().await?;
    Ok(Ours {
        accuracy,
        fit_seconds: logged_fit_seconds(&log),
        job_seconds: description
            .training_duration()
            .map_or(f64::NAN, |d| d.as_secs_f64()),
        job_name: job.name().to_string(),
    })
}

fn run(dir: &Path, filters: &[String]) -> Result<(), String> {
    let (json, references) = load_references(dir)?;
    let references: Vec<Reference> = references
        .into_iter()
        .filter(|r| {
            let key = format!("{}/{}", r.dataset, r.algorithm);
            filters.is_empty() || filters.iter().any(|f| key.contains(f.as_str()))
        })
        .collect();
    if references.is_empty() {
        return Err(format!("no result of sklearn.json matches {filters:?}"));
    }

    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let session = LocalSession::builder()
        .root(root.path())
        .build()
        .map_err(|e| e.to_string())?;
    let upload = |path: &Path, prefix: &str| -> Result<StorageUri, String> {
        rt.block_on(session.upload_data(path, prefix))
            .map_err(|e| format!("upload of {}: {e}", path.display()))
    };

    let started = Instant::now();
    let mut rows = Vec::new();
    for reference in &references {
        let dataset = &reference.dataset;
        let train_csv = dir.join(format!("{dataset}_train.csv"));
        let test_csv = dir.join(format!("{dataset}_test.csv"));
        let train_uri = upload(&train_csv, &format!("parity/{dataset}/train"))?;
        // Validation rows as scored by scikit-learn: all of the test file, or (KNN on syn)
        // its first `test_rows` lines, in a trimmed copy.
        let test_lines = std::fs::read_to_string(&test_csv)
            .map_err(|e| format!("cannot read {}: {e}", test_csv.display()))?
            .lines()
            .count();
        let test_uri = if reference.test_rows < test_lines {
            let trimmed: PathBuf = root
                .path()
                .join(format!("{dataset}_test_{}.csv", reference.test_rows));
            head(&test_csv, &trimmed, reference.test_rows)?;
            upload(
                &trimmed,
                &format!("parity/{dataset}/test-{}", reference.test_rows),
            )?
        } else {
            upload(&test_csv, &format!("parity/{dataset}/test"))?
        };
        eprint!(
            "training {dataset}/{} {} ... ",
            reference.algorithm,
            Value::Object(reference.hyperparameters.clone())
        );
        let t0 = Instant::now();
        let ours = rt
            .block_on(train(&session, reference, &train_uri, &test_uri))
            .map_err(|e| format!("{dataset}/{}: {e}", reference.algorithm))?;
        eprintln!(
            "accuracy {:.6} in {:.1} s ({})",
            ours.accuracy,
            t0.elapsed().as_secs_f64(),
            ours.job_name
        );
        rows.push(ours);
    }

    let fmt_s = |s: f64| {
        if s < 0.01 {
            format!("{s:.5}")
        } else if s < 10.0 {
            format!("{s:.3}")
        } else {
            format!("{s:.1}")
        }
    };
    println!();
    println!(
        "Accuracy parity with scikit-learn {} (numpy {}, OMP_NUM_THREADS={}), same split; \
         KNN on syn scored on the first {} test rows.",
        json["sklearn_version"].as_str().unwrap_or("?"),
        json["numpy_version"].as_str().unwrap_or("?"),
        json["omp_num_threads"].as_str().unwrap_or("?"),
        json["knn_test_rows"]
    );
    println!();
    println!(
        "| data set | algorithm | test rows | sklearn accuracy | ours | difference | our fit s | \
         our job s | sklearn fit s | goal | meets |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
    let mut met = 0;
    for (reference, ours) in references.iter().zip(&rows) {
        let ok = meets(reference, ours.accuracy);
        met += usize::from(ok);
        let algorithm = match reference.hyperparameters.get("n_estimators") {
            Some(n) => format!("{} ({n} trees)", reference.algorithm),
            None => reference.algorithm.clone(),
        };
        println!(
            "| {} | {algorithm} | {} | {:.6} | {:.6} | {:+.6} | {} | {} | {} | {} | {} |",
            reference.dataset,
            reference.test_rows,
            reference.accuracy,
            ours.accuracy,
            ours.accuracy - reference.accuracy,
            ours.fit_seconds.map_or("?".to_string(), fmt_s),
            fmt_s(ours.job_seconds),
            fmt_s(reference.fit_seconds),
            goal(&reference.algorithm),
            if ok { "yes" } else { "**no**" },
        );
    }
    println!();
    println!(
        "{met} of {} meet the parity goal. \"our fit s\" is the fit alone (the container's log); \
         \"our job s\" is the whole training job (CSV read, fit, scoring of the training and \
         validation channels, artifact). Bench wall time {:.1} s.",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench` asks every target for its list; this one has no named benches.
    }
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        println!(
            "parity: {DIR_ENV} is not set; skipping. Run benches/python/run_parity.sh, or set \
             {DIR_ENV} to the directory benches/python/parity.py wrote."
        );
        return;
    };
    // `cargo bench` passes `--bench`; anything else not starting with `-` is a row filter.
    let filters: Vec<String> = args.into_iter().filter(|a| !a.starts_with('-')).collect();
    if let Err(e) = run(Path::new(&dir), &filters) {
        eprintln!("parity: {e}");
        std::process::exit(1);
    }
}
