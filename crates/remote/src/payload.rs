//! Payloads: a JSON value plus a `metadata.json` holding its SHA-256, the format version and
//! the SDK and binary versions. A payload whose hash or versions do not match is refused with
//! a [`ErrorKind::Serialization`] error, never decoded.

use std::path::Path;

use sagemaker_core::{ArtifactStore, Error, ErrorKind, Result, StorageUri};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// Hex SHA-256 of the payload bytes.
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
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The metadata of `payload` written by `who`.
pub fn metadata_for(payload: &[u8], who: Identity) -> Metadata {
    Metadata {
        sha256_hash: sha256_hex(payload),
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

/// Checks `payload` against its `metadata` bytes, as read by `who`. `place` says where the
/// payload is, for messages.
pub fn verify(metadata: &[u8], payload: &[u8], who: Identity, place: &str) -> Result<()> {
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
    if !constant_time_eq(sha256_hex(payload).as_bytes(), meta.sha256_hash.as_bytes()) {
        return Err(refuse(
            "integrity check failed: the payload's SHA-256 does not match its metadata (corrupted or tampered)"
                .to_string(),
        ));
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
) -> Result<()> {
    let dir = dir_uri(base, kind);
    let meta = serde_json::to_vec_pretty(&metadata_for(&payload, who))?;
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
) -> Result<Vec<u8>> {
    let dir = dir_uri(base, kind);
    let meta = store.get_bytes(&dir.join(METADATA_FILE)).await?;
    let payload = store.get_bytes(&dir.join(PAYLOAD_FILE)).await?;
    verify(&meta, &payload, who, &dir.to_string())?;
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
pub(crate) fn write_dir(dir: &Path, payload: &[u8], who: Identity) -> std::io::Result<()> {
    let meta =
        serde_json::to_vec_pretty(&metadata_for(payload, who)).map_err(std::io::Error::other)?;
    write_atomic(&dir.join(PAYLOAD_FILE), payload)?;
    write_atomic(&dir.join(METADATA_FILE), &meta)
}

/// Reads and verifies a payload from a directory on disk (the job side).
pub(crate) fn read_dir(dir: &Path, who: Identity) -> Result<Vec<u8>> {
    let meta_path = dir.join(METADATA_FILE);
    let meta = std::fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
    let path = dir.join(PAYLOAD_FILE);
    let payload = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    verify(&meta, &payload, who, &dir.display().to_string())?;
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
        write_dir(&dir, b"\"x\"", WHO).unwrap();
        assert_eq!(read_dir(&dir, WHO).unwrap(), b"\"x\"");
        std::fs::write(dir.join(PAYLOAD_FILE), b"\"y\"").unwrap();
        assert_eq!(
            read_dir(&dir, WHO).unwrap_err().kind(),
            ErrorKind::Serialization
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
