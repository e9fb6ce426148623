//! The AWS backend's tests, one binary (each links the AWS crates): request shapes pinned
//! with `aws-smithy-mocks` (`shapes`), and the public API against a real moto server
//! (`moto`; `cargo xtask test` starts it and sets `SAGEMAKER_MOTO_URL`), and the AWS SDK's
//! runtime client against the local backend's HTTP server (`wire`).

mod moto;
mod shapes;
mod wire;

// The remote functions of the remote-call tests, registered in this test binary by the
// macro (their jobs never run here: `shapes` mocks SageMaker, moto runs no container).

/// Adds two numbers; an overflow is the function's own error.
#[sagemaker_remote_macros::remote(
    crate = sagemaker_remote,
    instance_type = "ml.m5.xlarge",
    job_name_prefix = "add",
    environment_variables = ["MODE=fast"],
    tags = ["team=ml"]
)]
fn add(a: i64, b: i64) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} overflows"))
}

/// A file that passes the SDK's Linux x86-64 ELF check (the job never runs it), `len` bytes.
fn fake_linux_binary(dir: &std::path::Path, len: usize) -> std::path::PathBuf {
    let mut elf = vec![0u8; len.max(64)];
    elf[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    elf[16] = 2; // ET_EXEC
    elf[18] = 0x3e; // x86-64
    let path = dir.join("remote-fn");
    std::fs::write(&path, elf).unwrap();
    path
}
