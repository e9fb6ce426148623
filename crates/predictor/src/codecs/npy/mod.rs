//! NumPy's `.npy` format (`application/x-npy`): the [`NpyArray`] value, the writer
//! ([`NumpySerializer`], [`write_npy_f64`], [`write_npy_strings`]) and [`NumpyDeserializer`],
//! which reads `.npy` files ([`read`]) and JSON or CSV bodies ([`text`]).

mod read;
mod text;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use sagemaker_core::Result;

use super::{Deserializer, Serializer, media_type, media_types, serialization_error};
use read::read_npy;
use text::{npy_from_csv, npy_from_json};
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
    /// An array of `shape` holding `data`; an [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error if the
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
    /// `<U{n}`); an [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error if the shape does not match the data.
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
///   `(r, c)`; rows of different lengths are an [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error naming
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

serializers!(NumpySerializer, media_types::NPY;
    [f64] => |data| npy_one_row(data),
    Vec<f64> => |data| npy_one_row(data),
    Array1<f64> => |data| npy_one_row(&data.to_vec()),
    ArrayView1<'_, f64> => |data| npy_one_row(&data.to_vec()),
    [Vec<f64>] => |data| npy_rows(data.iter().map(Vec::as_slice)),
    Vec<Vec<f64>> => |data| npy_rows(data.iter().map(Vec::as_slice)),
    Array2<f64> => |data| npy_matrix(&data.view()),
    ArrayView2<'_, f64> => |data| npy_matrix(data),
    [String] => |data| non_empty(data.len()).map(|()| write_npy_strings(data)),
    Vec<String> => |data| non_empty(data.len()).map(|()| write_npy_strings(data)),
    NpyArray => |data| non_empty(data.len()).and_then(|()| data.to_npy()),
);

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
/// Anything else, and any malformed body, is an [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error saying what
/// and where (byte offset, element index, or row and column). A Fortran-order array or an
/// unsupported dtype is [`ErrorKind::Unsupported`](sagemaker_core::ErrorKind::Unsupported).
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

/// `.npy` files written by numpy itself, shared by the tests of the writer and the readers.
#[cfg(test)]
pub(crate) mod fixtures {
    use sagemaker_core::Result;

    use super::NpyArray;
    use crate::codecs::{Deserializer, NumpyDeserializer};

    // Made with numpy 2.4.6 (`import io, numpy as np; buf = io.BytesIO()`), then each
    // statement below, and the bytes are `buf.getvalue()` (a fresh `buf` for each).
    // np.save(buf, np.array([[5.1, 3.5], [6.7, 3.1]]))
    pub(crate) const NPY_F64_2X2: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }                                                          \x0affffff\x14@\x00\x00\x00\x00\x00\x00\x0c@\xcd\xcc\xcc\xcc\xcc\xcc\x1a@\xcd\xcc\xcc\xcc\xcc\xcc\x08@";
    // np.save(buf, np.array([0.5, 1.5]))
    pub(crate) const NPY_F64_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\x00\x00\x00\x00\x00\x00\xe0?\x00\x00\x00\x00\x00\x00\xf8?";
    // np.save(buf, np.array(['setosa', 'virginica']))
    pub(crate) const NPY_STR_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<U9', 'fortran_order': False, 'shape': (2,), }                                                            \x0as\x00\x00\x00e\x00\x00\x00t\x00\x00\x00o\x00\x00\x00s\x00\x00\x00a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00v\x00\x00\x00i\x00\x00\x00r\x00\x00\x00g\x00\x00\x00i\x00\x00\x00n\x00\x00\x00i\x00\x00\x00c\x00\x00\x00a\x00\x00\x00";
    // np.save(buf, np.array([[1, -2], [3, 4]], dtype=np.int32))
    pub(crate) const NPY_I4_2X2: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }                                                          \x0a\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00\x04\x00\x00\x00";
    // np.save(buf, np.array([-7, 2**40], dtype=np.int64))
    pub(crate) const NPY_I8_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\xf9\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x01\x00\x00";
    // np.save(buf, np.array([0.5, -2.25], dtype=np.float32))
    pub(crate) const NPY_F4_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }                                                            \x0a\x00\x00\x00?\x00\x00\x10\xc0";
    // np.save(buf, np.array([True, False, True]))
    pub(crate) const NPY_BOOL_1D: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }                                                            \x0a\x01\x00\x01";
    // np.save(buf, np.array([1.5, -3.0], dtype='>f8'))
    pub(crate) const NPY_F8_BE: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }                                                            \x0a?\xf8\x00\x00\x00\x00\x00\x00\xc0\x08\x00\x00\x00\x00\x00\x00";
    // np.lib.format.write_array(buf, np.array([[1.0], [2.0]]), version=(2, 0))
    pub(crate) const NPY_F64_V2: &[u8] = b"\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }                                                        \x0a\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x00@";
    // np.save(buf, np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0]])))
    pub(crate) const NPY_F64_FORTRAN: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }                                                           \x0a\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x08@\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x10@";
    // np.save(buf, np.array(['é', 'ünï', '🦀']))
    pub(crate) const NPY_STR_UNICODE: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<U3', 'fortran_order': False, 'shape': (3,), }                                                            \x0a\xe9\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xfc\x00\x00\x00n\x00\x00\x00\xef\x00\x00\x00\x80\xf9\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";

    /// Reads `body` as an `application/x-npy` response.
    pub(crate) fn read(body: &[u8]) -> Result<NpyArray> {
        NumpyDeserializer::new().deserialize(body, Some("application/x-npy"))
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::codecs::test_support::serialization_message;
    use ndarray::array;

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
}
