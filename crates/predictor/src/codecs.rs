//! Serializers and deserializers: how a `Predictor` turns a value into a request body and a
//! response body back into a value.
//!
//! They mirror `sagemaker.serializers` and `sagemaker.deserializers` of the Python SDK, with
//! the same media types:
//!
//! | Rust | Python | Media type | Values |
//! |---|---|---|---|
//! | [`CsvSerializer`] | `CSVSerializer` | `text/csv` | one row of `f64`, rows, `Array2<f64>`, text |
//! | [`JsonSerializer`] | `JSONSerializer` | `application/json` | anything `serde::Serialize`, [`ArrayRows`] |
//! | [`JsonLinesSerializer`] | `JSONLinesSerializer` | `application/jsonlines` | a slice of `serde::Serialize` values, text |
//! | [`NumpySerializer`] | `NumpySerializer` | `application/x-npy` | `f64` vectors and matrices, strings, [`NpyArray`] |
//! | [`IdentitySerializer`] | `IdentitySerializer` | `application/octet-stream` (settable) | bytes, text |
//! | [`BytesDeserializer`] | `BytesDeserializer` | `*/*` | `Vec<u8>` |
//! | [`StringDeserializer`] | `StringDeserializer` | `application/json` | `String` |
//! | [`CsvDeserializer`] | `CSVDeserializer` | `text/csv` | `Vec<Vec<String>>` |
//! | [`JsonDeserializer`] | `JSONDeserializer` | `application/json` | `serde_json::Value` or any `DeserializeOwned` |
//! | [`JsonLinesDeserializer`] | `JSONLinesDeserializer` | `application/jsonlines` | `Vec<T>` |
//! | [`NumpyDeserializer`] | `NumpyDeserializer` | `application/x-npy` | [`NpyArray`] (from NPY, JSON or CSV) |
//!
//! Every encoding or decoding failure is an [`ErrorKind::Serialization`] error whose message
//! says what is wrong and where (row and column, line, or byte offset). The only exceptions are
//! NPY files that are well formed but use a layout or dtype this module does not read
//! (Fortran order, structured or object dtypes): those are [`ErrorKind::Unsupported`].
//!
//! ```
//! use sagemaker_predictor::codecs::{CsvDeserializer, CsvSerializer, Deserializer, Serializer};
//!
//! let body = CsvSerializer::new().serialize(&vec![vec![5.1, 3.5], vec![6.7, 3.1]])?;
//! assert_eq!(body, b"5.1,3.5\n6.7,3.1");
//!
//! let rows = CsvDeserializer::new().deserialize(b"setosa\nvirginica\n", Some("text/csv"))?;
//! assert_eq!(rows, [["setosa"], ["virginica"]]);
//! # Ok::<(), sagemaker_core::Error>(())
//! ```

use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use sagemaker_core::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The media types used by the serializers and deserializers of this module.
pub mod media_types {
    /// `text/csv`.
    pub const CSV: &str = "text/csv";
    /// `application/json`.
    pub const JSON: &str = "application/json";
    /// `application/jsonlines`.
    pub const JSON_LINES: &str = "application/jsonlines";
    /// `application/x-npy`, NumPy's `.npy` format.
    pub const NPY: &str = "application/x-npy";
    /// `application/octet-stream`, opaque bytes.
    pub const OCTET_STREAM: &str = "application/octet-stream";
    /// `*/*`, any media type.
    pub const ANY: &str = "*/*";
}

/// Turns a value into a request body.
///
/// A serializer implements this trait once for every input type it accepts, so one
/// serializer value can encode, say, both a single row (`[f64]`) and a matrix (`Array2<f64>`).
///
/// ```
/// use sagemaker_predictor::codecs::{JsonSerializer, Serializer};
///
/// let serializer = JsonSerializer::new();
/// assert_eq!(serializer.content_type(), "application/json");
/// assert_eq!(serializer.serialize(&[1, 2, 3])?, b"[1,2,3]");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// The request's Content-Type.
    fn content_type(&self) -> &str;
    /// Encodes `data`.
    fn serialize(&self, data: &T) -> Result<Vec<u8>>;
}

/// Turns a response body into a value.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, JsonDeserializer};
///
/// let deserializer = JsonDeserializer::new();
/// assert_eq!(deserializer.accept(), "application/json");
/// let value = deserializer.deserialize(br#"{"predictions": [0, 2]}"#, Some("application/json"))?;
/// assert_eq!(value["predictions"][1], 2);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub trait Deserializer: Send + Sync {
    /// What it produces.
    type Output;
    /// The Accept header it asks for (the first of its accepted types).
    fn accept(&self) -> &str;
    /// Decodes a response with its Content-Type.
    fn deserialize(&self, body: &[u8], content_type: Option<&str>) -> Result<Self::Output>;
}

// Serializers and deserializers also work through `&`, `Box` and `Arc`, so a `Predictor` can
// hold a `Box<dyn Serializer<T>>` or share one behind an `Arc`.
macro_rules! forward_pointer_impls {
    ($($ptr:ident),*) => {$(
        impl<T: ?Sized, S: Serializer<T> + ?Sized> Serializer<T> for $ptr<S> {
            fn content_type(&self) -> &str {
                (**self).content_type()
            }
            fn serialize(&self, data: &T) -> Result<Vec<u8>> {
                (**self).serialize(data)
            }
        }

        impl<D: Deserializer + ?Sized> Deserializer for $ptr<D> {
            type Output = D::Output;
            fn accept(&self) -> &str {
                (**self).accept()
            }
            fn deserialize(&self, body: &[u8], content_type: Option<&str>) -> Result<D::Output> {
                (**self).deserialize(body, content_type)
            }
        }
    )*};
}

forward_pointer_impls!(Box, Arc);

impl<T: ?Sized, S: Serializer<T> + ?Sized> Serializer<T> for &S {
    fn content_type(&self) -> &str {
        (**self).content_type()
    }
    fn serialize(&self, data: &T) -> Result<Vec<u8>> {
        (**self).serialize(data)
    }
}

impl<D: Deserializer + ?Sized> Deserializer for &D {
    type Output = D::Output;
    fn accept(&self) -> &str {
        (**self).accept()
    }
    fn deserialize(&self, body: &[u8], content_type: Option<&str>) -> Result<D::Output> {
        (**self).deserialize(body, content_type)
    }
}

fn serialization_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Serialization, message)
}

/// The media type of a Content-Type header value: lower case, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn decode_utf8<'a>(body: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(body).map_err(|e| {
        serialization_error(format!(
            "{what} is not valid UTF-8: invalid byte sequence at byte offset {}",
            e.valid_up_to()
        ))
        .with_source(e)
    })
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// Encodes numbers as CSV (`text/csv`), like the Python SDK's `CSVSerializer`.
///
/// * one row (`[f64]`, `Vec<f64>`, `Array1<f64>`) → one line: `5.1,3.5,1.4,0.2`;
/// * rows (`[Vec<f64>]`, `Vec<Vec<f64>>`, `Array2<f64>`, `ArrayView2<f64>`) → one line per
///   row, joined by `\n`, without a trailing newline (rows may differ in length, as in Python);
/// * text (`str`, `String`) is sent unchanged.
///
/// Numbers are written as Python's `repr` writes them (`5.1`, `1.0`, `1e-05`, `1e+16`):
/// the shortest text that reads back as the same `f64`. NaN and infinities cannot be sent and
/// are an [`ErrorKind::Serialization`] error naming the row and column (counted from 0), and so
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

impl Serializer<[f64]> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &[f64]) -> Result<Vec<u8>> {
        csv_one_row(data.iter().copied())
    }
}

impl Serializer<Vec<f64>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &Vec<f64>) -> Result<Vec<u8>> {
        csv_one_row(data.iter().copied())
    }
}

impl Serializer<Array1<f64>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &Array1<f64>) -> Result<Vec<u8>> {
        csv_one_row(data.iter().copied())
    }
}

impl Serializer<ArrayView1<'_, f64>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &ArrayView1<'_, f64>) -> Result<Vec<u8>> {
        csv_one_row(data.iter().copied())
    }
}

impl Serializer<[Vec<f64>]> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &[Vec<f64>]) -> Result<Vec<u8>> {
        csv_rows(data.iter().map(|row| row.iter().copied()))
    }
}

impl Serializer<Vec<Vec<f64>>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &Vec<Vec<f64>>) -> Result<Vec<u8>> {
        csv_rows(data.iter().map(|row| row.iter().copied()))
    }
}

impl Serializer<Array2<f64>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &Array2<f64>) -> Result<Vec<u8>> {
        Serializer::<ArrayView2<'_, f64>>::serialize(self, &data.view())
    }
}

impl Serializer<ArrayView2<'_, f64>> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &ArrayView2<'_, f64>) -> Result<Vec<u8>> {
        csv_rows(data.outer_iter().map(|row| row.into_iter().copied()))
    }
}

impl Serializer<str> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &str) -> Result<Vec<u8>> {
        Ok(data.as_bytes().to_vec())
    }
}

impl Serializer<String> for CsvSerializer {
    fn content_type(&self) -> &str {
        media_types::CSV
    }
    fn serialize(&self, data: &String) -> Result<Vec<u8>> {
        Ok(data.as_bytes().to_vec())
    }
}

/// Decodes a CSV response (`text/csv`) into rows of fields, like the Python SDK's
/// `CSVDeserializer`.
///
/// Fields are separated by `,` and records by `\n`, `\r\n` or `\r`. A field that starts with
/// `"` is quoted: it may contain commas and line breaks, and `""` inside it stands for one `"`.
/// A trailing line break does not add a row; an empty line is an empty row, as Python's `csv`
/// module reads it. The response Content-Type is not checked.
///
/// Invalid UTF-8 and a quoted field still open at the end of the body are
/// [`ErrorKind::Serialization`] errors giving the byte offset, or the line and column.
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

fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
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

// ---------------------------------------------------------------------------------------------
// JSON and JSON Lines
// ---------------------------------------------------------------------------------------------

