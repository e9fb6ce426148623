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
//!   built-in generator below when `wrk` is missing or `--builtin-load` is given);
//! - batch transform: `compare batch` against `batch_anchor.py`'s container decode path and
//!   pandas, with the three outputs checked line by line.
//!
//! Results: `target/bench/results.json` (every raw run and the medians) and
//! `target/bench/results.md` (printed too). Server children are stopped by a guard on drop,
//! so an error or a panic leaves no server behind.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

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
             (std threads, one keep-alive connection per thread)"
                .into(),
        );
    }
    results.load_generator = if use_wrk {
        "wrk -t1 (keep-alive)".into()
    } else {
        "built-in (std threads, one keep-alive connection per thread)".into()
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

// ---- processes ----------------------------------------------------------------------------

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs `cmd` to completion; stdout is returned, stderr goes to `target/bench/logs/{log}.log`
/// (its tail is shown on failure).
fn output(paths: &Paths, log: &str, mut cmd: Command) -> Result<String, String> {
    let log_path = paths.logs.join(format!("{log}.log"));
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let shown = format!("{cmd:?}");
    let out = cmd
        .current_dir(&paths.root)
        .stdin(Stdio::null())
        .stderr(log_file)
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        let log_text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log_text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{shown} failed ({}); last lines of {}:\n{}",
            out.status,
            log_path.display(),
            tail.join("\n")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The JSON lines of a command's stdout (other lines are ignored).
fn json_lines(paths: &Paths, log: &str, cmd: Command) -> Result<Vec<Value>, String> {
    let text = output(paths, log, cmd)?;
    let values: Vec<Value> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad JSON line {l:?}: {e}")))
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err(format!("{log}: no JSON line on stdout"));
    }
    Ok(values)
}

fn python_cmd(paths: &Paths, script: &str) -> Command {
    let mut cmd = Command::new(paths.python());
    cmd.arg(paths.anchor(script));
    cmd
}

/// A long-running child (a server), stopped on drop: `signal` to it, then `SIGKILL` after
/// `STOP_GRACE`. Children stay in our process group, so a Ctrl-C reaches them too.
struct Server {
    name: &'static str,
    child: Child,
    signal: &'static str,
    stopped: bool,
}

impl Server {
    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args([format!("-{}", self.signal).as_str(), pid.as_str()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "xtask bench: {} did not stop within {} s; killing it",
            self.name,
            STOP_GRACE.as_secs()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a server whose stdout announces its URL: `find` picks the URL out of a line.
/// stderr goes to the log; stdout keeps being drained by a thread after the URL is found.
fn start_server(
    paths: &Paths,
    name: &'static str,
    signal: &'static str,
    mut cmd: Command,
    wait: Duration,
    find: fn(&str) -> Option<String>,
) -> Result<(Server, String), String> {
    let log_path = paths.logs.join(format!("{name}.log"));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .current_dir(&paths.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut server = Server {
        name,
        child,
        signal,
        stopped: false,
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = find(&line) {
                let _ = tx.send(url);
            }
        }
    });
    let deadline = Instant::now() + wait;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(url) => return Ok((server, url)),
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                if let Ok(Some(status)) = server.child.try_wait() {
                    return Err(format!(
                        "{name} exited ({status}) before it was ready; see {}",
                        log_path.display()
                    ));
                }
            }
            Err(_) => {
                server.stop();
                return Err(format!(
                    "{name} was not ready within {} s; see {}",
                    wait.as_secs(),
                    log_path.display()
                ));
            }
        }
    }
}

// ---- setup --------------------------------------------------------------------------------

