//! Views shipped with the AWS tables, defined in readable SQL. They are the
//! one definition of "in use": the delete sinks' checks and the shipped
//! policies read them, so what a policy excludes and what the runner protects
//! cannot drift apart.
//!
//! `image_in_use` unions one query per source `[in_use]` lists: each
//! service declares its sources and their SQL (`services/<service>/in_use.sql`),
//! and Kubernetes's is here (`in_use/kubernetes.sql`: the pods are read
//! through the Kubernetes crate's tables); `aws_ecs_image_in_use` is the ECS
//! one, kept by its original name and columns.

use skyglue_core::config::{InUseSources, KUBERNETES};
use skyglue_core::{Connections, View};

use crate::services::ecs::SCHEDULES;
use crate::services::{self, InUse};

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
    if !sources.checks(SCHEDULES) {
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

/// The Kubernetes source: pods and workload templates of the configured contexts.
static KUBERNETES_IN_USE: InUse = InUse { source: KUBERNETES, sql: include_str!("in_use/kubernetes.sql") };

/// Every source of "in use", in the order reports list them: the services'
/// (`services::ALL`), then Kubernetes.
pub fn in_use_sources() -> impl Iterator<Item = &'static InUse> {
    services::ALL.iter().flat_map(|s| s.in_use.iter()).chain(std::iter::once(&KUBERNETES_IN_USE))
}

/// The definition of `image_in_use` over `sources`.
pub fn image_in_use_sql(sources: &InUseSources) -> String {
    let parts: Vec<String> = in_use_sources()
        .filter(|s| sources.checks(s.source))
        .map(|s| {
            // Each part without its comment lines or a trailing semicolon.
            let body: Vec<&str> = s.sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
            format!("    -- {}\n    {}", s.source, body.join("\n    ").trim_end().trim_end_matches(';'))
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
        let without = task_definition_in_use_sql(&InUseSources::new(["ecs"]));
        assert_eq!(without, TASK_DEFINITION_IN_USE_SQL);
    }

    #[test]
    fn image_in_use_unions_exactly_the_checked_sources() {
        let sql = image_in_use_sql(&InUseSources::new(["ecs", "kubernetes"]));
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

    #[test]
    fn sources_are_reported_in_service_order() {
        let names: Vec<&str> = in_use_sources().map(|s| s.source).collect();
        assert_eq!(names, ["ecs", "ecs_schedules", "lambda", "batch", "apprunner", "kubernetes"]);
        assert_eq!(InUseSources::default().not_checked_of(&names), ["apprunner", "kubernetes"]);
        let every = InUseSources::new(names.clone());
        let sql = image_in_use_sql(&every);
        let at = |name: &str| sql.find(&format!("-- {name}\n")).unwrap_or_else(|| panic!("{name}: {sql}"));
        assert!(names.windows(2).all(|w| at(w[0]) < at(w[1])), "{sql}");
    }
}
