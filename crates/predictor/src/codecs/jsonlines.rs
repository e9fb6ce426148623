//! JSON Lines (`application/jsonlines`): [`JsonLinesSerializer`] and [`JsonLinesDeserializer`],
//! one JSON document per line.

use std::marker::PhantomData;

use sagemaker_core::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

use ndarray::ArrayView1;

use super::json::ArrayRow;
use super::{ArrayRows, Deserializer, Serializer, media_types, serialization_error};
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

serializers!(JsonLinesSerializer, media_types::JSON_LINES;
    [T] where T: Serialize => |data| json_lines(data),
    Vec<T> where T: Serialize => |data| json_lines(data),
    ArrayRows<'_, A> where A: Serialize => |data| {
        let views: Vec<ArrayView1<'_, A>> = data.0.outer_iter().collect();
        let rows: Vec<ArrayRow<'_, '_, A>> = views.iter().map(ArrayRow).collect();
        json_lines(&rows)
    },
    str => |data| Ok(data.as_bytes().to_vec()),
    String => |data| Ok(data.as_bytes().to_vec()),
);

/// Decodes a JSON Lines response (`application/jsonlines`) into one value per line, like the
/// Python SDK's `JSONLinesDeserializer`.
///
/// Lines are separated by `\n` (a `\r` before it is ignored); blank lines are skipped, so an
/// empty body is an empty list. A line that is not valid JSON is an
/// [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error naming the line (counted from 1) and column.
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

typed_deserializer!(
    JsonLinesDeserializer,
    "A JSON Lines deserializer producing `T`s (accepts `application/jsonlines`)."
);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::test_support::serialization_message;
    use crate::codecs::*;
    use ndarray::array;

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
}