/// A stable-enough fingerprint of some files' contents, for the stamps of cached steps.
fn fingerprint(files: &[PathBuf]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    for f in files {
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

fn ensure_venv(paths: &Paths) -> Result<(), String> {
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

fn ensure_data(paths: &Paths, quick: bool, python: bool) -> Result<(), String> {
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
fn cargo_executable(args: &[&str], name: &str) -> Result<PathBuf, String> {
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

fn build() -> Result<Binaries, String> {
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

// ---- training -----------------------------------------------------------------------------

fn training(
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
fn training_key(v: &Value) -> (String, String, String, String) {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    (s("side"), s("threads"), s("data"), s("algorithm"))
}

fn training_medians(runs: &[Value]) -> Vec<Value> {
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

// ---- serving ------------------------------------------------------------------------------

/// A free loopback port (racy by nature, but only this benchmark is starting servers).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `http://host:port/path` → (address, path).
fn split_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = host
        .parse()
        .map_err(|e| format!("{url}: host is not ip:port: {e}"))?;
    Ok((addr, format!("/{path}")))
}

/// One HTTP target of the load runs.
struct Target {
    side: &'static str,
    url: String,
    addr: SocketAddr,
    path: String,
}

impl Target {
    fn new(side: &'static str, url: String) -> Result<Self, String> {
        let (addr, path) = split_url(&url)?;
        Ok(Target {
            side,
            url,
            addr,
            path,
        })
    }

    fn request(&self, body: &str) -> Vec<u8> {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/csv\r\nAccept: text/csv\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.path,
            self.addr,
            body.len()
        )
        .into_bytes()
    }
}

fn serving(
    paths: &Paths,
    bins: &Binaries,
    options: &Options,
    python: bool,
    use_wrk: bool,
    results: &mut Results,
) -> Result<(), String> {
    let artifact = paths.tmp.join("iris-logistic.tar.gz");
    let mut cmd = Command::new(&bins.compare);
    cmd.arg("artifact").arg(&paths.data).arg(&artifact);
    output(paths, "artifact", cmd)?;

    // Servers are dropped (stopped) when this function returns, on success or on error.
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    if python {
        let port = free_port()?;
        let mut cmd = Command::new("bash");
        cmd.arg(paths.anchor("serve_standin.sh"))
            .arg(&paths.data)
            .arg(port.to_string())
            .env("VENV", &paths.venv);
        let started = start_server(paths, "standin", "TERM", cmd, STANDIN_START, |line| {
            line.strip_prefix("READY ").map(|u| u.trim().to_string())
        });
        match started {
            Ok((server, base)) => {
                servers.push(server);
                let url = format!("{}/invocations", base.trim_end_matches('/'));
                println!("   stand-in: {url}");
                targets.push(Target::new("python", url)?);
            }
            // Our side is measured all the same.
            Err(e) => results.fail("serving, the stand-in", e),
        }
    }
    let serve_root = paths.tmp.join("serve-root");
    let _ = std::fs::remove_dir_all(&serve_root);
    let mut cmd = Command::new(&bins.sagemaker);
    cmd.arg("serve")
        .arg(&artifact)
        .arg("--root")
        .arg(&serve_root)
        .args(["--name", ENDPOINT, "--port", "0"]);
    let (server, url) = start_server(paths, "sagemaker-serve", "INT", cmd, OURS_START, |line| {
        line.trim()
            .strip_prefix("Invocations:")
            .map(|u| u.trim().to_string())
    })?;
    servers.push(server);
    println!("   ours:     {url}");
    targets.push(Target::new("rust", url)?);

    let bodies: BTreeMap<&str, String> = ["row1", "rows100"]
        .into_iter()
        .map(|name| {
            let path = paths.data.join(format!("{name}.csv"));
            std::fs::read_to_string(&path)
                .map(|b| (name, b))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut checked = Vec::new();
    for t in targets {
        match sample(&t, &bodies["row1"]) {
            Ok(answer) => {
                println!("   {} answers row1 with {answer}", t.side);
                checked.push(t);
            }
            Err(e) => results.fail(&format!("serving, {}", t.side), e),
        }
    }
    let targets = checked;

    let scenarios = [("row1", 16usize), ("rows100", 16), ("row1", 1)];
    let duration = options.load_seconds();
    for (body_name, conns) in scenarios {
        let body = &bodies[body_name];
        for run in 1..=options.runs {
            for t in &targets {
                let r = if use_wrk {
                    wrk(paths, t, body, conns, duration)?
                } else {
                    builtin_load(t.addr, Arc::new(t.request(body)), conns, duration)
                };
                println!(
                    "   {body_name} × {conns} conns, run {run}/{}, {:<6}: {:>9.0} req/s, \
                     p50 {:.3} ms, p99 {:.3} ms, {} errors",
                    options.runs, t.side, r.rps, r.p50_ms, r.p99_ms, r.errors
                );
                results.serving.push(json!({
                    "side": t.side, "url": t.url, "body": body_name, "connections": conns,
                    "run": run, "seconds": duration.as_secs_f64(),
                    "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors,
                }));
            }
        }
    }
    for mut s in servers {
        s.stop();
    }
    Ok(())
}

/// One request on a fresh connection: the status and the start of the body.
fn sample(target: &Target, body: &str) -> Result<String, String> {
    let fail = |e: std::io::Error| format!("{} at {}: {e}", target.side, target.url);
    let mut stream =
        TcpStream::connect_timeout(&target.addr, Duration::from_secs(5)).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(fail)?;
    stream.write_all(&target.request(body)).map_err(fail)?;
    let mut buf = Vec::new();
    let r = read_response(&mut stream, &mut buf).map_err(fail)?;
    let text = String::from_utf8_lossy(&buf[r.body_start..]);
    if !(200..300).contains(&r.status) {
        return Err(format!(
            "{} answered HTTP {} to one row: {text:?}",
            target.side, r.status
        ));
    }
    Ok(format!("HTTP {} {:?}", r.status, text.trim()))
}

/// One load run's figures.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// A parsed response head.
struct Response {
    status: u16,
    close: bool,
    body_start: usize,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Reads more bytes into `buf`; end of stream is an error.
fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8]) -> std::io::Result<()> {
    let n = stream.read(chunk)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Reads one HTTP/1.1 response into `buf` (cleared first): `Content-Length` or chunked
/// bodies, or (neither) up to the end of the stream.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Response> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut chunk = [0u8; 16 * 1024];
    buf.clear();
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n", 0) {
            break i + 4;
        }
        read_more(stream, buf, &mut chunk)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.contains("chunked"),
            "connection" => close = value.contains("close"),
            _ => {}
        }
    }
    if let Some(length) = length {
        while buf.len() < head_end + length {
            read_more(stream, buf, &mut chunk)?;
        }
    } else if chunked {
        let mut pos = head_end;
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n", pos) {
                    break i;
                }
                read_more(stream, buf, &mut chunk)?;
            };
            let size_text = String::from_utf8_lossy(&buf[pos..line_end]);
            let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
            let size =
                usize::from_str_radix(&size_text, 16).map_err(|_| invalid("bad chunk size"))?;
            pos = line_end + 2;
            if size == 0 {
                // No trailers expected: the final CRLF.
                while buf.len() < pos + 2 {
                    read_more(stream, buf, &mut chunk)?;
                }
                break;
            }
            while buf.len() < pos + size + 2 {
                read_more(stream, buf, &mut chunk)?;
            }
            pos += size + 2;
        }
    } else {
        stream.read_to_end(buf)?;
        close = true;
    }
    Ok(Response {
        status,
        close,
        body_start: head_end,
    })
}

/// What one connection thread recorded.
#[derive(Default)]
struct ConnStats {
    latencies_ns: Vec<u64>,
    errors: u64,
}

/// One keep-alive connection: requests back to back until `end`, recording those that
/// start at or after `record_from` and end by `end`. Non-2xx answers and I/O failures are
/// errors (a failure reconnects); a `Connection: close` answer reconnects without one.
fn connection(addr: SocketAddr, request: &[u8], record_from: Instant, end: Instant) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut buf = Vec::with_capacity(16 * 1024);
    'connect: while Instant::now() < end {
        let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => s,
            Err(_) => {
                if Instant::now() >= record_from {
                    stats.errors += 1;
                }
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        loop {
            let start = Instant::now();
            if start >= end {
                break 'connect;
            }
            let outcome = stream
                .write_all(request)
                .and_then(|()| read_response(&mut stream, &mut buf));
            let done = Instant::now();
            let recorded = start >= record_from && done <= end;
            match outcome {
                Ok(r) => {
                    if recorded {
                        if (200..300).contains(&r.status) {
                            stats.latencies_ns.push((done - start).as_nanos() as u64);
                        } else {
                            stats.errors += 1;
                        }
                    }
                    if r.close {
                        continue 'connect;
                    }
                }
                Err(_) => {
                    if recorded {
                        stats.errors += 1;
                    }
                    continue 'connect;
                }
            }
        }
    }
    stats
}