/// Encodes any [`serde::Serialize`] value as JSON (`application/json`), like the Python
/// SDK's `JSONSerializer`.
///
/// Rows become nested lists (`[[5.1,3.5],[6.7,3.1]]`), one row a list (`[5.1,3.5]`), a
/// string a JSON string. The output is compact (no spaces after `,` and `:`). NaN and infinite
/// floats become `null`, as `serde_json` writes them.
///
/// An `ndarray` matrix is sent through [`ArrayRows`], which serializes it as nested lists
/// (`ndarray` types are not `serde::Serialize` here, and a blanket implementation cannot also
/// cover them directly).
///
/// ```
/// use ndarray::array;
/// use sagemaker_predictor::codecs::{ArrayRows, JsonSerializer, Serializer};
///
/// let json = JsonSerializer::new();
/// assert_eq!(json.serialize(&vec![vec![5.1, 3.5], vec![6.7, 3.1]])?, b"[[5.1,3.5],[6.7,3.1]]");
/// let matrix = array![[5.1, 3.5], [6.7, 3.1]];
/// assert_eq!(json.serialize(&ArrayRows::from(&matrix))?, b"[[5.1,3.5],[6.7,3.1]]");
/// assert_eq!(json.serialize(&serde_json::json!({"instances": [1, 2]}))?, br#"{"instances":[1,2]}"#);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonSerializer;

impl JsonSerializer {
    /// A JSON serializer (`application/json`).
    pub const fn new() -> Self {
        JsonSerializer
    }

    /// The Content-Type it sends, `application/json` (also
    /// [`Serializer::content_type`], which needs the input type named).
    pub const fn content_type(&self) -> &'static str {
        media_types::JSON
    }
}

impl<T: Serialize + ?Sized> Serializer<T> for JsonSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON
    }
    fn serialize(&self, data: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(data).map_err(|e| {
            serialization_error(format!("cannot encode the value as JSON: {e}")).with_source(e)
        })
    }
}

/// A 2-D `ndarray` view that serializes (with `serde`) as a list of rows, as numpy's
/// `tolist()` does: `[[5.1,3.5],[6.7,3.1]]`. Use it to send an `Array2` with
/// [`JsonSerializer`] or [`JsonLinesSerializer`].
///
/// ```
/// use ndarray::array;
/// use sagemaker_predictor::codecs::ArrayRows;
///
/// let matrix = array![[1, 2], [3, 4]];
/// assert_eq!(serde_json::to_string(&ArrayRows::from(&matrix))?, "[[1,2],[3,4]]");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ArrayRows<'a, A = f64>(pub ArrayView2<'a, A>);

impl<'a, A> From<&'a Array2<A>> for ArrayRows<'a, A> {
    fn from(array: &'a Array2<A>) -> Self {
        ArrayRows(array.view())
    }
}

impl<'a, A> From<ArrayView2<'a, A>> for ArrayRows<'a, A> {
    fn from(view: ArrayView2<'a, A>) -> Self {
        ArrayRows(view)
    }
}

/// One row of an [`ArrayRows`], serialized as a list.
struct ArrayRow<'r, 'a, A>(&'r ArrayView1<'a, A>);

impl<A: Serialize> Serialize for ArrayRow<'_, '_, A> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

impl<A: Serialize> Serialize for ArrayRows<'_, A> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = serializer.serialize_seq(Some(self.0.nrows()))?;
        for row in self.0.outer_iter() {
            seq.serialize_element(&ArrayRow(&row))?;
        }
        seq.end()
    }
}

/// Encodes a sequence of values as JSON Lines (`application/jsonlines`), like the Python
/// SDK's `JSONLinesSerializer`: one compact JSON document per value, joined by `\n`, without
/// a trailing newline. Text (`str`, `String`) is sent unchanged.
///
/// ```
/// use sagemaker_predictor::codecs::{JsonLinesSerializer, Serializer};
///
/// let body = JsonLinesSerializer::new().serialize(&vec![vec![1.5, 2.0], vec![3.0, 4.0]])?;
/// assert_eq!(body, b"[1.5,2.0]\n[3.0,4.0]");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonLinesSerializer;

impl JsonLinesSerializer {
    /// A JSON Lines serializer (`application/jsonlines`).
    pub const fn new() -> Self {
        JsonLinesSerializer
    }

    /// The Content-Type it sends, `application/jsonlines` (also
    /// [`Serializer::content_type`], which needs the input type named).
    pub const fn content_type(&self) -> &'static str {
        media_types::JSON_LINES
    }
}

fn json_lines<'a, T: Serialize + 'a>(values: impl IntoIterator<Item = &'a T>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            out.push(b'\n');
        }
        serde_json::to_writer(&mut out, value).map_err(|e| {
            serialization_error(format!(
                "cannot encode the value at index {index} as JSON: {e}"
            ))
            .with_source(e)
        })?;
    }
    Ok(out)
}

impl<T: Serialize> Serializer<[T]> for JsonLinesSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON_LINES
    }
    fn serialize(&self, data: &[T]) -> Result<Vec<u8>> {
        json_lines(data)
    }
}

impl<T: Serialize> Serializer<Vec<T>> for JsonLinesSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON_LINES
    }
    fn serialize(&self, data: &Vec<T>) -> Result<Vec<u8>> {
        json_lines(data)
    }
}

impl<A: Serialize> Serializer<ArrayRows<'_, A>> for JsonLinesSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON_LINES
    }
    fn serialize(&self, data: &ArrayRows<'_, A>) -> Result<Vec<u8>> {
        let views: Vec<ArrayView1<'_, A>> = data.0.outer_iter().collect();
        let rows: Vec<ArrayRow<'_, '_, A>> = views.iter().map(ArrayRow).collect();
        json_lines(&rows)
    }
}

impl Serializer<str> for JsonLinesSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON_LINES
    }
    fn serialize(&self, data: &str) -> Result<Vec<u8>> {
        Ok(data.as_bytes().to_vec())
    }
}

impl Serializer<String> for JsonLinesSerializer {
    fn content_type(&self) -> &str {
        media_types::JSON_LINES
    }
    fn serialize(&self, data: &String) -> Result<Vec<u8>> {
        Ok(data.as_bytes().to_vec())
    }
}

/// Decodes a JSON response (`application/json`), like the Python SDK's `JSONDeserializer`.
///
/// [`JsonDeserializer::new`] gives a `serde_json::Value`; [`JsonDeserializer::typed`] any
/// [`DeserializeOwned`] type. The response Content-Type is not checked. Invalid JSON is an
/// [`ErrorKind::Serialization`] error giving the line and column.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, JsonDeserializer};
///
/// let labels = JsonDeserializer::<Vec<String>>::typed().deserialize(br#"["setosa","virginica"]"#, None)?;
/// assert_eq!(labels, ["setosa", "virginica"]);
///
/// let err = JsonDeserializer::new().deserialize(b"[1, 2", None).unwrap_err();
/// assert!(err.message().contains("line 1 column 5"), "{err}");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub struct JsonDeserializer<T = serde_json::Value> {
    output: PhantomData<fn() -> T>,
}

impl JsonDeserializer<serde_json::Value> {
    /// A JSON deserializer producing a `serde_json::Value` (accepts `application/json`).
    pub const fn new() -> Self {
        JsonDeserializer {
            output: PhantomData,
        }
    }
}

