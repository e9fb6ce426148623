//! `RemoteFunction`: a registered function, how a call becomes a training job, and how the
//! job's outcome comes back.

use std::fmt;
use std::path::Path;
use std::sync::atomic::Ordering;

use sagemaker_core::error::context;
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, Session, StorageUri, names};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::job_name::sanitize_base;
use crate::outcome::{Exception, RemoteError, outcome};
use crate::payload::{self, Identity, PayloadKind};
use crate::settings::RemoteSettings;

/// The image URI the local backend runs remote functions under (the facade's
/// `LocalSession` registers [`crate::RemoteContainer`] for it).
pub const LOCAL_IMAGE: &str = "sagemaker-rust-remote-function";
/// The first container argument of a remote-function job; [`crate::init`] looks for it.
pub const FUNCTION_FLAG: &str = "--sagemaker-remote-function";
/// The job environment variable naming the function (how jobs are recognised).
pub const FUNCTION_ENV: &str = "SAGEMAKER_REMOTE_FUNCTION_NAME";
/// The job environment variable giving the job's payload directory on a local store.
pub const OUTPUT_DIR_ENV: &str = "SAGEMAKER_REMOTE_OUTPUT_DIR";
/// The job environment variable recording the size in bytes of the uploaded executable
/// (non-local backends); read it back with [`uploaded_binary_size`].
pub const BINARY_SIZE_ENV: &str = "SAGEMAKER_REMOTE_BINARY_SIZE";
/// The input channel holding the arguments.
pub const ARGUMENTS_CHANNEL: &str = "arguments";
/// The input channel holding the uploaded executable (remote backends).
pub const BOOTSTRAP_CHANNEL: &str = "sagemaker_remote_function_bootstrap";
/// The input channel holding the working directory (`include_local_workdir`).
pub const WORKDIR_CHANNEL: &str = "sm_rf_user_ws";
/// The input channel holding the `dependencies` file.
pub const DEPENDENCIES_CHANNEL: &str = "dependencies";

/// What running a function on a payload gave (the job side).
#[doc(hidden)]
pub enum RunOutcome {
    /// The function returned `Ok`; the serialized value.
    Returned(Vec<u8>),
    /// The function returned `Err`; the serialized exception and a one-line summary.
    Raised(Vec<u8>, String),
    /// The SDK failed around the function (arguments or result could not be (de)serialized).
    Failed(Error),
}

/// A registered remote function, the job side's entry (the macro submits these).
#[doc(hidden)]
pub struct Registration {
    pub(crate) name: &'static str,
    pub(crate) binary_version: &'static str,
    pub(crate) run: fn(&[u8]) -> RunOutcome,
}

impl Registration {
    /// A registration.
    pub const fn new(
        name: &'static str,
        binary_version: &'static str,
        run: fn(&[u8]) -> RunOutcome,
    ) -> Self {
        Registration {
            name,
            binary_version,
            run,
        }
    }
}

inventory::collect!(Registration);

/// The names of every function registered in this binary, sorted.
pub fn registered_functions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.name)
        .collect();
    v.sort_unstable();
    v
}

pub(crate) fn find_registration(name: &str) -> Option<&'static Registration> {
    inventory::iter::<Registration>
        .into_iter()
        .find(|r| r.name == name)
}

/// A function that runs as a training job: what `#[remote]` generates (reach it as
/// `my_fn::function()`). `A` is the tuple of its arguments, `T` and `E` its `Result` types.
pub struct RemoteFunction<A, T, E> {
    name: &'static str,
    binary_version: &'static str,
    settings: fn() -> Result<RemoteSettings>,
    body: fn(A) -> std::result::Result<T, E>,
}

impl<A, T, E> fmt::Debug for RemoteFunction<A, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteFunction")
            .field("name", &self.name)
            .field("binary_version", &self.binary_version)
            .finish_non_exhaustive()
    }
}

impl<A, T, E> RemoteFunction<A, T, E>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Serialize + DeserializeOwned + Send + 'static,
{
    /// A function registered under `name` by the binary `binary_version`
    /// (`{crate}@{version}`). `#[remote]` writes this; by hand it addresses a function by
    /// name (the job fails with `NotFound` if the binary does not register it).
    pub const fn new(
        name: &'static str,
        binary_version: &'static str,
        settings: fn() -> Result<RemoteSettings>,
        body: fn(A) -> std::result::Result<T, E>,
    ) -> Self {
        RemoteFunction {
            name,
            binary_version,
            settings,
            body,
        }
    }

