//! Where SageMaker's prebuilt images live: the ECR account of the scikit-learn images in each
//! region and the ECR domain of each partition. Shared by the scikit-learn framework (its image
//! URIs) and remote functions (their default image on AWS), which must agree.

/// The ECR account of the scikit-learn images in each region (the same for every version and
/// scope).
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

/// The ECR domain of a region's partition (`amazonaws.com`, `amazonaws.com.cn`, ...).
pub fn ecr_domain(region: &str) -> &'static str {
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

/// `{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:{tag}`, or `None` in a region
/// without the scikit-learn images.
///
/// ```
/// assert_eq!(
///     sagemaker_core::images::sklearn_image("us-east-1", "1.2-1-cpu-py3").as_deref(),
///     Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
/// );
/// ```
pub fn sklearn_image(region: &str, tag: &str) -> Option<String> {
    let account = sklearn_account(region)?;
    Some(format!(
        "{account}.dkr.ecr.{region}.{}/sagemaker-scikit-learn:{tag}",
        ecr_domain(region)
    ))
}

/// The ECR account of the scikit-learn images in `region`.
pub fn sklearn_account(region: &str) -> Option<&'static str> {
    REGION_ACCOUNTS
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, a)| *a)
}