impl<T> JsonDeserializer<T> {
    /// A JSON deserializer producing a `T` (accepts `application/json`).
    pub const fn typed() -> Self {
        JsonDeserializer {
            output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for JsonDeserializer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonDeserializer")
            .field("output", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> Clone for JsonDeserializer<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonDeserializer<T> {}

impl<T> Default for JsonDeserializer<T> {
    fn default() -> Self {
        Self::typed()
    }
}

impl<T: DeserializeOwned> Deserializer for JsonDeserializer<T> {
    type Output = T;

    fn accept(&self) -> &str {
        media_types::JSON
    }

    fn deserialize(&self, body: &[u8], _content_type: Option<&str>) -> Result<T> {
        serde_json::from_slice(body).map_err(|e| {
            serialization_error(format!("cannot decode the JSON response: {e}")).with_source(e)
        })
    }
}

/// Decodes a JSON Lines response (`application/jsonlines`) into one value per line, like the
/// Python SDK's `JSONLinesDeserializer`.
///
/// Lines are separated by `\n` (a `\r` before it is ignored); blank lines are skipped, so an
/// empty body is an empty list. A line that is not valid JSON is an
/// [`ErrorKind::Serialization`] error naming the line (counted from 1) and column.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, JsonLinesDeserializer};
///
/// let values = JsonLinesDeserializer::new().deserialize(b"{\"label\":1}\n{\"label\":0}\n", None)?;
/// assert_eq!(values[1]["label"], 0);
///
/// let scores = JsonLinesDeserializer::<Vec<f64>>::typed().deserialize(b"[0.5]\n[1.5]", None)?;
/// assert_eq!(scores, [[0.5], [1.5]]);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub struct JsonLinesDeserializer<T = serde_json::Value> {
    output: PhantomData<fn() -> T>,
}

impl JsonLinesDeserializer<serde_json::Value> {
    /// A JSON Lines deserializer producing `serde_json::Value`s (accepts
    /// `application/jsonlines`).
    pub const fn new() -> Self {
        JsonLinesDeserializer {
            output: PhantomData,
        }
    }
}

impl<T> JsonLinesDeserializer<T> {
    /// A JSON Lines deserializer producing `T`s (accepts `application/jsonlines`).
    pub const fn typed() -> Self {
        JsonLinesDeserializer {
            output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for JsonLinesDeserializer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesDeserializer")
            .field("output", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> Clone for JsonLinesDeserializer<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonLinesDeserializer<T> {}

impl<T> Default for JsonLinesDeserializer<T> {
    fn default() -> Self {
        Self::typed()
    }
}

impl<T: DeserializeOwned> Deserializer for JsonLinesDeserializer<T> {
    type Output = Vec<T>;

    fn accept(&self) -> &str {
        media_types::JSON_LINES
    }

    fn deserialize(&self, body: &[u8], _content_type: Option<&str>) -> Result<Vec<T>> {
        let mut values = Vec::new();
        for (index, line) in body.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value = serde_json::from_slice(line).map_err(|e| {
                serialization_error(format!(
                    "cannot decode line {} of the JSON Lines response: {e}",
                    index + 1
                ))
                .with_source(e)
            })?;
            values.push(value);
        }
        Ok(values)
    }
}

// ---------------------------------------------------------------------------------------------
// Identity, bytes and strings
// ---------------------------------------------------------------------------------------------

/// Sends bytes or text unchanged, with a Content-Type chosen at construction
/// (`application/octet-stream` by default), like the Python SDK's `IdentitySerializer`.
///
/// ```
/// use sagemaker_predictor::codecs::{IdentitySerializer, Serializer};
///
/// let raw = IdentitySerializer::default();
/// assert_eq!(raw.content_type(), "application/octet-stream");
/// let csv = IdentitySerializer::new("text/csv");
/// assert_eq!(csv.serialize("1,2\n3,4")?, b"1,2\n3,4");
/// assert_eq!(csv.content_type(), "text/csv");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySerializer {
    content_type: String,
}

impl IdentitySerializer {
    /// An identity serializer sending `content_type`.
    pub fn new(content_type: impl Into<String>) -> Self {
        IdentitySerializer {
            content_type: content_type.into(),
        }
    }

    /// The Content-Type it sends (also [`Serializer::content_type`], which needs the input
    /// type named).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }
}

impl Default for IdentitySerializer {
    fn default() -> Self {
        IdentitySerializer::new(media_types::OCTET_STREAM)
    }
}

macro_rules! identity_impls {
    ($($ty:ty),*) => {$(
        impl Serializer<$ty> for IdentitySerializer {
            fn content_type(&self) -> &str {
                &self.content_type
            }
            fn serialize(&self, data: &$ty) -> Result<Vec<u8>> {
                let bytes: &[u8] = data.as_ref();
                Ok(bytes.to_vec())
            }
        }
    )*};
}

identity_impls!([u8], Vec<u8>, str, String);

/// Returns the response body unchanged, like the Python SDK's `BytesDeserializer` (accepts
/// `*/*`).
///
/// ```
/// use sagemaker_predictor::codecs::{BytesDeserializer, Deserializer};
///
/// assert_eq!(BytesDeserializer::new().accept(), "*/*");
/// assert_eq!(BytesDeserializer::new().deserialize(b"\x00\x01", None)?, [0, 1]);
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BytesDeserializer;

impl BytesDeserializer {
    /// A bytes deserializer (accepts `*/*`).
    pub const fn new() -> Self {
        BytesDeserializer
    }
}

impl Deserializer for BytesDeserializer {
    type Output = Vec<u8>;

    fn accept(&self) -> &str {
        media_types::ANY
    }

    fn deserialize(&self, body: &[u8], _content_type: Option<&str>) -> Result<Vec<u8>> {
        Ok(body.to_vec())
    }
}

/// Decodes the response body as UTF-8 text, like the Python SDK's `StringDeserializer`
/// (which also asks for `application/json`). Invalid UTF-8 is an
/// [`ErrorKind::Serialization`] error giving the byte offset.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, StringDeserializer};
///
/// assert_eq!(StringDeserializer::new().accept(), "application/json");
/// assert_eq!(StringDeserializer::new().deserialize(b"[1]", None)?, "[1]");
/// assert!(StringDeserializer::new().deserialize(b"ok \xff", None).is_err());
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StringDeserializer;

impl StringDeserializer {
    /// A string deserializer (accepts `application/json`, as in Python).
    pub const fn new() -> Self {
        StringDeserializer
    }
}

impl Deserializer for StringDeserializer {
    type Output = String;

    fn accept(&self) -> &str {
        media_types::JSON
    }

    fn deserialize(&self, body: &[u8], _content_type: Option<&str>) -> Result<String> {
        decode_utf8(body, "the response").map(str::to_owned)
    }
}

// ---------------------------------------------------------------------------------------------
// NPY
// ---------------------------------------------------------------------------------------------

const NPY_MAGIC: &[u8] = b"\x93NUMPY";
/// numpy aligns the data of an `.npy` file to this many bytes.
const NPY_ALIGN: usize = 64;
/// numpy leaves room in the header for the first axis to grow to this many digits.
const NPY_GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// An n-dimensional array read from (or to be written as) NumPy's `.npy` format, in C
/// (row-major) order.
///
/// ```
/// use sagemaker_predictor::codecs::{NpyArray, NpyData};
///
/// let array = NpyArray::new(vec![2, 2], NpyData::F64(vec![1.0, 2.0, 3.0, 4.0]))?;
/// assert_eq!(array.len(), 4);
/// let bytes = array.to_npy()?;
/// assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NpyArray {
    /// The length of each axis (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements, in C order.
    pub data: NpyData,
}

/// The elements of an [`NpyArray`]. Narrower numpy types are widened: `<f4` to
/// [`NpyData::F64`], `<i4` and other integers to [`NpyData::I64`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NpyData {
    /// Floating-point numbers (`<f8`, `<f4`).
    F64(Vec<f64>),
    /// Integers (`<i8`, `<i4`, `<i2`, `|i1`, `|u1`, `<u2`, `<u4`, `<u8` when it fits).
    I64(Vec<i64>),
    /// Booleans (`|b1`).
    Bool(Vec<bool>),
    /// Unicode strings (`<U{n}`, trailing NULs removed as numpy does).
    Str(Vec<String>),
}

impl NpyData {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            NpyData::F64(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::Bool(v) => v.len(),
            NpyData::Str(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numbers, if these are [`NpyData::F64`].
    pub fn as_f64(&self) -> Option<&[f64]> {
        match self {
            NpyData::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The integers, if these are [`NpyData::I64`].
    pub fn as_i64(&self) -> Option<&[i64]> {
        match self {
            NpyData::I64(v) => Some(v),
            _ => None,
        }
    }

    /// The booleans, if these are [`NpyData::Bool`].
    pub fn as_bool(&self) -> Option<&[bool]> {
        match self {
            NpyData::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The strings, if these are [`NpyData::Str`].
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            NpyData::Str(v) => Some(v),
            _ => None,
        }
    }
}

impl NpyArray {
    /// An array of `shape` holding `data`; an [`ErrorKind::Serialization`] error if the
    /// number of elements is not the product of the shape.
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self> {
        let expected = element_count(&shape)?;
        if expected != data.len() {
            return Err(serialization_error(format!(
                "an array of shape {} has {expected} elements, but {} were given",
                python_shape(&shape),
                data.len()
            )));
        }
        Ok(NpyArray { shape, data })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Encodes the array in `.npy` format, as `np.save` does (`<f8`, `<i8`, `|b1` or
    /// `<U{n}`); an [`ErrorKind::Serialization`] error if the shape does not match the data.
    pub fn to_npy(&self) -> Result<Vec<u8>> {
        let expected = element_count(&self.shape)?;
        if expected != self.data.len() {
            return Err(serialization_error(format!(
                "cannot write NPY: shape {} needs {expected} elements, but the array has {}",
                python_shape(&self.shape),
                self.data.len()
            )));
        }
        Ok(match &self.data {
            NpyData::F64(values) => write_npy_f64(&self.shape, values),
            NpyData::I64(values) => {
                let mut out = npy_header("<i8", &self.shape);
                values
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
                out
            }
            NpyData::Bool(values) => {
                let mut out = npy_header("|b1", &self.shape);
                out.extend(values.iter().map(|&v| u8::from(v)));
                out
            }
            NpyData::Str(values) => write_npy_unicode(&self.shape, values),
        })
    }
}

fn element_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            serialization_error(format!(
                "the shape {} has more elements than fit in memory",
                python_shape(shape)
            ))
        })
}

/// A shape as Python writes a tuple: `()`, `(2,)`, `(2, 3)`.
fn python_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// The magic, version, header length and header of an `.npy` file, byte for byte as
/// `np.save` writes them (numpy ≥ 1.24: growth room for the first axis, data aligned to 64
/// bytes, version 1.0 unless the header needs more than 65535 bytes).
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        python_shape(shape)
    );
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            NPY_GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    let with_newline = dict.len() + 1;
    // Like numpy, pad with at least one space (64 when already aligned) so that the data
    // starts at a multiple of 64 bytes.
    let padding_after = |prefix_len: usize| NPY_ALIGN - ((prefix_len + with_newline) % NPY_ALIGN);
    let mut out = Vec::with_capacity(with_newline + 2 * NPY_ALIGN);
    out.extend_from_slice(NPY_MAGIC);
    // Version 1.0 (u16 header length) unless the header is too long for it, then 2.0 (u32).
    let padding = padding_after(NPY_MAGIC.len() + 4);
    let padding = match u16::try_from(with_newline + padding) {
        Ok(header_len) => {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&header_len.to_le_bytes());
            padding
        }
        Err(_) => {
            let padding = padding_after(NPY_MAGIC.len() + 6);
            let header_len = u32::try_from(with_newline + padding).unwrap_or(u32::MAX);
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&header_len.to_le_bytes());
            padding
        }
    };
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    out
}

/// Encodes `data` as an `.npy` file of `<f8` values with `shape`, byte for byte as
/// `np.save(buf, np.array(...).reshape(shape))` writes it.
///
/// # Panics
///
/// If `data.len()` is not the product of `shape`.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, NumpyDeserializer, write_npy_f64};
///
/// let bytes = write_npy_f64(&[2, 1], &[0.25, 0.75]);
/// let array = NumpyDeserializer::new().deserialize(&bytes, Some("application/x-npy"))?;
/// assert_eq!(array.shape, [2, 1]);
/// assert_eq!(array.data.as_f64(), Some(&[0.25, 0.75][..]));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub fn write_npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    assert!(
        expected == Some(data.len()),
        "write_npy_f64: shape {} does not hold {} values",
        python_shape(shape),
        data.len()
    );
    let mut out = npy_header("<f8", shape);
    out.reserve(data.len() * 8);
    for value in data {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// Encodes `values` as a 1-D `.npy` file of unicode strings, byte for byte as
/// `np.save(buf, np.array(values))` writes it: dtype `<U{n}` with `n` the longest string's
/// number of characters (at least 1), each string as UTF-32LE code units padded with zeros.
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, NumpyDeserializer, write_npy_strings};
///
/// let labels = vec!["setosa".to_owned(), "virginica".to_owned()];
/// let bytes = write_npy_strings(&labels);
/// let array = NumpyDeserializer::new().deserialize(&bytes, None)?;
/// assert_eq!(array.data.as_strings(), Some(&labels[..]));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
pub fn write_npy_strings(values: &[String]) -> Vec<u8> {
    write_npy_unicode(&[values.len()], values)
}

fn write_npy_unicode(shape: &[usize], values: &[String]) -> Vec<u8> {
    let width = values
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = npy_header(&format!("<U{width}"), shape);
    out.reserve(values.len() * width * 4);
    for value in values {
        let mut count = 0;
        for c in value.chars() {
            out.extend_from_slice(&u32::from(c).to_le_bytes());
            count += 1;
        }
        out.extend(std::iter::repeat_n(0u8, (width - count) * 4));
    }
    out
}

/// Encodes numbers and strings in NumPy's `.npy` format (`application/x-npy`), byte for
/// byte as the Python SDK's `NumpySerializer` (`np.save`) does.
///
/// * one row (`[f64]`, `Vec<f64>`, `Array1<f64>`) → `<f8`, shape `(n,)`;
/// * rows (`[Vec<f64>]`, `Vec<Vec<f64>>`, `Array2<f64>`, `ArrayView2<f64>`) → `<f8`, shape
///   `(r, c)`; rows of different lengths are an [`ErrorKind::Serialization`] error naming
///   the row;
/// * strings (`[String]`, `Vec<String>`) → `<U{n}`, shape `(n,)`;
/// * an [`NpyArray`] → its own shape and dtype.
///
/// As in Python, an input with no elements at all is an error.
///
/// ```
/// use sagemaker_predictor::codecs::{NumpySerializer, Serializer};
///
/// let npy = NumpySerializer::new();
/// assert_eq!(npy.content_type(), "application/x-npy");
/// let bytes = npy.serialize(&vec![vec![5.1, 3.5], vec![6.7, 3.1]])?;
/// assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
/// assert_eq!(bytes.len(), 128 + 4 * 8);
///
/// let err = npy.serialize(&vec![vec![1.0, 2.0], vec![3.0]]).unwrap_err();
/// assert!(err.message().contains("row 1"), "{err}");
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumpySerializer;

impl NumpySerializer {
    /// An NPY serializer (`application/x-npy`).
    pub const fn new() -> Self {
        NumpySerializer
    }

