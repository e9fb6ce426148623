//! Training inputs: `TrainingInput` and the channel map `fit` takes.

use std::collections::BTreeMap;
use std::path::Path;

use sagemaker_core::spec::{
    Channel, CompressionType, DataSource, RecordWrapperType, S3DataDistributionType, S3DataSource,
    S3DataType, TrainingInputMode,
};
use sagemaker_core::{Error, Result, StorageUri};

/// One input channel's data: where it is and how the container sees it
/// (the Python SDK's `TrainingInput`).
///
/// ```
/// use sagemaker_estimator::TrainingInput;
///
/// let input = TrainingInput::new("s3://sagemaker-local/data/iris_train.csv").content_type("text/csv");
/// assert_eq!(input.uri(), "s3://sagemaker-local/data/iris_train.csv");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingInput {
    uri: String,
    content_type: Option<String>,
    distribution: S3DataDistributionType,
    s3_data_type: S3DataType,
    input_mode: Option<TrainingInputMode>,
    compression: Option<CompressionType>,
    record_wrapping: Option<RecordWrapperType>,
}

impl TrainingInput {
    /// Data at an `s3://` URI or, on backends that support it (local), a `file://` URI.
    /// The URI is checked when the job is created.
    pub fn new(uri: impl Into<String>) -> Self {
        TrainingInput {
            uri: uri.into(),
            content_type: None,
            distribution: S3DataDistributionType::FullyReplicated,
            s3_data_type: S3DataType::S3Prefix,
            input_mode: None,
            compression: None,
            record_wrapping: None,
        }
    }

    /// Data in a local file or directory, as a `file://` URI (local backend only).
    pub fn file(path: impl AsRef<Path>) -> Result<Self> {
        Ok(TrainingInput::new(StorageUri::file(path)?.to_string()))
    }

    /// The MIME type of the data (`ContentType`), e.g. `text/csv`.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// `FullyReplicated` (default) or `ShardedByS3Key`.
    pub fn distribution(mut self, distribution: S3DataDistributionType) -> Self {
        self.distribution = distribution;
        self
    }

    /// `S3Prefix` (default), `ManifestFile` or `AugmentedManifestFile`.
    pub fn s3_data_type(mut self, data_type: S3DataType) -> Self {
        self.s3_data_type = data_type;
        self
    }

    /// A per-channel input mode; a single input passed to `fit` also sets the job's mode.
    pub fn input_mode(mut self, mode: TrainingInputMode) -> Self {
        self.input_mode = Some(mode);
        self
    }

    /// The compression of the data.
    pub fn compression(mut self, compression: CompressionType) -> Self {
        self.compression = Some(compression);
        self
    }

    /// The record wrapping.
    pub fn record_wrapping(mut self, wrapping: RecordWrapperType) -> Self {
        self.record_wrapping = Some(wrapping);
        self
    }

    /// The URI as given.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The channel spec for `name`, checking the URI.
    pub(crate) fn to_channel(&self, name: &str, file_uris_allowed: bool) -> Result<Channel> {
        let uri: StorageUri = self
            .uri
            .parse()
            .map_err(|e: Error| Error::invalid_config(&format!("inputs.{name}"), e.message()))?;
        if !uri.is_s3() && !file_uris_allowed {
            return Err(Error::invalid_config(
                &format!("inputs.{name}"),
                format!("file URIs are supported by the local backend only, got {uri}"),
            ));
        }
        Ok(Channel {
            channel_name: name.to_string(),
            data_source: DataSource {
                s3_data_source: S3DataSource {
                    s3_data_type: self.s3_data_type,
                    s3_uri: uri,
                    s3_data_distribution_type: self.distribution,
                },
            },
            content_type: self.content_type.clone(),
            compression_type: self.compression,
            record_wrapper_type: self.record_wrapping,
            input_mode: self.input_mode,
        })
    }

    pub(crate) fn mode(&self) -> Option<TrainingInputMode> {
        self.input_mode
    }
}

impl From<&str> for TrainingInput {
    fn from(uri: &str) -> Self {
        TrainingInput::new(uri)
    }
}

impl From<String> for TrainingInput {
    fn from(uri: String) -> Self {
        TrainingInput::new(uri)
    }
}

impl From<StorageUri> for TrainingInput {
    fn from(uri: StorageUri) -> Self {
        TrainingInput::new(uri.to_string())
    }
}

impl From<&String> for TrainingInput {
    fn from(uri: &String) -> Self {
        TrainingInput::new(uri.as_str())
    }
}

impl From<&StorageUri> for TrainingInput {
    fn from(uri: &StorageUri) -> Self {
        TrainingInput::new(uri.to_string())
    }
}

/// What `fit` trains on: nothing, one input (channel `training`), or named channels.
///
/// ```
/// use sagemaker_estimator::{Inputs, TrainingInput};
///
/// let one: Inputs = "s3://bucket/train.csv".into();
/// assert_eq!(one.channel_names(), vec!["training"]);
///
/// let two = Inputs::new()
///     .channel("training", "s3://bucket/train.csv")
///     .channel("validation", TrainingInput::new("s3://bucket/test.csv").content_type("text/csv"));
/// assert_eq!(two.channel_names(), vec!["training", "validation"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inputs {
    channels: BTreeMap<String, TrainingInput>,
    single: bool,
}

impl Inputs {
    /// No channels (add them with [`Inputs::channel`]).
    pub fn new() -> Self {
        Inputs::default()
    }

    /// Adds (or replaces) a named channel.
    pub fn channel(mut self, name: impl Into<String>, input: impl Into<TrainingInput>) -> Self {
        self.channels.insert(name.into(), input.into());
        self.single = false;
        self
    }

    /// The channel names, sorted.
    pub fn channel_names(&self) -> Vec<&str> {
        self.channels.keys().map(String::as_str).collect()
    }

    /// The channels as API specs, plus the job-level input mode a single input overrides.
    pub(crate) fn to_channels(
        &self,
        file_uris_allowed: bool,
    ) -> Result<(Vec<Channel>, Option<TrainingInputMode>)> {
        let channels = self
            .channels
            .iter()
            .map(|(name, input)| input.to_channel(name, file_uris_allowed))
            .collect::<Result<Vec<_>>>()?;
        let mode = if self.single {
            self.channels.values().next().and_then(TrainingInput::mode)
        } else {
            None
        };
        Ok((channels, mode))
    }
}

impl Inputs {
    /// One input as channel `training` (what `fit("s3://...")` means).
    pub fn single(input: impl Into<TrainingInput>) -> Self {
        let mut inputs = Inputs::new().channel("training", input);
        inputs.single = true;
        inputs
    }
}

macro_rules! single_input_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Inputs {
            fn from(input: $t) -> Self {
                Inputs::single(input)
            }
        }
    )*};
}

single_input_from!(
    &str,
    String,
    &String,
    StorageUri,
    &StorageUri,
    TrainingInput
);

impl<K: Into<String>, V: Into<TrainingInput>, const N: usize> From<[(K, V); N]> for Inputs {
    fn from(channels: [(K, V); N]) -> Self {
        channels
            .into_iter()
            .fold(Inputs::new(), |acc, (k, v)| acc.channel(k, v))
    }
}

impl<K: Into<String>, V: Into<TrainingInput>> FromIterator<(K, V)> for Inputs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Inputs::new(), |acc, (k, v)| acc.channel(k, v))
    }
}
