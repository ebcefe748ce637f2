//! Views shipped with the AWS tables, defined in readable SQL. They are the
//! one definition of "in use": the delete sinks' checks and the shipped
//! policies read them, so what a policy excludes and what the runner protects
//! cannot drift apart.
//!
//! `image_in_use` unions one query per source (`in_use/*.sql`), the sources
//! `[in_use]` lists; `aws_ecs_image_in_use` is the ECS one, kept by its
//! original name and columns.

use skyglue_core::config::{InUseSource, InUseSources};
use skyglue_core::{Connections, View};

/// The definition of `aws_ecs_image_in_use`.
pub const IMAGE_IN_USE_SQL: &str = include_str!("image_in_use.sql");

/// The definition of `aws_ecs_task_definition_in_use`; the task definition
/// sinks' check reads the same view.
pub const TASK_DEFINITION_IN_USE_SQL: &str = include_str!("task_definition_in_use.sql");

const ALL_SOURCES_SQL: &str = include_str!("image_in_use_all.sql");

/// The query one source contributes to `image_in_use`.
pub fn source_sql(source: InUseSource) -> &'static str {
    match source {
        InUseSource::Ecs => include_str!("in_use/ecs.sql"),
        InUseSource::Lambda => include_str!("in_use/lambda.sql"),
        InUseSource::Batch => include_str!("in_use/batch.sql"),
        InUseSource::Apprunner => include_str!("in_use/apprunner.sql"),
        InUseSource::Kubernetes => include_str!("in_use/kubernetes.sql"),
    }
}

/// The definition of `image_in_use` over `sources`.
pub fn image_in_use_sql(sources: &InUseSources) -> String {
    let parts: Vec<String> = sources
        .checked()
        .iter()
        .map(|s| {
            // Each part without its comment lines or a trailing semicolon.
            let body: Vec<&str> =
                source_sql(*s).lines().filter(|l| !l.trim_start().starts_with("--")).collect();
            format!("    -- {s}\n    {}", body.join("\n    ").trim_end().trim_end_matches(';'))
        })
        .collect();
    ALL_SOURCES_SQL.replace("{sources}", &parts.join("\n    UNION ALL\n"))
}

fn image_in_use_for(connections: &Connections) -> String {
    image_in_use_sql(&connections.in_use)
}

/// `aws_ecs_task_definition_in_use` (registered before the image views, which read it).
pub fn task_definition_in_use() -> View {
    View::new(
        "aws_ecs_task_definition_in_use",
        "Task definition revisions in use by any ECS service deployment, task set or unstopped task.",
        TASK_DEFINITION_IN_USE_SQL,
    )
}

/// `aws_ecs_image_in_use`.
pub fn ecs_image_in_use() -> View {
    View::new(
        "aws_ecs_image_in_use",
        "Image references in use by any ECS service deployment, task set or unstopped task.",
        IMAGE_IN_USE_SQL,
    )
}

/// `image_in_use`: every configured source (`[in_use] sources`).
pub fn image_in_use() -> View {
    static DEFAULT_SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| image_in_use_sql(&InUseSources::default()));
    View {
        name: "image_in_use",
        description: "Image references in use by anything checked: ECS, Lambda, Batch, App Runner, Kubernetes ([in_use] sources).",
        sql: DEFAULT_SQL.as_str(),
        build: Some(image_in_use_for),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_in_use_unions_exactly_the_checked_sources() {
        let sql = image_in_use_sql(&InUseSources::new(vec![InUseSource::Ecs, InUseSource::Kubernetes]));
        assert!(sql.contains("FROM aws_ecs_image_in_use") && sql.contains("FROM kubernetes_pod"), "{sql}");
        assert!(!sql.contains("aws_lambda_function") && !sql.contains("aws_batch_job_definition"), "{sql}");
        assert_eq!(sql.matches("UNION ALL").count(), 1, "{sql}");
        let default = image_in_use_sql(&InUseSources::default());
        assert!(default.contains("aws_lambda_alias") && default.contains("aws_batch_job_definition"));
        assert!(!default.contains("kubernetes_pod") && !default.contains("aws_apprunner_service"));
    }
}