    /// The Content-Type it sends, `application/x-npy` (also
    /// [`Serializer::content_type`], which needs the input type named).
    pub const fn content_type(&self) -> &'static str {
        media_types::NPY
    }
}

fn non_empty(count: usize) -> Result<()> {
    if count == 0 {
        Err(serialization_error(
            "cannot serialize an empty array as NPY (it has no elements)",
        ))
    } else {
        Ok(())
    }
}

fn npy_rows<'a>(rows: impl ExactSizeIterator<Item = &'a [f64]>) -> Result<Vec<u8>> {
    let nrows = rows.len();
    let mut ncols = None;
    let mut data = Vec::new();
    for (index, row) in rows.enumerate() {
        match ncols {
            None => ncols = Some(row.len()),
            Some(n) if n != row.len() => {
                return Err(serialization_error(format!(
                    "cannot serialize ragged rows as NPY: row {index} (counted from 0) has {} \
                     values but row 0 has {n}; an NPY array must be rectangular",
                    row.len()
                )));
            }
            Some(_) => {}
        }
        data.extend_from_slice(row);
    }
    non_empty(data.len())?;
    Ok(write_npy_f64(&[nrows, ncols.unwrap_or(0)], &data))
}

fn npy_one_row(values: &[f64]) -> Result<Vec<u8>> {
    non_empty(values.len())?;
    Ok(write_npy_f64(&[values.len()], values))
}

fn npy_matrix(view: &ArrayView2<'_, f64>) -> Result<Vec<u8>> {
    non_empty(view.len())?;
    let data: Vec<f64> = view.iter().copied().collect();
    Ok(write_npy_f64(&[view.nrows(), view.ncols()], &data))
}

impl Serializer<[f64]> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &[f64]) -> Result<Vec<u8>> {
        npy_one_row(data)
    }
}

impl Serializer<Vec<f64>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &Vec<f64>) -> Result<Vec<u8>> {
        npy_one_row(data)
    }
}

impl Serializer<Array1<f64>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &Array1<f64>) -> Result<Vec<u8>> {
        npy_one_row(&data.to_vec())
    }
}

impl Serializer<ArrayView1<'_, f64>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &ArrayView1<'_, f64>) -> Result<Vec<u8>> {
        npy_one_row(&data.to_vec())
    }
}

impl Serializer<[Vec<f64>]> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &[Vec<f64>]) -> Result<Vec<u8>> {
        npy_rows(data.iter().map(Vec::as_slice))
    }
}

impl Serializer<Vec<Vec<f64>>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &Vec<Vec<f64>>) -> Result<Vec<u8>> {
        npy_rows(data.iter().map(Vec::as_slice))
    }
}

impl Serializer<Array2<f64>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &Array2<f64>) -> Result<Vec<u8>> {
        npy_matrix(&data.view())
    }
}

impl Serializer<ArrayView2<'_, f64>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &ArrayView2<'_, f64>) -> Result<Vec<u8>> {
        npy_matrix(data)
    }
}

impl Serializer<[String]> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &[String]) -> Result<Vec<u8>> {
        non_empty(data.len())?;
        Ok(write_npy_strings(data))
    }
}

impl Serializer<Vec<String>> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &Vec<String>) -> Result<Vec<u8>> {
        non_empty(data.len())?;
        Ok(write_npy_strings(data))
    }
}

impl Serializer<NpyArray> for NumpySerializer {
    fn content_type(&self) -> &str {
        media_types::NPY
    }
    fn serialize(&self, data: &NpyArray) -> Result<Vec<u8>> {
        non_empty(data.len())?;
        data.to_npy()
    }
}

/// Decodes a response into an [`NpyArray`], like the Python SDK's `NumpyDeserializer`
/// (accepts `application/x-npy`). It reads the format the response's Content-Type names:
///
/// * `application/x-npy` (or no Content-Type): an `.npy` file, format version 1.0, 2.0 or
///   3.0, C order, dtype `f8`, `f4`, `i8`, `i4`, `i2`, `i1`, `u1`, `u2`, `u4`, `u8`, `b1` or
///   `U{n}`, little- or big-endian;
/// * `application/json`: a (nested) list of numbers, strings or booleans, as
///   `np.array(json.load(...))` reads it — integers give [`NpyData::I64`], any other number
///   [`NpyData::F64`], and nested lists must be rectangular;
/// * `text/csv`: numbers as `np.genfromtxt(..., delimiter=",")` reads them: an empty field is
///   NaN, blank lines are skipped, and axes of length 1 are dropped (one row gives shape
///   `(c,)`).
///
/// Anything else, and any malformed body, is an [`ErrorKind::Serialization`] error saying what
/// and where (byte offset, element index, or row and column). A Fortran-order array or an
/// unsupported dtype is [`ErrorKind::Unsupported`].
///
/// ```
/// use sagemaker_predictor::codecs::{Deserializer, NpyData, NumpyDeserializer};
///
/// let numpy = NumpyDeserializer::new();
/// assert_eq!(numpy.accept(), "application/x-npy");
/// let array = numpy.deserialize(b"[[1.5, 2], [3, 4]]", Some("application/json"))?;
/// assert_eq!(array.shape, [2, 2]);
/// assert_eq!(array.data, NpyData::F64(vec![1.5, 2.0, 3.0, 4.0]));
///
/// let labels = numpy.deserialize(br#"["setosa", "virginica"]"#, Some("application/json"))?;
/// assert_eq!(labels.data.as_strings().map(|s| s.len()), Some(2));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumpyDeserializer;

impl NumpyDeserializer {
    /// An NPY deserializer (accepts `application/x-npy`).
    pub const fn new() -> Self {
        NumpyDeserializer
    }
}

impl Deserializer for NumpyDeserializer {
    type Output = NpyArray;

    fn accept(&self) -> &str {
        media_types::NPY
    }

    fn deserialize(&self, body: &[u8], content_type: Option<&str>) -> Result<NpyArray> {
        let media = content_type.map(media_type);
        match media.as_deref() {
            None | Some(media_types::NPY) => read_npy(body),
            Some(media_types::JSON) => npy_from_json(body),
            Some(media_types::CSV) => npy_from_csv(body),
            Some(other) => Err(serialization_error(format!(
                "NumpyDeserializer cannot read content type {other} (it reads \
                 application/x-npy, application/json and text/csv)"
            ))),
        }
    }
}

/// What an `.npy` header declares.
struct NpyHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// How the elements of an `.npy` file are laid out.
#[derive(Clone, Copy)]
enum NpyDtype {
    Float { size: usize },
    Int { size: usize },
    Uint { size: usize },
    Bool,
    Unicode { chars: usize },
}

impl NpyDtype {
    fn item_size(self) -> Option<usize> {
        match self {
            NpyDtype::Float { size } | NpyDtype::Int { size } | NpyDtype::Uint { size } => {
                Some(size)
            }
            NpyDtype::Bool => Some(1),
            NpyDtype::Unicode { chars } => chars.checked_mul(4),
        }
    }
}

fn parse_descr(descr: &str) -> Result<(NpyDtype, bool)> {
    let unsupported = || {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "NPY dtype '{descr}' is not supported (supported: f8, f4, i8, i4, i2, i1, u8, \
                 u4, u2, u1, b1 and U{{n}}, in '<', '>' or '|' byte order)"
            ),
        )
    };
    let mut chars = descr.chars();
    let big_endian = match chars.next() {
        Some('<' | '|') => false,
        Some('>') => true,
        Some('=') => cfg!(target_endian = "big"),
        _ => return Err(unsupported()),
    };
    let kind = chars.next().ok_or_else(unsupported)?;
    let size: usize = chars.as_str().parse().map_err(|_| unsupported())?;
    let dtype = match (kind, size) {
        ('f', 4 | 8) => NpyDtype::Float { size },
        ('i', 1 | 2 | 4 | 8) => NpyDtype::Int { size },
        ('u', 1 | 2 | 4 | 8) => NpyDtype::Uint { size },
        ('b', 1) => NpyDtype::Bool,
        ('U', chars) => NpyDtype::Unicode { chars },
        _ => return Err(unsupported()),
    };
    Ok((dtype, big_endian))
}

