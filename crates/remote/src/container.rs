//! `RemoteContainer`: the local backend's stand-in for the image that runs remote functions.
//! It runs the job's `ContainerEntrypoint` (the current binary) as a child process.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use sagemaker_core::container::{Container, ContainerError, Handler, ServingEnv, TrainingEnv};
use sagemaker_core::{Error, Result};

use crate::function::WORKDIR_CHANNEL;

/// How often a running child is checked for a stop request.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// The vCPUs of a SageMaker instance type, as the training toolkit reports them in
/// `SM_NUM_CPUS` (`ml.m5.large` 2, `ml.m5.xlarge` 4, `ml.m5.{n}xlarge` 4·n, `ml.t3.medium`
/// 2). `local` and unknown sizes: this machine's parallelism.
///
/// ```
/// use sagemaker_remote::instance_cpus;
/// assert_eq!(instance_cpus("ml.m5.large"), 2);
/// assert_eq!(instance_cpus("ml.c5.9xlarge"), 36);
/// assert_eq!(instance_cpus("ml.m5.xlarge"), 4);
/// ```
pub fn instance_cpus(instance_type: &str) -> usize {
    let here = || std::thread::available_parallelism().map_or(1, |n| n.get());
    let size = instance_type.rsplit('.').next().unwrap_or("");
    match size {
        "nano" | "micro" | "small" | "medium" | "large" => 2,
        "xlarge" => 4,
        s => match s
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => 4 * n,
            None => here(),
        },
    }
}

/// The container the local backend runs remote-function jobs with: it starts the job's
/// `ContainerEntrypoint` + `ContainerArguments` as a child process with the job's
/// environment plus the training toolkit's `SM_*` variables (`SM_NUM_CPUS` from the
/// instance type, `SM_MODEL_DIR`, `SM_CHANNEL_{NAME}`, ...), streams its output into the job
/// log, kills it when the job is stopped, and fails the job when it exits non-zero (a crash,
/// a panic or `std::process::exit` in the function fail the job, not the caller).
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoteContainer;

impl RemoteContainer {
    /// The container.
    pub fn new() -> Self {
        RemoteContainer
    }
}

enum Event {
    Line(String),
    Eof,
}

fn pump(stream: impl Read + Send + 'static, tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                    if tx.send(Event::Line(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Eof);
    });
}

impl Container for RemoteContainer {
    fn train(&self, env: &TrainingEnv) -> std::result::Result<(), ContainerError> {
        let Some((program, first_args)) = env.container_entrypoint.split_first() else {
            return Err(ContainerError::client(
                "the remote-function container runs the job's ContainerEntrypoint, and the job has none",
            ));
        };
        let paths = &env.paths;
        let mut cmd = Command::new(program);
        cmd.args(first_args)
            .args(&env.container_arguments)
            .envs(&env.environment)
            .env("SM_NUM_CPUS", instance_cpus(&env.instance_type).to_string())
            .env("SM_NUM_GPUS", "0")
            .env("SM_CURRENT_HOST", "algo-1")
            .env("SM_HOSTS", "[\"algo-1\"]")
            .env("SM_CURRENT_INSTANCE_TYPE", &env.instance_type)
            .env("SM_MODEL_DIR", &paths.model_dir)
            .env("SM_INPUT_DIR", paths.root.join("input"))
            .env("SM_INPUT_CONFIG_DIR", &paths.config_dir)
            .env("SM_OUTPUT_DIR", &paths.output_dir)
            .env("SM_OUTPUT_DATA_DIR", &paths.output_data_dir)
            .env(
                "SM_CHANNELS",
                serde_json::to_string(&env.channels.keys().collect::<Vec<_>>()).unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for channel in env.channels.keys() {
            cmd.env(
                format!("SM_CHANNEL_{}", channel.to_ascii_uppercase()),
                paths.channel_dir(channel),
            );
        }
        let workdir = paths.channel_dir(WORKDIR_CHANNEL);
        cmd.current_dir(if env.channels.contains_key(WORKDIR_CHANNEL) {
            workdir.as_path()
        } else {
            paths.root.as_path()
        });
        env.log(format!(
            "[sagemaker-remote] starting {} {}",
            program,
            env.container_arguments.join(" ")
        ));
        let mut child = cmd.spawn().map_err(|e| {
            ContainerError::client(format!(
                "cannot start {program}: {e} (the remote-function container runs the binary that created the job)"
            ))
        })?;
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            pump(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            pump(err, tx.clone());
        }
        drop(tx);
        let mut open = 2;
        let mut killed = false;
        // Lines and EOFs arrive as events; only the stop flag, which cannot notify, is polled.
        while open > 0 {
            match rx.recv_timeout(STOP_CHECK) {
                Ok(Event::Line(line)) => env.log(&line),
                Ok(Event::Eof) => open -= 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if env.stop_requested() && !killed {
                        env.log(
                            "[sagemaker-remote] stop requested: killing the function's process",
                        );
                        let _ = child.kill();
                        killed = true;
                    }
                    // A grandchild may hold the pipes open after the child exited.
                    if matches!(child.try_wait(), Ok(Some(_))) {
                        break;
                    }
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| ContainerError::algorithm(format!("cannot wait for {program}: {e}")))?;
        if killed || env.stop_requested() {
            return Err(ContainerError::stopped());
        }
        if status.success() {
            Ok(())
        } else {
            Err(ContainerError::algorithm(format!(
                "the remote function's process exited with {status} before returning a value"
            )))
        }
    }

    fn load(&self, _model_dir: &Path, _env: &ServingEnv) -> Result<Arc<dyn Handler>> {
        Err(Error::unsupported(
            "remote-function container",
            "serving (it only runs training jobs)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_of_instance_types() {
        assert_eq!(instance_cpus("ml.m5.large"), 2);
        assert_eq!(instance_cpus("ml.m5.4xlarge"), 16);
        assert_eq!(instance_cpus("ml.t3.medium"), 2);
        assert!(instance_cpus("local") >= 1);
    }
}
