//! Attach to a training job from another process: status, metrics and log.
//!
//! `cargo run --release --example attach -- <job-name>` (with no name: the newest job).

use sagemaker::prelude::*;
use sagemaker::spec::ListTrainingJobs;

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    let session = LocalSession::new()?;
    let name = match std::env::args().nth(1) {
        Some(name) => name,
        None => {
            let newest = session
                .backend()
                .list_training_jobs(&ListTrainingJobs::new().max_results(1))
                .await?;
            match newest.first() {
                Some(job) => job.training_job_name.clone(),
                None => {
                    eprintln!(
                        "no training jobs under this root; run `cargo run --example iris` first"
                    );
                    std::process::exit(1);
                }
            }
        }
    };

    // Like the Python SDK's Estimator.attach: rebuilds the estimator and waits for the job.
    let estimator = Estimator::attach(&name, session).await?;
    let job = estimator
        .latest_training_job()
        .expect("attach sets the job");
    let d = job.describe().await?;
    println!("job:        {}", d.training_job_name);
    println!("image:      {}", estimator.config().image_uri);
    println!(
        "status:     {} ({})",
        d.training_job_status, d.secondary_status
    );
    for m in &d.final_metric_data_list {
        println!("metric:     {} = {:.4}", m.metric_name, m.value);
    }
    if let Some(reason) = &d.failure_reason {
        println!("failure:    {reason}");
    }
    println!("--- log ---");
    print!("{}", job.logs().await?);
    Ok(())
}
