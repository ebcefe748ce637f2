//! Tab completion: SQL keywords, table names, the columns of the tables the
//! current statement names, and meta-commands with their arguments.
//!
//! Completion reads a [`Catalog`] snapshot (tables and their columns) taken
//! from the session when the REPL starts and after each DDL statement, so a
//! key press never waits for DataFusion.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;
use rustyline::completion::Pair;

use super::command::{Arguments, Name};

/// Table names and their column names.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tables: BTreeMap<String, Vec<String>>,
}

impl Catalog {
    /// Every table and view registered on `ctx` (not `information_schema`).
    pub async fn load(ctx: &SessionContext) -> Catalog {
        let mut tables = BTreeMap::new();
        for catalog_name in ctx.catalog_names() {
            let Some(catalog) = ctx.catalog(&catalog_name) else { continue };
            for schema_name in catalog.schema_names() {
                let Some(schema) =
                    catalog.schema(&schema_name).filter(|_| schema_name != "information_schema")
                else {
                    continue;
                };
                for name in schema.table_names() {
                    if let Ok(Some(table)) = schema.table(&name).await {
                        let columns = table.schema().fields().iter().map(|f| f.name().clone()).collect();
                        tables.insert(name, columns);
                    }
                }
            }
        }
        Catalog { tables }
    }

    /// A catalog of these tables (for tests).
    #[cfg(test)]
    pub fn from_tables(tables: &[(&str, &[&str])]) -> Catalog {
        let tables = tables
            .iter()
            .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
            .collect();
        Catalog { tables }
    }

    /// The table names, sorted.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    fn columns(&self, table: &str) -> &[String] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }
}

/// Keywords worth completing; the full SQL grammar would bury the tables.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "EXISTS",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "ON",
    "USING",
    "AS",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "TRUE",
    "FALSE",
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "UNNEST",
    "INTERVAL",
    "EXPLAIN",
    "ANALYZE",
    "SHOW",
    "TABLES",
    "COLUMNS",
    "DESCRIBE",
    "CREATE",
    "VIEW",
    "REPLACE",
    "DROP",
    "VALUES",
    "OVER",
    "PARTITION",
    "TIMESTAMP",
];

/// Keywords after which only a table name makes sense.
const BEFORE_TABLE: &[&str] = &["FROM", "JOIN", "TABLE", "INTO", "UPDATE", "DESCRIBE"];

