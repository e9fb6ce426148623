//! The job side: what [`crate::init`] does when the process was started as a remote job.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use sagemaker_core::{Error, ErrorKind};

use crate::function::{
    ARGUMENTS_CHANNEL, OUTPUT_DIR_ENV, RunOutcome, find_registration, registered_functions,
};
use crate::outcome::{Exception, kind_name};
use crate::payload::{self, Identity, PayloadKind};

/// Exit code: the function returned `Err`.
pub(crate) const EXIT_FUNCTION_ERROR: i32 = 1;
/// Exit code: the SDK failed around the function (arguments, payloads, registration).
pub(crate) const EXIT_SDK_ERROR: i32 = 3;
/// Exit code: the function panicked.
pub(crate) const EXIT_PANIC: i32 = 101;

fn env_dir(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

struct JobPaths {
    arguments: PathBuf,
    out: PathBuf,
    failure: PathBuf,
    /// Whether `out` is the job's directory on a local store ([`OUTPUT_DIR_ENV`]) rather than
    /// `SM_MODEL_DIR`.
    local_store: bool,
}

impl JobPaths {
    fn from_env() -> Self {
        let channel_var = format!("SM_CHANNEL_{}", ARGUMENTS_CHANNEL.to_ascii_uppercase());
        let model = env_dir("SM_MODEL_DIR", "/opt/ml/model");
        let local_store = std::env::var_os(OUTPUT_DIR_ENV).is_some();
        JobPaths {
            local_store,
            arguments: env_dir(
                &channel_var,
                &format!("/opt/ml/input/data/{ARGUMENTS_CHANNEL}"),
            ),
            out: std::env::var_os(OUTPUT_DIR_ENV)
                .map(PathBuf::from)
                .unwrap_or(model),
            failure: env_dir("SM_OUTPUT_DIR", "/opt/ml/output").join("failure"),
        }
    }
}

fn write_failure(path: &Path, reason: &str) {
    if let Err(e) = payload::write_atomic(path, reason.as_bytes()) {
        eprintln!("[sagemaker-remote] cannot write {}: {e}", path.display());
    }
    eprintln!("[sagemaker-remote] {reason}");
}

fn write_sdk_exception(paths: &JobPaths, who: Identity, e: &Error) {
    let exc = Exception::<()>::Sdk {
        kind: kind_name(e.kind()).to_string(),
        message: e.message().to_string(),
    };
    let bytes = serde_json::to_vec(&exc).unwrap_or_default();
    let key = payload::PayloadKey::from_env();
    if let Err(err) = payload::write_dir(
        &paths.out.join(PayloadKind::Exception.dir()),
        &bytes,
        who,
        key.as_ref(),
    ) {
        eprintln!("[sagemaker-remote] cannot write the exception: {err}");
    }
}

static PANIC_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Runs the job described by the command line after [`crate::FUNCTION_FLAG`]: `NAME
/// --binary-version VERSION`. Returns the exit code.
pub(crate) fn run_job(args: &[String]) -> i32 {
    let paths = JobPaths::from_env();
    let name = args.first().cloned().unwrap_or_default();
    let requested_version = args
        .iter()
        .position(|a| a == "--binary-version")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_default();
    // Leaked once per job process, so the identity can be 'static like the registered ones.
    let requested = Identity {
        function: Box::leak(name.clone().into_boxed_str()),
        binary_version: Box::leak(requested_version.into_boxed_str()),
    };
    let Some(reg) = find_registration(&name) else {
        let known = registered_functions();
        let e = Error::new(
            ErrorKind::NotFound,
            format!(
                "remote function '{name}' is not registered in the binary that runs the job ({}); registered: {}",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        );
        write_sdk_exception(&paths, requested, &e);
        write_failure(&paths.failure, &format!("ClientError: {}", e.message()));
        return EXIT_SDK_ERROR;
    };
    let who = Identity {
        function: reg.name,
        binary_version: reg.binary_version,
    };
    println!(
        "[sagemaker-remote] running {} ({}) with SM_NUM_CPUS={}",
        reg.name,
        reg.binary_version,
        std::env::var("SM_NUM_CPUS").unwrap_or_else(|_| "?".into())
    );
    // The job's secret comes from its environment; jobs made without one check an unkeyed
    // digest (see `payload`).
    let key = payload::PayloadKey::from_env();
    let arguments = match payload::read_dir(&paths.arguments, who, key.as_ref()) {
        Ok(a) => a,
        Err(e) => {
            let e = Error::new(
                e.kind(),
                format!("the arguments were refused: {}", e.message()),
            );
            write_sdk_exception(&paths, who, &e);
            write_failure(&paths.failure, &format!("ClientError: {}", e.message()));
            return EXIT_SDK_ERROR;
        }
    };

    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(loc) = info.location()
            && let Ok(mut slot) = PANIC_LOCATION.lock()
        {
            *slot = Some(format!("{}:{}", loc.file(), loc.line()));
        }
        previous(info);
    }));
    let started = Instant::now();
    let run = reg.run;
    let result = std::panic::catch_unwind(move || run(&arguments));
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".into());
            let at = PANIC_LOCATION
                .lock()
                .ok()
                .and_then(|s| s.clone())
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            write_failure(
                &paths.failure,
                &format!("AlgorithmError: remote function '{name}' panicked{at}: {msg}"),
            );
            EXIT_PANIC
        }
        Ok(RunOutcome::Returned(bytes)) => {
            match payload::write_dir(
                &paths.out.join(PayloadKind::Results.dir()),
                &bytes,
                who,
                key.as_ref(),
            ) {
                Ok(()) => {
                    println!("[sagemaker-remote] {name} returned in {ms:.1} ms");
                    0
                }
                Err(e) => {
                    write_failure(
                        &paths.failure,
                        &format!("InternalServerError: cannot write the result: {e}"),
                    );
                    EXIT_SDK_ERROR
                }
            }
        }
        Ok(RunOutcome::Raised(bytes, summary)) => {
            let written = payload::write_dir(
                &paths.out.join(PayloadKind::Exception.dir()),
                &bytes,
                who,
                key.as_ref(),
            );
            if let Err(e) = &written {
                eprintln!("[sagemaker-remote] cannot write the exception: {e}");
            }
            // Without a local store the payload goes into SM_MODEL_DIR, which SageMaker
            // uploads (as model.tar.gz) only when the job completes: the job completes and
            // the caller finds the function's error in its output.
            if written.is_ok() && !paths.local_store {
                eprintln!(
                    "[sagemaker-remote] {name} returned an error (in the job's output): {summary}"
                );
                return 0;
            }
            write_failure(
                &paths.failure,
                &format!("AlgorithmError: remote function '{name}' returned an error: {summary}"),
            );
            EXIT_FUNCTION_ERROR
        }
        Ok(RunOutcome::Failed(e)) => {
            write_sdk_exception(&paths, who, &e);
            write_failure(&paths.failure, &format!("ClientError: {}", e.message()));
            EXIT_SDK_ERROR
        }
    }
}
