//! `sagemaker-predictor`: [`Predictor`] (real-time inference against an endpoint),
//! [`AsyncPredictor`] (asynchronous inference through the object store) and the [`codecs`]
//! that turn values into request bodies and responses back into values.

mod async_predictor;
pub mod codecs;
mod predictor;

pub use async_predictor::{AsyncInferenceResponse, AsyncPredictor};

pub use codecs::{
    BytesDeserializer, CsvDeserializer, CsvSerializer, Deserializer, IdentitySerializer,
    JsonDeserializer, JsonLinesDeserializer, JsonLinesSerializer, JsonSerializer, NpyArray,
    NpyData, NumpyDeserializer, NumpySerializer, Serializer, StringDeserializer,
};
pub use predictor::{DeleteEndpoint, InvokeOptions, Predictor};
