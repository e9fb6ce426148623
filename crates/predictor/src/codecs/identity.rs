//! Bodies passed through unchanged: [`IdentitySerializer`], [`BytesDeserializer`] and
//! [`StringDeserializer`].

use sagemaker_core::Result;

use super::{Deserializer, Serializer, decode_utf8, media_types};
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
/// [`ErrorKind::Serialization`](sagemaker_core::ErrorKind::Serialization) error giving the byte offset.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::test_support::serialization_message;

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
}
