//! SDK clients for one connection, by service: each constructor lives in its
//! service's folder (`services/<service>/mod.rs`, `client`), named here by
//! service so a table or sink writes `clients::ecr(conn)`. Every client has
//! skyglue's interceptors and none of the SDK's own retries: every call goes
//! through `skyglue_core::call::aws_call`, which retries within the
//! client-side rate limit.

pub use crate::services::apprunner::client as apprunner;
pub use crate::services::batch::client as batch;
pub use crate::services::ecr::client as ecr;
pub use crate::services::ecs::client as ecs;
pub use crate::services::events::client as events;
pub use crate::services::lambda::client as lambda;
pub use crate::services::s3::client as s3;
pub use crate::services::scheduler::client as scheduler;
