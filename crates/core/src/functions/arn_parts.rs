//! `arn_parts(arn)`: an ARN's parts as a struct, with the same parser the
//! Rust code uses ([`crate::arn::Arn`]).
//!
//! ```sql
//! SELECT arn_parts('arn:aws:ecs:us-east-1:111111111111:task-definition/web:7')['qualifier'];
//! ```
//!
//! The struct has `partition, service, region, account_id, resource_type,
//! resource, name, qualifier`. `region` and `account_id` are NULL where the ARN
//! leaves them empty (IAM, S3); `resource_type` is NULL for a bare id;
//! `qualifier` is what follows the resource's last `:` (a revision, a Lambda
//! version or alias). A value that is not an ARN gives NULL, never a wrong
//! split.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray, StringViewBuilder, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use crate::arn::Arn;

/// The names of the struct's fields, in order.
const FIELDS: [&str; 8] =
    ["partition", "service", "region", "account_id", "resource_type", "resource", "name", "qualifier"];

/// The struct fields `arn_parts` returns.
pub fn arn_parts_fields() -> Fields {
    Fields::from(FIELDS.map(|n| Field::new(n, DataType::Utf8View, true)).to_vec())
}

/// The `arn_parts` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArnPartsUdf {
    signature: Signature,
}

impl Default for ArnPartsUdf {
    fn default() -> Self {
        Self {
            signature: Signature::uniform(
                1,
                vec![DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ArnPartsUdf {
    fn name(&self) -> &str {
        "arn_parts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(arn_parts_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let input = cast(&input, &DataType::Utf8)?;
        let input = input
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| DataFusionError::Internal("arn_parts input".into()))?;
        let mut builders: Vec<StringViewBuilder> = FIELDS.iter().map(|_| StringViewBuilder::new()).collect();
        let mut valid = Vec::with_capacity(input.len());
        for i in 0..input.len() {
            let parsed = if input.is_null(i) { None } else { Arn::parse(input.value(i)).ok() };
            valid.push(parsed.is_some());
            let values = match parsed {
                Some(a) => [
                    Some(a.partition),
                    Some(a.service),
                    a.region,
                    a.account_id,
                    a.resource_type,
                    Some(a.resource),
                    Some(a.name),
                    a.qualifier,
                ],
                None => [None; 8],
            };
            for (b, v) in builders.iter_mut().zip(values) {
                b.append_option(v);
            }
        }
        let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let array = StructArray::try_new(arn_parts_fields(), arrays, Some(valid.into()))?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

    #[tokio::test]
    async fn parts_of_each_row_and_null_for_malformed_ones() -> datafusion::error::Result<()> {
        let ctx = crate::engine::new_context();
        for udf in super::super::all() {
            ctx.register_udf(udf);
        }
        let sql = "SELECT arn_parts(a)['service'] AS service, arn_parts(a)['region'] AS region, \
                   arn_parts(a)['resource_type'] AS kind, arn_parts(a)['name'] AS name, \
                   arn_parts(a)['qualifier'] AS q, arn_parts(a) IS NULL AS malformed \
                   FROM (VALUES ('arn:aws-cn:ecs:cn-north-1:111111111111:task-definition/web:7'), \
                   ('arn:aws:iam::111111111111:role/ci/deploy'), ('arn:aws:s3:::b/k/x:1'), \
                   ('web:7'), ('arn:aws:ecs:us-east-1:111111111111:service/'), (NULL)) AS t(a)";
        let batches = ctx.sql(sql).await?.collect().await?;
        let mut rows = Vec::new();
        for batch in &batches {
            let options = FormatOptions::default().with_null("NULL");
            let columns: Vec<ArrayFormatter<'_>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<_, _>>()?;
            for row in 0..batch.num_rows() {
                rows.push(columns.iter().map(|c| c.value(row).to_string()).collect::<Vec<_>>().join(" "));
            }
        }
        assert_eq!(
            rows,
            [
                "ecs cn-north-1 task-definition web 7 false",
                "iam NULL role ci/deploy NULL false",
                "s3 NULL NULL b/k/x 1 false",
                "NULL NULL NULL NULL NULL true",
                "NULL NULL NULL NULL NULL true",
                "NULL NULL NULL NULL NULL true",
            ]
        );
        Ok(())
    }
}
