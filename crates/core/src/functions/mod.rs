//! Scalar functions skyglue adds to SQL.

mod arn_parts;
mod days_ago;
mod days_since;
mod image_ref;

pub use arn_parts::{ArnPartsUdf, arn_parts_fields};
pub use days_ago::DaysAgoUdf;
pub use days_since::DaysSinceUdf;
pub use image_ref::{ImageRef, ImageRefUdf, image_ref_fields, parse_image_ref};

use datafusion::logical_expr::ScalarUDF;

/// Every skyglue scalar function.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(ImageRefUdf::default()),
        ScalarUDF::new_from_impl(DaysAgoUdf::default()),
        ScalarUDF::new_from_impl(DaysSinceUdf::default()),
        ScalarUDF::new_from_impl(ArnPartsUdf::default()),
    ]
}
