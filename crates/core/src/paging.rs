//! The loops every table would otherwise write by hand: walking an API's
//! pages by token ([`pages`], [`FetchContext::paginate`]) and, for each parent
//! a listing yields, fetching its children concurrently ([`fan_out`],
//! [`describe_each`]).
//!
//! A token loop written once is a loop that is right once: it stops on the
//! last page, on a "not found" answer, and with an error on an API that leads
//! back to a page already read (a token repeated at once, or a 1 -> 2 -> 1
//! cycle) or, when the caller sets one, past a page limit: a scan that would
//! otherwise page forever ends naming the listing.

use std::collections::HashMap;
use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::error::{Error, Result};
use crate::table::FetchContext;

/// One page and the token of the next (`None` on the last page).
pub type Page<T> = (T, Option<String>);

/// Walks pages: `page(token)` fetches one (`token` is `None` for the first)
/// and returns it with the next token, or `None` when there is nothing (a
/// "not found"). The stream ends after the last page; `label` names the
/// listing in the error raised when an API leads back to a page it already
/// gave (any cycle, not only a token repeated at once).
pub fn pages<T, F, Fut>(label: String, page: F) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<Page<T>>>> + Send + 'static,
{
    pages_at_most(label, u64::MAX, page)
}

/// As [`pages`], reading at most `max_pages` pages: a next token after the
/// last one allowed is an error naming `label`, not a silent cut (the rows
/// would be incomplete) and not an endless scan.
pub fn pages_at_most<T, F, Fut>(label: String, max_pages: u64, mut page: F) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Option<Page<T>>>> + Send + 'static,
{
    async_stream::try_stream! {
        // Every token followed so far and the page it led to (the first page, 1, has none).
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut token: Option<String> = None;
        let mut number: u64 = 1;
        loop {
            let Some((out, next)) = page(token.clone()).await? else { break };
            yield out;
            let Some(next) = next.filter(|t| !t.is_empty()) else { break };
            if let Some(earlier) = seen.get(&next) {
                Err(Error::Paging {
                    listing: label.clone(),
                    detail: format!(
                        "page {number}'s next page is page {earlier}, already read (the API's pages \
                         form a cycle); stopping rather than looping"
                    ),
                })?;
            }
            if number >= max_pages {
                Err(Error::Paging {
                    listing: label.clone(),
                    detail: format!(
                        "passed max_pages ({max_pages}): page {number} still names a next page; \
                         stopping rather than paging on"
                    ),
                })?;
            }
            number += 1;
            seen.insert(next.clone(), number);
            token = Some(next);
        }
    }
    .boxed()
}

impl FetchContext {
    /// Walks an AWS operation's pages through [`FetchContext::call`] (rate
    /// limit, retries, metrics, not-found codes): `request(token)` builds and
    /// sends one page's request (the table sets the page size on it) and is
    /// called again for each retry; `next(&output)` reads the next token.
    ///
    /// ```ignore
    /// ctx.paginate("ecs:ListClusters",
    ///     move |token| ecs.list_clusters().max_results(100).set_next_token(token).send(),
    ///     |out| out.next_token().map(str::to_string))
    /// ```
    pub fn paginate<T, E, F, Fut, N>(
        &self,
        operation: &'static str,
        request: F,
        next: N,
    ) -> BoxStream<'static, Result<T>>
    where
        T: Send + 'static,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>> + Send + 'static,
        N: Fn(&T) -> Option<String> + Send + Sync + 'static,
    {
        let ctx = self.clone();
        let request = std::sync::Arc::new(request);
        let next = std::sync::Arc::new(next);
        let label = format!("{operation} on {}", ctx.aws.as_ref().map(|c| c.label()).unwrap_or_default());
        pages(label, move |token| {
            let (ctx, request, next) = (ctx.clone(), request.clone(), next.clone());
            async move {
                let out = ctx.call(operation, || request(token.clone())).await?;
                Ok(out.map(|out| {
                    let token = next(&out);
                    (out, token)
                }))
            }
        })
    }
}

/// For each parent `parents` yields, the stream `children(parent)`, up to
/// `concurrency` parents at once ("list clusters, then each cluster's
/// services"). A parent that failed fails the stream.
pub fn fan_out<P, T, F>(
    parents: BoxStream<'static, Result<P>>,
    concurrency: usize,
    children: F,
) -> BoxStream<'static, Result<T>>
where
    P: Send + 'static,
    T: Send + 'static,
    F: Fn(P) -> BoxStream<'static, Result<T>> + Send + 'static,
{
    parents
        .map(move |parent| match parent {
            Ok(parent) => children(parent),
            Err(e) => futures::stream::once(async { Err(e) }).boxed(),
        })
        .flatten_unordered(concurrency)
        .boxed()
}

