//! Peak memory of one 70 000 × 20 `LogisticRegression` fit through the SDK, in a fresh
//! process: `cargo bench -p sagemaker --bench fit_memory`.

use sagemaker::prelude::*;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench` asks every target for its list; this one has no named benches.
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = tempfile::tempdir().unwrap();
    let session = LocalSession::builder().root(root.path()).build().unwrap();
    // 70 000 rows × (label + 20 features), written straight to the store's file.
    let path = root.path().join("syn70k.csv");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut state = 42u64;
        for i in 0..70_000 {
            write!(f, "{}", i % 3).unwrap();
            for _ in 0..20 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v =
                    ((state >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0 + (i % 3) as f64 * 0.3;
                write!(f, ",{v:.6}").unwrap();
            }
            writeln!(f).unwrap();
        }
    }
    let before = peak_rss_mib();
    let data = rt.block_on(session.upload_data(&path, "bench")).unwrap();
    let est = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("local")
        .hyperparameter("max_iter", 200)
        .session(session)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let job = rt.block_on(est.fit(data)).unwrap();
    let elapsed = started.elapsed();
    println!(
        "fit of 70000 x 20 ({}): {:.1} ms; peak RSS before the fit {before:.1} MiB, after {:.1} MiB",
        job.name(),
        elapsed.as_secs_f64() * 1e3,
        peak_rss_mib()
    );
}
