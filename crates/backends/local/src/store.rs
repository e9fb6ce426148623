//! The local object store: `s3://bucket/key` is the file `{root}/s3/bucket/key`; `file://`
//! URIs are used in place.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sagemaker_core::walk::{Missing, Symlinks};
use sagemaker_core::{ArtifactStore, Error, ErrorKind, ObjectInfo, Result, StorageUri};

/// A directory tree that stands in for S3.
#[derive(Debug, Clone)]
pub struct LocalStore {
    s3_root: PathBuf,
}

impl LocalStore {
    /// A store whose buckets live under `s3_root`.
    pub fn new(s3_root: impl Into<PathBuf>) -> Self {
        LocalStore {
            s3_root: s3_root.into(),
        }
    }

    /// The file that holds `uri`'s object.
    ///
    /// S3 keys are opaque strings, so the key is never normalised: each `/`-separated segment
    /// is escaped (see `key_path`) so that `a/../b` and `b` stay two objects and no key can leave
    /// its bucket directory. The bucket is checked against S3's naming rules again because
    /// [`StorageUri::s3`] builds a URI without parsing it.
    pub fn path_of(&self, uri: &StorageUri) -> Result<PathBuf> {
        match uri {
            StorageUri::File { path } => Ok(path.clone()),
            StorageUri::S3 { bucket, key } => {
                format!("s3://{bucket}/").parse::<StorageUri>()?;
                Ok(self.s3_root.join(bucket).join(key_path(key)))
            }
        }
    }

    fn uri_for(&self, base: &StorageUri, base_path: &Path, file: &Path) -> StorageUri {
        let rel = key_of(file.strip_prefix(base_path).unwrap_or(file));
        if rel.is_empty() {
            base.clone()
        } else {
            base.join(&rel)
        }
    }
}

/// The relative path that stores the object key `key`: one directory level per `/`-separated
/// segment, each segment escaped so the mapping is one-to-one and stays below the bucket.
///
/// `%` becomes `%25`, `\` becomes `%5C`, NUL becomes `%00`, a leading `.` becomes `%2E` (so `.`,
/// `..` and our own `.tmp-` files cannot be spelt by a key) and an empty segment becomes `%`.
/// One trailing `/` names the same directory as the key without it (a prefix).
pub(crate) fn key_path(key: &str) -> PathBuf {
    let key = key.strip_suffix('/').unwrap_or(key);
    let mut path = PathBuf::new();
    if key.is_empty() {
        return path;
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            path.push("%");
            continue;
        }
        let mut escaped = String::with_capacity(segment.len());
        for (i, c) in segment.chars().enumerate() {
            match c {
                '%' => escaped.push_str("%25"),
                '\\' => escaped.push_str("%5C"),
                '\0' => escaped.push_str("%00"),
                '.' if i == 0 => escaped.push_str("%2E"),
                c => escaped.push(c),
            }
        }
        path.push(escaped);
    }
    path
}

/// The object key stored at the relative path `rel` (the inverse of [`key_path`]).
pub(crate) fn key_of(rel: &Path) -> String {
    let segments: Vec<String> = rel
        .components()
        .map(|c| {
            let segment = c.as_os_str().to_string_lossy();
            if segment == "%" {
                return String::new();
            }
            segment
                .replace("%2E", ".")
                .replace("%5C", "\\")
                .replace("%00", "\0")
                // Last, so that an escaped `%` never forms a new escape.
                .replace("%25", "%")
        })
        .collect();
    segments.join("/")
}

/// Writes `bytes` to `dest` atomically (temp file beside it, then rename).
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    replace_atomic(dest, |tmp| {
        std::io::Write::write_all(tmp, bytes).map_err(|e| Error::io(tmp.path(), e))
    })
}

/// Copies `src` to `dest` atomically.
pub(crate) fn copy_atomic(src: &Path, dest: &Path) -> Result<()> {
    replace_atomic(dest, |tmp| {
        std::fs::copy(src, tmp.path()).map_err(|e| Error::io(src, e))?;
        Ok(())
    })
}

