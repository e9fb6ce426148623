//! Remote functions on the AWS backend: the job a call creates and the outcome read back
//! from its `model.tar.gz`.

use super::*;

/// A `model.tar.gz` holding what the remote-function job writes into `SM_MODEL_DIR`:
/// `{kind}/payload.json` and `{kind}/metadata.json`, written by `crate::add`.
fn remote_artifact(kind: &str, payload: &[u8]) -> Vec<u8> {
    let f = crate::add::function();
    let who = sagemaker_remote::payload::Identity {
        function: f.name(),
        binary_version: f.binary_version(),
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir_all(model.join(kind)).unwrap();
    std::fs::write(model.join(kind).join("payload.json"), payload).unwrap();
    std::fs::write(
        model.join(kind).join("metadata.json"),
        serde_json::to_vec(&sagemaker_remote::payload::metadata_for(payload, who)).unwrap(),
    )
    .unwrap();
    let tar = dir.path().join("model.tar.gz");
    sagemaker_core::artifact::pack_dir(&model, &tar).unwrap();
    std::fs::read(tar).unwrap()
}

/// The rules of one remote call on AWS whose job completes with `artifact` as its
/// `model.tar.gz`: what was created, which objects were put, which were got.
struct RemoteCall {
    rules: Rules,
    created: Arc<Mutex<Vec<CreateTrainingJobInput>>>,
    put: Arc<Mutex<Vec<String>>>,
    got: Arc<Mutex<Vec<String>>>,
}

fn remote_call(artifact: Vec<u8>) -> RemoteCall {
    let created: Arc<Mutex<Vec<CreateTrainingJobInput>>> = slot();
    let put = slot();
    let got: Arc<Mutex<Vec<String>>> = slot();
    let (c, d, g) = (created.clone(), created.clone(), got.clone());
    let rules = Rules {
        sagemaker: vec![
            mock!(aws_sdk_sagemaker::Client::create_training_job)
                .match_requests(move |r| {
                    c.lock().unwrap().push(r.clone());
                    true
                })
                .then_output(|| {
                    CreateTrainingJobOutput::builder()
                        .training_job_arn("arn:aws:sagemaker:us-east-1:123456789012:training-job/x")
                        .build()
                }),
            // The job of the last create, completed (with its model.tar.gz under the default
            // bucket's `{job}/output/`).
            mock!(aws_sdk_sagemaker::Client::describe_training_job).then_output(move || {
                let name = d
                    .lock()
                    .unwrap()
                    .last()
                    .unwrap()
                    .training_job_name()
                    .unwrap()
                    .to_string();
                training_job(&name, sm::TrainingJobStatus::Completed, None)
            }),
        ],
        s3: vec![
            bucket_exists_rule(slot()),
            put_object_rule(put.clone()),
            // No payload under `{job}/results/` or `{job}/exception/` yet.
            mock!(aws_sdk_s3::Client::head_object).then_http_response(|| {
                aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(404).unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                )
            }),
            mock!(aws_sdk_s3::Client::get_object)
                .match_requests(move |r| {
                    g.lock().unwrap().push(format!(
                        "s3://{}/{}",
                        r.bucket().unwrap_or_default(),
                        r.key().unwrap_or_default()
                    ));
                    r.key().is_some_and(|k| k.ends_with("/output/model.tar.gz"))
                })
                .then_output(move || {
                    aws_sdk_s3::operation::get_object::GetObjectOutput::builder()
                        .body(aws_sdk_s3::primitives::ByteStream::from(artifact.clone()))
                        .build()
                }),
        ],
        sts: vec![sts_rule()],
        ..Rules::default()
    };
    RemoteCall {
        rules,
        created,
        put,
        got,
    }
}