    /// The registered name (`module::path::function`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The binary version recorded in payloads (`{crate}@{version}`).
    pub fn binary_version(&self) -> &'static str {
        self.binary_version
    }

    /// The settings given to `#[remote]`.
    pub fn settings(&self) -> Result<RemoteSettings> {
        (self.settings)()
    }

    pub(crate) fn identity(&self) -> Identity {
        Identity {
            function: self.name,
            binary_version: self.binary_version,
        }
    }

    /// Runs the function here, in this process (no job): for tests and debugging.
    pub fn call_local(&self, args: A) -> std::result::Result<T, E> {
        (self.body)(args)
    }

    /// Runs the function as a training job with the settings of `#[remote]` and returns its
    /// value (what calling the generated `async fn` does).
    pub async fn call(&'static self, args: A) -> std::result::Result<T, RemoteError<E>> {
        let settings = self.settings()?;
        self.call_with(&settings, args).await
    }

    /// Runs the function as a training job with other settings.
    pub async fn call_with(
        &'static self,
        settings: &RemoteSettings,
        args: A,
    ) -> std::result::Result<T, RemoteError<E>> {
        let bytes = encode_arguments(self.name, &args)?;
        let session = resolve_session(settings)?;
        let (job, _) = start_job(&session, settings, self.identity(), bytes).await?;
        let d = session
            .wait_for_training_job(&job, &sagemaker_core::WaitConfig::default())
            .await?;
        outcome(&session, self.identity(), &d).await
    }

    /// The job side: decodes the arguments, runs the body, encodes what it returned.
    #[doc(hidden)]
    pub fn run_payload(&self, payload: &[u8]) -> RunOutcome {
        let args: A = match serde_json::from_slice(payload) {
            Ok(a) => a,
            Err(e) => {
                return RunOutcome::Failed(Error::new(
                    ErrorKind::Serialization,
                    format!(
                        "the arguments of '{}' do not decode as its parameter types: {e}",
                        self.name
                    ),
                ));
            }
        };
        match (self.body)(args) {
            Ok(v) => match serde_json::to_vec(&v) {
                Ok(b) => RunOutcome::Returned(b),
                Err(e) => RunOutcome::Failed(Error::new(
                    ErrorKind::Serialization,
                    format!(
                        "the value returned by '{}' cannot be serialized: {e}",
                        self.name
                    ),
                )),
            },
            Err(err) => match serde_json::to_vec(&Exception::<&E>::Function(&err)) {
                Ok(b) => {
                    let mut summary = serde_json::to_string(&err).unwrap_or_default();
                    if summary.len() > 500 {
                        let mut cut = 500;
                        while !summary.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        summary.truncate(cut);
                        summary.push_str("...");
                    }
                    RunOutcome::Raised(b, summary)
                }
                Err(e) => RunOutcome::Failed(Error::new(
                    ErrorKind::Serialization,
                    format!(
                        "the error returned by '{}' cannot be serialized: {e}",
                        self.name
                    ),
                )),
            },
        }
    }
}

/// Serializes arguments; a failure is a `Serialization` error naming the function.
pub(crate) fn encode_arguments<A: Serialize>(name: &str, args: &A) -> Result<Vec<u8>> {
    serde_json::to_vec(args).map_err(|e| {
        Error::new(
            ErrorKind::Serialization,
            format!("the arguments of remote function '{name}' cannot be serialized: {e}"),
        )
        .with_source(e)
    })
}

/// The session of `settings`, else the process default.
pub(crate) fn resolve_session(settings: &RemoteSettings) -> Result<Session> {
    match settings.session() {
        Some(s) => Ok(s.clone()),
        None => crate::default_session(),
    }
}

/// Whether `bytes` start a Linux x86-64 ELF executable.
pub fn is_linux_x86_64_elf(bytes: &[u8]) -> bool {
    bytes.len() >= 20
        && bytes[..4] == *b"\x7fELF"
        && bytes[4] == 2 // 64-bit
        && bytes[5] == 1 // little endian
        && (bytes[7] == 0 || bytes[7] == 3) // System V or Linux ABI
        && u16::from_le_bytes([bytes[18], bytes[19]]) == 0x3e // x86-64
}