/// Lets `fill` write a temp file beside `dest`, then renames it over `dest`: readers see the
/// old file or the new one, never part of one.
fn replace_atomic(
    dest: &Path,
    fill: impl FnOnce(&mut tempfile::NamedTempFile) -> Result<()>,
) -> Result<()> {
    let mut tmp = temp_beside(dest)?;
    fill(&mut tmp)?;
    tmp.persist(dest).map_err(|e| Error::io(dest, e.error))?;
    Ok(())
}

/// A new `.tmp-` file (which walks and listings skip) in `dest`'s directory, created if
/// needed, for writing `dest` atomically.
pub(crate) fn temp_beside(dest: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = dest.parent().ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            format!("{} has no parent directory", dest.display()),
        )
    })?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

fn not_found(uri: &StorageUri) -> Error {
    Error::new(ErrorKind::NotFound, format!("no object at {uri}"))
        .with_context(sagemaker_core::error::context::PATH, uri.to_string())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, format!("store task failed: {e}")))?
}

/// Every regular file under `dir` (following links), sorted; temp files skipped, and a
/// missing directory (or one removed meanwhile) is empty.
pub(crate) fn walk(dir: &Path) -> Result<Vec<(PathBuf, u64)>> {
    let entries = sagemaker_core::walk::walk(dir, Symlinks::Follow, Missing::Skip, |rel| {
        !rel.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
    })?;
    Ok(entries
        .into_iter()
        .filter(|e| e.metadata.is_file())
        .map(|e| {
            let len = e.metadata.len();
            (e.path, len)
        })
        .collect())
}

#[async_trait]
impl ArtifactStore for LocalStore {
    async fn put_file(&self, local: &Path, uri: &StorageUri) -> Result<()> {
        let dest = self.path_of(uri)?;
        let src = local.to_path_buf();
        if src == dest {
            return Ok(());
        }
        blocking(move || copy_atomic(&src, &dest)).await
    }

    async fn put_bytes(&self, bytes: Vec<u8>, uri: &StorageUri) -> Result<()> {
        let dest = self.path_of(uri)?;
        blocking(move || write_atomic(&dest, &bytes)).await
    }

    async fn get_bytes(&self, uri: &StorageUri) -> Result<Vec<u8>> {
        let path = self.path_of(uri)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found(uri)),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    async fn get_file(&self, uri: &StorageUri, local: &Path) -> Result<()> {
        let src = self.path_of(uri)?;
        if !tokio::fs::try_exists(&src).await.unwrap_or(false) {
            return Err(not_found(uri));
        }
        let dest = local.to_path_buf();
        blocking(move || copy_atomic(&src, &dest)).await
    }

    async fn list(&self, prefix: &StorageUri) -> Result<Vec<ObjectInfo>> {
        let path = self.path_of(prefix)?;
        let store = self.clone();
        let prefix = prefix.clone();
        blocking(move || {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => return Ok(vec![ObjectInfo::new(prefix, m.len())]),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // An S3 prefix need not end at a "directory": `s3://b/data/tr` lists
                    // `data/train.csv`. Match files in the parent whose names start with it.
                    let (Some(parent), Some(stem)) = (path.parent(), path.file_name()) else {
                        return Ok(Vec::new());
                    };
                    if !prefix.is_s3() {
                        return Ok(Vec::new());
                    }
                    let stem = key_of(Path::new(stem));
                    let parent_uri = match prefix.key().and_then(|k| k.rsplit_once('/')) {
                        Some((p, _)) => StorageUri::s3(prefix.bucket().unwrap_or_default(), p),
                        None => StorageUri::s3(prefix.bucket().unwrap_or_default(), ""),
                    };
                    let mut out = Vec::new();
                    for (file, size) in walk(parent)? {
                        if key_of(file.strip_prefix(parent).unwrap_or(&file)).starts_with(&stem) {
                            out.push(ObjectInfo::new(
                                store.uri_for(&parent_uri, parent, &file),
                                size,
                            ));
                        }
                    }
                    return Ok(out);
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
            Ok(walk(&path)?
                .into_iter()
                .map(|(file, size)| ObjectInfo::new(store.uri_for(&prefix, &path, &file), size))
                .collect())
        })
        .await
    }

