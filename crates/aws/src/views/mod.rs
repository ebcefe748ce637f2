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

/// What `aws_ecs_task_definition_in_use` adds when `ecs_schedules` is checked.
const SCHEDULED_REVISIONS_SQL: &str = include_str!("task_definition_in_use_schedules.sql");

/// The definition of `aws_ecs_task_definition_in_use` over `sources`: ECS's
/// own uses, and the revisions schedules pin when `ecs_schedules` is checked.
pub fn task_definition_in_use_sql(sources: &InUseSources) -> String {
    if !sources.checks(InUseSource::EcsSchedules) {
        return TASK_DEFINITION_IN_USE_SQL.to_string();
    }
    let scheduled: Vec<&str> =
        SCHEDULED_REVISIONS_SQL.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    format!(
        "{}\nUNION ALL\n{}",
        TASK_DEFINITION_IN_USE_SQL.trim_end().trim_end_matches(';'),
        scheduled.join("\n")
    )
}

/// The query one source contributes to `image_in_use`.
pub fn source_sql(source: InUseSource) -> &'static str {
    match source {
        InUseSource::Ecs => include_str!("in_use/ecs.sql"),
        InUseSource::EcsSchedules => include_str!("in_use/ecs_schedules.sql"),
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
    static DEFAULT_SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| task_definition_in_use_sql(&InUseSources::default()));
    View {
        name: "aws_ecs_task_definition_in_use",
        description: "Task definition revisions in use by any ECS service deployment, task set, unstopped task or schedule.",
        sql: DEFAULT_SQL.as_str(),
        build: Some(|connections| task_definition_in_use_sql(&connections.in_use)),
    }
}

/// `aws_ecs_scheduled_image` (registered before `image_in_use`, which reads it).
pub fn scheduled_image() -> View {
    View::new(
        "aws_ecs_scheduled_image",
        "Images of the task definition revisions EventBridge rules and Scheduler schedules launch.",
        include_str!("scheduled_image.sql"),
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
        description: "Image references in use by anything checked: ECS, ECS schedules, Lambda, Batch, App Runner, Kubernetes ([in_use] sources).",
        sql: DEFAULT_SQL.as_str(),
        build: Some(image_in_use_for),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_pin_revisions_only_when_checked() {
        let with = task_definition_in_use_sql(&InUseSources::default());
        assert!(with.contains("FROM aws_ecs_scheduled_task"), "{with}");
        assert_eq!(with.matches("UNION ALL").count(), 2, "{with}");
        let without = task_definition_in_use_sql(&InUseSources::new(vec![InUseSource::Ecs]));
        assert_eq!(without, TASK_DEFINITION_IN_USE_SQL);
    }

    #[test]
    fn image_in_use_unions_exactly_the_checked_sources() {
        let sql = image_in_use_sql(&InUseSources::new(vec![InUseSource::Ecs, InUseSource::Kubernetes]));
        assert!(sql.contains("FROM aws_ecs_image_in_use") && sql.contains("FROM kubernetes_pod"), "{sql}");
        assert!(!sql.contains("aws_lambda_function") && !sql.contains("aws_batch_job_definition"), "{sql}");
        // one between the two sources, one between pods and workloads
        assert_eq!(sql.matches("UNION ALL").count(), 2, "{sql}");
        assert!(sql.contains("FROM kubernetes_workload") && !sql.contains("aws_ecs_scheduled_task"), "{sql}");
        let default = image_in_use_sql(&InUseSources::default());
        assert!(default.contains("aws_lambda_alias") && default.contains("aws_batch_job_definition"));
        assert!(default.contains("aws_lambda_version") && default.contains("aws_ecs_scheduled_image"));
        assert!(!default.contains("kubernetes_pod") && !default.contains("aws_apprunner_service"));
    }
}