/// Describes each of `items` with `describe`, up to `concurrency` at once, and
/// collects the answers that exist (`Ok(None)` is "not found", no row).
pub async fn describe_each<I, T, F, Fut>(items: Vec<I>, concurrency: usize, describe: F) -> Result<Vec<T>>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    futures::stream::iter(items)
        .map(describe)
        .buffer_unordered(concurrency)
        .try_filter_map(|found| async move { Ok(found) })
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_follow_tokens_to_the_last_page() {
        let got: Vec<u32> = pages("t".into(), |token: Option<String>| async move {
            let n: u32 = token.as_deref().map_or(0, |t| t.parse().unwrap_or(0));
            Ok(Some((n, (n < 3).then(|| (n + 1).to_string()))))
        })
        .try_collect()
        .await
        .expect("pages");
        assert_eq!(got, vec![0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_an_endless_loop() {
        let got: Vec<Result<u32>> = pages("ecs:ListThings".into(), |_token: Option<String>| async move {
            Ok(Some((1, Some("same".to_string()))))
        })
        .collect()
        .await;
        assert_eq!(got.len(), 3, "two pages, then the error");
        let err = got[2].as_ref().expect_err("loop detected");
        assert!(err.to_string().contains("ecs:ListThings"), "{err}");
        assert!(err.to_string().contains("page 2's next page is page 2, already read"), "{err}");
    }

    #[tokio::test]
    async fn a_cycle_of_tokens_is_an_error_not_an_endless_loop() {
        // 1 -> 2 -> 1: no token is ever repeated at once.
        let got: Vec<Result<u32>> =
            pages("GET /items (table item)".into(), |token: Option<String>| async move {
                let n: u32 = token.as_deref().map_or(1, |t| t.parse().unwrap_or(1));
                Ok(Some((n, Some(if n == 1 { "2" } else { "1" }.to_string()))))
            })
            .take(10)
            .collect()
            .await;
        let firsts: Vec<u32> = got.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(firsts, vec![1, 2, 1], "pages read before the cycle is seen: {got:?}");
        let err = got.last().expect("an item").as_ref().expect_err("cycle detected");
        assert!(err.to_string().contains("table item"), "{err}");
        assert!(err.to_string().contains("page 3's next page is page 2, already read"), "{err}");
    }

    #[tokio::test]
    async fn max_pages_ends_a_listing_that_never_ends() {
        let got: Vec<Result<u32>> = pages_at_most("t".into(), 5, |token: Option<String>| async move {
            let n: u32 = token.as_deref().map_or(1, |t| t.parse().unwrap_or(1));
            Ok(Some((n, Some((n + 1).to_string()))))
        })
        .take(10)
        .collect()
        .await;
        assert_eq!(got.len(), 6, "five pages, then the error: {got:?}");
        let err = got[5].as_ref().expect_err("limit");
        assert!(err.to_string().contains("passed max_pages (5)"), "{err}");
        let exact: Vec<u32> = pages_at_most("t".into(), 3, |token: Option<String>| async move {
            let n: u32 = token.as_deref().map_or(1, |t| t.parse().unwrap_or(1));
            Ok(Some((n, (n < 3).then(|| (n + 1).to_string()))))
        })
        .try_collect()
        .await
        .expect("three pages fit a limit of three");
        assert_eq!(exact, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn not_found_ends_the_listing_and_an_empty_token_is_the_last_page() {
        let none: Vec<u32> =
            pages("t".into(), |_| async { Ok(None::<Page<u32>>) }).try_collect().await.expect("empty");
        assert!(none.is_empty());
        let one: Vec<u32> = pages("t".into(), |_| async { Ok(Some((7, Some(String::new())))) })
            .try_collect()
            .await
            .expect("one");
        assert_eq!(one, vec![7]);
    }

    #[tokio::test]
    async fn fan_out_passes_a_parent_error_through() {
        let parents = futures::stream::iter(vec![Ok(1u32), Err(Error::Config("boom".into())), Ok(2)]).boxed();
        let got: Vec<Result<u32>> =
            fan_out(parents, 2, |p| futures::stream::iter(vec![Ok(p * 10), Ok(p * 10 + 1)]).boxed())
                .collect()
                .await;
        let mut ok: Vec<u32> = got.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        ok.sort();
        assert_eq!(ok, vec![10, 11, 20, 21]);
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1);
    }

    #[tokio::test]
    async fn describe_each_drops_not_found() {
        let found = describe_each(vec![1u32, 2, 3], 2, |n| async move { Ok((n != 2).then_some(n)) })
            .await
            .expect("described");
        let mut found = found;
        found.sort();
        assert_eq!(found, vec![1, 3]);
    }
}
