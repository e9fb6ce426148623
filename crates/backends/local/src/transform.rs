//! Batch transform on the local backend, following SageMaker's rules (Amazon SageMaker developer
//! guide, "Batch transform" and "Associate prediction results with input records":
//! <https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html>): every input object processed on its own, `<input>.out` in input order, `Line`
//! splitting with `MultiRecord`/`SingleRecord` batching under `MaxPayloadInMB`, gzip inputs,
//! `DataProcessing` (input filter, join, output filter), `AssembleWith`, parallel invocations,
//! and no partial `.out` ever visible.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Mutex};

use sagemaker_core::artifact::{self, ExtractLimits};
use sagemaker_core::container::{Handler, InvocationRequest, ServingEnv};
use sagemaker_core::error::context;
use sagemaker_core::jsonpath::{JsonPath, join_json};
use sagemaker_core::spec::*;
use sagemaker_core::{Error, ErrorKind, Result, StorageUri};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::owner::Owner;
use crate::{Inner, LOCAL_ACCOUNT, lock, records};

const MB: usize = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransformRecord {
    pub(crate) description: TransformJobDescription,
    pub(crate) owner: Owner,
}

/// A transform job running in this process.
pub(crate) struct LiveTransform {
    record: Mutex<TransformRecord>,
    stop: Arc<AtomicBool>,
}

/// One input object: where to read it and its path relative to the input prefix.
struct InputFile {
    path: PathBuf,
    relative: String,
}

/// Everything the workers need, fixed for the job.
struct Plan {
    split: SplitType,
    strategy: BatchStrategy,
    max_payload: usize,
    gzip: bool,
    content_type: Option<String>,
    accept: Option<String>,
    assemble_line: bool,
    processing: Option<Processing>,
}

struct Processing {
    input_filter: Option<JsonPath>,
    output_filter: Option<JsonPath>,
    join: bool,
    csv: bool,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn job_dir(root: &Path, name: &str) -> PathBuf {
    root.join("transform-jobs").join(name)
}

fn base_type(ct: Option<&str>) -> &str {
    ct.unwrap_or("").split(';').next().unwrap_or("").trim()
}

impl Inner {
    fn persist_transform(&self, record: &TransformRecord) -> Result<()> {
        let path = job_dir(&self.root, &record.description.transform_job_name).join("job.json");
        records::write(&path, record)?;
        self.tick();
        Ok(())
    }

    fn update_transform(&self, job: &LiveTransform, f: impl FnOnce(&mut TransformJobDescription)) {
        let mut record = lock(&job.record);
        f(&mut record.description);
        if let Err(e) = self.persist_transform(&record) {
            tracing::warn!(target: "sagemaker::local", "cannot persist a transform record: {e}");
        }
    }

    /// The objects under the input prefix, or those a manifest lists.
    fn transform_inputs(&self, source: &TransformS3DataSource) -> Result<Vec<InputFile>> {
        let uri = &source.s3_uri;
        let mut files = Vec::new();
        match source.s3_data_type {
            S3DataType::S3Prefix => {
                let root = self.store.path_of(uri)?;
                if root.is_file() {
                    let name = root
                        .file_name()
                        .map(|n| crate::store::key_of(Path::new(n)))
                        .unwrap_or_default();
                    files.push(InputFile {
                        path: root,
                        relative: name,
                    });
                } else {
                    for (path, _) in crate::store::walk(&root)? {
                        let relative =
                            crate::store::key_of(path.strip_prefix(&root).unwrap_or(&path));
                        files.push(InputFile { path, relative });
                    }
                }
            }
            S3DataType::ManifestFile => {
                // [{"prefix": "s3://bucket/dir/"}, "a.csv", "sub/b.csv"]
                let path = self.store.path_of(uri)?;
                let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                let entries: Vec<serde_json::Value> =
                    serde_json::from_slice(&text).map_err(|e| {
                        Error::new(
                            ErrorKind::Validation,
                            format!("manifest {uri} is not a JSON list: {e}"),
                        )
                    })?;
                let prefix = entries
                    .first()
                    .and_then(|e| e.get("prefix"))
                    .and_then(|p| p.as_str())
                    .ok_or_else(|| Error::new(ErrorKind::Validation, format!("manifest {uri}: the first entry must be {{\"prefix\": \"s3://...\"}}")))?;
                let prefix: StorageUri = prefix.parse()?;
                for key in entries.iter().skip(1) {
                    let key = key.as_str().ok_or_else(|| {
                        Error::new(
                            ErrorKind::Validation,
                            format!("manifest {uri}: entries after the prefix must be strings"),
                        )
                    })?;
                    let path = self.store.path_of(&prefix.join(key))?;
                    if !path.is_file() {
                        return Err(Error::new(
                            ErrorKind::NotFound,
                            format!("manifest {uri} lists {key}, which does not exist"),
                        ));
                    }
                    files.push(InputFile {
                        path,
                        relative: key.to_string(),
                    });
                }
            }
            other => {
                return Err(Error::unsupported(
                    "local",
                    &format!("{other} transform inputs"),
                ));
            }
        }
        if files.is_empty() {
            return Err(Error::new(
                ErrorKind::Validation,
                format!("No S3 objects found under S3 URL \"{uri}\": the input is empty"),
            )
            .with_context(context::PATH, uri.to_string()));
        }
        Ok(files)
    }