/// Uploads the arguments and whatever else the job needs, then creates the training job.
/// Returns the job name and the size of the uploaded executable (none on the local backend).
pub(crate) async fn start_job(
    session: &Session,
    settings: &RemoteSettings,
    who: Identity,
    arguments: Vec<u8>,
) -> Result<(String, Option<u64>)> {
    if !crate::INIT_CALLED.load(Ordering::SeqCst) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "sagemaker::remote::init() was not called: call it first thing in main, so that \
             the job's process (this same binary) runs the function instead of main",
        )
        .with_context(context::FIELD, "init"));
    }
    let backend = session.backend();
    let local = backend.name() == "local";
    if local && settings.use_spot_instances() {
        return Err(Error::unsupported(
            "local",
            "spot training (use_spot_instances)",
        ));
    }
    let base_name = settings
        .job_name_prefix()
        .map(sanitize_base)
        .unwrap_or_else(|| sanitize_base(who.function));
    let job_name = names::name_from_base(&base_name);
    let root = match settings.s3_root_uri() {
        Some(r) => r.clone(),
        None => StorageUri::s3(session.default_bucket().await?, ""),
    };
    let base = root.join(&job_name);
    let store = session.store();
    // A secret per job keys the payload digests; it reaches the job only as an environment
    // variable of the job, never as an object beside the payloads.
    let key = payload::PayloadKey::generate()?;
    payload::put(
        store.as_ref(),
        &base,
        PayloadKind::Arguments,
        arguments,
        who,
        Some(&key),
    )
    .await?;

    let channel = |name: &str, uri: StorageUri| Channel {
        channel_name: name.to_string(),
        data_source: DataSource {
            s3_data_source: S3DataSource {
                s3_data_type: S3DataType::S3Prefix,
                s3_uri: uri,
                s3_data_distribution_type: S3DataDistributionType::FullyReplicated,
            },
        },
        content_type: None,
        compression_type: None,
        record_wrapper_type: None,
        input_mode: None,
    };
    let mut channels = vec![channel(
        ARGUMENTS_CHANNEL,
        payload::dir_uri(&base, PayloadKind::Arguments),
    )];
    if let Some(dep) = settings.dependencies() {
        let file = dep
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("dependencies");
        let uri = base.join(DEPENDENCIES_CHANNEL);
        store.put_file(dep, &uri.join(file)).await?;
        channels.push(channel(DEPENDENCIES_CHANNEL, uri));
    }
    if settings.include_local_workdir() {
        let uri = base.join(WORKDIR_CHANNEL);
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let filter = settings.custom_file_filter();
        let mut n = 0usize;
        for (file, rel) in walk(&cwd, &filter)? {
            store.put_file(&file, &uri.join(&rel)).await?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::invalid_config(
                "include_local_workdir",
                format!("no file of {} passes the file filter", cwd.display()),
            ));
        }
        channels.push(channel(WORKDIR_CHANNEL, uri));
    }

    let mut environment = settings.environment_variables().clone();
    environment.insert(FUNCTION_ENV.to_string(), who.function.to_string());
    environment.insert(
        payload::SECRET_KEY_ENV.to_string(),
        key.as_str().to_string(),
    );
    let arguments = vec![
        FUNCTION_FLAG.to_string(),
        who.function.to_string(),
        "--binary-version".to_string(),
        who.binary_version.to_string(),
    ];
    let mut binary_size = None;
    let (image, entrypoint) = if local {
        let exe = std::env::current_exe().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot find the current executable: {e}"),
            )
        })?;
        if let Some(dir) = store.local_path(&base) {
            environment.insert(OUTPUT_DIR_ENV.to_string(), dir.display().to_string());
        }
        (
            settings.image_uri().unwrap_or(LOCAL_IMAGE).to_string(),
            vec![exe.display().to_string()],
        )
    } else {
        if crate::image::is_graviton(settings.instance_type()) {
            return Err(Error::invalid_config(
                "instance_type",
                format!(
                    "{} is a Graviton (arm64) instance; remote functions run a Linux x86-64 \
                     binary, so choose an x86-64 instance type",
                    settings.instance_type()
                ),
            ));
        }
        let image = match settings.image_uri() {
            Some(i) => i.to_string(),
            None => crate::image::default_image_uri(backend.region())?,
        };
        let exe = match settings.executable() {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe().map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot find the current executable: {e}"),
                )
            })?,
        };
        let (entry, size) = upload_executable(session, &exe, &base).await?;
        environment.insert(BINARY_SIZE_ENV.to_string(), size.to_string());
        binary_size = Some(size);
        channels.push(channel(BOOTSTRAP_CHANNEL, base.join(BOOTSTRAP_CHANNEL)));
        (image, entry)
    };

    let spec = TrainingJobSpec {
        vpc_config: None,
        training_job_name: job_name.clone(),
        algorithm_specification: AlgorithmSpecification {
            training_image: image,
            training_input_mode: TrainingInputMode::File,
            metric_definitions: Vec::new(),
            container_entrypoint: entrypoint,
            container_arguments: arguments,
        },
        role_arn: settings.role().map(str::to_string),
        input_data_config: channels,
        output_data_config: OutputDataConfig {
            s3_output_path: root,
            kms_key_id: None,
        },
        resource_config: ResourceConfig {
            instance_count: settings.instance_count(),
            instance_type: settings.instance_type().to_string(),
            volume_size_in_gb: settings.volume_size(),
        },
        stopping_condition: StoppingCondition {
            max_runtime_in_seconds: settings.max_runtime_in_seconds(),
        },
        hyper_parameters: Default::default(),
        environment,
        tags: settings.tags().to_vec(),
    };
    backend.create_training_job(spec).await?;
    tracing::info!(target: "sagemaker::remote", job = %job_name, function = who.function, "remote function job created");
    Ok((job_name, binary_size))
}

