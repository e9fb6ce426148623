//! SageMaker resource naming: validation, generated names and timestamps.
//!
//! Mirrors the Python SDK's `sagemaker.utils` helpers (`name_from_base`,
//! `base_name_from_image`, `base_from_name`, `sagemaker_timestamp`).

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

use crate::error::{Error, ErrorKind, Result};

/// The longest name SageMaker accepts for jobs, models, endpoint configs and endpoints.
pub const MAX_NAME_LENGTH: usize = 63;

/// Checks `name` against SageMaker's rule for job, model and endpoint names:
/// `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$` (1 to 63 characters, ASCII letters, digits and
/// hyphens, starting and ending with a letter or digit).
///
/// `what` names the resource in the error (e.g. `"training job"`).
///
/// ```
/// use sagemaker_core::names::validate_name;
///
/// assert!(validate_name("training job", "my-job-1").is_ok());
/// assert!(validate_name("training job", "my_job").is_err());
/// assert!(validate_name("training job", "-leading").is_err());
/// ```
pub fn validate_name(what: &str, name: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::new(
            ErrorKind::Validation,
            format!(
                "invalid {what} name '{name}': {why} (names must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}$)"
            ),
        )
        .with_context(crate::error::context::RESOURCE, name))
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_NAME_LENGTH {
        return fail(&format!(
            "it is {} characters long, the limit is {MAX_NAME_LENGTH}",
            name.len()
        ));
    }
    if let Some((i, c)) = name
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return fail(&format!("character {c:?} at position {i} is not allowed"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return fail("it must start and end with a letter or a digit");
    }
    Ok(())
}

/// Milliseconds since the epoch of the last generated timestamp, so that concurrent calls in
/// one process never get the same name: each call gets a strictly later millisecond.
static LAST_TIMESTAMP_MS: AtomicI64 = AtomicI64::new(0);

