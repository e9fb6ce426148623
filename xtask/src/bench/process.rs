//! Child processes of the benchmark: commands whose output is kept in a log, and servers
//! stopped on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Paths, STOP_GRACE};

pub(super) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs `cmd` to completion; stdout is returned, stderr goes to `target/bench/logs/{log}.log`
/// (its tail is shown on failure).
pub(super) fn output(paths: &Paths, log: &str, mut cmd: Command) -> Result<String, String> {
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
pub(super) fn json_lines(paths: &Paths, log: &str, cmd: Command) -> Result<Vec<Value>, String> {
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

pub(super) fn python_cmd(paths: &Paths, script: &str) -> Command {
    let mut cmd = Command::new(paths.python());
    cmd.arg(paths.anchor(script));
    cmd
}

/// A long-running child (a server), stopped on drop: `signal` to it, then `SIGKILL` after
/// `STOP_GRACE`. Children stay in our process group, so a Ctrl-C reaches them too.
pub(super) struct Server {
    name: &'static str,
    child: Child,
    signal: &'static str,
    stopped: bool,
}

impl Server {
    pub(super) fn stop(&mut self) {
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
pub(super) fn start_server(
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
