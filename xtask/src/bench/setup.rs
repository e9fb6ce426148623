//! Setup steps of the benchmark: the Python venv, the data, our release binaries.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::process::{json_lines, output, python_cmd};
use super::{Binaries, DATA_FILES, Paths};

/// A stable-enough fingerprint of some files' contents, for the stamps of cached steps.
pub(super) fn fingerprint(files: &[PathBuf]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    for f in files {
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

pub(super) fn ensure_venv(paths: &Paths) -> Result<(), String> {
    let requirements = paths.root.join("benches/python/requirements-bench.txt");
    let stamp = paths.venv.join(".xtask-requirements");
    let print = fingerprint(&[
        requirements.clone(),
        paths.root.join("benches/python/requirements.txt"),
    ]);
    if !paths.python().is_file() {
        println!("   creating {}", paths.venv.display());
        let mut cmd = Command::new("python3");
        cmd.arg("-m").arg("venv").arg(&paths.venv);
        output(paths, "venv", cmd)?;
    } else if std::fs::read_to_string(&stamp).is_ok_and(|s| s == print) {
        println!("   reusing {}", paths.venv.display());
        return Ok(());
    }
    println!("   pip install -r {}", requirements.display());
    let mut cmd = Command::new(paths.python());
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
    ])
    .arg(&requirements);
    output(paths, "venv", cmd)?;
    std::fs::write(&stamp, print).map_err(|e| format!("{}: {e}", stamp.display()))
}

pub(super) fn ensure_data(paths: &Paths, quick: bool, python: bool) -> Result<(), String> {
    let stamp = paths.data.join(".xtask-complete");
    let print = fingerprint(&[
        paths.anchor("gen_data.py"),
        paths.root.join("benches/python/parity.py"),
    ]);
    let complete = DATA_FILES.iter().all(|f| paths.data.join(f).is_file());
    if complete && (!python || std::fs::read_to_string(&stamp).is_ok_and(|s| s == print)) {
        println!("   reusing {}", paths.data.display());
        return Ok(());
    }
    if !python {
        return Err(format!(
            "{} is incomplete and --skip-python cannot generate it: run once without \
             --skip-python",
            paths.data.display()
        ));
    }
    println!("   generating {}", paths.data.display());
    let mut cmd = python_cmd(paths, "gen_data.py");
    cmd.arg(&paths.data);
    if quick {
        cmd.arg("--quick");
    }
    let written = json_lines(paths, "gen_data", cmd)?;
    if let Some(files) = written[0]["files"].as_object() {
        let summary: Vec<String> = files
            .iter()
            .map(|(name, f)| format!("{name} {}", f["rows"]))
            .collect();
        println!("   rows: {}", summary.join(", "));
    }
    if let Some(missing) = DATA_FILES.iter().find(|f| !paths.data.join(f).is_file()) {
        return Err(format!("gen_data.py did not write {missing}"));
    }
    std::fs::write(&stamp, print).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// Builds with `--message-format=json` and returns the executable of target `name`.
pub(super) fn cargo_executable(args: &[&str], name: &str) -> Result<PathBuf, String> {
    let mut cmd = crate::cargo();
    cmd.args(args)
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    eprintln!("xtask: running {cmd:?}");
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo {} failed ({})", args.join(" "), out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo {} produced no executable '{name}'", args.join(" ")))
}

pub(super) fn build() -> Result<Binaries, String> {
    let sagemaker = cargo_executable(
        &["build", "--locked", "--release", "-p", "sagemaker-cli"],
        "sagemaker",
    )?;
    let compare = cargo_executable(
        &[
            "bench",
            "--locked",
            "-p",
            "sagemaker",
            "--bench",
            "compare",
            "--no-run",
        ],
        "compare",
    )?;
    println!("   {}\n   {}", sagemaker.display(), compare.display());
    Ok(Binaries { sagemaker, compare })
}
