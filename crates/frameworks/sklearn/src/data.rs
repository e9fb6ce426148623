//! Reading CSV data: header detection, the target column, fast number parsing, and errors
//! that name the file, line and column.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sagemaker_core::container::ContainerError;
use sagemaker_core::walk;

/// Which column holds the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// No label column (clustering, or serving).
    None,
    /// By 0-based position; negative counts from the end (`-1` is the last column).
    Index(i64),
    /// By header name.
    Name(String),
}

/// Rows read from one or more CSV files.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dataset {
    pub(crate) n_features: usize,
    /// The header's feature names (without the target), when the files have a header.
    pub(crate) feature_names: Option<Vec<String>>,
    /// The target column's header name, when there is a header.
    pub(crate) target_name: Option<String>,
    /// The target column's 0-based position among all columns.
    pub(crate) target_index: Option<usize>,
    /// Features, row-major.
    pub(crate) x: Vec<f64>,
    /// The target column's raw text, one per row (empty without a target).
    pub(crate) y: Vec<String>,
}

impl Dataset {
    pub(crate) fn n_rows(&self) -> usize {
        self.x
            .len()
            .checked_div(self.n_features)
            .unwrap_or(self.y.len())
    }

    /// The first `n` rows (all of them when there are fewer).
    pub(crate) fn head(&self, n: usize) -> Dataset {
        let n = n.min(self.n_rows());
        Dataset {
            x: self.x[..n * self.n_features].to_vec(),
            y: self.y[..n.min(self.y.len())].to_vec(),
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            ..*self
        }
    }
}

/// Splits one CSV line into fields, unquoting `"..."` fields (with `""` escapes).
pub(crate) fn split_fields(line: &str) -> Vec<Cow<'_, str>> {
    if !line.contains('"') {
        return line.split(',').map(|f| Cow::Borrowed(f.trim())).collect();
    }
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    let mut field = String::new();
    let mut in_quotes = false;
    while let Some((_, c)) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek().map(|(_, c)| *c) == Some('"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            (',', false) => out.push(Cow::Owned(std::mem::take(&mut field).trim().to_string())),
            (c, _) => field.push(c),
        }
    }
    out.push(Cow::Owned(field.trim().to_string()));
    out
}

/// Parses a number the way a CSV reader should: fast, and refusing NaN and infinities.
pub(crate) fn parse_number(field: &str) -> Result<f64, &'static str> {
    if field.is_empty() {
        return Err("is empty");
    }
    match fast_float2::parse::<f64, _>(field) {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("is not a finite number"),
        Err(_) => Err("is not a number"),
    }
}

fn is_header(fields: &[Cow<'_, str>]) -> bool {
    fields
        .iter()
        .all(|f| !f.is_empty() && parse_number(f).is_err())
}

/// The CSV files of a channel directory, sorted, hidden files and directories skipped, links
/// followed.
pub(crate) fn channel_files(dir: &Path) -> Result<Vec<PathBuf>, ContainerError> {
    let entries = walk::walk(dir, walk::Symlinks::Follow, walk::Missing::Error, |rel| {
        !rel.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    })
    // The walk's message is "{path}: {why}".
    .map_err(|e| ContainerError::client(format!("cannot read {}", e.message())))?;
    Ok(entries
        .into_iter()
        .filter(|e| !e.metadata.is_dir())
        .map(|e| e.path)
        .collect())
}

/// Reads every file as CSV with the same columns; `display_root` shortens file names in
/// messages.
pub(crate) fn read_csv_files(
    files: &[PathBuf],
    display_root: &Path,
    target: &Target,
) -> Result<Dataset, ContainerError> {
    let mut ds: Option<Dataset> = None;
    let mut n_columns = 0usize;
    for file in files {
        let shown = file
            .strip_prefix(display_root)
            .unwrap_or(file)
            .display()
            .to_string();
        let bytes = std::fs::read(file)
            .map_err(|e| ContainerError::client(format!("cannot read {shown}: {e}")))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            ContainerError::client(format!(
                "{shown}: not UTF-8 text (at byte {})",
                e.valid_up_to()
            ))
        })?;
        read_csv_text(text, &shown, target, &mut ds, &mut n_columns)?;
    }
    let ds = ds.ok_or_else(|| {
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(display_root)
                    .unwrap_or(f)
                    .display()
                    .to_string()
            })
            .collect();
        ContainerError::client(format!("no CSV data: {} holds no rows", names.join(", ")))
    })?;
    if ds.y.is_empty() && ds.x.is_empty() {
        return Err(ContainerError::client(
            "the CSV files hold a header but no data rows",
        ));
    }
    Ok(ds)
}

