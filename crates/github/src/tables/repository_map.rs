//! `github_repository_map`: `[github] repositories` from `skyglue.toml` as a
//! table, so a policy maps ECR repositories to the GitHub repositories their
//! images are built from without its SQL being edited.
//!
//! ```toml
//! [github]
//! repositories = { web = "acme/web", api = "acme/api" }
//! ```
//!
//! ```sql
//! SELECT repository_name, github_repository FROM github_repository_map;
//! ```
//!
//! It reads the configuration only: no API call.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, ColumnSpec, FetchContext, Result, Scope, TableSpec};

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "github_repository_map",
    description: "[github] repositories: which GitHub repository each ECR repository is built from.",
    scope: Scope::Global,
    columns: vec![
        ColumnSpec::new("repository_name", text(), "The ECR repository's name."),
        ColumnSpec::new("github_repository", text(), "The GitHub repository, owner/name."),
    ],
    not_found_codes: &[],
    rate_limits: vec![],
    operations: &[],
});

#[derive(Serialize)]
struct Row<'a> {
    repository_name: &'a str,
    github_repository: &'a str,
}

/// The `github_repository_map` table.
#[derive(Debug)]
pub struct GithubRepositoryMap;

impl ApiTable for GithubRepositoryMap {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        10
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let rows: Vec<Row> = ctx
            .connections
            .github
            .repositories
            .iter()
            .map(|(ecr, github)| Row { repository_name: ecr, github_repository: github })
            .collect();
        futures::stream::once(futures::future::ready(ctx.batch(&rows))).boxed()
    }
}
