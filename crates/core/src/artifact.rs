//! Packing and safely extracting model artifacts (`model.tar.gz`).
//!
//! A model artifact comes from outside the process, so extraction treats it as hostile:
//! every entry is checked before anything is written, links and special files are refused,
//! sizes and entry counts are capped, and the result only becomes visible (by one rename)
//! once the whole archive has been read successfully.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use crate::error::{Error, ErrorKind, Result, context};

/// Size of the buffer entry data is streamed through.
const COPY_BUFFER: usize = 64 * 1024;

/// How much data after the tar end marker is read to reach (and check) the gzip trailer.
/// Tar pads to a 10 KiB record; anything beyond this cap is ignored rather than inflated.
const MAX_TRAILING_BYTES: u64 = 1024 * 1024;

/// Limits that bound what extracting an archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// The most uncompressed file bytes that may be written, over all entries.
    pub max_total_bytes: u64,
    /// The most archive entries (files, directories, and any other header) that may be read.
    pub max_entries: u64,
}

impl Default for ExtractLimits {
    /// 4 GiB of uncompressed file data and 100 000 entries.
    fn default() -> Self {
        ExtractLimits {
            max_total_bytes: 4 * 1024 * 1024 * 1024,
            max_entries: 100_000,
        }
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExtractSummary {
    /// Distinct regular files written (an entry replacing an earlier one is not counted again).
    pub files: u64,
    /// Directories created by directory entries (not counting implicitly created parents).
    pub directories: u64,
    /// Uncompressed file bytes written, over all file entries.
    pub bytes: u64,
}

/// Packs the contents of `src_dir` (not the dir itself) into a gzip tarball at `dest`,
/// atomically: writes a temp file in dest's directory, fsyncs, renames.
///
/// Entries are relative paths in sorted order (each directory's names sorted, depth first),
/// so the same tree always gives the same bytes. Directories are included (with a trailing
/// `/`), there is no `./` prefix. Symlinks inside `src_dir` are dereferenced (as the Python
/// SDK's tar does); a symlink cycle is an error. Modes are normalised (0o644 files, 0o755
/// directories, files with the owner-exec bit keep 0o755), mtimes are kept, uid/gid are 0
/// and owner names empty. If `dest` already exists inside `src_dir` it is not packed into
/// itself. Sockets, FIFOs and devices are refused with [`ErrorKind::Unsupported`].
///
/// Returns the number of bytes written to `dest`.
pub fn pack_dir(src_dir: &Path, dest: &Path) -> Result<u64> {
    let src_meta = fs::metadata(src_dir).map_err(|e| Error::io(src_dir, e))?;
    if !src_meta.is_dir() {
        return Err(Error::io(
            src_dir,
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    // A previous `dest` inside the tree must not end up inside the new archive.
    let skip = fs::canonicalize(dest).ok();

    // The listing is taken before the temp file exists, so the temp file is never packed.
    let items = collect(src_dir, skip.as_deref())?;

    let dir = parent_dir(dest);
    let file_name = dest.file_name().ok_or_else(|| {
        Error::invalid_config("dest", format!("{} has no file name", dest.display()))
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(&dot_name(file_name, ".partial-"))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;

    let writer = BufWriter::new(tmp.as_file());
    let mut builder = tar::Builder::new(GzEncoder::new(writer, Compression::default()));
    for item in &items {
        append_item(&mut builder, item, dest)?;
    }
    let gz = builder.into_inner().map_err(|e| Error::io(dest, e))?;
    let mut writer = gz.finish().map_err(|e| Error::io(dest, e))?;
    writer.flush().map_err(|e| Error::io(dest, e))?;
    drop(writer);

    let file = tmp.as_file();
    // The temp file is created 0o600; an artifact is an ordinary, readable file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(dest, e))?;
    }
    file.sync_all().map_err(|e| Error::io(dest, e))?;
    let written = file.metadata().map_err(|e| Error::io(dest, e))?.len();
    tmp.persist(dest).map_err(|e| Error::io(dest, e.error))?;
    // Make the rename itself durable; best effort, as not every platform can open a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(written)
}

/// Extracts a gzip tarball read from `reader` into `dest` (which must not exist yet) safely.
///
/// The archive is extracted into a temp dir created beside `dest` and renamed to `dest` at
/// the end; on any error the temp dir is removed and `dest` is not created, so a partial
/// extraction is never visible.
///
/// Each entry's effective path (PAX or GNU long name) must be relative, without `..`,
/// backslashes or a Windows drive prefix; a leading `./` is stripped and the bare `./` root
/// entry skipped. Only regular files and directories are extracted: symlinks, hard links,
/// devices, FIFOs and other types are refused with [`ErrorKind::UnsafeArtifact`] naming the
/// entry (context [`context::PATH`]). A later entry with the same path replaces the earlier
/// file. Files get mode 0o755 if the archive's owner-exec bit is set, else 0o644; directories
/// 0o755; setuid/setgid/sticky bits and ownership are never applied. Exceeding `limits` is
/// an [`ErrorKind::UnsafeArtifact`] error; a corrupt or truncated archive an
/// [`ErrorKind::Data`] error; an existing `dest` an [`ErrorKind::AlreadyExists`] error.
pub fn extract_tar_gz<R: Read>(
    reader: R,
    dest: &Path,
    limits: ExtractLimits,
) -> Result<ExtractSummary> {
    ensure_absent(dest)?;
    let dir = parent_dir(dest);
    let file_name = dest.file_name().ok_or_else(|| {
        Error::invalid_config("dest", format!("{} has no file name", dest.display()))
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(&dot_name(file_name, ".partial-"))
        .tempdir_in(dir)
        .map_err(|e| Error::io(dir, e))?;

    // Dropping `tmp` on any error below removes the partial tree.
    let summary = unpack_into(reader, tmp.path(), dest, limits)?;

    // The temp dir is created private (0o700); the result is an ordinary directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(dest, e))?;
    }
    // Checked again to narrow the window in which another process could create `dest`
    // (std has no portable no-replace rename; an empty directory created there in between
    // would be replaced, a non-empty one makes the rename fail).
    ensure_absent(dest)?;
    fs::rename(tmp.path(), dest).map_err(|e| Error::io(dest, e))?;
    // The tree now lives at `dest`: disarm the temp dir's cleanup.
    let _ = tmp.keep();
    Ok(summary)
}

/// Convenience: opens `archive` and calls [`extract_tar_gz`] (errors name the archive path).
pub fn extract_file(archive: &Path, dest: &Path, limits: ExtractLimits) -> Result<ExtractSummary> {
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    extract_tar_gz(file, dest, limits).map_err(|e| e.prefixed(archive.display()))
}

// ----------------------------------------------------------------------------------------
// Packing helpers

/// One file or directory to pack, with its header fields already normalised.
struct PackItem {
    rel: PathBuf,
    abs: PathBuf,
    is_dir: bool,
    mode: u32,
    mtime: u64,
    size: u64,
}

/// Lists `src_dir` recursively (sorted, symlinks followed, a cycle is an error) as the items
/// to pack, leaving out the file `skip`.
fn collect(src_dir: &Path, skip: Option<&Path>) -> Result<Vec<PackItem>> {
    let entries = crate::walk::walk(
        src_dir,
        crate::walk::Symlinks::Follow,
        crate::walk::Missing::Error,
        |_| true,
    )?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let (abs, rel, meta) = (entry.path, entry.rel, entry.metadata);
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        if meta.is_dir() {
            out.push(PackItem {
                rel,
                abs,
                is_dir: true,
                mode: 0o755,
                mtime,
                size: 0,
            });
        } else if meta.is_file() {
            if let Some(skip) = skip
                && fs::canonicalize(&abs).is_ok_and(|c| c == skip)
            {
                continue;
            }
            out.push(PackItem {
                rel,
                abs,
                is_dir: false,
                mode: if is_owner_exec(&meta) { 0o755 } else { 0o644 },
                mtime,
                size: meta.len(),
            });
        } else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{}: only regular files and directories can be packed",
                    abs.display()
                ),
            )
            .with_context(context::PATH, abs.display().to_string()));
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn is_owner_exec(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_owner_exec(_meta: &fs::Metadata) -> bool {
    false
}

/// Appends one item with a deterministic header (no owner names, uid/gid 0).
fn append_item<W: Write>(
    builder: &mut tar::Builder<W>,
    item: &PackItem,
    dest: &Path,
) -> Result<()> {
    let mut header = Header::new_gnu();
    header.set_mode(item.mode);
    header.set_mtime(item.mtime);
    header.set_uid(0);
    header.set_gid(0);
    if item.is_dir {
        header.set_entry_type(EntryType::Directory);
        header.set_size(0);
        // Tar convention (GNU tar, Python's tarfile): directory names end with `/`.
        let mut name = item.rel.clone().into_os_string();
        name.push("/");
        return builder
            .append_data(&mut header, Path::new(&name), io::empty())
            .map_err(|e| Error::io(&item.abs, e));
    }

    header.set_entry_type(EntryType::Regular);
    header.set_size(item.size);
    let file = File::open(&item.abs).map_err(|e| Error::io(&item.abs, e))?;
    // Never copy more than the header declares, and notice a file that shrank meanwhile:
    // either would make the archive inconsistent.
    let mut reader = TrackingReader {
        inner: file.take(item.size),
        read: 0,
        failed: false,
    };
    builder
        .append_data(&mut header, &item.rel, &mut reader)
        .map_err(|e| {
            if reader.failed {
                Error::io(&item.abs, e)
            } else {
                Error::io(dest, e)
            }
        })?;
    if reader.read != item.size {
        return Err(Error::io(
            &item.abs,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "file shrank while packing ({} of {} bytes read)",
                    reader.read, item.size
                ),
            ),
        ));
    }
    Ok(())
}

/// Counts what a source file yields and remembers whether reading it failed, so a packing
/// error can be blamed on the right path.
struct TrackingReader<R> {
    inner: R,
    read: u64,
    failed: bool,
}

impl<R: Read> Read for TrackingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Extraction helpers

/// The directory a path lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A hidden temp-file prefix derived from the destination's name (shortened, so that the
/// prefix plus the random part stays within the file system's name limit).
fn dot_name(name: &OsStr, suffix: &str) -> String {
    let short: String = name.to_string_lossy().chars().take(64).collect();
    format!(".{short}{suffix}")
}

fn ensure_absent(dest: &Path) -> Result<()> {
    // `symlink_metadata` so that a dangling symlink at `dest` also counts as existing.
    match fs::symlink_metadata(dest) {
        Ok(_) => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "{}: the extraction destination already exists",
                dest.display()
            ),
        )
        .with_context(context::PATH, dest.display().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dest, e)),
    }
}

/// Marks errors raised by the caller's reader, so they are reported as I/O errors rather
/// than as a corrupt archive.
#[derive(Debug)]
struct SourceError(io::Error);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Wraps the caller's reader, tagging its errors with [`SourceError`].
struct SourceReader<R>(R);

impl<R: Read> Read for SourceReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), SourceError(e)))
    }
}