    pub(crate) fn create_transform_job(
        self: &Arc<Self>,
        spec: TransformJobSpec,
    ) -> Result<TransformJobDescription> {
        let name = spec.transform_job_name.clone();
        let model = self.describe_model(&spec.model_name)?;
        let container = self.container_for(&model.primary_container.image)?;
        let inputs = self.transform_inputs(&spec.transform_input.data_source.s3_data_source)?;
        let output_root = self.store.path_of(&spec.transform_output.s3_output_path)?;
        let input_root = self
            .store
            .path_of(&spec.transform_input.data_source.s3_data_source.s3_uri)?;
        if output_root.starts_with(&input_root) {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "the output path {} is inside the input {}",
                    spec.transform_output.s3_output_path,
                    spec.transform_input.data_source.s3_data_source.s3_uri
                ),
            ));
        }
        let processing = match &spec.data_processing {
            Some(dp) => {
                check_join_types(&spec)?;
                let input_filter = dp
                    .input_filter
                    .as_deref()
                    .map(JsonPath::parse)
                    .transpose()?;
                let output_filter = dp
                    .output_filter
                    .as_deref()
                    .map(JsonPath::parse)
                    .transpose()?;
                Some(Processing {
                    input_filter: input_filter.filter(|f| !f.is_root()),
                    output_filter: output_filter.filter(|f| !f.is_root()),
                    join: dp.join_source == Some(JoinSource::Input),
                    csv: base_type(spec.transform_input.content_type.as_deref()) == "text/csv",
                })
            }
            None => None,
        };
        let dir = job_dir(&self.root, &name);
        std::fs::create_dir_all(self.root.join("transform-jobs"))
            .map_err(|e| Error::io(&self.root, e))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("transform job '{name}' already exists"),
                )
                .with_context(context::RESOURCE, name));
            }
            Err(e) => return Err(Error::io(&dir, e)),
        }
        let record = TransformRecord {
            description: TransformJobDescription::from_spec(
                &spec,
                sagemaker_core::arn(&self.region, LOCAL_ACCOUNT, "transform-job", &name),
                now(),
            ),
            owner: Owner::current(),
        };
        self.persist_transform(&record)?;
        let description = record.description.clone();
        let job = Arc::new(LiveTransform {
            record: Mutex::new(record),
            stop: Arc::new(AtomicBool::new(false)),
        });
        lock(&self.transforms).insert(name.clone(), job.clone());
        let inner = self.clone();
        std::thread::Builder::new()
            .name(format!("transform-{name}"))
            .spawn(move || {
                let ran = crate::guard::catch(|| {
                    inner.run_transform(
                        &job,
                        &spec,
                        &model,
                        container,
                        inputs,
                        processing,
                        &output_root,
                    )
                });
                // Whatever panicked, the job must not stay InProgress forever.
                if let Err(message) = ran {
                    inner.finish_transform(
                        &job,
                        TransformJobStatus::Failed,
                        Some(format!(
                            "InternalServerError: the transform panicked: {message}"
                        )),
                    );
                }
                lock(&inner.transforms).remove(&spec.transform_job_name);
                inner.tick();
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("cannot start the transform thread: {e}"),
                )
            })?;
        Ok(description)
    }

    #[allow(clippy::too_many_arguments)]
    fn run_transform(
        &self,
        job: &LiveTransform,
        spec: &TransformJobSpec,
        model: &ModelDescription,
        container: Arc<dyn sagemaker_core::container::Container>,
        inputs: Vec<InputFile>,
        processing: Option<Processing>,
        output_root: &Path,
    ) {
        let name = &spec.transform_job_name;
        let dir = job_dir(&self.root, name);
        let log = TransformLog::create(&dir.join("log.txt"));
        self.update_transform(job, |d| d.transform_start_time = Some(now()));
        log.line(&format!(
            "[sagemaker] Starting transform job {name}: {} input file(s)",
            inputs.len()
        ));

        // Load the model: once per parallel invocation slot.
        let model_dir = dir.join("model");
        let loaded = (|| -> Result<(Vec<Arc<dyn Handler>>, Plan)> {
            let dir = match &model.primary_container.model_data_url {
                Some(uri) => {
                    let path = self.store.path_of(uri)?;
                    if path.is_dir() {
                        path
                    } else {
                        artifact::extract_file(&path, &model_dir, ExtractLimits::default())?;
                        model_dir.clone()
                    }
                }
                None => {
                    std::fs::create_dir_all(&model_dir).map_err(|e| Error::io(&model_dir, e))?;
                    model_dir.clone()
                }
            };
            let mut env = self.container_environment(&model.primary_container.environment);
            env.extend(spec.environment.clone());
            let probe = container.load(&dir, &ServingEnv::new(env.clone()))?;
            let proposal = probe.execution_parameters().unwrap_or_default();
            let concurrency = spec
                .max_concurrent_transforms
                .filter(|c| *c > 0)
                .or(proposal.max_concurrent_transforms)
                .unwrap_or(1)
                .max(1);
            let max_payload_mb = spec
                .max_payload_in_mb
                .or(proposal.max_payload_in_mb)
                .unwrap_or(6);
            let strategy = spec
                .batch_strategy
                .or(proposal.batch_strategy)
                .unwrap_or(BatchStrategy::MultiRecord);
            env.insert("SAGEMAKER_BATCH".into(), "true".into());
            env.insert(
                "SAGEMAKER_MAX_PAYLOAD_IN_MB".into(),
                max_payload_mb.to_string(),
            );
            env.insert(
                "SAGEMAKER_BATCH_STRATEGY".into(),
                match strategy {
                    BatchStrategy::SingleRecord => "SINGLE_RECORD".into(),
                    _ => "MULTI_RECORD".into(),
                },
            );
            env.insert(
                "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS".into(),
                concurrency.to_string(),
            );
            let slots =
                concurrency as usize * spec.transform_resources.instance_count.max(1) as usize;
            let serving_env = ServingEnv::new(env);
            let mut handlers = Vec::with_capacity(slots);
            for _ in 0..slots {
                handlers.push(container.load(&dir, &serving_env)?);
            }
            log.line(&format!(
                "[sagemaker] {slots} parallel invocation(s), {strategy}, MaxPayloadInMB {max_payload_mb}, SplitType {}",
                spec.transform_input.split_type
            ));
            Ok((
                handlers,
                Plan {
                    split: spec.transform_input.split_type,
                    strategy,
                    max_payload: if max_payload_mb == 0 {
                        usize::MAX
                    } else {
                        max_payload_mb as usize * MB
                    },
                    gzip: spec.transform_input.compression_type == CompressionType::Gzip,
                    content_type: spec.transform_input.content_type.clone(),
                    accept: spec.transform_output.accept.clone(),
                    assemble_line: spec.transform_output.assemble_with == AssembleWith::Line,
                    processing,
                },
            ))
        })();
        let (handlers, plan) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let reason = format!(
                    "ClientError: the model could not be loaded: {}",
                    e.message()
                );
                log.line(&format!("[sagemaker] {reason}"));
                self.finish_transform(job, TransformJobStatus::Failed, Some(reason));
                return;
            }
        };

        let mut failures = Vec::new();
        for input in &inputs {
            if job.stop.load(Ordering::SeqCst) {
                break;
            }
            // The input's key is opaque: map it like any key so `..` cannot leave the output.
            let out = output_root.join(crate::store::key_path(&format!("{}.out", input.relative)));
            match process_file(input, &out, &plan, &handlers, &job.stop) {
                Ok(records) => log.line(&format!(
                    "[sagemaker] {}: {records} record(s) -> {}.out",
                    input.relative, input.relative
                )),
                Err(FileError::Stopped) => break,
                Err(FileError::Failed(why)) => {
                    log.line(&format!("[sagemaker] {}: failed: {why}", input.relative));
                    failures.push(format!("{}: {why}", input.relative));
                }
            }
        }
        if job.stop.load(Ordering::SeqCst) {
            log.line("[sagemaker] Stopped on request");
            self.finish_transform(job, TransformJobStatus::Stopped, None);
        } else if failures.is_empty() {
            log.line("[sagemaker] Completed");
            self.finish_transform(job, TransformJobStatus::Completed, None);
        } else {
            let reason = format!(
                "ClientError: {} of {} input file(s) failed; no .out was written for them: {}",
                failures.len(),
                inputs.len(),
                failures.join("; ")
            );
            self.finish_transform(job, TransformJobStatus::Failed, Some(reason));
        }
    }

    fn finish_transform(
        &self,
        job: &LiveTransform,
        status: TransformJobStatus,
        reason: Option<String>,
    ) {
        self.update_transform(job, |d| {
            d.transform_job_status = status;
            d.failure_reason = reason;
            d.transform_end_time = Some(now());
        });
        tracing::info!(target: "sagemaker::local", job = %lock(&job.record).description.transform_job_name, status = %status, "transform job ended");
    }

    pub(crate) fn describe_transform_job(&self, name: &str) -> Result<TransformJobDescription> {
        if let Some(job) = lock(&self.transforms).get(name).cloned() {
            return Ok(lock(&job.record).description.clone());
        }
        let path = job_dir(&self.root, name).join("job.json");
        let mut record: TransformRecord = records::read(&path, "transform job", name)?;
        let d = &mut record.description;
        if matches!(
            d.transform_job_status,
            TransformJobStatus::InProgress | TransformJobStatus::Stopping
        ) && !record.owner.is_alive()
        {
            d.transform_job_status = TransformJobStatus::Failed;
            d.failure_reason = Some(format!(
                "InternalServerError: the process that ran this job (pid {}) exited before the job finished",
                record.owner.pid
            ));
        }
        Ok(record.description)
    }

    pub(crate) fn stop_transform_job(&self, name: &str) -> Result<()> {
        let job = lock(&self.transforms).get(name).cloned();
        match job {
            Some(job) => {
                job.stop.store(true, Ordering::SeqCst);
                self.update_transform(&job, |d| {
                    d.transform_job_status = TransformJobStatus::Stopping
                });
                Ok(())
            }
            None => {
                let d = self.describe_transform_job(name)?;
                Err(Error::new(
                    ErrorKind::Validation,
                    format!(
                        "transform job '{name}' is {}; only a running job can be stopped",
                        d.transform_job_status
                    ),
                ))
            }
        }
    }

    pub(crate) fn transform_job_logs(&self, name: &str) -> Result<String> {
        let dir = job_dir(&self.root, name);
        if !dir.join("job.json").exists() {
            return Err(Error::not_found("transform job", name));
        }
        Ok(std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default())
    }
}

