//! Reports: the human table, and the grader's own JSON.
//!
//! Everything a program printed has already been escaped by `text` before it
//! reaches a `Fail`; reports add no raw program output.

use std::io::Write;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::grading::{Diagnosed, Outcome};

/// Totals over a set of outcomes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub score: u32,
    pub max_score: u32,
    pub passed: usize,
    pub failed: usize,
}

pub fn totals<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Totals {
    let mut t = Totals::default();
    for o in outcomes {
        t.score += o.points;
        t.max_score += o.max_points;
        if o.passed() {
            t.passed += 1;
        } else {
            t.failed += 1;
        }
    }
    t
}

const GOOD: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Red.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const HINT: Style = AnsiColor::Yellow.on_default();

/// Titles of the labs, for headings.
pub type Titles<'a> = &'a dyn Fn(&str) -> String;

/// How much of the failures the human report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every failure, excerpts shortened, no commands.
    Brief,
    /// Every failure in full, with the commands that reproduce it.
    Verbose,
    /// The first failure in full (with its commands), the others by name:
    /// what `cargo grade --watch` shows after each save.
    FirstInFull,
}

/// The human report: a table by lab, then every failure explained.
pub fn human(
    out: &mut dyn Write,
    origin: &str,
    outcomes: &[Outcome],
    elapsed: Duration,
    verbose: bool,
    titles: Titles,
) -> std::io::Result<()> {
    let detail = if verbose { Detail::Verbose } else { Detail::Brief };
    human_with(out, origin, outcomes, elapsed, detail, titles)
}

