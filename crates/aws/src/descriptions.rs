//! What the AWS sinks' rows are ([`Sink::describe`]), one description per
//! kind of resource: the three image sinks share [`IMAGES`], the two task
//! definition sinks [`TASK_DEFINITIONS`]. Reports and Slack messages group,
//! order and shorten the targets' columns by these alone.
//!
//! [`Sink::describe`]: skyglue_core::sink::Sink::describe

use skyglue_core::sink::{Column, Description, Form, Group, Noun, Part};

/// ECR images: grouped by account, region and repository; a digest is shown
/// by its first hex digits; the account, region and registry only where they
/// differ.
pub const IMAGES: Description = Description {
    noun: Noun { one: "image", many: "images" },
    group: Group {
        prefix: "",
        parts: &[Part::or_dash("account_id"), Part::or_dash("region"), Part::new("repository_name")],
    },
    columns: &[
        Column::new("account_id", "account", Form::Full),
        Column::new("region", "region", Form::Full),
        Column::new("registry_id", "registry", Form::Full),
        Column::new("repository_name", "repository", Form::Full),
        Column::new("image_digest", "digest", Form::Digest),
    ],
    context: &["account_id", "region", "registry_id"],
    prefix: "image_",
    sized: true,
    ..Description::DEFAULT
};

/// ECS task definition revisions: grouped by family; an ARN is shown as
/// `family:revision`.
pub const TASK_DEFINITIONS: Description = Description {
    noun: Noun { one: "task definition", many: "task definitions" },
    group: Group { prefix: "", parts: &[Part::new("task_definition_arn").shown(Form::Name)] },
    columns: &[
        Column::new("account_id", "account", Form::Full),
        Column::new("region", "region", Form::Full),
        Column::new("task_definition_arn", "task definition", Form::ArnResource),
    ],
    context: &["account_id", "region"],
    ..Description::DEFAULT
};

/// S3 objects (and versions): grouped by bucket and the key's first segment
/// (`s3://builds/main/`); the etag is for the sink, not for people.
pub const OBJECTS: Description = Description {
    noun: Noun { one: "object", many: "objects" },
    group: Group {
        prefix: "s3://",
        parts: &[Part::new("bucket_name"), Part::new("key").shown(Form::TopPrefix)],
    },
    columns: &[Column::new("account_id", "account", Form::Full), Column::new("region", "region", Form::Full)],
    context: &["account_id", "region"],
    unshown: &["etag"],
    ..Description::DEFAULT
};
