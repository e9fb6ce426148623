//! Project automation, run as `cargo xtask <command>`.
//!
//! - `test`: the whole test suite (what CI and the README run).
//! - `bench`: the side-by-side benchmark against the Python SDK's scikit-learn stack
//!   (`xtask/src/bench/`); `bench NAME` runs one criterion bench target (slow; never in CI's
//!   default path).

use std::process::{Command, ExitCode};

mod bench;
mod pyenv;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test            run every test of the workspace (unit, integration, doc) with all features
  bench [--quick] [--runs N] [--skip-python] [--builtin-load]
                  side-by-side benchmark against the Python SDK's scikit-learn stack
                  (training, serving, batch transform); writes target/bench/results.{json,md}
  bench NAME      run one criterion bench target in release mode (e.g. `training`)
  help            show this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn run(mut cmd: Command) -> ExitCode {
    eprintln!("xtask: running {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("xtask: {cmd:?} failed: {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask: cannot run {cmd:?}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test(extra: &[String]) -> ExitCode {
    match test_all(extra) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("xtask: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Every layer: the embedded Python entry point under real scikit-learn, then the
/// workspace's tests with a moto server running (the AWS backend's integration tests), then
/// the AWS example against the same server. moto is stopped on every path out.
fn test_all(extra: &[String]) -> Result<(), String> {
    let venv = pyenv::ensure_venv()?;
    let root = pyenv::workspace_root();
    check(
        Command::new(venv.join("bin/python"))
            .current_dir(&root)
            .args([
                "-m",
                "unittest",
                "discover",
                "-s",
                "crates/frameworks/sklearn/python",
                "-p",
                "test_*.py",
            ]),
    )?;
    let moto = pyenv::Moto::start(&venv)?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-features", "--locked"])
        .args(extra)
        .env(MOTO_URL_ENV, &moto.url)
        // The scikit-learn parity tests run the reference side with this interpreter; they
        // fail (rather than skip) when it is missing under xtask.
        .env("SAGEMAKER_TEST_PYTHON", venv.join("bin/python"))
        // Users' script-mode scripts run in this same venv (no second environment).
        .env(TEST_PYTHON_ENV, &venv)
        // Nothing may reach for the instance metadata service.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    check(&mut cmd)?;
    // Built by the `cargo test` above with the same features, so nothing is rebuilt.
    let example = pyenv::target_dir().join("debug/examples/aws_sklearn");
    check(
        Command::new(example)
            .current_dir(&root)
            .env(MOTO_URL_ENV, &moto.url)
            .env("AWS_EC2_METADATA_DISABLED", "true"),
    )?;
    drop(moto);
    Ok(())
}

/// The environment variable carrying the moto server's URL to tests and the AWS example.
const MOTO_URL_ENV: &str = "SAGEMAKER_MOTO_URL";

/// The environment variable carrying the test venv to the script-mode tests.
const TEST_PYTHON_ENV: &str = "SAGEMAKER_TEST_PYTHON_ENV";

fn check(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{cmd:?} failed: {s}")),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}
