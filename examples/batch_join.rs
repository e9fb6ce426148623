//! Batch transform with data processing: keep an id column out of the model
//! (`input_filter "$[1:]"`), join each prediction to its input record (`join_source Input`),
//! and write only the id and the prediction (`output_filter "$[0,-1]"`).
//!
//! Run it with `cargo run --release --example batch_join`.

use sagemaker::prelude::*;

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    let session = LocalSession::new()?;

    // Train on iris (label first, as SageMaker's built-ins expect).
    let iris = smartcore::dataset::iris::load_dataset();
    let mut train = String::new();
    let mut scoring = String::new();
    for (i, row) in iris.data.chunks(4).enumerate() {
        let label = &iris.target_names[iris.target[i] as usize];
        train.push_str(&format!(
            "{label},{},{},{},{}\n",
            row[0], row[1], row[2], row[3]
        ));
        // The file to score carries a customer id in its first column.
        scoring.push_str(&format!(
            "customer-{i:03},{},{},{},{}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    std::fs::write("join_train.csv", train)?;
    std::fs::write("join_input.csv", scoring)?;
    let train = session.upload_data("join_train.csv", "join").await?;
    let input = session.upload_data("join_input.csv", "join-input").await?;

    let estimator = SKLearn::builder()
        .entry_point("RandomForestClassifier")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .hyperparameter("n_estimators", 50)
        .hyperparameter("random_state", 7)
        .session(session.clone())
        .build()?;
    estimator.fit(train).await?;

    let bucket = session.default_bucket().await?;
    let transformer = estimator
        .transformer(
            Transformer::builder()
                .instance_type("ml.m5.large")
                .strategy(BatchStrategy::MultiRecord)
                .assemble_with(AssembleWith::Line)
                .accept("text/csv")
                .output_path(format!("s3://{bucket}/join-output")),
        )
        .await?;
    let job = transformer
        .transform(
            &input.to_string(),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[1:]") // the model sees the four features, not the id
                .join_source(JoinSource::Input) // input columns + prediction
                .output_filter("$[0,-1]"), // id and prediction
        )
        .await?;
    let out = session
        .store()
        .get_bytes(&format!("s3://{bucket}/join-output/join_input.csv.out").parse()?)
        .await?;
    println!("transform job {} wrote id,prediction lines:", job.name());
    for line in String::from_utf8_lossy(&out).lines().step_by(50) {
        println!("  {line}");
    }
    transformer.delete_model().await?;
    Ok(())
}