/// Reads an `.npy` file.
fn read_npy(body: &[u8]) -> Result<NpyArray> {
    if body.len() < NPY_MAGIC.len() || &body[..NPY_MAGIC.len()] != NPY_MAGIC {
        let start = &body[..body.len().min(NPY_MAGIC.len())];
        return Err(serialization_error(format!(
            "not an NPY file: it should start with the magic string \\x93NUMPY, but its first \
             bytes (byte offset 0) are {}",
            escape_bytes(start)
        )));
    }
    let truncated = |what: &str, needed: usize| {
        serialization_error(format!(
            "truncated NPY file: {what} needs {needed} bytes, but the body has {}",
            body.len()
        ))
    };
    let (major, minor) = match body.get(6..8) {
        Some(&[major, minor]) => (major, minor),
        _ => return Err(truncated("the format version (byte offset 6)", 8)),
    };
    let (len_size, utf8) = match major {
        1 => (2, false),
        2 => (4, false),
        3 => (4, true),
        _ => {
            return Err(serialization_error(format!(
                "unknown NPY format version {major}.{minor} at byte offset 6 (1.0, 2.0 and 3.0 \
                 are known)"
            )));
        }
    };
    let header_start = 8 + len_size;
    let len_bytes = body
        .get(8..header_start)
        .ok_or_else(|| truncated("the header length (byte offset 8)", header_start))?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let data_start = header_start + header_len;
    let header_bytes = body.get(header_start..data_start).ok_or_else(|| {
        truncated(
            &format!("the {header_len}-byte header at byte offset {header_start}"),
            data_start,
        )
    })?;
    let header = parse_npy_header(header_bytes, header_start, utf8)?;
    let (dtype, big_endian) = parse_descr(&header.descr)?;
    if header.fortran_order && header.shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "Fortran-order NPY arrays are not supported (shape {}); save the array in C \
                 order (np.ascontiguousarray)",
                python_shape(&header.shape)
            ),
        ));
    }
    let count = element_count(&header.shape)?;
    let item_size = dtype
        .item_size()
        .ok_or_else(|| serialization_error(format!("NPY dtype '{}' is too large", header.descr)))?;
    let data_len = count.checked_mul(item_size).ok_or_else(|| {
        serialization_error(format!(
            "the NPY shape {} with dtype '{}' is too large",
            python_shape(&header.shape),
            header.descr
        ))
    })?;
    let available = body.len() - data_start;
    if available < data_len {
        return Err(serialization_error(format!(
            "truncated NPY data: shape {} of '{}' needs {data_len} bytes from byte offset \
             {data_start}, but only {available} are present",
            python_shape(&header.shape),
            header.descr
        )));
    }
    if available > data_len {
        return Err(serialization_error(format!(
            "malformed NPY file: {} unexpected bytes after the array data, at byte offset {}",
            available - data_len,
            data_start + data_len
        )));
    }
    let data = &body[data_start..];
    let chunks = || data.chunks_exact(item_size.max(1)).take(count);
    let bytes8 = |chunk: &[u8]| -> [u8; 8] {
        // Widen to 8 bytes, keeping the value: sign-extension is done by the caller.
        let mut buf = [0u8; 8];
        if big_endian {
            buf[8 - chunk.len()..].copy_from_slice(chunk);
        } else {
            buf[..chunk.len()].copy_from_slice(chunk);
        }
        buf
    };
    let to_u64 = |chunk: &[u8]| {
        let buf = bytes8(chunk);
        if big_endian {
            u64::from_be_bytes(buf)
        } else {
            u64::from_le_bytes(buf)
        }
    };
    let data = match dtype {
        NpyDtype::Float { size: 8 } => {
            NpyData::F64(chunks().map(|c| f64::from_bits(to_u64(c))).collect())
        }
        NpyDtype::Float { .. } => NpyData::F64(
            chunks()
                .map(|c| {
                    let bits = u32::try_from(to_u64(c)).unwrap_or_default();
                    f64::from(f32::from_bits(bits))
                })
                .collect(),
        ),
        NpyDtype::Int { size } => {
            let shift = 64 - 8 * size as u32;
            NpyData::I64(
                chunks()
                    .map(|c| ((to_u64(c) << shift) as i64) >> shift)
                    .collect(),
            )
        }
        NpyDtype::Uint { .. } => {
            let mut values = Vec::with_capacity(count);
            for (index, chunk) in chunks().enumerate() {
                let value = to_u64(chunk);
                let value = i64::try_from(value).map_err(|_| {
                    serialization_error(format!(
                        "NPY element {index} ({value}, at byte offset {}) does not fit in an i64",
                        data_start + index * item_size
                    ))
                })?;
                values.push(value);
            }
            NpyData::I64(values)
        }
        NpyDtype::Bool => NpyData::Bool(data.iter().map(|&b| b != 0).collect()),
        NpyDtype::Unicode { chars } => {
            let mut values = Vec::with_capacity(count);
            for index in 0..count {
                let start = index * item_size;
                let mut text = String::with_capacity(chars);
                for (position, unit) in data[start..start + item_size].chunks_exact(4).enumerate() {
                    let unit: [u8; 4] = [unit[0], unit[1], unit[2], unit[3]];
                    let code = if big_endian {
                        u32::from_be_bytes(unit)
                    } else {
                        u32::from_le_bytes(unit)
                    };
                    let c = char::from_u32(code).ok_or_else(|| {
                        serialization_error(format!(
                            "NPY string element {index} holds an invalid code point \
                             0x{code:08x} at byte offset {}",
                            data_start + start + position * 4
                        ))
                    })?;
                    text.push(c);
                }
                // numpy drops trailing NULs.
                let kept = text.trim_end_matches('\0').len();
                text.truncate(kept);
                values.push(text);
            }
            NpyData::Str(values)
        }
    };
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

/// `bytes` as a Rust/Python byte-string literal, for error messages.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("b\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// A Python literal, as far as `.npy` headers use them.
enum PyLiteral {
    Str(String),
    Bool(bool),
    None,
    Int(usize),
    Tuple(Vec<PyLiteral>),
    /// A list (only structured dtypes use one; its items are not kept).
    List,
    Dict(Vec<(PyLiteral, PyLiteral)>),
}

/// A parser for the Python dict literal of an `.npy` header.
struct HeaderParser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The header's byte offset in the file, for error messages.
    offset: usize,
    utf8: bool,
}

impl HeaderParser<'_> {
    fn error(&self, expected: &str) -> Error {
        let found = match self.bytes.get(self.pos) {
            Some(&b) => escape_bytes(&[b]),
            None => "the end of the header".to_owned(),
        };
        serialization_error(format!(
            "malformed NPY header at byte offset {}: expected {expected}, found {found} (header: \
             {})",
            self.offset + self.pos,
            escape_bytes(&self.bytes[..self.bytes.len().min(120)])
        ))
    }

    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<PyLiteral> {
        match self.peek() {
            Some(quote @ (b'\'' | b'"')) => {
                self.pos += 1;
                let mut raw = Vec::new();
                loop {
                    match self.bytes.get(self.pos) {
                        None => return Err(self.error("the end of a string")),
                        Some(&b) if b == quote => break,
                        Some(b'\\') => {
                            self.pos += 1;
                            match self.bytes.get(self.pos) {
                                Some(&b) => raw.push(b),
                                None => return Err(self.error("an escaped character")),
                            }
                        }
                        Some(&b) => raw.push(b),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                let text = if self.utf8 {
                    String::from_utf8_lossy(&raw).into_owned()
                } else {
                    raw.iter().map(|&b| char::from(b)).collect()
                };
                Ok(PyLiteral::Str(text))
            }
            Some(b'(') => {
                self.pos += 1;
                self.sequence(b')').map(PyLiteral::Tuple)
            }
            Some(b'[') => {
                self.pos += 1;
                self.sequence(b']').map(|_| PyLiteral::List)
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let key = self.value()?;
                    if !self.eat(b':') {
                        return Err(self.error("':'"));
                    }
                    let value = self.value()?;
                    entries.push((key, value));
                    if !self.eat(b',') {
                        if self.eat(b'}') {
                            break;
                        }
                        return Err(self.error("',' or '}'"));
                    }
                }
                Ok(PyLiteral::Dict(entries))
            }
            Some(b'0'..=b'9') => {
                let start = self.pos;
                while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let digits = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("");
                let value = digits.parse().map_err(|_| {
                    self.pos = start;
                    self.error("an integer that fits in usize")
                })?;
                // Python 2 wrote long integers with an `L` suffix.
                if self.bytes.get(self.pos) == Some(&b'L') {
                    self.pos += 1;
                }
                Ok(PyLiteral::Int(value))
            }
            Some(_) => {
                for (word, literal) in [
                    (&b"True"[..], PyLiteral::Bool(true)),
                    (b"False", PyLiteral::Bool(false)),
                    (b"None", PyLiteral::None),
                ] {
                    if self.bytes[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(literal);
                    }
                }
                Err(self.error("a Python literal"))
            }
            None => Err(self.error("a Python literal")),
        }
    }

    fn sequence(&mut self, close: u8) -> Result<Vec<PyLiteral>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            if !self.eat(b',') {
                if self.eat(close) {
                    return Ok(items);
                }
                return Err(self.error(&format!("',' or '{}'", char::from(close))));
            }
        }
    }
}

