//! The delete sinks against the in-process sandbox: batch sizes, per-item
//! failures, failed calls, the intent/outcome journal, and what the world looks
//! like afterwards.

#[path = "sinks/calls.rs"]
mod calls;
#[path = "sinks/ecr.rs"]
mod ecr;
#[path = "sinks/ecs.rs"]
mod ecs;
#[path = "sinks/s3.rs"]
mod s3;
#[path = "sinks/services.rs"]
mod services;
#[path = "sinks/support.rs"]
mod support;
