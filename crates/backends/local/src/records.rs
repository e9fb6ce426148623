//! The JSON records the local backend keeps on disk: models and endpoint configs as
//! `{root}/{kind}/{name}.json`, training jobs, transform jobs and endpoints as
//! `{root}/{kind}/{name}/{file}.json`.
//!
//! Every record is written whole and atomically (a `.tmp-` file beside it, then a rename or
//! a hard link), so a reader in this or another process sees the old record or the new one,
//! never half of one. The format is `serde_json`'s pretty printing of the record; a root
//! written by an earlier release reads back unchanged.

use std::path::Path;

use sagemaker_core::error::context;
use sagemaker_core::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{temp_beside, write_atomic};

/// Writes `record` to `path`, replacing what is there.
pub(crate) fn write<T: Serialize>(path: &Path, record: &T) -> Result<()> {
    write_atomic(path, &serde_json::to_vec_pretty(record)?)
}

/// Creates `path` holding `record`, failing with `AlreadyExists` (naming the resource's ARN)
/// when it exists; atomic across processes: the finished temp file is hard-linked into place.
pub(crate) fn create<T: Serialize>(path: &Path, record: &T, what: &str, name: &str) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(record)?;
    let tmp = temp_beside(path)?;
    std::fs::write(tmp.path(), bytes).map_err(|e| Error::io(tmp.path(), e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "Cannot create already existing {what} \"{}\".",
                sagemaker_core::arn(
                    crate::LOCAL_REGION,
                    crate::LOCAL_ACCOUNT,
                    &what.replace(' ', "-"),
                    name
                )
            ),
        )
        .with_context(context::RESOURCE, name)),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Reads the record at `path`: a missing file is a `NotFound` error for the `what` named
/// `name`; a record that does not parse is a `Serialization` error naming the file.
pub(crate) fn read<T: DeserializeOwned>(path: &Path, what: &str, name: &str) -> Result<T> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::not_found(what, name));
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(ErrorKind::Serialization, format!("{}: {e}", path.display())).with_source(e)
    })
}

/// The names of the records in `dir`, sorted: the entries whose name ends with `suffix`,
/// without it (every entry when `suffix` is empty). Hidden entries (temp files) are skipped,
/// and a missing `dir` holds no records.
pub(crate) fn list(dir: &Path, suffix: &str) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.starts_with('.')
        {
            names.push(stem.to_string());
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        name: String,
        count: u32,
    }

    fn record(count: u32) -> Record {
        Record {
            name: "r".into(),
            count,
        }
    }

    #[test]
    fn write_then_read_round_trips_as_pretty_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs/j1/job.json");
        write(&path, &record(1)).unwrap();
        write(&path, &record(2)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n  \"name\": \"r\",\n  \"count\": 2\n}"
        );
        assert_eq!(read::<Record>(&path, "job", "j1").unwrap(), record(2));
        // No temp file is left beside the record.
        assert_eq!(list(&dir.path().join("jobs/j1"), "").unwrap(), ["job.json"]);
    }

    #[test]
    fn read_errors_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let err = read::<Record>(&path, "model", "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.message().contains("m"), "{err}");
        std::fs::write(&path, "{\"name\": ").unwrap();
        let err = read::<Record>(&path, "model", "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Serialization);
        assert!(
            err.message().starts_with(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn create_refuses_an_existing_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models/m.json");
        create(&path, &record(1), "endpoint config", "m").unwrap();
        let err = create(&path, &record(2), "endpoint config", "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert!(err.message().contains(":endpoint-config/m"), "{err}");
        assert_eq!(err.context(context::RESOURCE), Some("m"));
        assert_eq!(read::<Record>(&path, "model", "m").unwrap(), record(1));
    }

    #[test]
    fn list_skips_hidden_entries_and_other_suffixes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            list(&dir.path().join("absent"), ".json")
                .unwrap()
                .is_empty()
        );
        for name in ["b.json", "a.json", ".tmp-x.json", "notes.txt"] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        assert_eq!(list(dir.path(), ".json").unwrap(), ["a", "b"]);
        assert_eq!(
            list(dir.path(), "").unwrap(),
            ["a.json", "b.json", "notes.txt"]
        );
    }
}
