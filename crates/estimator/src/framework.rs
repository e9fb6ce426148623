//! [`Framework`]: what a framework estimator's `deploy` returns.

use sagemaker_predictor::Predictor;

/// A framework (scikit-learn, ...) as the estimator and its training jobs see it: the typed
/// predictor its `deploy` returns, so a framework user never wraps a predictor by hand.
///
/// `Estimator<F>` and `TrainingJob<F>` carry it as a type parameter; [`Generic`] (the
/// default) returns the byte-level [`Predictor`].
///
/// ```
/// use sagemaker_estimator::Framework;
/// use sagemaker_predictor::{CsvSerializer, JsonDeserializer, Predictor};
///
/// /// A framework whose endpoints take CSV and answer JSON.
/// struct Tabular;
///
/// impl Framework for Tabular {
///     type Predictor = Predictor<CsvSerializer, JsonDeserializer>;
///     fn predictor(predictor: Predictor) -> Self::Predictor {
///         predictor
///             .with_serializer(CsvSerializer::new())
///             .with_deserializer(JsonDeserializer::new())
///     }
/// }
/// ```
pub trait Framework: Send + Sync + 'static {
    /// The predictor `deploy` returns.
    type Predictor;

    /// Wraps the endpoint's byte-level predictor.
    fn predictor(predictor: Predictor) -> Self::Predictor;
}

/// No framework: any training image, byte-level predictors.
#[derive(Debug, Clone, Copy, Default)]
pub struct Generic;

impl Framework for Generic {
    type Predictor = Predictor;

    fn predictor(predictor: Predictor) -> Predictor {
        predictor
    }
}
