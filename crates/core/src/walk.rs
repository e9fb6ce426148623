//! One recursive directory walk for every crate: sorted, deterministic, with an explicit
//! symlink policy.
//!
//! Uploading a source directory, packing an artifact, listing a local store and reading a
//! training channel all walk a tree. They differ only in what they skip and in how they treat
//! links, so those two choices are parameters here and the walk itself is written once.
//!
//! ```
//! use sagemaker_core::walk::{Missing, Symlinks, walk};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("sub"))?;
//! std::fs::write(dir.path().join("sub/b.txt"), "b")?;
//! std::fs::write(dir.path().join("a.txt"), "a")?;
//! std::fs::write(dir.path().join(".hidden"), "h")?;
//!
//! let entries = walk(dir.path(), Symlinks::Follow, Missing::Error, |rel| {
//!     !rel.to_string_lossy().starts_with('.')
//! })?;
//! let rels: Vec<String> = entries.iter().map(|e| e.rel_slash()).collect();
//! assert_eq!(rels, ["a.txt", "sub", "sub/b.txt"]);
//! assert!(entries[1].metadata.is_dir());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::context;
use crate::{Error, ErrorKind, Result};

/// What the walk does with a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Symlinks {
    /// A link is reported as what it points to, and a link to a directory is entered, as
    /// Python's `tarfile` with `dereference=True` and `os.walk(followlinks=True)` do. A link
    /// that leads back to a directory being walked (a cycle) is an [`ErrorKind::Io`] error
    /// naming the link; a broken link is an [`ErrorKind::Io`] error too.
    Follow,
    /// Links (to files or directories, broken or not) are neither reported nor entered, so
    /// nothing outside the tree is ever read.
    Skip,
}

/// What the walk does when a directory it is about to read does not exist (the root, or a
/// directory removed while the walk runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missing {
    /// An [`ErrorKind::Io`] error naming the directory.
    Error,
    /// The directory counts as empty.
    Skip,
}

/// One file, directory or other node found by [`walk`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WalkEntry {
    /// The root joined with [`rel`](Self::rel).
    pub path: PathBuf,
    /// The path relative to the root.
    pub rel: PathBuf,
    /// The node's metadata: of the link's target under [`Symlinks::Follow`].
    pub metadata: fs::Metadata,
}

impl WalkEntry {
    /// The relative path with `/` between its components (lossy for names that are not
    /// UTF-8), as object keys and archive members spell it.
    pub fn rel_slash(&self) -> String {
        rel_slash(&self.rel)
    }
}

/// `rel` with `/` between its components (lossy for names that are not UTF-8).
pub fn rel_slash(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every node under `root` (not `root` itself) for which `keep` returns `true`, depth first,
/// each directory's names sorted, a directory before its contents. The order is therefore
/// the order of the paths themselves, the same on every run and every platform.
///
/// `keep` sees each path relative to `root` before anything else is read about it, so a
/// skipped name is never even looked at (a temp file that vanishes meanwhile does no harm),
/// and a skipped directory is not entered. Links follow `symlinks`; a missing directory
/// follows `missing`. Every other failure to read a directory or a node's metadata is an
/// [`ErrorKind::Io`] error naming that path.
pub fn walk(
    root: &Path,
    symlinks: Symlinks,
    missing: Missing,
    mut keep: impl FnMut(&Path) -> bool,
) -> Result<Vec<WalkEntry>> {
    let mut out = Vec::new();
    // The canonical paths of the directories being walked, to notice a link cycle.
    let mut ancestors = Vec::new();
    if symlinks == Symlinks::Follow {
        match fs::canonicalize(root) {
            Ok(c) => ancestors.push(c),
            Err(e) if missing == Missing::Skip && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(out);
            }
            Err(e) => return Err(Error::io(root, e)),
        }
    }
    let mut walker = Walker {
        root,
        symlinks,
        missing,
        keep: &mut keep,
        ancestors,
        out: &mut out,
    };
    walker.dir(root, Path::new(""))?;
    Ok(out)
}

/// Every regular file under `root`, links followed, in path order: what uploading a
/// directory sends. A link cycle, a broken link or an unreadable directory is an
/// [`ErrorKind::Io`] error.
pub fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let entries = walk(root, Symlinks::Follow, Missing::Error, |_| true)?;
    Ok(entries
        .into_iter()
        .filter(|e| e.metadata.is_file())
        .map(|e| e.path)
        .collect())
}

struct Walker<'a, F> {
    root: &'a Path,
    symlinks: Symlinks,
    missing: Missing,
    keep: &'a mut F,
    ancestors: Vec<PathBuf>,
    out: &'a mut Vec<WalkEntry>,
}

