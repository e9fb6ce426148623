//! The batch-transform comparison: `compare batch` against the Python decode path and
//! pandas, outputs checked line by line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::process::{json_lines, output, python_cmd};
use super::report::median;
use super::{Binaries, Options, Paths, Results};

pub(super) fn batch(
    paths: &Paths,
    bins: &Binaries,
    options: &Options,
    python: bool,
    results: &mut Results,
) -> Result<(), String> {
    let model = paths.tmp.join("syn-logistic.pkl");
    if python {
        let mut cmd = python_cmd(paths, "train_pickle.py");
        cmd.arg(&paths.data).arg(&model).args(["--data", "syn"]);
        output(paths, "train_pickle", cmd)?;
    }
    let out = |engine: &str| paths.tmp.join(format!("batch-{engine}.out"));
    let runs = options.batch_runs();
    // A side that fails is reported once and left out of the later runs.
    let mut broken: Vec<&str> = Vec::new();
    for run in 1..=runs {
        let mut sides: Vec<(&str, Command)> = Vec::new();
        let mut cmd = Command::new(&bins.compare);
        cmd.arg("batch").arg(&paths.data).arg(out("rust"));
        sides.push(("rust", cmd));
        if python {
            for engine in ["container", "pandas"] {
                let mut cmd = python_cmd(paths, "batch_anchor.py");
                cmd.arg(&paths.data)
                    .arg(&model)
                    .args(["--engine", engine, "--out"])
                    .arg(out(engine));
                sides.push((engine, cmd));
            }
        }
        for (label, cmd) in sides {
            if broken.contains(&label) {
                continue;
            }
            let mut line = match json_lines(paths, &format!("batch-{label}"), cmd) {
                Ok(mut lines) => lines.remove(0),
                Err(e) => {
                    results.fail(&format!("batch transform, {label}"), e);
                    broken.push(label);
                    continue;
                }
            };
            println!(
                "   run {run}/{runs} {label}: {} rows in {:.3} s ({:.0} rows/s, peak RSS {:.0} MiB)",
                line["rows"],
                line["seconds"].as_f64().unwrap_or(f64::NAN),
                line["rows_per_s"].as_f64().unwrap_or(f64::NAN),
                line["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            );
            line["run"] = json!(run);
            line["label"] = json!(label);
            results.batch.push(line);
        }
    }
    if python && broken.is_empty() {
        let ours = read_lines(&out("rust"))?;
        for engine in ["container", "pandas"] {
            let theirs = read_lines(&out(engine))?;
            let a = agreement(&ours, &theirs);
            println!(
                "   {engine} vs ours: {} of {} lines agree ({:.4} %), {} vs {} lines",
                a.0,
                ours.len(),
                a.1,
                theirs.len(),
                ours.len()
            );
            results.agreement.push(json!({
                "engine": engine, "against": "rust", "agreeing_lines": a.0,
                "our_lines": ours.len(), "their_lines": theirs.len(), "percent": a.1,
            }));
        }
        let (container, pandas) = (read_lines(&out("container"))?, read_lines(&out("pandas"))?);
        let a = agreement(&container, &pandas);
        results.agreement.push(json!({
            "engine": "pandas", "against": "container", "agreeing_lines": a.0,
            "our_lines": container.len(), "their_lines": pandas.len(), "percent": a.1,
        }));
    }
    Ok(())
}

pub(super) fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .lines()
        .map(|l| l.trim().to_string())
        .collect())
}

/// Lines of `theirs` equal to the same line of `ours` (as text, or as numbers: `1` = `1.0`),
/// and that count in percent of `ours` (a missing or extra line disagrees).
pub(super) fn agreement(ours: &[String], theirs: &[String]) -> (usize, f64) {
    let same = |a: &String, b: &String| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    let agreeing = ours.iter().zip(theirs).filter(|(a, b)| same(a, b)).count();
    let total = ours.len().max(theirs.len()).max(1);
    (agreeing, 100.0 * agreeing as f64 / total as f64)
}

pub(super) fn batch_medians(runs: &[Value]) -> Vec<Value> {
    let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in runs {
        groups
            .entry(r["label"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|(label, rows)| {
            let mut m = json!({
                "label": label, "side": rows[0]["side"], "engine": rows[0]["engine"],
                "rows": rows[0]["rows"], "runs": rows.len(),
            });
            for field in ["seconds", "rows_per_s", "peak_rss_mb"] {
                if let Some(x) = median(rows.iter().filter_map(|r| r[field].as_f64())) {
                    m[field] = json!(x);
                }
            }
            m
        })
        .collect()
}
