//! The seed walk-through: train a scikit-learn `LogisticRegression` on iris with the
//! `SKLearn` estimator, on the local backend (no Docker, no AWS account), with a held-out
//! channel for accuracy; then deploy it behind a real HTTP endpoint, predict two flowers and
//! delete the endpoint; then batch-transform a file of rows.
//!
//! Run it with `cargo run --release --example iris`.

use sagemaker::prelude::*;

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    // 1. The data: iris with a header row and a `species` column, split 70/30.
    let (train_rows, test_rows) = write_iris("iris_train.csv", "iris_test.csv")?;
    println!("wrote iris_train.csv ({train_rows} rows) and iris_test.csv ({test_rows} rows)");

    // 2. A local session: jobs, artifacts and the s3:// store live under ./.sagemaker
    //    (or $SAGEMAKER_LOCAL_ROOT). Swap it for an AWS session to run on SageMaker.
    let session = LocalSession::new()?;
    let train = session.upload_data("iris_train.csv", "iris").await?;
    let test = session.upload_data("iris_test.csv", "iris").await?;

    // 3. The estimator, as in the Python SDK: SKLearn(entry_point=..., framework_version=...,
    //    instance_type=..., hyperparameters={"max_iter": 200, "target": "species"}).
    let estimator = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .hyperparameter("max_iter", 200)
        .hyperparameter("target", "species")
        .session(session.clone())
        .build()?;

    // 4. fit() creates a tracked training job and waits for it.
    let job = estimator
        .fit(
            Inputs::new()
                .channel("training", train)
                .channel("validation", test),
        )
        .await?;
    let description = job.describe().await?;

    println!("training job:     {}", job.name());
    println!("status:           {}", description.training_job_status);
    if let Some(accuracy) = description.metric("validation:accuracy") {
        println!("accuracy:         {accuracy:.4}");
    }
    if let Some(f1) = description.metric("validation:f1") {
        println!("macro F1:         {f1:.4}");
    }
    println!(
        "training seconds: {} (billable {}; wall time {:.1} ms)",
        description.training_time_in_seconds.unwrap_or(0),
        description.billable_time_in_seconds.unwrap_or(0),
        description
            .training_duration()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3
    );
    println!("model artifact:   {}", job.model_data().await?);

    // 5. Deploy: CreateModel + CreateEndpointConfig + CreateEndpoint, then wait for InService.
    //    The job deploys its own artifact. An SKLearn estimator's predictor has the
    //    scikit-learn codecs: CSV rows in, JSON out, so string labels come back as is.
    let config = DeployConfig::builder()
        .instance_type("ml.m5.large")
        .initial_instance_count(1)
        .build()?;
    let predictor = job.deploy(config).await?;
    let rows = vec![vec![5.1, 3.5, 1.4, 0.2], vec![6.7, 3.1, 5.6, 2.4]];
    let predictions = predictor.predict(&rows).await?;
    println!("endpoint:         {}", predictor.endpoint_name());
    println!("predictions:      {predictions} for {rows:?}");
    if let Some(url) = session.backend().runtime_url() {
        // Other programs (curl, boto3, the AWS SDKs) can call the same endpoint over HTTP.
        println!(
            "over HTTP:        POST {url}/endpoints/{}/invocations",
            predictor.endpoint_name()
        );
    }

    // 6. Clean up: forgotten endpoints are the classic SageMaker bill. (To sweep everything a
    //    program left behind: sagemaker::model::delete_all(&session, "prefix").)
    predictor.delete_model().await?;
    predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;
    println!("deleted the endpoint, its config and its model");

    // 7. Batch transform: every row of a headerless file, in MultiRecord batches, the model
    //    seeing columns 0-3 (input_filter), one prediction per line.
    let rows = write_batch_input("batch_input.csv")?;
    let batch_input = session.upload_data("batch_input.csv", "iris-batch").await?;
    let transformer = job
        .transformer(
            Transformer::builder()
                .instance_count(1)
                .instance_type("ml.m5.large")
                .output_path(format!(
                    "s3://{}/iris-batch-output",
                    session.default_bucket().await?
                ))
                .strategy(BatchStrategy::MultiRecord)
                .assemble_with(AssembleWith::Line)
                .accept("text/csv"),
        )
        .await?;
    let batch_job = transformer
        .transform(
            &batch_input.to_string(),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[0,1,2,3]"),
        )
        .await?;
    let output = format!(
        "s3://{}/iris-batch-output/batch_input.csv.out",
        session.default_bucket().await?
    );
    let predictions = session.store().get_bytes(&output.parse()?).await?;
    let predictions = String::from_utf8_lossy(&predictions);
    println!("transform job:    {} ({rows} rows)", batch_job.name());
    println!("output:           {output}");
    for line in predictions.lines().take(3) {
        println!("  {line}");
    }
    transformer.delete_model().await?;
    println!();
    println!("Attach to the training job from another process:");
    println!("  cargo run --release --example attach -- {}", job.name());
    Ok(())
}

/// Writes iris's features without a header, one row per line, for batch transform.
fn write_batch_input(path: &str) -> std::io::Result<usize> {
    let iris = smartcore::dataset::iris::load_dataset();
    let text: String = iris
        .data
        .chunks(iris.num_features)
        .map(|r| format!("{},{},{},{}\n", r[0], r[1], r[2], r[3]))
        .collect();
    std::fs::write(path, text)?;
    Ok(iris.num_samples)
}

/// Writes iris (150 rows, smartcore's copy) as two CSV files with a header, keeping the
/// class proportions in both (a stratified, seeded 70/30 split).
fn write_iris(train_path: &str, test_path: &str) -> std::io::Result<(usize, usize)> {
    let iris = smartcore::dataset::iris::load_dataset();
    let header = "sepal_length,sepal_width,petal_length,petal_width,species\n";
    let (mut train, mut test) = (String::from(header), String::from(header));
    let (mut n_train, mut n_test) = (0, 0);
    for (i, row) in iris.data.chunks(iris.num_features).enumerate() {
        let species = &iris.target_names[iris.target[i] as usize];
        let line = format!("{},{},{},{},{species}\n", row[0], row[1], row[2], row[3]);
        // Three rows in every ten go to the test file: 15 of each class's 50.
        if (i * 7 + 3) % 10 < 3 {
            test.push_str(&line);
            n_test += 1;
        } else {
            train.push_str(&line);
            n_train += 1;
        }
    }
    std::fs::write(train_path, train)?;
    std::fs::write(test_path, test)?;
    Ok((n_train, n_test))
}
