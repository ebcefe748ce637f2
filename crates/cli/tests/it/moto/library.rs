//! Driving skyglue in-process, as an embedding program would: the connections
//! a `skyglue.toml` names, built with explicit test credentials (so the test
//! process's environment is neither read nor changed), then
//! `Engine::new(...).session()`.

use std::path::Path;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::prelude::SessionContext;
use skyglue_core::{AwsConnection, Connections, Engine};

use super::cli::{Row, Skyglue, two_accounts};
use super::world::moto;

/// A session over the connections `config_file` names, as account A's test user.
pub async fn session(config_file: &Path) -> SessionContext {
    let config = skyglue::Config::from_file(config_file).expect("valid skyglue.toml");
    let mut connections = Vec::new();
    for entry in &config.aws {
        for region in entry.regions.as_deref().unwrap_or_default() {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.clone()))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "moto-tests"));
            if let Some(url) = &entry.endpoint_url {
                loader = loader.endpoint_url(url);
            }
            let mut sdk = loader.load().await;
            if let Some(role) = &entry.role_arn {
                let provider =
                    AssumeRoleProvider::builder(role).session_name("skyglue").configure(&sdk).build().await;
                sdk =
                    sdk.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
            }
            connections.push(AwsConnection::new(entry.name.clone(), sdk).expect("connection"));
        }
    }
    let engine = Engine::new(Connections::from_aws(connections), skyglue::registry());
    engine.session().await.expect("session")
}

/// Runs `sql` in-process over accounts A and B of the shared moto, both regions.
pub async fn rows(sql: &str) -> Rows {
    let config = Skyglue::new(&two_accounts(moto().endpoint()));
    query(&session(config.config_path()).await, sql).await
}

/// The result of a query: column names, and rows as `--format json` prints them.
pub struct Rows {
    pub schema: Schema,
    pub rows: Vec<Row>,
}

impl Rows {
    /// The top-level column names.
    pub fn columns(&self) -> Vec<&str> {
        self.schema.fields().iter().map(|f| f.name().as_str()).collect()
    }

    /// The field names of a list-of-struct column.
    pub fn struct_fields(&self, column: &str) -> Vec<String> {
        let field = self.schema.field_with_name(column).expect("column");
        match field.data_type() {
            DataType::List(item) | DataType::LargeList(item) => match item.data_type() {
                DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect(),
                other => panic!("{column} is a list of {other}, not of structs"),
            },
            other => panic!("{column} is {other}, not a list"),
        }
    }
}

/// Runs `sql` on `ctx`, which must succeed.
pub async fn query(ctx: &SessionContext, sql: &str) -> Rows {
    let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let schema = df.schema().as_arrow().clone();
    let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut writer = datafusion::arrow::json::ArrayWriter::new(Vec::new());
    for batch in &batches {
        writer.write(batch).expect("rows to JSON");
    }
    writer.finish().expect("rows to JSON");
    let json = writer.into_inner();
    let rows = if json.is_empty() { Vec::new() } else { serde_json::from_slice(&json).expect("JSON rows") };
    Rows { schema, rows }
}
