//! Training benchmarks: `Estimator::fit` end to end on iris, and the SDK's overhead over
//! fitting the same algorithm directly on 70 000 × 20 rows.
//!
//! `cargo xtask bench training` (or `cargo bench -p sagemaker --bench training`).
//! Prints the peak RSS of the process at the end.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use sagemaker::prelude::*;
use sagemaker::sklearn::SklearnContainer;
use sagemaker_test_support::iris_csv;

/// A deterministic 3-class, 20-feature set shaped like scikit-learn's `make_classification`
/// (10 informative features around per-class centres, 10 noise features), label first.
fn synthetic_csv(rows: usize, seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let centres: Vec<Vec<f64>> = (0..3)
        .map(|_| (0..10).map(|_| 2.0 * normal()).collect())
        .collect();
    let mut out = String::with_capacity(rows * 20 * 10);
    for i in 0..rows {
        let class = i % 3;
        out.push_str(&class.to_string());
        for centre in &centres[class] {
            out.push_str(&format!(",{:.6}", centre + 1.5 * normal()));
        }
        for _ in 0..10 {
            out.push_str(&format!(",{:.6}", normal()));
        }
        out.push('\n');
    }
    out
}

fn estimator(session: &Session, target: serde_json::Value) -> Estimator<SKLearn> {
    SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("local")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", target)
        .session(session.clone())
        .build()
        .unwrap()
}

fn upload(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    root: &Path,
    name: &str,
    csv: &str,
) -> StorageUri {
    let path = root.join(name);
    std::fs::write(&path, csv).unwrap();
    rt.block_on(session.upload_data(&path, "bench")).unwrap()
}

fn fit_iris(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let session = LocalSession::builder().root(root.path()).build().unwrap();
    let data = upload(&rt, &session, root.path(), "iris.csv", &iris_csv());
    let est = estimator(&session, "species".into());
    c.bench_function("fit/iris_logistic_regression_end_to_end", |b| {
        b.iter(|| rt.block_on(est.fit(data.clone())).unwrap())
    });
}

fn fit_70k(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let session = LocalSession::builder().root(root.path()).build().unwrap();
    let csv = synthetic_csv(70_000, 0);
    let data = upload(&rt, &session, root.path(), "syn70k.csv", &csv);
    let est = estimator(&session, 0.into());
    let mut group = c.benchmark_group("fit/70k_x_20_logistic_regression");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("sdk_end_to_end", |b| {
        b.iter(|| rt.block_on(est.fit(data.clone())).unwrap())
    });
    // The same container, called directly on a hand-made training layout: the CSV read and
    // the fit, without job records, channel links, config files or the tarball.
    let direct_root = root.path().join("direct");
    let paths = sagemaker::container::TrainingPaths::new(&direct_root);
    std::fs::create_dir_all(paths.channel_dir("training")).unwrap();
    std::fs::create_dir_all(&paths.model_dir).unwrap();
    std::fs::write(paths.channel_dir("training").join("syn70k.csv"), &csv).unwrap();
    group.bench_function("container_direct", |b| {
        b.iter(|| {
            let env = direct_env(&paths);
            sagemaker::container::Container::train(&SklearnContainer, &env).unwrap()
        })
    });
    group.finish();
}

struct Quiet;
impl sagemaker::container::TrainingReporter for Quiet {
    fn log(&self, _line: &str) {}
    fn metric(&self, _name: &str, _value: f64) {}
}

fn direct_env(paths: &sagemaker::container::TrainingPaths) -> sagemaker::container::TrainingEnv {
    let hps = [
        ("sagemaker_program", "\"LogisticRegression\""),
        ("max_iter", "200"),
        ("target", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    sagemaker::container::TrainingEnv::new(
        "direct",
        paths.clone(),
        std::sync::Arc::new(Quiet),
        Default::default(),
    )
    .with_hyperparameters(hps)
    .with_channels([("training".to_string(), None)].into_iter().collect())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

criterion_group!(benches, fit_iris, fit_70k);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS of the bench process: {mib:.1} MiB");
    }
}
