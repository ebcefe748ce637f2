//! AWS timestamps to the microseconds a timestamp column holds.

use aws_smithy_types::DateTime;

/// Microseconds since the epoch, for a timestamp column.
pub fn micros(t: Option<&DateTime>) -> Option<i64> {
    t.map(|t| skyglue_core::micros(t.secs(), t.subsec_nanos()))
}
