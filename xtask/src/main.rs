//! Project automation, run as `cargo xtask <command>`.
//!
//! - `test`: the whole test suite (what CI and the README run).
//! - `bench`: the side-by-side benchmark against the Python SDK's scikit-learn stack
//!   (`xtask/src/bench.rs`); `bench NAME` runs one criterion bench target (slow; never in CI's
//!   default path).

use std::process::{Command, ExitCode};

mod bench;

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
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--all-features", "--locked"])
        .args(extra);
    run(cmd)
}
