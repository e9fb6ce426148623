//! The default image of remote functions on non-local backends: the SageMaker scikit-learn
//! training image (Linux x86-64 with a shell, pulled from ECR by SageMaker) of
//! [`DEFAULT_IMAGE_VERSION`] for the session's region.
//!
//! The ECR account table is core's (`sagemaker_core::images`), shared with the
//! scikit-learn framework.

use sagemaker_core::{Error, Result};

/// The scikit-learn version of the default image.
pub const DEFAULT_IMAGE_VERSION: &str = "1.2-1";

/// The default image of a remote function in `region`: the scikit-learn training image
/// `{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:1.2-1-cpu-py3`. An unknown
/// region is an `InvalidConfig` error on `image_uri` (give one).
///
/// ```
/// assert_eq!(
///     sagemaker_remote::default_image_uri("us-east-1").unwrap(),
///     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
/// );
/// ```
pub fn default_image_uri(region: &str) -> Result<String> {
    sagemaker_core::images::sklearn_image(region, &format!("{DEFAULT_IMAGE_VERSION}-cpu-py3"))
        .ok_or_else(|| {
            Error::invalid_config(
                "image_uri",
                format!(
                    "has no default in region {region} (the scikit-learn image is not known \
                     there): give one with image_uri"
                ),
            )
        })
}

/// Whether an instance type runs on Graviton (arm64): its family is letters, digits, then
/// `g` (`ml.m6g.large`, `ml.c7gn.xlarge`; not `ml.g5.xlarge`). An x86-64 binary cannot run
/// there.
pub(crate) fn is_graviton(instance_type: &str) -> bool {
    let family = instance_type
        .strip_prefix("ml.")
        .and_then(|t| t.split('.').next())
        .unwrap_or("");
    let rest = family.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.len() != after.len() && after.starts_with('g')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_graviton() {
        assert_eq!(
            default_image_uri("cn-north-1").unwrap(),
            "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3"
        );
        let e = default_image_uri("mars-1").unwrap_err();
        assert!(e.message().contains("mars-1"), "{e}");
        assert!(is_graviton("ml.m6g.large"));
        assert!(is_graviton("ml.c7gn.xlarge"));
        assert!(!is_graviton("ml.g5.xlarge"));
        assert!(!is_graviton("ml.m5.large"));
        assert!(!is_graviton("ml.p4d.24xlarge"));
    }
}