/// Whether `e` (possibly wrapped by flate2 or tar) came from the caller's reader.
fn is_source_error(e: &io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(err) = cur {
        if err.is::<SourceError>() {
            return true;
        }
        // `io::Error::source` skips its own payload, so step into it explicitly.
        cur = match err.downcast_ref::<io::Error>() {
            Some(io_err) => io_err.get_ref().map(|r| r as _),
            None => err.source(),
        };
    }
    false
}

/// An error met while reading the archive stream: I/O if the caller's reader failed, else
/// a corrupt or truncated archive.
fn stream_error(entry: Option<&str>, e: io::Error) -> Error {
    let at = entry.map_or(String::new(), |n| format!(" (in entry '{}')", printable(n)));
    let err = if is_source_error(&e) {
        Error::new(ErrorKind::Io, format!("reading the archive{at}: {e}"))
    } else {
        Error::new(
            ErrorKind::Data,
            format!("corrupt or truncated archive{at}: {e}"),
        )
    };
    let err = err.with_source(e);
    match entry {
        Some(n) => err.with_context(context::PATH, n),
        None => err,
    }
}

/// A refused entry.
fn refuse(name: &str, reason: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::UnsafeArtifact,
        format!("archive entry '{}' {reason}", printable(name)),
    )
    .with_context(context::PATH, name)
}

