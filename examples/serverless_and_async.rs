//! Serverless and asynchronous inference with an iris model on the local backend: deploy
//! serverless (cold start, warm requests, throttling), then asynchronous (requests through
//! the object store, a failure, notifications in place of SNS).
//!
//! Run it with `cargo run --example serverless_and_async`.

use std::time::{Duration, Instant};

use sagemaker::local::AsyncNotification;
use sagemaker::predictor::{IdentitySerializer, JsonDeserializer};
use sagemaker::prelude::*;
use sagemaker::sklearn::sklearn_predictor;

fn iris_csv() -> String {
    let iris = smartcore::dataset::iris::load_dataset();
    let mut out = String::from("sepal_length,sepal_width,petal_length,petal_width,species\n");
    for (i, row) in iris.data.chunks(4).enumerate() {
        let species = &iris.target_names[iris.target[i] as usize];
        out.push_str(&format!(
            "{},{},{},{},{species}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> sagemaker::Result<()> {
    let root = tempfile::tempdir()?;
    // Notifications of async endpoints arrive here instead of SNS.
    let (tx, notifications) = std::sync::mpsc::channel::<AsyncNotification>();
    let backend = LocalSession::builder()
        .root(root.path())
        .serverless_idle_timeout(Duration::from_secs(30))
        .on_async_notification(move |n| {
            let _ = tx.send(n.clone());
        })
        .build_backend()?;
    let session = Session::new(backend.clone());

    let data_file = root.path().join("iris.csv");
    std::fs::write(&data_file, iris_csv())?;
    let train = session.upload_data(&data_file, "iris").await?;
    let estimator = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .session(session.clone())
        .build()?;
    estimator.fit(train).await?;
    let model = estimator.create_model().await?;

    // ---- Serverless: memory and concurrency instead of instances ----------------------
    let serverless = ServerlessInferenceConfig::builder()
        .memory_size_in_mb(2048)
        .max_concurrency(5)
        .build()?;
    let predictor = sklearn_predictor(model.deploy(DeployConfig::serverless(serverless)).await?);
    let endpoint = predictor.endpoint_name().to_string();
    let row = vec![vec![5.1, 3.5, 1.4, 0.2]];
    for label in ["first request (cold start)", "second request (warm)"] {
        let t = Instant::now();
        let answer = predictor.predict(&row).await?;
        println!("serverless {label}: {answer} in {:.3?}", t.elapsed());
    }
    backend.scale_to_zero(&endpoint)?; // what 30 s without requests would do
    predictor.predict(&row).await?;
    let metrics = backend.endpoint_metrics(&endpoint)?;
    println!(
        "serverless: {} requests, {} cold starts, last model setup {:.3?}",
        metrics.serverless_invocations,
        metrics.cold_starts,
        metrics.last_model_setup_time.unwrap_or_default()
    );
    predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;

    // ---- Asynchronous: requests through the object store ------------------------------
    let config = AsyncInferenceConfig::builder()
        .max_concurrent_invocations_per_instance(2)
        .success_topic("iris-done")
        .error_topic("iris-failed")
        .build()?;
    let raw = model
        .deploy_async(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .async_inference_config(config)
                .build()?,
        )
        .await?;
    let iris = AsyncPredictor::new(sklearn_predictor(raw.predictor().clone()));
    let wait = WaitConfig::default().timeout(Duration::from_secs(60));

    let response = iris.predict_async(&row).await?;
    println!("async result will be at {}", response.output_path());
    println!("async result: {}", response.get_result(Some(&wait)).await?);
    println!(
        "async predict (waits): {}",
        iris.predict(&vec![vec![6.7, 3.1, 5.6, 2.4]], &wait).await?
    );

    // A request the model refuses: its failure object is written instead of a result.
    let csv = AsyncPredictor::new(
        raw.predictor()
            .clone()
            .with_serializer(IdentitySerializer::new("text/csv"))
            .with_deserializer(JsonDeserializer::new()),
    );
    let bad = csv.predict_async("not,a,number,row").await?;
    match bad.get_result(Some(&wait)).await {
        Err(e) if e.kind() == ErrorKind::ModelError => println!(
            "async failure at {}: {}",
            bad.failure_path()
                .map(|f| f.to_string())
                .unwrap_or_default(),
            e.message()
        ),
        other => println!("unexpected: {other:?}"),
    }
    for n in notifications.try_iter() {
        println!(
            "notification on {}: {} {:?}",
            n.topic, n.inference_id, n.status
        );
    }
    iris.delete_endpoint(DeleteEndpoint::AndConfig).await?;
    iris.delete_model().await.ok();
    Ok(())
}