/// The human report with the failures shown as `detail` says.
pub fn human_with(
    out: &mut dyn Write,
    origin: &str,
    outcomes: &[Outcome],
    elapsed: Duration,
    detail: Detail,
    titles: Titles,
) -> std::io::Result<()> {
    let verbose = detail != Detail::Brief;
    writeln!(out, "Grading {origin}")?;
    // A bug that explains several failures is named before anything else;
    // its hint and the failures follow under "What went wrong".
    for (d, _) in diagnoses(outcomes) {
        let program = d.program.as_ref().map(|p| format!(" in {p}")).unwrap_or_default();
        writeln!(out, "{BAD}{BOLD}Likely bug{program}:{BOLD:#}{BAD:#} {}", indent(&d.says))?;
    }
    let mut labs: Vec<&str> = Vec::new();
    for o in outcomes {
        if !labs.contains(&o.lab.as_str()) {
            labs.push(&o.lab);
        }
    }
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(10).max(30);
    for lab in &labs {
        let of_lab: Vec<&Outcome> = outcomes.iter().filter(|o| o.lab == *lab).collect();
        let t = totals(of_lab.iter().copied());
        writeln!(out)?;
        let heading = format!("{lab}: {}", titles(lab));
        writeln!(out, "{BOLD}{heading:<w$}{BOLD:#} {:>6}", format!("{}/{}", t.score, t.max_score), w = width + 6)?;
        for o in of_lab {
            let (mark, style) = if o.passed() { ("✔", GOOD) } else { ("✘", BAD) };
            let points = format!("{}/{}", o.points, o.max_points);
            let time = format!("{:.2}s", o.elapsed.as_secs_f64());
            // With --repeat, how many repetitions passed: a check that
            // failed once in three is not one that never works.
            let mut reps = if o.repetitions > 1 {
                format!("  passed {} of {}", o.repetitions - o.failures, o.repetitions)
            } else {
                String::new()
            };
            if !o.reruns.is_empty() {
                reps.push_str(if o.passed() { "  (passed when run again alone)" } else { "  (failed again alone)" });
            }
            writeln!(out, "  {style}{mark}{style:#} {:<width$}   {points:>6}  {DIM}{time:>7}{DIM:#}{reps}", o.name)?;
        }
    }

    // Checks that count as passed only because a run alone passed: why.
    let confirmed: Vec<&Outcome> = outcomes.iter().filter(|o| o.passed() && !o.reruns.is_empty()).collect();
    if !confirmed.is_empty() {
        writeln!(out)?;
        writeln!(out, "{BOLD}Run again alone{BOLD:#}")?;
        for o in confirmed {
            writeln!(out)?;
            writeln!(out, "{GOOD}✔ {}{GOOD:#}  ({}/{})", o.full_name(), o.points, o.max_points)?;
            for line in rerun_lines(o) {
                writeln!(out, "    {}", indent(&line))?;
            }
        }
    }

    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    let shown = match detail {
        Detail::FirstInFull => &failures[..failures.len().min(1)],
        _ => &failures[..],
    };
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "{BOLD}What went wrong{BOLD:#}")?;
        // The bugs that explain several failures together come first.
        for (d, o) in diagnoses(outcomes) {
            writeln!(out)?;
            let n = d.explains.len();
            let failures = if n == 1 { "1 failure".to_string() } else { format!("{n} failures") };
            let program = d.program.as_ref().map(|p| format!(", in {p}")).unwrap_or_default();
            writeln!(out, "{BAD}{BOLD}Likely cause of {failures}{program}:{BOLD:#}{BAD:#}")?;
            writeln!(out, "    {}", indent(&d.says))?;
            let names: Vec<&str> =
                d.explains.iter().map(|n| n.strip_prefix(&format!("{}::", d.lab)).unwrap_or(n)).collect();
            writeln!(out, "    explains: {}", indent_by(&names.join(", "), 14))?;
            writeln!(out, "    {HINT}hint:{HINT:#} {}", indent_by(&o.hint, 10))?;
            writeln!(out, "    {HINT}read:{HINT:#} {}", o.see)?;
        }
        for o in shown {
            let fail = o.fail.as_ref().expect("a failure");
            writeln!(out)?;
            writeln!(out, "{BAD}✘ {}{BAD:#}  ({}/{})", o.full_name(), o.points, o.max_points)?;
            writeln!(out, "    {}", indent(&fail.what))?;
            if let Some(expected) = &fail.expected {
                writeln!(out, "    expected: {}", indent_by(expected, 14))?;
            }
            if let Some(got) = &fail.got {
                writeln!(out, "    got:      {}", indent_by(got, 14))?;
            }
            if let (Some(command), true) = (&fail.command, verbose) {
                writeln!(out, "    command: {}", indent(command))?;
            }
            if let Some(ended) = fail.ended.as_ref().filter(|e| fail.got.as_ref() != Some(*e)) {
                writeln!(out, "    ({ended})")?;
            }
            let so_far = if fail.so_far { " so far" } else { "" };
            if let Some(stdout) = &fail.stdout {
                writeln!(out, "    stdout{so_far}: {}", indent(&shorten(stdout, verbose)))?;
            }
            if let Some(stderr) = &fail.stderr {
                writeln!(out, "    stderr{so_far}: {}", indent(&shorten(stderr, verbose)))?;
            }
            for note in &fail.notes {
                writeln!(out, "    {}", indent(&shorten(note, verbose)))?;
            }
            for line in repetitions(o) {
                writeln!(out, "    {}", indent(&line))?;
            }
            if let Some(d) = &o.diagnosis {
                writeln!(out, "    {HINT}likely cause:{HINT:#} {} (above)", d.name)?;
            } else {
                writeln!(out, "    {HINT}hint:{HINT:#} {}", indent_by(&o.hint, 10))?;
                writeln!(out, "    {HINT}read:{HINT:#} {}", o.see)?;
            }
            if verbose && !o.commands.is_empty() {
                writeln!(out, "    to reproduce by hand, in an empty directory (e.g. `cd \"$(mktemp -d)\"`):")?;
                for c in &o.commands {
                    writeln!(out, "      $ {c}")?;
                }
            }
        }
        if failures.len() > shown.len() {
            let rest: Vec<String> = failures[shown.len()..].iter().map(|o| o.full_name()).collect();
            writeln!(out)?;
            writeln!(
                out,
                "{DIM}{} more failing: {} (`cargo grade --verbose LAB` explains them all){DIM:#}",
                rest.len(),
                rest.join(", ")
            )?;
        }
        if !verbose {
            writeln!(out)?;
            writeln!(out, "{DIM}Run with --verbose to see the commands to reproduce each failure.{DIM:#}")?;
        }
    }

    let t = totals(outcomes);
    writeln!(out)?;
    let style = if t.failed == 0 { GOOD } else { BAD };
    writeln!(
        out,
        "{style}{BOLD}Score: {}/{}{BOLD:#}{style:#}   ({} checks: {} passed, {} failed; {:.1}s)",
        t.score,
        t.max_score,
        t.passed + t.failed,
        t.passed,
        t.failed,
        elapsed.as_secs_f64()
    )?;
    Ok(())
}

/// Each diagnosis that holds, once, with the first outcome it explains (for
/// its hint and section), in the order of the outcomes.
pub fn diagnoses(outcomes: &[Outcome]) -> Vec<(&Diagnosed, &Outcome)> {
    let mut found: Vec<(&Diagnosed, &Outcome)> = Vec::new();
    for o in outcomes {
        if let Some(d) = &o.diagnosis {
            if !found.iter().any(|(seen, _)| seen.lab == d.lab && seen.name == d.name) {
                found.push((d, o));
            }
        }
    }
    found
}

