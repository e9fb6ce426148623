//! Dev-only helpers shared by the `sagemaker` workspace's tests, benches and `xtask`
//! (`publish = false`; examples stay self-contained and do not use it).
//!
//! - [`iris`]: the iris CSV as the tests and benches train on it, and the example's 70/30 split;
//! - [`mod@session`]: local sessions on temporary roots, with the SDK's containers registered as
//!   the facade's `LocalSession` does, and the iris `LogisticRegression` estimator;
//! - [`http`]: a real HTTP/1.1 client (hyper) for talking to the local runtime server;
//! - [`load`]: the one load generator (connections × duration or request count, latency
//!   percentiles) behind `benches/serve_load.rs` and `cargo xtask bench`.
//!
//! [`iris`] and [`mod@session`] need the `session` feature (on by default); `xtask` turns it off
//! so that it does not build the SDK.

#[cfg(feature = "session")]
pub mod iris;
#[cfg(feature = "session")]
pub mod session;

pub mod http;
pub mod load;

#[cfg(feature = "session")]
pub use iris::{iris_csv, iris_rows, iris_split};
#[cfg(feature = "session")]
pub use session::{TempSession, iris_logistic, session, sklearn, upload};
