//! Remote functions, the seed's second snippet in Rust: `train` and `predict` marked
//! `#[sagemaker::remote]` each run as a training job (here on the local backend: a child
//! process of this same binary), and the accuracy is computed locally.
//!
//! ```sh
//! cargo run --example remote_iris
//! ```

use std::time::Instant;

use sagemaker::prelude::*;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

type Model = LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>>;

fn matrix(rows: &[Vec<f64>]) -> Result<DenseMatrix<f64>, String> {
    let n_features = rows.first().map_or(0, Vec::len);
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    DenseMatrix::new(rows.len(), n_features, values, false).map_err(|e| e.to_string())
}

/// Fits a logistic regression and returns the fitted model's artifact (its JSON bytes).
#[sagemaker::remote(instance_type = "ml.m5.xlarge", job_name_prefix = "iris-train")]
fn train(x: Vec<Vec<f64>>, y: Vec<u32>) -> Result<Vec<u8>, String> {
    let cpus = std::env::var("SM_NUM_CPUS").unwrap_or_default();
    println!("training on {} rows with SM_NUM_CPUS={cpus}", x.len());
    let model = Model::fit(&matrix(&x)?, &y, LogisticRegressionParameters::default())
        .map_err(|e| e.to_string())?;
    serde_json::to_vec(&model).map_err(|e| e.to_string())
}

/// Loads the artifact and predicts a class per row.
#[sagemaker::remote(instance_type = "ml.m5.large", job_name_prefix = "iris-predict")]
fn predict(model: Vec<u8>, x: Vec<Vec<f64>>) -> Result<Vec<u32>, String> {
    let model: Model = serde_json::from_slice(&model).map_err(|e| e.to_string())?;
    model.predict(&matrix(&x)?).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First thing: in the jobs' processes this runs `train` or `predict` and exits.
    sagemaker::remote::init();

    let iris = smartcore::dataset::iris::load_dataset();
    let (mut x_train, mut y_train, mut x_test, mut y_test) = (vec![], vec![], vec![], vec![]);
    for (i, row) in iris.data.chunks(iris.num_features).enumerate() {
        let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        // Three rows in every ten are held out: 45 of 150, 15 per class.
        if (i * 7 + 3) % 10 < 3 {
            x_test.push(row);
            y_test.push(iris.target[i]);
        } else {
            x_train.push(row);
            y_train.push(iris.target[i]);
        }
    }

    let started = Instant::now();
    let model = train(x_train, y_train).await?;
    let train_ms = started.elapsed().as_secs_f64() * 1e3;
    println!("model artifact:   {} bytes from the train job", model.len());

    let started = Instant::now();
    let predicted = predict(model, x_test).await?;
    let predict_ms = started.elapsed().as_secs_f64() * 1e3;
    let correct = predicted
        .iter()
        .zip(&y_test)
        .filter(|(p, y)| p == y)
        .count();
    println!(
        "accuracy:         {:.4} ({correct}/{} held-out rows)",
        correct as f64 / y_test.len() as f64,
        y_test.len()
    );
    println!(
        "wall time:        train {train_ms:.0} ms, predict {predict_ms:.0} ms (job, payloads, child process)"
    );

    // Each call was a training job, listed and logged like any other.
    let session = sagemaker::remote::default_session()?;
    let jobs = session
        .backend()
        .list_training_jobs(&sagemaker::spec::ListTrainingJobs::new().max_results(2))
        .await?;
    for job in jobs.iter().rev() {
        let job = TrainingJob::new(job.training_job_name.clone(), session.clone());
        let d = job.describe().await?;
        println!(
            "training job:     {} ({})",
            d.training_job_name, d.training_job_status
        );
        for line in job
            .logs()
            .await?
            .lines()
            .filter(|l| !l.starts_with("[sagemaker]"))
        {
            println!("  {line}");
        }
    }
    Ok(())
}