/// A `#[remote]` call on AWS: the `CreateTrainingJob` it sends (the default scikit-learn
/// image, the uploaded binary run through `/bin/sh -c`, the arguments and binary channels,
/// role, output path, environment with the binary's size, tags, limits), then the result read
/// back from the job's `model.tar.gz` and copied to `{s3_root_uri}/{job}/results/`.
#[tokio::test]
async fn a_remote_call_sends_create_training_job_and_reads_its_model_tar_gz() {
    sagemaker_remote::init();
    let call = remote_call(remote_artifact("results", b"5"));
    let session = session(&call.rules);
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::fake_linux_binary(dir.path(), 4096);
    let f = crate::add::function();
    let settings = f
        .settings()
        .unwrap()
        .to_builder()
        .role("arn:aws:iam::123456789012:role/SageMakerRole")
        .executable(&exe)
        .session(session)
        .build()
        .unwrap();
    assert_eq!(f.call_with(&settings, (2, 3)).await.unwrap(), 5);

    let created = call.created.lock().unwrap();
    assert_eq!(created.len(), 1);
    let r = &created[0];
    let job = r.training_job_name().unwrap();
    assert!(job.starts_with("add-"), "{job}");
    let algo = r.algorithm_specification().unwrap();
    assert_eq!(
        algo.training_image(),
        Some("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    );
    assert_eq!(
        algo.training_input_mode(),
        Some(&sm::TrainingInputMode::File)
    );
    assert_eq!(
        algo.container_entrypoint(),
        [
            "/bin/sh",
            "-c",
            "chmod +x \"$0\" && exec \"$0\" \"$@\"",
            "/opt/ml/input/data/sagemaker_remote_function_bootstrap/remote-fn"
        ]
    );
    assert_eq!(
        algo.container_arguments(),
        [
            "--sagemaker-remote-function",
            "aws::add",
            "--binary-version",
            &format!("sagemaker-aws@{}", env!("CARGO_PKG_VERSION"))
        ]
    );
    assert_eq!(
        r.role_arn(),
        Some("arn:aws:iam::123456789012:role/SageMakerRole")
    );
    let channels: Vec<(&str, &str)> = r
        .input_data_config()
        .iter()
        .map(|c| {
            let s3 = c.data_source().unwrap().s3_data_source().unwrap();
            assert_eq!(s3.s3_data_type(), Some(&sm::S3DataType::S3Prefix));
            assert_eq!(
                s3.s3_data_distribution_type(),
                Some(&sm::S3DataDistribution::FullyReplicated)
            );
            (c.channel_name().unwrap(), s3.s3_uri().unwrap())
        })
        .collect();
    let arguments = format!("s3://{BUCKET}/{job}/arguments");
    let bootstrap = format!("s3://{BUCKET}/{job}/sagemaker_remote_function_bootstrap");
    assert_eq!(
        channels,
        [
            ("arguments", arguments.as_str()),
            ("sagemaker_remote_function_bootstrap", bootstrap.as_str())
        ]
    );
    assert_eq!(
        r.output_data_config().unwrap().s3_output_path(),
        Some(format!("s3://{BUCKET}/").as_str())
    );
    let res = r.resource_config().unwrap();
    assert_eq!(
        res.instance_type(),
        Some(&sm::TrainingInstanceType::MlM5Xlarge)
    );
    assert_eq!(res.instance_count(), Some(1));
    assert_eq!(res.volume_size_in_gb(), Some(30));
    assert_eq!(
        r.stopping_condition().unwrap().max_runtime_in_seconds(),
        Some(86_400)
    );
    // The per-job payload secret is random: present, 32 bytes in hex, and never in the payload.
    let secret = &r.environment().unwrap()["REMOTE_FUNCTION_SECRET_KEY"];
    assert_eq!(secret.len(), 64, "{secret}");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    let env: Vec<(&str, &str)> = r
        .environment()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.as_str() != "REMOTE_FUNCTION_SECRET_KEY")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    assert_eq!(
        env,
        [
            ("MODE", "fast"),
            ("SAGEMAKER_REMOTE_BINARY_SIZE", "4096"),
            ("SAGEMAKER_REMOTE_FUNCTION_NAME", "aws::add"),
        ]
    );
    let tags: Vec<(&str, &str)> = r
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags, [("team", "ml")]);
    assert!(r.hyper_parameters().is_none_or(|h| h.is_empty()));

    // Uploads: the arguments (payload first), the binary; then the result copied from the
    // artifact to where get_future and other readers look for it.
    let put = call.put.lock().unwrap();
    let key = |rest: &str| format!("s3://{BUCKET}/{job}/{rest}");
    assert_eq!(
        *put,
        [
            key("arguments/payload.json"),
            key("arguments/metadata.json"),
            key("sagemaker_remote_function_bootstrap/remote-fn"),
            key("results/payload.json"),
            key("results/metadata.json"),
        ]
    );
    assert_eq!(*call.got.lock().unwrap(), [key("output/model.tar.gz")]);
}

/// On AWS a function's own error completes the job with the exception payload in its
/// output: it comes back as the function's `E`. A payload that fails its SHA-256 check is
/// refused.
#[tokio::test]
async fn a_remote_functions_error_and_a_tampered_result_come_back_typed() {
    sagemaker_remote::init();
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::fake_linux_binary(dir.path(), 64);
    let f = crate::add::function();
    let settings = |session: Session| {
        f.settings()
            .unwrap()
            .to_builder()
            .role("arn:aws:iam::123456789012:role/SageMakerRole")
            .executable(&exe)
            .session(session)
            .build()
            .unwrap()
    };

    let exc =
        serde_json::to_vec(&serde_json::json!({"Function": "9223372036854775807 + 1 overflows"}))
            .unwrap();
    let call = remote_call(remote_artifact("exception", &exc));
    let e = f
        .call_with(&settings(session(&call.rules)), (i64::MAX, 1))
        .await
        .unwrap_err();
    assert_eq!(
        e.into_function().as_deref(),
        Some("9223372036854775807 + 1 overflows")
    );
    assert!(
        call.put
            .lock()
            .unwrap()
            .iter()
            .any(|k| k.ends_with("/exception/metadata.json")),
        "the exception is copied next to the arguments"
    );

    // The metadata says "5", the payload is "6".
    let mut tampered = remote_artifact("results", b"5");
    {
        let d = tempfile::tempdir().unwrap();
        let tar = d.path().join("m.tar.gz");
        std::fs::write(&tar, &tampered).unwrap();
        let out = d.path().join("m");
        sagemaker_core::artifact::extract_file(&tar, &out, Default::default()).unwrap();
        std::fs::write(out.join("results/payload.json"), b"6").unwrap();
        sagemaker_core::artifact::pack_dir(&out, &tar.with_extension("2")).unwrap();
        tampered = std::fs::read(tar.with_extension("2")).unwrap();
    }
    let call = remote_call(tampered);
    let e = f
        .call_with(&settings(session(&call.rules)), (2, 3))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrorKind::Serialization), "{e}");
    assert!(e.to_string().contains("integrity check failed"), "{e}");
    assert!(
        !call
            .put
            .lock()
            .unwrap()
            .iter()
            .any(|k| k.contains("/results/")),
        "a refused payload is not copied"
    );
}
