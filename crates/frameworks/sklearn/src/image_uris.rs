//! The scikit-learn image URIs, as the Python SDK resolves them
//! (`image_uris.retrieve("sklearn", region, version, "py3", instance_type)`).

use sagemaker_core::{Error, Result};

/// The image repository name; the local backend runs the in-process container for it.
pub const REPOSITORY: &str = "sagemaker-scikit-learn";

/// Versions with a training image.
pub const TRAINING_VERSIONS: &[&str] = &["0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2"];
/// Versions with an inference image.
pub const INFERENCE_VERSIONS: &[&str] = &["0.20.0", "0.23-1", "1.0-1", "1.2-1"];
/// The version the presets use when none is given.
pub const DEFAULT_VERSION: &str = "1.2-1";

pub use sagemaker_core::images::REGION_ACCOUNTS;

/// Which image: training or inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageScope {
    /// The training image.
    Training,
    /// The serving image.
    Inference,
}

const GRAVITON_FAMILIES: &[&str] = &["m6g", "m6gd", "c6g", "c6gd", "c6gn", "c7g", "r6g", "r6gd"];
const GPU_PREFIXES: &[&str] = &[
    "ml.p2.", "ml.p3.", "ml.p4", "ml.p5", "ml.g4", "ml.g5", "ml.g6",
];

/// Whether an instance type has GPUs (`local_gpu` included).
pub fn is_gpu_instance(instance_type: &str) -> bool {
    instance_type == "local_gpu" || GPU_PREFIXES.iter().any(|p| instance_type.starts_with(p))
}

use sagemaker_core::images::ecr_domain;

/// The image URI for a region, version and instance type, validated like the Python SDK:
/// unknown versions and regions are errors listing the allowed ones, GPU instances are
/// refused, Graviton instances get the `arm64` image.
///
/// ```
/// use sagemaker_sklearn::image_uris::{ImageScope, image_uri};
///
/// assert_eq!(
///     image_uri("us-east-1", "1.2-1", "ml.m5.large", ImageScope::Training).unwrap(),
///     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
/// );
/// assert!(image_uri("us-east-1", "9.9", "ml.m5.large", ImageScope::Training).is_err());
/// ```
pub fn image_uri(
    region: &str,
    version: &str,
    instance_type: &str,
    scope: ImageScope,
) -> Result<String> {
    if is_gpu_instance(instance_type) {
        return Err(Error::invalid_config(
            "instance_type",
            format!(
                "GPU training is not supported for Scikit-Learn (got {instance_type}); use a CPU instance type"
            ),
        ));
    }
    let account = sagemaker_core::images::sklearn_account(region).ok_or_else(|| {
            let allowed: Vec<&str> = REGION_ACCOUNTS.iter().map(|(r, _)| *r).collect();
            Error::invalid_config(
                "region",
                format!(
                    "Unsupported region: {region}. You may need to upgrade your SDK version for newer regions. Supported region(s): {}.",
                    allowed.join(", ")
                ),
            )
        })?;
    let family = instance_type
        .strip_prefix("ml.")
        .and_then(|t| t.split('.').next())
        .unwrap_or("");
    let tag = if GRAVITON_FAMILIES.contains(&family) {
        if version != "1.0-1" {
            return Err(Error::invalid_config(
                "framework_version",
                format!(
                    "Unsupported sklearn version: {version} on Graviton instances. Supported sklearn version(s): 1.0-1."
                ),
            ));
        }
        "1.0-1-arm64-cpu-py3".to_string()
    } else {
        let versions = match scope {
            ImageScope::Training => TRAINING_VERSIONS,
            ImageScope::Inference => INFERENCE_VERSIONS,
        };
        if !versions.contains(&version) {
            return Err(Error::invalid_config(
                "framework_version",
                format!(
                    "Unsupported sklearn version: {version}. You may need to upgrade your SDK version for newer sklearn versions. Supported sklearn version(s): {}.",
                    versions.join(", ")
                ),
            ));
        }
        format!("{version}-cpu-py3")
    };
    Ok(format!(
        "{account}.dkr.ecr.{region}.{}/{REPOSITORY}:{tag}",
        ecr_domain(region)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_and_version_resolves() {
        for (region, account) in REGION_ACCOUNTS {
            for v in TRAINING_VERSIONS {
                let uri = image_uri(region, v, "ml.m5.xlarge", ImageScope::Training).unwrap();
                assert!(
                    uri.starts_with(&format!("{account}.dkr.ecr.{region}.")),
                    "{uri}"
                );
                assert!(
                    uri.ends_with(&format!("/sagemaker-scikit-learn:{v}-cpu-py3")),
                    "{uri}"
                );
            }
        }
        assert_eq!(
            image_uri("cn-north-1", "1.0-1", "local", ImageScope::Training).unwrap(),
            "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.0-1-cpu-py3"
        );
    }

    /// Remote functions build their default image from the same core table; it must be this
    /// crate's training image in every region.
    #[test]
    fn remote_functions_default_to_this_training_image() {
        for (region, _) in REGION_ACCOUNTS {
            assert_eq!(
                sagemaker_remote::default_image_uri(region).unwrap(),
                image_uri(
                    region,
                    sagemaker_remote::DEFAULT_IMAGE_VERSION,
                    "ml.m5.large",
                    ImageScope::Training
                )
                .unwrap()
            );
        }
    }

    #[test]
    fn errors_list_what_is_allowed() {
        let e = image_uri("mars-1", "1.2-1", "ml.m5.large", ImageScope::Training).unwrap_err();
        assert!(e.message().contains("us-west-2"), "{e}");
        let e = image_uri("us-east-1", "1.4-2", "ml.m5.large", ImageScope::Inference).unwrap_err();
        assert!(
            e.message().contains("Unsupported sklearn version: 1.4-2"),
            "{e}"
        );
        let e = image_uri("us-east-1", "1.2-1", "ml.p3.2xlarge", ImageScope::Training).unwrap_err();
        assert!(e.message().contains("GPU"), "{e}");
        assert_eq!(
            image_uri("us-west-2", "1.0-1", "ml.c6g.large", ImageScope::Inference).unwrap(),
            "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-scikit-learn:1.0-1-arm64-cpu-py3"
        );
    }
}
