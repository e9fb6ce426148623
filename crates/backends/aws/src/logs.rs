//! Job logs from CloudWatch Logs (`/aws/sagemaker/TrainingJobs`, one stream per instance).

use aws_sdk_cloudwatchlogs::Client;
use sagemaker_core::{ErrorKind, Result};

use crate::error::map;

/// The log group of training jobs.
pub(crate) const TRAINING_GROUP: &str = "/aws/sagemaker/TrainingJobs";
/// The log group of transform jobs.
pub(crate) const TRANSFORM_GROUP: &str = "/aws/sagemaker/TransformJobs";

/// Every event of the job's streams (`{job}/...`) so far, merged in timestamp order, one
/// line per event. A group or stream that does not exist yet (the job has not started
/// logging) gives an empty log, as the Python SDK treats it.
pub(crate) async fn read_all(client: &Client, group: &str, job: &str) -> Result<String> {
    let prefix = format!("{job}/");
    let mut streams = Vec::new();
    let mut pages = client
        .describe_log_streams()
        .log_group_name(group)
        .log_stream_name_prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => streams.extend(
                page.log_streams()
                    .iter()
                    .filter_map(|s| s.log_stream_name().map(str::to_string)),
            ),
            Err(e) => {
                let err = map("DescribeLogStreams", group, e);
                if err.kind() == ErrorKind::NotFound {
                    return Ok(String::new());
                }
                return Err(err);
            }
        }
    }
    let mut events: Vec<(i64, usize, String)> = Vec::new();
    for (i, stream) in streams.iter().enumerate() {
        let mut token: Option<String> = None;
        loop {
            let out = client
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| map("GetLogEvents", stream, e))?;
            for e in out.events() {
                events.push((
                    e.timestamp().unwrap_or_default(),
                    i,
                    e.message().unwrap_or_default().to_string(),
                ));
            }
            let next = out.next_forward_token().map(str::to_string);
            // CloudWatch signals the end by returning the token it was given.
            if out.events().is_empty() || next.is_none() || next == token {
                break;
            }
            token = next;
        }
    }
    events.sort_by_key(|(t, i, _)| (*t, *i));
    let mut log = String::new();
    for (_, _, line) in events {
        log.push_str(line.trim_end_matches('\n'));
        log.push('\n');
    }
    Ok(log)
}
