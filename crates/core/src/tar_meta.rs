//! The GNU long-name and PAX extended-header records of a tar stream, read within bounds.
//!
//! The `tar` crate reads these records whole into memory while iterating, where they count
//! toward none of the extraction limits: a header declaring a gigabyte-long name would be
//! allocated before any check. Extraction therefore iterates raw entries and handles the
//! records here: each is capped at [`MAX_META_BYTES`] before it is read, counts as an entry and
//! its bytes count toward `max_total_bytes`.

use std::io::Read;

use tar::EntryType;

use crate::artifact::ExtractLimits;
use crate::error::{Error, ErrorKind, Result, context};

/// The largest long-name or extended-header record read (names are at most a few KiB; PAX
/// records of real archives are far below this).
pub(crate) const MAX_META_BYTES: u64 = 64 * 1024;

/// Records seen since the last real entry, and what they have cost so far.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    long_name: Option<Vec<u8>>,
    pending: bool,
    /// Bytes of every record read so far (they count toward `max_total_bytes`).
    pub(crate) bytes: u64,
}

fn is_meta(kind: EntryType) -> bool {
    kind.is_gnu_longname()
        || kind.is_gnu_longlink()
        || kind.is_pax_local_extensions()
        || kind.is_pax_global_extensions()
}

impl Meta {
    /// If `entry` is a long-name or extended-header record, reads it within the limits and
    /// returns `true`; `file_bytes` is what the extraction has written so far.
    pub(crate) fn absorb<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        file_bytes: u64,
        limits: &ExtractLimits,
    ) -> Result<bool> {
        let kind = entry.header().entry_type();
        if !is_meta(kind) {
            return Ok(false);
        }
        let what = if kind.is_pax_local_extensions() || kind.is_pax_global_extensions() {
            "PAX extended header"
        } else {
            "GNU long name"
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let unsafe_record = |why: String| {
            Error::new(
                ErrorKind::UnsafeArtifact,
                format!("archive {what} record '{name}' {why}"),
            )
            .with_context(context::PATH, name.clone())
        };
        let size = entry.size();
        if size > MAX_META_BYTES {
            return Err(unsafe_record(format!(
                "declares {size} bytes, above the {MAX_META_BYTES}-byte limit on such records"
            )));
        }
        if file_bytes.saturating_add(self.bytes).saturating_add(size) > limits.max_total_bytes {
            return Err(unsafe_record(format!(
                "takes the archive past {} bytes (max_total_bytes)",
                limits.max_total_bytes
            )));
        }
        self.bytes += size;
        let mut data = Vec::with_capacity(size as usize);
        entry
            .take(MAX_META_BYTES)
            .read_to_end(&mut data)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Data,
                    format!("corrupt or truncated archive: {e}"),
                )
                .with_context(context::PATH, name.clone())
            })?;
        if (data.len() as u64) < size {
            return Err(Error::new(
                ErrorKind::Data,
                format!("archive {what} record '{name}' is truncated (unexpected end of file)"),
            )
            .with_context(context::PATH, name.clone()));
        }
        if kind.is_gnu_longname() {
            while data.last() == Some(&0) {
                data.pop();
            }
            self.long_name = Some(data);
        } else if kind.is_pax_local_extensions() {
            for ext in tar::PaxExtensions::new(&data) {
                let ext = ext.map_err(|e| {
                    Error::new(
                        ErrorKind::Data,
                        format!("archive {what} record '{name}': {e}"),
                    )
                    .with_context(context::PATH, name.clone())
                })?;
                match ext.key_bytes() {
                    b"path" => self.long_name = Some(ext.value_bytes().to_vec()),
                    // Raw iteration does not apply a size override, so the entry's data
                    // would be misread; only files above 8 GiB need one.
                    b"size" => {
                        return Err(unsafe_record(
                            "overrides the next entry's size, which extraction does not support"
                                .into(),
                        ));
                    }
                    _ => {}
                }
            }
        }
        // A global header (defaults such as comments or a charset) carries nothing we apply
        // and describes no particular entry.
        self.pending = !kind.is_pax_global_extensions() || self.pending;
        Ok(true)
    }

    /// The effective path of a real entry (a preceding long name wins over the header's),
    /// clearing what applied to it.
    pub(crate) fn path_of<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Vec<u8> {
        self.pending = false;
        self.long_name
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned())
    }

    /// At the end of the archive: a record describing an entry that never came is an error.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.pending {
            return Err(Error::new(
                ErrorKind::Data,
                "corrupt or truncated archive: a long-name or extended header record \
                 describes an entry that is missing",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use tar::{Builder, Header};

    use super::*;
    use crate::artifact::extract_tar_gz;

    fn gz(tar: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(tar).unwrap();
        enc.finish().unwrap()
    }

    fn file_header(path: &str, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(EntryType::Regular);
        h.set_cksum();
        h
    }

    /// A raw record header of `kind` declaring `size` bytes, followed by `data` (padded).
    fn record(kind: EntryType, size: u64, data: &[u8]) -> Vec<u8> {
        let mut h = Header::new_gnu();
        h.set_path("././@LongLink").unwrap();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    fn extract(
        bytes: &[u8],
        limits: ExtractLimits,
    ) -> (tempfile::TempDir, Result<crate::artifact::ExtractSummary>) {
        let dir = tempfile::tempdir().unwrap();
        let r = extract_tar_gz(bytes, &dir.path().join("out"), limits);
        (dir, r)
    }

    #[test]
    fn a_huge_long_name_is_refused_before_it_is_read() {
        // A GNU long-name record declaring 1 GiB: refused from its header, nothing allocated.
        let mut tar = record(EntryType::GNULongName, 1 << 30, b"x");
        tar.extend_from_slice(&[0; 1024]);
        let (dir, r) = extract(&gz(&tar), ExtractLimits::default());
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsafeArtifact, "{e}");
        assert!(e.message().contains("1073741824 bytes"), "{e}");
        assert!(e.message().contains("65536-byte limit"), "{e}");
        assert!(!dir.path().join("out").exists());

        let mut tar = record(EntryType::XHeader, 1 << 20, b"");
        tar.extend_from_slice(&[0; 1024]);
        let e = extract(&gz(&tar), ExtractLimits::default()).1.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsafeArtifact, "{e}");
        assert!(e.message().contains("PAX extended header"), "{e}");
    }

    #[test]
    fn long_names_and_pax_paths_still_extract_and_count_as_entries() {
        let long = format!("{}model.bin", "dir/".repeat(40));
        let mut b = Builder::new(Vec::new());
        // The builder writes a GNU long-name record for a path over 100 bytes.
        b.append_data(&mut file_header("x", 2), &long, &b"hi"[..])
            .unwrap();
        b.append_pax_extensions([("path", &b"pax/named.txt"[..])])
            .unwrap();
        b.append(&file_header("short-name.txt", 3), &b"pax"[..])
            .unwrap();
        let bytes = gz(&b.into_inner().unwrap());

        let (dir, r) = extract(&bytes, ExtractLimits::default());
        let summary = r.unwrap();
        assert_eq!(summary.files, 2);
        let out = dir.path().join("out");
        assert_eq!(std::fs::read(out.join(&long)).unwrap(), b"hi");
        assert_eq!(std::fs::read(out.join("pax/named.txt")).unwrap(), b"pax");
        assert!(!out.join("short-name.txt").exists());

        // Two files, each behind a record: four entries against a limit of three.
        let limits = ExtractLimits {
            max_total_bytes: 1 << 20,
            max_entries: 3,
        };
        let e = extract(&bytes, limits).1.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsafeArtifact, "{e}");
        assert!(e.message().contains("max_entries"), "{e}");
        // Record bytes count toward max_total_bytes (names of 160+ bytes, data of 5).
        let limits = ExtractLimits {
            max_total_bytes: 100,
            max_entries: 100,
        };
        let e = extract(&bytes, limits).1.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsafeArtifact, "{e}");
        assert!(e.message().contains("max_total_bytes"), "{e}");
    }

    #[test]
    fn a_record_without_its_entry_or_with_a_size_override_is_refused() {
        let mut tar = record(EntryType::GNULongName, 5, b"name\0");
        tar.extend_from_slice(&[0; 1024]);
        let e = extract(&gz(&tar), ExtractLimits::default()).1.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Data, "{e}");

        let mut b = Builder::new(Vec::new());
        b.append_pax_extensions([("size", &b"3"[..])]).unwrap();
        b.append(&file_header("a.txt", 3), &b"abc"[..]).unwrap();
        let e = extract(&gz(&b.into_inner().unwrap()), ExtractLimits::default())
            .1
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsafeArtifact, "{e}");
    }
}
