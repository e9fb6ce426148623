//! Side-by-side comparison with the Python SDK's scikit-learn stack: our side.
//!
//! `cargo xtask bench` builds this target once (`cargo bench --bench compare --no-run`) and
//! runs the binary directly, alternating with the Python anchors of
//! `benches/python/anchors/`, on the same CSV files (written by `gen_data.py`). Each command
//! prints JSON lines on stdout (progress goes to stderr):
//!
//! - `train DATADIR --data iris|syn`: `LogisticRegression(max_iter=200)`,
//!   `DecisionTreeClassifier(random_state=0)`, `RandomForestClassifier(n_estimators=10,
//!   random_state=0)` and `KNeighborsClassifier()` trained through the SDK as a user would
//!   (a `LocalSession` on a temporary root, the `SKLearn` estimator, target column 0, channels
//!   `training` and `validation`), one line per algorithm: the container's own fit time (its
//!   `fit took X ms` log line), the whole `fit()` wall time, `SklearnModel::predict_rows`
//!   throughput over the test rows, and the validation accuracy. k-NN on `syn` is validated
//!   and timed on the first 3 000 test rows, as scikit-learn's side is.
//! - `artifact DATADIR OUT`: trains `LogisticRegression(max_iter=200)` on `iris_train.csv`
//!   and copies its `model.tar.gz` to `OUT` (what `sagemaker serve` hosts).
//! - `batch DATADIR OUTFILE`: trains `LogisticRegression(max_iter=200)` on `syn_train.csv`,
//!   batch-transforms `batch_X.csv` (`MultiRecord`, 6 MB payloads, `AssembleWith=Line`,
//!   `Accept: text/csv`), copies the `.out` to `OUTFILE` and reports the `transform()` wall
//!   time and the process's peak RSS.
//!
//! By hand: `cargo bench -p sagemaker --bench compare -- train target/bench/data --data iris`.
//! Without a command (as `cargo bench` runs every target) it prints a note and exits.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sagemaker::prelude::*;
use sagemaker::sklearn::SklearnModel;
use serde_json::{Map, Value, json};

const USAGE: &str = "usage: compare train DATADIR --data iris|syn
       compare artifact DATADIR OUT
       compare batch DATADIR OUTFILE";

/// Test rows k-NN on `syn` is scored on (its predict is slow; the anchors do the same).
const KNN_SYN_TEST_ROWS: usize = 3000;
/// `predict_rows` is repeated until this much time has passed, for a stable rows/s on small
/// test sets (one call is timed when it alone takes longer).
const PREDICT_BUDGET: Duration = Duration::from_millis(100);

type Failure = String;

