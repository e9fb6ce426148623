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

/// Implements [`Serializer`] for each listed input type of one serializer that sends one
/// media type: `input => |data| body`, or `input where T: Bound => |data| body` for a
/// generic input.
macro_rules! serializers {
    ($ser:ty, $media:expr; $($input:ty $(where $gen:ident: $bound:path)? => |$data:ident| $body:expr),+ $(,)?) => {$(
        impl$(<$gen: $bound>)? Serializer<$input> for $ser {
            fn content_type(&self) -> &str {
                $media
            }
            fn serialize(&self, $data: &$input) -> Result<Vec<u8>> {
                $body
            }
        }
    )+};
}

/// The `typed()` constructor and the `Debug`, `Clone`, `Copy` and `Default` impls of a
/// deserializer that only names its output type (derives would require them of `T`).
macro_rules! typed_deserializer {
    ($de:ident, $typed_doc:literal) => {
        impl<T> $de<T> {
            #[doc = $typed_doc]
            pub const fn typed() -> Self {
                $de {
                    output: ::std::marker::PhantomData,
                }
            }
        }

        impl<T> ::std::fmt::Debug for $de<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($de))
                    .field("output", &std::any::type_name::<T>())
                    .finish()
            }
        }

        impl<T> Clone for $de<T> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $de<T> {}

        impl<T> Default for $de<T> {
            fn default() -> Self {
                Self::typed()
            }
        }
    };
}

mod csv;
mod identity;
mod json;
mod jsonlines;
mod npy;

use std::sync::Arc;

use sagemaker_core::{Error, ErrorKind, Result};

pub use csv::{CsvDeserializer, CsvSerializer};
pub use identity::{BytesDeserializer, IdentitySerializer, StringDeserializer};
pub use json::{ArrayRows, JsonDeserializer, JsonSerializer};
pub use jsonlines::{JsonLinesDeserializer, JsonLinesSerializer};
pub use npy::{
    NpyArray, NpyData, NumpyDeserializer, NumpySerializer, write_npy_f64, write_npy_strings,
};

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

pub(crate) fn serialization_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Serialization, message)
}

/// The media type of a Content-Type header value: lower case, without parameters.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub(crate) fn decode_utf8<'a>(body: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(body).map_err(|e| {
        serialization_error(format!(
            "{what} is not valid UTF-8: invalid byte sequence at byte offset {}",
            e.valid_up_to()
        ))
        .with_source(e)
    })
}

/// Helpers shared by the tests of every codec.
#[cfg(test)]
pub(crate) mod test_support {
    use sagemaker_core::{ErrorKind, Result};

    /// The message of `result`'s error, after checking that it is a serialization error.
    pub(crate) fn serialization_message<T: std::fmt::Debug>(result: Result<T>) -> String {
        let err = result.expect_err("expected an error");
        assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
        err.message().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
