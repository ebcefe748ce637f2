//! The list of tables and views an engine registers.
//!
//! Each table crate contributes a [`Registry`] (`skyglue_aws::registry()`);
//! the engine merges them. Adding a table is one line in its crate's list.

use std::sync::Arc;

use crate::config::InUseSources;
use crate::connection::Connections;
use crate::error::{Error, Result};
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
    in_use_sources: Vec<&'static str>,
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

    /// Adds a table already shared (a list of `Arc<dyn ApiTable>`).
    pub fn table_arc(mut self, table: Arc<dyn ApiTable>) -> Self {
        self.tables.push(table);
        self
    }

    /// Adds a view (registered after every table).
    pub fn view(mut self, view: View) -> Self {
        self.views.push(view);
        self
    }

    /// Declares a source of "in use" that `[in_use] sources` may name
    /// (`ecs`, `lambda`, ...): a name no registry declares is a config error.
    pub fn in_use_source(mut self, name: &'static str) -> Self {
        if !self.in_use_sources.contains(&name) {
            self.in_use_sources.push(name);
        }
        self
    }

    /// Adds everything in `other`.
    pub fn merge(mut self, other: Registry) -> Self {
        self.tables.extend(other.tables);
        self.views.extend(other.views);
        for name in other.in_use_sources {
            self = self.in_use_source(name);
        }
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

    /// The sources of "in use" `[in_use] sources` may name, in declaration order.
    pub fn in_use_sources(&self) -> &[&'static str] {
        &self.in_use_sources
    }

    /// Checks `[in_use] sources` against the declared sources: an unknown
    /// name (a typo, or a source of a crate not registered) would otherwise
    /// protect nothing while the report said it was checked.
    pub fn validate_in_use(&self, sources: &InUseSources) -> Result<()> {
        match sources.unknown(&self.in_use_sources) {
            None => Ok(()),
            Some(unknown) => Err(Error::Config(format!(
                "[in_use] sources lists {unknown:?}, which is not a source of \"in use\"; the known sources are: {}",
                self.in_use_sources.join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_in_use_source_is_a_config_error_naming_the_known_ones() {
        let registry = Registry::new().in_use_source("ecs").merge(Registry::new().in_use_source("lambda"));
        assert!(registry.validate_in_use(&InUseSources::new(["lambda", "ecs"])).is_ok());
        let error = registry.validate_in_use(&InUseSources::new(["ecs", "lamda"])).expect_err("unknown");
        let text = error.to_string();
        assert!(text.contains("[in_use] sources") && text.contains("\"lamda\""), "{text}");
        assert!(text.contains("the known sources are: ecs, lambda"), "{text}");
    }
}
