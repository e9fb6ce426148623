//! Staging the user's code where the script runs: the toolkit's `download_and_extract`
//! (a directory is copied, a `sourcedir.tar.gz` extracted) for local sources.

use std::path::{Path, PathBuf};

use sagemaker_core::artifact::{self, ExtractLimits};

/// Where a `sagemaker_submit_directory` / `SAGEMAKER_SUBMIT_DIRECTORY` value points on this
/// machine: `file://dir`, `file://…/sourcedir.tar.gz` or a plain absolute path. `s3://`
/// sources are staged by the backend before the container runs (it owns the store).
pub(crate) fn local_source(submit_directory: &str) -> Result<PathBuf, String> {
    let path = submit_directory
        .strip_prefix("file://")
        .unwrap_or(submit_directory);
    if path.starts_with('/') {
        Ok(PathBuf::from(path))
    } else {
        Err(format!(
            "the submit directory '{submit_directory}' is not on this machine (file:// or an absolute path); \
             the local backend stages s3:// code itself"
        ))
    }
}

/// Copies or extracts `source` into `dest` (created). A directory's links must point inside
/// it: a link leaving `source` is refused with its path, so a job never reads (or packs)
/// files its author did not ship.
pub(crate) fn stage(source: &Path, dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let meta = std::fs::metadata(source)
        .map_err(|e| format!("the code at {} cannot be read: {e}", source.display()))?;
    if meta.is_file() {
        return artifact::extract_file(source, dest, ExtractLimits::default())
            .map(|_| ())
            .map_err(|e| format!("cannot extract {}: {}", source.display(), e.message()));
    }
    let root = source
        .canonicalize()
        .map_err(|e| format!("{}: {e}", source.display()))?;
    copy_dir(&root, &root, dest)
}

fn copy_dir(root: &Path, dir: &Path, dest: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        // Caches and VCS metadata are never part of the code the toolkit runs.
        if name == "__pycache__" || name == ".git" {
            continue;
        }
        let target = dest.join(&name);
        let file_type = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let real = if file_type.is_symlink() {
            let resolved = path
                .canonicalize()
                .map_err(|e| format!("the link {} is broken: {e}", path.display()))?;
            if !resolved.starts_with(root) {
                return Err(format!(
                    "the link {} points outside source_dir ({} is not under {}); copy the file in instead",
                    path.display(),
                    resolved.display(),
                    root.display()
                ));
            }
            resolved
        } else {
            path.clone()
        };
        if real.is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
            copy_dir(root, &real, &target)?;
        } else {
            std::fs::copy(&real, &target)
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_a_directory_and_refuses_links_outside_it() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir(src.path().join("pkg")).unwrap();
        std::fs::write(src.path().join("train.py"), "print(1)\n").unwrap();
        std::fs::write(src.path().join("pkg/util.py"), "X = 1\n").unwrap();
        std::os::unix::fs::symlink("train.py", src.path().join("alias.py")).unwrap();
        let dest = tempfile::tempdir().unwrap();
        stage(src.path(), dest.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.path().join("pkg/util.py")).unwrap(),
            "X = 1\n"
        );
        assert_eq!(
            std::fs::read_to_string(dest.path().join("alias.py")).unwrap(),
            "print(1)\n"
        );

        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), src.path().join("secret")).unwrap();
        let err = stage(src.path(), tempfile::tempdir().unwrap().path()).unwrap_err();
        assert!(err.contains("points outside source_dir"), "{err}");
        assert!(err.contains("secret"), "{err}");
    }

    #[test]
    fn local_sources() {
        assert_eq!(local_source("file:///a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(local_source("/a/b").unwrap(), PathBuf::from("/a/b"));
        assert!(local_source("s3://b/k").unwrap_err().contains("s3://"));
    }
}
