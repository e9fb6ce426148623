//! Bring your own container: register an in-process `Container` under an image name and
//! train it with the generic `Estimator`, exactly as you would point an `Estimator` at your
//! own ECR image on SageMaker.
//!
//! Run it with `cargo run --example custom_container`.

use std::path::Path;
use std::sync::Arc;

use sagemaker::container::{Container, ContainerError, Handler, ServingEnv, TrainingEnv};
use sagemaker::prelude::*;

/// A "model" that learns the mean and standard deviation of every column of its training
/// CSV: the smallest honest trainer, reading SageMaker's training contract.
struct ColumnStats;

impl Container for ColumnStats {
    fn train(&self, env: &TrainingEnv) -> Result<(), ContainerError> {
        // Hyperparameters arrive as SageMaker's strings (here "3", from the integer 3).
        let precision: usize = env
            .hyperparameters
            .get("precision")
            .map(|p| {
                p.parse().map_err(|_| {
                    ContainerError::client(format!("precision must be an integer, got {p}"))
                })
            })
            .transpose()?
            .unwrap_or(6);
        let dir = env.paths.channel_dir("training");
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| ContainerError::client(e.to_string()))? {
            let path = entry
                .map_err(|e| ContainerError::client(e.to_string()))?
                .path();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ContainerError::client(e.to_string()))?;
            for (line_no, line) in text.lines().enumerate() {
                for (col, field) in line.split(',').enumerate() {
                    let v: f64 = field.trim().parse().map_err(|_| {
                        ContainerError::client(format!(
                            "{}, line {}, column {}: '{field}' is not a number",
                            path.display(),
                            line_no + 1,
                            col + 1
                        ))
                    })?;
                    if columns.len() <= col {
                        columns.resize(col + 1, Vec::new());
                    }
                    columns[col].push(v);
                }
            }
        }
        let mut model = String::new();
        for (i, values) in columns.iter().enumerate() {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            env.log(format!(
                "column {i}: mean {mean:.precision$}, std {std:.precision$}"
            ));
            env.report_metric(&format!("train:mean_{i}"), mean);
            model.push_str(&format!("{mean},{std}\n"));
        }
        std::fs::write(env.paths.model_dir.join("stats.csv"), model)
            .map_err(|e| ContainerError::algorithm(e.to_string()))
    }

    fn load(&self, _model_dir: &Path, _env: &ServingEnv) -> sagemaker::Result<Arc<dyn Handler>> {
        Err(sagemaker::Error::unsupported(
            "column-stats example",
            "serving",
        ))
    }
}

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    // Register the container under a repository name: any registry and tag of
    // `column-stats` runs it, so the same Estimator code can name a real ECR image.
    let session = LocalSession::builder()
        .container("column-stats", ColumnStats)
        .build()?;

    std::fs::write("stats_train.csv", "1,10\n2,20\n3,30\n4,40\n")?;
    let train = session.upload_data("stats_train.csv", "stats").await?;

    let estimator = Estimator::builder()
        .image_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/column-stats:latest")
        .instance_type("ml.m5.large")
        .hyperparameter("precision", 3)
        .session(session)
        .build()?;
    let job = estimator.fit(train).await?;
    let d = job.describe().await?;
    println!("training job: {} ({})", job.name(), d.training_job_status);
    for m in &d.final_metric_data_list {
        println!("  {} = {}", m.metric_name, m.value);
    }
    println!("artifact:     {}", job.model_data().await?);
    print!("log:\n{}", job.logs().await?);
    Ok(())
}
