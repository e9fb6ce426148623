//! The default image of remote functions on non-local backends: the SageMaker scikit-learn
//! training image (Linux x86-64 with a shell, pulled from ECR by SageMaker) of
//! [`DEFAULT_IMAGE_VERSION`] for the session's region.
//!
//! The account table duplicates `sagemaker_sklearn::image_uris::REGION_ACCOUNTS` so this crate
//! does not depend on the scikit-learn framework (and its `smartcore`); a test in
//! `sagemaker-sklearn` checks that both give the same URI in every region.

use sagemaker_core::{Error, Result};

/// The scikit-learn version of the default image.
pub const DEFAULT_IMAGE_VERSION: &str = "1.2-1";

/// The ECR account of the scikit-learn images in each region.
const REGION_ACCOUNTS: &[(&str, &str)] = &[
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
    let account = REGION_ACCOUNTS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            Error::invalid_config(
                "image_uri",
                format!(
                    "has no default in region {region} (the scikit-learn image is not known \
                     there): give one with image_uri"
                ),
            )
        })?;
    Ok(format!(
        "{account}.dkr.ecr.{region}.{}/sagemaker-scikit-learn:{DEFAULT_IMAGE_VERSION}-cpu-py3",
        ecr_domain(region)
    ))
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
