//! Local sessions on temporary roots, so that tests run in parallel without sharing a store.

use std::path::Path;

use sagemaker::sklearn::SKLearnBuilder;
use sagemaker::{LocalSession, SKLearn, Session, StorageUri};
use tempfile::TempDir;

/// A local session rooted at `root`, with the SDK's containers registered exactly as the
/// facade's `LocalSession` registers them (scikit-learn and remote functions).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let root = tempfile::tempdir().unwrap();
/// let s = sagemaker_test_support::session(root.path());
/// assert_eq!(s.default_bucket().await.unwrap(), "sagemaker-local");
/// # }
/// ```
pub fn session(root: &Path) -> Session {
    LocalSession::builder()
        .root(root)
        .build()
        .expect("a local session on a temporary root")
}

/// A [`session`] on its own temporary directory, removed on drop.
pub struct TempSession {
    /// The session's root; keep it alive as long as the session.
    pub root: TempDir,
    /// The session.
    pub session: Session,
}

impl TempSession {
    /// A session on a fresh temporary root.
    ///
    /// ```
    /// let t = sagemaker_test_support::TempSession::new();
    /// assert!(t.root.path().is_dir());
    /// ```
    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("a temporary directory");
        let session = session(root.path());
        TempSession { root, session }
    }
}

impl Default for TempSession {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes `content` to `root/name` and uploads it under the `data` prefix of the session's
/// default bucket; returns the `s3://` URI.
pub async fn upload(s: &Session, root: &Path, name: &str, content: &str) -> StorageUri {
    let path = root.join(name);
    std::fs::write(&path, content).expect("writing the file to upload");
    s.upload_data(&path, "data")
        .await
        .expect("uploading to the local store")
}

/// The `SKLearn` preset for built-in `algorithm` (framework `1.2-1`, instance type `local`)
/// on session `s`, not yet built, so that a caller can add to it.
pub fn sklearn(s: &Session, algorithm: &str) -> SKLearnBuilder {
    SKLearn::builder()
        .entry_point(algorithm)
        .framework_version("1.2-1")
        .instance_type("local")
        .session(s.clone())
}

/// The iris `LogisticRegression` estimator the tests and benches train: [`sklearn`] with
/// `max_iter` 200 and target column `species`, not yet built.
pub fn iris_logistic(s: &Session) -> SKLearnBuilder {
    sklearn(s, "LogisticRegression")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
}
