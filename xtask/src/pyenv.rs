//! The test-time Python environment: a venv with moto (the AWS mock server) and
//! scikit-learn (for the built-in entry point's tests), installed from the committed,
//! hash-pinned `xtask/python/requirements-test.txt`, and a moto server on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The requirements file, relative to the workspace root.
const REQUIREMENTS: &str = "xtask/python/requirements-test.txt";

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// The target directory every step shares.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Creates (or reuses) `target/test-venv` with exactly the pinned packages; returns the
/// venv's directory. Reinstalls when the requirements file changed.
pub(crate) fn ensure_venv() -> Result<PathBuf, String> {
    let root = workspace_root();
    let venv = target_dir().join("test-venv");
    let requirements = std::fs::read(root.join(REQUIREMENTS))
        .map_err(|e| format!("cannot read {REQUIREMENTS}: {e}"))?;
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read(&stamp).ok().as_deref() == Some(requirements.as_slice())
        && venv.join("bin/moto_server").exists()
    {
        return Ok(venv);
    }
    let started = Instant::now();
    let python = std::env::var("SAGEMAKER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| format!("cannot reset {venv:?}: {e}"))?;
    }
    status(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
    status(
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "-r",
            ])
            .arg(root.join(REQUIREMENTS)),
    )?;
    std::fs::write(&stamp, &requirements).map_err(|e| format!("cannot write {stamp:?}: {e}"))?;
    eprintln!(
        "xtask: installed the test venv in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(venv)
}

fn status(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{cmd:?} failed: {s}")),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}

/// A moto server on 127.0.0.1, stopped (by PID) when dropped, also when tests fail.
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it answers.
    pub(crate) fn start(venv: &Path) -> Result<Moto, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let log_path = target_dir().join("moto.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {log_path:?}: {e}"))?;
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start moto_server: {e}"))?;
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if answers(port) {
                eprintln!("xtask: moto is up at {} (log: {log_path:?})", moto.url);
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "moto_server did not answer on {} within 60 s; see {log_path:?}",
            moto.url
        ))
    }
}

/// Whether `GET /moto-api/` answers 200.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