/// Parses one file's text into `ds` (created from the first file).
pub(crate) fn read_csv_text(
    text: &str,
    shown: &str,
    target: &Target,
    ds: &mut Option<Dataset>,
    n_columns: &mut usize,
) -> Result<(), ContainerError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((first_no, first)) = lines.next() else {
        return Ok(()); // An empty file adds no rows.
    };
    let first_fields = split_fields(first);
    let header = is_header(&first_fields);
    if ds.is_none() {
        *n_columns = first_fields.len();
        let target_index = resolve_target(target, &first_fields, header, shown)?;
        let n_features = *n_columns - usize::from(target_index.is_some());
        if n_features == 0 {
            return Err(ContainerError::client(format!(
                "{shown}: the only column is the target; there are no feature columns"
            )));
        }
        let names: Option<Vec<String>> = header.then(|| {
            first_fields
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != target_index)
                .map(|(_, f)| f.to_string())
                .collect()
        });
        *ds = Some(Dataset {
            n_features,
            feature_names: names,
            target_name: target_index
                .filter(|_| header)
                .map(|i| first_fields[i].to_string()),
            target_index,
            x: Vec::new(),
            y: Vec::new(),
        });
    } else if first_fields.len() != *n_columns {
        return Err(ContainerError::client(format!(
            "{shown}, line {}: {} columns, but the first file has {}",
            first_no + 1,
            first_fields.len(),
            n_columns
        )));
    }
    let ds = ds.as_mut().expect("dataset initialised above");
    if header && let (Some(names), Some(_)) = (&ds.feature_names, ds.target_index) {
        let mine: Vec<&str> = first_fields
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != ds.target_index)
            .map(|(_, f)| f.as_ref())
            .collect();
        if mine != names.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(ContainerError::client(format!(
                "{shown}, line {}: the header differs from the first file's ({})",
                first_no + 1,
                names.join(",")
            )));
        }
    }
    let rows = std::iter::once((first_no, first))
        .filter(|_| !header)
        .chain(lines);
    for (no, line) in rows {
        parse_row(line, no + 1, shown, *n_columns, ds)?;
    }
    Ok(())
}

fn parse_row(
    line: &str,
    line_no: usize,
    shown: &str,
    n_columns: usize,
    ds: &mut Dataset,
) -> Result<(), ContainerError> {
    let fields = split_fields(line);
    if fields.len() != n_columns {
        return Err(ContainerError::client(format!(
            "{shown}, line {line_no}: {} columns, expected {n_columns} (ragged row)",
            fields.len()
        )));
    }
    for (i, field) in fields.iter().enumerate() {
        if Some(i) == ds.target_index {
            if field.is_empty() {
                return Err(ContainerError::client(format!(
                    "{shown}, line {line_no}, column {}: the target value is empty",
                    i + 1
                )));
            }
            ds.y.push(field.to_string());
            continue;
        }
        match parse_number(field) {
            Ok(v) => ds.x.push(v),
            Err(why) => {
                let name = ds
                    .feature_names
                    .as_ref()
                    .and_then(|n| {
                        let feature_idx = if ds.target_index.is_some_and(|t| t < i) {
                            i - 1
                        } else {
                            i
                        };
                        n.get(feature_idx)
                    })
                    .map(|n| format!(" ('{n}')"))
                    .unwrap_or_default();
                return Err(ContainerError::client(format!(
                    "{shown}, line {line_no}, column {}{name}: value '{field}' {why}",
                    i + 1
                )));
            }
        }
    }
    Ok(())
}

