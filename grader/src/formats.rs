//! Reports for machines: Gradescope's results.json and GitHub Actions
//! (step summary, annotations, and GitHub Classroom's grading reporter).
//!
//! Program output reaches these only through `report::explain`, already
//! escaped; here it is further kept from forming GitHub workflow commands.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use serde::Serialize;

use crate::grading::Outcome;
use ipc_engine::check::Kind;

use crate::report::{self, Totals, totals};

/// Gradescope's results.json, with exactly the keys of Gradescope's
/// autograder specification (there is no top-level `max_score`: the
/// assignment's total is set on Gradescope).
#[derive(Serialize)]
struct Gradescope {
    score: u32,
    execution_time: f64,
    output: String,
    visibility: &'static str,
    stdout_visibility: &'static str,
    tests: Vec<GradescopeTest>,
}

#[derive(Serialize)]
struct GradescopeTest {
    name: String,
    score: u32,
    max_score: u32,
    status: &'static str,
    output: String,
    tags: Vec<String>,
    visibility: &'static str,
}

/// Notes every report carries (e.g. files changed since the template's export).
pub fn notes_text(notes: &[String]) -> String {
    notes.iter().map(|n| format!("NOTE: {n}\n")).collect()
}

pub fn gradescope(origin: &str, outcomes: &[Outcome], elapsed: Duration, notes: &[String]) -> String {
    let t = totals(outcomes);
    // The top-level output is visible at once: it counts only the visible
    // checks, so it says nothing of the hidden ones (not even that they exist).
    let visible = totals(outcomes.iter().filter(|o| !o.hidden));
    let report = Gradescope {
        score: t.score,
        execution_time: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        output: format!("{}Graded {origin}: {}", notes_text(notes), summary_line(&visible)),
        visibility: "visible",
        stdout_visibility: "hidden",
        tests: outcomes
            .iter()
            .map(|o| GradescopeTest {
                name: o.full_name(),
                score: o.points,
                max_score: o.max_points,
                status: if o.passed() { "passed" } else { "failed" },
                output: report::explain(o),
                tags: vec![o.lab.clone()],
                // Hidden checks show once the instructor publishes grades.
                visibility: if o.hidden { "after_published" } else { "visible" },
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).expect("a report serialises")
}

fn summary_line(t: &Totals) -> String {
    format!("{}/{} points; {} checks passed, {} failed", t.score, t.max_score, t.passed, t.failed)
}

/// Makes text safe to print in a GitHub Actions log: no line can start a
/// workflow command (the runner trims leading blanks, then looks for `::`).
pub fn defuse(text: &str) -> String {
    // A zero-width space between the colons (or the hashes of the older
    // `##[command]` form) breaks the command marker while leaving the text
    // readable.
    text.replace("::", ":\u{200b}:").replace("##[", "#\u{200b}#[")
}

/// Escapes the message of a workflow command (`::error ...::MESSAGE`).
fn command_data(text: &str) -> String {
    defuse(text).replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property of a workflow command (`title=...`).
fn command_property(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A").replace(':', "%3A").replace(',', "%2C")
}

/// The result in the shape GitHub Classroom's grading reporter
/// (`classroom-resources/autograding-grading-reporter@v1`) reads: base64 of
/// this JSON, passed to it in ONE environment variable. It posts
/// `Points SUM(tests[].score)/max_score`; it prints a test's `message` only
/// when its status is `error`.
#[derive(Serialize)]
struct Classroom {
    version: u32,
    status: &'static str,
    max_score: u32,
    tests: Vec<ClassroomTest>,
}

#[derive(Serialize)]
struct ClassroomTest {
    name: String,
    status: &'static str,
    score: u32,
    message: String,
    test_code: String,
    filename: String,
    line_no: u32,
    execution_time: String,
}

/// The encoded result never exceeds this (Linux refuses an environment
/// string over 128 KiB, and then no points are posted at all).
pub const CLASSROOM_LIMIT: usize = 60 * 1024;

/// The base64 value of the step output `result` for the Classroom reporter:
/// always valid and under [`CLASSROOM_LIMIT`], however much the programs
/// printed. Each test's message is cut to fit (the step summary has it
/// whole). `error`: the grader itself failed, or some code did not compile.
pub fn classroom_result(outcomes: &[Outcome], error: bool) -> String {
    // Ever shorter messages until it fits; at last, a message only where
    // the reporter shows one (status `error`), and no test_code or file.
    for cap in [2048, 1024, 512, 256, 128, 0] {
        let encoded = classroom_encoded(outcomes, error, Some(cap));
        if encoded.len() <= CLASSROOM_LIMIT {
            return encoded;
        }
    }
    classroom_encoded(outcomes, error, None)
}

/// `cap`: the most bytes of each message; `None`: the leanest result.
fn classroom_encoded(outcomes: &[Outcome], error: bool, cap: Option<usize>) -> String {
    let t = totals(outcomes);
    let result = Classroom {
        version: 1,
        status: if error {
            "error"
        } else if t.failed == 0 {
            "pass"
        } else {
            "fail"
        },
        max_score: t.max_score,
        tests: outcomes
            .iter()
            .map(|o| {
                let status = match &o.fail {
                    None => "pass",
                    Some(f) if matches!(f.kind, Kind::Missing | Kind::Infrastructure) => "error",
                    Some(_) => "fail",
                };
                let (message, test_code, filename) = match cap {
                    Some(cap) => (
                        capped(&defuse(&report::explain(o)), cap),
                        format!("cargo grade {}", o.full_name()),
                        o.see.split('#').next().unwrap_or_default().to_string(),
                    ),
                    None if status == "error" => {
                        let what = o.fail.as_ref().map(|f| f.what.as_str()).unwrap_or_default();
                        (capped(&defuse(what), 120), String::new(), String::new())
                    }
                    None => (String::new(), String::new(), String::new()),
                };
                ClassroomTest {
                    name: o.full_name(),
                    status,
                    score: o.points,
                    message,
                    test_code,
                    filename,
                    line_no: 0,
                    execution_time: format!("{:.2}s", o.elapsed.as_secs_f64()),
                }
            })
            .collect(),
    };
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&result).expect("a result serialises"))
}

/// `text` cut to at most `cap` bytes (at a character boundary), saying how
/// much was left out and where it all is.
fn capped(text: &str, cap: usize) -> String {
    if text.len() <= cap {
        return text.to_string();
    }
    if cap == 0 {
        return format!("({} bytes: see the run's step summary)", text.len());
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} more bytes: the run's step summary has the whole text)", &text[..end], text.len() - end)
}

/// Markdown for `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(origin: &str, outcomes: &[Outcome], notes: &[String]) -> String {
    let t = totals(outcomes);
    let mut md = format!("## IPC labs: {} / {} points\n\n", t.score, t.max_score);
    for n in notes {
        let _ = writeln!(md, "> **Note:** {}\n", markdown_text(n));
    }
    let _ = writeln!(md, "Graded {}: {}.\n", markdown_text(origin), summary_line(&t));
    md.push_str("| Lab | Check | Points | Result |\n| --- | --- | ---: | --- |\n");
    for o in outcomes {
        let mark = match (o.passed(), o.reruns.is_empty()) {
            (true, true) => "✅ passed",
            (true, false) => "✅ passed when run again alone",
            (false, _) => "❌ failed",
        };
        let _ = writeln!(md, "| {} | `{}` | {}/{} | {mark} |", o.lab, o.name, o.points, o.max_points);
    }
    let confirmed: Vec<&Outcome> = outcomes.iter().filter(|o| o.passed() && !o.reruns.is_empty()).collect();
    if !confirmed.is_empty() {
        md.push_str("\n### Run again alone\n");
        for o in confirmed {
            let _ = write!(
                md,
                "\n**{}** ({}/{}): {}\n",
                o.full_name(),
                o.points,
                o.max_points,
                markdown_text(&report::explain(o))
            );
        }
    }
    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    if !failures.is_empty() {
        md.push_str("\n### What went wrong\n");
        for o in failures {
            let text = report::explain(o);
            let fence = "`".repeat(longest_backtick_run(&text).max(2) + 1);
            let _ =
                write!(md, "\n**{}** ({}/{})\n\n{fence}text\n{text}\n{fence}\n", o.full_name(), o.points, o.max_points);
        }
    }
    md
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text for a Markdown paragraph, with no HTML or Markdown of its own.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]<>()#+-.!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// GitHub shows at most 10 annotations of a kind per step.
const MAX_ANNOTATIONS: usize = 10;

