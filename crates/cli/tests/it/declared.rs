//! Declared REST tables through the `skyglue` binary: `tables check` on the
//! shipped examples and on broken files (exit 2 with file:line), a name that
//! clashes with a built-in table, a `query` of a table declared in a
//! `tables_dir` against a loopback fake, and `\d` describing it in the REPL.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use axum::Router;
use axum::routing::get;

/// Runs the binary with `args` (no config but what `args` name); returns the
/// exit code, stdout and stderr.
pub(crate) fn skyglue(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyglue"));
    cmd.args(args).current_dir(dir.path()).env_remove("SKYGLUE_CONFIG");
    cmd.env("SKYGLUE_STATE_DIR", dir.path()).env("AWS_REGION", "us-east-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn shipped(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tables").join(name).display().to_string()
}

#[test]
fn the_shipped_examples_check_clean() {
    for file in ["github_workflow_run.toml", "slack_conversation.toml", "pagerduty_incident.toml"] {
        let (code, out, err) = skyglue(&["tables", "check", &shipped(file)], &[]);
        assert_eq!(code, 0, "{file}: {err}");
        assert!(out.contains(": 1 table ok"), "{file}: {out}");
    }
    let (_, out, _) = skyglue(&["tables", "check", &shipped("pagerduty_incident.toml")], &[]);
    assert!(
        out.contains("pagerduty_incident: 10 columns, keys: status, urgency, service_id, offset pagination, 10 req/s, needs PAGERDUTY_TOKEN (not set)"),
        "{out}"
    );
}

#[test]
fn a_declaration_error_names_the_file_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(shipped("pagerduty_incident.toml")).unwrap();
    let line = text.lines().position(|l| l.starts_with("name = \"urgency\"")).unwrap() + 1;
    std::fs::write(&file, text.replace("name = \"urgency\"", "name = \"urgency\"\nkind = \"text\"")).unwrap();
    let (code, out, err) = skyglue(&["tables", "check", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with(&format!("error: {}:{}: unknown field `kind`", file.display(), line + 1)),
        "{err}"
    );
}

#[test]
fn a_declared_name_may_not_shadow_a_built_in_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clash.toml");
    let text = std::fs::read_to_string(shipped("pagerduty_incident.toml")).unwrap();
    std::fs::write(&file, text.replace("name = \"pagerduty_incident\"", "name = \"github_commit\"")).unwrap();
    let (code, _, err) = skyglue(&["tables", "check", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("table github_commit clashes with skyglue's built-in table"), "{err}");
}

#[test]
fn a_table_in_the_configured_tables_dir_answers_queries() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = runtime.block_on(async {
        let app = Router::new().route(
            "/widgets",
            get(|| async { r#"{"widgets": [{"id": 1, "name": "gear"}, {"id": 2, "name": "cog"}]}"# }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tables")).unwrap();
    std::fs::write(
        dir.path().join("tables/widget.toml"),
        format!(
            "[[table]]\nname = \"widget\"\nurl = \"{base}/${{WIDGET_PATH}}\"\nrows = \"$.widgets[*]\"\n\
             [[table.column]]\nname = \"id\"\ntype = \"integer\"\n[[table.column]]\nname = \"name\"\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("skyglue.toml");
    std::fs::write(&config, "tables_dir = \"tables\"\n").unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "query",
        "SELECT name FROM widget ORDER BY id",
        "--format",
        "csv",
    ];
    let (code, out, err) = skyglue(&args, &[("WIDGET_PATH", "widgets")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "name\ngear\ncog\n");
    let (code, _, err) = skyglue(&args, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("table widget: environment variable WIDGET_PATH is not set"), "{err}");
}

#[test]
fn the_repl_describes_a_declared_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("skyglue.toml"),
        "[[table]]\nname = \"widget\"\ndescription = \"Widgets of the shop.\"\nurl = \"https://shop.example/widgets\"\n\
         rows = \"$.widgets[*]\"\n[[table.column]]\nname = \"colour\"\ndescription = \"The widget's colour.\"\n\
         key = { param = \"colour\" }\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_skyglue"))
        .args(["--config", dir.path().join("skyglue.toml").to_str().unwrap(), "repl"])
        .env("SKYGLUE_STATE_DIR", dir.path())
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\\d widget\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Widgets of the shop."), "{stdout}");
    assert!(stdout.contains("colour") && stdout.contains("The widget's colour."), "{stdout}");
}