/// What `--repeat` saw of a failed check: how many repetitions passed,
/// which one is shown, and how the others failed if differently.
pub fn repetitions(o: &Outcome) -> Vec<String> {
    if o.repetitions <= 1 {
        return Vec::new();
    }
    let passed = o.repetitions - o.failures;
    let shown = o.shown_repetition().unwrap_or(1);
    let marks: String = o.each.iter().map(|r| if r.failed.is_some() { '✘' } else { '✔' }).collect();
    let mut lines = vec![format!(
        "passed {passed} of {} repetitions ({marks}); what repetition {shown} saw is shown above",
        o.repetitions
    )];
    let shown_what = o.fail.as_ref().map(|f| f.what.as_str()).unwrap_or_default();
    for (i, r) in o.each.iter().enumerate() {
        if let Some((kind, what)) = &r.failed {
            if i + 1 != shown && what != shown_what {
                lines.push(format!("repetition {} failed otherwise ({}): {what}", i + 1, kind.name()));
            }
        }
    }
    lines
}

/// What the runs alone of a passed check were, and why they were made.
pub fn rerun_lines(o: &Outcome) -> Vec<String> {
    o.reruns.iter().map(ipc_engine::runner::Rerun::describe).collect()
}

/// Lines of a note shown without `--verbose`.
const BRIEF_LINES: usize = 8;

fn shorten(note: &str, verbose: bool) -> String {
    let lines: Vec<&str> = note.lines().collect();
    if verbose || lines.len() <= BRIEF_LINES {
        return note.to_string();
    }
    format!("{}\n… ({} more lines: --verbose shows them)", lines[..BRIEF_LINES].join("\n"), lines.len() - BRIEF_LINES)
}

fn indent(text: &str) -> String {
    indent_by(text, 4)
}

fn indent_by(text: &str, by: usize) -> String {
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

/// The grader's own JSON report (documented in ARCHITECTURE.md; stable).
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub score: u32,
    pub max_score: u32,
    /// Seconds.
    pub execution_time: f64,
    pub graded: &'a str,
    /// Warnings about the grader itself (e.g. its files were changed).
    pub notes: &'a [String],
    pub tests: Vec<JsonTest>,
}

#[derive(Serialize)]
pub struct JsonTest {
    pub name: String,
    pub lab: String,
    pub score: u32,
    pub max_score: u32,
    pub status: &'static str,
    pub output: String,
    /// Seconds.
    pub execution_time: f64,
}

/// The plain-text explanation of one outcome (for JSON and other formats),
/// every field of its failure included.
pub fn explain(o: &Outcome) -> String {
    let Some(fail) = &o.fail else { return rerun_lines(o).join("\n") };
    let mut s = String::new();
    if let Some(d) = &o.diagnosis {
        s.push_str(&format!(
            "likely cause (it explains {}): {}
",
            d.explains.join(", "),
            d.says
        ));
    }
    s.push_str(&fail.what);
    let mut line = |label: &str, text: &Option<String>| {
        if let Some(text) = text {
            s.push_str(&format!("\n{label}{text}"));
        }
    };
    line("expected: ", &fail.expected);
    line("got: ", &fail.got);
    line("command: ", &fail.command);
    line("", &fail.ended.as_ref().filter(|e| fail.got.as_ref() != Some(*e)).map(|e| format!("({e})")));
    let so_far = if fail.so_far { " so far" } else { "" };
    line(&format!("stdout{so_far}: "), &fail.stdout);
    line(&format!("stderr{so_far}: "), &fail.stderr);
    for n in &fail.notes {
        s.push_str(&format!("\n{n}"));
    }
    for line in repetitions(o) {
        s.push_str(&format!("\n{line}"));
    }
    s.push_str(&format!("\nhint: {}\nread: {}", o.hint, o.see));
    s
}

pub fn json(origin: &str, outcomes: &[Outcome], elapsed: Duration, notes: &[String]) -> String {
    let t = totals(outcomes);
    let report = JsonReport {
        score: t.score,
        max_score: t.max_score,
        execution_time: round3(elapsed.as_secs_f64()),
        graded: origin,
        notes,
        tests: outcomes
            .iter()
            .map(|o| JsonTest {
                name: o.full_name(),
                lab: o.lab.clone(),
                score: o.points,
                max_score: o.max_points,
                status: if o.passed() { "passed" } else { "failed" },
                output: explain(o),
                execution_time: round3(o.elapsed.as_secs_f64()),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).expect("a report serialises")
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
