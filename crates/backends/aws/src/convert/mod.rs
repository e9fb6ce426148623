//! Conversions between the core's specs and descriptions and the AWS SDK's shapes, by
//! area, and the small field conversions they share. Requests keep SageMaker's field names
//! and defaults, so a spec goes out as the request the Python SDK would send; a value the
//! service sends back that the core cannot represent is an `Internal` error naming the field.

mod hosting;
mod training;
mod transform;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sagemaker::types as sm;
use aws_smithy_types::DateTime;
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, StorageUri};

use crate::s3::s3_parts;

pub(crate) use hosting::*;
pub(crate) use training::*;
pub(crate) use transform::*;

/// `""` in a field the AWS SDK fills in when the service left it out is "absent".
pub(crate) fn present(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

pub(crate) fn ts(t: Option<&DateTime>) -> Option<Timestamp> {
    let t = t?;
    Timestamp::from_unix_timestamp_nanos(t.as_nanos()).ok()
}

pub(crate) fn ts_or_now(t: Option<&DateTime>) -> Timestamp {
    ts(t).unwrap_or_else(Timestamp::now_utc)
}

pub(crate) fn uri(s: Option<&str>, field: &str) -> Result<Option<StorageUri>> {
    match present(s) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|e: Error| {
            Error::new(
                ErrorKind::Internal,
                format!(
                    "the service returned an invalid {field} '{s}': {}",
                    e.message()
                ),
            )
        }),
    }
}

pub(crate) fn required_uri(s: Option<&str>, field: &str) -> Result<StorageUri> {
    uri(s, field)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("the service returned no {field}"),
        )
    })
}

pub(crate) fn parse_enum<T: std::str::FromStr<Err = Error>>(s: &str, field: &str) -> Result<T> {
    s.parse().map_err(|e: Error| {
        Error::new(
            ErrorKind::Internal,
            format!("the service returned an unknown {field}: {}", e.message()),
        )
    })
}

pub(crate) fn to_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

pub(crate) fn from_map(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

pub(crate) fn tags(t: &[Tag]) -> Option<Vec<sm::Tag>> {
    (!t.is_empty()).then(|| {
        t.iter()
            .map(|t| sm::Tag::builder().key(&t.key).value(&t.value).build())
            .collect()
    })
}

pub(crate) fn vpc(v: &VpcConfig) -> sm::VpcConfig {
    sm::VpcConfig::builder()
        .set_security_group_ids(Some(v.security_group_ids.clone()))
        .set_subnets(Some(v.subnets.clone()))
        .build()
}

pub(crate) fn vpc_from(v: Option<&sm::VpcConfig>) -> Option<VpcConfig> {
    let v = v?;
    (!v.subnets().is_empty() || !v.security_group_ids().is_empty()).then(|| VpcConfig {
        security_group_ids: v.security_group_ids().to_vec(),
        subnets: v.subnets().to_vec(),
    })
}

pub(crate) fn s3_uri(u: &StorageUri) -> Result<String> {
    s3_parts(u)?;
    Ok(u.to_string())
}

pub(crate) fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
