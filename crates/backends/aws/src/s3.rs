//! The S3 [`ArtifactStore`].

use std::path::Path;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use sagemaker_core::{ArtifactStore, Error, ErrorKind, ObjectInfo, Result, StorageUri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::map;

/// Objects at least this large are uploaded in parts (S3's minimum part is 5 MiB).
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The size of each part of a multipart upload.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// S3 as the SDK's object store: streaming uploads (multipart from
/// [`MULTIPART_THRESHOLD`]) and downloads to a temporary file renamed into place.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
}

impl S3Store {
    /// A store over `client`.
    pub fn new(client: Client) -> Self {
        S3Store { client }
    }

    /// The S3 client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Checks an `s3://` URI names a valid bucket (S3's naming rules) and splits it.
pub(crate) fn s3_parts(uri: &StorageUri) -> Result<(&str, &str)> {
    match uri {
        StorageUri::S3 { bucket, key } => {
            validate_bucket(bucket)?;
            Ok((bucket, key))
        }
        StorageUri::File { .. } => Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "the AWS backend cannot read or write '{uri}': SageMaker reads data from S3; upload it first (Session::upload_data) and pass the s3:// URI"
            ),
        )),
    }
}

/// S3's bucket naming rules: 3–63 characters of lowercase letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IP address.
pub fn validate_bucket(bucket: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("'{bucket}' is not a valid S3 bucket name: {why}"),
        )
        .with_context(sagemaker_core::error::context::RESOURCE, bucket))
    };
    if !(3..=63).contains(&bucket.len()) {
        return bad("it must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return bad("only lowercase letters, digits, '.' and '-' are allowed");
    }
    let first = bucket.as_bytes()[0];
    let last = bucket.as_bytes()[bucket.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return bad("it must begin and end with a letter or digit");
    }
    if bucket.contains("..") {
        return bad("it must not contain '..'");
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("it must not be an IP address");
    }
    Ok(())
}

fn object_key(uri: &StorageUri) -> Result<(&str, &str)> {
    let (bucket, key) = s3_parts(uri)?;
    if key.is_empty() || key.ends_with('/') {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("'{uri}' names a prefix, not an object"),
        ));
    }
    Ok((bucket, key))
}

