//! The class at a glance: `OUT/index.html`, written by batch grading from
//! the saved results, and each student's feedback as a page beside it
//! (`OUT/feedback/STUDENT.html`).
//!
//! One self-contained page: no network, no script (a Content-Security-Policy
//! forbids both, so even a mistake here could not run one), charts as inline
//! SVG. Every piece of text goes through maud's escaping; what programs
//! printed was already made printable by `ipc_engine::text` before it was
//! saved. Links to a student's page percent-encode the folder name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{CompileError, Graded};

/// Everything a path segment may not hold as it is (RFC 3986's unreserved
/// characters pass).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Scripts, network and plugins off: the page only shows text and SVG.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const CSS: &str = r#"
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #1d1d1f; }
h1 { margin-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3em .5em; border-bottom: 1px solid #e4e4e4; }
#build-table td:first-child, #student-table td:first-child { width: 14em; word-break: break-word; }
td.when { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font: 13px/1.35 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: .4em .8em; }
.muted { color: #666; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; }
figcaption { font-size: 13px; color: #444; max-width: 26em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
"#;

/// A check as the rubric describes it (the page's rows).
pub struct CheckInfo {
    pub lab: String,
    pub name: String,
    pub points: u32,
    /// What the check does (the handout table's sentence).
    pub tests: String,
    pub hint: String,
    /// `handouts/pipe.md#pipeline`, say.
    pub see: String,
    pub hidden: bool,
    /// The programs whose hint ladders the check leads to (`hints/LAB.toml`).
    pub programs: Vec<String>,
}

/// A lab graded in this run.
pub struct LabInfo {
    pub name: String,
    pub title: String,
    pub max: u32,
}

/// Facts about the grading run, for the page's header.
pub struct Facts {
    /// Seconds since the Unix epoch when this run started.
    pub started: u64,
    pub seconds: f64,
    /// `ipc-grader 0.1.0`.
    pub grader: String,
    /// SHA-256 of the grader's executable.
    pub grader_fingerprint: String,
    pub rubric_fingerprint: String,
    /// Where the rubric came from, and how to recompute its fingerprint.
    pub rubric_source: String,
    pub submissions: String,
    /// Students graded by this run (the others' results were kept).
    pub graded_now: BTreeSet<String>,
    /// What confined the programs under test ([`ipc_engine::sandbox::summary`]).
    pub sandbox: String,
}

/// What the page shows.
pub struct Class<'a> {
    /// Every current student's result, in the gradebook's order.
    pub results: &'a [Graded],
    pub labs: &'a [LabInfo],
    pub checks: &'a [CheckInfo],
    pub facts: &'a Facts,
}

/// The relative link from `index.html` to a student's feedback page.
pub fn feedback_href(student: &str) -> String {
    format!("feedback/{}.html", utf8_percent_encode(student, SEGMENT))
}

/// `OUT/index.html`.
pub fn index(class: &Class) -> String {
    let facts = class.facts;
    let results = class.results;
    let total_max: u32 = class.labs.iter().map(|l| l.max).sum();
    let old: Vec<&Graded> = results.iter().filter(|g| g.checks.is_none()).collect();
    let other_rubric: Vec<&Graded> =
        results.iter().filter(|g| g.rubric.as_deref().is_some_and(|r| r != facts.rubric_fingerprint)).collect();
    let other_grader =
        results.iter().filter(|g| g.grader.as_deref().is_some_and(|r| r != facts.grader_fingerprint)).count();
    let with_checks = results.iter().filter(|g| g.checks.as_ref().is_some_and(|c| !c.is_empty())).count();
    let not_built: Vec<&Graded> =
        results.iter().filter(|g| g.error.is_some() || !g.compile_errors.is_empty()).collect();
    let rows = check_rows(class);
    let hints_ignored: Vec<(&str, &str)> = results
        .iter()
        .filter_map(|g| g.hints.as_ref().and_then(|h| h.note.as_deref()).map(|n| (g.student.as_str(), n)))
        .collect();
    let kept = results.len() - results.iter().filter(|g| facts.graded_now.contains(&g.student)).count();
    let graded_times: Vec<u64> = results.iter().filter_map(|g| g.graded_at).collect();

    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Class overview: batch grading" }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Class overview" }
                p.muted {
                    (results.len()) " submissions, " (class.labs.len()) " labs ("
                    (class.labs.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", "))
                    "), " (class.checks.len()) " checks, " (total_max) " points. "
                    a href="#scores" { "Scores" } " · "
                    a href="#checks" { "Checks, worst first" } " · "
                    a href="#build" { "Did not build" } " · "
                    a href="#students" { "Students" }
                }

                h2 #run { "The grading run" }
                dl.facts {
                    dt { "Run" }
                    dd {
                        "started " (utc(facts.started)) ", took " (format!("{:.0}", facts.seconds)) " s; graded "
                        (facts.graded_now.len()) ", kept " (kept) " already graded"
                        @if kept > 0 { " (" code { "--force" } " grades them again)" }
                    }
                    @if let (Some(first), Some(last)) = (graded_times.iter().min(), graded_times.iter().max()) {
                        dt { "Results" }
                        dd { "graded between " (utc(*first)) " and " (utc(*last)) }
                    }
                    dt { "Grader" }
                    dd { (facts.grader) ", executable SHA-256 " code { (facts.grader_fingerprint) } }
                    dt { "Rubric" }
                    dd { "SHA-256 " code { (facts.rubric_fingerprint) } " (" (facts.rubric_source) ")" }
                    dt { "Submissions" }
                    dd { code { (facts.submissions) } }
                    dt { "Sandbox" }
                    dd { (facts.sandbox) }
                }
                @if !old.is_empty() {
                    p.note {
                        (old.len()) " result(s) were saved by an older grader, without per-check outcomes: "
                        (names(&old)) ". Their scores are shown and counted; the checks table leaves them out. "
                        code { "--force" } " grades them again."
                    }
                }
                @if !other_rubric.is_empty() {
                    p.note {
                        (other_rubric.len()) " result(s) were graded with another rubric than this run's: "
                        (names(&other_rubric)) ". Their points follow that rubric; " code { "--force" }
                        " grades them again with this one."
                    }
                }
                @if other_grader > 0 {
                    p.muted {
                        (other_grader) " result(s) were saved by another build of the grader (its executable's fingerprint differs)."
                    }
                }

                h2 #scores { "Scores" }
                div.figures {
                    (histogram("Total", &results.iter().map(|g| g.score).collect::<Vec<_>>(), total_max))
                    @for lab in class.labs {
                        (histogram(
                            &format!("{}: {}", lab.name, lab.title),
                            &results.iter().filter_map(|g| g.labs.get(&lab.name).copied()).collect::<Vec<_>>(),
                            lab.max,
                        ))
                    }
                }

                h2 #checks { "Checks, worst first" }
                p.muted {
                    "The share of the " (with_checks) " submission(s) whose programs were graded that passed each check"
                    " (submissions that did not build at all are below"
                    @if !old.is_empty() { "; results without per-check outcomes are left out" }
                    "). Hint and handout section: what to teach again. Hints asked: the students who ran "
                    code { "cargo grade --hint" } " for the check's program, and how many of them saw each rung, "
                    "as their " code { ".hints-shown.toml" } " says (self-reported, and it changes no grade)."
                }
                @if !hints_ignored.is_empty() {
                    p.note #hints-ignored {
                        "Hint records ignored in part or whole: "
                        @for (i, (student, note)) in hints_ignored.iter().enumerate() {
                            @if i > 0 { "; " }
                            (student) " (" (note) ")"
                        }
                        "."
                    }
                }
                table #check-table {
                    thead { tr {
                        th { "Check" } th.num { "Passed" } th { "" } th.num { "Points" } th { "Failures by kind" }
                        th.num { "Hints asked" }
                        th { "Hint, and where the handout explains it" }
                    } }
                    tbody {
                        @for row in &rows {
                            tr.check id=(format!("check-{}::{}", row.info.lab, row.info.name))
                                data-passed=(row.passed) data-graded=(row.graded) data-points=(row.info.points)
                                data-hinted=(row.hinted()) {
                                td {
                                    code { (row.info.lab) "::" (row.info.name) }
                                    @if row.info.hidden { " " span.muted { "(hidden)" } }
                                    br; span.muted { (row.info.tests) }
                                }
                                td.num {
                                    @if row.graded == 0 { "no data" } @else {
                                        (row.passed) "/" (row.graded) " (" (percent(row.passed, row.graded)) ")"
                                    }
                                }
                                td { (share_bar(row.passed, row.graded)) }
                                td.num { (row.info.points) }
                                td {
                                    @for (kind, n) in &row.kinds { (kind) " " (n) br; }
                                }
                                td.num.hints {
                                    @if row.hinted() == 0 { span.muted { "–" } } @else {
                                        (row.hinted()) br;
                                        span.muted {
                                            @for (i, (rung, n)) in row.rungs.iter().enumerate() {
                                                @if i > 0 { ", " }
                                                "rung " (rung) ": " (n)
                                            }
                                        }
                                    }
                                }
                                td {
                                    (row.info.hint) br;
                                    span.muted { "read: " } code { (row.info.see) }
                                    @if !row.whats.is_empty() {
                                        details {
                                            summary { "what went wrong" }
                                            ul { @for (what, n) in &row.whats { li { (n) " × " (what) } } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }

                h2 #build { "Did not build" }
                @if not_built.is_empty() {
                    p { "Every submission built." }
                } @else {
                    p.muted { "A program that does not compile costs only its own checks; the others were graded." }
                    table #build-table {
                        thead { tr { th { "Student" } th { "What, and the compiler's first error" } } }
                        tbody {
                            @for g in &not_built {
                                tr.not-built {
                                    td { a href=(feedback_href(&g.student)) { (g.student) } }
                                    td {
                                        (g.error.as_deref().unwrap_or(""))
                                        @for e in &g.compile_errors { (compile_error(e)) }
                                        @if g.compile_errors.is_empty() && g.checks.is_none() {
                                            br; span.muted { "(saved by an older grader, which kept only this line)" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }

                h2 #students { "Students" }
                table #student-table {
                    thead { tr {
                        th { "Student" }
                        @for lab in class.labs { th.num { (lab.name) } }
                        th.num { "Total" } th.num { "Max" } th { "Graded" } th { "Note" }
                    } }
                    tbody {
                        @for g in results {
                            tr.student {
                                td { a href=(feedback_href(&g.student)) { (g.student) } }
                                @for lab in class.labs {
                                    td.num { @match g.labs.get(&lab.name) { Some(p) => (p), None => "–" } }
                                }
                                td.num { (g.score) }
                                td.num { (g.max_score) }
                                td.when {
                                    @if facts.graded_now.contains(&g.student) { "this run" }
                                    @else if let Some(at) = g.graded_at { "kept, " (utc(at)) }
                                    @else { "kept (older grader)" }
                                }
                                td {
                                    @if let Some(error) = &g.error { (error) }
                                    @if g.checks.is_none() { " " span.muted { "(no per-check outcomes saved)" } }
                                    @if g.rubric.as_deref().is_some_and(|r| r != facts.rubric_fingerprint) {
                                        " " span.muted { "(another rubric)" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

/// `OUT/feedback/STUDENT.html`: the text feedback, as it is, in a page.
pub fn feedback(student: &str, result: Option<&Graded>, text: Option<&str>) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Feedback: " (student) }
                style { (PreEscaped(CSS)) }
            }
            body {
                p { a href="../index.html" { "← class overview" } }
                h1 { "Feedback: " (student) }
                @if let Some(g) = result { p { "Score: " (g.score) "/" (g.max_score) } }
                @match text {
                    Some(text) => pre #feedback { (text) },
                    None => p.note { "No feedback file was found (grade again to write one)." },
                }
            }
        }
    };
    page.into_string()
}

/// One check's row: its rubric entry and how the class did.
struct CheckRow<'a> {
    info: &'a CheckInfo,
    /// Submissions with an outcome for this check, and how many passed.
    graded: usize,
    passed: usize,
    /// Failures by kind, most frequent first.
    kinds: Vec<(String, usize)>,
    /// The most frequent sentences of what went wrong.
    whats: Vec<(String, usize)>,
    /// Students who asked for hints for the check's programs, by the most
    /// rungs they saw (rung, students), in rung order.
    rungs: Vec<(u32, usize)>,
}

impl CheckRow<'_> {
    /// Students who asked for hints for the check's programs.
    fn hinted(&self) -> usize {
        self.rungs.iter().map(|(_, n)| n).sum()
    }
}

fn check_rows<'a>(class: &'a Class) -> Vec<CheckRow<'a>> {
    let mut rows: Vec<CheckRow> = class
        .checks
        .iter()
        .map(|info| {
            let mut row =
                CheckRow { info, graded: 0, passed: 0, kinds: Vec::new(), whats: Vec::new(), rungs: Vec::new() };
            let mut rungs: BTreeMap<u32, usize> = BTreeMap::new();
            for g in class.results {
                let most = info
                    .programs
                    .iter()
                    .filter_map(|p| g.hints.as_ref().and_then(|h| h.shown.get(p)))
                    .max()
                    .copied()
                    .unwrap_or(0);
                if most > 0 {
                    *rungs.entry(most).or_default() += 1;
                }
            }
            row.rungs = rungs.into_iter().collect();
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            let mut whats: BTreeMap<String, usize> = BTreeMap::new();
            for g in class.results {
                let outcome = g.checks.iter().flatten().find(|c| c.lab == info.lab && c.name == info.name);
                let Some(c) = outcome else { continue };
                row.graded += 1;
                if c.passed {
                    row.passed += 1;
                } else {
                    *kinds.entry(c.kind.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1;
                    if let Some(what) = &c.what {
                        *whats.entry(what.clone()).or_default() += 1;
                    }
                }
            }
            row.kinds = most_frequent(kinds, usize::MAX);
            row.whats = most_frequent(whats, 3);
            row
        })
        .collect();
    // Worst first (shares compared as fractions); checks nobody was graded
    // on last; ties keep the grader's order.
    rows.sort_by(|a, b| {
        (a.graded == 0).cmp(&(b.graded == 0)).then_with(|| (a.passed * b.graded).cmp(&(b.passed * a.graded)))
    });
    rows
}

fn most_frequent(counts: BTreeMap<String, usize>, keep: usize) -> Vec<(String, usize)> {
    let mut list: Vec<(String, usize)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(keep);
    list
}

fn names(results: &[&Graded]) -> String {
    results.iter().map(|g| g.student.as_str()).collect::<Vec<_>>().join(", ")
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.0}%", 100.0 * part as f64 / whole.max(1) as f64)
}

fn compile_error(e: &CompileError) -> Markup {
    html! {
        div.compile-error {
            @if let Some(program) = &e.program { code { (program) } ":" }
            pre { (e.error) }
        }
    }
}

/// A bar showing the share that passed.
fn share_bar(passed: usize, graded: usize) -> Markup {
    let width = 120.0;
    let filled = if graded == 0 { 0.0 } else { width * passed as f64 / graded as f64 };
    html! {
        svg width=(width) height="12" viewBox=(format!("0 0 {width} 12")) aria-hidden="true" {
            rect width=(width) height="12" fill="#f1d4d4" {}
            rect width=(format!("{filled:.1}")) height="12" fill="#4b9e5f" {}
        }
    }
}

/// The histogram's bins for scores from 0 to `max`: one per score up to 20
/// points, otherwise ten of (nearly) equal width. Inclusive ranges, in
/// order, covering 0..=max without gaps or overlaps.
pub fn bins(max: u32) -> Vec<(u32, u32)> {
    if max <= 20 {
        return (0..=max).map(|k| (k, k)).collect();
    }
    let edge = |i: u32| (i * max).div_ceil(10);
    (0..10).map(|i| (edge(i), if i == 9 { max } else { edge(i + 1) - 1 })).collect()
}

/// Mean and median of some scores.
fn summary(scores: &[u32]) -> Option<(f64, f64)> {
    if scores.is_empty() {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] as f64 } else { (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0 };
    let mean = sorted.iter().map(|&s| s as f64).sum::<f64>() / n as f64;
    Some((mean, median))
}

/// A histogram of `scores` (out of `max`) as inline SVG, in a figure with a
/// caption that says the same in words.
fn histogram(title: &str, scores: &[u32], max: u32) -> Markup {
    let bins = bins(max);
    let counts: Vec<usize> = bins
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            // A score above max (graded with another rubric) counts in the last bin.
            let last = i == bins.len() - 1;
            scores.iter().filter(|&&s| s >= lo && (s <= hi || last)).count()
        })
        .collect();
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1);
    let bar = (340.0 / bins.len() as f64).clamp(14.0, 40.0);
    let (left, top, plot) = (8.0, 18.0, 110.0);
    let width = left * 2.0 + bar * bins.len() as f64;
    let height = top + plot + 30.0;
    let label = |&(lo, hi): &(u32, u32)| if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") };
    // Every label fits under a bar only when bins are wide enough.
    let every = if bar >= 30.0 || bins.len() <= 11 && bins.iter().all(|b| b.0 == b.1) { 1 } else { 2 };
    let mut words = String::new();
    for (b, n) in bins.iter().zip(&counts) {
        let _ = write!(words, "{}{}: {n}", if words.is_empty() { "" } else { "; " }, label(b));
    }
    html! {
        figure.histogram data-max=(max) {
            svg width=(format!("{width:.0}")) height=(format!("{height:.0}"))
                viewBox=(format!("0 0 {width:.0} {height:.0}")) role="img"
                aria-label=(format!("{title}: submissions by points ({words})")) {
                line x1=(left) y1=(top + plot) x2=(width - left) y2=(top + plot) stroke="#888" {}
                @for (i, (b, n)) in bins.iter().zip(&counts).enumerate() {
                    @let x = left + bar * i as f64;
                    @let h = plot * *n as f64 / tallest as f64;
                    rect.bin x=(format!("{:.1}", x + 1.0)) y=(format!("{:.1}", top + plot - h))
                        width=(format!("{:.1}", bar - 2.0)) height=(format!("{h:.1}"))
                        fill="#5b7fb5"
                        data-from=(b.0) data-to=(b.1) data-count=(n) {
                        title { (n) " submission(s) with " (label(b)) " points" }
                    }
                    @if *n > 0 {
                        text x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", top + plot - h - 4.0))
                            text-anchor="middle" font-size="11" { (n) }
                    }
                    @if i % every == 0 || i == bins.len() - 1 {
                        text x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", top + plot + 14.0))
                            text-anchor="middle" font-size="10" fill="#444" { (label(b)) }
                    }
                }
                text x=(format!("{:.1}", width / 2.0)) y=(format!("{:.1}", height - 2.0)) text-anchor="middle"
                    font-size="10" fill="#666" { "points" }
            }
            figcaption {
                strong { (title) } ": " (scores.len()) " submission(s)"
                @if let Some((mean, median)) = summary(scores) {
                    ", mean " (format!("{mean:.1}")) ", median " (median) " of " (max) " points"
                }
                "."
            }
        }
    }
}

/// `2026-11-01 14:03:38 UTC` for seconds since the Unix epoch.
pub fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days: the proleptic Gregorian date of a
    // day count since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests;
