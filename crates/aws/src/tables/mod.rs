//! One file per SQL table, all shaped alike: the spec (with the rate limits
//! of the service it calls), the row, the fetch.

pub mod apprunner_service;
pub mod batch_job_definition;
pub mod ecr_image;
pub mod ecr_repository;
pub mod ecs_cluster;
pub(crate) mod ecs_common;
pub mod ecs_service;
pub mod ecs_task;
pub mod ecs_task_definition;
pub mod lambda_alias;
pub mod lambda_function;
pub mod s3_bucket;
pub(crate) mod s3_common;
pub mod s3_object;
pub mod s3_object_version;