/// The live transform jobs of a backend.
pub(crate) type LiveTransforms = Mutex<HashMap<String, Arc<LiveTransform>>>;

struct TransformLog {
    file: Mutex<Option<std::fs::File>>,
}

impl TransformLog {
    fn create(path: &Path) -> Self {
        TransformLog {
            file: Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok(),
            ),
        }
    }

    fn line(&self, line: &str) {
        if let Some(f) = lock(&self.file).as_mut() {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

enum FileError {
    Stopped,
    Failed(String),
}

/// A mini-batch: its records' raw text (for joins), the request body, and where it starts.
struct Batch {
    index: usize,
    first_line: usize,
    body: Vec<u8>,
    records: Vec<Vec<u8>>,
}

/// Processes one input file into `out`, written to a temporary file and renamed only when
/// every batch succeeded. Returns the number of records.
fn process_file(
    input: &InputFile,
    out: &Path,
    plan: &Plan,
    handlers: &[Arc<dyn Handler>],
    stop: &AtomicBool,
) -> std::result::Result<usize, FileError> {
    let fail = |m: String| FileError::Failed(m);
    let dir = out
        .parent()
        .ok_or_else(|| fail("no output directory".into()))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| fail(format!("cannot write to {}: {e}", dir.display())))?;
    let file = std::fs::File::open(&input.path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let reader: Box<dyn Read + Send> = if plan.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let reader = BufReader::with_capacity(MB, reader);

    let abort = AtomicBool::new(false);
    let workers = handlers.len();
    let (batch_tx, batch_rx) = sync_channel::<Batch>(workers * 2);
    let batch_rx = Mutex::new(batch_rx);
    let (result_tx, result_rx) = channel::<(usize, std::result::Result<Vec<u8>, String>)>();
    let mut records = 0usize;
    let outcome = std::thread::scope(|scope| {
        for handler in handlers {
            let (rx, tx, abort) = (&batch_rx, result_tx.clone(), &abort);
            scope.spawn(move || {
                loop {
                    let batch = match lock(rx).recv() {
                        Ok(b) => b,
                        Err(_) => break,
                    };
                    if abort.load(Ordering::Relaxed) {
                        continue;
                    }
                    let index = batch.index;
                    // A panic fails this batch (and so the file), not the whole process.
                    let result = crate::guard::catch(|| run_batch(handler.as_ref(), batch, plan))
                        .unwrap_or_else(|m| Err(format!("the transform worker panicked: {m}")));
                    if tx.send((index, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(result_tx);
        let reader_abort = &abort;
        let splitter =
            scope.spawn(move || split_batches(reader, plan, batch_tx, reader_abort, stop));
        let written = write_in_order(result_rx, tmp.as_file_mut(), &abort, stop);
        abort.store(true, Ordering::Relaxed);
        let split = splitter
            .join()
            .unwrap_or_else(|_| Err("the reader panicked".into()));
        (split, written)
    });
    let (split, written) = outcome;
    if stop.load(Ordering::SeqCst) {
        return Err(FileError::Stopped);
    }
    // A reader error (bad gzip, oversized record) is the first cause; report it first.
    let count = split.map_err(fail)?;
    written.map_err(fail)?;
    records += count;
    tmp.as_file_mut().flush().map_err(|e| fail(e.to_string()))?;
    tmp.persist(out)
        .map_err(|e| fail(format!("cannot write {}: {}", out.display(), e.error)))?;
    Ok(records)
}

/// Reads the input and sends mini-batches. Returns the number of records.
fn split_batches(
    mut reader: BufReader<Box<dyn Read + Send>>,
    plan: &Plan,
    tx: std::sync::mpsc::SyncSender<Batch>,
    abort: &AtomicBool,
    stop: &AtomicBool,
) -> std::result::Result<usize, String> {
    let read_err = |e: std::io::Error| read_error(plan, e);
    let mut index = 0;
    let send = |batch: Batch| tx.send(batch).is_ok();
    if plan.split == SplitType::None {
        // The whole object is one request.
        // Read one byte past the limit at most: a gzip bomb stops here, not in memory.
        let mut body = Vec::new();
        (&mut reader)
            .take((plan.max_payload as u64).saturating_add(1))
            .read_to_end(&mut body)
            .map_err(read_err)?;
        if body.len() > plan.max_payload {
            return Err(format!(
                "the file is larger than MaxPayloadInMB ({} bytes); split it with SplitType=Line",
                plan.max_payload
            ));
        }
        let records = vec![body.clone()];
        send(Batch {
            index: 0,
            first_line: 1,
            body,
            records,
        });
        return Ok(1);
    }
    if plan.split == SplitType::RecordIO {
        return split_recordio(reader, plan, tx, abort, stop);
    }
    if plan.split != SplitType::Line {
        return Err(format!(
            "SplitType {} is not supported by the local backend",
            plan.split
        ));
    }
    if plan.processing.is_none() && plan.strategy == BatchStrategy::MultiRecord {
        return split_chunks(reader, plan, tx, abort, stop);
    }
    let keep_records = plan.processing.is_some();
    let mut body = Vec::with_capacity(plan.max_payload.min(8 * MB));
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut in_batch = 0usize;
    let mut first_line = 1usize;
    let mut line_no = 0usize;
    let mut total = 0usize;
    let mut line = Vec::new();
    loop {
        if abort.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
            return Ok(total);
        }
        line.clear();
        // A record longer than MaxPayloadInMB is refused before it is read whole (+2 leaves
        // room for its line ending).
        let cap = (plan.max_payload as u64).saturating_add(2);
        let n = (&mut reader)
            .take(cap)
            .read_until(b'\n', &mut line)
            .map_err(read_err)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if n as u64 == cap && line.last() != Some(&b'\n') {
            return Err(format!(
                "record {line_no} is larger than MaxPayloadInMB ({} bytes)",
                plan.max_payload
            ));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        let record_bytes = if keep_records {
            processed_len(&line, plan).map_err(|e| format!("record {line_no}: {e}"))?
        } else {
            line.len() + 1
        };
        if record_bytes > plan.max_payload {
            return Err(format!(
                "record {line_no} is {record_bytes} bytes, larger than MaxPayloadInMB ({} bytes)",
                plan.max_payload
            ));
        }
        let full = in_batch > 0
            && (plan.strategy == BatchStrategy::SingleRecord
                || body.len() + record_bytes > plan.max_payload);
        if full {
            if !send(Batch {
                index,
                first_line,
                body: std::mem::take(&mut body),
                records: std::mem::take(&mut records),
            }) {
                return Ok(total);
            }
            index += 1;
            in_batch = 0;
            first_line = line_no;
        }
        if in_batch == 0 {
            first_line = line_no;
        }
        if keep_records {
            records.push(line.clone());
        } else {
            body.extend_from_slice(&line);
            body.push(b'\n');
        }
        in_batch += 1;
        total += 1;
    }
    if in_batch > 0 {
        send(Batch {
            index,
            first_line,
            body,
            records,
        });
    }
    Ok(total)
}

/// A read error's message: a gzip input that fails to decode is named as such.
fn read_error(plan: &Plan, e: std::io::Error) -> String {
    if plan.gzip {
        format!("not a valid gzip file: {e}")
    } else {
        format!("read error: {e}")
    }
}

/// The magic number that starts every MXNet RecordIO record header.
const RECORDIO_MAGIC: u32 = 0xced7_230a;

/// Reads one RecordIO record (all its parts, headers and padding included) as raw bytes;
/// `None` at a clean end of input.
fn read_recordio(
    reader: &mut impl Read,
    record_no: usize,
    limit: usize,
) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut raw = Vec::new();
    loop {
        let mut header = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            match reader.read(&mut header[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(format!("read error: {e}")),
            }
        }
        if got == 0 && raw.is_empty() {
            return Ok(None);
        }
        if got < 8 {
            return Err(format!(
                "record {record_no}: the RecordIO header is cut short"
            ));
        }
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        if magic != RECORDIO_MAGIC {
            return Err(format!(
                "record {record_no}: not a RecordIO record (magic {magic:#x})"
            ));
        }
        let lrecord = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let (flag, len) = (lrecord >> 29, (lrecord & ((1 << 29) - 1)) as usize);
        let padded = len.div_ceil(4) * 4;
        // Checked before allocating: a header may declare up to 512 MB, and the parts of a
        // split record add up.
        if raw.len() + header.len() + padded > limit {
            return Err(format!(
                "record {record_no} is larger than MaxPayloadInMB ({limit} bytes): its RecordIO \
                 header declares {len} more bytes after {} already read",
                raw.len()
            ));
        }
        raw.extend_from_slice(&header);
        let start = raw.len();
        raw.resize(start + padded, 0);
        reader
            .read_exact(&mut raw[start..])
            .map_err(|_| format!("record {record_no}: the RecordIO data is cut short"))?;
        // 0: a whole record; 1, 2, 3: first, middle and last part of a split one.
        if flag == 0 || flag == 3 {
            return Ok(Some(raw));
        }
    }
}

/// `SplitType=RecordIO`: whole RecordIO records, batched like lines.
fn split_recordio(
    mut reader: BufReader<Box<dyn Read + Send>>,
    plan: &Plan,
    tx: std::sync::mpsc::SyncSender<Batch>,
    abort: &AtomicBool,
    stop: &AtomicBool,
) -> std::result::Result<usize, String> {
    let (mut index, mut total, mut first) = (0usize, 0usize, 1usize);
    let mut body = Vec::new();
    let mut in_batch = 0;
    while let Some(record) = read_recordio(&mut reader, total + 1, plan.max_payload)? {
        if abort.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
            return Ok(total);
        }
        total += 1;
        if record.len() > plan.max_payload {
            return Err(format!(
                "record {total} is {} bytes, larger than MaxPayloadInMB ({} bytes)",
                record.len(),
                plan.max_payload
            ));
        }
        if in_batch > 0
            && (plan.strategy == BatchStrategy::SingleRecord
                || body.len() + record.len() > plan.max_payload)
        {
            let batch = Batch {
                index,
                first_line: first,
                body: std::mem::take(&mut body),
                records: Vec::new(),
            };
            if tx.send(batch).is_err() {
                return Ok(total);
            }
            index += 1;
            in_batch = 0;
        }
        if in_batch == 0 {
            first = total;
        }
        body.extend_from_slice(&record);
        in_batch += 1;
    }
    if in_batch > 0 {
        let _ = tx.send(Batch {
            index,
            first_line: first,
            body,
            records: Vec::new(),
        });
    }
    Ok(total)
}

/// `MultiRecord` without data processing: the request is whole lines of the file, so read
/// payload-sized blocks and cut them at their last newline, without touching each line.
fn split_chunks(
    mut reader: BufReader<Box<dyn Read + Send>>,
    plan: &Plan,
    tx: std::sync::mpsc::SyncSender<Batch>,
    abort: &AtomicBool,
    stop: &AtomicBool,
) -> std::result::Result<usize, String> {
    let read_err = |e: std::io::Error| read_error(plan, e);
    let limit = plan.max_payload.min(64 * MB);
    let (mut index, mut lines_before) = (0usize, 0usize);
    let mut carry: Vec<u8> = Vec::new();
    loop {
        if abort.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
            return Ok(lines_before);
        }
        let mut buf = std::mem::take(&mut carry);
        buf.reserve(limit.saturating_sub(buf.len()));
        let mut eof = false;
        while buf.len() < limit {
            let want = limit - buf.len();
            let got = (&mut reader)
                .take(want as u64)
                .read_to_end(&mut buf)
                .map_err(read_err)?;
            if got == 0 {
                eof = true;
                break;
            }
        }
        if buf.is_empty() {
            return Ok(lines_before);
        }
        if !eof {
            match memchr::memrchr(b'\n', &buf) {
                Some(cut) => carry = buf.split_off(cut + 1),
                None => {
                    return Err(format!(
                        "record {} is larger than MaxPayloadInMB ({} bytes)",
                        lines_before + 1,
                        plan.max_payload
                    ));
                }
            }
        } else if !buf.ends_with(b"\n") {
            buf.push(b'\n');
        }
        let lines = memchr::memchr_iter(b'\n', &buf).count();
        let batch = Batch {
            index,
            first_line: lines_before + 1,
            body: buf,
            records: Vec::new(),
        };
        if tx.send(batch).is_err() {
            return Ok(lines_before);
        }
        index += 1;
        lines_before += lines;
        if eof {
            return Ok(lines_before);
        }
    }
}

/// The size a record takes in a request after the input filter (for payload limits).
fn processed_len(line: &[u8], plan: &Plan) -> std::result::Result<usize, String> {
    match plan
        .processing
        .as_ref()
        .and_then(|p| p.input_filter.as_ref())
    {
        None => Ok(line.len() + 1),
        Some(_) => Ok(filtered_record(line, plan)?.len() + 1),
    }
}

/// A record after the input filter, as the request text.
fn filtered_record(line: &[u8], plan: &Plan) -> std::result::Result<Vec<u8>, String> {
    let Some(p) = &plan.processing else {
        return Ok(line.to_vec());
    };
    let Some(filter) = &p.input_filter else {
        return Ok(line.to_vec());
    };
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
    if p.csv {
        let fields = split_csv(text);
        let picked = filter
            .select_indexes(fields.len())
            .map_err(|e| e.to_string())?;
        Ok(picked
            .iter()
            .map(|&i| fields[i])
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes())
    } else {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a JSON record: {e}"))?;
        let selected = filter.select_json(&value).map_err(|e| e.to_string())?;
        Ok(selected.to_string().into_bytes())
    }
}

/// Splits a CSV record into its raw fields (quotes kept), for filters and joins.
fn split_csv(text: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&text[start..]);
    fields
}

/// Invokes the model for one batch and turns its answer into the bytes to write.
fn run_batch(
    handler: &dyn Handler,
    mut batch: Batch,
    plan: &Plan,
) -> std::result::Result<Vec<u8>, String> {
    let body = match &plan.processing {
        None => std::mem::take(&mut batch.body),
        Some(_) => {
            let mut body = Vec::new();
            for (i, r) in batch.records.iter().enumerate() {
                let filtered = filtered_record(r, plan)
                    .map_err(|e| format!("record {}: {e}", batch.first_line + i))?;
                body.extend_from_slice(&filtered);
                body.push(b'\n');
            }
            body
        }
    };
    let mut request = InvocationRequest::default();
    request.body = body;
    request.content_type = plan.content_type.clone();
    request.accept = plan.accept.clone();
    let response = crate::guard::invoke(handler, &request).map_err(|e| {
        let last = batch.first_line + batch.records.len().max(1) - 1;
        format!(
            "records {}-{last}: the model answered {} {}",
            batch.first_line, e.status, e.message
        )
    })?;
    let Some(p) = &plan.processing else {
        let mut out = response.body;
        if plan.assemble_line && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        return Ok(out);
    };
    // Pair the answer's records with the input records, join, filter, assemble.
    let outputs = split_response(
        &response.body,
        response.content_type.as_str(),
        batch.records.len(),
    )
    .map_err(|e| format!("records starting at {}: {e}", batch.first_line))?;
    let mut out = Vec::new();
    for (i, (input, output)) in batch.records.iter().zip(outputs).enumerate() {
        let record_no = batch.first_line + i;
        let text = std::str::from_utf8(input)
            .map_err(|_| format!("record {record_no}: not UTF-8 text"))?;
        let written = if p.csv {
            let out_fields: Vec<String> = match output {
                OutputRecord::Csv(line) => {
                    split_csv(&line).into_iter().map(str::to_string).collect()
                }
                OutputRecord::Json(v) => vec![json_scalar_text(&v)],
            };
            let mut fields: Vec<String> = if p.join {
                split_csv(text).into_iter().map(str::to_string).collect()
            } else {
                Vec::new()
            };
            fields.extend(out_fields);
            match &p.output_filter {
                Some(f) => {
                    let picked = f
                        .select_indexes(fields.len())
                        .map_err(|e| format!("record {record_no}: output filter: {e}"))?;
                    picked
                        .iter()
                        .map(|&i| fields[i].as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                }
                None => fields.join(","),
            }
        } else {
            let output = match output {
                OutputRecord::Json(v) => v,
                OutputRecord::Csv(line) => serde_json::Value::String(line),
            };
            let joined = if p.join {
                let input: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| format!("record {record_no}: not a JSON record: {e}"))?;
                join_json(input, output)
            } else {
                output
            };
            let selected = match &p.output_filter {
                Some(f) => f
                    .select_json(&joined)
                    .map_err(|e| format!("record {record_no}: output filter: {e}"))?,
                None => joined,
            };
            selected.to_string()
        };
        out.extend_from_slice(written.as_bytes());
        if plan.assemble_line {
            out.push(b'\n');
        }
    }
    Ok(out)
}

enum OutputRecord {
    Csv(String),
    Json(serde_json::Value),
}

fn json_scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Splits a model's answer into one output per input record, per its content type.
fn split_response(
    body: &[u8],
    content_type: &str,
    expected: usize,
) -> std::result::Result<Vec<OutputRecord>, String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| "Failed to parse output from the algorithm: not UTF-8".to_string())?;
    let records: Vec<OutputRecord> = match base_type(Some(content_type)) {
        "text/csv" => text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| OutputRecord::Csv(l.to_string()))
            .collect(),
        "application/jsonlines" => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map(OutputRecord::Json))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| format!("Failed to parse output from the algorithm as JSON Lines: {e}"))?,
        "application/json" => {
            let v: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| format!("Failed to parse output from the algorithm as JSON: {e}"))?;
            match v {
                serde_json::Value::Array(items) if items.len() == expected => {
                    items.into_iter().map(OutputRecord::Json).collect()
                }
                other if expected == 1 => vec![OutputRecord::Json(other)],
                other => {
                    return Err(format!(
                        "the model answered {} for {expected} records",
                        match other {
                            serde_json::Value::Array(a) => format!("{} values", a.len()),
                            _ => "one value".to_string(),
                        }
                    ));
                }
            }
        }
        other => {
            return Err(format!(
                "cannot pair the model's '{other}' output with input records"
            ));
        }
    };
    if records.len() != expected {
        return Err(format!(
            "the model answered {} records for {expected} inputs",
            records.len()
        ));
    }
    Ok(records)
}

