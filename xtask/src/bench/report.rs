//! The report: medians, ratios and the machine, as `results.json` and `results.md`.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::batch::batch_medians;
use super::serving::serving_medians;
use super::training::training_medians;
use super::{ALGORITHMS, Options, Paths, Results, WARMUP};

pub(super) fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The machine: logical CPUs, CPU model, date.
pub(super) fn machine() -> Value {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map(|kib| kib / 1024.0 / 1024.0)
    });
    json!({"nproc": cpus, "cpu": model, "date": date, "mem_gib": mem})
}

/// Seconds with a precision that suits their size.
pub(super) fn secs(s: f64) -> String {
    if !s.is_finite() {
        "–".into()
    } else if s < 0.001 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// A count with thousands separators.
pub(super) fn count(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if x < 0.0 { format!("−{out}") } else { out }
}

pub(super) fn ratio(ours: Option<f64>, theirs: Option<f64>) -> String {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 && a.is_finite() => {
            let r = a / b;
            if r >= 10.0 {
                format!("{r:.1}×")
            } else {
                format!("{r:.3}×")
            }
        }
        _ => "–".into(),
    }
}

pub(super) fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or("–".into(), f)
}

pub(super) fn report(
    paths: &Paths,
    options: &Options,
    results: &Results,
    total: Duration,
) -> Result<String, String> {
    let training = training_medians(&results.training);
    let serving = serving_medians(&results.serving);
    let batch = batch_medians(&results.batch);
    let machine = machine();

    let json = json!({
        "machine": machine,
        "options": {
            "quick": options.quick, "runs": options.runs, "batch_runs": options.batch_runs(),
            "skip_python": options.skip_python, "load_generator": results.load_generator,
            "load_seconds": options.load_seconds().as_secs(), "warmup_seconds": WARMUP.as_secs(),
            "data": paths.data,
        },
        "total_seconds": total.as_secs_f64(),
        "skipped": results.skipped,
        "failures": results.failures,
        "training": {"runs": results.training, "medians": training},
        "serving": {"runs": results.serving, "medians": serving},
        "batch": {"runs": results.batch, "medians": batch, "agreement": results.agreement},
    });
    let json_path = paths.bench.join("results.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", json_path.display()))?;

    let mut md = String::new();
    let mut line = |s: String| {
        md.push_str(&s);
        md.push('\n');
    };
    line(format!(
        "# Side by side: sagemaker-rs vs the Python SDK's scikit-learn stack{}",
        if options.quick { " (quick)" } else { "" }
    ));
    line(String::new());
    line(format!(
        "Machine: {} logical CPUs, {}{}; {}. Medians over {} run(s) per figure (batch: {}), sides \
         alternating run by run; {:.0} s in all.",
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["mem_gib"]
            .as_f64()
            .map_or(String::new(), |g| format!(", {g:.0} GiB")),
        machine["date"].as_str().unwrap_or("?"),
        options.runs,
        options.batch_runs(),
        total.as_secs_f64()
    ));
    let rows = |file: &str| {
        std::fs::read(paths.data.join(file)).map_or("?".into(), |b| {
            count(b.iter().filter(|&&c| c == b'\n').count() as f64)
        })
    };
    line(String::new());
    line(format!(
        "Data (`{}`, train / test rows): iris {} / {} × 4 features; synthetic {} / {} × 20 \
         features, 3 classes{}.",
        paths.data.display(),
        rows("iris_train.csv"),
        rows("iris_test.csv"),
        rows("syn_train.csv"),
        rows("syn_test.csv"),
        batch
            .first()
            .and_then(|m| m["rows"].as_f64())
            .map_or(String::new(), |n| format!("; batch {} rows × 20", count(n)))
    ));
    for s in &results.skipped {
        line(format!("\n- skip: {s}"));
    }
    for f in &results.failures {
        line(format!(
            "\n- **failed**: {}",
            f.lines().next().unwrap_or_default()
        ));
    }

    // Training.
    let find = |side: &str, threads: &str, data: &str, algorithm: &str| {
        training.iter().find(|m| {
            m["side"] == side
                && m["threads"] == threads
                && m["data"] == data
                && m["algorithm"] == algorithm
        })
    };
    let field = |m: Option<&Value>, f: &str| m.and_then(|m| m[f].as_f64());
    line(String::new());
    line("## Training".into());
    line(String::new());
    line(
        "Fit time: scikit-learn's `fit` (median of 3 inside each run) with BLAS/OpenMP pinned to \
         1 thread and with its default threads, against our container's own fit (its log) and \
         our whole `fit()` (job record, CSV read, fit, scoring, `model.tar.gz`). Ratios are \
         ours ÷ theirs: below 1 is faster."
            .into(),
    );
    line(String::new());
    line(
        "| data | algorithm | sklearn 1 thread | sklearn default | ours: fit | ours: whole job | \
         fit ours ÷ 1 thread | fit ours ÷ default |"
            .into(),
    );
    line("|---|---|---:|---:|---:|---:|---:|---:|".into());
    for data in ["iris", "syn"] {
        for algorithm in ALGORITHMS {
            let (p1, pd, r) = (
                find("python", "1", data, algorithm),
                find("python", "default", data, algorithm),
                find("rust", "1", data, algorithm),
            );
            if p1.is_none() && pd.is_none() && r.is_none() {
                continue;
            }
            line(format!(
                "| {data} | {algorithm} | {} | {} | {} | {} | {} | {} |",
                opt(field(p1, "fit_s"), secs),
                opt(field(pd, "fit_s"), secs),
                opt(field(r, "fit_s"), secs),
                opt(field(r, "job_s"), secs),
                ratio(field(r, "fit_s"), field(p1, "fit_s")),
                ratio(field(r, "fit_s"), field(pd, "fit_s")),
            ));
        }
    }
    line(String::new());
    line(
        "Predict throughput over the test rows (scikit-learn's `predict`; our \
         `SklearnModel::predict_rows`) and test accuracy. Ratio: ours ÷ theirs, above 1 is \
         faster."
            .into(),
    );
    line(String::new());
    line(
        "| data | algorithm | test rows | sklearn 1 thread rows/s | sklearn default rows/s | ours \
         rows/s | ours ÷ 1 thread | sklearn accuracy | our accuracy | difference |"
            .into(),
    );
    line("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|".into());
    for data in ["iris", "syn"] {
        for algorithm in ALGORITHMS {
            let (p1, pd, r) = (
                find("python", "1", data, algorithm),
                find("python", "default", data, algorithm),
                find("rust", "1", data, algorithm),
            );
            if p1.is_none() && pd.is_none() && r.is_none() {
                continue;
            }
            let rows = r.or(p1).map_or(Value::Null, |m| m["test_rows"].clone());
            let (acc_p, acc_r) = (field(p1.or(pd), "accuracy"), field(r, "accuracy"));
            line(format!(
                "| {data} | {algorithm} | {rows} | {} | {} | {} | {} | {} | {} | {} |",
                opt(field(p1, "predict_rows_per_s"), count),
                opt(field(pd, "predict_rows_per_s"), count),
                opt(field(r, "predict_rows_per_s"), count),
                ratio(
                    field(r, "predict_rows_per_s"),
                    field(p1, "predict_rows_per_s")
                ),
                opt(acc_p, |a| format!("{a:.6}")),
                opt(acc_r, |a| format!("{a:.6}")),
                match (acc_r, acc_p) {
                    (Some(a), Some(b)) => format!("{:+.6}", a - b),
                    _ => "–".into(),
                }
            ));
        }
    }

    // Serving.
    line(String::new());
    line("## Serving".into());
    line(String::new());
    line(format!(
        "`POST` `text/csv` in and out on loopback keep-alive connections, {} s runs after a {} s \
         warm-up; load by {}. Theirs: the container-shaped stand-in (nginx → gunicorn gevent ×2 \
         → Flask, the container's CSV decode, `LogisticRegression(max_iter=200)` on iris); ours: \
         `sagemaker serve` of the same model trained by the SDK. Errors: non-2xx answers and \
         failed requests, summed over the runs. Ratios: ours ÷ theirs.",
        options.load_seconds().as_secs(),
        WARMUP.as_secs(),
        results.load_generator
    ));
    line(String::new());
    line(
        "| body | conns | stand-in req/s | p50 ms | p99 ms | errors | ours req/s | p50 ms | p99 ms \
         | errors | req/s ours ÷ theirs | p50 ours ÷ theirs |"
            .into(),
    );
    line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|".into());
    for (body, conns) in [("row1", 16u64), ("rows100", 16), ("row1", 1)] {
        let get = |side: &str| {
            serving
                .iter()
                .find(|m| m["side"] == side && m["body"] == body && m["connections"] == conns)
        };
        let (p, r) = (get("python"), get("rust"));
        if p.is_none() && r.is_none() {
            continue;
        }
        let cells = |m: Option<&Value>| {
            format!(
                "{} | {} | {} | {}",
                opt(field(m, "rps"), count),
                opt(field(m, "p50_ms"), |x| format!("{x:.3}")),
                opt(field(m, "p99_ms"), |x| format!("{x:.3}")),
                m.map_or("–".into(), |m| m["errors"].to_string())
            )
        };
        line(format!(
            "| {body} | {conns} | {} | {} | {} | {} |",
            cells(p),
            cells(r),
            ratio(field(r, "rps"), field(p, "rps")),
            ratio(field(r, "p50_ms"), field(p, "p50_ms")),
        ));
    }

    // Batch.
    line(String::new());
    line("## Batch transform".into());
    line(String::new());
    line(
        "`batch_X.csv` → `LogisticRegression(max_iter=200)` trained on `syn_train.csv` → one \
         label per line. Ours: `transform()` end to end (`MultiRecord`, 6 MB payloads, \
         `AssembleWith=Line`, `Accept: text/csv`); theirs: the container's decode path \
         (csv.reader → numpy) and pandas `read_csv` in chunks. Peak RSS of each process. \
         Agreement: lines equal to ours."
            .into(),
    );
    line(String::new());
    line("| engine | rows | seconds | rows/s | peak RSS MiB | agreement with ours | ours rows/s ÷ theirs |".into());
    line("|---|---:|---:|---:|---:|---:|---:|".into());
    let ours_rate = batch
        .iter()
        .find(|m| m["label"] == "rust")
        .and_then(|m| m["rows_per_s"].as_f64());
    for label in ["rust", "container", "pandas"] {
        let Some(m) = batch.iter().find(|m| m["label"] == label) else {
            continue;
        };
        let agree = results
            .agreement
            .iter()
            .find(|a| a["engine"] == label && a["against"] == "rust")
            .and_then(|a| a["percent"].as_f64());
        let name = match label {
            "rust" => "ours (sagemaker-rs)",
            "container" => "Python container decode",
            _ => "Python pandas chunks",
        };
        line(format!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            opt(m["rows"].as_f64(), count),
            opt(m["seconds"].as_f64(), |s| format!("{s:.3}")),
            opt(m["rows_per_s"].as_f64(), count),
            opt(m["peak_rss_mb"].as_f64(), |x| format!("{x:.0}")),
            if label == "rust" {
                "—".into()
            } else {
                opt(agree, |p| format!("{p:.4} %"))
            },
            if label == "rust" {
                "—".into()
            } else {
                ratio(ours_rate, m["rows_per_s"].as_f64())
            },
        ));
    }
    if let Some(a) = results
        .agreement
        .iter()
        .find(|a| a["against"] == "container")
    {
        line(String::new());
        line(format!(
            "pandas vs the container decode: {} lines agree ({:.4} %).",
            a["agreeing_lines"],
            a["percent"].as_f64().unwrap_or(f64::NAN)
        ));
    }

    let md_path = paths.bench.join("results.md");
    std::fs::write(&md_path, &md).map_err(|e| format!("{}: {e}", md_path.display()))?;
    Ok(md)
}
