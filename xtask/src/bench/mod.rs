//! `cargo xtask bench`: the side-by-side benchmark of this SDK against the Python SDK's
//! scikit-learn stack, on the same data, on the same machine, in the same run.
//!
//! Steps: a Python venv (`target/bench/venv`, pinned by `benches/python/requirements-bench.txt`),
//! the data (`benches/python/anchors/gen_data.py` into `target/bench/data`, or `data-quick`),
//! our binaries built once in release (`sagemaker` and the `compare` bench), then three
//! comparisons, the two sides alternating run by run so that drift on a shared machine hits
//! both equally:
//!
//! - training: scikit-learn with 1 thread and with its default threads (`train_anchor.py`)
//!   against `compare train` (the SDK end to end), on iris and on the synthetic set;
//! - serving: the container-shaped stand-in (nginx → gunicorn(gevent) → Flask,
//!   `serve_standin.sh`) against `sagemaker serve`, under keep-alive HTTP load (`wrk`, or the
//!   workspace's load generator, `sagemaker_test_support::load`, when `wrk` is missing or
//!   `--builtin-load` is given);
//! - batch transform: `compare batch` against `batch_anchor.py`'s container decode path and
//!   pandas, with the three outputs checked line by line.
//!
//! Results: `target/bench/results.json` (every raw run and the medians) and
//! `target/bench/results.md` (printed too). Server children are stopped by a guard on drop,
//! so an error or a panic leaves no server behind.
//!
//! Modules: `setup` (venv, data, build), `process` (children and servers), one per comparison
//! (`training`, `serving`, `batch`), `report` (medians and the tables).

mod batch;
mod process;
mod report;
mod serving;
mod setup;
mod training;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::Value;

use batch::batch;
use process::on_path;
use report::report;
use serving::serving;
use setup::{build, ensure_data, ensure_venv};
use training::training;

const USAGE: &str = "usage: cargo xtask bench [--quick] [--runs N] [--skip-python] [--builtin-load]
       cargo xtask bench NAME      (one criterion bench target, e.g. `training`)

Side-by-side benchmark against the Python SDK's scikit-learn stack (training, serving, batch
transform), both sides alternating run by run. Writes target/bench/results.json and
target/bench/results.md and prints the Markdown.

options:
  --quick          small data (10k synthetic rows, 100k batch rows), 2 runs, 3 s load runs,
                   1 batch run (goal: under 5 minutes once built)
  --runs N         runs per measurement (default 3; --quick: 2)
  --skip-python    our side only (no venv, no Python runs; the data must already exist)
  --builtin-load   use the built-in load generator even when wrk is on PATH
  -h, --help       this text

needs: python3 (venv + pip, PyPI reachable for the first run), bash; nginx and wrk are
optional (missing ones are reported as `skip:` lines).";

/// Warm-up before each recorded load run.
const WARMUP: Duration = Duration::from_secs(1);
/// How long the stand-in may take to train its model and answer `/ping`.
const STANDIN_START: Duration = Duration::from_secs(120);
/// How long `sagemaker serve` may take to print its URL.
const OURS_START: Duration = Duration::from_secs(30);
/// How long a stopped server may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// The endpoint name `sagemaker serve` hosts the artifact under.
const ENDPOINT: &str = "bench";
/// Algorithms in the order of the tables.
const ALGORITHMS: [&str; 4] = [
    "LogisticRegression",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "KNeighborsClassifier",
];
/// The files `gen_data.py` writes.
const DATA_FILES: [&str; 7] = [
    "iris_train.csv",
    "iris_test.csv",
    "syn_train.csv",
    "syn_test.csv",
    "batch_X.csv",
    "row1.csv",
    "rows100.csv",
];

/// Command-line options.
#[derive(Debug, Clone)]
struct Options {
    quick: bool,
    runs: usize,
    runs_given: bool,
    skip_python: bool,
    builtin_load: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            quick: false,
            runs: 3,
            runs_given: false,
            skip_python: false,
            builtin_load: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => o.quick = true,
                "--skip-python" => o.skip_python = true,
                "--builtin-load" => o.builtin_load = true,
                "--runs" => {
                    let n = it.next().ok_or("--runs needs a number")?;
                    o.runs = parse_runs(n)?;
                    o.runs_given = true;
                }
                other => match other.strip_prefix("--runs=") {
                    Some(n) => {
                        o.runs = parse_runs(n)?;
                        o.runs_given = true;
                    }
                    None => return Err(format!("unknown option '{other}'")),
                },
            }
        }
        if o.quick && !o.runs_given {
            o.runs = 2;
        }
        Ok(o)
    }

    fn load_seconds(&self) -> Duration {
        Duration::from_secs(if self.quick { 3 } else { 10 })
    }

    fn batch_runs(&self) -> usize {
        if self.quick && !self.runs_given {
            1
        } else {
            self.runs
        }
    }
}

fn parse_runs(n: &str) -> Result<usize, String> {
    match n.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("--runs takes a whole number ≥ 1, got '{n}'")),
    }
}

/// Where everything lives.
struct Paths {
    root: PathBuf,
    bench: PathBuf,
    venv: PathBuf,
    data: PathBuf,
    tmp: PathBuf,
    logs: PathBuf,
    anchors: PathBuf,
}

impl Paths {
    fn new(quick: bool) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace")
            .to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_absolute() { t } else { root.join(t) })
            .unwrap_or_else(|| root.join("target"));
        let bench = target.join("bench");
        Paths {
            venv: bench.join("venv"),
            data: bench.join(if quick { "data-quick" } else { "data" }),
            tmp: bench.join("tmp"),
            logs: bench.join("logs"),
            anchors: root.join("benches/python/anchors"),
            root,
            bench,
        }
    }

    fn python(&self) -> PathBuf {
        self.venv.join("bin/python")
    }

    fn anchor(&self, script: &str) -> PathBuf {
        self.anchors.join(script)
    }
}

