//! The history as one self-contained HTML page: inline CSS, the charts as
//! inline SVG drawn here, a few lines of script that only show times in the
//! reader's zone, and the figures as JSON in
//! `<script type="application/json" id="skyglue-history">`. No server, no
//! network: the file opens anywhere.

use std::fmt::Write;

use super::{History, RunSummary};
use crate::format::human_bytes;

/// How many runs the chart and the runs table show (the newest).
const RUNS_SHOWN: usize = 60;

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:2rem 0 .6rem}
.sub{color:#656d76}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#656d76}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.partial{color:#9a6700}.failed,.interrupted{color:#cf222e}.unfinished{color:#8250df}
.reason{font-family:ui-monospace,monospace;font-size:12px;word-break:break-word}
svg text{font:11px system-ui,sans-serif;fill:#656d76}
";

/// Shows every `<time>` in the reader's time zone; the UTC text stays when
/// scripts are off.
const SCRIPT: &str = "
document.querySelectorAll('time[datetime]').forEach(function (t) {
  var d = new Date(t.getAttribute('datetime'));
  if (!isNaN(d.getTime())) { t.title = t.textContent; t.textContent = d.toLocaleString(); }
});
document.body.setAttribute('data-rendered', 'yes');
";

impl History {
    /// The page.
    pub fn to_html(&self, generated: &str, source: &str) -> String {
        let mut out = String::new();
        let applied: Vec<&RunSummary> = self.runs.iter().filter(|r| r.mode == "apply").collect();
        let deleted: u64 = applied.iter().map(|r| r.done).sum();
        let bytes: i64 = applied.iter().map(|r| r.bytes_reclaimed).sum();
        let failed_runs =
            self.runs.iter().filter(|r| matches!(r.status.as_str(), "failed" | "partial")).count();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>skyglue history</title><style>{STYLE}</style></head><body>\n\
             <h1>skyglue history</h1><div class=\"sub\">{} · generated <time datetime=\"{g}\">{g}</time></div>\n",
            esc(source),
            g = esc(generated),
        );
        let _ = write!(out, "<div class=\"cards\">");
        for (label, value) in [
            ("runs", self.runs.len().to_string()),
            ("applied runs", applied.len().to_string()),
            ("deleted", deleted.to_string()),
            ("reclaimed", human_bytes(bytes)),
            ("failed or partial runs", failed_runs.to_string()),
        ] {
            let _ = write!(out, "<div class=\"card\">{}<b>{}</b></div>", esc(label), esc(&value));
        }
        out.push_str("</div>\n");

        let shown = &self.runs[self.runs.len().saturating_sub(RUNS_SHOWN)..];
        out.push_str("<h2>Bytes reclaimed per applied run</h2>\n");
        out.push_str(&bars(shown));
        out.push_str("<h2>Runs</h2>\n");
        out.push_str(&runs_table(shown));
        out.push_str("<h2>Reclaimed per repository</h2>\n");
        out.push_str(&groups_table(self));
        out.push_str("<h2>Latest failures</h2>\n");
        out.push_str(&failures_table(self));
        let data = script_safe(&self.to_json());
        let _ = write!(
            out,
            "\n<script type=\"application/json\" id=\"skyglue-history\">{data}</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
        );
        out
    }
}

/// A bar per run: its bytes reclaimed (applied runs), coloured by status.
fn bars(runs: &[RunSummary]) -> String {
    let applied: Vec<&RunSummary> = runs.iter().filter(|r| r.mode == "apply").collect();
    if applied.is_empty() {
        return "<p class=\"sub\">No applied run yet: dry runs change nothing.</p>\n".into();
    }
    let (width, height, top, bottom) = (1000.0_f64, 180.0_f64, 16.0_f64, 22.0_f64);
    let max = applied.iter().map(|r| r.bytes_reclaimed).max().unwrap_or(0).max(1) as f64;
    let step = width / applied.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"bytes reclaimed per run\">\
         <text x=\"0\" y=\"11\">{}</text>",
        esc(&human_bytes(max as i64))
    );
    for (i, run) in applied.iter().enumerate() {
        let h = (run.bytes_reclaimed as f64 / max) * (height - top - bottom);
        let colour = match run.status.as_str() {
            "ok" => "#2da44e",
            "partial" => "#d4a72c",
            _ => "#cf222e",
        };
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\">\
             <title>{} · {} · {} deleted, {}</title></rect>",
            i as f64 * step + step * 0.15,
            height - bottom - h,
            step * 0.7,
            h.max(1.0),
            esc(&run.started),
            esc(&run.policy),
            run.done,
            esc(&human_bytes(run.bytes_reclaimed)),
        );
    }
    if let (Some(first), Some(last)) = (applied.first(), applied.last()) {
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{y}\">{}</text><text x=\"{width}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
            esc(day(&first.started)),
            esc(day(&last.started)),
            y = height - 6.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn runs_table(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "<p class=\"sub\">The journal holds no run yet.</p>\n".into();
    }
    let mut t = String::from(
        "<table><tr><th>started</th><th>policy</th><th>mode</th><th>status</th><th>planned</th>\
         <th>done</th><th>skipped</th><th>failed</th><th>reclaimed</th><th>oldest check</th><th>error</th></tr>\n",
    );
    for r in runs.iter().rev() {
        let _ = writeln!(
            t,
            "<tr><td><time datetime=\"{s}\">{s}</time></td><td>{}</td><td>{}</td><td class=\"{st}\">{st}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"reason\">{}</td></tr>",
            esc(&r.policy),
            esc(if r.mode == "dry_run" { "dry run" } else { &r.mode }),
            r.planned,
            r.done,
            r.skipped,
            r.failed,
            esc(&human_bytes(r.bytes_reclaimed)),
            r.oldest_check_seconds.map(|s| format!("{s:.1} s")).unwrap_or_default(),
            esc(r.error.as_deref().unwrap_or("")),
            s = esc(&r.started),
            st = esc(&r.status),
        );
    }
    t.push_str("</table>\n");
    t
}

