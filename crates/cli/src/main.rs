//! `sagemaker`: host a model artifact as a local endpoint for other programs (like
//! `mlflow models serve`), and look at the jobs and endpoints a local root holds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sagemaker::local::LocalBackend;
use sagemaker::model::{DeployConfig, Model};
use sagemaker::spec::{EndpointStatus, ListTrainingJobs};
use sagemaker::{DeleteEndpoint, LocalSession, Session};

#[derive(Parser)]
#[command(
    name = "sagemaker",
    version,
    about = "The SageMaker workflow on this machine"
)]
struct Cli {
    /// The local root (default: $SAGEMAKER_LOCAL_ROOT, else ./.sagemaker).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a model.tar.gz as a named endpoint until interrupted (Ctrl-C).
    Serve {
        /// The artifact: a path, a file:// URI, or an s3:// URI of the local store.
        artifact: String,
        /// The endpoint (and model) name.
        #[arg(long, default_value = "local-model")]
        name: String,
        /// Address to listen on; only loopback unless you mean it (there is no authentication).
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Port (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The serving image (its container must be registered; the scikit-learn one is).
        #[arg(long, default_value = "sagemaker-scikit-learn")]
        image: String,
        /// Model replicas sharing the load.
        #[arg(long, default_value_t = 1)]
        instances: u32,
        /// Also serve the container contract (GET /ping, POST /invocations) on this port.
        #[arg(long)]
        container_port: Option<u16>,
    },
    /// List training jobs, or describe one (with its log).
    Jobs {
        /// A job to describe.
        name: Option<String>,
    },
    /// List endpoints, or describe one.
    Endpoints {
        /// An endpoint to describe.
        name: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn backend(root: &Option<PathBuf>, addr: Option<SocketAddr>) -> sagemaker::Result<LocalBackend> {
    let mut builder = LocalSession::builder();
    if let Some(root) = root {
        builder = builder.root(root);
    }
    if let Some(addr) = addr {
        builder = builder.http_address(addr);
    }
    builder.build_backend()
}

fn session(root: &Option<PathBuf>, addr: Option<SocketAddr>) -> sagemaker::Result<Session> {
    Ok(Session::new(backend(root, addr)?))
}

async fn run(cli: Cli) -> sagemaker::Result<()> {
    match cli.command {
        Command::Serve {
            artifact,
            name,
            host,
            port,
            image,
            instances,
            container_port,
        } => {
            let container = container_port.map(|p| SocketAddr::new(host, p));
            let listen = SocketAddr::new(host, port);
            serve(
                &cli.root, artifact, name, listen, container, image, instances,
            )
            .await
        }
        Command::Jobs { name: None } => {
            let s = session(&cli.root, None)?;
            let jobs = s
                .backend()
                .list_training_jobs(&ListTrainingJobs::new())
                .await?;
            println!("{:<63}  {:<10}  CREATED", "NAME", "STATUS");
            for j in jobs {
                println!(
                    "{:<63}  {:<10}  {}",
                    j.training_job_name,
                    j.training_job_status.as_str(),
                    j.creation_time
                );
            }
            Ok(())
        }
        Command::Jobs { name: Some(name) } => {
            let s = session(&cli.root, None)?;
            let d = s.backend().describe_training_job(&name).await?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            println!(
                "--- log ---\n{}",
                s.backend().training_job_logs(&name).await?
            );
            Ok(())
        }
        Command::Endpoints { name: None } => {
            let s = session(&cli.root, None)?;
            println!("{:<63}  STATUS", "NAME");
            for name in s.backend().list_endpoints().await? {
                let status = s
                    .backend()
                    .describe_endpoint(&name)
                    .await
                    .map(|d| d.endpoint_status.to_string())
                    .unwrap_or_else(|e| e.to_string());
                println!("{name:<63}  {status}");
            }
            Ok(())
        }
        Command::Endpoints { name: Some(name) } => {
            let s = session(&cli.root, None)?;
            let d = s.backend().describe_endpoint(&name).await?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            Ok(())
        }
    }
}

async fn serve(
    root: &Option<PathBuf>,
    artifact: String,
    name: String,
    addr: SocketAddr,
    container: Option<SocketAddr>,
    image: String,
    instances: u32,
) -> sagemaker::Result<()> {
    let local = backend(root, Some(addr))?;
    let s = Session::new(local.clone());
    let uri = if artifact.starts_with("s3://") || artifact.starts_with("file://") {
        artifact.clone()
    } else {
        sagemaker::StorageUri::file(&artifact)?.to_string()
    };
    // Leftovers of an earlier `serve` of the same name (its process has exited) go first.
    let backend = s.backend().clone();
    if let Ok(d) = backend.describe_endpoint(&name).await {
        if d.endpoint_status == EndpointStatus::Failed
            || d.endpoint_status == EndpointStatus::OutOfService
        {
            let _ = backend.delete_endpoint(&name).await;
        } else {
            return Err(sagemaker::Error::new(
                sagemaker::ErrorKind::AlreadyExists,
                format!(
                    "endpoint '{name}' is already served by another process; pick another --name"
                ),
            ));
        }
    }
    let _ = backend.delete_endpoint_config(&name).await;
    let _ = backend.delete_model(&name).await;

    let model = Model::builder()
        .image_uri(image)
        .model_data(uri)
        .name(name.clone())
        .session(s.clone())
        .build()?;
    let predictor = match model
        .deploy(
            DeployConfig::builder()
                .initial_instance_count(instances)
                .instance_type("local")
                .endpoint_name(name.clone())
                .build()?,
        )
        .await
    {
        Ok(p) => p,
        Err(e) => {
            // Leave nothing behind that a later `serve` of the same name would trip over.
            let _ = backend.delete_endpoint(&name).await;
            let _ = backend.delete_endpoint_config(&name).await;
            let _ = backend.delete_model(&name).await;
            return Err(e);
        }
    };
    let url = s.backend().runtime_url().unwrap_or_default();
    println!("Serving {artifact} as endpoint '{name}' ({instances} instance(s)).");
    println!("  Invocations: {url}/endpoints/{name}/invocations");
    println!("  Health:      {url}/endpoints/{name}/ping");
    println!(
        "  Try:         curl -s -X POST {url}/endpoints/{name}/invocations -H 'Content-Type: text/csv' -H 'Accept: application/json' --data-binary '5.1,3.5,1.4,0.2'"
    );
    println!("  AWS SDKs:    endpoint URL {url} (any region, dummy credentials)");
    if let Some(addr) = container {
        let bound = local.serve_container(&name, addr)?;
        println!("  Container:   http://{bound}/ping and http://{bound}/invocations");
    }
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("stopping: deleting endpoint '{name}'");
    predictor.delete_endpoint(DeleteEndpoint::AndConfig).await?;
    model.delete_model().await?;
    Ok(())
}
