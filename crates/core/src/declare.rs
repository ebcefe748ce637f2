//! [`columns!`](crate::columns): a table's columns declared once.
//!
//! One line per column gives its name, Rust type, Arrow type, description and
//! key role; the macro turns the lines into the row struct a fetch fills
//! (serialized into the page by field name, see [`crate::rows`]) and the
//! [`ColumnSpec`](crate::ColumnSpec)s of the table's spec, in the same order.
//! Adding a column is one line: the struct, the schema, `\d` in the REPL and
//! `skyglue tables` all follow from it.

/// Declares a row struct and its columns at once.
///
/// Each line is `field: RustType => (arrow_type, "description")`, optionally
/// followed by the [`ColumnSpec`](crate::ColumnSpec) builder calls that make
/// it a key (`.optional_key()`, `.prefix_key()`, `.required_key()`,
/// `.like_pushed_as("prefix")`). The struct derives `serde::Serialize` (the
/// calling crate depends on `serde`) and gets `fn columns() -> Vec<ColumnSpec>`.
///
/// ```
/// use skyglue_core::spec::{text, timestamp};
///
/// skyglue_core::columns! {
///     /// One published version.
///     struct Row<'a> {
///         function_name: Option<&'a str> => (text(), "The function.").optional_key(),
///         version: &'a str => (text(), "The published version's number."),
///         last_modified: Option<i64> => (timestamp(), "When it was deployed."),
///     }
/// }
///
/// let columns = Row::columns();
/// assert_eq!(columns.iter().map(|c| c.name).collect::<Vec<_>>(), ["function_name", "version", "last_modified"]);
/// assert_eq!(columns[0].key, skyglue_core::Key::Optional);
/// let row = Row { function_name: Some("api"), version: "3", last_modified: None };
/// # let _ = (row.function_name, row.version, row.last_modified);
/// ```
#[macro_export]
macro_rules! columns {
    (
        $(#[$meta:meta])*
        $vis:vis struct $row:ident $(<$lt:lifetime>)? {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty => ($data_type:expr, $description:expr $(,)?)
                    $(. $modifier:ident ( $($arg:expr),* ))*
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize)]
        $vis struct $row $(<$lt>)? {
            $( $(#[$field_meta])* $field: $ty, )*
        }

        impl $(<$lt>)? $row $(<$lt>)? {
            /// The table's own columns, in the order of the struct's fields.
            $vis fn columns() -> ::std::vec::Vec<$crate::ColumnSpec> {
                ::std::vec![
                    $(
                        $crate::ColumnSpec::new(stringify!($field).trim_start_matches("r#"), $data_type, $description)
                            $(.$modifier($($arg),*))*
                    ),*
                ]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::Key;
    use crate::rows::rows_to_batch;
    use crate::spec::{text, timestamp};

    crate::columns! {
        struct Row<'a> {
            name: &'a str => (text(), "The name.").required_key(),
            path: Option<&'a str> => (text(), "The path.").optional_key().like_pushed_as("prefix"),
            at: Option<i64> => (timestamp(), "When."),
        }
    }

    #[test]
    fn one_declaration_gives_the_columns_and_the_batch() {
        let columns = Row::columns();
        let names: Vec<_> = columns.iter().map(|c| (c.name, c.key, c.like_key)).collect();
        assert_eq!(
            names,
            [("name", Key::Required, None), ("path", Key::Optional, Some("prefix")), ("at", Key::No, None)]
        );
        assert_eq!(columns[1].description, "The path.");
        let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
            columns
                .iter()
                .map(|c| datafusion::arrow::datatypes::Field::new(c.name, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        ));
        let rows =
            [Row { name: "a", path: Some("x/y"), at: Some(1) }, Row { name: "b", path: None, at: None }];
        let batch = rows_to_batch(schema, &rows).expect("batch");
        assert_eq!((batch.num_rows(), batch.num_columns()), (2, 3));
        assert_eq!(batch.column(1).null_count(), 1);
    }
}
