//! JSON (`application/json`): [`JsonSerializer`], [`JsonDeserializer`] and [`ArrayRows`], the
//! adapter that lets an `ndarray` matrix go out as nested lists.

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView1, ArrayView2};
use sagemaker_core::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Deserializer, Serializer, media_types, serialization_error};
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
/// [`JsonSerializer`] or [`JsonLinesSerializer`](crate::codecs::JsonLinesSerializer).
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
pub(super) struct ArrayRow<'r, 'a, A>(pub(super) &'r ArrayView1<'a, A>);

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

/// Decodes a JSON response (`application/json`), like the Python SDK's `JSONDeserializer`.
///
/// [`JsonDeserializer::new`] gives a `serde_json::Value`; [`JsonDeserializer::typed`] any
/// [`DeserializeOwned`] type. The response Content-Type is not checked. Invalid JSON is an
/// [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error giving the line and column.
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

typed_deserializer!(
    JsonDeserializer,
    "A JSON deserializer producing a `T` (accepts `application/json`)."
);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::test_support::serialization_message;
    use ndarray::array;

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
}
