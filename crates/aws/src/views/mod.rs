//! Views shipped with the AWS tables, defined in readable SQL.

use skyglue_core::View;

/// The definition of `aws_ecs_image_in_use`; the delete sink's safety check
/// reads the same view.
pub const IMAGE_IN_USE_SQL: &str = include_str!("image_in_use.sql");

/// `aws_ecs_image_in_use`.
pub fn image_in_use() -> View {
    View {
        name: "aws_ecs_image_in_use",
        description: "Image references in use by any ECS service deployment or unstopped task.",
        sql: IMAGE_IN_USE_SQL,
    }
}