/// Writes results in batch order as they arrive.
fn write_in_order(
    rx: Receiver<(usize, std::result::Result<Vec<u8>, String>)>,
    out: &mut std::fs::File,
    abort: &AtomicBool,
    stop: &AtomicBool,
) -> std::result::Result<(), String> {
    let mut pending: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut next = 0;
    let mut writer = std::io::BufWriter::with_capacity(MB, out);
    for (index, result) in rx {
        if stop.load(Ordering::Relaxed) {
            abort.store(true, Ordering::Relaxed);
            return Ok(());
        }
        match result {
            Ok(bytes) => {
                pending.insert(index, bytes);
                while let Some(bytes) = pending.remove(&next) {
                    writer.write_all(&bytes).map_err(|e| e.to_string())?;
                    next += 1;
                }
            }
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
    }
    writer.flush().map_err(|e| e.to_string())
}
/// SageMaker joins input to output only when `Accept` and `ContentType` match ("Associate
/// prediction results with input records", Amazon SageMaker developer guide:
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html>):
/// a CSV row cannot carry a JSON answer nor a JSON record a CSV one. JSON and JSON Lines are
/// one family here, because each line of either is parsed as the same JSON record.
fn check_join_types(spec: &TransformJobSpec) -> Result<()> {
    let joins = spec
        .data_processing
        .as_ref()
        .is_some_and(|dp| dp.join_source == Some(JoinSource::Input));
    let content_type = spec.transform_input.content_type.as_deref().unwrap_or("");
    let Some(accept) = spec.transform_output.accept.as_deref() else {
        return Ok(());
    };
    let family = |v: &str| match base_type(Some(v)) {
        "application/jsonlines" | "application/json" => "application/json".to_string(),
        other => other.to_string(),
    };
    if joins && family(accept) != family(content_type) {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "JoinSource Input joins each prediction to its input record, so the values for \
                 Accept ('{accept}') and ContentType ('{content_type}') must match"
            ),
        )
        .with_context(context::FIELD, "Accept")
        .with_context(context::RESOURCE, spec.transform_job_name.clone()));
    }
    Ok(())
}
