//! `sagemaker serve` hosts an artifact that other programs call over HTTP; `jobs` and
//! `endpoints` list what the root holds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sagemaker_test_support::http::HttpClient;
use sagemaker_test_support::{iris_csv, iris_logistic, session, upload};

fn sagemaker(root: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sagemaker"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn serve_hosts_an_artifact_for_other_programs() {
    let root = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (job, artifact) = rt.block_on(async {
        let s = session(root.path());
        let data = upload(&s, root.path(), "iris.csv", &iris_csv()).await;
        let est = iris_logistic(&s).build().unwrap();
        let job = est.fit(data).await.unwrap();
        let artifact = s
            .store()
            .local_path(&job.model_data().await.unwrap())
            .unwrap();
        (job.name().to_string(), artifact)
    });
    drop(rt);

    let mut child = Command::new(env!("CARGO_BIN_EXE_sagemaker"))
        .arg("--root")
        .arg(root.path())
        .args([
            "serve",
            artifact.to_str().unwrap(),
            "--name",
            "iris",
            "--port",
            "0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its URL").unwrap();
        if let Some(u) = line.trim().strip_prefix("Invocations:") {
            break u.trim().to_string();
        }
    };
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_once('/').unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_eq!(path, "endpoints/iris/invocations");
    let next_two: Vec<String> = (0..2).map(|_| lines.next().unwrap().unwrap()).collect();
    let curl = next_two
        .iter()
        .find(|l| l.contains("curl"))
        .expect("serve prints a curl line");
    assert!(
        curl.contains("curl -s -X POST") && curl.contains(&url),
        "{curl}"
    );

    let client = HttpClient::new(addr);
    let post = |body: &str| {
        let headers = [("Content-Type", "text/csv"), ("Accept", "application/json")];
        let r = client.post_blocking(&format!("/{path}"), &headers, body.as_bytes());
        (r.status, r.text())
    };
    let (status, body) = post("5.1,3.5,1.4,0.2\n6.7,3.1,5.6,2.4");
    assert_eq!((status, body.as_str()), (200, "[\"setosa\",\"virginica\"]"));
    let (status, body) = post("5.1,3.5");
    assert_eq!(status, 424, "{body}");
    assert!(body.contains("expects 4 features"), "{body}");

    let listed = sagemaker(root.path(), &["endpoints"]);
    assert!(
        listed.contains("iris") && listed.contains("InService"),
        "{listed}"
    );
    let jobs = sagemaker(root.path(), &["jobs"]);
    assert!(jobs.contains(&job) && jobs.contains("Completed"), "{jobs}");
    let described = sagemaker(root.path(), &["jobs", &job]);
    assert!(
        described.contains("\"TrainingJobStatus\": \"Completed\"")
            && described.contains("--- log ---"),
        "{described}"
    );

    // Ctrl-C: the endpoint is deleted and the process exits cleanly.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let listed = sagemaker(root.path(), &["endpoints"]);
    assert!(!listed.contains("iris"), "{listed}");
}
