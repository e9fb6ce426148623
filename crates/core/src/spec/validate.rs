//! SageMaker's own rules for each request, in one place.
//!
//! Every request a [`Session`](crate::Session) sends crosses its validating front
//! ([`crate::Session::backend`]), which calls the `validate` of this module before any backend
//! sees it; the CLI, the conformance suite and any future protocol front go through the same
//! door. Backends keep only the rules that are theirs (the local backend's one-instance limit,
//! the AWS backend's role expansion). The rules are the API reference's constraints:
//! <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html>,
//! `API_CreateEndpointConfig.html`, `API_CreateTransformJob.html` and
//! `API_runtime_InvokeEndpoint.html` beside it.

use std::collections::BTreeSet;

use super::*;
use crate::backend::Capability;
use crate::error::{Error, ErrorKind, Result, context};
use crate::names::validate_name;

/// `ChannelName` as SageMaker accepts it: 1 to 64 of `[A-Za-z0-9._-]` (the Python SDK's
/// remote functions use `sm_rf_user_ws`, so underscores must pass).
fn validate_channel_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Validation,
        format!("invalid channel name '{name}': it must be 1 to 64 characters of [A-Za-z0-9._-]"),
    )
    .with_context(context::RESOURCE, name))
}

impl TrainingJobSpec {
    /// Checks `CreateTrainingJob`'s rules: the job name, and channel names that are valid and
    /// given once.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("training job", &self.training_job_name)?;
        let mut seen = BTreeSet::new();
        for channel in &self.input_data_config {
            if !seen.insert(channel.channel_name.as_str()) {
                return Err(Error::new(
                    ErrorKind::Validation,
                    format!("channel '{}' is given twice", channel.channel_name),
                ));
            }
            validate_channel_name(&channel.channel_name)?;
        }
        Ok(())
    }
}

impl ModelSpec {
    /// Checks `CreateModel`'s rules: the model name.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("model", &self.model_name)
    }
}

impl EndpointConfigSpec {
    /// Checks `CreateEndpointConfig`'s rules: names, at least one variant, unique variant
    /// names, weights and counts in range, serverless limits, serverless and async configs
    /// not mixed, and that the backend supports what the config asks for.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        validate_name("endpoint config", &self.endpoint_config_name)?;
        if self.production_variants.is_empty() {
            return Err(Error::new(
                ErrorKind::Validation,
                "an endpoint config needs at least one production variant",
            ));
        }
        let mut seen = BTreeSet::new();
        for v in &self.production_variants {
            validate_variant(v, &mut seen)?;
            if v.serverless_config.is_some() && !caps.serverless {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "variant '{}': this backend does not host serverless variants",
                        v.variant_name
                    ),
                ));
            }
        }
        let serverless = self
            .production_variants
            .iter()
            .any(|v| v.serverless_config.is_some());
        if serverless && self.production_variants.len() > 1 {
            return Err(Error::new(
                ErrorKind::Validation,
                "a serverless endpoint config has exactly one production variant",
            ));
        }
        if let Some(a) = &self.async_inference_config {
            if serverless {
                return Err(Error::new(
                    ErrorKind::Validation,
                    "AsyncInferenceConfig is not supported with serverless variants (ServerlessConfig)",
                ));
            }
            if !caps.async_inference {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "this backend does not host asynchronous endpoints (AsyncInferenceConfig)",
                ));
            }
            if let Some(n) = a
                .client_config
                .and_then(|c| c.max_concurrent_invocations_per_instance)
                && !(1..=1000).contains(&n)
            {
                return Err(Error::new(
                    ErrorKind::Validation,
                    format!(
                        "AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance is {n}; it must be from 1 to 1000"
                    ),
                ));
            }
        }
        if self
            .production_variants
            .iter()
            .all(|v| v.initial_variant_weight == 0.0)
        {
            return Err(Error::new(
                ErrorKind::Validation,
                "at least one variant needs a weight above 0",
            ));
        }
        Ok(())
    }
}

fn validate_variant<'a>(v: &'a ProductionVariant, seen: &mut BTreeSet<&'a str>) -> Result<()> {
    validate_name("variant", &v.variant_name)?;
    if !seen.insert(&v.variant_name) {
        return Err(Error::new(
            ErrorKind::Validation,
            format!("variant '{}' is given twice", v.variant_name),
        ));
    }
    validate_name("model", &v.model_name)?;
    if !(v.initial_variant_weight >= 0.0 && v.initial_variant_weight.is_finite()) {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "variant '{}': InitialVariantWeight must be a number >= 0",
                v.variant_name
            ),
        ));
    }
    if v.initial_instance_count == Some(0) {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "variant '{}': InitialInstanceCount must be at least 1",
                v.variant_name
            ),
        ));
    }
    if let Some(sc) = &v.serverless_config {
        sc.validate()
            .map_err(|e| e.prefixed(format!("variant '{}'", v.variant_name)))?;
        if v.instance_type.is_some() || v.initial_instance_count.is_some() {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "variant '{}': give either ServerlessConfig or InstanceType and InitialInstanceCount, not both",
                    v.variant_name
                ),
            ));
        }
    }
    Ok(())
}