/// Completions for `line` with the cursor at `pos`: where the replaced word
/// starts, and the candidates.
pub fn complete(catalog: &Catalog, line: &str, pos: usize) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    let start =
        before.char_indices().rev().find(|(_, c)| !is_word_char(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let statement_start = before.rfind(';').map_or(0, |i| i + 1);
    let statement_end = line[pos..].find(';').map_or(line.len(), |i| pos + i);
    let statement = &line[statement_start..statement_end];

    if statement.trim_start().starts_with('\\') {
        return complete_meta(catalog, &line[statement_start..pos], pos);
    }
    if let Some(qualifier) = before[..start].strip_suffix('.') {
        let qualifier = qualifier.rsplit(|c: char| !is_word_char(c)).next().unwrap_or("");
        let table = resolve_alias(catalog, statement, qualifier);
        return (start, matching(catalog.columns(&table).iter().map(String::as_str), word));
    }

    let previous = before[..start].split(|c: char| !is_word_char(c)).rev().find(|w| !w.is_empty());
    let tables = catalog.tables.keys().map(String::as_str);
    if previous.is_some_and(|p| BEFORE_TABLE.iter().any(|k| k.eq_ignore_ascii_case(p))) {
        return (start, matching(tables, word));
    }
    let named: Vec<&str> = words(statement).filter(|w| catalog.tables.contains_key(*w)).collect();
    let columns: Vec<&str> = if named.is_empty() {
        catalog.tables.values().flatten().map(String::as_str).collect()
    } else {
        named.iter().flat_map(|t| catalog.columns(t)).map(String::as_str).collect()
    };
    // Columns first, then tables, then keywords; each group sorted.
    let mut candidates = matching(columns.into_iter(), word);
    candidates.sort_by(|a, b| a.replacement.cmp(&b.replacement));
    candidates.extend(matching(tables, word));
    if !word.is_empty() {
        let lower = word.chars().any(|c| c.is_ascii_lowercase());
        let keywords = KEYWORDS.iter().map(|k| if lower { k.to_ascii_lowercase() } else { k.to_string() });
        let mut keywords = matching_owned(keywords, word);
        keywords.sort_by(|a, b| a.replacement.cmp(&b.replacement));
        candidates.extend(keywords);
    }
    dedup(&mut candidates);
    (start, candidates)
}

/// Meta-command names, then their arguments: table names for `\d`, formats
/// for `\format`, and so on (`\i`'s file names come from the helper).
fn complete_meta(catalog: &Catalog, input: &str, pos: usize) -> (usize, Vec<Pair>) {
    let trimmed = input.trim_start();
    let offset = pos - trimmed.len();
    let Some((command, rest)) = trimmed.split_once(char::is_whitespace) else {
        return (offset, matching(Name::ALL.iter().map(|name| name.word()), trimmed));
    };
    let word_start = pos - rest.trim_start().len();
    let word = rest.trim_start();
    let options: Vec<&str> = match Name::from_word(command).map(Name::arguments) {
        Some(Arguments::Tables) => catalog.tables.keys().map(String::as_str).collect(),
        Some(Arguments::Words(words)) => words.to_vec(),
        Some(Arguments::None | Arguments::Files) | None => vec![],
    };
    (word_start, matching(options.into_iter(), word))
}

/// The table `name` stands for in `statement`: itself, or the table it aliases.
fn resolve_alias(catalog: &Catalog, statement: &str, name: &str) -> String {
    if catalog.tables.contains_key(name) {
        return name.to_string();
    }
    let words: Vec<&str> = words(statement).collect();
    for (i, w) in words.iter().enumerate() {
        if !catalog.tables.contains_key(*w) {
            continue;
        }
        let alias = match words.get(i + 1) {
            Some(a) if a.eq_ignore_ascii_case("as") => words.get(i + 2),
            other => other,
        };
        if alias.is_some_and(|a| a.eq_ignore_ascii_case(name)) {
            return w.to_string();
        }
    }
    String::new()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty())
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn matching<'a>(options: impl Iterator<Item = &'a str>, word: &str) -> Vec<Pair> {
    matching_owned(options.map(str::to_string), word)
}

fn matching_owned(options: impl Iterator<Item = String>, word: &str) -> Vec<Pair> {
    let word = word.to_ascii_lowercase();
    options
        .filter(|o| o.to_ascii_lowercase().starts_with(&word))
        .map(|o| Pair { display: o.clone(), replacement: o })
        .collect()
}

fn dedup(candidates: &mut Vec<Pair>) {
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|p| seen.insert(p.replacement.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::from_tables(&[
            ("aws_ecs_service", &["service_name", "running_count", "desired_count"]),
            ("aws_ecs_cluster", &["cluster_name", "running_tasks_count"]),
            ("aws_ecs_task", &["task_arn"]),
        ])
    }

    fn names(line: &str) -> (usize, Vec<String>) {
        let (start, pairs) = complete(&catalog(), line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn tables_after_from() {
        assert_eq!(names("SELECT * FROM aws_ecs_s"), (14, vec!["aws_ecs_service".to_string()]));
    }

    #[test]
    fn columns_of_the_tables_in_the_statement() {
        assert_eq!(names("SELECT * FROM aws_ecs_service WHERE runn").1, ["running_count"]);
        assert_eq!(names("SELECT runn").1, ["running_count", "running_tasks_count"]);
        assert_eq!(names("SELECT s.runn").1, Vec::<String>::new());
        assert_eq!(names("SELECT 1 FROM aws_ecs_cluster AS s WHERE s.runn").1, ["running_tasks_count"]);
        assert_eq!(
            names("SELECT 1; SELECT * FROM aws_ecs_task WHERE t").1,
            ["task_arn", "tables", "then", "timestamp", "true"]
        );
        assert_eq!(names("SELECT * FROM aws_ecs_service WHERE arn = '→' AND runn").1, ["running_count"]);
    }

    #[test]
    fn keywords_follow_the_case_typed() {
        assert_eq!(names("sel").1, ["select"]);
        assert_eq!(names("SEL").1, ["SELECT"]);
    }

    #[test]
    fn meta_commands_and_their_arguments() {
        assert!(names("\\ti").1.contains(&"\\timing".to_string()));
        assert_eq!(names("\\d aws_ecs_c"), (3, vec!["aws_ecs_cluster".to_string()]));
        assert_eq!(names("\\format nd").1, ["ndjson"]);
    }
}