fn parse_npy_header(bytes: &[u8], offset: usize, utf8: bool) -> Result<NpyHeader> {
    let mut parser = HeaderParser {
        bytes,
        pos: 0,
        offset,
        utf8,
    };
    if parser.peek() != Some(b'{') {
        return Err(parser.error("a dict ('{')"));
    }
    let PyLiteral::Dict(entries) = parser.value()? else {
        return Err(parser.error("a dict"));
    };
    if parser.peek().is_some() {
        return Err(parser.error("the end of the header after the dict"));
    }
    let wrong = |what: &str| {
        serialization_error(format!(
            "malformed NPY header at byte offset {offset}: {what} (header: {})",
            escape_bytes(&bytes[..bytes.len().min(120)])
        ))
    };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for (key, value) in entries {
        let PyLiteral::Str(key) = key else {
            return Err(wrong("a key is not a string"));
        };
        match key.as_str() {
            "descr" => {
                descr = Some(match value {
                    PyLiteral::Str(s) => s,
                    _ => {
                        return Err(Error::new(
                            ErrorKind::Unsupported,
                            "structured NPY dtypes (a list 'descr') are not supported",
                        ));
                    }
                });
            }
            "fortran_order" => {
                fortran_order = Some(match value {
                    PyLiteral::Bool(b) => b,
                    _ => return Err(wrong("'fortran_order' is not True or False")),
                });
            }
            "shape" => {
                let PyLiteral::Tuple(dims) = value else {
                    return Err(wrong("'shape' is not a tuple"));
                };
                let dims = dims
                    .into_iter()
                    .map(|d| match d {
                        PyLiteral::Int(n) => Ok(n),
                        _ => Err(wrong("'shape' holds something other than integers")),
                    })
                    .collect::<Result<Vec<usize>>>()?;
                shape = Some(dims);
            }
            _ => {}
        }
    }
    let missing = |key: &str| wrong(&format!("the '{key}' key is missing"));
    Ok(NpyHeader {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

/// The kind of the leaves of a JSON array.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonLeaf {
    Int,
    Float,
    Str,
    Bool,
}

fn json_path(path: &[usize]) -> String {
    if path.is_empty() {
        return "the top level".to_owned();
    }
    let mut out = String::from("element ");
    for index in path {
        let _ = write!(out, "[{index}]");
    }
    out
}

fn npy_from_json(body: &[u8]) -> Result<NpyArray> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        serialization_error(format!("cannot decode the JSON response: {e}")).with_source(e)
    })?;
    // The shape follows the first element at each depth, as numpy does.
    let mut shape = Vec::new();
    let mut probe = &value;
    while let serde_json::Value::Array(items) = probe {
        shape.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut leaves = Vec::new();
    let mut path = Vec::new();
    collect_json_leaves(&value, &shape, &mut path, &mut leaves)?;

    let mut kind = None;
    for (index, (leaf, _)) in leaves.iter().enumerate() {
        let this = match leaf {
            serde_json::Value::Number(n) if n.is_i64() => JsonLeaf::Int,
            serde_json::Value::Number(_) => JsonLeaf::Float,
            serde_json::Value::String(_) => JsonLeaf::Str,
            serde_json::Value::Bool(_) => JsonLeaf::Bool,
            other => {
                return Err(serialization_error(format!(
                    "cannot read {} of the JSON response as an array element: {} is not a \
                     number, string or boolean",
                    json_path(&leaves[index].1),
                    other
                )));
            }
        };
        kind = Some(match (kind, this) {
            (None, k) => k,
            (Some(a), b) if a == b => a,
            (Some(JsonLeaf::Int | JsonLeaf::Float), JsonLeaf::Int | JsonLeaf::Float) => {
                JsonLeaf::Float
            }
            (Some(_), _) => {
                return Err(serialization_error(format!(
                    "cannot read the JSON response as an array: {} is {}, unlike the elements \
                     before it",
                    json_path(&leaves[index].1),
                    leaf
                )));
            }
        });
    }
    let data = match kind.unwrap_or(JsonLeaf::Float) {
        JsonLeaf::Int => NpyData::I64(leaves.iter().filter_map(|(v, _)| v.as_i64()).collect()),
        JsonLeaf::Float => NpyData::F64(leaves.iter().filter_map(|(v, _)| v.as_f64()).collect()),
        JsonLeaf::Str => NpyData::Str(
            leaves
                .iter()
                .filter_map(|(v, _)| v.as_str().map(str::to_owned))
                .collect(),
        ),
        JsonLeaf::Bool => NpyData::Bool(leaves.iter().filter_map(|(v, _)| v.as_bool()).collect()),
    };
    NpyArray::new(shape, data)
}

fn collect_json_leaves<'v>(
    value: &'v serde_json::Value,
    shape: &[usize],
    path: &mut Vec<usize>,
    leaves: &mut Vec<(&'v serde_json::Value, Vec<usize>)>,
) -> Result<()> {
    let depth = path.len();
    match (value, shape.get(depth)) {
        (serde_json::Value::Array(items), Some(&expected)) => {
            if items.len() != expected {
                return Err(serialization_error(format!(
                    "cannot read a ragged JSON array: {} has {} elements, but {expected} were \
                     expected (from the first element at that depth)",
                    json_path(path),
                    items.len()
                )));
            }
            for (index, item) in items.iter().enumerate() {
                path.push(index);
                collect_json_leaves(item, shape, path, leaves)?;
                path.pop();
            }
            Ok(())
        }
        (serde_json::Value::Array(_), None) => Err(serialization_error(format!(
            "cannot read a ragged JSON array: {} is a list where a value was expected",
            json_path(path)
        ))),
        (_, Some(_)) => Err(serialization_error(format!(
            "cannot read a ragged JSON array: {} is a value where a list was expected",
            json_path(path)
        ))),
        (leaf, None) => {
            leaves.push((leaf, path.clone()));
            Ok(())
        }
    }
}