fn resolve_target(
    target: &Target,
    first: &[Cow<'_, str>],
    header: bool,
    shown: &str,
) -> Result<Option<usize>, ContainerError> {
    let n = first.len() as i64;
    match target {
        Target::None => Ok(None),
        Target::Index(i) => {
            let idx = if *i < 0 { n + i } else { *i };
            if idx < 0 || idx >= n {
                return Err(ContainerError::client(format!(
                    "target column {i} is outside the {n} columns of {shown}"
                )));
            }
            Ok(Some(idx as usize))
        }
        Target::Name(name) => {
            if !header {
                return Err(ContainerError::client(format!(
                    "target '{name}' names a column, but {shown} has no header row"
                )));
            }
            first
                .iter()
                .position(|f| f == name)
                .map(Some)
                .ok_or_else(|| {
                    ContainerError::client(format!(
                        "target column '{name}' is missing from {shown} (columns: {})",
                        first.join(", ")
                    ))
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, target: Target) -> Result<Dataset, ContainerError> {
        let mut ds = None;
        let mut n = 0;
        read_csv_text(text, "train.csv", &target, &mut ds, &mut n)?;
        ds.ok_or_else(|| ContainerError::client("empty"))
    }

    #[test]
    fn header_and_named_target() {
        let ds = read(
            "a,b,species\n1,2,setosa\n3,4.5,virginica\n\n",
            Target::Name("species".into()),
        )
        .unwrap();
        assert_eq!(
            ds.feature_names.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(ds.x, vec![1.0, 2.0, 3.0, 4.5]);
        assert_eq!(ds.y, vec!["setosa", "virginica"]);
        assert_eq!(ds.n_rows(), 2);
    }

    #[test]
    fn no_header_first_column_target() {
        let ds = read("0,1.5,2\n1,3,4\n", Target::Index(0)).unwrap();
        assert!(ds.feature_names.is_none());
        assert_eq!(ds.y, vec!["0", "1"]);
        assert_eq!(ds.x, vec![1.5, 2.0, 3.0, 4.0]);
        let ds = read("0,1.5,2\n1,3,4\n", Target::Index(-1)).unwrap();
        assert_eq!(ds.y, vec!["2", "4"]);
    }

    #[test]
    fn head_keeps_the_first_rows() {
        let ds = read("a,y\n1,p\n2,q\n3,r\n", Target::Name("y".into())).unwrap();
        let h = ds.head(2);
        assert_eq!(
            (h.x, h.y),
            (vec![1.0, 2.0], vec!["p".to_string(), "q".to_string()])
        );
        assert_eq!(ds.head(10).n_rows(), 3);
    }

    #[test]
    fn quoted_fields() {
        let ds = read(
            "\"a\",\"b\",\"y\"\n1,2,\"x, \"\"y\"\"\"\n",
            Target::Name("y".into()),
        )
        .unwrap();
        assert_eq!(ds.y, vec!["x, \"y\""]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = read("a,b,y\n1,2,3\n1,2\n", Target::Name("y".into())).unwrap_err();
        assert!(
            e.message
                .contains("train.csv, line 3: 2 columns, expected 3"),
            "{}",
            e.message
        );
        let e = read("a,b,y\n1,x,3\n", Target::Name("y".into())).unwrap_err();
        assert!(
            e.message
                .contains("line 2, column 2 ('b'): value 'x' is not a number"),
            "{}",
            e.message
        );
        let e = read("a,b,y\n1,nan,3\n", Target::Name("y".into())).unwrap_err();
        assert!(
            e.message.contains("value 'nan' is not a finite number"),
            "{}",
            e.message
        );
        let e = read("a,b,y\n1,inf,3\n", Target::Name("y".into())).unwrap_err();
        assert!(e.message.contains("not a finite number"), "{}", e.message);
        let e = read("a,b,y\n1,2,3\n", Target::Name("species".into())).unwrap_err();
        assert!(
            e.message.contains("target column 'species' is missing"),
            "{}",
            e.message
        );
        let e = read("1,2,3\n", Target::Name("species".into())).unwrap_err();
        assert!(e.message.contains("no header row"), "{}", e.message);
        let e = read("1,2,3\n", Target::Index(3)).unwrap_err();
        assert!(e.message.contains("outside the 3 columns"), "{}", e.message);
        let e = read("a,b,y\n1,,3\n", Target::Name("y".into())).unwrap_err();
        assert!(e.message.contains("value '' is empty"), "{}", e.message);
    }
}