/// The workflow-command lines for the log: an `::error` for the first
/// failing check of each lab (the most useful; at most nine, so that with
/// the score's `::notice` GitHub shows them all), then the notice. The
/// notice says `Score`, not `Points`: the Classroom reporter posts the
/// points itself.
pub fn annotations(outcomes: &[Outcome]) -> String {
    let t = totals(outcomes);
    let mut out = String::new();
    let mut labs_seen: Vec<&str> = Vec::new();
    for o in outcomes.iter().filter(|o| !o.passed()) {
        if labs_seen.contains(&o.lab.as_str()) || labs_seen.len() == MAX_ANNOTATIONS - 1 {
            continue;
        }
        labs_seen.push(&o.lab);
        let failed_in_lab = outcomes.iter().filter(|x| x.lab == o.lab && !x.passed()).count();
        let more = if failed_in_lab > 1 {
            format!("\n({} more failing check(s) in {}: see the run's summary)", failed_in_lab - 1, o.lab)
        } else {
            String::new()
        };
        let title = format!("{} ({}/{})", o.full_name(), o.points, o.max_points);
        let text = capped(&report::explain(o), 4000) + &more;
        let _ = writeln!(out, "::error title={}::{}", command_property(&title), command_data(&text));
    }
    let _ = writeln!(out, "::notice title=Score::{}", command_data(&format!("Score {}/{}", t.score, t.max_score)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, points: u32, max: u32, hidden: bool) -> Outcome {
        Outcome {
            lab: "pipe".into(),
            name: name.into(),
            points,
            max_points: max,
            fail: (points < max).then(|| ipc_engine::check::Fail::new("wrong")),
            elapsed: Duration::from_millis(5),
            commands: Vec::new(),
            hint: "a hint".into(),
            see: "handouts/pipe.md".into(),
            hidden,
            repetitions: 1,
            failures: u32::from(points < max),
            each: Vec::new(),
            reruns: Vec::new(),
            diagnosis: None,
        }
    }

    /// A hidden check shows only once grades are published, and nothing a
    /// student sees before (the top-level output) reveals its name, number
    /// or points.
    #[test]
    fn gradescope_hides_hidden_checks_until_published() {
        let outcomes = [outcome("seen", 0, 2, false), outcome("secret-check", 7, 7, true)];
        let json: serde_json::Value =
            serde_json::from_str(&gradescope("the starter", &outcomes, Duration::from_secs(1), &[])).unwrap();
        let output = json["output"].as_str().unwrap();
        assert!(!output.contains("secret") && !output.contains('7') && !output.contains("9"), "{output}");
        assert!(output.contains("0/2 points; 0 checks passed, 1 failed"), "{output}");
        assert_eq!(json["tests"][1]["visibility"], "after_published");
        assert_eq!(json["tests"][0]["visibility"], "visible");
        assert!(json.get("max_score").is_none(), "not a key of Gradescope's results.json");
    }

    /// Messages are cut to keep the whole Classroom result under its limit.
    #[test]
    fn classroom_result_fits_however_long_the_messages() {
        let mut long = outcome("flood", 0, 1, false);
        long.fail = Some(ipc_engine::check::Fail::new("x".repeat(200_000)));
        let outcomes: Vec<Outcome> = (0..300).map(|_| long.clone()).collect();
        let encoded = classroom_result(&outcomes, false);
        assert!(encoded.len() <= CLASSROOM_LIMIT, "{} bytes", encoded.len());
    }

    #[test]
    fn defused_text_starts_no_workflow_command() {
        let text = defuse("  ::error::pwned\n::stop-commands::x");
        assert!(text.lines().all(|l| !l.trim_start().starts_with("::")), "{text}");
    }

    #[test]
    fn command_data_is_escaped() {
        assert_eq!(command_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(command_property("a::b, c"), "a%3A%3Ab%2C c");
    }

    #[test]
    fn fences_outgrow_backticks_in_the_text() {
        assert_eq!(longest_backtick_run("a ``` b `` c"), 3);
    }
}
