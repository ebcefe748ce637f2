//! Declarative table specs: what a table is called, what its columns mean, and
//! which columns the API can filter on.
//!
//! A spec is data, not code. The framework reads it to build the Arrow schema,
//! to decide which filters it can push into API parameters, to reject queries
//! that miss a required key, and to describe the table in the REPL.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::throttle::RateLimits;

/// Whether a column can be pushed into the API call, and whether it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Not a key: filtered by DataFusion after the fetch.
    No,
    /// The API accepts it as a parameter; without it the table lists everything.
    Optional,
    /// The API cannot list without it: a query must constrain it.
    Required,
}

/// One column of a table.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// SQL name, following Steampipe's naming.
    pub name: &'static str,
    /// Arrow type.
    pub data_type: DataType,
    /// One line shown by `\d TABLE` in the REPL.
    pub description: &'static str,
    /// Key-column role.
    pub key: Key,
    /// Whether a key value names the rows whose value *starts with* it (a git
    /// SHA prefix such as `abc1234`): see [`ColumnSpec::prefix_key`].
    pub prefix: bool,
    /// The key a `LIKE 'abc%'` filter on this column is pushed as: see
    /// [`ColumnSpec::like_pushed_as`].
    pub like_key: Option<&'static str>,
}

impl ColumnSpec {
    /// A column that is not a key.
    pub fn new(name: &'static str, data_type: DataType, description: &'static str) -> Self {
        Self { name, data_type, description, key: Key::No, prefix: false, like_key: None }
    }

    /// Marks the column as an optional key (pushed into API parameters).
    pub fn optional_key(mut self) -> Self {
        self.key = Key::Optional;
        self
    }

    /// Marks the column as an optional key whose values are prefixes: the API
    /// resolves a unique prefix (`abc1234`) to the full value, and the column
    /// holds the full value. The framework re-checks `col = 'abc1234'` and
    /// `col IN (...)` on such a column as `starts_with(col, 'abc1234')`, so a
    /// row the fetch resolved from a prefix is kept; other filters on it are
    /// re-checked as written.
    pub fn prefix_key(mut self) -> Self {
        self.key = Key::Optional;
        self.prefix = true;
        self
    }

    /// Pushes `col LIKE 'abc%'` (a literal prefix, then one `%`) into the
    /// API as the key column `key` = `'abc'`: an S3 object listing's `prefix`
    /// parameter for `WHERE key LIKE 'builds/%'`, say. The filter itself is
    /// still checked on every row.
    pub fn like_pushed_as(mut self, key: &'static str) -> Self {
        self.like_key = Some(key);
        self
    }

    /// Marks the column as a required key.
    pub fn required_key(mut self) -> Self {
        self.key = Key::Required;
        self
    }
}

/// Where a table's rows come from, and so which columns the framework fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every AWS connection (account x region): the framework fans out and fills
    /// the `account_id` and `region` columns.
    Aws,
    /// Once per AWS account, through the account's first connection: for
    /// global services (S3 bucket listing, IAM-like APIs). The framework fills
    /// `account_id`.
    AwsAccount,
    /// Every configured Kubernetes context: the framework fans out and fills
    /// the `context` column.
    Kubernetes,
    /// One global source (GitHub, say): fetched once.
    Global,
}

impl Scope {
    /// The columns the framework puts in front of the table's own.
    pub fn connection_columns(self) -> Vec<ColumnSpec> {
        let account =
            || ColumnSpec::new("account_id", DataType::Utf8View, "The AWS account the row came from.");
        match self {
            Scope::Aws => vec![
                account(),
                ColumnSpec::new("region", DataType::Utf8View, "The AWS region the row came from."),
            ],
            Scope::AwsAccount => vec![account()],
            Scope::Kubernetes => {
                vec![ColumnSpec::new(
                    "context",
                    DataType::Utf8View,
                    "The kubeconfig context the row came from.",
                )]
            }
            Scope::Global => vec![],
        }
    }

    /// Whether `column` is one the framework fills (and can prune on).
    pub fn is_connection_column(self, column: &str) -> bool {
        self.connection_columns().iter().any(|c| c.name == column)
    }
}

