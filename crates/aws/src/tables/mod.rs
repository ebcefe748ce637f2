//! One file per SQL table, all shaped alike: the spec, the row, the fetch.

pub mod ecr_image;
pub mod ecr_repository;
pub mod ecs_cluster;
mod ecs_common;
pub mod ecs_service;
pub mod ecs_task;
pub mod ecs_task_definition;
