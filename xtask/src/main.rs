//! Project automation, run as `cargo xtask <command>`.
//!
//! - `test`: the whole test suite (what CI and the README run).
//! - `bench`: the criterion benchmarks (slow; never in CI's default path).

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test            run every test of the workspace (unit, integration, doc) with all features
  bench [NAME]    run the criterion benchmarks in release mode (optionally one bench target)
  help            show this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
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

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut cmd: Command) -> ExitCode {
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

fn bench(extra: &[String]) -> ExitCode {
    if extra.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: cargo xtask bench [BENCH_TARGET]\n\nRuns `cargo bench` (criterion) for the workspace, or one bench target."
        );
        return ExitCode::SUCCESS;
    }
    let mut cmd = cargo();
    cmd.args(["bench", "--locked", "-p", "sagemaker"]);
    if let Some(name) = extra.first() {
        cmd.args(["--bench", name]);
    }
    run(cmd)
}
