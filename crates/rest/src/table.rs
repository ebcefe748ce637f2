//! `DeclaredTable`: a checked declaration served through the framework like
//! any built-in table.
//!
//! Its spec (columns, key columns, descriptions) comes from the declaration,
//! so pushdown, required keys, join keys, `LIMIT`, the scan cache, metrics
//! and `\d` work as they do for `github_commit`. The fetch runs one listing
//! per combination of pushed key values (up to [`DEFAULT_CONCURRENCY`] at
//! once), and walks each listing's pages with the framework's token loop, up
//! to `paginate.max_pages`. Requests go only to the url's origin, and every
//! error leaves through [`Target::redact`], so none prints the credential.
//!
//! ```sql
//! SELECT id, title FROM pagerduty_incident WHERE status = 'triggered' LIMIT 10
//! ```

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;
use skyglue_core::http_retry::RetryPolicy;
use skyglue_core::paging::{fan_out, pages_at_most};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::throttle::bucket;
use skyglue_core::{ApiTable, ColumnSpec, FetchContext, KeyValues, Scope, TableSpec};

use crate::env::Env;
use crate::error::Error;
use crate::http::Http;
use crate::model::{DEFAULT_MAX_PAGES, Declared};
use crate::request::{Listing, PageFacts, next_token, page_url};
use crate::rows::page_batch;
use crate::secret::Target;

/// A declared table.
#[derive(Clone)]
pub struct DeclaredTable {
    decl: Arc<Declared>,
    spec: TableSpec,
    env: Env,
    http: Arc<Http>,
}

impl std::fmt::Debug for DeclaredTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeclaredTable")
            .field("name", &self.decl.name)
            .field("origin", &self.decl.origin)
            .finish()
    }
}

impl DeclaredTable {
    /// Serves `decl`, reading `${VAR}`s from `env` when queried.
    pub fn new(decl: Declared, env: Env) -> Self {
        let spec = spec(&decl);
        let http = Arc::new(http_for(&decl, RetryPolicy::default()));
        Self { decl: Arc::new(decl), spec, env, http }
    }

    /// Retries as `policy` says (tests make the backoff short); its request
    /// timeout applies unless the declaration sets `timeout_seconds`.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.http = Arc::new(http_for(&self.decl, policy));
        self
    }

    /// The checked declaration.
    pub fn declaration(&self) -> &Declared {
        &self.decl
    }

    /// The key values each listing asks for: one listing per combination of
    /// the pushed values (the join's own combinations when it gave them).
    fn listings(&self, keys: &KeyValues) -> Vec<Listing> {
        let pushed: Vec<_> = self.decl.keys().filter(|(c, _)| keys.contains(&c.name)).collect();
        let names: Vec<&str> = pushed.iter().map(|(c, _)| c.name.as_str()).collect();
        let combinations = keys.tuples(&names).unwrap_or_else(|| {
            pushed.iter().fold(vec![vec![]], |acc, (c, _)| {
                let values = keys.get(&c.name).unwrap_or_default();
                acc.iter()
                    .flat_map(|prefix| values.iter().map(move |v| [prefix.clone(), vec![v.clone()]].concat()))
                    .collect()
            })
        });
        combinations
            .into_iter()
            .map(|values| pushed.iter().map(|(_, k)| (*k).clone()).zip(values).collect())
            .collect()
    }

    /// One listing's pages.
    fn listing(
        &self,
        ctx: FetchContext,
        listing: Listing,
    ) -> BoxStream<'static, skyglue_core::Result<RecordBatch>> {
        let (decl, http) = (self.decl.clone(), self.http.clone());
        let target = match Target::prepare(&decl, &self.env) {
            Ok(target) => Arc::new(target),
            Err(e) => return stream::once(async { Err(e.into()) }).boxed(),
        };
        let label = format!("table {} (GET {})", decl.name, target.shown(target.base()));
        let max_pages = decl.paginate.as_ref().map_or(DEFAULT_MAX_PAGES, |p| p.max_pages);
        let listing = Arc::new(listing);
        pages_at_most(label, max_pages, move |token: Option<String>| {
            let (decl, http, ctx, target, listing) =
                (decl.clone(), http.clone(), ctx.clone(), target.clone(), listing.clone());
            async move {
                let page = async {
                    let url = page_url(&decl, target.base(), &listing, token.as_deref());
                    let answer = http.get(&ctx, &url, &target).await?;
                    let shown = target.shown(&url);
                    let body: Value = serde_json::from_slice(&answer.body).map_err(|e| Error::Response {
                        table: decl.name.clone(),
                        url: shown.clone(),
                        path: "$".into(),
                        what: "the body".into(),
                        detail: format!("not JSON: {e}"),
                    })?;
                    let (batch, rows) = page_batch(&decl, &ctx, &shown, &listing, &body)?;
                    let facts =
                        PageFacts { headers: &answer.headers, body: &body, rows, token: token.as_deref() };
                    let next = next_token(&decl, &facts).map_err(|(path, detail)| Error::Response {
                        table: decl.name.clone(),
                        url: shown.clone(),
                        path,
                        what: "paginate".into(),
                        detail,
                    })?;
                    Ok::<_, Error>(Some((batch, next)))
                };
                // Every error leaves through here: none prints the credential.
                page.await.map_err(|e| target.redact(e).into())
            }
        })
    }
}

/// The HTTP client of `decl`, retrying as `policy` says.
fn http_for(decl: &Declared, policy: RetryPolicy) -> Http {
    let timeout = decl.timeout.unwrap_or(policy.request_timeout);
    Http::new(&decl.name, decl.rate.is_some(), policy, timeout)
}

impl ApiTable for DeclaredTable {
    fn spec(&self) -> &TableSpec {
        &self.spec
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, skyglue_core::Result<RecordBatch>> {
        if let Some(rate) = self.decl.rate
            && !ctx.connections.throttle.knows(self.spec.name)
        {
            ctx.connections
                .throttle
                .declare(self.spec.name, bucket(self.spec.name, rate.burst, rate.per_second));
        }
        let mut listings = self.listings(&ctx.keys);
        if listings.len() == 1 {
            return self.listing(ctx, listings.remove(0));
        }
        let this = self.clone();
        let listings = stream::iter(listings.into_iter().map(Ok)).boxed();
        fan_out(listings, DEFAULT_CONCURRENCY, move |listing| this.listing(ctx.clone(), listing))
    }
}

/// The framework's spec of `decl`. Names and descriptions are leaked to
/// `'static`, as the framework's specs are: a declaration is loaded once
/// per process and lives as long as it.
fn spec(decl: &Declared) -> TableSpec {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let columns = decl
        .columns
        .iter()
        .map(|c| {
            let description = if c.description.is_empty() {
                format!("{} of each row.", c.path.text())
            } else {
                c.description.clone()
            };
            let column = ColumnSpec::new(leak(c.name.clone()), c.kind.data_type(), leak(description));
            match &c.key {
                Some(k) if k.required => column.required_key(),
                Some(_) => column.optional_key(),
                None => column,
            }
        })
        .collect();
    TableSpec {
        name: leak(decl.name.clone()),
        description: leak(decl.description.clone()),
        scope: Scope::Global,
        columns,
        not_found_codes: &[],
        rate_limits: vec![],
        operations: &[],
    }
}