/// Uploads the executable for a remote backend after checking it is a Linux x86-64 ELF
/// file; returns the entry point that makes it executable and runs it, and its size.
async fn upload_executable(
    session: &Session,
    exe: &Path,
    base: &StorageUri,
) -> Result<(Vec<String>, u64)> {
    let bytes = tokio::fs::read(exe).await.map_err(|e| Error::io(exe, e))?;
    if !is_linux_x86_64_elf(&bytes) {
        return Err(Error::invalid_config(
            "executable",
            format!(
                "{} is not a Linux x86-64 executable, so SageMaker cannot run it; cross-compile \
                 (e.g. `cargo build --release --target x86_64-unknown-linux-gnu`) and pass the \
                 binary with RemoteSettings::builder().executable(path)",
                exe.display()
            ),
        ));
    }
    let file = exe
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("remote-function")
        .to_string();
    let size = bytes.len() as u64;
    session
        .store()
        .put_bytes(bytes, &base.join(BOOTSTRAP_CHANNEL).join(&file))
        .await?;
    tracing::info!(
        target: "sagemaker::remote",
        bytes = size,
        "uploaded the executable {} ({:.1} MB; build with --release and strip = true to keep it small)",
        exe.display(),
        size as f64 / 1e6
    );
    let path = format!("/opt/ml/input/data/{BOOTSTRAP_CHANNEL}/{file}");
    Ok((
        vec![
            "/bin/sh".into(),
            "-c".into(),
            "chmod +x \"$0\" && exec \"$0\" \"$@\"".into(),
            path,
        ],
        size,
    ))
}

/// The size in bytes of the executable a remote-function job uploaded (recorded in its
/// environment as [`BINARY_SIZE_ENV`]); `None` on the local backend, which runs the binary in
/// place.
pub fn uploaded_binary_size(d: &TrainingJobDescription) -> Option<u64> {
    d.environment.get(BINARY_SIZE_ENV)?.parse().ok()
}

