//! Docs that run: every ```sql block of README.md and docs/guide/*.md runs
//! against the sandbox world of `skyglue demo`, and every ```toml block
//! parses as a skyglue configuration or a declared-table file, unknown keys
//! rejected as the config loader rejects them.
//!
//! A block that cannot run says why in its fence: ```sql no-run: needs a
//! real account (a bare `no-run`, without a reason, fails). A policy block
//! (one with an `-- @action:` header) is validated and planned as `skyglue
//! run` would, with its parameters' defaults, and its query runs. Failures
//! name the file and line of the block.
//!
//! docs/guide/tables.md is `skyglue tables --markdown`'s output: a test
//! fails when it is stale, saying how to regenerate it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use datafusion::sql::parser::DFParser;
use skyglue_policy::{Journal, PolicyFile, RunOptions, Runner};
use skyglue_sandbox::World;

use crate::support::Env;

/// One fenced block of a Markdown file.
#[derive(Debug, PartialEq)]
struct Block {
    /// `file:line` of the opening fence.
    at: String,
    /// The fence's language (`sql`, `toml`, `sh`, ...).
    lang: String,
    /// What the fence says after the language: `Ok(None)` to run the
    /// block, `Ok(Some(reason))` for `no-run: reason`, `Err` for a marker
    /// that is not understood (a bare `no-run` included).
    skip: Result<Option<String>, String>,
    /// The lines inside the fence, without the fence's indentation.
    text: String,
}

/// The fenced blocks of `markdown` (named `file` in `at`), indented ones
/// (inside a list item) included.
fn blocks(file: &str, markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, usize, String, Vec<String>)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                // As in CommonMark, an info string holds no backtick: a line
                // that starts with inline code is not a fence.
                if let Some(info) = trimmed.strip_prefix("```").filter(|info| !info.contains('`')) {
                    open = Some((i + 1, indent, info.trim().to_string(), Vec::new()));
                }
            }
            Some((start, fence_indent, info, lines)) => {
                if trimmed.trim_end() == "```" {
                    let (lang, rest) = info.split_once(' ').unwrap_or((info.as_str(), ""));
                    out.push(Block {
                        at: format!("{file}:{start}"),
                        lang: lang.to_string(),
                        skip: marker(rest.trim()),
                        text: lines.join("\n"),
                    });
                    open = None;
                } else {
                    let cut = line.len().min(*fence_indent).min(indent);
                    lines.push(line[cut..].to_string());
                }
            }
        }
    }
    out
}

/// The meaning of what follows a fence's language.
fn marker(rest: &str) -> Result<Option<String>, String> {
    if rest.is_empty() {
        return Ok(None);
    }
    match rest.strip_prefix("no-run") {
        Some(reason) => match reason.strip_prefix(':').map(str::trim) {
            Some(reason) if !reason.is_empty() => Ok(Some(reason.to_string())),
            _ => Err(format!("`{rest}` needs a reason: write `no-run: <why it cannot run>`")),
        },
        None => Err(format!("unknown fence marker `{rest}`: only `no-run: <reason>` is understood")),
    }
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every page of the guide, with the name to report them by.
fn documents() -> Vec<(String, String)> {
    let root = repository_root();
    let mut files = vec![PathBuf::from("README.md")];
    let mut guide: Vec<PathBuf> = std::fs::read_dir(root.join("docs/guide"))
        .expect("docs/guide exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).expect("inside the repository").to_path_buf())
        .collect();
    guide.sort();
    files.extend(guide);
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(root.join(&f)).expect("the document reads");
            (f.display().to_string(), text)
        })
        .collect()
}

fn all_blocks() -> Vec<Block> {
    documents().iter().flat_map(|(file, text)| blocks(file, text)).collect()
}

