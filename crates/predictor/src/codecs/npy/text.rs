//! Arrays from text bodies: JSON as `np.array(json.load(...))` reads it and CSV as
//! `np.genfromtxt(..., delimiter=",")` does.

use std::fmt::Write as _;

use sagemaker_core::Result;

use super::{NpyArray, NpyData};
use crate::codecs::csv::parse_csv;
use crate::codecs::{decode_utf8, serialization_error};
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

pub(super) fn npy_from_json(body: &[u8]) -> Result<NpyArray> {
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

pub(super) fn npy_from_csv(body: &[u8]) -> Result<NpyArray> {
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
    use crate::codecs::npy::fixtures::*;
    use crate::codecs::test_support::serialization_message;
    use crate::codecs::*;

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