impl S3Store {
    async fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        what: &str,
    ) -> Result<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(|e| map("PutObject", &format!("s3://{bucket}/{key}"), e))
            .map(|_| ())
            .map_err(|e| e.with_context(sagemaker_core::error::context::PATH, what))
    }

    async fn put_multipart(&self, local: &Path, bucket: &str, key: &str) -> Result<()> {
        let uri = format!("s3://{bucket}/{key}");
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map("CreateMultipartUpload", &uri, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = self.upload_parts(local, bucket, key, &upload_id).await;
        match result {
            Ok(parts) => {
                self.client
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| map("CompleteMultipartUpload", &uri, e))?;
                Ok(())
            }
            Err(e) => {
                // Leave no half-written upload behind (it would be billed).
                let _ = self
                    .client
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        local: &Path,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<CompletedPart>> {
        let uri = format!("s3://{bucket}/{key}");
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| Error::io(local, e))?;
        let mut parts = Vec::new();
        let mut number = 1;
        loop {
            let mut buf = Vec::with_capacity(PART_SIZE);
            while buf.len() < PART_SIZE {
                let n = (&mut file)
                    .take((PART_SIZE - buf.len()) as u64)
                    .read_to_end(&mut buf)
                    .await
                    .map_err(|e| Error::io(local, e))?;
                if n == 0 {
                    break;
                }
            }
            if buf.is_empty() {
                break;
            }
            let last = buf.len() < PART_SIZE;
            let out = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(|e| map("UploadPart", &uri, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build(),
            );
            number += 1;
            if last {
                break;
            }
        }
        Ok(parts)
    }
}

#[async_trait]
impl ArtifactStore for S3Store {
    async fn put_file(&self, local: &Path, uri: &StorageUri) -> Result<()> {
        let (bucket, key) = object_key(uri)?;
        let size = tokio::fs::metadata(local)
            .await
            .map_err(|e| Error::io(local, e))?
            .len();
        if size >= MULTIPART_THRESHOLD {
            return self.put_multipart(local, bucket, key).await;
        }
        let body = ByteStream::from_path(local).await.map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read {}: {e}", local.display()),
            )
        })?;
        self.put_stream(bucket, key, body, &local.display().to_string())
            .await
    }

    async fn put_bytes(&self, bytes: Vec<u8>, uri: &StorageUri) -> Result<()> {
        let (bucket, key) = object_key(uri)?;
        self.put_stream(bucket, key, ByteStream::from(bytes), "bytes")
            .await
    }

    async fn get_bytes(&self, uri: &StorageUri) -> Result<Vec<u8>> {
        let (bucket, key) = object_key(uri)?;
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map("GetObject", &uri.to_string(), e))?;
        let data = out.body.collect().await.map_err(|e| {
            Error::new(ErrorKind::Io, format!("reading {uri} failed: {e}")).with_source(e)
        })?;
        Ok(data.to_vec())
    }

    async fn get_file(&self, uri: &StorageUri, local: &Path) -> Result<()> {
        let (bucket, key) = object_key(uri)?;
        let mut out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map("GetObject", &uri.to_string(), e))?;
        let dir = local.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::io(dir, e))?;
        // Stream into a temporary file next to the target and rename: a reader never sees
        // half a download.
        let tmp = dir.join(format!(
            ".{}.part-{}",
            local
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("download"),
            std::process::id()
        ));
        let result = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| Error::io(&tmp, e))?;
            while let Some(chunk) = out.body.try_next().await.map_err(|e| {
                Error::new(ErrorKind::Io, format!("reading {uri} failed: {e}")).with_source(e)
            })? {
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(&tmp, e))?;
            }
            file.flush().await.map_err(|e| Error::io(&tmp, e))?;
            tokio::fs::rename(&tmp, local)
                .await
                .map_err(|e| Error::io(local, e))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn list(&self, prefix: &StorageUri) -> Result<Vec<ObjectInfo>> {
        let (bucket, key) = s3_parts(prefix)?;
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(key)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map("ListObjectsV2", &prefix.to_string(), e))?;
            for obj in page.contents() {
                let Some(k) = obj.key() else { continue };
                // A prefix names a "directory": `data/x` lists `data/x` and `data/x/...`,
                // not `data/xy.csv`.
                let inside = key.is_empty()
                    || key.ends_with('/')
                    || k == key
                    || k.strip_prefix(key)
                        .is_some_and(|rest| rest.starts_with('/'));
                if inside && !k.ends_with('/') {
                    out.push(ObjectInfo::new(
                        StorageUri::s3(bucket, k),
                        obj.size().unwrap_or(0).max(0) as u64,
                    ));
                }
            }
        }
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(out)
    }

    async fn exists(&self, uri: &StorageUri) -> Result<bool> {
        let (bucket, key) = object_key(uri)?;
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = map("HeadObject", &uri.to_string(), e);
                if err.kind() == ErrorKind::NotFound {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn delete(&self, uri: &StorageUri) -> Result<()> {
        let (bucket, key) = object_key(uri)?;
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map("DeleteObject", &uri.to_string(), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["sagemaker-us-east-1-123456789012", "abc", "a.b-c1"] {
            validate_bucket(ok).unwrap();
        }
        for (bad, why) in [
            ("ab", "3 to 63"),
            ("Bad_Name", "lowercase"),
            ("-abc", "begin and end"),
            ("a..b", "'..'"),
            ("192.168.0.1", "IP address"),
        ] {
            let e = validate_bucket(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig);
            assert!(e.message().contains(why), "{bad}: {e}");
        }
    }
}
