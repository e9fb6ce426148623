//! Training: stage the code, start the launcher stage in its own process group, stream its
//! output line by line into the job's log, stop it on request (SIGTERM, then SIGKILL after
//! the grace), and turn its exit into the job's outcome.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sagemaker_core::container::{ContainerError, TrainingEnv};
use sagemaker_core::script_mode::ScriptMode;

use crate::{LAUNCHER_PY, NO_NAMESPACE_ENV, ScriptContainer, python, stage};

/// How often the stop flag, which cannot notify, is looked at.
const STOP_CHECK: Duration = Duration::from_millis(50);
/// The launcher's own lines start with this.
const LAUNCHER_PREFIX: &str = "[sagemaker-script]";
/// How many of the script's last stderr lines a generated failure reason quotes.
const TAIL_LINES: usize = 10;
/// `FailureReason` holds the first 1024 characters of `output/failure` on SageMaker.
const MAX_REASON: usize = 1024;

enum Event {
    Line { stderr: bool, line: String },
    Eof,
}

fn pump(stream: impl Read + Send + 'static, stderr: bool, tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            // A line is bounded: a script printing without newlines is cut every 64 KiB.
            match reader.by_ref().take(64 * 1024).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                    if tx.send(Event::Line { stderr, line }).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Eof);
    });
}

