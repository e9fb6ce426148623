//! One walk over the pages of a paginated SageMaker `List*` call.

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use sagemaker_core::Result;

use crate::error::map;

/// Collects the rows of every page `pages` yields, in the service's order: `rows` takes a
/// page's rows out of it and keeps those it wants. The walk stops early, after the page that
/// brings the rows to `limit`, so a caller asking for a few rows does not page through a
/// whole account. A failed page is the `operation`'s error.
pub(crate) async fn collect<P, E, T>(
    mut pages: PaginationStream<std::result::Result<P, SdkError<E, HttpResponse>>>,
    operation: &str,
    limit: Option<usize>,
    mut rows: impl FnMut(P, &mut Vec<T>) -> Result<()>,
) -> Result<Vec<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| map(operation, "", e))?;
        rows(page, &mut out)?;
        if limit.is_some_and(|n| out.len() >= n) {
            break;
        }
    }
    Ok(out)
}