/// Every regular file under `dir` that `filter` keeps, with its `/`-separated relative path,
/// sorted. Ignored directories are not entered; symlinks are skipped, so nothing outside
/// `dir` is uploaded.
fn walk(
    dir: &Path,
    filter: &crate::settings::FileFilter,
) -> Result<Vec<(std::path::PathBuf, String)>> {
    let entries = sagemaker_core::walk::walk(
        dir,
        sagemaker_core::walk::Symlinks::Skip,
        sagemaker_core::walk::Missing::Error,
        |rel| filter.keeps(&sagemaker_core::walk::rel_slash(rel)),
    )?;
    Ok(entries
        .into_iter()
        .filter(|e| e.metadata.is_file())
        .map(|e| {
            let rel = e.rel_slash();
            (e.path, rel)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A remote (non-local) backend that records the specs it is given.
    struct Recording {
        store: Arc<sagemaker_local::LocalStore>,
        specs: Arc<Mutex<Vec<TrainingJobSpec>>>,
    }

    #[async_trait::async_trait]
    impl sagemaker_core::Backend for Recording {
        fn name(&self) -> &str {
            "recording"
        }
        fn capabilities(&self) -> sagemaker_core::Capability {
            sagemaker_core::Capability::none().with_training(true)
        }
        fn region(&self) -> &str {
            "eu-west-1"
        }
        fn store(&self) -> Arc<dyn sagemaker_core::ArtifactStore> {
            self.store.clone()
        }
        async fn default_bucket(&self) -> Result<String> {
            Ok("bucket".into())
        }
        async fn create_training_job(
            &self,
            spec: TrainingJobSpec,
        ) -> Result<TrainingJobDescription> {
            let d = TrainingJobDescription::from_spec(
                &spec,
                "arn".into(),
                time::OffsetDateTime::now_utc(),
            );
            self.specs.lock().unwrap().push(spec);
            Ok(d)
        }
    }

    const WHO: Identity = Identity {
        function: "my_crate::train",
        binary_version: "my-crate@1.0.0",
    };

    fn recording() -> (tempfile::TempDir, Session, Arc<Mutex<Vec<TrainingJobSpec>>>) {
        let dir = tempfile::tempdir().unwrap();
        let specs = Arc::new(Mutex::new(Vec::new()));
        let backend = Recording {
            store: Arc::new(sagemaker_local::LocalStore::new(dir.path().join("s3"))),
            specs: specs.clone(),
        };
        crate::INIT_CALLED.store(true, Ordering::SeqCst);
        (dir, Session::new(backend), specs)
    }

    fn settings(session: &Session) -> crate::RemoteSettingsBuilder {
        RemoteSettings::builder()
            .instance_type("ml.m5.large")
            .session(session.clone())
    }

    #[tokio::test]
    async fn remote_backend_uploads_the_binary_and_runs_it() {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return;
        }
        let (_dir, session, specs) = recording();
        let exe = std::env::current_exe().unwrap();
        let s = settings(&session)
            .role("arn:aws:iam::1:role/R")
            .executable(&exe)
            .build()
            .unwrap();
        let (job, uploaded) = start_job(&session, &s, WHO, b"[1]".to_vec()).await.unwrap();
        assert!(job.starts_with("train-"), "{job}");
        let spec = specs.lock().unwrap().pop().unwrap();
        let algo = &spec.algorithm_specification;
        assert_eq!(
            algo.training_image,
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "the default image is the region's scikit-learn training image"
        );
        let size = std::fs::metadata(&exe).unwrap().len();
        assert_eq!(spec.environment[BINARY_SIZE_ENV], size.to_string());
        assert_eq!(uploaded, Some(size));
        let file = exe.file_name().unwrap().to_str().unwrap();
        assert_eq!(algo.container_entrypoint[0], "/bin/sh");
        assert_eq!(
            algo.container_entrypoint[3],
            format!("/opt/ml/input/data/{BOOTSTRAP_CHANNEL}/{file}")
        );
        assert_eq!(
            algo.container_arguments,
            [
                FUNCTION_FLAG,
                WHO.function,
                "--binary-version",
                WHO.binary_version
            ]
        );
        let channels: Vec<&str> = spec
            .input_data_config
            .iter()
            .map(|c| c.channel_name.as_str())
            .collect();
        assert_eq!(channels, [ARGUMENTS_CHANNEL, BOOTSTRAP_CHANNEL]);
        assert!(!spec.environment.contains_key(OUTPUT_DIR_ENV));
        assert_eq!(spec.environment[FUNCTION_ENV], WHO.function);
        assert_eq!(spec.role_arn.as_deref(), Some("arn:aws:iam::1:role/R"));
        let uploaded = StorageUri::s3("bucket", format!("{job}/{BOOTSTRAP_CHANNEL}/{file}"));
        let listed = session.store().list(&uploaded).await.unwrap();
        assert_eq!(listed[0].size, std::fs::metadata(&exe).unwrap().len());
    }

    #[tokio::test]
    async fn remote_backend_refuses_what_it_cannot_run() {
        let (dir, session, specs) = recording();
        let script = dir.path().join("run.sh");
        std::fs::write(
            &script,
            "#!/bin/sh
echo not an ELF binary
",
        )
        .unwrap();
        let s = settings(&session)
            .image_uri("img:1")
            .executable(&script)
            .build()
            .unwrap();
        let e = start_job(&session, &s, WHO, b"[1]".to_vec())
            .await
            .unwrap_err();
        assert_eq!(e.context(context::FIELD), Some("executable"), "{e}");
        assert!(e.message().contains("cross-compile"), "{e}");

        let s = settings(&session)
            .instance_type("ml.m6g.large")
            .build()
            .unwrap();
        let e = start_job(&session, &s, WHO, b"[1]".to_vec())
            .await
            .unwrap_err();
        assert_eq!(e.context(context::FIELD), Some("instance_type"), "{e}");
        assert!(e.message().contains("Graviton"), "{e}");
        assert!(specs.lock().unwrap().is_empty());
    }

    /// A completed job on a non-local backend: the result comes from its model.tar.gz, is
    /// verified and copied to `{root}/{job}/results/`; a function error comes back as `E`.
    #[tokio::test]
    async fn completed_jobs_are_read_from_their_model_artifact() {
        let (dir, session, _specs) = recording();
        let spec = TrainingJobSpec {
            vpc_config: None,
            training_job_name: "add-1".into(),
            algorithm_specification: AlgorithmSpecification {
                training_image: "img".into(),
                training_input_mode: TrainingInputMode::File,
                metric_definitions: Vec::new(),
                container_entrypoint: Vec::new(),
                container_arguments: Vec::new(),
            },
            role_arn: None,
            input_data_config: Vec::new(),
            output_data_config: OutputDataConfig {
                s3_output_path: StorageUri::s3("bucket", "root"),
                kms_key_id: None,
            },
            resource_config: ResourceConfig {
                instance_count: 1,
                instance_type: "ml.m5.large".into(),
                volume_size_in_gb: 30,
            },
            stopping_condition: StoppingCondition {
                max_runtime_in_seconds: 60,
            },
            hyper_parameters: Default::default(),
            environment: Default::default(),
            tags: Vec::new(),
        };
        let mut d =
            TrainingJobDescription::from_spec(&spec, "arn".into(), time::OffsetDateTime::now_utc());
        d.training_job_status = TrainingJobStatus::Completed;
        let artifact = StorageUri::s3("bucket", "root/add-1/output/model.tar.gz");
        let store = session.store();
        let pack = |kind: PayloadKind, bytes: &[u8]| {
            let model = dir.path().join(format!("model-{}", kind.dir()));
            payload::write_dir(&model.join(kind.dir()), bytes, WHO, None).unwrap();
            let tar = dir.path().join(format!("{}.tar.gz", kind.dir()));
            sagemaker_core::artifact::pack_dir(&model, &tar).unwrap();
            tar
        };

        // No artifact at all: a typed NotFound naming it.
        let e = outcome::<i64, String>(&session, WHO, &d).await.unwrap_err();
        let e = e.sdk().unwrap();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.message().contains("model.tar.gz"), "{e}");

        store
            .put_file(&pack(PayloadKind::Results, b"5"), &artifact)
            .await
            .unwrap();
        let v: i64 = outcome::<i64, String>(&session, WHO, &d).await.unwrap();
        assert_eq!(v, 5);
        let base = StorageUri::s3("bucket", "root/add-1");
        assert!(
            payload::exists(store.as_ref(), &base, PayloadKind::Results)
                .await
                .unwrap(),
            "the result is copied next to the arguments"
        );
        // Now read from there, even once the artifact is gone.
        store.delete(&artifact).await.unwrap();
        assert_eq!(outcome::<i64, String>(&session, WHO, &d).await.unwrap(), 5);

        // A function error: the job completed, the exception payload is in the artifact.
        d.training_job_name = "add-2".into();
        d.model_artifacts = Some(ModelArtifacts {
            s3_model_artifacts: StorageUri::s3("bucket", "elsewhere/model.tar.gz"),
        });
        let exc = serde_json::to_vec(&Exception::Function("too big")).unwrap();
        store
            .put_file(
                &pack(PayloadKind::Exception, &exc),
                &StorageUri::s3("bucket", "elsewhere/model.tar.gz"),
            )
            .await
            .unwrap();
        let e = outcome::<i64, String>(&session, WHO, &d).await.unwrap_err();
        assert_eq!(e.into_function().as_deref(), Some("too big"));
    }

    #[test]
    fn elf_check() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(
            is_linux_x86_64_elf(&exe),
            cfg!(all(target_os = "linux", target_arch = "x86_64"))
        );
        assert!(!is_linux_x86_64_elf(b"#!/bin/sh\necho hello world\n"));
        let mut arm = exe[..20.min(exe.len())].to_vec();
        if arm.len() == 20 {
            arm[18] = 0xb7; // aarch64
            assert!(!is_linux_x86_64_elf(&arm));
        }
    }
}
