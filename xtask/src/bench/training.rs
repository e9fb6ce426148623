//! The training comparison: scikit-learn against `compare train`, side by side.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use super::process::{json_lines, python_cmd};
use super::report::median;
use super::{Binaries, Options, Paths, Results};

pub(super) fn training(
    paths: &Paths,
    bins: &Binaries,
    options: &Options,
    python: bool,
    results: &mut Results,
) -> Result<(), String> {
    // A side that fails is reported once and left out of the later runs.
    let mut broken: Vec<String> = Vec::new();
    for data in ["iris", "syn"] {
        for run in 1..=options.runs {
            let mut sides: Vec<(&str, Command)> = Vec::new();
            if python {
                for (label, threads) in [("python-1", "1"), ("python-default", "default")] {
                    let mut cmd = python_cmd(paths, "train_anchor.py");
                    cmd.arg(&paths.data)
                        .args(["--threads", threads, "--data", data]);
                    sides.push((label, cmd));
                }
            }
            let mut cmd = Command::new(&bins.compare);
            cmd.arg("train").arg(&paths.data).args(["--data", data]);
            sides.push(("rust", cmd));
            for (label, cmd) in sides {
                let key = format!("{label} on {data}");
                if broken.contains(&key) {
                    continue;
                }
                let started = Instant::now();
                let lines = match json_lines(paths, &format!("train-{label}"), cmd) {
                    Ok(lines) => lines,
                    Err(e) => {
                        results.fail(&format!("training, {key}"), e);
                        broken.push(key);
                        continue;
                    }
                };
                println!(
                    "   {data} run {run}/{} {label}: {} algorithms in {:.1} s",
                    options.runs,
                    lines.len(),
                    started.elapsed().as_secs_f64()
                );
                for mut line in lines {
                    line["run"] = json!(run);
                    results.training.push(line);
                }
            }
        }
    }
    Ok(())
}

/// The key of a training row: (side, threads, data, algorithm).
pub(super) fn training_key(v: &Value) -> (String, String, String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    (s("side"), s("threads"), s("data"), s("algorithm"))
}

pub(super) fn training_medians(runs: &[Value]) -> Vec<Value> {
    let mut groups: BTreeMap<(String, String, String, String), Vec<&Value>> = BTreeMap::new();
    for r in runs {
        groups.entry(training_key(r)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((side, threads, data, algorithm), rows)| {
            let mut m = json!({
                "side": side, "threads": threads, "data": data, "algorithm": algorithm,
                "runs": rows.len(),
                "engine": rows[0]["engine"], "test_rows": rows[0]["test_rows"],
            });
            for field in ["fit_s", "job_s", "predict_rows_per_s", "accuracy"] {
                if let Some(x) = median(rows.iter().filter_map(|r| r[field].as_f64())) {
                    m[field] = json!(x);
                }
            }
            m
        })
        .collect()
}