impl EndpointSpec {
    /// Checks `CreateEndpoint`'s rules: the endpoint and config names.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("endpoint", &self.endpoint_name)?;
        validate_name("endpoint config", &self.endpoint_config_name)
    }
}

impl TransformJobSpec {
    /// Checks `CreateTransformJob`'s rules: names and `MaxPayloadInMB` (at most 100).
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("transform job", &self.transform_job_name)?;
        validate_name("model", &self.model_name)?;
        if let Some(p) = self.max_payload_in_mb
            && p > 100
        {
            return Err(Error::new(
                ErrorKind::Validation,
                format!("MaxPayloadInMB {p} is above 100"),
            ));
        }
        Ok(())
    }
}

/// The longest `X-Amzn-SageMaker-Custom-Attributes` value the runtime API accepts.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 1024;

/// Custom attributes must be visible ASCII (or spaces) and at most 1 024 characters: anything
/// else cannot travel in an HTTP header, and the AWS SDKs fail to parse it back.
///
/// ```
/// use sagemaker_core::spec::validate_custom_attributes;
/// assert!(validate_custom_attributes("trace=1").is_ok());
/// assert!(validate_custom_attributes("tab\there").is_err());
/// ```
pub fn validate_custom_attributes(attrs: &str) -> Result<()> {
    if attrs.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "CustomAttributes is {} characters long; the limit is {MAX_CUSTOM_ATTRIBUTES}",
                attrs.len()
            ),
        ));
    }
    if let Some((i, c)) = attrs
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_graphic() || *c == ' '))
    {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "CustomAttributes has a character that is not visible ASCII ({c:?} at position {i})"
            ),
        ));
    }
    Ok(())
}

impl InvokeEndpointRequest {
    /// Checks `InvokeEndpoint`'s rules: the endpoint name and the custom attributes.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("endpoint", &self.endpoint_name)?;
        if let Some(attrs) = &self.custom_attributes {
            validate_custom_attributes(attrs)?;
        }
        Ok(())
    }
}

impl InvokeEndpointAsyncRequest {
    /// Checks `InvokeEndpointAsync`'s rules: the endpoint name, the TTL, the timeout, the
    /// inference id and the custom attributes.
    pub fn validate(&self, caps: &Capability) -> Result<()> {
        let _ = caps;
        validate_name("endpoint", &self.endpoint_name)?;
        self.validate_limits()?;
        if let Some(attrs) = &self.custom_attributes {
            validate_custom_attributes(attrs)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(variants: Vec<ProductionVariant>) -> EndpointConfigSpec {
        EndpointConfigSpec {
            endpoint_config_name: "c".into(),
            production_variants: variants,
            async_inference_config: None,
            tags: vec![],
        }
    }

    fn variant(name: &str, weight: f32) -> ProductionVariant {
        ProductionVariant {
            variant_name: name.into(),
            model_name: "m".into(),
            initial_instance_count: Some(1),
            instance_type: Some("ml.m5.large".into()),
            initial_variant_weight: weight,
            serverless_config: None,
        }
    }

    #[test]
    fn endpoint_config_rules() {
        let caps = Capability::none().with_serverless(true);
        config(vec![variant("A", 1.0)]).validate(&caps).unwrap();
        let e = config(vec![]).validate(&caps).unwrap_err();
        assert!(e.message().contains("at least one"), "{e}");
        let e = config(vec![variant("A", 1.0), variant("A", 1.0)])
            .validate(&caps)
            .unwrap_err();
        assert!(e.message().contains("given twice"), "{e}");
        let e = config(vec![variant("A", 0.0)]).validate(&caps).unwrap_err();
        assert!(e.message().contains("weight above 0"), "{e}");
        let e = config(vec![variant("A", f32::NAN)])
            .validate(&caps)
            .unwrap_err();
        assert!(e.message().contains("InitialVariantWeight"), "{e}");
        let mut serverless = variant("A", 1.0);
        serverless.serverless_config = Some(ProductionVariantServerlessConfig {
            memory_size_in_mb: 2048,
            max_concurrency: 2,
            provisioned_concurrency: None,
        });
        let e = config(vec![serverless.clone()])
            .validate(&caps)
            .unwrap_err();
        assert!(e.message().contains("not both"), "{e}");
        serverless.instance_type = None;
        serverless.initial_instance_count = None;
        config(vec![serverless.clone()]).validate(&caps).unwrap();
        let e = config(vec![serverless])
            .validate(&Capability::none())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn custom_attributes_are_bounded_visible_ascii() {
        validate_custom_attributes(&"a".repeat(MAX_CUSTOM_ATTRIBUTES)).unwrap();
        let e = validate_custom_attributes(&"a".repeat(MAX_CUSTOM_ATTRIBUTES + 1)).unwrap_err();
        assert!(e.message().contains("1024"), "{e}");
        assert!(validate_custom_attributes("é").is_err());
    }

    #[test]
    fn channel_names_follow_the_api_pattern() {
        for ok in ["training", "sm_rf_user_ws", "a.b-c_d", &"x".repeat(64)] {
            validate_channel_name(ok).unwrap();
        }
        for bad in ["", "a b", "a/b", &"x".repeat(65)] {
            assert!(validate_channel_name(bad).is_err(), "{bad:?}");
        }
    }
}
