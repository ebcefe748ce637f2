//! The list of tables and views an engine registers.
//!
//! Each table crate contributes a [`Registry`] (`skyglue_aws::registry()`);
//! the engine merges them. Adding a table is one line in its crate's list.

use std::sync::Arc;

use crate::connection::Connections;
use crate::table::ApiTable;

/// A SQL view shipped with skyglue, defined in readable SQL.
#[derive(Debug, Clone)]
pub struct View {
    /// SQL name.
    pub name: &'static str,
    /// One line shown by `\d` in the REPL.
    pub description: &'static str,
    /// The `SELECT` that defines it.
    pub sql: &'static str,
    /// For a view whose definition depends on the configuration (which
    /// sources `image_in_use` unions, say): builds the `SELECT` from the
    /// connections; `sql` is then what an unconfigured engine uses.
    pub build: Option<fn(&Connections) -> String>,
}

impl View {
    /// A view defined by `sql`.
    pub const fn new(name: &'static str, description: &'static str, sql: &'static str) -> Self {
        Self { name, description, sql, build: None }
    }

    /// The `SELECT` this view has with `connections`.
    pub fn sql_for(&self, connections: &Connections) -> String {
        match self.build {
            Some(build) => build(connections),
            None => self.sql.to_string(),
        }
    }
}

/// Tables and views to register.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    tables: Vec<Arc<dyn ApiTable>>,
    views: Vec<View>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a table.
    pub fn table(mut self, table: impl ApiTable) -> Self {
        self.tables.push(Arc::new(table));
        self
    }

    /// Adds a view (registered after every table).
    pub fn view(mut self, view: View) -> Self {
        self.views.push(view);
        self
    }

    /// Adds everything in `other`.
    pub fn merge(mut self, other: Registry) -> Self {
        self.tables.extend(other.tables);
        self.views.extend(other.views);
        self
    }

    /// The tables.
    pub fn tables(&self) -> &[Arc<dyn ApiTable>] {
        &self.tables
    }

    /// The views.
    pub fn views(&self) -> &[View] {
        &self.views
    }
}
