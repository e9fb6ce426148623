//! `SKLearnModel` and `SKLearnPredictor`: serving scikit-learn artifacts.

use sagemaker_core::{Error, Result, Session};
use sagemaker_model::{DeployConfig, Model, ModelBuilder};
use sagemaker_predictor::{CsvSerializer, JsonDeserializer, Predictor};

use crate::image_uris::{self, ImageScope};
use crate::params::Algorithm;

/// A predictor with the scikit-learn model's default codecs: CSV rows in, JSON out.
///
/// The Python SDK's `SKLearnPredictor` defaults to NPY both ways. We default to CSV in (the
/// container's fast path, exact for numbers) and JSON out, because class labels that are
/// strings (`"setosa"`) survive JSON unchanged while the Python default needs numpy object
/// arrays to carry them. Swap codecs with `with_serializer` / `with_deserializer`.
pub type SKLearnPredictor = Predictor<CsvSerializer, JsonDeserializer>;

/// Gives any predictor the scikit-learn defaults (see [`SKLearnPredictor`]).
///
/// ```
/// # fn session() -> sagemaker_core::Session {
/// #     sagemaker_local::LocalSession::builder().root(tempfile::tempdir().unwrap().keep()).build().unwrap()
/// # }
/// use sagemaker_predictor::Predictor;
///
/// let predictor = sagemaker_sklearn::sklearn_predictor(Predictor::attach("iris-endpoint", session()));
/// assert_eq!(predictor.accept(), "application/json");
/// ```
pub fn sklearn_predictor<S, D>(predictor: Predictor<S, D>) -> SKLearnPredictor {
    predictor
        .with_serializer(CsvSerializer::new())
        .with_deserializer(JsonDeserializer::new())
}

/// A scikit-learn model (the Python SDK's `SKLearnModel`): a `model.tar.gz` served by the
/// scikit-learn image, whose predictor has string-safe codecs.
#[derive(Debug, Clone)]
pub struct SKLearnModel {
    model: Model,
    /// For a built-in entry point: the builder without the program, so a backend that runs
    /// Python gets the embedded entry point uploaded and named at deploy time.
    builtin: Option<(Algorithm, ModelBuilder)>,
}

impl SKLearnModel {
    /// A builder.
    pub fn builder() -> SKLearnModelBuilder {
        SKLearnModelBuilder::default()
    }

    /// The underlying generic model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Deploys it (see `Model::deploy`) and returns an [`SKLearnPredictor`].
    pub async fn deploy(&self, config: DeployConfig) -> Result<SKLearnPredictor> {
        let model = self.model_for_backend().await?;
        Ok(sklearn_predictor(model.deploy(config).await?))
    }

    /// The model as the session's backend must run it: on a backend that runs Python (AWS),
    /// a built-in entry point becomes the embedded Python program, uploaded as
    /// `s3://{default bucket}/{model name}/sourcedir.tar.gz` (the Python SDK's layout).
    async fn model_for_backend(&self) -> Result<Model> {
        let session = self.model.session();
        let Some((algorithm, builder)) = &self.builtin else {
            if session.capabilities().python_scripts
                && self
                    .model
                    .model_spec()
                    .primary_container
                    .environment
                    .get(sagemaker_core::script_mode::ENV_SUBMIT_DIRECTORY)
                    .is_some_and(|d| d.starts_with("file://"))
            {
                return Err(Error::invalid_config(
                    "source_dir",
                    "a local source_dir is only readable by the local backend; on SageMaker give the s3:// URI of a sourcedir.tar.gz",
                ));
            }
            return Ok(self.model.clone());
        };
        if !session.capabilities().python_scripts {
            return Ok(self.model.clone());
        }
        let name = self
            .model
            .name()
            .unwrap_or_else(|| sagemaker_core::names::name_from_base(crate::IMAGE_REPOSITORY));
        let bundle = crate::bundle::python_bundle(*algorithm);
        let uri = sagemaker_core::StorageUri::s3(
            session.default_bucket().await?,
            format!("{name}/sourcedir.tar.gz"),
        );
        sagemaker_estimator::upload_python_bundle(session, &bundle, &uri).await?;
        builder
            .clone()
            .name(name)
            .env(
                sagemaker_core::script_mode::ENV_PROGRAM,
                bundle.program.clone(),
            )
            .env(
                sagemaker_core::script_mode::ENV_SUBMIT_DIRECTORY,
                uri.to_string(),
            )
            .build()
    }
}

/// Builds an [`SKLearnModel`]; [`SKLearnModelBuilder::build`] validates.
#[must_use]
#[derive(Debug, Clone, Default)]
pub struct SKLearnModelBuilder {
    model_data: Option<String>,
    entry_point: Option<String>,
    source_dir: Option<String>,
    framework_version: Option<String>,
    py_version: Option<String>,
    image_uri: Option<String>,
    role: Option<String>,
    name: Option<String>,
    env: Vec<(String, String)>,
    session: Option<Session>,
}

