//! Payloads: a JSON value plus a `metadata.json` holding its digest, the format version and
//! the SDK and binary versions. A payload whose digest or versions do not match is refused with
//! a [`ErrorKind::Serialization`] error, never decoded.
//!
//! The digest is an HMAC-SHA256 keyed by a secret made for each job ([`PayloadKey`]), handed to
//! the job the way the SageMaker Python SDK hands its remote-function secret: as the job's
//! environment variable [`SECRET_KEY_ENV`], never stored beside the payloads. Whoever can
//! rewrite a payload and its metadata in the bucket cannot forge the digest without it. A job
//! without that variable (made by an older SDK, or run by hand) falls back to an unkeyed
//! SHA-256, which only detects corruption; whether a job has a key is read from the job,
//! never from the payload, so a rewritten payload cannot opt out of the check.

use std::path::Path;

use sagemaker_core::{ArtifactStore, Error, ErrorKind, Result, StorageUri};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The job environment variable that carries the job's payload secret (the name the
/// SageMaker Python SDK uses for its remote functions).
pub const SECRET_KEY_ENV: &str = "REMOTE_FUNCTION_SECRET_KEY";

/// The secret that keys a job's payload digests: 32 random bytes, hex-encoded.
///
/// ```
/// use sagemaker_remote::payload::PayloadKey;
///
/// let key = PayloadKey::generate().unwrap();
/// assert_eq!(key.as_str().len(), 64);
/// assert_ne!(key, PayloadKey::generate().unwrap());
/// assert_eq!(format!("{key:?}"), "PayloadKey(..)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PayloadKey(String);

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret never reaches a log through Debug.
        f.write_str("PayloadKey(..)")
    }
}

impl PayloadKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot draw a payload secret from the system's random source: {e}"),
            )
        })?;
        Ok(PayloadKey(hex(&bytes)))
    }

    /// The key recorded in a job's environment, if the job has one.
    pub fn of_job(environment: &std::collections::BTreeMap<String, String>) -> Option<Self> {
        environment
            .get(SECRET_KEY_ENV)
            .filter(|k| !k.is_empty())
            .map(|k| PayloadKey(k.clone()))
    }

    /// The key of the job this process runs, from [`SECRET_KEY_ENV`].
    pub fn from_env() -> Option<Self> {
        std::env::var(SECRET_KEY_ENV)
            .ok()
            .filter(|k| !k.is_empty())
            .map(PayloadKey)
    }

    /// The key text, as set in the job's environment.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Hex HMAC-SHA256 of `bytes` keyed by the key's text (as Python's
/// `hmac.new(key.encode(), bytes, hashlib.sha256).hexdigest()`).
pub fn hmac_sha256_hex(key: &PayloadKey, bytes: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.0.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(bytes);
    hex(&mac.finalize().into_bytes())
}

/// The digest recorded for `payload`: keyed when the job has a key.
fn digest(payload: &[u8], key: Option<&PayloadKey>) -> String {
    match key {
        Some(key) => hmac_sha256_hex(key, payload),
        None => sha256_hex(payload),
    }
}

/// The payload format version written and accepted.
pub const FORMAT_VERSION: u32 = 1;
/// The payload file name.
pub const PAYLOAD_FILE: &str = "payload.json";
/// The metadata file name.
pub const METADATA_FILE: &str = "metadata.json";
/// The serialization of payloads.
pub const SERIALIZATION: &str = "serde_json";

/// What a payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// The function's arguments.
    Arguments,
    /// The function's return value.
    Results,
    /// The function's error (or an SDK error raised in the job).
    Exception,
}

impl PayloadKind {
    /// The directory name under `{s3_root_uri}/{job_name}/`.
    pub fn dir(self) -> &'static str {
        match self {
            PayloadKind::Arguments => "arguments",
            PayloadKind::Results => "results",
            PayloadKind::Exception => "exception",
        }
    }
}

/// `metadata.json` of a payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Hex HMAC-SHA256 of the payload bytes keyed by the job's [`PayloadKey`] (a plain SHA-256
    /// for a job without one); the field keeps the Python SDK's name.
    pub sha256_hash: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// [`SERIALIZATION`].
    pub serialization: String,
    /// The SDK version of the writer.
    pub sdk_version: String,
    /// `{crate}@{version}` of the binary that defines the function.
    pub binary_version: String,
    /// The registered name of the function.
    pub function: String,
}

/// Who reads or writes a payload: the function's name and binary version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The registered name.
    pub function: &'static str,
    /// `{crate}@{version}`.
    pub binary_version: &'static str,
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The metadata of `payload` written by `who` for a job without a key.
pub fn metadata_for(payload: &[u8], who: Identity) -> Metadata {
    metadata_keyed(payload, who, None)
}

