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

/// The ECR account of the images in each region (the same for every version and scope).
pub const REGION_ACCOUNTS: &[(&str, &str)] = &[
    ("af-south-1", "510948584623"),
    ("ap-east-1", "651117190479"),
    ("ap-northeast-1", "354813040037"),
    ("ap-northeast-2", "366743142698"),
    ("ap-northeast-3", "867004704886"),
    ("ap-south-1", "720646828776"),
    ("ap-south-2", "628508329040"),
    ("ap-southeast-1", "121021644041"),
    ("ap-southeast-2", "783357654285"),
    ("ap-southeast-3", "951798379941"),
    ("ap-southeast-4", "106583098589"),
    ("ca-central-1", "341280168497"),
    ("ca-west-1", "190319476487"),
    ("cn-north-1", "450853457545"),
    ("cn-northwest-1", "451049120500"),
    ("eu-central-1", "492215442770"),
    ("eu-central-2", "680994064768"),
    ("eu-north-1", "662702820516"),
    ("eu-south-1", "978288397137"),
    ("eu-south-2", "104374241257"),
    ("eu-west-1", "141502667606"),
    ("eu-west-2", "764974769150"),
    ("eu-west-3", "659782779980"),
    ("il-central-1", "898809789911"),
    ("me-central-1", "272398656194"),
    ("me-south-1", "801668240914"),
    ("sa-east-1", "737474898029"),
    ("us-east-1", "683313688378"),
    ("us-east-2", "257758044811"),
    ("us-gov-east-1", "237065988967"),
    ("us-gov-west-1", "414596584902"),
    ("us-iso-east-1", "833128469047"),
    ("us-isob-east-1", "281123927165"),
    ("us-isof-east-1", "108575199400"),
    ("us-isof-south-1", "124985052026"),
    ("us-west-1", "746614075791"),
    ("us-west-2", "246618743249"),
];

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

fn ecr_domain(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-isof-") {
        "csp.hci.ic.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else {
        "amazonaws.com"
    }
}

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
    let account = REGION_ACCOUNTS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
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

    /// `sagemaker-remote` keeps its own copy of the account table (to not depend on this
    /// crate); it must give the same training image in every region.
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