fn unique_now_ms() -> i64 {
    let now = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let mut last = LAST_TIMESTAMP_MS.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_TIMESTAMP_MS.compare_exchange_weak(
            last,
            next,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

fn format_timestamp(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A SageMaker timestamp, `YYYY-MM-DD-HH-MM-SS-mmm` in UTC. Successive calls in one process
/// return strictly increasing values.
///
/// ```
/// let ts = sagemaker_core::names::sagemaker_timestamp();
/// assert_eq!(ts.len(), 23);
/// ```
pub fn sagemaker_timestamp() -> String {
    format_timestamp(unique_now_ms())
}

/// `{base}-{timestamp}`, with `base` cut so the whole name fits in 63 characters
/// (`name_from_base` of the Python SDK). Names generated concurrently in one process never
/// collide.
///
/// ```
/// use sagemaker_core::names::{name_from_base, validate_name};
///
/// let name = name_from_base("sagemaker-scikit-learn");
/// assert!(name.starts_with("sagemaker-scikit-learn-20"));
/// validate_name("training job", &name).unwrap();
/// ```
pub fn name_from_base(base: &str) -> String {
    name_from_base_with_max(base, MAX_NAME_LENGTH)
}

/// [`name_from_base`] with another length limit.
pub fn name_from_base_with_max(base: &str, max_length: usize) -> String {
    let ts = sagemaker_timestamp();
    let keep = max_length.saturating_sub(ts.len() + 1);
    let base: String = base.chars().take(keep).collect();
    // A cut may leave a trailing hyphen; SageMaker accepts "--" inside names, so keep it.
    format!("{base}-{ts}")
}

/// 128 random bits as a version-4 UUID string (`8-4-4-4-12` lower-case hex), from the
/// standard library's randomly seeded hasher and a process-wide counter: unique within and
/// across processes for practical purposes (not for cryptography).
///
/// ```
/// let id = sagemaker_core::names::unique_id();
/// assert_eq!(id.len(), 36);
/// assert_ne!(id, sagemaker_core::names::unique_id());
/// ```
pub fn unique_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let word = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.finish()
    };
    let (hi, lo) = (word(1), word(2));
    let hi = (hi & !0xf000) | 0x4000; // version 4
    let lo = (lo & !(0xc << 60)) | (0x8 << 60); // variant 10
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// `{base}-{epoch seconds}-{4 hex}`, cut to 63 characters (`unique_name_from_base` of the
/// Python SDK, used for the default async inference paths).
///
/// ```
/// let name = sagemaker_core::names::unique_name_from_base("my-model");
/// assert!(name.starts_with("my-model-"));
/// assert_eq!(name.rsplit('-').next().unwrap().len(), 4);
/// ```
pub fn unique_name_from_base(base: &str) -> String {
    let secs = OffsetDateTime::now_utc().unix_timestamp();
    let tail = format!("-{secs}-{}", &unique_id()[..4]);
    let keep = MAX_NAME_LENGTH.saturating_sub(tail.len());
    let base: String = base.chars().take(keep).collect();
    format!("{base}{tail}")
}

/// The repository name of an image URI, without registry and tag: the default base job name
/// (`base_name_from_image` of the Python SDK).
///
/// ```
/// use sagemaker_core::names::base_name_from_image;
///
/// assert_eq!(
///     base_name_from_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
///     "sagemaker-scikit-learn"
/// );
/// assert_eq!(base_name_from_image("my-trainer"), "my-trainer");
/// ```
pub fn base_name_from_image(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let repo = last.split(':').next().unwrap_or(last);
    let cleaned: String = repo
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cleaned = cleaned.trim_matches('-');
    if cleaned.is_empty() {
        "training-job".to_string()
    } else {
        cleaned.to_string()
    }
}

/// Strips a trailing SageMaker timestamp (`-YYYY-MM-DD-HH-MM-SS-mmm` or `-yymmdd-HHMM`) from a
/// generated name (`base_from_name` of the Python SDK).
///
/// ```
/// use sagemaker_core::names::base_from_name;
///
/// assert_eq!(base_from_name("iris-2024-05-01-12-34-56-789"), "iris");
/// assert_eq!(base_from_name("iris-240501-1234"), "iris");
/// assert_eq!(base_from_name("iris"), "iris");
/// ```
pub fn base_from_name(name: &str) -> &str {
    fn strip<'a>(name: &'a str, shape: &str) -> Option<&'a str> {
        // shape uses 'd' for a digit and '-' for a hyphen.
        let n = shape.len() + 1;
        if name.len() <= n {
            return None;
        }
        let (base, tail) = name.split_at(name.len() - n);
        let tail = tail.strip_prefix('-')?;
        let ok = tail.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        });
        ok.then_some(base)
    }
    strip(name, "dddd-dd-dd-dd-dd-dd-ddd")
        .or_else(|| strip(name, "dddddd-dddd"))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn long_base_is_cut_to_63() {
        let name = name_from_base(&"a".repeat(100));
        assert_eq!(name.len(), 63);
        validate_name("job", &name).unwrap();
        assert_eq!(base_from_name(&name), "a".repeat(39));
    }

    #[test]
    fn concurrent_names_never_collide() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..500).map(|_| name_from_base("x")).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for n in h.join().unwrap() {
                assert!(all.insert(n.clone()), "duplicate name {n}");
            }
        }
        assert_eq!(all.len(), 2000);
    }

    #[test]
    fn invalid_names_say_why() {
        let e = validate_name("training job", &"a".repeat(64)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.message().contains("64 characters"), "{e}");
        let e = validate_name("training job", "a_b").unwrap_err();
        assert!(e.message().contains("'_' at position 1"), "{e}");
        assert!(validate_name("x", "a-").is_err());
        assert!(validate_name("x", "").is_err());
        assert!(validate_name("x", "a--b").is_ok());
    }

    #[test]
    fn timestamp_shape() {
        assert_eq!(format_timestamp(0), "1970-01-01-00-00-00-000");
        assert_eq!(
            format_timestamp(1_714_566_896_789),
            "2024-05-01-12-34-56-789"
        );
    }
}