/// The error for an archive with more than `max_entries` entries (records included).
fn too_many_entries(limits: &ExtractLimits, name: &str) -> Error {
    Error::new(
        ErrorKind::UnsafeArtifact,
        format!(
            "the archive has more than {} entries (max_entries); stopped at entry '{}'",
            limits.max_entries,
            printable(name)
        ),
    )
    .with_context(context::PATH, name)
}

/// A data error about one entry.
fn bad_entry(name: &str, reason: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Data,
        format!("archive entry '{}' {reason}", printable(name)),
    )
    .with_context(context::PATH, name)
}

/// The name with control characters escaped, so a hostile name cannot mess up a terminal.
fn printable(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Turns an entry's effective name into a safe relative path; `Ok(None)` for the root.
fn sanitize(raw: &[u8]) -> std::result::Result<Option<PathBuf>, &'static str> {
    if raw.is_empty() {
        return Err("has an empty name");
    }
    if raw.contains(&0) {
        return Err("has a NUL byte in its name");
    }
    // Harmless on Unix, but a separator (`..\x`) or drive (`C:\x`) on Windows.
    if raw.contains(&b'\\') {
        return Err("has a backslash in its name");
    }
    if raw[0] == b'/' {
        return Err("is an absolute path");
    }
    let mut out = PathBuf::new();
    for component in raw.split(|&b| b == b'/') {
        match component {
            b"" | b"." => continue,
            b".." => return Err("has a '..' component"),
            _ => {}
        }
        if out.as_os_str().is_empty()
            && component.len() >= 2
            && component[0].is_ascii_alphabetic()
            && component[1] == b':'
        {
            return Err("has a Windows drive prefix");
        }
        out.push(os_component(component)?);
    }
    Ok(if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    })
}

#[cfg(unix)]
fn os_component(bytes: &[u8]) -> std::result::Result<&OsStr, &'static str> {
    use std::os::unix::ffi::OsStrExt;
    Ok(OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn os_component(bytes: &[u8]) -> std::result::Result<&OsStr, &'static str> {
    std::str::from_utf8(bytes)
        .map(OsStr::new)
        .map_err(|_| "has a name that is not UTF-8")
}