/// The metadata of `payload` written by `who`, its digest keyed by `key`.
pub fn metadata_keyed(payload: &[u8], who: Identity, key: Option<&PayloadKey>) -> Metadata {
    Metadata {
        sha256_hash: digest(payload, key),
        format_version: FORMAT_VERSION,
        serialization: SERIALIZATION.to_string(),
        sdk_version: sagemaker_core::SDK_VERSION.to_string(),
        binary_version: who.binary_version.to_string(),
        function: who.function.to_string(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `payload` against its `metadata` bytes, as read by `who`, for a job without a key.
/// `place` says where the payload is, for messages.
pub fn verify(metadata: &[u8], payload: &[u8], who: Identity, place: &str) -> Result<()> {
    verify_keyed(metadata, payload, who, None, place)
}

/// Checks `payload` against its `metadata` bytes, as read by `who`, with the job's `key`.
pub fn verify_keyed(
    metadata: &[u8],
    payload: &[u8],
    who: Identity,
    key: Option<&PayloadKey>,
    place: &str,
) -> Result<()> {
    let refuse = |why: String| {
        Error::new(ErrorKind::Serialization, format!("{place}: {why}"))
            .with_context(sagemaker_core::error::context::PATH, place.to_string())
    };
    let meta: Metadata = serde_json::from_slice(metadata)
        .map_err(|e| refuse(format!("its {METADATA_FILE} is unreadable ({e})")))?;
    if meta.format_version != FORMAT_VERSION || meta.serialization != SERIALIZATION {
        return Err(refuse(format!(
            "payload format {} v{} cannot be read by this SDK (format {SERIALIZATION} v{FORMAT_VERSION})",
            meta.serialization, meta.format_version
        )));
    }
    if meta.sdk_version != sagemaker_core::SDK_VERSION {
        return Err(refuse(format!(
            "written by sagemaker {} but read by sagemaker {}; run the same SDK version on both sides",
            meta.sdk_version,
            sagemaker_core::SDK_VERSION
        )));
    }
    if meta.binary_version != who.binary_version {
        return Err(refuse(format!(
            "written by binary {} but read by binary {}; rebuild and run the same binary on both sides",
            meta.binary_version, who.binary_version
        )));
    }
    if meta.function != who.function {
        return Err(refuse(format!(
            "belongs to remote function '{}', not '{}'",
            meta.function, who.function
        )));
    }
    if !constant_time_eq(digest(payload, key).as_bytes(), meta.sha256_hash.as_bytes()) {
        return Err(refuse(match key {
            Some(_) => "integrity check failed: the payload's HMAC-SHA256 does not match its \
                        metadata under this job's secret (corrupted, or written by someone \
                        without the secret)"
                .to_string(),
            None => "integrity check failed: the payload's SHA-256 does not match its metadata \
                     (corrupted)"
                .to_string(),
        }));
    }
    Ok(())
}

/// `{base}/{kind}/`.
pub fn dir_uri(base: &StorageUri, kind: PayloadKind) -> StorageUri {
    base.join(kind.dir())
}

/// Uploads a payload and its metadata (payload first: a reader that finds the metadata finds
/// the payload).
pub async fn put(
    store: &dyn ArtifactStore,
    base: &StorageUri,
    kind: PayloadKind,
    payload: Vec<u8>,
    who: Identity,
    key: Option<&PayloadKey>,
) -> Result<()> {
    let dir = dir_uri(base, kind);
    let meta = serde_json::to_vec_pretty(&metadata_keyed(&payload, who, key))?;
    store.put_bytes(payload, &dir.join(PAYLOAD_FILE)).await?;
    store.put_bytes(meta, &dir.join(METADATA_FILE)).await
}

/// Whether a payload exists (its metadata does).
pub async fn exists(
    store: &dyn ArtifactStore,
    base: &StorageUri,
    kind: PayloadKind,
) -> Result<bool> {
    store.exists(&dir_uri(base, kind).join(METADATA_FILE)).await
}

/// Downloads and verifies a payload, returning its bytes.
pub async fn get(
    store: &dyn ArtifactStore,
    base: &StorageUri,
    kind: PayloadKind,
    who: Identity,
    key: Option<&PayloadKey>,
) -> Result<Vec<u8>> {
    let dir = dir_uri(base, kind);
    let meta = store.get_bytes(&dir.join(METADATA_FILE)).await?;
    let payload = store.get_bytes(&dir.join(PAYLOAD_FILE)).await?;
    verify_keyed(&meta, &payload, who, key, &dir.to_string())?;
    Ok(payload)
}

/// Writes a file atomically (a temporary file in the same directory, then a rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("payload"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Writes a payload and its metadata into a directory on disk (the job side).
pub(crate) fn write_dir(
    dir: &Path,
    payload: &[u8],
    who: Identity,
    key: Option<&PayloadKey>,
) -> std::io::Result<()> {
    let meta = serde_json::to_vec_pretty(&metadata_keyed(payload, who, key))
        .map_err(std::io::Error::other)?;
    write_atomic(&dir.join(PAYLOAD_FILE), payload)?;
    write_atomic(&dir.join(METADATA_FILE), &meta)
}

/// Reads and verifies a payload from a directory on disk (the job side).
pub(crate) fn read_dir(dir: &Path, who: Identity, key: Option<&PayloadKey>) -> Result<Vec<u8>> {
    let meta_path = dir.join(METADATA_FILE);
    let meta = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let path = dir.join(PAYLOAD_FILE);
    let payload = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    verify_keyed(&meta, &payload, who, key, &dir.display().to_string())?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHO: Identity = Identity {
        function: "m::f",
        binary_version: "bin@1.0.0",
    };

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_refuses_tampering_and_mismatches() {
        let payload = br#"[1,2]"#;
        let meta = serde_json::to_vec(&metadata_for(payload, WHO)).unwrap();
        verify(&meta, payload, WHO, "p").unwrap();

        let e = verify(&meta, br#"[1,3]"#, WHO, "p").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization);
        assert!(e.message().contains("integrity check failed"), "{e}");

        let other = Identity {
            binary_version: "bin@2.0.0",
            ..WHO
        };
        let e = verify(&meta, payload, other, "p").unwrap_err();
        assert!(
            e.message().contains("bin@1.0.0") && e.message().contains("bin@2.0.0"),
            "{e}"
        );

        let mut m = metadata_for(payload, WHO);
        m.sdk_version = "0.0.1".into();
        let e = verify(&serde_json::to_vec(&m).unwrap(), payload, WHO, "p").unwrap_err();
        assert!(e.message().contains("sagemaker 0.0.1"), "{e}");

        let mut m = metadata_for(payload, WHO);
        m.format_version = 99;
        let e = verify(&serde_json::to_vec(&m).unwrap(), payload, WHO, "p").unwrap_err();
        assert!(e.message().contains("v99"), "{e}");

        let e = verify(b"not json", payload, WHO, "p").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization);
    }

    #[test]
    fn disk_round_trip() {
        let dir = std::env::temp_dir().join(format!("sm-remote-payload-{}", std::process::id()));
        write_dir(&dir, b"\"x\"", WHO, None).unwrap();
        assert_eq!(read_dir(&dir, WHO, None).unwrap(), b"\"x\"");
        std::fs::write(dir.join(PAYLOAD_FILE), b"\"y\"").unwrap();
        assert_eq!(
            read_dir(&dir, WHO, None).unwrap_err().kind(),
            ErrorKind::Serialization
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn hmac_matches_the_python_sdk_and_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            hmac_sha256_hex(&PayloadKey("Jefe".into()), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_payload_rewritten_with_its_digest_is_refused_without_the_secret() {
        let key = PayloadKey::generate().unwrap();
        let payload = b"[1,2]";
        let meta = serde_json::to_vec(&metadata_keyed(payload, WHO, Some(&key))).unwrap();
        verify_keyed(&meta, payload, WHO, Some(&key), "p").unwrap();
        // A plain SHA-256 no longer verifies: the digest is keyed.
        assert_ne!(
            metadata_keyed(payload, WHO, Some(&key)).sha256_hash,
            sha256_hex(payload)
        );

        // The attacker rewrites the payload and recomputes the digest every way it can
        // without the secret: unkeyed, and keyed by a secret of its own.
        let forged = b"[1,9]";
        for meta in [
            metadata_for(forged, WHO),
            metadata_keyed(forged, WHO, Some(&PayloadKey::generate().unwrap())),
        ] {
            let e = verify_keyed(
                &serde_json::to_vec(&meta).unwrap(),
                forged,
                WHO,
                Some(&key),
                "p",
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Serialization);
            assert!(e.message().contains("integrity check failed"), "{e}");
            assert!(e.message().contains("HMAC-SHA256"), "{e}");
        }
    }

    #[test]
    fn the_key_travels_in_the_job_environment_only() {
        let key = PayloadKey::generate().unwrap();
        let mut env = std::collections::BTreeMap::new();
        assert_eq!(PayloadKey::of_job(&env), None);
        env.insert(SECRET_KEY_ENV.to_string(), key.as_str().to_string());
        assert_eq!(PayloadKey::of_job(&env), Some(key.clone()));
        // Nothing of the key is in the metadata written beside the payload.
        let meta = serde_json::to_string(&metadata_keyed(b"1", WHO, Some(&key))).unwrap();
        assert!(!meta.contains(key.as_str()), "{meta}");
    }
}