fn npy_from_csv(body: &[u8]) -> Result<NpyArray> {
    let rows = parse_csv(decode_utf8(body, "the CSV response")?)?;
    let mut data = Vec::new();
    let mut nrows = 0;
    let mut ncols = None;
    // Report 1-based lines, counting the blank lines that are skipped.
    for (line, row) in rows.iter().enumerate() {
        if row.is_empty() {
            continue;
        }
        match ncols {
            None => ncols = Some(row.len()),
            Some(n) if n != row.len() => {
                return Err(serialization_error(format!(
                    "cannot read ragged CSV as an array: line {} has {} columns, but the first \
                     row has {n}",
                    line + 1,
                    row.len()
                )));
            }
            Some(_) => {}
        }
        for (column, field) in row.iter().enumerate() {
            let text = field.trim();
            let value = if text.is_empty() {
                f64::NAN
            } else {
                text.parse::<f64>().map_err(|_| {
                    serialization_error(format!(
                        "cannot read CSV as numbers: line {}, column {} holds {text:?}, which is \
                         not a number",
                        line + 1,
                        column + 1
                    ))
                })?
            };
            data.push(value);
        }
        nrows += 1;
    }
    let shape = match ncols {
        None => vec![0],
        // `np.genfromtxt` squeezes axes of length 1.
        Some(ncols) => [nrows, ncols].into_iter().filter(|&d| d != 1).collect(),
    };
    NpyArray::new(shape, NpyData::F64(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // Made with numpy 2.4.6 (`import io, numpy as np; buf = io.BytesIO()`), then each
    // statement below, and the bytes are `buf.getvalue()` (a fresh `buf` for each).
    // np.save(buf, np.array([[5.1, 3.5], [6.7, 3.1]]))
    const NPY_F64_2X2: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }                                                          \x0affffff\x14@\x00\x00\x00\x00\x00\x00\x0c@\xcd\xcc\xcc\xcc\xcc\xcc\x1a@\xcd\xcc\xcc\xcc\xcc\xcc\x08@";
    // np.save(buf, np.array([0.5, 1.5]))
    const NPY_F64_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\x00\x00\x00\x00\x00\x00\xe0?\x00\x00\x00\x00\x00\x00\xf8?";
    // np.save(buf, np.array(['setosa', 'virginica']))
    const NPY_STR_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<U9', 'fortran_order': False, 'shape': (2,), }                                                            \x0as\x00\x00\x00e\x00\x00\x00t\x00\x00\x00o\x00\x00\x00s\x00\x00\x00a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00v\x00\x00\x00i\x00\x00\x00r\x00\x00\x00g\x00\x00\x00i\x00\x00\x00n\x00\x00\x00i\x00\x00\x00c\x00\x00\x00a\x00\x00\x00";
    // np.save(buf, np.array([[1, -2], [3, 4]], dtype=np.int32))
    const NPY_I4_2X2: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }                                                          \x0a\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00\x04\x00\x00\x00";
    // np.save(buf, np.array([-7, 2**40], dtype=np.int64))
    const NPY_I8_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\xf9\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x01\x00\x00";
    // np.save(buf, np.array([0.5, -2.25], dtype=np.float32))
    const NPY_F4_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\x00\x00\x00?\x00\x00\x10\xc0";
    // np.save(buf, np.array([True, False, True]))
    const NPY_BOOL_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }                                                            \x0a\x01\x00\x01";
    // np.save(buf, np.array([1.5, -3.0], dtype='>f8'))
    const NPY_F8_BE: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a?\xf8\x00\x00\x00\x00\x00\x00\xc0\x08\x00\x00\x00\x00\x00\x00";
    // np.lib.format.write_array(buf, np.array([[1.0], [2.0]]), version=(2, 0))
    const NPY_F64_V2: &[u8] = b"\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }                                                        \x0a\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@";
    // np.save(buf, np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0]])))
    const NPY_F64_FORTRAN: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }                                                           \x0a\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x08@\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x10@";
    // np.save(buf, np.array(['é', 'ünï', '🦀']))
    const NPY_STR_UNICODE: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<U3', 'fortran_order': False, 'shape': (3,), }                                                            \x0a\xe9\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xfc\x00\x00\x00n\x00\x00\x00\xef\x00\x00\x00\x80\xf9\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";

    fn serialization_message<T: std::fmt::Debug>(result: Result<T>) -> String {
        let err = result.expect_err("expected an error");
        assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
        err.message().to_owned()
    }

    fn read(body: &[u8]) -> Result<NpyArray> {
        NumpyDeserializer::new().deserialize(body, Some("application/x-npy"))
    }

    // ----- media types --------------------------------------------------------------------

    #[test]
    fn media_types_match_the_python_sdk() {
        assert_eq!(CsvSerializer::new().content_type(), "text/csv");
        assert_eq!(JsonSerializer::new().content_type(), "application/json");
        assert_eq!(
            JsonLinesSerializer::new().content_type(),
            "application/jsonlines"
        );
        assert_eq!(NumpySerializer::new().content_type(), "application/x-npy");
        assert_eq!(
            IdentitySerializer::default().content_type(),
            "application/octet-stream"
        );
        assert_eq!(
            Serializer::<[f64]>::content_type(&CsvSerializer::new()),
            "text/csv"
        );
        assert_eq!(
            Serializer::<[u8]>::content_type(&IdentitySerializer::new("image/png")),
            "image/png"
        );
        assert_eq!(BytesDeserializer::new().accept(), "*/*");
        assert_eq!(StringDeserializer::new().accept(), "application/json");
        assert_eq!(CsvDeserializer::new().accept(), "text/csv");
        assert_eq!(JsonDeserializer::new().accept(), "application/json");
        assert_eq!(
            JsonLinesDeserializer::new().accept(),
            "application/jsonlines"
        );
        assert_eq!(NumpyDeserializer::new().accept(), "application/x-npy");
    }

    #[test]
    fn pointers_and_trait_objects_forward() {
        let boxed: Box<dyn Serializer<[f64]>> = Box::new(CsvSerializer::new());
        assert_eq!(boxed.content_type(), "text/csv");
        assert_eq!(boxed.serialize(&[1.5, 2.0]).unwrap(), b"1.5,2.0");
        let shared: Arc<dyn Deserializer<Output = String>> = Arc::new(StringDeserializer::new());
        assert_eq!(shared.deserialize(b"ok", None).unwrap(), "ok");
        let by_ref = &JsonSerializer::new();
        assert_eq!(
            Serializer::<[u8; 2]>::serialize(&by_ref, &[1, 2]).unwrap(),
            b"[1,2]"
        );
    }

    // ----- CSV ----------------------------------------------------------------------------

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

    // ----- JSON ---------------------------------------------------------------------------

    #[test]
    fn json_exact_bytes() {
        let json = JsonSerializer::new();
        let rows = vec![vec![5.1, 3.5], vec![6.7, 3.1]];
        assert_eq!(json.serialize(&rows).unwrap(), b"[[5.1,3.5],[6.7,3.1]]");
        assert_eq!(json.serialize(&rows[..]).unwrap(), b"[[5.1,3.5],[6.7,3.1]]");
        assert_eq!(json.serialize(&[5.1, 3.5][..]).unwrap(), b"[5.1,3.5]");
        let matrix = array![[5.1, 3.5], [6.7, 3.1]];
        assert_eq!(
            json.serialize(&ArrayRows::from(&matrix)).unwrap(),
            b"[[5.1,3.5],[6.7,3.1]]"
        );
        assert_eq!(
            json.serialize(&ArrayRows(matrix.t())).unwrap(),
            b"[[5.1,6.7],[3.5,3.1]]"
        );
        assert_eq!(json.serialize("text").unwrap(), b"\"text\"");
        assert_eq!(json.serialize(&[1.0, f64::NAN][..]).unwrap(), b"[1.0,null]");
    }

    #[test]
    fn json_round_trip() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Request {
            instances: Vec<Vec<f64>>,
            label: String,
        }
        let request = Request {
            instances: vec![vec![5.1, 3.5], vec![6.7, 3.1]],
            label: "é \"quoted\"".to_owned(),
        };
        let body = JsonSerializer::new().serialize(&request).unwrap();
        let back = JsonDeserializer::<Request>::typed()
            .deserialize(&body, Some("application/json"))
            .unwrap();
        assert_eq!(back, request);
        let value = JsonDeserializer::new().deserialize(&body, None).unwrap();
        assert_eq!(value["instances"][1][0], 6.7);
        let matrix = array![[0.5, -1.0], [2.0, 1e-9]];
        let body = JsonSerializer::new()
            .serialize(&ArrayRows::from(&matrix))
            .unwrap();
        let rows = JsonDeserializer::<Vec<Vec<f64>>>::typed()
            .deserialize(&body, None)
            .unwrap();
        assert_eq!(rows, [[0.5, -1.0], [2.0, 1e-9]]);
    }

    #[test]
    fn json_deserializer_errors_say_where() {
        let message = serialization_message(
            JsonDeserializer::new().deserialize(b"{\"a\": [1,\n 2,, 3]}", None),
        );
        assert!(message.contains("line 2 column 4"), "{message}");
        let message = serialization_message(
            JsonDeserializer::<Vec<u32>>::typed().deserialize(b"[1, -2]", None),
        );
        assert!(message.contains("line 1 column"), "{message}");
        serialization_message(JsonDeserializer::new().deserialize(b"", None));
    }

    #[test]
    fn json_lines_exact_bytes_and_round_trip() {
        let jsonl = JsonLinesSerializer::new();
        let rows = vec![vec![5.1, 3.5], vec![6.7, 3.1]];
        assert_eq!(jsonl.serialize(&rows).unwrap(), b"[5.1,3.5]\n[6.7,3.1]");
        assert_eq!(jsonl.serialize(&rows[..]).unwrap(), b"[5.1,3.5]\n[6.7,3.1]");
        let matrix = array![[5.1, 3.5], [6.7, 3.1]];
        assert_eq!(
            jsonl.serialize(&ArrayRows::from(&matrix)).unwrap(),
            b"[5.1,3.5]\n[6.7,3.1]"
        );
        assert_eq!(jsonl.serialize("{}\n{}").unwrap(), b"{}\n{}");
        assert_eq!(jsonl.serialize(&Vec::<u8>::new()).unwrap(), b"");
        let records = vec![
            serde_json::json!({"text": "line\nbreak"}),
            serde_json::json!([1, 2]),
        ];
        let body = jsonl.serialize(&records).unwrap();
        assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 1);
        let back = JsonLinesDeserializer::new()
            .deserialize(&body, Some("application/jsonlines"))
            .unwrap();
        assert_eq!(back, records);
        let typed = JsonLinesDeserializer::<Vec<f64>>::typed()
            .deserialize(b"[5.1,3.5]\r\n\n[6.7,3.1]\n", None)
            .unwrap();
        assert_eq!(typed, rows);
        assert!(
            JsonLinesDeserializer::new()
                .deserialize(b"", None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn json_lines_errors_name_the_line() {
        let message = serialization_message(
            JsonLinesDeserializer::new().deserialize(b"{\"a\":1}\n\n{\"a\":}\n", None),
        );
        assert!(message.contains("line 3"), "{message}");
    }

    // ----- identity, bytes, strings ------------------------------------------------------

    #[test]
    fn identity_bytes_and_string_round_trips() {
        let identity = IdentitySerializer::new("application/x-image");
        let raw = vec![0u8, 159, 146, 150];
        assert_eq!(identity.serialize(&raw).unwrap(), raw);
        assert_eq!(identity.serialize(&raw[..]).unwrap(), raw);
        assert_eq!(identity.serialize("héllo").unwrap(), "héllo".as_bytes());
        assert_eq!(identity.serialize(&"x".to_owned()).unwrap(), b"x");
        let body = identity.serialize(&raw).unwrap();
        assert_eq!(
            BytesDeserializer::new().deserialize(&body, None).unwrap(),
            raw
        );
        let body = identity.serialize("héllo").unwrap();
        assert_eq!(
            StringDeserializer::new().deserialize(&body, None).unwrap(),
            "héllo"
        );
    }

    #[test]
    fn string_deserializer_rejects_invalid_utf8() {
        let message =
            serialization_message(StringDeserializer::new().deserialize(b"abc\xc3\x28", None));
        assert!(message.contains("byte offset 3"), "{message}");
    }

    // ----- NPY writing --------------------------------------------------------------------

    #[test]
    fn npy_writer_matches_numpy_byte_for_byte() {
        let npy = NumpySerializer::new();
        let rows = vec![vec![5.1, 3.5], vec![6.7, 3.1]];
        assert_eq!(npy.serialize(&rows).unwrap(), NPY_F64_2X2);
        assert_eq!(npy.serialize(&rows[..]).unwrap(), NPY_F64_2X2);
        let matrix = array![[5.1, 3.5], [6.7, 3.1]];
        assert_eq!(npy.serialize(&matrix).unwrap(), NPY_F64_2X2);
        assert_eq!(npy.serialize(&matrix.view()).unwrap(), NPY_F64_2X2);
        assert_eq!(write_npy_f64(&[2, 2], &[5.1, 3.5, 6.7, 3.1]), NPY_F64_2X2);

        assert_eq!(npy.serialize(&[0.5, 1.5][..]).unwrap(), NPY_F64_1D);
        assert_eq!(npy.serialize(&vec![0.5, 1.5]).unwrap(), NPY_F64_1D);
        assert_eq!(npy.serialize(&array![0.5, 1.5]).unwrap(), NPY_F64_1D);
        assert_eq!(write_npy_f64(&[2], &[0.5, 1.5]), NPY_F64_1D);

        let labels = vec!["setosa".to_owned(), "virginica".to_owned()];
        assert_eq!(write_npy_strings(&labels), NPY_STR_1D);
        assert_eq!(npy.serialize(&labels).unwrap(), NPY_STR_1D);
        assert_eq!(npy.serialize(&labels[..]).unwrap(), NPY_STR_1D);
        let unicode: Vec<String> = ["é", "ünï", "🦀"].map(str::to_owned).to_vec();
        assert_eq!(write_npy_strings(&unicode), NPY_STR_UNICODE);

        // Data always starts at a multiple of 64 bytes, whatever the header's length.
        let shapes: [&[usize]; 5] = [&[], &[3], &[1, 2, 3], &[0, 123_456_789_012], &[6, 1]];
        for shape in shapes {
            let count = shape.iter().product::<usize>();
            let bytes = write_npy_f64(shape, &vec![1.0; count]);
            assert_eq!((bytes.len() - count * 8) % 64, 0, "{shape:?}");
            assert_eq!(read(&bytes).unwrap().shape, shape);
        }
    }

    #[test]
    fn npy_writer_errors() {
        let npy = NumpySerializer::new();
        let message = serialization_message(npy.serialize(&vec![vec![1.0, 2.0], vec![3.0]]));
        assert!(message.contains("row 1"), "{message}");
        assert!(message.contains("ragged"), "{message}");
        let message = serialization_message(npy.serialize(&Vec::<f64>::new()));
        assert!(message.contains("empty"), "{message}");
        serialization_message(npy.serialize(&Vec::<Vec<f64>>::new()));
        serialization_message(npy.serialize(&Vec::<String>::new()));
        let message = serialization_message(NpyArray::new(vec![2, 2], NpyData::F64(vec![1.0])));
        assert!(message.contains("(2, 2)"), "{message}");
    }

    #[test]
    #[should_panic(expected = "does not hold 3 values")]
    fn write_npy_f64_panics_on_a_wrong_shape() {
        let _ = write_npy_f64(&[2, 2], &[1.0, 2.0, 3.0]);
    }

    // ----- NPY reading --------------------------------------------------------------------

    #[test]
    fn npy_reader_decodes_numpy_output() {
        let array = read(NPY_F64_2X2).unwrap();
        assert_eq!(array.shape, [2, 2]);
        assert_eq!(array.data, NpyData::F64(vec![5.1, 3.5, 6.7, 3.1]));
        let array = read(NPY_F64_1D).unwrap();
        assert_eq!(array.shape, [2]);
        assert_eq!(array.data, NpyData::F64(vec![0.5, 1.5]));
        let array = read(NPY_STR_1D).unwrap();
        assert_eq!(array.shape, [2]);
        assert_eq!(
            array.data,
            NpyData::Str(vec!["setosa".to_owned(), "virginica".to_owned()])
        );
        let array = read(NPY_STR_UNICODE).unwrap();
        assert_eq!(array.data.as_strings().unwrap(), ["é", "ünï", "🦀"]);
    }

    #[test]
    fn npy_reader_decodes_other_dtypes_and_versions() {
        let array = read(NPY_I4_2X2).unwrap();
        assert_eq!(array.shape, [2, 2]);
        assert_eq!(array.data, NpyData::I64(vec![1, -2, 3, 4]));
        assert_eq!(
            read(NPY_I8_1D).unwrap().data,
            NpyData::I64(vec![-7, 1 << 40])
        );
        assert_eq!(
            read(NPY_F4_1D).unwrap().data,
            NpyData::F64(vec![0.5, -2.25])
        );
        assert_eq!(
            read(NPY_BOOL_1D).unwrap().data,
            NpyData::Bool(vec![true, false, true])
        );
        assert_eq!(read(NPY_F8_BE).unwrap().data, NpyData::F64(vec![1.5, -3.0]));
        let array = read(NPY_F64_V2).unwrap();
        assert_eq!(array.shape, [2, 1]);
        assert_eq!(array.data, NpyData::F64(vec![1.0, 2.0]));
        // Without a Content-Type, the body is read as NPY.
        let array = NumpyDeserializer::new()
            .deserialize(NPY_F64_1D, None)
            .unwrap();
        assert_eq!(array.shape, [2]);
    }

    #[test]
    fn npy_array_round_trips() {
        let arrays = [
            NpyArray::new(
                vec![2, 3],
                NpyData::F64(vec![0.5, -1.0, 2.0, 1e300, -0.0, 3.25]),
            ),
            NpyArray::new(vec![3], NpyData::I64(vec![i64::MIN, 0, i64::MAX])),
            NpyArray::new(vec![1, 2], NpyData::Bool(vec![false, true])),
            NpyArray::new(
                vec![2, 1],
                NpyData::Str(vec!["a\0b".to_owned(), String::new()]),
            ),
            NpyArray::new(vec![], NpyData::F64(vec![42.0])),
            NpyArray::new(vec![0, 4], NpyData::F64(vec![])),
        ];
        for array in arrays {
            let array = array.unwrap();
            let bytes = array.to_npy().unwrap();
            assert_eq!(read(&bytes).unwrap(), array);
            if !array.is_empty() {
                assert_eq!(NumpySerializer::new().serialize(&array).unwrap(), bytes);
            }
        }
        let strings = write_npy_strings(&[]);
        assert_eq!(read(&strings).unwrap().data, NpyData::Str(vec![]));
    }

    #[test]
    fn npy_reader_rejects_bad_magic() {
        let message = serialization_message(read(b"PK\x03\x04 a zip file"));
        assert!(message.contains("not an NPY file"), "{message}");
        assert!(message.contains("byte offset 0"), "{message}");
        assert!(message.contains("PK\\x03\\x04"), "{message}");
        serialization_message(read(b""));
        serialization_message(read(b"\x93NUM"));
    }

    #[test]
    fn npy_reader_rejects_truncated_files() {
        let message = serialization_message(read(&NPY_F64_2X2[..NPY_F64_2X2.len() - 3]));
        assert!(message.contains("truncated NPY data"), "{message}");
        assert!(message.contains("byte offset 128"), "{message}");
        assert!(message.contains("needs 32 bytes"), "{message}");
        assert!(message.contains("only 29"), "{message}");
        let message = serialization_message(read(&NPY_F64_2X2[..60]));
        assert!(message.contains("header"), "{message}");
        assert!(message.contains("byte offset 10"), "{message}");
        let message = serialization_message(read(&NPY_F64_2X2[..9]));
        assert!(message.contains("header length"), "{message}");
        let message = serialization_message(read(&NPY_F64_2X2[..7]));
        assert!(message.contains("version"), "{message}");
        let mut extra = NPY_F64_1D.to_vec();
        extra.extend_from_slice(b"junk");
        let message = serialization_message(read(&extra));
        assert!(message.contains("4 unexpected bytes"), "{message}");
        assert!(message.contains("byte offset 144"), "{message}");
    }

    /// `NPY_F64_1D` with its header replaced by `header` (same length, space padded).
    fn with_header(header: &str) -> Vec<u8> {
        let mut bytes = NPY_F64_1D.to_vec();
        let padded = format!("{header:<117}\n");
        assert_eq!(padded.len(), 118);
        bytes[10..128].copy_from_slice(padded.as_bytes());
        bytes
    }

    #[test]
    fn npy_reader_rejects_wrong_headers() {
        assert!(
            read(&with_header(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
            ))
            .is_ok()
        );
        let cases = [
            (
                "'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
                "expected a dict",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False}",
                "'shape' key is missing",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,) 'x': 1}",
                "',' or '}'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
                "'fortran_order'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}",
                "a Python literal",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [2]}",
                "'shape' is not a tuple",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                "truncated NPY data",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                "unexpected bytes",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} extra",
                "end of the header",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ",
                "a Python literal",
            ),
        ];
        for (header, expected) in cases {
            let message = serialization_message(read(&with_header(header)));
            assert!(message.contains(expected), "{header}: {message}");
            assert!(message.contains("byte offset"), "{header}: {message}");
        }
        let mut bad_version = NPY_F64_1D.to_vec();
        bad_version[6] = 9;
        let message = serialization_message(read(&bad_version));
        assert!(message.contains("version 9.0"), "{message}");
    }

    #[test]
    fn npy_reader_reports_unsupported_layouts_and_dtypes() {
        let err = read(NPY_F64_FORTRAN).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("Fortran"), "{err}");
        // A 1-D array is the same in either order.
        let one_d = with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }");
        assert_eq!(read(&one_d).unwrap().data, NpyData::F64(vec![0.5, 1.5]));
        for descr in ["<c16", "|O", "<M8[ns]", "<f2", "<x8"] {
            let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}");
            let err = read(&with_header(&header)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{descr}: {err}");
            assert!(err.message().contains(descr), "{err}");
        }
        let structured = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }";
        let err = read(&with_header(structured)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    }

    #[test]
    fn npy_reader_rejects_invalid_code_points() {
        let mut bytes = NPY_STR_1D.to_vec();
        bytes[128 + 4..128 + 8].copy_from_slice(&0xD800u32.to_le_bytes());
        let message = serialization_message(read(&bytes));
        assert!(message.contains("element 0"), "{message}");
        assert!(message.contains("byte offset 132"), "{message}");
    }

    // ----- NumpyDeserializer with JSON and CSV -------------------------------------------

    #[test]
    fn numpy_deserializer_reads_json() {
        let numpy = NumpyDeserializer::new();
        let array = numpy
            .deserialize(
                b"[[1, 2.5], [3, 4]]",
                Some("application/json; charset=utf-8"),
            )
            .unwrap();
        assert_eq!(array.shape, [2, 2]);
        assert_eq!(array.data, NpyData::F64(vec![1.0, 2.5, 3.0, 4.0]));
        let array = numpy
            .deserialize(b"[[1, 2], [3, 4]]", Some("Application/JSON"))
            .unwrap();
        assert_eq!(array.data, NpyData::I64(vec![1, 2, 3, 4]));
        let array = numpy
            .deserialize(br#"["setosa", "virginica"]"#, Some("application/json"))
            .unwrap();
        assert_eq!(array.shape, [2]);
        assert_eq!(array.data.as_strings().unwrap(), ["setosa", "virginica"]);
        let array = numpy
            .deserialize(b"[true, false]", Some("application/json"))
            .unwrap();
        assert_eq!(array.data, NpyData::Bool(vec![true, false]));
        let array = numpy.deserialize(b"7.5", Some("application/json")).unwrap();
        assert!(array.shape.is_empty());
        assert_eq!(array.data, NpyData::F64(vec![7.5]));
        let array = numpy.deserialize(b"[]", Some("application/json")).unwrap();
        assert_eq!(array.shape, [0]);
        assert_eq!(array.data, NpyData::F64(vec![]));
        // A JSON body written by the JSON serializer round-trips.
        let body = JsonSerializer::new()
            .serialize(&vec![vec![5.1, 3.5], vec![6.7, 3.1]])
            .unwrap();
        let array = numpy.deserialize(&body, Some("application/json")).unwrap();
        assert_eq!(array, read(NPY_F64_2X2).unwrap());
    }

    #[test]
    fn numpy_deserializer_json_errors() {
        let numpy = NumpyDeserializer::new();
        let json = Some("application/json");
        let message = serialization_message(numpy.deserialize(b"[[1, 2], [3]]", json));
        assert!(message.contains("element [1] has 1 elements"), "{message}");
        let message = serialization_message(numpy.deserialize(b"[[1, 2], 3]", json));
        assert!(message.contains("element [1] is a value"), "{message}");
        let message = serialization_message(numpy.deserialize(b"[1, [2]]", json));
        assert!(message.contains("element [1] is a list"), "{message}");
        let message = serialization_message(numpy.deserialize(br#"[1, "a"]"#, json));
        assert!(message.contains("element [1]"), "{message}");
        let message = serialization_message(numpy.deserialize(br#"[{"a": 1}]"#, json));
        assert!(message.contains("element [0]"), "{message}");
        let message = serialization_message(numpy.deserialize(b"[1, null]", json));
        assert!(message.contains("null"), "{message}");
        let message = serialization_message(numpy.deserialize(b"[1,", json));
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn numpy_deserializer_reads_csv_like_genfromtxt() {
        let numpy = NumpyDeserializer::new();
        let csv = Some("text/csv");
        // np.genfromtxt(["1,,3", "2,3,4"], delimiter=",") -> [[1, nan, 3], [2, 3, 4]]
        let array = numpy.deserialize(b"1,,3\n\n2,3,4\n", csv).unwrap();
        assert_eq!(array.shape, [2, 3]);
        let values = array.data.as_f64().unwrap();
        assert!(values[1].is_nan());
        assert_eq!(values[3..], [2.0, 3.0, 4.0]);
        // One row gives a 1-D array, one value a 0-D array.
        assert_eq!(numpy.deserialize(b"1,2,3", csv).unwrap().shape, [3]);
        assert_eq!(numpy.deserialize(b"1\n2\n", csv).unwrap().shape, [2]);
        assert!(numpy.deserialize(b"1", csv).unwrap().shape.is_empty());
        let message = serialization_message(numpy.deserialize(b"1,2\n3,x\n", csv));
        assert!(message.contains("line 2, column 2"), "{message}");
        let message = serialization_message(numpy.deserialize(b"1,2\n3\n", csv));
        assert!(message.contains("line 2 has 1 columns"), "{message}");
    }

    #[test]
    fn numpy_deserializer_rejects_other_content_types() {
        let message = serialization_message(
            NumpyDeserializer::new().deserialize(NPY_F64_1D, Some("application/x-npz")),
        );
        assert!(
            message.contains("cannot read content type application/x-npz"),
            "{message}"
        );
    }
}
