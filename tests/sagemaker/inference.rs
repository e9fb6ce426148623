//! Real-time inference: deploy, predict and delete like the Python SDK, variants and updates,
//! broken artifacts, two endpoints at once.

use std::time::Duration;

use sagemaker::prelude::*;
use sagemaker_test_support::{session, sklearn, upload};

use crate::trained_iris;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_predict_and_delete_like_the_python_sdk() {
    use sagemaker::predictor::{
        BytesDeserializer, CsvDeserializer, IdentitySerializer, NpyData, NumpyDeserializer,
    };
    use sagemaker::sklearn::sklearn_predictor;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let est = trained_iris(&s, root.path(), "iris-deploy").await;
    let predictor = sklearn_predictor(
        est.deploy(
            DeployConfig::builder()
                .initial_instance_count(2)
                .instance_type("ml.m5.large")
                .build()
                .unwrap(),
        )
        .await
        .unwrap(),
    );
    let name = predictor.endpoint_name().to_string();
    assert!(name.starts_with("iris-deploy-20"), "{name}");
    // Model, endpoint config and endpoint share the name, as the Python SDK's deploy does.
    let backend = s.backend();
    let d = backend.describe_endpoint(&name).await.unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
    assert_eq!(d.endpoint_config_name, name);
    assert_eq!(d.production_variants[0].current_instance_count, 2);
    let config = backend.describe_endpoint_config(&name).await.unwrap();
    assert_eq!(config.production_variants[0].variant_name, "AllTraffic");
    assert_eq!(config.production_variants[0].model_name, name);
    let model = backend.describe_model(&name).await.unwrap();
    assert_eq!(
        model.primary_container.environment["SAGEMAKER_PROGRAM"],
        "LogisticRegression"
    );

    // The seed's two rows, then one row alone (a one-row matrix, not the upstream 500).
    let rows = vec![vec![5.1, 3.5, 1.4, 0.2], vec![6.7, 3.1, 5.6, 2.4]];
    assert_eq!(
        predictor.predict(&rows).await.unwrap(),
        serde_json::json!(["setosa", "virginica"])
    );
    assert_eq!(
        predictor.predict(&[5.1, 3.5, 1.4, 0.2][..]).await.unwrap(),
        serde_json::json!(["setosa"])
    );

    // JSON in (the three shapes), CSV and NPY out.
    let raw = Predictor::attach(name.clone(), s.clone());
    for body in [
        "[[5.1,3.5,1.4,0.2]]",
        "[5.1,3.5,1.4,0.2]",
        "{\"instances\": [[5.1,3.5,1.4,0.2]]}",
    ] {
        let mut r = sagemaker::spec::InvokeEndpointRequest::new("", body.as_bytes().to_vec());
        r.content_type = Some("application/json".into());
        let answer = raw.predict_raw(r).await.unwrap();
        assert_eq!(answer.body, b"[\"setosa\"]", "{body}");
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            answer.invoked_production_variant.as_deref(),
            Some("AllTraffic")
        );
    }
    let csv_out = raw
        .clone()
        .with_serializer(IdentitySerializer::new("text/csv"))
        .with_deserializer(CsvDeserializer::new());
    let table = csv_out
        .predict("5.1,3.5,1.4,0.2\n6.7,3.1,5.6,2.4")
        .await
        .unwrap();
    assert_eq!(
        table,
        vec![vec!["setosa".to_string()], vec!["virginica".to_string()]]
    );
    let npy = raw
        .clone()
        .with_serializer(NumpySerializer::new())
        .with_deserializer(NumpyDeserializer::new());
    let arr = npy.predict(&rows).await.unwrap();
    assert_eq!(arr.shape, vec![2]);
    assert_eq!(
        arr.data,
        NpyData::Str(vec!["setosa".into(), "virginica".into()])
    );

    // Bad requests: the container's status comes back inside a ModelError; nothing breaks.
    let bytes = raw
        .clone()
        .with_serializer(IdentitySerializer::new("text/csv"))
        .with_deserializer(BytesDeserializer);
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "text/plain",
            "1,2,3,4",
            415,
            "content type 'text/plain' is not supported",
        ),
        (
            "text/csv",
            "5.1,3.5,1.4",
            400,
            "row 1: 3 values, the model expects 4 features",
        ),
        ("text/csv", "5.1,3.5,1.4,0.2\n1,2", 400, "row 2: 2 values"),
        (
            "text/csv",
            "5.1,abc,1.4,0.2",
            400,
            "row 1, column 2: value 'abc' is not a number",
        ),
        ("text/csv", "", 400, "the body holds no rows"),
        (
            "application/json",
            "[[1,2,3,4],[1,2]]",
            400,
            "row 2: 2 values",
        ),
        ("application/json", "{oops", 400, "invalid JSON"),
    ];
    for (ct, body, status, needle) in cases {
        let e = bytes
            .predict_with(*body, &InvokeOptions::new().content_type(*ct))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ModelError, "{body}: {e}");
        assert_eq!(
            e.context("original_status_code"),
            Some(status.to_string().as_str()),
            "{body}: {e}"
        );
        assert!(
            e.context("original_message").unwrap().contains(needle),
            "{body}: {e}"
        );
    }
    let e = bytes
        .predict_with(
            "5.1,3.5,1.4,0.2",
            &InvokeOptions::new().accept("application/xml"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.context("original_status_code"), Some("406"), "{e}");
    assert_eq!(
        predictor.predict(&rows).await.unwrap(),
        serde_json::json!(["setosa", "virginica"])
    );

    // Cleanup in the Python SDK's order; the endpoint is gone afterwards.
    predictor.delete_model().await.unwrap();
    predictor
        .delete_endpoint(DeleteEndpoint::AndConfig)
        .await
        .unwrap();
    let e = predictor.predict(&rows).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(backend.describe_endpoint_config(&name).await.is_err());
    assert!(backend.describe_model(&name).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_split_traffic_updates_never_fail_a_request_and_cleanup_is_one_call() {
    use sagemaker::spec::ProductionVariant;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let est = trained_iris(&s, root.path(), "ab").await;
    let a = est.create_model().await.unwrap();
    let a_name = a.create().await.unwrap().model_name;
    let b = est.create_model().await.unwrap();
    let b_name = b.create().await.unwrap().model_name;
    assert_ne!(a_name, b_name);
    let variant = |name: &str, model: &str, weight: f32| ProductionVariant {
        variant_name: name.into(),
        model_name: model.into(),
        initial_instance_count: Some(1),
        instance_type: Some("ml.m5.large".into()),
        initial_variant_weight: weight,
        serverless_config: None,
    };
    sagemaker::model::deploy_variants(
        &s,
        "ab-test",
        vec![variant("A", &a_name, 3.0), variant("B", &b_name, 1.0)],
        &DeployConfig::builder()
            .initial_instance_count(1)
            .instance_type("ml.m5.large")
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let p = Predictor::attach("ab-test", s.clone());
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..400 {
        let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
        r.content_type = Some("text/csv".into());
        let v = p
            .predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .unwrap();
        *counts.entry(v).or_insert(0) += 1;
    }
    let (ca, cb) = (counts["A"], counts["B"]);
    assert!(
        (290..=310).contains(&ca) && ca + cb == 400,
        "split by weight 3:1: {counts:?}"
    );
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    r.target_variant = Some("B".into());
    assert_eq!(
        p.predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .as_deref(),
        Some("B")
    );

    // Switch to a config with only B while a client keeps calling: no request fails.
    s.backend()
        .create_endpoint_config(sagemaker::spec::EndpointConfigSpec {
            endpoint_config_name: "ab-test-b".into(),
            production_variants: vec![variant("B", &b_name, 1.0)],
            async_inference_config: None,
            tags: vec![],
        })
        .await
        .unwrap();
    let stop = sagemaker::CancellationToken::new();
    let client = {
        let (p, stop) = (p.clone(), stop.clone());
        tokio::spawn(async move {
            let mut served = 0;
            while !stop.is_cancelled() {
                let mut r =
                    sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
                r.content_type = Some("text/csv".into());
                let answer = p
                    .predict_raw(r)
                    .await
                    .expect("no request fails during an update");
                assert_eq!(answer.body, b"[\"setosa\"]");
                served += 1;
                tokio::task::yield_now().await;
            }
            served
        })
    };
    let updated = p.update_endpoint("ab-test-b", true).await.unwrap();
    assert_eq!(updated.endpoint_status, EndpointStatus::InService);
    assert_eq!(updated.endpoint_config_name, "ab-test-b");
    tokio::time::sleep(Duration::from_millis(20)).await;
    stop.cancel();
    assert!(client.await.unwrap() > 0);
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    assert_eq!(
        p.predict_raw(r)
            .await
            .unwrap()
            .invoked_production_variant
            .as_deref(),
        Some("B")
    );

    // Deleting a model in use: the record goes, the endpoint keeps serving (as SageMaker).
    s.backend().delete_model(&b_name).await.unwrap();
    let mut r = sagemaker::spec::InvokeEndpointRequest::new("", b"5.1,3.5,1.4,0.2".to_vec());
    r.content_type = Some("text/csv".into());
    assert!(p.predict_raw(r).await.is_ok());

    // One call deletes what is left.
    let (endpoints, configs, models) = sagemaker::model::delete_all(&s, "").await.unwrap();
    assert_eq!((endpoints, configs, models), (1, 2, 1));
    assert!(s.backend().list_endpoints().await.unwrap().is_empty());
    assert!(s.backend().list_models().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_artifacts_fail_the_endpoint_with_the_reason() {
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    // Not a gzip file at all.
    let junk: StorageUri = "s3://sagemaker-local/junk/model.tar.gz".parse().unwrap();
    s.store()
        .put_bytes(b"definitely not gzip".to_vec(), &junk)
        .await
        .unwrap();
    // A valid tarball whose manifest names an unknown algorithm.
    let dir = root.path().join("fake-model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"format_version":1,"algorithm":"SupportVectorMachine"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("model.json"), "{}").unwrap();
    let tar = root.path().join("fake.tar.gz");
    sagemaker::artifact::pack_dir(&dir, &tar).unwrap();
    let fake = s.upload_data(&tar, "fake").await.unwrap();
    for (uri, needle) in [
        (junk.to_string(), "model data"),
        (fake.to_string(), "SupportVectorMachine"),
    ] {
        let model = sagemaker::sklearn::SKLearnModel::builder()
            .model_data(uri)
            .framework_version("1.2-1")
            .session(s.clone())
            .build()
            .unwrap();
        let e = model
            .deploy(
                DeployConfig::builder()
                    .initial_instance_count(1)
                    .instance_type("local")
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EndpointFailed, "{e}");
        assert!(e.failure_reason().unwrap().contains(needle), "{e}");
    }
    let e = sagemaker::sklearn::SKLearnModel::builder()
        .model_data("s3://sagemaker-local/nothing/model.tar.gz")
        .framework_version("1.2-1")
        .session(s.clone())
        .build()
        .unwrap()
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("local")
                .build()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Validation,
        "missing model data is refused at CreateModel: {e}"
    );
    // A deploy without capacity is refused when its config is built, before any call.
    let err = DeployConfig::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert_eq!(err.context("field"), Some("instance_type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_endpoints_serve_different_models_at_once() {
    use sagemaker::sklearn::sklearn_predictor;
    let root = tempfile::tempdir().unwrap();
    let s = session(root.path());
    let classifier = trained_iris(&s, root.path(), "iris-clf").await;
    // y = 2·a + 1, label first.
    let reg: String = (0..60)
        .map(|i| format!("{},{}\n", 2.0 * f64::from(i) + 1.0, i))
        .collect();
    let data = upload(&s, root.path(), "line.csv", &reg).await;
    let regressor = sklearn(&s, "LinearRegression")
        .base_job_name("line")
        .build()
        .unwrap();
    regressor.fit(data).await.unwrap();

    let a = sklearn_predictor(
        classifier
            .deploy(
                DeployConfig::builder()
                    .initial_instance_count(1)
                    .instance_type("local")
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap(),
    );
    let b = sklearn_predictor(
        regressor
            .deploy(
                DeployConfig::builder()
                    .initial_instance_count(1)
                    .instance_type("local")
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap(),
    );
    assert_ne!(a.endpoint_name(), b.endpoint_name());
    for _ in 0..3 {
        assert_eq!(
            a.predict(&[5.1, 3.5, 1.4, 0.2][..]).await.unwrap(),
            serde_json::json!(["setosa"])
        );
        let y = b.predict(&[10.0][..]).await.unwrap();
        assert!((y[0].as_f64().unwrap() - 21.0).abs() < 1e-6, "{y}");
    }
    let d = s
        .backend()
        .describe_endpoint(b.endpoint_name())
        .await
        .unwrap();
    assert_eq!(d.endpoint_status, EndpointStatus::InService);
    assert_eq!(sagemaker::model::delete_all(&s, "").await.unwrap().0, 2);
}
