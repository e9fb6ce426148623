//! CSV (`text/csv`): [`CsvSerializer`] writes numbers as Python's `repr` does,
//! [`CsvDeserializer`] reads rows of fields as Python's `csv` module does.

use std::fmt::Write as _;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use sagemaker_core::Result;

use super::{Deserializer, Serializer, decode_utf8, media_types, serialization_error};
/// Encodes numbers as CSV (`text/csv`), like the Python SDK's `CSVSerializer`.
///
/// * one row (`[f64]`, `Vec<f64>`, `Array1<f64>`) → one line: `5.1,3.5,1.4,0.2`;
/// * rows (`[Vec<f64>]`, `Vec<Vec<f64>>`, `Array2<f64>`, `ArrayView2<f64>`) → one line per
///   row, joined by `\n`, without a trailing newline (rows may differ in length, as in Python);
/// * text (`str`, `String`) is sent unchanged.
///
/// Numbers are written as Python's `repr` writes them (`5.1`, `1.0`, `1e-05`, `1e+16`):
/// the shortest text that reads back as the same `f64`. NaN and infinities cannot be sent and
/// are an [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error naming the row and column (counted from 0), and so
/// is an empty input or an empty row.
///
/// ```
/// use ndarray::array;
/// use sagemaker_predictor::codecs::{CsvSerializer, Serializer};
///
/// let csv = CsvSerializer::new();
/// assert_eq!(csv.content_type(), "text/csv");
/// assert_eq!(csv.serialize(&[5.1, 3.5, 1.4, 0.2][..])?, b"5.1,3.5,1.4,0.2");
/// assert_eq!(csv.serialize(&array![[1.0, 2.0], [3.0, 4.5]])?, b"1.0,2.0\n3.0,4.5");
///
/// let err = csv.serialize(&vec![vec![1.0], vec![f64::NAN]]).unwrap_err();
/// assert!(err.message().contains("row 1, column 0"), "{err}");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvSerializer;

impl CsvSerializer {
    /// A CSV serializer (`text/csv`).
    pub const fn new() -> Self {
        CsvSerializer
    }

    /// The Content-Type it sends, `text/csv` (also
    /// [`Serializer::content_type`], which needs the input type named).
    pub const fn content_type(&self) -> &'static str {
        media_types::CSV
    }
}

