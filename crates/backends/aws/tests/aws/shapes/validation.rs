//! Bad input refused before any call reaches AWS.

use super::*;

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let rules = Rules {
        sts: vec![sts_rule()],
        s3: vec![bucket_exists_rule(slot())],
        ..Rules::default()
    };
    let session = session(&rules);

    // Half a VPC.
    let e = SKLearn::builder()
        .entry_point("LogisticRegression")
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .subnets(vec!["subnet-1".to_string()])
        .session(session.clone())
        .build()
        .unwrap_err();
    assert_eq!(e.context("field"), Some("security_group_ids"), "{e}");

    // A role that is neither a role name nor a role ARN.
    for role in ["arn:aws:iam::123456789012:user/alice", "my role"] {
        let e = SKLearn::builder()
            .entry_point("LogisticRegression")
            .framework_version("1.2-1")
            .instance_type("ml.m5.large")
            .role(role)
            .session(session.clone())
            .build()
            .unwrap()
            .fit_with(
                format!("s3://{BUCKET}/d.csv"),
                FitOptions::new().wait(false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{role}: {e}");
        assert_eq!(e.context("field"), Some("role"));
    }

    // file:// data on the AWS backend.
    let e = iris_estimator(session.clone())
        .fit_with("file:///tmp/iris.csv", FitOptions::new().wait(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.message().contains("file:///tmp/iris.csv"), "{e}");

    // s3:// URIs with invalid buckets: refused by the URI parser, or by S3's stricter rules.
    let e = iris_estimator(session.clone())
        .fit_with("s3://Bad_Bucket/iris.csv", FitOptions::new().wait(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("Bad_Bucket"), "{e}");
    for bucket in ["my..bucket", "-bucket", "10.0.0.1"] {
        let e = iris_estimator(session.clone())
            .fit_with(
                format!("s3://{bucket}/iris.csv"),
                FitOptions::new().wait(false),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bucket}: {e}");
        // Refused when the URI is parsed (S3's bucket rules live in `StorageUri`), naming it.
        assert!(e.message().contains(bucket), "{bucket}: {e}");
    }

    // An entry point missing from source_dir.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.py"), "print(1)\n").unwrap();
    let e = SKLearn::builder()
        .entry_point("train.py")
        .source_dir(dir.path().to_str().unwrap())
        .framework_version("1.2-1")
        .instance_type("ml.m5.large")
        .role("SageMakerRole")
        .session(session.clone())
        .build()
        .unwrap()
        .fit_with(
            format!("s3://{BUCKET}/d.csv"),
            FitOptions::new().wait(false),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(
        e.message()
            .contains("No file named \"train.py\" was found in directory"),
        "{e}"
    );
}
