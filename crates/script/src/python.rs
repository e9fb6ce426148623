//! Which Python interpreter runs a script.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sagemaker_core::{Error, ErrorKind, Result};

/// `SAGEMAKER_PYTHON`: the interpreter (or virtual environment) that runs scripts, in a
/// job's or model's environment or in this process's.
pub const PYTHON_ENV: &str = "SAGEMAKER_PYTHON";

/// The interpreter for a job or model: its environment's `SAGEMAKER_PYTHON`, else the
/// container's configured environment, else this process's `SAGEMAKER_PYTHON`, else `python3`
/// on `PATH`. A directory is a virtual environment (`bin/python` inside it).
///
/// ```
/// use std::collections::BTreeMap;
/// let err = sagemaker_script::resolve_interpreter(
///     &BTreeMap::from([("SAGEMAKER_PYTHON".to_string(), "/nonexistent/venv".to_string())]),
///     None,
/// )
/// .unwrap_err();
/// assert!(err.message().contains("/nonexistent/venv"));
/// ```
pub fn resolve_interpreter(
    environment: &BTreeMap<String, String>,
    configured: Option<&Path>,
) -> Result<PathBuf> {
    let given = environment
        .get(PYTHON_ENV)
        .map(PathBuf::from)
        .or_else(|| configured.map(Path::to_path_buf))
        .or_else(|| {
            std::env::var_os(PYTHON_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
    match given {
        Some(path) => {
            let interpreter = if path.is_dir() {
                path.join("bin").join("python")
            } else {
                path.clone()
            };
            if interpreter.is_file() {
                Ok(interpreter)
            } else {
                Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "no Python interpreter at {} (from {PYTHON_ENV} or python_env: give a virtual environment's directory or an interpreter)",
                        path.display()
                    ),
                )
                .with_context(sagemaker_core::error::context::PATH, path.display().to_string()))
            }
        }
        None => find_on_path("python3").ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "script mode needs Python 3: python3 is not on PATH; install it or set {PYTHON_ENV} to an interpreter or virtual environment"
                ),
            )
        }),
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}
