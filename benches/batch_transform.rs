//! Batch transform throughput: 1 000 000 × 20 CSV rows through a `LogisticRegression` model,
//! `MultiRecord`, 6 MB payloads, `AssembleWith=Line`, end to end from `transform()` to the
//! finished `.out`; then a check that the output equals predicting row by row.
//!
//! `cargo bench -p sagemaker --bench batch_transform` (about a minute; writes ~190 MB under a
//! temporary directory). Prints rows/s per run, the median, and the process's peak RSS.

use std::io::Write;
use std::time::Instant;

use sagemaker::prelude::*;
use sagemaker::sklearn::SklearnModel;

const ROWS: usize = 1_000_000;
const FEATURES: usize = 20;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// Writes `rows` rows of 20 features; with `label`, the class (0..3) first.
fn write_rows(path: &std::path::Path, rows: usize, seed: u64, label: bool) {
    let mut rng = Lcg(seed);
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    for i in 0..rows {
        let class = i % 3;
        if label {
            write!(f, "{class},").unwrap();
        }
        for j in 0..FEATURES {
            let shift = if j < 10 {
                class as f64 * 0.8 * ((j % 3) as f64 - 1.0)
            } else {
                0.0
            };
            let v = rng.next() * 4.0 - 2.0 + shift;
            if j > 0 {
                f.write_all(b",").unwrap();
            }
            write!(f, "{v:.6}").unwrap();
        }
        f.write_all(b"\n").unwrap();
    }
    f.flush().unwrap();
}

fn vm(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let session = LocalSession::builder().root(root.path()).build().unwrap();
    let bucket = "sagemaker-local";

    let train = root.path().join("train.csv");
    write_rows(&train, 70_000, 1, true);
    let input_dir = root.path().join(format!("s3/{bucket}/batch-in"));
    std::fs::create_dir_all(&input_dir).unwrap();
    let input = input_dir.join("x.csv");
    write_rows(&input, ROWS, 2, false);
    let size_mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
    println!(
        "input: {ROWS} x {FEATURES} rows, {size_mb:.0} MB; RSS before: {:.1} MiB",
        vm("VmRSS:")
    );

    let estimator = rt.block_on(async {
        let data = session.upload_data(&train, "train").await.unwrap();
        let est = SKLearn::builder()
            .entry_point("LogisticRegression")
            .framework_version("1.2-1")
            .instance_type("local")
            .hyperparameter("max_iter", 200)
            .session(session.clone())
            .build()
            .unwrap();
        est.fit(data).await.unwrap();
        est
    });

    let mut rates = Vec::new();
    for run in 0..3 {
        let output = format!("s3://{bucket}/batch-out-{run}");
        let started = Instant::now();
        rt.block_on(async {
            let t = estimator
                .transformer(
                    Transformer::builder()
                        .instance_type("ml.m5.large")
                        .strategy(BatchStrategy::MultiRecord)
                        .max_payload(6)
                        .assemble_with(AssembleWith::Line)
                        .accept("text/csv")
                        .output_path(output.clone()),
                )
                .await
                .unwrap();
            t.transform(
                &format!("s3://{bucket}/batch-in/"),
                TransformArgs::new()
                    .content_type("text/csv")
                    .split_type(SplitType::Line),
            )
            .await
            .unwrap();
        });
        let secs = started.elapsed().as_secs_f64();
        let rate = ROWS as f64 / secs;
        println!("run {run}: {secs:.3} s, {:.2} M rows/s", rate / 1e6);
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "median: {:.2} M rows/s (goal >= 2.00); peak RSS {:.1} MiB (goal < 256)",
        rates[1] / 1e6,
        vm("VmHWM:")
    );

    // The output equals predicting row by row through the same artifact.
    let artifact = rt.block_on(estimator.model_data()).unwrap();
    let dir = root.path().join("model");
    sagemaker::artifact::extract_file(
        &session.store().local_path(&artifact).unwrap(),
        &dir,
        Default::default(),
    )
    .unwrap();
    let model = SklearnModel::load(&dir).unwrap();
    let out = std::fs::read_to_string(
        root.path()
            .join(format!("s3/{bucket}/batch-out-0/x.csv.out")),
    )
    .unwrap();
    let text = std::fs::read_to_string(&input).unwrap();
    let mut checked = 0;
    for (line, predicted) in text.lines().zip(out.lines()) {
        let row: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(
            model.predict_rows(&row).unwrap()[0],
            predicted,
            "row {checked}"
        );
        checked += 1;
    }
    assert_eq!(checked, ROWS);
    assert_eq!(out.lines().count(), ROWS);
    println!("output identical to row-by-row prediction on all {checked} rows");
}