/// Runs one SQL block; a policy block as `skyglue run` would plan it.
async fn run_sql(env: &Env, runner: &Runner, block: &Block) -> Result<(), String> {
    if block.text.lines().any(|l| l.trim_start().starts_with("-- @action:")) {
        let policy = PolicyFile::parse(&block.text, &block.at, "docs").map_err(|e| e.to_string())?;
        let options = RunOptions { notify: Some(false), ..RunOptions::default() };
        let prepared = runner.prepare_parsed(policy, &block.at, &options).await.map_err(|e| e.to_string())?;
        prepared.query.collect().await.map_err(|e| e.to_string())?;
        return Ok(());
    }
    let statements = DFParser::parse_sql(&block.text).map_err(|e| e.to_string())?;
    if statements.is_empty() {
        return Err("the block holds no SQL statement".into());
    }
    for statement in statements {
        let plan = env.ctx.state().statement_to_plan(statement).await.map_err(|e| e.to_string())?;
        env.ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| e.to_string())?
            .collect()
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Parses one TOML block as `skyglue.toml` is parsed (a declared-table
/// file, holding only `[[table]]`, is one too), and checks its declared
/// tables as `skyglue tables check` does.
fn check_toml(block: &Block) -> Result<(), String> {
    let mut config = skyglue_core::Config::parse(&block.text, &block.at).map_err(|e| e.to_string())?;
    // A `tables_dir` names the reader's directory, not one beside this page.
    config.tables_dir = None;
    let declared = skyglue_rest::load::from_config(&config).map_err(|e| e.to_string())?;
    skyglue_rest::refuse_builtin_names(&declared, &skyglue::registry()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn every_sql_and_toml_block_of_the_docs_runs() {
    let env = Env::start(World::demo()).await;
    let state = tempfile::tempdir().unwrap();
    skyglue::register_journal(&env.ctx, state.path()).unwrap();
    let journal = Arc::new(Journal::open(state.path()).unwrap());
    let runner = Runner::new(env.engine.clone(), journal, skyglue_aws::sinks::all(), None);

    let mut failures = Vec::new();
    let (mut sql_run, mut toml_checked) = (0, 0);
    for block in all_blocks().iter().filter(|b| b.lang == "sql" || b.lang == "toml") {
        match &block.skip {
            Err(e) => failures.push(format!("{}: {e}", block.at)),
            Ok(Some(_)) => {}
            Ok(None) => {
                let result = if block.lang == "sql" {
                    sql_run += 1;
                    run_sql(&env, &runner, block).await
                } else {
                    toml_checked += 1;
                    check_toml(block)
                };
                if let Err(e) = result {
                    failures.push(format!("{}: ```{} block: {e}", block.at, block.lang));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} doc blocks fail:\n{}", failures.len(), failures.join("\n"));
    assert!(sql_run >= 10 && toml_checked >= 5, "only {sql_run} SQL and {toml_checked} TOML blocks ran");
}

#[test]
fn fences_are_found_with_their_line_and_marker() {
    let md = "# T\n\n```sql\nSELECT 1\n```\n\n- item\n\n  ```toml no-run: a Cargo.toml\n  [dependencies]\n  ```\n```sql no-run\nx\n```\n";
    let found = blocks("page.md", md);
    assert_eq!(found.len(), 3);
    assert_eq!(
        (found[0].at.as_str(), found[0].text.as_str(), &found[0].skip),
        ("page.md:3", "SELECT 1", &Ok(None))
    );
    assert_eq!(found[1].at, "page.md:9");
    assert_eq!(found[1].text, "[dependencies]");
    assert_eq!(found[1].skip, Ok(Some("a Cargo.toml".to_string())));
    assert!(found[2].skip.as_ref().is_err_and(|e| e.contains("needs a reason")), "{:?}", found[2].skip);
    assert!(blocks("p.md", "```` ```sql x ```` is inline code\n").is_empty());
    assert!(marker("no-run:   ").is_err());
    assert!(marker("norun: x").is_err());
}

#[tokio::test]
async fn a_failing_block_is_reported_with_its_place() {
    let env = Env::start(World::demo()).await;
    let state = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(state.path()).unwrap());
    let runner = Runner::new(env.engine.clone(), journal, skyglue_aws::sinks::all(), None);
    let md = "```sql\nSELECT no_such_column FROM aws_ecr_image\n```\n```toml\n[[aws]]\nname = \"a\"\nregion = \"x\"\n```\n";
    let found = blocks("page.md", md);
    let sql = run_sql(&env, &runner, &found[0]).await.unwrap_err();
    assert!(sql.contains("no_such_column"), "{sql}");
    let toml = check_toml(&found[1]).unwrap_err();
    assert!(toml.contains("page.md:4") && toml.contains("region"), "{toml}");
    let policy = "```sql\n-- @action: delete_ecr_images\nSELECT repository_name FROM aws_ecr_image\n```\n";
    let err = run_sql(&env, &runner, &blocks("p.md", policy)[0]).await.unwrap_err();
    assert!(err.contains("image_digest"), "a policy block is validated as `skyglue run` does: {err}");
}

#[test]
fn the_table_reference_page_is_what_skyglue_tables_markdown_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_skyglue")).args(["tables", "--markdown"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let generated = String::from_utf8(out.stdout).unwrap();
    let page = std::fs::read_to_string(repository_root().join("docs/guide/tables.md")).unwrap();
    if page != generated {
        let line = page.lines().zip(generated.lines()).position(|(a, b)| a != b);
        let line = line.unwrap_or_else(|| page.lines().count().min(generated.lines().count())) + 1;
        panic!(
            "docs/guide/tables.md is stale (first difference at line {line}): the built-in tables changed. \
             Regenerate it from the repository's root with\n    {}\nand commit it.",
            skyglue::reference::REGENERATE
        );
    }
    assert!(page.contains("\n## aws_ecr_image\n"), "the page describes the tables");
}