/// Sends `signal` to the child's whole process group (the script and anything it started).
fn signal_group(child: &Child, signal: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// What the job's output said about itself.
#[derive(Default)]
struct Seen {
    tail: VecDeque<String>,
    command: Option<String>,
    no_namespace: Option<String>,
}

impl Seen {
    fn observe(&mut self, stderr: bool, line: &str) {
        if let Some(rest) = line.strip_prefix(LAUNCHER_PREFIX) {
            let rest = rest.trim();
            if let Some(cmd) = rest.strip_prefix("Invoking script with the following command: ") {
                self.command = Some(cmd.to_string());
            } else if let Some(why) = rest.strip_prefix("isolation: none (") {
                self.no_namespace = Some(why.split(')').next().unwrap_or(why).to_string());
            }
            return;
        }
        if stderr {
            if self.tail.len() == TAIL_LINES {
                self.tail.pop_front();
            }
            self.tail.push_back(line.to_string());
        }
    }

    /// The toolkit's `ExecuteUserScriptError` text, plus why `/opt/ml` was missing when the
    /// script ran without a namespace and tripped over it.
    fn failure(&self, exit: &str) -> String {
        let command = self
            .command
            .as_deref()
            .unwrap_or("(the launcher did not start it)");
        let mut hint = String::new();
        let text: Vec<&str> = self.tail.iter().map(String::as_str).collect();
        let text = text.join("\n");
        if let Some(why) = &self.no_namespace
            && text.contains("/opt/ml")
            && [
                "FileNotFoundError",
                "PermissionError",
                "No such file",
                "Permission denied",
            ]
            .iter()
            .any(|s| text.contains(s))
        {
            hint = format!(
                "\nThe script uses /opt/ml, which does not exist here: namespace isolation is unavailable ({why}); read SM_CHANNEL_<NAME> / SM_MODEL_DIR (or SAGEMAKER_BASE_DIR) instead."
            );
        }
        let frame = |message: &str| {
            format!(
                "ExecuteUserScriptError:\nExitCode {exit}\nErrorMessage \"{message}\"{hint}\nCommand \"{command}\""
            )
        };
        // Keep the end of the message (the exception's last line) within FailureReason.
        let mut message = text.as_str();
        let budget = MAX_REASON.saturating_sub("AlgorithmError: ".len());
        while frame(message).chars().count() > budget && !message.is_empty() {
            let cut = message
                .char_indices()
                .nth(1)
                .map_or(message.len(), |(i, _)| i);
            message = &message[cut..];
        }
        frame(message)
    }
}

pub(crate) fn run(container: &ScriptContainer, env: &TrainingEnv) -> Result<(), ContainerError> {
    let config = &container.config;
    let mode = ScriptMode::decode(&env.hyperparameters).ok_or_else(|| {
        ContainerError::client("no entry point: the sagemaker_program hyperparameter is not set")
    })?;
    let program = mode.program.clone();
    if program.is_empty() || program.starts_with('/') || program.split('/').any(|p| p == "..") {
        return Err(ContainerError::client(format!(
            "sagemaker_program '{program}' must be a path inside the submit directory"
        )));
    }
    let paths = &env.paths;
    let code = paths.root.join("code");
    let staged = std::fs::read_dir(&code).is_ok_and(|mut d| d.next().is_some());
    // As the toolkit: code already in /opt/ml/code is used as it is.
    if !staged {
        let submit = mode.submit_directory.as_deref().ok_or_else(|| {
            ContainerError::client(
                "no code: the sagemaker_submit_directory hyperparameter is not set and /opt/ml/code is empty",
            )
        })?;
        let source = stage::local_source(submit).map_err(ContainerError::client)?;
        stage::stage(&source, &code).map_err(|e| {
            ContainerError::client(format!("sagemaker_submit_directory {submit}: {e}"))
        })?;
    }
    if code.join("setup.py").is_file() {
        return Err(ContainerError::client(
            "the code is a Python package (setup.py): package entry points are not supported by the local backend yet; remove setup.py or run on SageMaker",
        ));
    }
    if !code.join(&program).is_file() {
        return Err(ContainerError::client(format!(
            "the entry point '{program}' is not in the submit directory {}",
            mode.submit_directory.as_deref().unwrap_or("/opt/ml/code")
        )));
    }
    let interpreter = python::resolve_interpreter(&env.environment, config.python.as_deref())
        .map_err(|e| ContainerError::client(e.message().to_string()))?;
    for dir in [&paths.model_dir, &paths.output_data_dir, &paths.config_dir] {
        std::fs::create_dir_all(dir)
            .map_err(|e| ContainerError::algorithm(format!("{}: {e}", dir.display())))?;
    }

    let scratch = tempfile::Builder::new()
        .prefix("sagemaker-script-")
        .tempdir()
        .map_err(|e| {
            ContainerError::algorithm(format!("cannot create a scratch directory: {e}"))
        })?;
    let launcher = scratch.path().join("sagemaker_script_launcher.py");
    let mut environment = config.environment.clone();
    environment.extend(env.environment.clone());
    let job_root = paths
        .root
        .canonicalize()
        .map_err(|e| ContainerError::algorithm(format!("{}: {e}", paths.root.display())))?;
    let plan = serde_json::json!({
        "job_root": job_root,
        "scratch": scratch.path().join("ns"),
        "program": program,
        "isolation": config.isolation && !env.environment.contains_key(NO_NAMESPACE_ENV),
        "cache_dir": container.cache_dir(),
        "framework_module": environment.get("SAGEMAKER_TRAINING_MODULE"),
        "job_name": env.job_name,
        "environment": environment,
    });
    let plan_path = scratch.path().join("plan.json");
    std::fs::write(&launcher, LAUNCHER_PY)
        .and_then(|()| std::fs::write(&plan_path, plan.to_string()))
        .map_err(|e| ContainerError::algorithm(format!("cannot write the launcher: {e}")))?;

    let mut cmd = Command::new(&interpreter);
    cmd.arg(&launcher)
        .arg(&plan_path)
        .envs(&environment)
        .current_dir(&job_root)
        // Its own group, so a stop reaches everything the script started.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        ContainerError::client(format!(
            "cannot start the Python interpreter {}: {e}",
            interpreter.display()
        ))
    })?;
    tracing::debug!(target: "sagemaker::script", job = %env.job_name, pid = child.id(), "script launcher started");
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        pump(out, false, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        pump(err, true, tx.clone());
    }
    drop(tx);

    let mut seen = Seen::default();
    let mut open = 2;
    let mut terminated: Option<Instant> = None;
    let mut killed = false;
    let mut first_line = true;
    loop {
        match rx.recv_timeout(STOP_CHECK) {
            Ok(Event::Line { stderr, line }) => {
                if first_line && !line.starts_with(LAUNCHER_PREFIX) {
                    first_line = false;
                    tracing::debug!(target: "sagemaker::script", job = %env.job_name, elapsed_ms = started.elapsed().as_millis() as u64, "first line of the script");
                }
                seen.observe(stderr, &line);
                env.log(&line);
            }
            Ok(Event::Eof) => {
                open -= 1;
                if open == 0 {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A grandchild may hold the pipes open after the script exited.
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
            }
        }
        if env.stop_requested() && terminated.is_none() {
            env.log(format!(
                "{LAUNCHER_PREFIX} stop requested: SIGTERM to the script's process group, SIGKILL in {} s",
                config.stop_grace.as_secs_f64()
            ));
            signal_group(&child, rustix::process::Signal::TERM);
            terminated = Some(Instant::now());
        }
        if let Some(t) = terminated
            && !killed
            && t.elapsed() >= config.stop_grace
        {
            env.log(format!(
                "{LAUNCHER_PREFIX} the script did not exit within the grace: SIGKILL"
            ));
            signal_group(&child, rustix::process::Signal::KILL);
            killed = true;
        }
    }
    let status = child
        .wait()
        .map_err(|e| ContainerError::algorithm(format!("cannot wait for the script: {e}")))?;
    // Nothing the script started outlives it.
    signal_group(&child, rustix::process::Signal::KILL);
    // Lines still queued when the loop left (the pipes' last bytes).
    while let Ok(event) = rx.try_recv() {
        if let Event::Line { stderr, line } = event {
            seen.observe(stderr, &line);
            env.log(&line);
        }
    }
    if terminated.is_some() {
        return Err(ContainerError::stopped());
    }
    if status.success() {
        return Ok(());
    }
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => code.to_string(),
        (None, Some(sig)) => format!("-{sig}"),
        (None, None) => status.to_string(),
    };
    Err(ContainerError::algorithm(seen.failure(&exit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_keeps_the_last_line_within_the_limit() {
        let mut seen = Seen::default();
        seen.observe(
            true,
            "[sagemaker-script] Invoking script with the following command: python train.py",
        );
        for i in 0..20 {
            seen.observe(true, &format!("  frame {i} {}", "x".repeat(200)));
        }
        seen.observe(true, "ValueError: bad alpha");
        let reason = seen.failure("1");
        assert!(reason.starts_with("ExecuteUserScriptError:\nExitCode 1\nErrorMessage \""));
        assert!(reason.contains("ValueError: bad alpha\"\nCommand \"python train.py\""));
        assert!(reason.chars().count() <= MAX_REASON - "AlgorithmError: ".len());
    }

    #[test]
    fn failure_explains_a_missing_opt_ml_without_namespaces() {
        let mut seen = Seen::default();
        seen.observe(
            true,
            "[sagemaker-script] isolation: none (disabled by X); running in place",
        );
        seen.observe(
            true,
            "FileNotFoundError: [Errno 2] No such file or directory: '/opt/ml/input/data/train/x.csv'",
        );
        let reason = seen.failure("1");
        assert!(
            reason.contains("namespace isolation is unavailable (disabled by X)"),
            "{reason}"
        );
        assert!(reason.contains("SM_CHANNEL_<NAME>"));
    }
}
