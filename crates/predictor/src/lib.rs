//! `sagemaker-predictor`: [`Predictor`] (real-time inference against an endpoint) and the
//! [`codecs`] that turn values into request bodies and responses back into values.

pub mod codecs;
mod predictor;

pub use codecs::{
    BytesDeserializer, CsvDeserializer, CsvSerializer, Deserializer, IdentitySerializer,
    JsonDeserializer, JsonLinesDeserializer, JsonLinesSerializer, JsonSerializer, NpyArray,
    NpyData, NumpyDeserializer, NumpySerializer, Serializer, StringDeserializer,
};
pub use predictor::{InvokeOptions, Predictor};
