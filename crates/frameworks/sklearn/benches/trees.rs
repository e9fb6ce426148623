//! The tree learners' speed, our side of `benches/python/trees_bench.py` (scikit-learn's).
//!
//! `cargo bench -p sagemaker-sklearn --bench trees -- DATADIR [--runs N] [--trees N]`
//! trains `DecisionTreeClassifier(random_state=0)` and `RandomForestClassifier(n_estimators=N,
//! random_state=0)` with `n_jobs` 1 and 2 through the in-process container on
//! `DATADIR/syn_train.csv` (label in the first column, as `gen_data.py` writes it), and
//! predicts `DATADIR/syn_test.csv` with the loaded artifact. It prints one JSON line per
//! case: the median of the container's own fit time (its `fit took X ms` log line), the
//! median predict time and the test accuracy. Without arguments (as `cargo bench` runs
//! every target) it prints a note and exits.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sagemaker_core::container::{Container, TrainingEnv, TrainingPaths, TrainingReporter};
use sagemaker_sklearn::{SklearnContainer, SklearnModel};

/// Keeps the container's `fit took X ms` line.
#[derive(Default)]
struct FitTime(Mutex<Option<f64>>);

impl TrainingReporter for FitTime {
    fn log(&self, line: &str) {
        if let Some(ms) = line
            .strip_prefix("fit took ")
            .and_then(|r| r.strip_suffix(" ms"))
            .and_then(|v| v.parse().ok())
        {
            *self.0.lock().unwrap() = Some(ms);
        }
    }
    fn metric(&self, _: &str, _: f64) {}
}

fn read_csv(path: &Path) -> (Vec<f64>, Vec<String>, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut x, mut y, mut n) = (Vec::new(), Vec::new(), 0);
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.split(',');
        y.push(fields.next().unwrap_or_default().to_string());
        let before = x.len();
        x.extend(fields.map(|f| f.trim().parse::<f64>().unwrap()));
        n = x.len() - before;
    }
    (x, y, n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(data) = args.first().filter(|a| !a.starts_with("--")) else {
        println!("trees: give DATADIR (see benches/python/trees_bench.py)");
        return;
    };
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (runs, n_trees) = (flag("--runs", 3), flag("--trees", 100));
    let data = Path::new(data);
    let train = data.join("syn_train.csv");
    let (test_x, test_y, _) = read_csv(&data.join("syn_test.csv"));
    let cases: Vec<(String, BTreeMap<&str, String>)> = vec![
        (
            "DecisionTreeClassifier".into(),
            BTreeMap::from([("random_state", "0".into())]),
        ),
        (
            format!("RandomForestClassifier({n_trees}) n_jobs=1"),
            BTreeMap::from([
                ("n_estimators", n_trees.to_string()),
                ("random_state", "0".into()),
                ("n_jobs", "1".into()),
            ]),
        ),
        (
            format!("RandomForestClassifier({n_trees}) n_jobs=2"),
            BTreeMap::from([
                ("n_estimators", n_trees.to_string()),
                ("random_state", "0".into()),
                ("n_jobs", "2".into()),
            ]),
        ),
    ];
    for (name, hps) in cases {
        let program = name.split('(').next().unwrap_or(&name).to_string();
        let (mut fits, mut predicts, mut accuracy) = (Vec::new(), Vec::new(), 0.0);
        for _ in 0..runs {
            let root = tempfile::tempdir().unwrap();
            let paths = TrainingPaths::new(root.path());
            std::fs::create_dir_all(paths.channel_dir("training")).unwrap();
            std::fs::copy(&train, paths.channel_dir("training").join("train.csv")).unwrap();
            std::fs::create_dir_all(&paths.model_dir).unwrap();
            let mut given: BTreeMap<String, String> = hps
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            given.insert("sagemaker_program".into(), format!("\"{program}\""));
            let reporter = Arc::new(FitTime::default());
            let env = TrainingEnv::new(
                "bench",
                paths.clone(),
                reporter.clone(),
                Arc::new(AtomicBool::new(false)),
            )
            .with_hyperparameters(given)
            .with_channels(BTreeMap::from([(
                "training".to_string(),
                Some("text/csv".to_string()),
            )]));
            SklearnContainer::new().train(&env).unwrap();
            fits.push(reporter.0.lock().unwrap().expect("a fit time") / 1e3);
            let model = SklearnModel::load(&paths.model_dir).unwrap();
            let started = Instant::now();
            let predicted = model.predict_rows(&test_x).unwrap();
            predicts.push(started.elapsed().as_secs_f64());
            let correct = predicted
                .iter()
                .zip(&test_y)
                .filter(|(p, t)| p.parse::<f64>().ok() == t.parse::<f64>().ok());
            accuracy = correct.count() as f64 / test_y.len() as f64;
        }
        println!(
            "{}",
            serde_json::json!({
                "side": "rust", "case": name, "runs": runs,
                "fit_s": median(fits), "predict_s": median(predicts),
                "test_rows": test_y.len(), "accuracy": accuracy,
            })
        );
    }
}
