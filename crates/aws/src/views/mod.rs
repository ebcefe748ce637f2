//! Views shipped with the AWS tables, defined in readable SQL. They are the
//! one definition of "in use": the delete sinks' checks and the shipped
//! policies read them, so what a policy excludes and what the runner protects
//! cannot drift apart.

use skyglue_core::View;

/// The definition of `aws_ecs_image_in_use`; the ECR delete sink's check
/// reads the same view.
pub const IMAGE_IN_USE_SQL: &str = include_str!("image_in_use.sql");

/// The definition of `aws_ecs_task_definition_in_use`; the task definition
/// sinks' check reads the same view.
pub const TASK_DEFINITION_IN_USE_SQL: &str = include_str!("task_definition_in_use.sql");

/// `aws_ecs_task_definition_in_use` (registered before the image view, which reads it).
pub fn task_definition_in_use() -> View {
    View {
        name: "aws_ecs_task_definition_in_use",
        description: "Task definition revisions in use by any ECS service deployment, task set or unstopped task.",
        sql: TASK_DEFINITION_IN_USE_SQL,
    }
}

/// `aws_ecs_image_in_use`.
pub fn image_in_use() -> View {
    View {
        name: "aws_ecs_image_in_use",
        description: "Image references in use by any ECS service deployment, task set or unstopped task.",
        sql: IMAGE_IN_USE_SQL,
    }
}