/// A table, declared.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// SQL name.
    pub name: &'static str,
    /// One line shown by `\d` in the REPL.
    pub description: &'static str,
    /// Where rows come from.
    pub scope: Scope,
    /// The table's own columns; for [`Scope::Aws`] the framework puts
    /// `account_id` and `region` in front of them.
    pub columns: Vec<ColumnSpec>,
    /// API error codes that mean "no rows" rather than failure, per operation:
    /// `("ecr:DescribeImages", "RepositoryNotFoundException")` when a key names
    /// a repository that is gone. Only codes AWS documents as "not found" for
    /// that operation belong here: a catch-all such as ECS's `ClientException`
    /// must fail the query, or a failed describe silently drops rows.
    pub not_found_codes: &'static [NotFound],
    /// The client-side rate limits of every service the table calls, declared
    /// next to the table ([`RateLimits`]); a call to a service not declared
    /// anywhere fails instead of running unthrottled. Empty for tables that
    /// call no rate-limited AWS-style API.
    pub rate_limits: Vec<&'static RateLimits>,
    /// Every API operation the fetch calls through [`FetchContext::call`]
    /// (`ecr:DescribeImages`): a call to one not listed fails. The AWS
    /// crate's tests check each against a rate limit and a permission probe.
    /// Empty for tables that call no AWS-style API.
    ///
    /// [`FetchContext::call`]: crate::FetchContext::call
    pub operations: &'static [&'static str],
}

/// An `(operation, error code)` pair: the code means "no rows" for calls of
/// that operation (`service:Operation`).
pub type NotFound = (&'static str, &'static str);

impl TableSpec {
    /// Every column the user sees, in order: the scope's, then the table's own.
    pub fn all_columns(&self) -> Vec<ColumnSpec> {
        let mut cols = self.scope.connection_columns();
        cols.extend(self.columns.iter().cloned());
        cols
    }

    /// The schema of the table as SQL sees it.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(fields_schema(&self.all_columns()))
    }

    /// The schema of one page as the fetch function builds it (no connection columns).
    pub fn page_schema(&self) -> SchemaRef {
        Arc::new(fields_schema(&self.columns))
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<ColumnSpec> {
        self.all_columns().into_iter().find(|c| c.name == name)
    }

    /// The error codes that mean "no rows" for calls of `operation`.
    pub fn not_found_codes_of(&self, operation: &str) -> Vec<&'static str> {
        self.not_found_codes.iter().filter(|(op, _)| *op == operation).map(|(_, code)| *code).collect()
    }
}

fn fields_schema(cols: &[ColumnSpec]) -> Schema {
    Schema::new(cols.iter().map(|c| Field::new(c.name, c.data_type.clone(), true)).collect::<Vec<_>>())
}

/// Text column type: `Utf8View`, so join keys from SQL literals arrive without casts.
pub fn text() -> DataType {
    DataType::Utf8View
}

/// UTC timestamp column type (microseconds).
pub fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// A list of text.
pub fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(text(), true)))
}

/// A map of text to text (resource tags): `tags['team']` reads one.
pub fn text_map() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// A list of structs with these fields.
pub fn struct_list(fields: Vec<Field>) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Struct(Fields::from(fields)), true)))
}

/// A nullable struct field, for [`struct_list`].
pub fn field(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_codes_apply_to_their_own_operation_only() {
        let spec = TableSpec {
            name: "t",
            description: "",
            scope: Scope::Aws,
            columns: vec![],
            not_found_codes: &[
                ("ecs:ListServices", "ClusterNotFoundException"),
                ("ecr:DescribeImages", "RepositoryNotFoundException"),
                ("ecr:DescribeImages", "ImageNotFoundException"),
            ],
            rate_limits: vec![],
            operations: &[],
        };
        assert_eq!(spec.not_found_codes_of("ecs:ListServices"), vec!["ClusterNotFoundException"]);
        assert_eq!(
            spec.not_found_codes_of("ecr:DescribeImages"),
            vec!["RepositoryNotFoundException", "ImageNotFoundException"]
        );
        assert!(spec.not_found_codes_of("ecs:DescribeServices").is_empty());
    }
}
