//! Job names from function names, shared by the settings (which check a prefix) and the
//! launcher (which names the job).

/// A job name base from a function name: its last path segment, leading non-alphanumerics
/// removed, other invalid characters replaced by `-` (as the Python SDK does).
pub(crate) fn sanitize_base(name: &str) -> String {
    let short = name.rsplit("::").next().unwrap_or(name);
    let trimmed = short.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    trimmed
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_base_names() {
        assert_eq!(sanitize_base("my_crate::train_model"), "train-model");
        assert_eq!(sanitize_base("__private"), "private");
        assert_eq!(sanitize_base("x::--"), "");
    }
}