/// Our two binaries.
struct Binaries {
    sagemaker: PathBuf,
    compare: PathBuf,
}

/// Everything measured, as it goes into `results.json`.
#[derive(Default)]
struct Results {
    skipped: Vec<String>,
    failures: Vec<String>,
    training: Vec<Value>,
    serving: Vec<Value>,
    batch: Vec<Value>,
    agreement: Vec<Value>,
    load_generator: String,
}

impl Results {
    fn skip(&mut self, what: String) {
        println!("skip: {what}");
        self.skipped.push(what);
    }

    fn fail(&mut self, section: &str, error: String) {
        eprintln!("error: {section}: {error}");
        self.failures.push(format!("{section}: {error}"));
    }
}

/// `cargo xtask bench [...]`.
pub(crate) fn main(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Some(name) = args.first().filter(|a| !a.starts_with('-')) {
        return criterion(name, &args[1..]);
    }
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The former `cargo xtask bench NAME`: one criterion bench target of the facade crate.
fn criterion(name: &str, extra: &[String]) -> ExitCode {
    let mut cmd = crate::cargo();
    cmd.args(["bench", "--locked", "-p", "sagemaker", "--bench", name])
        .args(extra);
    crate::run(cmd)
}

/// The whole benchmark; `Ok(false)` when a section failed (the results are still written).
fn run(options: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let paths = Paths::new(options.quick);
    for dir in [&paths.bench, &paths.tmp, &paths.logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut results = Results::default();

    let has_nginx = on_path("nginx");
    let has_wrk = on_path("wrk");
    if !has_nginx {
        results.skip(
            "nginx is not on PATH: the stand-in serves from gunicorn directly, without the \
             container's nginx front (install nginx for the container shape)"
                .into(),
        );
    }
    let use_wrk = has_wrk && !options.builtin_load;
    if !has_wrk {
        results.skip(
            "wrk is not on PATH: both servers are loaded by the built-in generator \
             (one thread, one task per keep-alive connection)"
                .into(),
        );
    }
    results.load_generator = if use_wrk {
        "wrk -t1 (keep-alive)".into()
    } else {
        "built-in (one thread, one task per keep-alive connection)".into()
    };

    let python = if options.skip_python {
        results.skip("--skip-python: our side only, no Python runs".into());
        false
    } else {
        step("python venv", || ensure_venv(&paths))?;
        true
    };
    step("data", || ensure_data(&paths, options.quick, python))?;
    let binaries = step("release build", build)?;

    step("training", || {
        if let Err(e) = training(&paths, &binaries, options, python, &mut results) {
            results.fail("training", e);
        }
        Ok(())
    })?;
    step("serving", || {
        if let Err(e) = serving(&paths, &binaries, options, python, use_wrk, &mut results) {
            results.fail("serving", e);
        }
        Ok(())
    })?;
    step("batch transform", || {
        if let Err(e) = batch(&paths, &binaries, options, python, &mut results) {
            results.fail("batch transform", e);
        }
        Ok(())
    })?;

    let total = started.elapsed();
    let report = report(&paths, options, &results, total)?;
    println!("\n{report}");
    println!(
        "wrote {} and {} ({:.0} s in all)",
        paths.bench.join("results.json").display(),
        paths.bench.join("results.md").display(),
        total.as_secs_f64()
    );
    Ok(results.failures.is_empty())
}

/// Runs one step with a header line and its duration.
fn step<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    println!("== {name}");
    let started = Instant::now();
    let out = f().map_err(|e| format!("{name}: {e}"))?;
    println!("   ({name}: {:.1} s)", started.elapsed().as_secs_f64());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::batch::agreement;
    use super::report::{count, median};
    use super::serving::{lua_string, parse_wrk, split_url};
    use super::*;

    #[test]
    fn wrk_output_is_parsed() {
        let text = "Running 10s test @ http://127.0.0.1:1/invocations
  1 threads and 16 connections
  Latency Distribution
     50%  166.00us
     75%  200.00us
     90%  300.00us
     99%    3.25ms
  832550 requests in 10.00s, 100.00MB read
  Non-2xx or 3xx responses: 5
  Socket errors: connect 1, read 2, write 0, timeout 0
Requests/sec:  83255.00
Transfer/sec:     10.00MB";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.rps, 83255.0);
        assert!((load.p50_ms - 0.166).abs() < 1e-9);
        assert!((load.p99_ms - 3.25).abs() < 1e-9);
        assert_eq!(load.errors, 8);
    }

    #[test]
    fn options_and_helpers() {
        let o = Options::parse(&["--quick".into()]).unwrap();
        assert_eq!((o.runs, o.batch_runs()), (2, 1));
        let o = Options::parse(&["--runs".into(), "5".into()]).unwrap();
        assert_eq!((o.runs, o.batch_runs()), (5, 5));
        assert!(Options::parse(&["--runs=0".into()]).is_err());
        assert_eq!(median([3.0, 1.0, 2.0, 10.0].into_iter()), Some(2.5));
        assert_eq!(count(1234567.0), "1 234 567");
        assert_eq!(lua_string("a\"b\n"), "\"a\\\"b\\n\"");
        let (addr, path) = split_url("http://127.0.0.1:80/endpoints/x/invocations").unwrap();
        assert_eq!(
            (addr.port(), path.as_str()),
            (80, "/endpoints/x/invocations")
        );
        let ours = vec!["1".to_string(), "2".into()];
        assert_eq!(agreement(&ours, &["1.0".into(), "0".into()]).0, 1);
    }
}
