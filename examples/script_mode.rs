//! Script mode: your own `train.py` (argparse hyperparameters, pandas reading the channel,
//! `joblib.dump` to `/opt/ml/model`, a `model_fn`) runs on the local backend exactly as
//! SageMaker runs it, without Docker: fit, deploy behind a real HTTP endpoint, predict in CSV,
//! JSON and NPY, batch-transform with an input filter, then delete.
//!
//! It needs Python 3 with scikit-learn, pandas and joblib; point `SAGEMAKER_PYTHON` at that
//! interpreter or virtual environment (default: `python3` on `PATH`):
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install scikit-learn pandas joblib
//! SAGEMAKER_PYTHON=.venv cargo run --example script_mode
//! ```
//!
//! The same program runs on SageMaker with an AWS session (the code is then uploaded as
//! `sourcedir.tar.gz`).

use sagemaker::prelude::*;
use sagemaker::spec::InvokeEndpointRequest;

#[tokio::main]
async fn main() -> sagemaker::Result<()> {
    // 1. Some data generated in code: the label is 1 when x1 + x2 > 1.
    let mut csv = String::from("label,x1,x2\n");
    for i in 0..200 {
        let (x1, x2) = ((i * 37 % 100) as f64 / 100.0, (i * 61 % 100) as f64 / 100.0);
        csv.push_str(&format!("{},{x1},{x2}\n", u8::from(x1 + x2 > 1.0)));
    }
    std::fs::write("train.csv", &csv)?;

    let session = LocalSession::new()?;
    let train = session.upload_data("train.csv", "script-mode").await?;

    // 2. The estimator, as in the Python SDK: SKLearn(entry_point="train.py",
    //    source_dir="examples/script_mode", framework_version="1.2-1", ...).
    let source_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/script_mode");
    let estimator = SKLearn::builder()
        .entry_point("train.py")
        .source_dir(source_dir)
        .framework_version("1.2-1")
        .instance_type("local")
        .hyperparameter("C", 10.0)
        .hyperparameter("max_iter", 200)
        .metric_definition("train:accuracy", "train_accuracy=([0-9.]+)")
        .session(session.clone())
        .build()?;
    let job = estimator.fit(Inputs::new().channel("train", train)).await?;
    let description = job.describe().await?;
    println!(
        "{}: {} {:?}",
        job.name(),
        description.training_job_status,
        description
            .final_metric_data_list
            .iter()
            .map(|m| (m.metric_name.as_str(), m.value))
            .collect::<Vec<_>>()
    );

    // 3. Deploy: persistent Python workers import train.py and call model_fn once each.
    let predictor = estimator
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(1)
                .instance_type("ml.m5.large")
                .build()?,
        )
        .await?;
    let endpoint = predictor.endpoint_name().to_string();
    let invoke = |body: Vec<u8>, content_type: &str, accept: &str| {
        let mut request = InvokeEndpointRequest::new(endpoint.clone(), body);
        request.content_type = Some(content_type.into());
        request.accept = Some(accept.into());
        let session = session.clone();
        async move { session.backend().invoke_endpoint(request).await }
    };
    let csv = invoke(b"0.9,0.8\n0.1,0.2\n".to_vec(), "text/csv", "text/csv").await?;
    println!("CSV  -> {:?}", String::from_utf8_lossy(&csv.body));
    let json = invoke(
        b"[[0.9, 0.8]]".to_vec(),
        "application/json",
        "application/json",
    )
    .await?;
    println!("JSON -> {}", String::from_utf8_lossy(&json.body));
    let npy = sagemaker::predictor::write_npy_f64(&[2, 2], &[0.9, 0.8, 0.1, 0.2]);
    let answer = invoke(npy, "application/x-npy", "application/x-npy").await?;
    println!("NPY  -> {} bytes of .npy", answer.body.len());

    // 4. Batch transform through the same kind of workers; the filter drops the label column.
    let rows = "1,0.9,0.8\n0,0.1,0.2\n1,0.7,0.6\n";
    std::fs::write("batch.csv", rows)?;
    let input = session
        .upload_data("batch.csv", "script-mode/batch")
        .await?;
    let transformer = estimator
        .transformer(
            Transformer::builder()
                .instance_type("local")
                .accept("text/csv")
                .assemble_with(AssembleWith::Line)
                .output_path("s3://sagemaker-local/script-mode/out"),
        )
        .await?;
    let transform = transformer
        .transform(
            &input.to_string(),
            TransformArgs::new()
                .content_type("text/csv")
                .split_type(SplitType::Line)
                .input_filter("$[1:]"),
        )
        .await?;
    println!(
        "transform {}: {}",
        transform.name(),
        transform.describe().await?.transform_job_status
    );
    let out = session
        .store()
        .get_bytes(&"s3://sagemaker-local/script-mode/out/batch.csv.out".parse()?)
        .await?;
    println!("predictions: {:?}", String::from_utf8_lossy(&out));

    // 5. Delete: the workers stop with the endpoint.
    predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;
    Ok(())
}
