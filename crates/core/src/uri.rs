//! Storage locations: `s3://bucket/key` and `file:///path` URIs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// A parsed storage location.
///
/// `s3://` URIs name an object or prefix in a bucket (on the local backend they map to files
/// under the session root); `file://` URIs name a local path and are read in place.
///
/// ```
/// use sagemaker_core::StorageUri;
///
/// let uri: StorageUri = "s3://my-bucket/data/train.csv".parse().unwrap();
/// assert_eq!(uri.bucket(), Some("my-bucket"));
/// assert_eq!(uri.key(), Some("data/train.csv"));
/// assert_eq!(uri.join("x").to_string(), "s3://my-bucket/data/train.csv/x");
///
/// let file: StorageUri = "file:///tmp/data".parse().unwrap();
/// assert_eq!(file.local_path(), Some(std::path::Path::new("/tmp/data")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StorageUri {
    /// An S3 (or S3-shaped local) object or prefix.
    S3 {
        /// The bucket name.
        bucket: String,
        /// The key or key prefix, without a leading `/` (may be empty).
        key: String,
    },
    /// A local file or directory, by absolute path.
    File {
        /// The absolute path.
        path: PathBuf,
    },
}

impl StorageUri {
    /// Parses an `s3://` or `file://` URI.
    pub fn parse(uri: &str) -> Result<Self> {
        uri.parse()
    }

    /// An `s3://bucket/key` URI.
    pub fn s3(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        StorageUri::S3 {
            bucket: bucket.into(),
            key: key.into().trim_start_matches('/').to_string(),
        }
    }

    /// A `file://` URI for `path`, made absolute against the current directory.
    pub fn file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::io(path, e))?
                .join(path)
        };
        Ok(StorageUri::File { path })
    }

    /// The bucket of an `s3://` URI.
    pub fn bucket(&self) -> Option<&str> {
        match self {
            StorageUri::S3 { bucket, .. } => Some(bucket),
            StorageUri::File { .. } => None,
        }
    }

    /// The key of an `s3://` URI.
    pub fn key(&self) -> Option<&str> {
        match self {
            StorageUri::S3 { key, .. } => Some(key),
            StorageUri::File { .. } => None,
        }
    }

    /// The path of a `file://` URI.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            StorageUri::File { path } => Some(path),
            StorageUri::S3 { .. } => None,
        }
    }

    /// Whether this is an `s3://` URI.
    pub fn is_s3(&self) -> bool {
        matches!(self, StorageUri::S3 { .. })
    }

    /// This location with `/segment` appended (a single `/` between the parts).
    pub fn join(&self, segment: &str) -> StorageUri {
        let segment = segment.trim_start_matches('/');
        match self {
            StorageUri::S3 { bucket, key } => {
                let key = if key.is_empty() {
                    segment.to_string()
                } else if key.ends_with('/') {
                    format!("{key}{segment}")
                } else {
                    format!("{key}/{segment}")
                };
                StorageUri::S3 {
                    bucket: bucket.clone(),
                    key,
                }
            }
            StorageUri::File { path } => StorageUri::File {
                path: path.join(segment),
            },
        }
    }

    /// The last path segment (file name), if any.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            StorageUri::S3 { key, .. } => key.trim_end_matches('/').rsplit('/').next(),
            StorageUri::File { path } => path.file_name().and_then(|n| n.to_str()),
        }
        .filter(|s| !s.is_empty())
    }
}

impl FromStr for StorageUri {
    type Err = Error;

    fn from_str(uri: &str) -> Result<Self> {
        let invalid = |why: &str| {
            Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("invalid storage URI '{uri}': {why}"),
            ))
        };
        if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if let Err(why) = check_bucket(bucket) {
                return invalid(&why);
            }
            Ok(StorageUri::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        } else if let Some(rest) = uri.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return invalid("file URIs need an absolute path (file:///abs/path)");
            }
            Ok(StorageUri::File {
                path: PathBuf::from(rest),
            })
        } else {
            invalid("only s3:// and file:// URIs are supported")
        }
    }
}