impl SKLearnModelBuilder {
    /// The `model.tar.gz` (required).
    pub fn model_data(mut self, uri: impl Into<String>) -> Self {
        self.model_data = Some(uri.into());
        self
    }

    /// The entry point (`SAGEMAKER_PROGRAM`): a built-in algorithm name or a script. Built-in
    /// artifacts name their algorithm in their manifest, so it is optional for them.
    pub fn entry_point(mut self, entry_point: impl Into<String>) -> Self {
        self.entry_point = Some(entry_point.into());
        self
    }

    /// Where a script entry point's code is (`SAGEMAKER_SUBMIT_DIRECTORY`): a local
    /// directory (served in place by the local backend) or the `s3://` URI of a
    /// `sourcedir.tar.gz`. Without it the code is expected in the model's `code/`.
    pub fn source_dir(mut self, dir: impl Into<String>) -> Self {
        self.source_dir = Some(dir.into());
        self
    }

    /// The scikit-learn version (required unless `image_uri` is given).
    pub fn framework_version(mut self, v: impl Into<String>) -> Self {
        self.framework_version = Some(v.into());
        self
    }

    /// The Python version (`py3`).
    pub fn py_version(mut self, v: impl Into<String>) -> Self {
        self.py_version = Some(v.into());
        self
    }

    /// An explicit serving image.
    pub fn image_uri(mut self, uri: impl Into<String>) -> Self {
        self.image_uri = Some(uri.into());
        self
    }

    /// The IAM role.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// The model name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets an environment variable of the serving container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The session (required).
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<SKLearnModel> {
        let session = self.session.ok_or_else(|| {
            Error::invalid_config("session", "required (e.g. LocalSession::new()?)")
        })?;
        if self.py_version.as_deref().is_some_and(|v| v != "py3") {
            return Err(Error::invalid_config("py_version", "only py3 is supported"));
        }
        let model_data = self.model_data.ok_or_else(|| {
            Error::invalid_config("model_data", "required: the model.tar.gz of a training job")
        })?;
        let image_uri = match (self.image_uri, &self.framework_version) {
            (Some(uri), _) => uri,
            (None, Some(v)) => {
                image_uris::image_uri(session.region(), v, "ml.m5.large", ImageScope::Inference)?
            }
            (None, None) => {
                return Err(Error::invalid_config(
                    "framework_version",
                    "framework_version or py_version was None, yet image_uri was also None. Either specify both framework_version and py_version, or specify image_uri.",
                ));
            }
        };
        let mut builder = Model::builder()
            .image_uri(image_uri)
            .model_data(model_data)
            .env("SAGEMAKER_CONTAINER_LOG_LEVEL", "20")
            .env("SAGEMAKER_REGION", session.region().to_string());
        if let Some(entry_point) = &self.entry_point
            && Algorithm::from_name(entry_point).is_none()
            && !entry_point.ends_with(".py")
        {
            return Err(Error::invalid_config(
                "entry_point",
                format!(
                    "'{entry_point}' is neither a built-in algorithm nor a Python script (.py)"
                ),
            ));
        }
        if let (Some(dir), Some(entry_point)) = (&self.source_dir, &self.entry_point) {
            builder = builder.env(
                sagemaker_core::script_mode::ENV_SUBMIT_DIRECTORY,
                submit_directory(dir, entry_point)?,
            );
        }
        for (k, v) in self.env {
            builder = builder.env(k, v);
        }
        if let Some(role) = self.role {
            builder = builder.role(role);
        }
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        let builder = builder.session(session);
        let builtin = self
            .entry_point
            .as_deref()
            .and_then(Algorithm::from_name)
            .map(|a| (a, builder.clone()));
        let model = match &self.entry_point {
            Some(entry_point) => builder.env(
                sagemaker_core::script_mode::ENV_PROGRAM,
                entry_point.clone(),
            ),
            None => builder,
        }
        .build()?;
        Ok(SKLearnModel { model, builtin })
    }
}

/// `SAGEMAKER_SUBMIT_DIRECTORY` for a model's `source_dir`: an `s3://` URI as given, a local
/// directory as `file://` + its absolute path once it is known to hold the entry point.
fn submit_directory(dir: &str, entry_point: &str) -> Result<String> {
    if dir.starts_with("s3://") {
        return Ok(dir.to_string());
    }
    let path = std::path::Path::new(dir.strip_prefix("file://").unwrap_or(dir));
    if !path.join(entry_point).is_file() {
        return Err(Error::invalid_config(
            "entry_point",
            format!(
                "No file named \"{entry_point}\" was found in directory \"{}\"",
                path.display()
            ),
        ));
    }
    let abs = path
        .canonicalize()
        .map_err(|e| Error::invalid_config("source_dir", format!("{}: {e}", path.display())))?;
    Ok(format!("file://{}", abs.display()))
}