/// Extracts every entry of the gzip tarball in `reader` under `root` (a fresh, private
/// directory). `dest` is only used to name paths in errors.
fn unpack_into<R: Read>(
    reader: R,
    root: &Path,
    dest: &Path,
    limits: ExtractLimits,
) -> Result<ExtractSummary> {
    // Multi-member gzip is valid gzip (and what `cat a.gz b.gz` gives); accept it.
    let mut archive = tar::Archive::new(MultiGzDecoder::new(SourceReader(reader)));
    let mut summary = ExtractSummary::default();
    let mut seen: u64 = 0;
    let mut buf = vec![0u8; COPY_BUFFER];

    // Raw entries: long names and extended headers are read here, within the limits.
    let mut meta = crate::tar_meta::Meta::default();
    let entries = archive.entries().map_err(|e| stream_error(None, e))?;
    for entry in entries.raw(true) {
        let mut entry = entry.map_err(|e| stream_error(None, e))?;
        seen += 1;
        if seen > limits.max_entries {
            let header_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            return Err(too_many_entries(&limits, &header_name));
        }
        if meta.absorb(&mut entry, summary.bytes, &limits)? {
            continue;
        }
        let raw = meta.path_of(&entry);
        let name = String::from_utf8_lossy(&raw).into_owned();

        let kind = entry.header().entry_type();
        let rel = sanitize(&raw).map_err(|reason| refuse(&name, reason))?;

        let is_file = matches!(kind, EntryType::Regular | EntryType::Continuous);
        // Old (pre-POSIX) archives mark directories only by a trailing slash.
        let is_dir = kind == EntryType::Directory || (is_file && raw.ends_with(b"/"));
        if !is_dir && !is_file {
            return Err(refuse(&name, describe_refused(&entry, kind)));
        }
        let Some(rel) = rel else {
            if is_dir {
                // The `./` root entry: the root already exists.
                continue;
            }
            return Err(refuse(&name, "is a file named like the archive root"));
        };

        let path = root.join(&rel);
        let shown = dest.join(&rel);
        if is_dir {
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(bad_entry(
                        &name,
                        "is a directory, but an earlier entry made it a file",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // No links are ever created, so every existing component is a real
                    // directory inside `root`.
                    fs::create_dir_all(&path).map_err(|e| Error::io(&shown, e))?;
                    summary.directories += 1;
                }
                Err(e) => return Err(Error::io(&shown, e)),
            }
            set_mode(&path, 0o755).map_err(|e| Error::io(&shown, e))?;
            continue;
        }

        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(root.join(parent)).map_err(|e| Error::io(dest.join(parent), e))?;
        }
        let replacing = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                return Err(bad_entry(
                    &name,
                    "is a file, but an earlier entry made it a directory",
                ));
            }
            Ok(_) => {
                // Unlink, then create anew below: never open an existing path.
                fs::remove_file(&path).map_err(|e| Error::io(&shown, e))?;
                true
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&shown, e)),
        };
        let mode = entry
            .header()
            .mode()
            .map_err(|e| stream_error(Some(&name), e))?;
        let mtime = entry.header().mtime().ok();
        let declared = entry.size();

        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&shown, e))?;
        let mut written: u64 = 0;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(stream_error(Some(&name), e)),
            };
            if summary
                .bytes
                .saturating_add(meta.bytes)
                .saturating_add(n as u64)
                > limits.max_total_bytes
            {
                return Err(Error::new(
                    ErrorKind::UnsafeArtifact,
                    format!(
                        "the archive expands to more than {} bytes (max_total_bytes); \
                         stopped in entry '{}'",
                        limits.max_total_bytes,
                        printable(&name)
                    ),
                )
                .with_context(context::PATH, name));
            }
            file.write_all(&buf[..n])
                .map_err(|e| Error::io(&shown, e))?;
            summary.bytes += n as u64;
            written += n as u64;
        }
        // tar stops an entry's data silently where the stream ends; a short entry means the
        // header lied or the archive was cut.
        if written < declared {
            return Err(bad_entry(
                &name,
                format!(
                    "is truncated: its header declares {declared} bytes, \
                     the archive ends after {written} (unexpected end of file)"
                ),
            ));
        }
        let normalised = if mode & 0o100 != 0 { 0o755 } else { 0o644 };
        set_file_mode(&file, normalised).map_err(|e| Error::io(&shown, e))?;
        if let Some(t) = mtime.and_then(|m| UNIX_EPOCH.checked_add(Duration::from_secs(m))) {
            // Best effort, like tar: some file systems cannot store every time.
            let _ = file.set_modified(t);
        }
        if !replacing {
            summary.files += 1;
        }
    }

    meta.finish()?;

    // Read on to the gzip trailer so that its checksum and length are verified: a gzip stream
    // cut right after a complete tar entry would otherwise pass unnoticed.
    let mut rest = archive.into_inner();
    io::copy(&mut (&mut rest).take(MAX_TRAILING_BYTES), &mut io::sink())
        .map_err(|e| stream_error(None, e))?;
    Ok(summary)
}