/// Applies S3's bucket naming rules (general purpose buckets), so that a bucket name can never
/// be a path component such as `..` on the local backend. See "Bucket naming rules" in the
/// Amazon S3 user guide: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
fn check_bucket(bucket: &str) -> std::result::Result<(), String> {
    if bucket.is_empty() {
        return Err("the bucket name is empty".into());
    }
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!(
            "the bucket name '{bucket}' has {} characters; bucket names have 3 to 63",
            bucket.len()
        ));
    }
    if let Some(c) = bucket
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!(
            "the bucket name '{bucket}' has the character {c:?}; bucket names use only \
             lower-case letters, digits, '.' and '-'"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(bucket.chars().next()) || !alnum(bucket.chars().last()) {
        return Err(format!(
            "the bucket name '{bucket}' must begin and end with a letter or digit"
        ));
    }
    if bucket.contains("..") {
        return Err(format!(
            "the bucket name '{bucket}' has two adjacent periods"
        ));
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!(
            "the bucket name '{bucket}' is formatted as an IP address"
        ));
    }
    Ok(())
}

impl fmt::Display for StorageUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageUri::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            StorageUri::File { path } => write!(f, "file://{}", path.display()),
        }
    }
}

impl Serialize for StorageUri {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StorageUri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "s3://bkt/k/x.csv",
            "s3://bkt/",
            "s3://bkt/prefix/",
            "s3://bkt/a/../b",
            "s3://bkt//x",
            "file:///tmp/a b/c",
        ] {
            let u: StorageUri = s.parse().unwrap();
            assert_eq!(u.to_string(), s);
        }
        let u: StorageUri = "s3://bkt".parse().unwrap();
        assert_eq!(u.key(), Some(""));
        assert_eq!(u.join("k").to_string(), "s3://bkt/k");
    }

    #[test]
    fn rejects_bad_uris() {
        for s in [
            "http://x/y",
            "s3:///key",
            "s3://Bad_Bucket/k",
            "file://rel/path",
            "train.csv",
        ] {
            let e = s.parse::<StorageUri>().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{s}");
            assert!(e.message().contains(s), "{e}");
        }
    }

    #[test]
    fn bucket_rules_refuse_hostile_names() {
        // (uri, words the message must contain)
        let table = [
            ("s3://../inroot.tar.gz", "3 to 63"),
            ("s3://.../x", "begin and end"),
            ("s3://a..b/x", "adjacent periods"),
            ("s3://./x", "3 to 63"),
            ("s3://b/k", "3 to 63"),
            ("s3://ab/k", "3 to 63"),
            ("s3://-bucket/k", "begin and end"),
            ("s3://bucket-/k", "begin and end"),
            ("s3://.bucket/k", "begin and end"),
            ("s3://192.168.5.4/k", "IP address"),
            ("s3://Bucket/k", "'B'"),
            ("s3://buck_et/k", "'_'"),
            ("s3://buck%2F/k", "'%'"),
            ("s3://bu\\ck/k", "'\\\\'"),
        ];
        for (uri, words) in table {
            let e = uri.parse::<StorageUri>().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{uri}");
            assert!(e.message().contains(uri), "{uri}: {e}");
            assert!(e.message().contains(words), "{uri}: {e}");
        }
        let long = format!("s3://{}/k", "a".repeat(64));
        assert!(long.parse::<StorageUri>().is_err());
        for ok in [
            "s3://abc/k",
            "s3://my.bucket-1/k",
            &format!("s3://{}/k", "a".repeat(63)),
            "s3://1.2.3/k",
        ] {
            assert!(ok.parse::<StorageUri>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn file_names() {
        let u: StorageUri = "s3://bkt/a/model.tar.gz".parse().unwrap();
        assert_eq!(u.file_name(), Some("model.tar.gz"));
        let u: StorageUri = "s3://bkt/".parse().unwrap();
        assert_eq!(u.file_name(), None);
    }
}
