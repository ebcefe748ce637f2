//! `days_since(t)`: whole days from the timestamp `t` to now (NULL for NULL),
//! the age a report says in words.
//!
//! ```sql
//! SELECT image_digest, days_since(image_pushed_at) AS age_days FROM aws_ecr_image;
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampSecondType};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

const SECONDS_PER_DAY: i64 = 86_400;

/// The `days_since` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DaysSinceUdf {
    signature: Signature,
}

impl Default for DaysSinceUdf {
    fn default() -> Self {
        Self { signature: Signature::any(1, Volatility::Stable) }
    }
}

impl ScalarUDFImpl for DaysSinceUdf {
    fn name(&self) -> &str {
        "days_since"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let now = chrono::Utc::now().timestamp();
        let array = args.args[0].to_array(args.number_rows)?;
        let seconds = cast(&array, &DataType::Timestamp(TimeUnit::Second, None))?;
        let seconds = seconds.as_primitive::<TimestampSecondType>();
        let days: Int64Array =
            seconds.iter().map(|t| t.map(|t| (now - t).div_euclid(SECONDS_PER_DAY))).collect();
        let days: Arc<dyn Array> = Arc::new(days);
        match &args.args[0] {
            ColumnarValue::Scalar(_) => {
                Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&days, 0)?))
            }
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(days)),
        }
    }
}
