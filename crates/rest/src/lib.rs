//! skyglue's declared tables: any paginated REST API as a SQL table,
//! declared in a few lines of TOML instead of Rust.
//!
//! A declaration (`[[table]]` in `skyglue.toml`, or in the `*.toml` files
//! of its `tables_dir`) names the endpoint, the credential (a header or a
//! query parameter, from `${VAR}` only, sent only to the endpoint's host and
//! never printed), where the rows are, how the API pages (and how far), its
//! rate limit and the columns with their JSON paths, types and key parameters. Each one
//! becomes a [`DeclaredTable`] served by the framework in `skyglue-core`, so
//! it gets key and join-key pushdown, `LIMIT`, retries, the scan cache and
//! metrics like the built-in tables.
//!
//! ```
//! let tables = skyglue_rest::load::from_text("example.toml", r#"
//! [[table]]
//! name = "pagerduty_incident"
//! url = "https://api.pagerduty.com/incidents"
//! auth = { header = "Authorization", value = "Token token=${PAGERDUTY_TOKEN}" }
//! rows = "$.incidents[*]"
//! paginate = { style = "offset", limit_param = "limit", offset_param = "offset", page_size = 100, more = "$.more" }
//! [[table.column]]
//! name = "id"
//! [[table.column]]
//! name = "status"
//! key = { param = "statuses[]" }
//! "#)?;
//! assert_eq!(tables[0].name, "pagerduty_incident");
//! # Ok::<(), skyglue_rest::Error>(())
//! ```

pub mod check;
mod decl;
pub mod env;
pub mod error;
mod http;
pub mod load;
pub mod model;
pub mod path;
mod request;
mod rows;
mod secret;
pub mod table;
pub mod types;
mod validate;

use skyglue_core::{Config, Registry};

pub use env::{Env, RenderError, process_env};
pub use error::{Error, Result};
pub use model::Declared;
pub use table::DeclaredTable;

/// The tables `config` declares, as a registry to merge with the built-in
/// one; a declared name that `builtin` already has is refused.
pub fn registry(config: &Config, builtin: &Registry, env: Env) -> Result<Registry> {
    let declared = load::from_config(config)?;
    refuse_builtin_names(&declared, builtin)?;
    Ok(declared.into_iter().fold(Registry::new(), |r, d| r.table(DeclaredTable::new(d, env.clone()))))
}

/// Refuses a declared table named like a built-in table or view.
pub fn refuse_builtin_names(declared: &[Declared], builtin: &Registry) -> Result<()> {
    let taken = |name: &str| {
        builtin.tables().iter().any(|t| t.spec().name == name)
            || builtin.views().iter().any(|v| v.name == name)
    };
    match declared.iter().find(|d| taken(&d.name)) {
        Some(d) => Err(load::at_origin(
            &d.origin,
            format!(
                "table {} clashes with skyglue's built-in table of that name: choose another name",
                d.name
            ),
        )),
        None => Ok(()),
    }
}