fn groups_table(history: &History) -> String {
    if history.groups.is_empty() {
        return "<p class=\"sub\">Nothing deleted yet.</p>\n".into();
    }
    let max = history.groups.iter().map(|g| g.bytes).max().unwrap_or(0).max(1) as f64;
    let mut t = String::from(
        "<table><tr><th>repository, family or prefix</th><th>runs</th><th>deleted</th><th>reclaimed</th><th></th></tr>\n",
    );
    for g in &history.groups {
        let _ = writeln!(
            t,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td><svg width=\"160\" height=\"10\"><rect width=\"{:.0}\" height=\"10\" fill=\"#2da44e\"/></svg></td></tr>",
            esc(&g.group),
            g.runs,
            g.done,
            esc(&human_bytes(g.bytes)),
            160.0 * g.bytes as f64 / max,
        );
    }
    t.push_str("</table>\n");
    t
}

fn failures_table(history: &History) -> String {
    if history.failures.is_empty() {
        return "<p class=\"sub\">No failures.</p>\n".into();
    }
    let mut t = String::from(
        "<table><tr><th>when</th><th>policy</th><th>run</th><th>target</th><th>reason</th></tr>\n",
    );
    for f in &history.failures {
        let _ = writeln!(
            t,
            "<tr><td><time datetime=\"{ts}\">{ts}</time></td><td>{}</td><td>{}</td><td class=\"reason\">{}</td>\
             <td class=\"reason\">{}</td></tr>",
            esc(&f.policy),
            esc(&f.run_id),
            esc(f.target.as_deref().unwrap_or("the run")),
            esc(&f.reason),
            ts = esc(&f.ts),
        );
    }
    t.push_str("</table>\n");
    t
}

/// `2026-11-30` of an RFC 3339 time.
fn day(ts: &str) -> &str {
    ts.get(..10).unwrap_or(ts)
}

/// Text made safe for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` (which JSON
/// only has inside strings) become `\u003c`, `\u003e` and `\u0026`, so no
/// `</script>`, `<!--` or `<script` in the data can end or confuse the
/// element; the parsed JSON is unchanged.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_json_has_no_angle_bracket_and_parses_back() {
        let json = r#"{"reason":"<!-- <script> </SCRIPT > a&b"}"#;
        let safe = script_safe(json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'), "{safe}");
        assert!(safe.contains("\\u003c!-- \\u003cscript"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back["reason"], "<!-- <script> </SCRIPT > a&b");
    }

    #[test]
    fn text_and_data_cannot_break_out_of_the_page() {
        assert_eq!(esc("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let history = History {
            failures: vec![super::super::Failure {
                reason: "</script><script>alert(1)".into(),
                ..Default::default()
            }],
            ..History::default()
        };
        let page = history.to_html("2026-11-30T00:00:00Z", "journal");
        assert!(!page.contains("</script><script>alert"), "{page}");
    }
}
