//! The Python stand-in for the built-in algorithms on backends that run Python (AWS): the
//! real scikit-learn container runs `python/sagemaker_sklearn_builtin.py` with the same
//! hyperparameters, data handling, metrics and content types as the local container.

use sagemaker_estimator::PythonBundle;

use crate::params::{Algorithm, Task};

/// The shared module, embedded in the crate.
pub const BUILTIN_MODULE: &str = include_str!("../python/sagemaker_sklearn_builtin.py");
/// The shared module's file name in `sourcedir.tar.gz`.
pub const BUILTIN_MODULE_FILE: &str = "sagemaker_sklearn_builtin.py";

/// The number pattern of the metric regexes (the first group is the value).
const METRIC_NUMBER: &str = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)";

/// The `sourcedir.tar.gz` files of `algorithm`: the shared module and `{name}.py`, the
/// program the training toolkit runs and the serving toolkit imports.
///
/// ```
/// use sagemaker_sklearn::{Algorithm, python_bundle};
///
/// let bundle = python_bundle(Algorithm::LogisticRegression);
/// assert_eq!(bundle.program, "LogisticRegression.py");
/// let wrapper = &bundle.files.iter().find(|(n, _)| n == "LogisticRegression.py").unwrap().1;
/// assert!(String::from_utf8_lossy(wrapper).contains("main(\"LogisticRegression\")"));
/// ```
pub fn python_bundle(algorithm: Algorithm) -> PythonBundle {
    let name = algorithm.name();
    let program = format!("{name}.py");
    let wrapper = format!(
        "from sagemaker_sklearn_builtin import input_fn, model_fn, output_fn, predict_fn, main  # noqa: F401\n\nif __name__ == \"__main__\":\n    main(\"{name}\")\n"
    );
    PythonBundle::new(
        program.clone(),
        vec![
            (
                BUILTIN_MODULE_FILE.to_string(),
                BUILTIN_MODULE.as_bytes().to_vec(),
            ),
            (program, wrapper.into_bytes()),
        ],
    )
}

/// The `MetricDefinitions` of a built-in algorithm: `train:` and `validation:` metrics as the
/// containers print them (`#metrics validation:accuracy=0.96`).
pub fn metric_definitions(algorithm: Algorithm) -> Vec<(String, String)> {
    let names: &[&str] = match algorithm.task() {
        Task::Classification => &["accuracy", "f1"],
        Task::Regression => &["r2", "mse"],
        Task::Clustering => &["inertia"],
    };
    ["train", "validation"]
        .iter()
        .flat_map(|prefix| {
            names.iter().map(move |n| {
                (
                    format!("{prefix}:{n}"),
                    format!("#metrics {prefix}:{n}={METRIC_NUMBER}"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_regexes_capture_what_the_local_container_prints() {
        let defs = metric_definitions(Algorithm::RandomForestClassifier);
        assert_eq!(defs.len(), 4);
        let (name, regex) = &defs[2];
        assert_eq!(name, "validation:accuracy");
        let re = regex::Regex::new(regex).unwrap();
        let caps = re
            .captures("#metrics validation:accuracy=0.9666666666666667")
            .unwrap();
        assert_eq!(&caps[1], "0.9666666666666667");
        let caps = re.captures("#metrics validation:accuracy=1e-7").unwrap();
        assert_eq!(&caps[1], "1e-7");
        assert_eq!(metric_definitions(Algorithm::KMeans).len(), 2);
    }

    #[test]
    fn every_algorithm_has_a_wrapper_importing_the_serving_functions() {
        for a in Algorithm::ALL {
            let b = python_bundle(*a);
            assert_eq!(b.files.len(), 2);
            let wrapper = String::from_utf8(b.files[1].1.clone()).unwrap();
            for f in ["input_fn", "model_fn", "output_fn", "predict_fn"] {
                assert!(wrapper.contains(f));
            }
            assert!(BUILTIN_MODULE.contains("def main("));
        }
    }
}