/// Appends `x` as Python's `repr(float)` writes it. `x` must be finite.
fn write_python_float(out: &mut String, x: f64) {
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` gives the shortest round-tripping digits, e.g. "1.5e-5".
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let start = out.len();
        let _ = write!(out, "{x}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.unsigned_abs());
    }
}

fn write_csv_row<I>(out: &mut String, row: I, row_index: usize) -> Result<()>
where
    I: IntoIterator<Item = f64>,
{
    let mut empty = true;
    for (column, value) in row.into_iter().enumerate() {
        if !value.is_finite() {
            return Err(serialization_error(format!(
                "cannot write {value} as CSV: the value at row {row_index}, column {column} \
                 (counted from 0) is not a finite number"
            )));
        }
        if column > 0 {
            out.push(',');
        }
        write_python_float(out, value);
        empty = false;
    }
    if empty {
        return Err(serialization_error(format!(
            "cannot serialize an empty array as CSV (row {row_index} has no values)"
        )));
    }
    Ok(())
}

fn csv_one_row<I: IntoIterator<Item = f64>>(row: I) -> Result<Vec<u8>> {
    let mut out = String::new();
    write_csv_row(&mut out, row, 0)?;
    Ok(out.into_bytes())
}

fn csv_rows<R, I>(rows: R) -> Result<Vec<u8>>
where
    R: IntoIterator<Item = I>,
    I: IntoIterator<Item = f64>,
{
    let mut out = String::new();
    let mut count = 0;
    for (index, row) in rows.into_iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        write_csv_row(&mut out, row, index)?;
        count += 1;
    }
    if count == 0 {
        return Err(serialization_error(
            "cannot serialize an empty array as CSV (there are no rows)",
        ));
    }
    Ok(out.into_bytes())
}

serializers!(CsvSerializer, media_types::CSV;
    [f64] => |data| csv_one_row(data.iter().copied()),
    Vec<f64> => |data| csv_one_row(data.iter().copied()),
    Array1<f64> => |data| csv_one_row(data.iter().copied()),
    ArrayView1<'_, f64> => |data| csv_one_row(data.iter().copied()),
    [Vec<f64>] => |data| csv_rows(data.iter().map(|row| row.iter().copied())),
    Vec<Vec<f64>> => |data| csv_rows(data.iter().map(|row| row.iter().copied())),
    Array2<f64> => |data| csv_rows(data.outer_iter().map(|row| row.into_iter().copied())),
    ArrayView2<'_, f64> => |data| csv_rows(data.outer_iter().map(|row| row.into_iter().copied())),
    str => |data| Ok(data.as_bytes().to_vec()),
    String => |data| Ok(data.as_bytes().to_vec()),
);

/// Decodes a CSV response (`text/csv`) into rows of fields, like the Python SDK's
/// `CSVDeserializer`.
///
/// Fields are separated by `,` and records by `\n`, `\r\n` or `\r`. A field that starts with
/// `"` is quoted: it may contain commas and line breaks, and `""` inside it stands for one `"`.
/// A trailing line break does not add a row; an empty line is an empty row, as Python's `csv`
/// module reads it. The response Content-Type is not checked.
///
/// Invalid UTF-8 and a quoted field still open at the end of the body are
/// [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) errors giving the byte offset, or the line and column.
///
/// ```
/// use sagemaker_predictor::codecs::{CsvDeserializer, Deserializer};
///
/// let rows = CsvDeserializer::new().deserialize(b"1,\"a, \"\"b\"\"\"\n2,c\n", None)?;
/// assert_eq!(rows, [["1", "a, \"b\""], ["2", "c"]]);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvDeserializer;

impl CsvDeserializer {
    /// A CSV deserializer (accepts `text/csv`).
    pub const fn new() -> Self {
        CsvDeserializer
    }
}

impl Deserializer for CsvDeserializer {
    type Output = Vec<Vec<String>>;

    fn accept(&self) -> &str {
        media_types::CSV
    }

    fn deserialize(&self, body: &[u8], _content_type: Option<&str>) -> Result<Vec<Vec<String>>> {
        parse_csv(decode_utf8(body, "the CSV response")?)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CsvState {
    /// At the start of a record (nothing read yet on this line).
    RecordStart,
    /// At the start of a field after a comma.
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: either `""` or the closing quote.
    QuoteInQuoted,
}

pub(super) fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
    let bytes = text.as_bytes();
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut state = CsvState::RecordStart;
    // 1-based line number and the offset at which the line starts, for error messages.
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut quote_open = (1usize, 1usize);

    // Fields are split at ASCII bytes only, so each one is valid UTF-8.
    let take = |field: &mut Vec<u8>| String::from_utf8_lossy(&std::mem::take(field)).into_owned();

    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let is_newline = b == b'\n' || b == b'\r';
        if is_newline && state != CsvState::Quoted {
            match state {
                CsvState::RecordStart => rows.push(Vec::new()),
                _ => {
                    row.push(take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
            }
            state = CsvState::RecordStart;
        } else {
            state = match (state, b) {
                (CsvState::RecordStart | CsvState::FieldStart, b'"') => {
                    quote_open = (line, i - line_start + 1);
                    CsvState::Quoted
                }
                (
                    CsvState::RecordStart
                    | CsvState::FieldStart
                    | CsvState::Unquoted
                    | CsvState::QuoteInQuoted,
                    b',',
                ) => {
                    row.push(take(&mut field));
                    CsvState::FieldStart
                }
                (CsvState::Quoted, b'"') => CsvState::QuoteInQuoted,
                (CsvState::QuoteInQuoted, b'"') => {
                    field.push(b'"');
                    CsvState::Quoted
                }
                (CsvState::Quoted, _) => {
                    field.push(b);
                    CsvState::Quoted
                }
                // Anything else, including text after a closing quote (Python's csv module
                // keeps it too), belongs to an unquoted field.
                (_, _) => {
                    field.push(b);
                    CsvState::Unquoted
                }
            };
        }
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
            line_start = i + 1;
        }
        // A `\r\n` outside quotes ends the record once.
        if b == b'\r' && state == CsvState::RecordStart && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            line += 1;
            line_start = i + 1;
        }
        i += 1;
    }
    match state {
        CsvState::RecordStart => {}
        CsvState::Quoted => {
            return Err(serialization_error(format!(
                "malformed CSV: the quoted field opened at line {}, column {} is not closed \
                 before the end of the body (byte offset {})",
                quote_open.0,
                quote_open.1,
                bytes.len()
            )));
        }
        CsvState::FieldStart | CsvState::Unquoted | CsvState::QuoteInQuoted => {
            row.push(take(&mut field));
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::test_support::serialization_message;
    use crate::codecs::*;
    use ndarray::array;

    #[test]
    fn csv_one_row_exact_bytes() {
        let csv = CsvSerializer::new();
        let row = [5.1, 3.5, 1.4, 0.2];
        assert_eq!(csv.serialize(&row[..]).unwrap(), b"5.1,3.5,1.4,0.2");
        assert_eq!(csv.serialize(&row.to_vec()).unwrap(), b"5.1,3.5,1.4,0.2");
        assert_eq!(
            csv.serialize(&Array1::from(row.to_vec())).unwrap(),
            b"5.1,3.5,1.4,0.2"
        );
        assert_eq!(
            csv.serialize(&ArrayView1::from(&row[..])).unwrap(),
            b"5.1,3.5,1.4,0.2"
        );
    }

    #[test]
    fn csv_matrix_exact_bytes() {
        // Python: CSVSerializer().serialize(np.array([[5.1, 3.5], [6.7, 3.1]]))
        let expected = b"5.1,3.5\n6.7,3.1";
        let csv = CsvSerializer::new();
        let rows = vec![vec![5.1, 3.5], vec![6.7, 3.1]];
        assert_eq!(csv.serialize(&rows).unwrap(), expected);
        assert_eq!(csv.serialize(&rows[..]).unwrap(), expected);
        let matrix = array![[5.1, 3.5], [6.7, 3.1]];
        assert_eq!(csv.serialize(&matrix).unwrap(), expected);
        assert_eq!(csv.serialize(&matrix.view()).unwrap(), expected);
        // A transposed view is written in its logical (row) order.
        let transposed = array![[5.1, 6.7], [3.5, 3.1]];
        assert_eq!(csv.serialize(&transposed.t()).unwrap(), expected);
        // One row of a matrix is one line; ragged rows are allowed, as in Python.
        assert_eq!(csv.serialize(&vec![vec![1.0, 2.0]]).unwrap(), b"1.0,2.0");
        assert_eq!(
            csv.serialize(&vec![vec![1.0, 2.0], vec![3.0]]).unwrap(),
            b"1.0,2.0\n3.0"
        );
    }

    #[test]
    fn csv_numbers_are_written_as_python_repr() {
        let values = [
            1.0,
            1e16,
            1e-05,
            0.0001,
            123456789012345.6,
            -0.0,
            1e300,
            5e-324,
            2.5e-07,
            f64::MAX,
            0.1 + 0.2,
            100.0,
            1e15,
            -1.5e-10,
            0.1,
            2f64.powi(60),
            9007199254740993.0,
            1.0 / 3.0,
            6.02214076e23,
        ];
        // Python: ",".join(repr(v) for v in values)
        let python = "1.0,1e+16,1e-05,0.0001,123456789012345.6,-0.0,1e+300,5e-324,2.5e-07,\
                      1.7976931348623157e+308,0.30000000000000004,100.0,1000000000000000.0,\
                      -1.5e-10,0.1,1.152921504606847e+18,9007199254740992.0,0.3333333333333333,\
                      6.02214076e+23";
        let body = CsvSerializer::new().serialize(&values[..]).unwrap();
        assert_eq!(String::from_utf8(body).unwrap(), python);
    }

    #[test]
    fn csv_non_finite_and_empty_are_errors() {
        let csv = CsvSerializer::new();
        let message =
            serialization_message(csv.serialize(&vec![vec![1.0, 2.0], vec![3.0, f64::INFINITY]]));
        assert!(message.contains("row 1, column 1"), "{message}");
        assert!(message.contains("inf"), "{message}");
        let message = serialization_message(csv.serialize(&[0.5, f64::NAN][..]));
        assert!(message.contains("row 0, column 1"), "{message}");
        let matrix = array![[1.0, 2.0], [f64::NEG_INFINITY, 0.0]];
        let message = serialization_message(csv.serialize(&matrix));
        assert!(message.contains("row 1, column 0"), "{message}");
        let message = serialization_message(csv.serialize(&Vec::<f64>::new()));
        assert!(message.contains("empty"), "{message}");
        let message = serialization_message(csv.serialize(&Vec::<Vec<f64>>::new()));
        assert!(message.contains("no rows"), "{message}");
        let message = serialization_message(csv.serialize(&vec![vec![1.0], vec![]]));
        assert!(message.contains("row 1 has no values"), "{message}");
        let message = serialization_message(csv.serialize(&Array2::<f64>::zeros((0, 3))));
        assert!(message.contains("empty"), "{message}");
    }

    #[test]
    fn csv_text_passes_through() {
        let csv = CsvSerializer::new();
        assert_eq!(csv.serialize("a,b\n1,2\n").unwrap(), b"a,b\n1,2\n");
        assert_eq!(csv.serialize(&"x".to_owned()).unwrap(), b"x");
    }

    #[test]
    fn csv_round_trip() {
        let rows = vec![vec![5.1, -3.5, 1e-7], vec![6.7, 3.1, 1e20]];
        let body = CsvSerializer::new().serialize(&rows).unwrap();
        let fields = CsvDeserializer::new()
            .deserialize(&body, Some("text/csv"))
            .unwrap();
        let back: Vec<Vec<f64>> = fields
            .iter()
            .map(|row| row.iter().map(|f| f.parse().unwrap()).collect())
            .collect();
        assert_eq!(back, rows);
        let array = NumpyDeserializer::new()
            .deserialize(&body, Some("text/csv"))
            .unwrap();
        assert_eq!(array.shape, [2, 3]);
        assert_eq!(array.data.as_f64().unwrap(), rows.concat());
    }

    #[test]
    fn csv_deserializer_quotes_escapes_and_line_ends() {
        let csv = CsvDeserializer::new();
        let rows = csv
            .deserialize(
                b"a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",,x\r\nlast,\"\"\n",
                None,
            )
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["a", "b,c", "say \"hi\""],
                vec!["multi\nline", "", "x"],
                vec!["last", ""],
            ]
        );
        // No trailing newline, a trailing comma, an empty line, a lone quote inside a field,
        // text after a closing quote: all as Python's csv module reads them.
        assert_eq!(csv.deserialize(b"1,2", None).unwrap(), [["1", "2"]]);
        assert_eq!(csv.deserialize(b"a,", None).unwrap(), [["a", ""]]);
        assert_eq!(
            csv.deserialize(b"a\n\nb\n", None).unwrap(),
            vec![vec!["a"], vec![], vec!["b"]]
        );
        assert_eq!(csv.deserialize(b"a\"b,c", None).unwrap(), [["a\"b", "c"]]);
        assert_eq!(csv.deserialize(b"\"ab\"c,d", None).unwrap(), [["abc", "d"]]);
        assert_eq!(csv.deserialize(b"x\ry", None).unwrap(), [["x"], ["y"]]);
        assert_eq!(csv.deserialize(b"caf\xc3\xa9", None).unwrap(), [["café"]]);
        assert!(csv.deserialize(b"", None).unwrap().is_empty());
    }

    #[test]
    fn csv_deserializer_errors_say_where() {
        let csv = CsvDeserializer::new();
        let message = serialization_message(csv.deserialize(b"a,b\nc,\"open\nstill", None));
        assert!(message.contains("line 2, column 3"), "{message}");
        assert!(message.contains("not closed"), "{message}");
        let message = serialization_message(csv.deserialize(b"ok,\xff", None));
        assert!(message.contains("byte offset 3"), "{message}");
    }
}
