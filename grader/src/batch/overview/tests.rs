//! Tests of `overview.rs`.

use super::*;
use crate::batch::CheckResult;

const HOSTILE: &str = "<script>document.title='pwned'</script><b id=\"x\">bold</b>&amp;\"'";

fn result(student: &str, score: u32, checks: Option<Vec<CheckResult>>) -> Graded {
    Graded {
        student: student.into(),
        labs: [("pipe".to_string(), score)].into_iter().collect(),
        score,
        max_score: 3,
        error: None,
        checks,
        compile_errors: Vec::new(),
        graded_at: Some(0),
        seconds: Some(1.0),
        grader: Some("g".into()),
        rubric: Some("r".into()),
        seal: None,
        hints: None,
    }
}

fn outcome(name: &str, passed: bool, what: &str) -> CheckResult {
    CheckResult {
        lab: "pipe".into(),
        name: name.into(),
        points: if passed { 1 } else { 0 },
        max_points: 1,
        passed,
        kind: (!passed).then(|| "output".into()),
        what: (!passed).then(|| what.into()),
        hint: "h".into(),
        see: "handouts/pipe.md".into(),
        hidden: false,
    }
}

fn facts() -> Facts {
    Facts {
        started: 0,
        seconds: 1.0,
        grader: "ipc-grader".into(),
        grader_fingerprint: "g".into(),
        rubric_fingerprint: "r".into(),
        rubric_source: "built in".into(),
        submissions: HOSTILE.into(),
        graded_now: BTreeSet::new(),
        sandbox: HOSTILE.into(),
    }
}

fn info(name: &str) -> CheckInfo {
    CheckInfo {
        lab: "pipe".into(),
        name: name.into(),
        points: 1,
        tests: HOSTILE.into(),
        hint: HOSTILE.into(),
        see: "handouts/pipe.md#x".into(),
        hidden: false,
        programs: vec!["pipe-message".into()],
    }
}

/// Whatever a student's name, a program's output or a compiler's error
/// holds, it reaches the page as text: no tag, attribute or entity of it
/// survives.
#[test]
fn nothing_a_submission_prints_becomes_markup() {
    let mut hostile = result(HOSTILE, 1, Some(vec![outcome("a", false, HOSTILE)]));
    hostile.error = Some(HOSTILE.into());
    hostile.compile_errors = vec![CompileError { program: Some(HOSTILE.into()), error: HOSTILE.into() }];
    let results = [hostile];
    let labs = [LabInfo { name: "pipe".into(), title: HOSTILE.into(), max: 3 }];
    let checks = [info("a")];
    let facts = facts();
    let page = index(&Class { results: &results, labs: &labs, checks: &checks, facts: &facts });
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<b id"), "{page}");
    assert!(page.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b id=&quot;x&quot;&gt;"));
    assert!(page.contains("&amp;amp;"), "an entity in the text is shown, not decoded");
    // The link to the student's page cannot leave its attribute or folder.
    assert!(page.contains("href=\"feedback/%3Cscript%3Edocument.title%3D%27pwned%27%3C%2Fscript%3E"));
    let fb = feedback(HOSTILE, Some(&results[0]), Some(HOSTILE));
    assert!(!fb.contains("<script") && !fb.contains("<b id"), "{fb}");
    assert!(fb.contains("<pre id=\"feedback\">&lt;script&gt;"), "{fb}");
}

/// The page forbids scripts and every request, whatever it contains.
#[test]
fn the_page_allows_no_script_and_no_network() {
    let facts = facts();
    let page = index(&Class { results: &[], labs: &[], checks: &[], facts: &facts });
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("content=\"default-src 'none';"), "{page}");
    assert!(!page.contains("http://") && !page.contains("https://"), "{page}");
}

/// Worst first: the share passed, lowest first; checks without data last.
#[test]
fn checks_are_listed_worst_first() {
    let results = [
        result("a", 1, Some(vec![outcome("ok", true, ""), outcome("half", true, ""), outcome("bad", false, "x")])),
        result("b", 1, Some(vec![outcome("ok", true, ""), outcome("half", false, "y"), outcome("bad", false, "x")])),
        result("old", 0, None),
    ];
    let checks = [info("ok"), info("none"), info("half"), info("bad")];
    let facts = facts();
    let class = Class { results: &results, labs: &[], checks: &checks, facts: &facts };
    let rows = check_rows(&class);
    let order: Vec<(&str, usize, usize)> = rows.iter().map(|r| (r.info.name.as_str(), r.passed, r.graded)).collect();
    assert_eq!(order, [("bad", 0, 2), ("half", 1, 2), ("ok", 2, 2), ("none", 0, 0)]);
    assert_eq!(rows[0].kinds, [("output".to_string(), 2)]);
    assert_eq!(rows[0].whats, [("x".to_string(), 2)]);
}

/// The hints column counts the students who asked for the check's
/// programs, by the most rungs each saw; a record's note is shown.
#[test]
fn hints_asked_are_counted_by_rung() {
    use crate::batch::HintsShown;
    let hinted = |student: &str, shown: &[(&str, u32)], note: Option<&str>| {
        let mut g = result(student, 1, Some(vec![outcome("a", false, "x")]));
        let shown = shown.iter().map(|(p, n)| (p.to_string(), *n)).collect();
        g.hints = Some(HintsShown { shown, note: note.map(String::from) });
        g
    };
    let results = [
        hinted("a", &[("pipe-message", 1)], None),
        hinted("b", &[("pipe-message", 3), ("pipeline", 2)], None),
        hinted("c", &[("pipeline", 1)], Some(HOSTILE)),
        result("d", 0, Some(vec![outcome("a", true, "")])),
    ];
    let checks = [info("a")];
    let facts = facts();
    let class = Class { results: &results, labs: &[], checks: &checks, facts: &facts };
    let rows = check_rows(&class);
    assert_eq!(rows[0].rungs, [(1, 1), (3, 1)]);
    assert_eq!(rows[0].hinted(), 2);
    let page = index(&class);
    assert!(page.contains("data-hinted=\"2\""), "{page}");
    assert!(page.contains("rung 1: 1, rung 3: 1"), "{page}");
    assert!(page.contains("Hint records ignored in part or whole: c (&lt;script&gt;"), "{page}");
    assert!(!page.contains("<script"), "{page}");
}

/// Bins cover every score from 0 to max once, in order.
#[test]
fn bins_cover_every_score_once() {
    for max in [0, 1, 7, 20, 21, 30, 57, 100, 283] {
        let bins = bins(max);
        assert_eq!(bins[0].0, 0, "{max}");
        assert_eq!(bins.last().unwrap().1, max, "{max}");
        for pair in bins.windows(2) {
            assert_eq!(pair[1].0, pair[0].1 + 1, "{max}: {bins:?}");
        }
        assert!(bins.iter().all(|(lo, hi)| lo <= hi), "{max}: {bins:?}");
    }
    assert_eq!(bins(3), [(0, 0), (1, 1), (2, 2), (3, 3)]);
    assert_eq!(bins(30)[..2], [(0, 2), (3, 5)]);
}

#[test]
fn summary_gives_mean_and_median() {
    assert_eq!(summary(&[1, 2, 3, 10]), Some((4.0, 2.5)));
    assert_eq!(summary(&[5]), Some((5.0, 5.0)));
    assert_eq!(summary(&[]), None);
}

#[test]
fn dates_are_utc() {
    assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc(1_793_541_818), "2026-11-01 14:03:38 UTC");
    assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
}