/// Why an entry of a refused type is refused.
fn describe_refused<R: Read>(entry: &tar::Entry<'_, R>, kind: EntryType) -> String {
    let target = || {
        entry
            .link_name_bytes()
            .map(|t| printable(&String::from_utf8_lossy(&t)))
            .unwrap_or_default()
    };
    match kind {
        EntryType::Symlink => format!("is a symbolic link (to '{}')", target()),
        EntryType::Link => format!("is a hard link (to '{}')", target()),
        EntryType::Char => "is a character device".to_owned(),
        EntryType::Block => "is a block device".to_owned(),
        EntryType::Fifo => "is a FIFO".to_owned(),
        other => format!(
            "has an unsupported entry type ('{}')",
            printable(&String::from_utf8_lossy(&[other.as_byte()]))
        ),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // On the open handle (fchmod): no path lookup, nothing to follow.
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_file_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds (possibly hostile) tarballs entry by entry, writing names raw where needed,
    /// because `Header::set_path` refuses `..` and absolute paths.
    struct TarMaker {
        builder: tar::Builder<Vec<u8>>,
    }

    impl TarMaker {
        fn new() -> Self {
            TarMaker {
                builder: tar::Builder::new(Vec::new()),
            }
        }

        fn header(name: &[u8], kind: EntryType, size: u64, mode: u32) -> Header {
            let mut h = Header::new_gnu();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_entry_type(kind);
            h.set_size(size);
            h.set_mode(mode);
            h.set_mtime(1_700_000_000);
            h
        }

        fn push(&mut self, mut h: Header, data: &[u8]) -> &mut Self {
            h.set_cksum();
            self.builder.append(&h, data).unwrap();
            self
        }

        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.file_mode(name, data, 0o644)
        }

        fn file_mode(&mut self, name: &str, data: &[u8], mode: u32) -> &mut Self {
            let h = Self::header(name.as_bytes(), EntryType::Regular, data.len() as u64, mode);
            self.push(h, data)
        }

        fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
            let h = Self::header(name.as_bytes(), EntryType::Directory, 0, mode);
            self.push(h, &[])
        }

        fn link(&mut self, name: &str, kind: EntryType, target: &str) -> &mut Self {
            let mut h = Self::header(name.as_bytes(), kind, 0, 0o777);
            h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            self.push(h, &[])
        }

        fn special(&mut self, name: &str, kind: EntryType) -> &mut Self {
            let mut h = Self::header(name.as_bytes(), kind, 0, 0o666);
            h.set_device_major(1).unwrap();
            h.set_device_minor(5).unwrap();
            self.push(h, &[])
        }

        /// A PAX `path` record overriding the ustar name of the next entry.
        fn pax_file(&mut self, ustar_name: &str, pax_path: &str, data: &[u8]) -> &mut Self {
            let body = format!(" path={pax_path}\n");
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            let record = format!("{len}{body}");
            let h = Self::header(
                b"PaxHeaders/x",
                EntryType::XHeader,
                record.len() as u64,
                0o644,
            );
            self.push(h, record.as_bytes());
            self.file(ustar_name, data)
        }

        /// A GNU long-name (`L`) record carrying the whole name of the next entry.
        fn gnu_long_file(&mut self, long_name: &str, data: &[u8]) -> &mut Self {
            let mut name = long_name.as_bytes().to_vec();
            name.push(0);
            let h = Self::header(
                b"././@LongLink",
                EntryType::GNULongName,
                name.len() as u64,
                0o644,
            );
            self.push(h, &name);
            let h = Self::header(
                &long_name.as_bytes()[..100],
                EntryType::Regular,
                data.len() as u64,
                0o644,
            );
            self.push(h, data)
        }

        fn tar(&mut self) -> Vec<u8> {
            let builder = std::mem::replace(&mut self.builder, tar::Builder::new(Vec::new()));
            builder.into_inner().unwrap()
        }

        fn gz(&mut self) -> Vec<u8> {
            gzip(&self.tar())
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// A scratch root with an empty `sandbox/` that will hold `dest` (`sandbox/out`), so an
    /// escape by one `..` from the temp dir would land in `sandbox/` and be noticed.
    fn sandbox() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("sandbox")).unwrap();
        let dest = root.path().join("sandbox").join("out");
        (root, dest)
    }

    /// Every path under `dir`, relative, sorted, links not followed.
    fn tree(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(base).unwrap().display().to_string());
                if fs::symlink_metadata(&p).unwrap().is_dir() {
                    walk(base, &p, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// After a failed extraction: no `dest`, no temp dir, nothing written anywhere.
    fn assert_nothing_written(root: &Path, dest: &Path) {
        assert!(fs::symlink_metadata(dest).is_err(), "dest exists");
        assert_eq!(tree(root), vec!["sandbox".to_owned()]);
    }

    fn extract_err(gz: &[u8], limits: ExtractLimits) -> (tempfile::TempDir, PathBuf, Error) {
        let (root, dest) = sandbox();
        let err = extract_tar_gz(gz, &dest, limits).unwrap_err();
        (root, dest, err)
    }

    /// The archive is refused as unsafe, naming `entry`, and nothing is written.
    fn assert_refused(gz: &[u8], entry: &str) {
        let (root, dest, err) = extract_err(gz, ExtractLimits::default());
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains(entry), "{err}");
        assert_eq!(err.context(context::PATH), Some(entry), "{err:?}");
        assert_nothing_written(root.path(), &dest);
    }

    fn entry_names(gz: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(MultiGzDecoder::new(gz));
        archive
            .entries()
            .unwrap()
            .map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap())
            .collect()
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    #[test]
    fn pack_then_extract_round_trips_deterministically() {
        use std::os::unix::fs::PermissionsExt;
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("model");
        fs::create_dir_all(src.join("code/lib")).unwrap();
        fs::create_dir_all(src.join("empty")).unwrap();
        fs::write(src.join("model.json"), b"{\"coef\": [1, 2, 3]}").unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(src.join("weights.bin"), &big).unwrap();
        fs::write(src.join("code/inference.py"), b"#!/usr/bin/env python\n").unwrap();
        fs::set_permissions(
            src.join("code/inference.py"),
            fs::Permissions::from_mode(0o4775),
        )
        .unwrap();
        fs::write(src.join("code/lib/util.py"), b"X = 1\n").unwrap();
        fs::set_permissions(
            src.join("code/lib/util.py"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        // Dereferenced: the archive holds a copy of model.json.
        std::os::unix::fs::symlink("model.json", src.join("alias.json")).unwrap();

        let a = work.path().join("a.tar.gz");
        let b = work.path().join("b.tar.gz");
        let size = pack_dir(&src, &a).unwrap();
        assert_eq!(size, fs::metadata(&a).unwrap().len());
        pack_dir(&src, &b).unwrap();
        let bytes = fs::read(&a).unwrap();
        assert_eq!(bytes, fs::read(&b).unwrap(), "packing is not deterministic");
        // No temp file left beside the archives.
        let top: Vec<String> = tree(work.path())
            .into_iter()
            .filter(|p| !p.contains('/'))
            .collect();
        assert_eq!(top, ["a.tar.gz", "b.tar.gz", "model"]);

        assert_eq!(
            entry_names(&bytes),
            [
                "alias.json",
                "code/",
                "code/inference.py",
                "code/lib/",
                "code/lib/util.py",
                "empty/",
                "model.json",
                "weights.bin",
            ]
        );
        let mut archive = tar::Archive::new(MultiGzDecoder::new(&bytes[..]));
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            let want = if name.ends_with('/') || name.ends_with("inference.py") {
                0o755
            } else {
                0o644
            };
            assert_eq!(h.mode().unwrap(), want, "{name}");
            assert!(h.mtime().unwrap() > 0, "{name}");
        }

        let out = work.path().join("out");
        let summary = extract_file(&a, &out, ExtractLimits::default()).unwrap();
        assert_eq!(summary.files, 5);
        assert_eq!(summary.directories, 3);
        assert_eq!(summary.bytes, (19 + 19 + 300_000 + 22 + 6) as u64);
        for rel in [
            "model.json",
            "weights.bin",
            "code/inference.py",
            "code/lib/util.py",
        ] {
            assert_eq!(
                fs::read(out.join(rel)).unwrap(),
                fs::read(src.join(rel)).unwrap()
            );
        }
        assert_eq!(
            fs::read(out.join("alias.json")).unwrap(),
            b"{\"coef\": [1, 2, 3]}"
        );
        assert!(
            fs::symlink_metadata(out.join("alias.json"))
                .unwrap()
                .is_file()
        );
        assert!(out.join("empty").is_dir());
        assert_eq!(mode_of(&out.join("code/inference.py")), 0o755);
        assert_eq!(mode_of(&out.join("code/lib/util.py")), 0o644);
        assert_eq!(mode_of(&out.join("code")), 0o755);
        assert_eq!(mode_of(&out), 0o755);
    }

    #[cfg(unix)]
    #[test]
    fn pack_dir_refuses_a_symlink_cycle_and_skips_its_own_dest() {
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("src");
        fs::create_dir_all(src.join("d")).unwrap();
        fs::write(src.join("d/f"), b"x").unwrap();
        let dest = src.join("model.tar.gz");
        pack_dir(&src, &dest).unwrap();
        // Packing again into the same place must not pack the old archive into the new one.
        pack_dir(&src, &dest).unwrap();
        assert_eq!(entry_names(&fs::read(&dest).unwrap()), ["d/", "d/f"]);

        std::os::unix::fs::symlink("..", src.join("d/loop")).unwrap();
        let err = pack_dir(&src, &work.path().join("x.tar.gz")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.message().contains("cycle"), "{err}");
        assert!(!work.path().join("x.tar.gz").exists());
    }

    #[test]
    fn dot_slash_prefixed_entries_extract() {
        let gz = TarMaker::new()
            .dir("./", 0o755)
            .dir("./code/", 0o755)
            .file("./model.json", b"{}")
            .file("./code/inference.py", b"print(1)\n")
            .gz();
        let (root, dest) = sandbox();
        let summary = extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap();
        assert_eq!(
            (summary.files, summary.directories, summary.bytes),
            (2, 1, 11)
        );
        assert_eq!(fs::read(dest.join("model.json")).unwrap(), b"{}");
        assert_eq!(
            fs::read(dest.join("code/inference.py")).unwrap(),
            b"print(1)\n"
        );
        assert_eq!(
            tree(root.path()),
            [
                "sandbox",
                "sandbox/out",
                "sandbox/out/code",
                "sandbox/out/code/inference.py",
                "sandbox/out/model.json"
            ]
        );
    }

    #[test]
    fn later_entry_replaces_earlier_file() {
        let gz = TarMaker::new()
            .file("model.json", b"old")
            .file("model.json", b"new!")
            .gz();
        let (_root, dest) = sandbox();
        let summary = extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap();
        assert_eq!(fs::read(dest.join("model.json")).unwrap(), b"new!");
        assert_eq!((summary.files, summary.bytes), (1, 7));
    }

    #[test]
    fn refuses_dotdot() {
        let gz = TarMaker::new()
            .file("model.json", b"{}")
            .file("../evil_dotdot.txt", b"evil")
            .gz();
        assert_refused(&gz, "../evil_dotdot.txt");
    }

    #[test]
    fn refuses_nested_dotdot() {
        let gz = TarMaker::new()
            .file("models/../../evil_nested.txt", b"evil")
            .gz();
        assert_refused(&gz, "models/../../evil_nested.txt");
    }

    #[test]
    fn refuses_absolute_path() {
        let (root, dest) = sandbox();
        let target = root.path().join("sandbox").join("absolute.txt");
        let name = target.to_str().unwrap();
        let gz = TarMaker::new().file(name, b"evil").gz();
        let err = extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains(name), "{err}");
        assert!(err.message().contains("absolute"), "{err}");
        assert_nothing_written(root.path(), &dest);
    }

    #[test]
    fn refuses_symlink_to_absolute_path() {
        let gz = TarMaker::new()
            .link("model.joblib", EntryType::Symlink, "/etc/passwd")
            .gz();
        assert_refused(&gz, "model.joblib");
    }

    #[test]
    fn refuses_relative_symlink() {
        let gz = TarMaker::new()
            .link("up", EntryType::Symlink, "../../../../../../../../tmp")
            .gz();
        assert_refused(&gz, "up");
    }

    #[test]
    fn refuses_symlink_even_inside_dest() {
        let gz = TarMaker::new()
            .file("model.json", b"{}")
            .link("alias.json", EntryType::Symlink, "model.json")
            .gz();
        assert_refused(&gz, "alias.json");
    }

    #[test]
    fn refuses_hard_links() {
        let gz = TarMaker::new()
            .link("hl_passwd", EntryType::Link, "/etc/passwd")
            .gz();
        assert_refused(&gz, "hl_passwd");
        let gz = TarMaker::new()
            .link("hl_up", EntryType::Link, "../evil_hardlink_target")
            .gz();
        assert_refused(&gz, "hl_up");
    }

    #[test]
    fn refuses_symlink_then_file_through_it() {
        let (root, dest) = sandbox();
        let canary = root.path().join("sandbox");
        let gz = TarMaker::new()
            .link("escape", EntryType::Symlink, canary.to_str().unwrap())
            .file("escape/through_symlink.txt", b"evil")
            .gz();
        let err = extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains("'escape'"), "{err}");
        assert_nothing_written(root.path(), &dest);

        let gz = TarMaker::new()
            .link("d", EntryType::Symlink, "..")
            .file("d/evil_through_relative_symlink.txt", b"evil")
            .gz();
        assert_refused(&gz, "d");
    }

    #[test]
    fn refuses_overwrite_via_symlink() {
        let gz = TarMaker::new()
            .file("model.json", b"{}")
            .link("model.json", EntryType::Symlink, "/etc/passwd")
            .file("model.json", b"evil")
            .gz();
        assert_refused(&gz, "model.json");
    }

    #[test]
    fn refuses_devices_and_fifos() {
        for (kind, what) in [
            (EntryType::Char, "character device"),
            (EntryType::Block, "block device"),
            (EntryType::Fifo, "FIFO"),
        ] {
            let gz = TarMaker::new().special("dev_node", kind).gz();
            let (root, dest, err) = extract_err(&gz, ExtractLimits::default());
            assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
            assert!(err.message().contains("dev_node"), "{err}");
            assert!(err.message().contains(what), "{err}");
            assert_nothing_written(root.path(), &dest);
        }
    }

    #[test]
    fn refuses_unknown_entry_types() {
        let gz = TarMaker::new().special("sparse", EntryType::GNUSparse).gz();
        let (root, dest, err) = extract_err(&gz, ExtractLimits::default());
        assert!(
            matches!(err.kind(), ErrorKind::UnsafeArtifact | ErrorKind::Data),
            "{err}"
        );
        assert_nothing_written(root.path(), &dest);
        let gz = TarMaker::new().special("odd", EntryType::new(b'Z')).gz();
        assert_refused(&gz, "odd");
    }

    #[test]
    fn refuses_pax_path_escape() {
        let gz = TarMaker::new()
            .pax_file("innocent.txt", "../evil_pax.txt", b"evil")
            .gz();
        assert_refused(&gz, "../evil_pax.txt");
    }

    #[test]
    fn refuses_gnu_long_name_escape() {
        let name = format!("{}{}evil_gnu.txt", "a/".repeat(60), "../".repeat(61));
        assert!(name.len() > 300);
        let gz = TarMaker::new().gnu_long_file(&name, b"evil").gz();
        assert_refused(&gz, &name);
    }

    #[test]
    fn accepts_long_names_within_dest() {
        let name = format!("{}model.json", "deep/".repeat(30));
        let gz = TarMaker::new().gnu_long_file(&name, b"{}").gz();
        let (_root, dest) = sandbox();
        extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap();
        assert_eq!(fs::read(dest.join(&name)).unwrap(), b"{}");
    }

    #[test]
    fn refuses_backslashes_and_drive_prefixes() {
        for name in [
            "..\\evil_backslash.txt",
            "C:\\evil_drive.txt",
            "C:evil_drive.txt",
            "./d:/x",
        ] {
            let gz = TarMaker::new().file(name, b"evil").gz();
            assert_refused(&gz, name);
        }
    }

    #[cfg(unix)]
    #[test]
    fn drops_setuid_setgid_and_sticky_bits() {
        let gz = TarMaker::new()
            .dir("bin/", 0o1777)
            .file_mode("bin/suid", b"#!/bin/sh\n", 0o4755)
            .file_mode("bin/sgid", b"data", 0o2644)
            .file_mode("bin/group_exec_only", b"data", 0o2654)
            .gz();
        let (_root, dest) = sandbox();
        extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap();
        assert_eq!(mode_of(&dest.join("bin")), 0o755);
        assert_eq!(mode_of(&dest.join("bin/suid")), 0o755);
        assert_eq!(mode_of(&dest.join("bin/sgid")), 0o644);
        assert_eq!(mode_of(&dest.join("bin/group_exec_only")), 0o644);
    }

    #[test]
    fn stops_at_max_total_bytes() {
        let gz = TarMaker::new()
            .file("small.txt", b"ok")
            .file("big.bin", &[0u8; 10 * 1024])
            .gz();
        let limits = ExtractLimits {
            max_total_bytes: 1024,
            ..ExtractLimits::default()
        };
        let (root, dest, err) = extract_err(&gz, limits);
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains("max_total_bytes"), "{err}");
        assert!(err.message().contains("1024"), "{err}");
        assert!(err.message().contains("big.bin"), "{err}");
        assert_eq!(err.context(context::PATH), Some("big.bin"));
        assert_nothing_written(root.path(), &dest);

        // Exactly at the limit is fine.
        let limits = ExtractLimits {
            max_total_bytes: 10 * 1024 + 2,
            ..ExtractLimits::default()
        };
        let (_root, dest) = sandbox();
        let summary = extract_tar_gz(&gz[..], &dest, limits).unwrap();
        assert_eq!(summary.bytes, 10 * 1024 + 2);
    }

    #[test]
    fn stops_at_max_entries() {
        let mut maker = TarMaker::new();
        for i in 0..5 {
            maker.file(&format!("f{i}"), b"");
        }
        let gz = maker.gz();
        let limits = ExtractLimits {
            max_entries: 4,
            ..ExtractLimits::default()
        };
        let (root, dest, err) = extract_err(&gz, limits);
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains("max_entries"), "{err}");
        assert!(err.message().contains('4'), "{err}");
        assert!(err.message().contains("'f4'"), "{err}");
        assert_eq!(err.context(context::PATH), Some("f4"));
        assert_nothing_written(root.path(), &dest);

        let limits = ExtractLimits {
            max_entries: 5,
            ..ExtractLimits::default()
        };
        let (_root, dest) = sandbox();
        assert_eq!(extract_tar_gz(&gz[..], &dest, limits).unwrap().files, 5);
    }

    #[test]
    fn truncated_gzip_is_a_data_error() {
        let mut maker = TarMaker::new();
        maker
            .dir("code/", 0o755)
            .file("code/inference.py", b"print(1)\n");
        let payload: Vec<u8> = (0..50_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let gz = maker.file("model.json", &payload).gz();
        for cut in [gz.len() / 2, gz.len() - 4, 10] {
            let (root, dest, err) = extract_err(&gz[..cut], ExtractLimits::default());
            assert_eq!(err.kind(), ErrorKind::Data, "cut at {cut}: {err}");
            assert_nothing_written(root.path(), &dest);
        }
    }

    #[test]
    fn header_claiming_more_data_than_present_is_a_data_error() {
        let mut h = TarMaker::header(b"lying.bin", EntryType::Regular, 0, 0o644);
        h.set_size(9 * 1024 * 1024 * 1024);
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend_from_slice(&[7u8; 1024]);
        // A complete, valid gzip stream of a tar that ends too early.
        let gz = gzip(&tar);
        let (root, dest, err) = extract_err(&gz, ExtractLimits::default());
        assert_eq!(err.kind(), ErrorKind::Data, "{err}");
        assert!(err.message().contains("lying.bin"), "{err}");
        assert!(err.message().contains("unexpected end"), "{err}");
        assert_nothing_written(root.path(), &dest);
    }

    #[test]
    fn garbage_input_is_a_data_error() {
        let inputs: [&[u8]; 3] = [
            b"this is not a gzip stream at all",
            &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6],
            &gzip(b"not a tar header, just text that is long enough to fill some bytes"),
        ];
        for input in inputs {
            let (root, dest, err) = extract_err(input, ExtractLimits::default());
            assert_eq!(err.kind(), ErrorKind::Data, "{err}");
            assert_nothing_written(root.path(), &dest);
        }
    }

    #[test]
    fn reader_failure_is_an_io_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let (root, dest) = sandbox();
        let err = extract_tar_gz(Failing, &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.message().contains("disk on fire"), "{err}");
        assert_nothing_written(root.path(), &dest);
    }

    #[test]
    fn existing_dest_is_refused_and_left_alone() {
        let gz = TarMaker::new().file("model.json", b"{}").gz();
        let (_root, dest) = sandbox();
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("keep.txt"), b"mine").unwrap();
        let err = extract_tar_gz(&gz[..], &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert_eq!(err.context(context::PATH), Some(dest.to_str().unwrap()));
        assert_eq!(tree(&dest), ["keep.txt"]);
        assert_eq!(tree(dest.parent().unwrap()), ["out", "out/keep.txt"]);
    }

    #[test]
    fn extract_file_names_the_archive() {
        let (root, dest) = sandbox();
        let archive = root.path().join("model.tar.gz");
        fs::write(&archive, TarMaker::new().file("../evil.txt", b"x").gz()).unwrap();
        let err = extract_file(&archive, &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsafeArtifact, "{err}");
        assert!(err.message().contains("model.tar.gz"), "{err}");
        assert!(err.message().contains("../evil.txt"), "{err}");
        assert!(fs::symlink_metadata(&dest).is_err());

        let missing = root.path().join("missing.tar.gz");
        let err = extract_file(&missing, &dest, ExtractLimits::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.message().contains("missing.tar.gz"), "{err}");
    }

    #[test]
    fn default_limits() {
        let limits = ExtractLimits::default();
        assert_eq!(limits.max_total_bytes, 4 << 30);
        assert_eq!(limits.max_entries, 100_000);
    }
}
