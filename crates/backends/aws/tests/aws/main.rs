//! The AWS backend's tests, one binary (each links the AWS crates): request shapes pinned
//! with `aws-smithy-mocks` (`shapes`), and the public API against a real moto server
//! (`moto`; `cargo xtask test` starts it and sets `SAGEMAKER_MOTO_URL`).

mod moto;
mod shapes;
