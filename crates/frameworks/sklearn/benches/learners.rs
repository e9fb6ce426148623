//! Our learners against scikit-learn, side by side in one run on the same CSV files:
//! k-NN predict (brute force, scikit-learn with one BLAS thread) and the linear fits.
//!
//! `SAGEMAKER_TEST_PYTHON=target/test-venv/bin/python cargo bench -p sagemaker-sklearn --bench learners`
//! prints a Markdown table of medians (`-- --runs N` for N runs, default 3). Our fit time is
//! the container's own `fit took … ms` log line (the fit alone, without reading the CSV);
//! scikit-learn's is `estimator.fit` timed by `python/bench_reference.py`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sagemaker_core::container::TrainingReporter;
use sagemaker_sklearn::Algorithm;
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;

/// Remembers the container's `fit took … ms`.
#[derive(Default)]
struct FitTime(Mutex<Option<f64>>);

impl TrainingReporter for FitTime {
    fn log(&self, line: &str) {
        if let Some(ms) = line
            .strip_prefix("fit took ")
            .and_then(|r| r.strip_suffix(" ms"))
        {
            *self.0.lock().unwrap() = ms.parse::<f64>().ok().map(|ms| ms / 1e3);
        }
    }
    fn metric(&self, _: &str, _: f64) {}
}

struct Rng(u64);

impl Rng {
    fn normal(&mut self) -> f64 {
        let mut u = || {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let (a, b) = (u().max(1e-300), u());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
}

/// `n` rows of 20 features and a label: 3 overlapping classes, or a noisy linear target.
fn rows(seed: u64, n: usize, classes: bool) -> Vec<(String, Vec<f64>)> {
    let mut r = Rng(seed);
    (0..n)
        .map(|i| {
            let c = i % 3;
            let x: Vec<f64> = (0..20)
                .map(|j| {
                    r.normal()
                        + if classes && j < 5 {
                            (c * (j + 1) % 3) as f64
                        } else {
                            0.0
                        }
                })
                .collect();
            let y = if classes {
                c.to_string()
            } else {
                (x.iter()
                    .enumerate()
                    .map(|(j, v)| v * (j as f64 - 8.0))
                    .sum::<f64>()
                    + r.normal())
                .to_string()
            };
            (y, x)
        })
        .collect()
}

fn write(path: &Path, rows: &[(String, Vec<f64>)], label: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = rows
        .iter()
        .map(|(y, x)| {
            let xs: Vec<String> = x.iter().map(f64::to_string).collect();
            if label {
                format!("{y},{}\n", xs.join(","))
            } else {
                xs.join(",") + "\n"
            }
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ours(
    dir: &Path,
    algorithm: Algorithm,
    hps: &Value,
    train: &Path,
    test_x: &[f64],
    runs: usize,
) -> (f64, f64) {
    let (mut fit, mut predict) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let timer = Arc::new(FitTime::default());
        let root = dir.join(format!("{}-{run}", algorithm.name()));
        let model = support::train_in_container(&root, algorithm, hps, train, timer.clone());
        fit.push(
            timer
                .0
                .lock()
                .unwrap()
                .expect("the container logs its fit time"),
        );
        let started = Instant::now();
        let p = model.predict_rows(test_x).unwrap();
        predict.push(started.elapsed().as_secs_f64());
        assert_eq!(p.len() * 20, test_x.len());
    }
    (median(fit), median(predict))
}

fn theirs(
    python: &Path,
    algorithm: Algorithm,
    hps: &Value,
    train: &Path,
    test: &Path,
    runs: usize,
) -> (f64, f64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/bench_reference.py");
    let out = Command::new(python)
        .arg(script)
        .arg(train)
        .arg(test)
        .arg(algorithm.name())
        .arg(hps.to_string())
        .arg(runs.to_string())
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let times = |k: &str| {
        v[k].as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect()
    };
    (median(times("fit")), median(times("predict")))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(3);
    let python = PathBuf::from(
        std::env::var_os("SAGEMAKER_TEST_PYTHON")
            .expect("set SAGEMAKER_TEST_PYTHON to a Python with scikit-learn (the test venv)"),
    );
    let dir = tempfile::tempdir().unwrap();
    let (n_train, n_test) = (70_000, 10_000);
    let mut table = vec![
        "| learner | data | step | scikit-learn 1.4.2 (1 thread) | ours | ours ÷ theirs (speed) |"
            .to_string(),
        "|---|---|---|---:|---:|---:|".to_string(),
    ];
    for (classes, cases) in [
        (true, vec![(Algorithm::KNeighborsClassifier, json!({}))]),
        (
            false,
            vec![
                (Algorithm::KNeighborsRegressor, json!({})),
                (Algorithm::LinearRegression, json!({})),
                (Algorithm::Ridge, json!({})),
                (Algorithm::Lasso, json!({"alpha": 0.01})),
                (Algorithm::ElasticNet, json!({"alpha": 0.01})),
            ],
        ),
    ] {
        let tag = if classes { "clf" } else { "reg" };
        let train = dir.path().join(tag).join("train.csv");
        let test = dir.path().join(format!("{tag}-test.csv"));
        write(&train, &rows(7, n_train, classes), true);
        let test_rows = rows(8, n_test, classes);
        write(&test, &test_rows, false);
        let test_x: Vec<f64> = test_rows.iter().flat_map(|(_, x)| x.clone()).collect();
        for (algorithm, hps) in cases {
            let (fit_t, pred_t) = theirs(&python, algorithm, &hps, &train, &test, runs);
            let (fit_o, pred_o) = ours(dir.path(), algorithm, &hps, &train, &test_x, runs);
            let data = format!(
                "{}k × 20{}",
                n_train / 1000,
                if hps == json!({}) {
                    String::new()
                } else {
                    format!(" {hps}")
                }
            );
            let knn = matches!(
                algorithm,
                Algorithm::KNeighborsClassifier | Algorithm::KNeighborsRegressor
            );
            let (step, t, o) = if knn {
                (format!("predict {}k rows", n_test / 1000), pred_t, pred_o)
            } else {
                ("fit".to_string(), fit_t, fit_o)
            };
            table.push(format!(
                "| {algorithm} | {data} | {step} | {:.1} ms | {:.1} ms | {:.2}× |",
                t * 1e3,
                o * 1e3,
                t / o
            ));
            eprintln!("{}", table.last().unwrap());
        }
    }
    println!("{}", table.join("\n"));
}
