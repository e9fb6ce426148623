//! Reading `.npy` files: the header (a Python dict literal), the dtype and the data.

use std::fmt::Write as _;

use sagemaker_core::{Error, ErrorKind, Result};

use super::{NPY_MAGIC, NpyArray, NpyData, element_count, python_shape};
use crate::codecs::serialization_error;
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
pub(super) fn read_npy(body: &[u8]) -> Result<NpyArray> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::npy::fixtures::*;
    use crate::codecs::test_support::serialization_message;
    use crate::codecs::*;

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
}