/// The `q` quantile of sorted nanosecond latencies, in milliseconds.
fn quantile_ms(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_ns.len() as f64 * q).ceil() as usize).clamp(1, sorted_ns.len()) - 1;
    sorted_ns[i] as f64 / 1e6
}

/// The built-in load generator: `conns` OS threads, one keep-alive connection each, `WARMUP`
/// then `duration` recorded.
fn builtin_load(addr: SocketAddr, request: Arc<Vec<u8>>, conns: usize, duration: Duration) -> Load {
    let record_from = Instant::now() + WARMUP;
    let end = record_from + duration;
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || connection(addr, &request, record_from, end))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in threads {
        match t.join() {
            Ok(s) => {
                latencies.extend(s.latencies_ns);
                errors += s.errors;
            }
            Err(_) => errors += 1,
        }
    }
    latencies.sort_unstable();
    Load {
        rps: latencies.len() as f64 / duration.as_secs_f64(),
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        errors,
    }
}

/// A Lua string literal.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A wrk duration (`166.00us`, `3.25ms`, `1.02s`, `1.50m`) in milliseconds.
fn wrk_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return None,
    })
}

/// Parses `wrk --latency` output.
fn parse_wrk(text: &str) -> Result<Load, String> {
    let mut load = Load {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => load.rps = n.parse().unwrap_or(f64::NAN),
            ["50%", t] => load.p50_ms = wrk_ms(t).unwrap_or(f64::NAN),
            ["99%", t] => load.p99_ms = wrk_ms(t).unwrap_or(f64::NAN),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    if load.rps.is_nan() {
        return Err(format!("no Requests/sec in wrk's output:\n{text}"));
    }
    Ok(load)
}

/// `wrk -t1 -c{conns}`: a `WARMUP` run (discarded), then a `duration` run.
fn wrk(
    paths: &Paths,
    target: &Target,
    body: &str,
    conns: usize,
    duration: Duration,
) -> Result<Load, String> {
    let script = paths.tmp.join(format!("post-{}.lua", body.len()));
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"text/csv\"\n\
             wrk.headers[\"Accept\"] = \"text/csv\"\n",
            lua_string(body)
        ),
    )
    .map_err(|e| format!("{}: {e}", script.display()))?;
    let run = |seconds: u64| {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(&target.url);
        output(paths, "wrk", cmd)
    };
    run(WARMUP.as_secs().max(1))?;
    parse_wrk(&run(duration.as_secs())?)
}

