//! Connections to workers whose every error names the worker.
//!
//! The engine has no retries and no checkpoints: a worker that dies or
//! cannot be reached fails the query. [`NamedChannels`] makes that failure
//! say which worker it was (`worker 10.0.0.7:50051 failed: ...`), whether
//! the connection was refused or a stream broke mid-query.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion_distributed::{
    ChannelResolver, CoordinatorToWorkerMsg, ExecuteTaskRequest, GetWorkerInfoRequest, GetWorkerInfoResponse,
    SetPlanRequest, WorkerChannel, WorkerToCoordinatorMsg,
};
use futures::stream::{BoxStream, StreamExt};
use url::Url;

/// A failure of (or on) one worker.
#[derive(Debug, thiserror::Error)]
#[error("worker {worker} failed: {cause}")]
pub struct WorkerFailed {
    /// `HOST:PORT`.
    pub worker: String,
    /// What went wrong. Not the error's `source()`: DataFusion reports an
    /// error's root cause, and that would drop the worker's name.
    pub cause: DataFusionError,
}

fn named(worker: &str, error: DataFusionError) -> DataFusionError {
    let cause = match error {
        DataFusionError::External(e) if e.is::<WorkerFailed>() => return DataFusionError::External(e),
        // A refusal of the worker's own (a wrong token, a refused plan):
        // its message, without the status's metadata.
        DataFusionError::External(e) => match e.downcast::<tonic::Status>() {
            Ok(status) => DataFusionError::Execution(status.message().to_string()),
            Err(e) => DataFusionError::External(e),
        },
        other => other,
    };
    DataFusionError::External(Box::new(WorkerFailed { worker: worker.to_string(), cause }))
}

/// A [`ChannelResolver`] whose channels name their worker in every error,
/// over `inner` (gRPC, or in-memory in tests).
#[derive(Clone)]
pub struct NamedChannels<R> {
    inner: R,
}

impl<R> NamedChannels<R> {
    /// Names the errors of `inner`'s channels.
    pub fn new(inner: R) -> Self {
        Self { inner }
    }
}

/// `HOST:PORT` of a worker URL.
fn address(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => url.to_string(),
    }
}

#[async_trait]
impl<R: ChannelResolver + Send + Sync> ChannelResolver for NamedChannels<R> {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        let worker = address(url);
        let inner = self.inner.get_worker_client_for_url(url).await.map_err(|e| named(&worker, e))?;
        Ok(Box::new(NamedChannel { worker: Arc::from(worker), inner }))
    }
}

struct NamedChannel {
    worker: Arc<str>,
    inner: Box<dyn WorkerChannel>,
}

impl NamedChannel {
    fn stream<T: Send + 'static>(&self, s: BoxStream<'static, Result<T>>) -> BoxStream<'static, Result<T>> {
        let worker = self.worker.clone();
        s.map(move |item| item.map_err(|e| named(&worker, e))).boxed()
    }
}

#[async_trait]
impl WorkerChannel for NamedChannel {
    async fn coordinator_channel(
        &mut self,
        headers: http::HeaderMap,
        set_plan_request: SetPlanRequest,
        c2w_stream: BoxStream<'static, CoordinatorToWorkerMsg>,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<BoxStream<'static, Result<WorkerToCoordinatorMsg>>> {
        let stream = self
            .inner
            .coordinator_channel(headers, set_plan_request, c2w_stream, metrics, task_ctx)
            .await
            .map_err(|e| named(&self.worker, e))?;
        Ok(self.stream(stream))
    }

    async fn execute_task(
        &mut self,
        headers: http::HeaderMap,
        request: ExecuteTaskRequest,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<Vec<BoxStream<'static, Result<RecordBatch>>>> {
        let streams = self
            .inner
            .execute_task(headers, request, metrics, task_ctx)
            .await
            .map_err(|e| named(&self.worker, e))?;
        Ok(streams.into_iter().map(|s| self.stream(s)).collect())
    }

    async fn get_worker_info(&mut self, request: GetWorkerInfoRequest) -> Result<GetWorkerInfoResponse> {
        self.inner.get_worker_info(request).await.map_err(|e| named(&self.worker, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_worker_once() {
        let e = named("10.0.0.7:50051", DataFusionError::Execution("transport error".into()));
        assert_eq!(
            e.to_string(),
            "External error: worker 10.0.0.7:50051 failed: Execution error: transport error"
        );
        let again = named("10.0.0.8:50051", e);
        let refused =
            named("w1:7000", DataFusionError::External(Box::new(tonic::Status::unauthenticated("no"))));
        assert_eq!(refused.to_string(), "External error: worker w1:7000 failed: Execution error: no");
        assert!(!again.to_string().contains("10.0.0.8"), "{again}");
        let url = Url::parse("http://w1:7000").unwrap_or_else(|_| unreachable!());
        assert_eq!(address(&url), "w1:7000");
    }
}
