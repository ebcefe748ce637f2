//! `days_ago(n)`: the UTC timestamp `n` days before now.
//!
//! ```sql
//! SELECT * FROM aws_ecr_image WHERE image_pushed_at < days_ago(30);
//! ```
//!
//! DataFusion 55 cannot multiply an interval by a number, and policies need
//! "older than `$max_age_days`" all the time.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// The `days_ago` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DaysAgoUdf {
    signature: Signature,
}

impl Default for DaysAgoUdf {
    fn default() -> Self {
        Self { signature: Signature::numeric(1, Volatility::Stable) }
    }
}

fn return_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

impl ScalarUDFImpl for DaysAgoUdf {
    fn name(&self) -> &str {
        "days_ago"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let now = chrono::Utc::now().timestamp_micros() as f64;
        let at = |days: f64| (now - days * MICROS_PER_DAY) as i64;
        match &args.args[0] {
            ColumnarValue::Scalar(s) => {
                let days = match s.cast_to(&DataType::Float64)? {
                    ScalarValue::Float64(v) => v,
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(days.map(at), Some("UTC".into()))))
            }
            ColumnarValue::Array(a) => {
                let a = cast(a, &DataType::Float64)?;
                let a = a
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(|| DataFusionError::Internal("days_ago input".into()))?;
                let out: TimestampMicrosecondArray = a.iter().map(|d| d.map(at)).collect();
                Ok(ColumnarValue::Array(Arc::new(out.with_timezone("UTC"))))
            }
        }
    }
}