    async fn exists(&self, uri: &StorageUri) -> Result<bool> {
        let path = self.path_of(uri)?;
        Ok(tokio::fs::metadata(&path)
            .await
            .map(|m| m.is_file())
            .unwrap_or(false))
    }

    async fn delete(&self, uri: &StorageUri) -> Result<()> {
        let path = self.path_of(uri)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn local_path(&self, uri: &StorageUri) -> Option<PathBuf> {
        self.path_of(uri).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("s3"));
        let a: StorageUri = "s3://bkt/data/train.csv".parse().unwrap();
        let b: StorageUri = "s3://bkt/data/sub/x.csv".parse().unwrap();
        store.put_bytes(b"1,2\n".to_vec(), &a).await.unwrap();
        store.put_bytes(b"3".to_vec(), &b).await.unwrap();
        assert_eq!(store.get_bytes(&a).await.unwrap(), b"1,2\n");
        assert!(dir.path().join("s3/bkt/data/train.csv").is_file());

        let all = store.list(&"s3://bkt/data".parse().unwrap()).await.unwrap();
        let names: Vec<_> = all.iter().map(|o| o.uri.to_string()).collect();
        assert_eq!(
            names,
            ["s3://bkt/data/sub/x.csv", "s3://bkt/data/train.csv"]
        );
        let partial = store
            .list(&"s3://bkt/data/tr".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(partial.len(), 1);
        assert_eq!(partial[0].size, 4);

        store.delete(&a).await.unwrap();
        assert!(!store.exists(&a).await.unwrap());
        let e = store.get_bytes(&a).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn keys_map_one_to_one_inside_the_bucket() {
        let root = Path::new("/tmp/s3");
        let store = LocalStore::new(root);
        let keys = [
            "a/../b",
            "b",
            "a/./b",
            "a/b",
            "a//b",
            "../../etc/passwd",
            "..",
            ".",
            "/abs",
            ".tmp-x",
            "%2E%2E/x",
            "..\\..\\x",
            "%",
            "a/%/b",
            "nul\0x",
        ];
        let mut seen = std::collections::HashMap::new();
        for key in keys {
            let uri = StorageUri::S3 {
                bucket: "bkt".into(),
                key: key.into(),
            };
            let path = store.path_of(&uri).unwrap();
            assert!(path.starts_with(root.join("bkt")), "{key}: {path:?}");
            let rel = path.strip_prefix(root.join("bkt")).unwrap();
            for c in rel.components() {
                assert!(
                    matches!(c, std::path::Component::Normal(n) if !n.to_string_lossy().starts_with('.')),
                    "{key}: {path:?}"
                );
            }
            assert_eq!(key_of(rel), key, "{key} round-trips");
            if let Some(other) = seen.insert(path.clone(), key) {
                panic!("{key} and {other} alias {path:?}");
            }
        }
    }

    #[test]
    fn hostile_buckets_are_refused_even_when_built_without_parsing() {
        let store = LocalStore::new("/tmp/s3");
        for bucket in ["..", ".", "", "a/b", "x"] {
            let e = store.path_of(&StorageUri::s3(bucket, "k")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bucket}");
        }
    }

    #[tokio::test]
    async fn dot_segments_are_distinct_objects() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("s3"));
        let a: StorageUri = "s3://bkt/a/../b".parse().unwrap();
        let b: StorageUri = "s3://bkt/b".parse().unwrap();
        store.put_bytes(b"one".to_vec(), &a).await.unwrap();
        store.put_bytes(b"two".to_vec(), &b).await.unwrap();
        assert_eq!(store.get_bytes(&a).await.unwrap(), b"one");
        assert_eq!(store.get_bytes(&b).await.unwrap(), b"two");
        let listed: Vec<_> = store
            .list(&"s3://bkt/".parse().unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.uri.to_string())
            .collect();
        assert_eq!(listed, ["s3://bkt/a/../b", "s3://bkt/b"]);
        // Nothing was written outside the bucket directory.
        let top: Vec<_> = std::fs::read_dir(dir.path().join("s3"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(top, ["bkt"]);
    }
}