fn main() -> ExitCode {
    // `cargo bench` adds `--bench`; `--list` asks for named benches (this target has none).
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.iter().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        None => {
            println!("compare: no command; run by `cargo xtask bench` ({USAGE})");
            return ExitCode::SUCCESS;
        }
        Some("train") => match (args.get(1), args.get(2).map(String::as_str), args.get(3)) {
            (Some(dir), Some("--data"), Some(data)) if args.len() == 4 => {
                train_all(Path::new(dir), data)
            }
            _ => Err(USAGE.to_string()),
        },
        Some("artifact") if args.len() == 3 => artifact(Path::new(&args[1]), Path::new(&args[2])),
        Some("batch") if args.len() == 3 => batch(Path::new(&args[1]), Path::new(&args[2])),
        Some(_) => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A runtime, a session on a fresh temporary root, and that root (kept alive with them).
struct Local {
    rt: tokio::runtime::Runtime,
    session: Session,
    root: tempfile::TempDir,
}

impl Local {
    fn new() -> Result<Self, Failure> {
        let rt = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;
        let root = tempfile::tempdir().map_err(|e| format!("temporary root: {e}"))?;
        let session = LocalSession::builder()
            .root(root.path())
            .build()
            .map_err(|e| format!("local session: {e}"))?;
        Ok(Local { rt, session, root })
    }

    fn upload(&self, path: &Path, prefix: &str) -> Result<StorageUri, Failure> {
        self.rt
            .block_on(self.session.upload_data(path, prefix))
            .map_err(|e| format!("upload of {}: {e}", path.display()))
    }

    /// The local file behind a `s3://` URI of this session's store.
    fn local_file(&self, uri: &StorageUri) -> Result<PathBuf, Failure> {
        self.session
            .store()
            .local_path(uri)
            .ok_or_else(|| format!("{uri} is not a local file"))
    }
}

/// An estimator of a built-in algorithm, label in column 0, as a user would build it.
fn estimator(
    session: &Session,
    algorithm: &str,
    hps: &Map<String, Value>,
) -> Result<Estimator<SKLearn>> {
    let mut hps = hps.clone();
    hps.insert("target".into(), json!(0));
    SKLearn::builder()
        .entry_point(algorithm)
        .framework_version("1.2-1")
        .instance_type("local")
        .hyperparameters(hps)
        .session(session.clone())
        .build()
}

/// The four algorithms and the hyperparameters of the anchors.
fn algorithms() -> Vec<(&'static str, Map<String, Value>)> {
    let map = |pairs: &[(&str, Value)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    };
    vec![
        ("LogisticRegression", map(&[("max_iter", json!(200))])),
        ("DecisionTreeClassifier", map(&[("random_state", json!(0))])),
        (
            "RandomForestClassifier",
            map(&[("n_estimators", json!(10)), ("random_state", json!(0))]),
        ),
        ("KNeighborsClassifier", Map::new()),
    ]
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The features of the first `rows` lines of a label-first CSV, row-major.
fn features(text: &str, rows: usize) -> Result<Vec<f64>, Failure> {
    let mut x = Vec::new();
    for (i, line) in text.lines().take(rows).enumerate() {
        for value in line.split(',').skip(1) {
            x.push(
                value
                    .trim()
                    .parse()
                    .map_err(|e| format!("test line {}: {value:?}: {e}", i + 1))?,
            );
        }
    }
    Ok(x)
}

/// The `fit took 12.345 ms` line of the container's log, in seconds.
fn logged_fit_seconds(log: &str) -> Option<f64> {
    log.lines().rev().find_map(|line| {
        let rest = &line[line.find("fit took ")? + "fit took ".len()..];
        let ms: f64 = rest.split_whitespace().next()?.parse().ok()?;
        Some(ms / 1e3)
    })
}

/// Rows per second of `predict_rows` over `x`, repeated up to `PREDICT_BUDGET`.
fn predict_rate(model: &SklearnModel, x: &[f64], rows: usize) -> Result<f64, Failure> {
    let started = Instant::now();
    let mut calls = 0u32;
    while calls == 0 || started.elapsed() < PREDICT_BUDGET {
        let labels = model.predict_rows(x).map_err(|e| format!("predict: {e}"))?;
        if labels.len() != rows {
            return Err(format!("predict: {} labels for {rows} rows", labels.len()));
        }
        std::hint::black_box(labels);
        calls += 1;
    }
    Ok(rows as f64 * f64::from(calls) / started.elapsed().as_secs_f64())
}

fn train_all(dir: &Path, data: &str) -> Result<(), Failure> {
    if data != "iris" && data != "syn" {
        return Err(format!("unknown data set '{data}' (iris or syn)"));
    }
    let local = Local::new()?;
    let train_csv = dir.join(format!("{data}_train.csv"));
    let test_csv = dir.join(format!("{data}_test.csv"));
    let test_text = read(&test_csv)?;
    let test_lines = test_text.lines().count();
    let train_uri = local.upload(&train_csv, &format!("{data}/train"))?;
    let test_uri = local.upload(&test_csv, &format!("{data}/test"))?;
    let knn_rows = if data == "syn" {
        KNN_SYN_TEST_ROWS.min(test_lines)
    } else {
        test_lines
    };
    let knn_uri = if knn_rows < test_lines {
        let trimmed = local
            .root
            .path()
            .join(format!("{data}_test_{knn_rows}.csv"));
        let mut head: String = test_text
            .lines()
            .take(knn_rows)
            .collect::<Vec<_>>()
            .join("\n");
        head.push('\n');
        std::fs::write(&trimmed, head)
            .map_err(|e| format!("cannot write {}: {e}", trimmed.display()))?;
        local.upload(&trimmed, &format!("{data}/test-{knn_rows}"))?
    } else {
        test_uri.clone()
    };

    for (algorithm, hps) in algorithms() {
        let (validation, rows) = if algorithm == "KNeighborsClassifier" {
            (&knn_uri, knn_rows)
        } else {
            (&test_uri, test_lines)
        };
        eprint!("compare: {data}/{algorithm} ... ");
        let est = estimator(&local.session, algorithm, &hps).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let job = local
            .rt
            .block_on(
                est.fit(
                    Inputs::new()
                        .channel("training", &train_uri)
                        .channel("validation", validation),
                ),
            )
            .map_err(|e| format!("{data}/{algorithm}: fit: {e}"))?;
        let job_s = started.elapsed().as_secs_f64();
        let (description, log, model_data) = local
            .rt
            .block_on(async {
                Ok::<_, Error>((
                    job.describe().await?,
                    job.logs().await?,
                    job.model_data().await?,
                ))
            })
            .map_err(|e| format!("{data}/{algorithm}: {e}"))?;
        let accuracy = description
            .metric("validation:accuracy")
            .ok_or_else(|| format!("job {} reported no validation:accuracy", job.name()))?;
        let fit_s = logged_fit_seconds(&log)
            .ok_or_else(|| format!("job {}: no 'fit took' line in its log", job.name()))?;

        let model_dir = local.root.path().join(format!("model-{data}-{algorithm}"));
        sagemaker::artifact::extract_file(
            &local.local_file(&model_data)?,
            &model_dir,
            Default::default(),
        )
        .map_err(|e| format!("{data}/{algorithm}: extract: {e}"))?;
        let model = SklearnModel::load(&model_dir).map_err(|e| format!("{algorithm}: {e}"))?;
        let x = features(&test_text, rows)?;
        let predict_rows_per_s = predict_rate(&model, &x, rows)?;
        eprintln!("fit {fit_s:.4} s, job {job_s:.4} s, accuracy {accuracy:.6}");
        println!(
            "{}",
            json!({
                "side": "rust",
                "engine": "sagemaker-rs",
                "threads": "1",
                "data": data,
                "algorithm": algorithm,
                "fit_s": fit_s,
                "job_s": job_s,
                "predict_rows_per_s": predict_rows_per_s,
                "accuracy": accuracy,
                "test_rows": rows,
            })
        );
    }
    Ok(())
}

/// Trains `LogisticRegression(max_iter=200)` on `{data}_train.csv`; returns the estimator.
fn train_logistic(local: &Local, dir: &Path, data: &str) -> Result<Estimator<SKLearn>, Failure> {
    let train_uri = local.upload(&dir.join(format!("{data}_train.csv")), "train")?;
    let (algorithm, hps) = algorithms().swap_remove(0);
    let est = estimator(&local.session, algorithm, &hps).map_err(|e| e.to_string())?;
    local
        .rt
        .block_on(est.fit(Inputs::new().channel("training", &train_uri)))
        .map_err(|e| format!("{data}/{algorithm}: fit: {e}"))?;
    Ok(est)
}

fn copy(from: &Path, to: &Path) -> Result<(), Failure> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn artifact(dir: &Path, out: &Path) -> Result<(), Failure> {
    let local = Local::new()?;
    let est = train_logistic(&local, dir, "iris")?;
    let uri = local
        .rt
        .block_on(est.model_data())
        .map_err(|e| e.to_string())?;
    copy(&local.local_file(&uri)?, out)?;
    eprintln!("compare: {uri} copied to {}", out.display());
    Ok(())
}

/// A `/proc/self/status` figure in MiB (`VmHWM:` is the peak RSS).
fn vm_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn batch(dir: &Path, out: &Path) -> Result<(), Failure> {
    let local = Local::new()?;
    let est = train_logistic(&local, dir, "syn")?;
    let input = dir.join("batch_X.csv");
    let input_uri = local.upload(&input, "batch-in")?;
    let bucket = local
        .rt
        .block_on(local.session.default_bucket())
        .map_err(|e| e.to_string())?;
    let output = format!("s3://{bucket}/batch-out");

    let started = Instant::now();
    local
        .rt
        .block_on(async {
            let transformer = est
                .transformer(
                    Transformer::builder()
                        .instance_type("ml.m5.large")
                        .strategy(BatchStrategy::MultiRecord)
                        .max_payload(6)
                        .assemble_with(AssembleWith::Line)
                        .accept("text/csv")
                        .output_path(output.clone()),
                )
                .await?;
            transformer
                .transform(
                    &input_uri.to_string(),
                    TransformArgs::new()
                        .content_type("text/csv")
                        .split_type(SplitType::Line),
                )
                .await
        })
        .map_err(|e| format!("transform: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();

    let out_uri =
        StorageUri::parse(&format!("{output}/batch_X.csv.out")).map_err(|e| e.to_string())?;
    let produced = local.local_file(&out_uri)?;
    copy(&produced, out)?;
    let rows = count_lines(&produced)?;
    eprintln!("compare: batch of {rows} rows in {seconds:.3} s");
    println!(
        "{}",
        json!({
            "side": "rust",
            "engine": "sagemaker-rs",
            "rows": rows,
            "seconds": seconds,
            "rows_per_s": rows as f64 / seconds,
            "peak_rss_mb": vm_mib("VmHWM:"),
        })
    );
    Ok(())
}

/// The number of lines of a file (newline bytes, plus a last unterminated line).
fn count_lines(path: &Path) -> Result<usize, Failure> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    Ok(newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n')))
}