fn serving_medians(runs: &[Value]) -> Vec<Value> {
    let mut groups: BTreeMap<(String, u64, String), Vec<&Value>> = BTreeMap::new();
    for r in runs {
        let key = (
            r["body"].as_str().unwrap_or_default().to_string(),
            r["connections"].as_u64().unwrap_or(0),
            r["side"].as_str().unwrap_or_default().to_string(),
        );
        groups.entry(key).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((body, conns, side), rows)| {
            let mut m =
                json!({"side": side, "body": body, "connections": conns, "runs": rows.len()});
            for field in ["rps", "p50_ms", "p99_ms"] {
                if let Some(x) = median(rows.iter().filter_map(|r| r[field].as_f64())) {
                    m[field] = json!(x);
                }
            }
            m["errors"] = json!(
                rows.iter()
                    .filter_map(|r| r["errors"].as_u64())
                    .sum::<u64>()
            );
            m
        })
        .collect()
}

// ---- batch transform ----------------------------------------------------------------------

fn batch(
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

fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .lines()
        .map(|l| l.trim().to_string())
        .collect())
}

/// Lines of `theirs` equal to the same line of `ours` (as text, or as numbers: `1` = `1.0`),
/// and that count in percent of `ours` (a missing or extra line disagrees).
fn agreement(ours: &[String], theirs: &[String]) -> (usize, f64) {
    let same = |a: &String, b: &String| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    let agreeing = ours.iter().zip(theirs).filter(|(a, b)| same(a, b)).count();
    let total = ours.len().max(theirs.len()).max(1);
    (agreeing, 100.0 * agreeing as f64 / total as f64)
}

fn batch_medians(runs: &[Value]) -> Vec<Value> {
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

// ---- report -------------------------------------------------------------------------------

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
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
fn machine() -> Value {
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
fn secs(s: f64) -> String {
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
fn count(x: f64) -> String {
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

fn ratio(ours: Option<f64>, theirs: Option<f64>) -> String {
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

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or("–".into(), f)
}

fn report(
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

#[cfg(test)]
mod tests {
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
