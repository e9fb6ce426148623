//! The iris flow on Amazon SageMaker: the same `SKLearn` code as `examples/iris.rs`, on an
//! AWS session. Train a built-in `RandomForestClassifier` (run by SageMaker's scikit-learn
//! container through the SDK's embedded Python entry point), deploy it, predict, batch
//! transform, and delete everything it created.
//!
//! On AWS (costs money: an ml.m5.large training job, endpoint and transform job for a few
//! minutes each):
//!
//! ```sh
//! SAGEMAKER_ROLE=arn:aws:iam::123456789012:role/SageMakerRole \
//!   cargo run --features aws --example aws_sklearn
//! ```
//!
//! Against a moto server (free, no account; `cargo xtask test` runs it this way):
//!
//! ```sh
//! SAGEMAKER_MOTO_URL=http://127.0.0.1:5000 cargo run --features aws --example aws_sklearn
//! ```
//!
//! moto records every call but runs no container: jobs complete at once without artifacts,
//! and the endpoint answers from a queue this example fills first (see `docs/aws.md`).

use std::time::Duration;

use sagemaker::prelude::*;

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    let moto = std::env::var("SAGEMAKER_MOTO_URL").ok();
    let (session, role, wait) = match &moto {
        Some(url) => (
            // Hermetic: dummy credentials, fixed region, no retries, nothing read from ~/.aws.
            AwsSession::builder()
                .region("us-east-1")
                .static_credentials("testing", "testing")
                .endpoint_url(url.clone())
                .max_attempts(1)
                .build()?,
            "SageMakerRole".to_string(),
            WaitConfig::default().poll_interval(Duration::from_millis(50)),
        ),
        None => (
            AwsSession::from_env().await?,
            std::env::var("SAGEMAKER_ROLE").map_err(|_| {
                sagemaker::Error::invalid_config(
                    "role",
                    "set SAGEMAKER_ROLE to the SageMaker execution role (a name or an ARN)",
                )
            })?,
            WaitConfig::default().poll_interval(Duration::from_secs(10)),
        ),
    };
    println!("region:           {}", session.region());
    println!("default bucket:   {}", session.default_bucket().await?);

    // 1. Data: a few iris rows with a header and a `species` column.
    let dir = std::env::temp_dir().join(format!("aws-sklearn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| sagemaker::Error::io(&dir, e))?;
    let csv = dir.join("iris.csv");
    std::fs::write(
        &csv,
        "species,sepal_length,sepal_width,petal_length,petal_width\n\
         setosa,5.1,3.5,1.4,0.2\nsetosa,4.9,3.0,1.4,0.2\nversicolor,7.0,3.2,4.7,1.4\n\
         versicolor,6.4,3.2,4.5,1.5\nvirginica,6.3,3.3,6.0,2.5\nvirginica,5.8,2.7,5.1,1.9\n",
    )
    .map_err(|e| sagemaker::Error::io(&csv, e))?;
    let train = session.upload_data(&csv, "aws-sklearn-example").await?;
    println!("training data:    {train}");

    // 2. The estimator: identical to the local one but for the role.
    let estimator = SKLearn::builder()
        .entry_point("RandomForestClassifier")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role(role)
        .hyperparameter("n_estimators", 50)
        .hyperparameter("target", "species")
        .session(session.clone())
        .build()?;
    let job = estimator
        .fit_with(
            train.to_string(),
            FitOptions::new().wait_config(wait.clone()).logs(true),
        )
        .await?;
    let d = job.describe().await?;
    println!(
        "training job:     {} ({})",
        job.name(),
        d.training_job_status
    );
    println!("model artifact:   {}", job.model_data().await?);

    // 3. Deploy and predict.
    let endpoint = sagemaker::names::name_from_base("aws-sklearn-example");
    let config = DeployConfig::builder()
        .instance_type("ml.m5.large")
        .endpoint_name(endpoint.clone())
        .wait_config(wait.clone())
        .build()?;
    let predictor = job.deploy(config).await?;
    println!("endpoint:         {endpoint} (InService)");
    if let Some(url) = &moto {
        queue_moto_answer(url, "[\"virginica\"]")?;
    }
    let labels = predictor.predict(&vec![vec![6.3, 3.3, 6.0, 2.5]]).await?;
    println!("prediction:       {labels} for [6.3, 3.3, 6.0, 2.5]");

    // 4. Batch transform the training file (label column dropped by the input filter).
    let bucket = session.default_bucket().await?;
    let transformer = estimator
        .transformer(
            sagemaker::transformer::TransformerBuilder::default()
                .instance_count(1)
                .instance_type("ml.m5.large")
                .output_path(format!("s3://{bucket}/aws-sklearn-example-output")),
        )
        .await?;
    let t = transformer
        .transform(
            &train.to_string(),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .wait_config(wait.clone()),
        )
        .await?;
    println!(
        "transform job:    {} ({})",
        t.name(),
        t.describe().await?.transform_job_status
    );

    // 5. Clean up: endpoint, config, models (the transformer's and the endpoint's).
    predictor.delete_model().await?;
    predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;
    session
        .backend()
        .delete_model(transformer.model_name())
        .await?;
    println!("deleted the endpoint, its config and both models");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// moto answers `InvokeEndpoint` from a queue filled through its own API.
fn queue_moto_answer(url: &str, body: &str) -> sagemaker::Result<()> {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let payload = serde_json::json!({
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{"Body": body, "ContentType": "application/json",
                     "InvokedProductionVariant": "AllTraffic", "CustomAttributes": ""}]
    })
    .to_string();
    let io = |e| sagemaker::Error::io(host, e);
    let mut s = std::net::TcpStream::connect(host).map_err(io)?;
    write!(
        s,
        "POST /moto-api/static/sagemaker/endpoint-results HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .map_err(io)?;
    let mut response = String::new();
    s.read_to_string(&mut response).map_err(io)?;
    if !response.starts_with("HTTP/1.1 201") && !response.starts_with("HTTP/1.0 201") {
        return Err(sagemaker::Error::new(
            sagemaker::ErrorKind::Internal,
            format!(
                "moto refused the queued answer: {}",
                response.lines().next().unwrap_or("")
            ),
        ));
    }
    Ok(())
}