impl<F: FnMut(&Path) -> bool> Walker<'_, F> {
    fn dir(&mut self, dir: &Path, rel: &Path) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if self.missing == Missing::Skip && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(());
            }
            Err(e) => return Err(Error::io(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            names.push(entry.map_err(|e| Error::io(dir, e))?.file_name());
        }
        names.sort();
        for name in names {
            let rel = rel.join(&name);
            if !(self.keep)(&rel) {
                continue;
            }
            let path = self.root.join(&rel);
            let metadata = match self.symlinks {
                Symlinks::Follow => fs::metadata(&path),
                Symlinks::Skip => fs::symlink_metadata(&path),
            };
            let metadata = metadata.map_err(|e| Error::io(&path, e))?;
            if metadata.file_type().is_symlink() {
                continue;
            }
            let is_dir = metadata.is_dir();
            let canonical = if is_dir && self.symlinks == Symlinks::Follow {
                let canonical = fs::canonicalize(&path).map_err(|e| Error::io(&path, e))?;
                // A link to an ancestor would make the walk infinite.
                if self.ancestors.contains(&canonical) {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "{}: symlink cycle: it leads back to {}",
                            path.display(),
                            canonical.display()
                        ),
                    )
                    .with_context(context::PATH, path.display().to_string()));
                }
                Some(canonical)
            } else {
                None
            };
            self.out.push(WalkEntry {
                path: path.clone(),
                rel: rel.clone(),
                metadata,
            });
            if is_dir {
                if let Some(c) = canonical.clone() {
                    self.ancestors.push(c);
                }
                self.dir(&path, &rel)?;
                if canonical.is_some() {
                    self.ancestors.pop();
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(entries: &[WalkEntry]) -> Vec<String> {
        entries.iter().map(WalkEntry::rel_slash).collect()
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::write(dir.path().join("b/c/d.txt"), "d").unwrap();
        fs::write(dir.path().join("b.txt"), "b").unwrap();
        fs::write(dir.path().join("a"), "a").unwrap();
        dir
    }

    #[test]
    fn walks_depth_first_in_path_order() {
        let dir = tree();
        let all = walk(dir.path(), Symlinks::Follow, Missing::Error, |_| true).unwrap();
        // "b" sorts before "b.txt", so its contents come first: the order of the paths.
        assert_eq!(rels(&all), ["a", "b", "b/c", "b/c/d.txt", "b.txt"]);
        let mut paths: Vec<_> = all.iter().map(|e| e.path.clone()).collect();
        let walked = paths.clone();
        paths.sort();
        assert_eq!(walked, paths);
        assert!(all[1].metadata.is_dir() && all[3].metadata.is_file());
        assert_eq!(all[3].path, dir.path().join("b/c/d.txt"));
    }

    #[test]
    fn keep_prunes_files_and_directories() {
        let dir = tree();
        let mut seen = Vec::new();
        let kept = walk(dir.path(), Symlinks::Skip, Missing::Error, |rel| {
            seen.push(rel_slash(rel));
            rel != Path::new("b")
        })
        .unwrap();
        assert_eq!(rels(&kept), ["a", "b.txt"]);
        // A skipped directory is not entered.
        assert_eq!(seen, ["a", "b", "b.txt"]);
    }

    #[test]
    fn missing_directories_follow_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let err = walk(&gone, Symlinks::Follow, Missing::Error, |_| true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.message().contains("gone"), "{err}");
        assert!(
            walk(&gone, Symlinks::Follow, Missing::Skip, |_| true)
                .unwrap()
                .is_empty()
        );
        assert!(
            walk(&gone, Symlinks::Skip, Missing::Skip, |_| true)
                .unwrap()
                .is_empty()
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_or_skipped() {
        let dir = tree();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("z")).unwrap();

        let followed = walk(dir.path(), Symlinks::Follow, Missing::Error, |_| true).unwrap();
        let names = rels(&followed);
        assert!(names.contains(&"link/secret".to_owned()), "{names:?}");
        let z = followed.iter().find(|e| e.rel_slash() == "z").unwrap();
        assert!(z.metadata.is_file());

        let skipped = walk(dir.path(), Symlinks::Skip, Missing::Error, |_| true).unwrap();
        assert_eq!(rels(&skipped), ["a", "b", "b/c", "b/c/d.txt", "b.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_cycle_is_an_error_when_following() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("b/c/loop")).unwrap();
        let err = walk(dir.path(), Symlinks::Follow, Missing::Error, |_| true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.message().contains("symlink cycle"), "{err}");
        assert_eq!(
            err.context(context::PATH),
            Some(dir.path().join("b/c/loop").display().to_string().as_str())
        );
        // Skipping links never loops.
        let skipped = walk(dir.path(), Symlinks::Skip, Missing::Error, |_| true).unwrap();
        assert_eq!(skipped.len(), 5);

        std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("broken")).unwrap();
        fs::remove_file(dir.path().join("b/c/loop")).unwrap();
        let err = walk(dir.path(), Symlinks::Follow, Missing::Error, |_| true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.message().contains("broken"), "{err}");
    }
}
