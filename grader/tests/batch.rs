//! Batch grading of a folder of student checkouts, black-box: the
//! gradebook, the class overview (`OUT/index.html`) and the feedback pages,
//! read as files and rendered in a real browser where one is installed.
//!
//! One class is graded once (builds are slow) and shared by the tests; it is
//! kept in `target/batch-overview/` for people to look at, with the
//! browser's screenshots.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ipc_engine::build::workspace_root;
use ipc_engine::proc::{self, Collected, Exit, Proc, Spec};
use ipc_grader::labs::LABS;
use ipc_grader::rubric::Rubric;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The labs the class is graded on.
const LABS_GRADED: [&str; 2] = ["pipe", "mq"];

/// What a hostile submission prints, and a compiler error repeats: markup,
/// a script, an event handler, an entity and a terminal escape.
const HOSTILE: &str = "<script>document.title='INJECTED'</script><img src=x onerror=\"document.body.dataset.pwned=1\"><b id=\"ID\">bold</b> &amp; \u{1b}[31mred";

/// A student whose folder name is markup, with a `#` a link must encode.
const EVE: &str = "eve <img src=x onerror=\"document.body.dataset.pwned=1\">#1";

fn hostile(id: &str) -> String {
    HOSTILE.replace("ID", id)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn batch(submissions: &Path, out: &Path) -> Collected {
    // Kept between runs (made again only when the lock file changes), so
    // the dependencies of the students' crate are compiled once.
    let cache = workspace_root().join("target/aux-test/batch-cache");
    let args = ["--batch", submissions.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let mut spec = Spec::new(env!("CARGO_BIN_EXE_ipc-grader"), args, workspace_root());
    spec.args.extend(["--build-cache".into(), cache.into()]);
    spec.args.extend(LABS_GRADED.iter().map(Into::into));
    spec.env = vec![("NO_COLOR".into(), "1".into())];
    proc::output(spec, Duration::from_secs(900)).expect("the grader runs")
}

/// The class, graded once.
struct Class {
    subs: PathBuf,
    out: PathBuf,
    run: Collected,
}

impl Class {
    fn csv(&self) -> String {
        std::fs::read_to_string(self.out.join("grades.csv")).unwrap()
    }

    fn index(&self) -> String {
        std::fs::read_to_string(self.out.join("index.html")).unwrap()
    }

    /// The run's exit status, with its stderr if it failed.
    fn assert_succeeded(&self) {
        assert_eq!(self.run.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&self.run.stderr));
    }
}

/// Where the class and the screenshots are kept.
fn artifacts() -> PathBuf {
    workspace_root().join("target/batch-overview")
}

/// Seven checkouts: the untouched starter (alice), one program solved and a
/// rubric of the student's own (bob), a program that does not compile with
/// markup in its error (carol), no starter (dave), programs that print
/// markup and a script (mallory), the reference (ruth), and a folder whose
/// name is markup (eve).
fn class() -> &'static Class {
    static CLASS: OnceLock<Class> = OnceLock::new();
    CLASS.get_or_init(|| {
        let root = workspace_root();
        let dir = artifacts();
        let _ = std::fs::remove_dir_all(&dir);
        let subs = dir.join("submissions");
        let starter = |id: &str| {
            copy_dir(&root.join("starter"), &subs.join(id).join("starter"));
            subs.join(id).join("starter")
        };
        starter("alice");
        let bob = starter("bob");
        std::fs::copy(root.join("reference/src/pipe/pipe-message.rs"), bob.join("src/pipe/pipe-message.rs")).unwrap();
        // A student's own grader is never used: make it obviously wrong.
        std::fs::create_dir_all(subs.join("bob/rubric")).unwrap();
        std::fs::write(subs.join("bob/rubric/pipe.toml"), "lab = \"pipe\"\n# every check worth 1000 points\n").unwrap();
        // carol: pipe-message solved, pipeline does not compile (with markup
        // in its error): the compile error costs only pipeline's checks.
        let carol = starter("carol");
        std::fs::copy(root.join("reference/src/pipe/pipe-message.rs"), carol.join("src/pipe/pipe-message.rs")).unwrap();
        let error = hostile("carol-bold").replace('\\', "\\\\").replace('"', "\\\"").replace('\u{1b}', "\\u{1b}");
        std::fs::write(carol.join("src/pipe/pipeline.rs"), format!("fn main() {{ compile_error!(\"{error}\"); }}\n"))
            .unwrap();
        std::fs::create_dir_all(subs.join("dave")).unwrap();
        let mallory = starter("mallory");
        let output = hostile("mallory-bold").replace('\\', "\\\\").replace('"', "\\\"").replace('\u{1b}', "\\u{1b}");
        std::fs::write(
            mallory.join("src/pipe/pipe-message.rs"),
            format!("fn main() {{\n    println!(\"{output}\");\n    eprintln!(\"{output}\");\n}}\n"),
        )
        .unwrap();
        // The reference's programs in the starter's crate (which then needs
        // the reference's one extra dependency).
        let ruth = starter("ruth");
        copy_dir(&root.join("reference/src"), &ruth.join("src"));
        let manifest = std::fs::read_to_string(ruth.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("clap.workspace = true\n"), "{manifest}");
        let manifest = manifest.replace("clap.workspace = true\n", "clap.workspace = true\nrustix.workspace = true\n");
        std::fs::write(ruth.join("Cargo.toml"), manifest).unwrap();
        std::fs::create_dir_all(subs.join(EVE)).unwrap();
        // The hints each asked for, as their .hints-shown.toml says: alice
        // and bob plainly; mallory with a program name that is markup;
        // carol's is a link to a file of the grading machine.
        let hints = |id: &str, text: &str| std::fs::write(subs.join(id).join(".hints-shown.toml"), text).unwrap();
        hints("alice", "# self-reported\n[shown]\npipe-message = 2\n");
        hints("bob", "[shown]\npipe-message = 3\npipeline = 1\n");
        let key = toml::Value::String(hostile("mallory-hint")).to_string(); // a TOML string: quoted, escaped
        hints("mallory", &format!("[shown]\n{key} = 1\npipe-message = 1\n"));
        std::os::unix::fs::symlink("/etc/shadow", subs.join("carol/.hints-shown.toml")).unwrap();

        let out = dir.join("out");
        let run = batch(&subs, &out);
        Class { subs, out, run }
    })
}

/// The gradebook's rows (header first).
fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], name: &str) -> &'a [String] {
    rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
}

/// Points of the graded labs' checks: (max of each lab, max in all, the
/// points of pipe-message's checks).
fn points() -> (Vec<u32>, u32, u32) {
    let rubric = Rubric::builtin(LABS).unwrap();
    let labs: Vec<u32> = LABS_GRADED.iter().map(|l| rubric.labs[*l].checks.iter().map(|c| c.points).sum()).collect();
    let message = rubric.labs["pipe"].checks.iter().filter(|c| c.name.starts_with("message-")).map(|c| c.points).sum();
    (labs.clone(), labs.iter().sum(), message)
}

/// Text as maud writes it into a page (the crate's escaping, not ours).
fn escaped(text: &str) -> String {
    maud::html! { (text) }.into_string()
}

/// The gradebook: a row per student, points where earned, errors where not;
/// a second run keeps everything and rebuilds nothing.
#[test]
fn batch_grades_a_class_into_a_gradebook() {
    let class = class();
    class.assert_succeeded();
    let csv = class.csv();
    let rows = rows(&csv);
    assert_eq!(rows[0], ["student", "pipe", "mq", "total", "max", "error"]);
    assert_eq!(rows.len(), 8, "{csv}");
    let (labs, max, message) = points();
    let s = |n: u32| n.to_string();
    assert_eq!(row(&rows, "alice")[1..5], [s(0), s(0), s(0), s(max)]);
    // bob's own rubric (1000 points a check) is not used.
    assert_eq!(row(&rows, "bob")[1..5], [s(message), s(0), s(message), s(max)]);
    assert_eq!(row(&rows, "carol")[1..5], [s(message), s(0), s(message), s(max)], "{csv}");
    let carol = &row(&rows, "carol")[5];
    assert!(carol.starts_with("did not compile: pipeline (error: <script>"), "{csv}");
    assert_eq!(row(&rows, "dave")[5], "no starter/ folder with a Cargo.toml");
    assert_eq!(row(&rows, EVE)[5], "no starter/ folder with a Cargo.toml");
    // Markup on both streams and exit 0 earns nothing.
    assert_eq!(row(&rows, "mallory")[1..5], [s(0), s(0), s(0), s(max)]);
    // The reference's programs, submitted as a starter: full marks.
    let ruth_feedback = std::fs::read_to_string(class.out.join("feedback/ruth.txt")).unwrap_or_default();
    assert_eq!(row(&rows, "ruth")[1..5], [s(labs[0]), s(labs[1]), s(max), s(max)], "{csv}\n{ruth_feedback}");
    let feedback = std::fs::read_to_string(class.out.join("feedback/bob.txt")).unwrap();
    assert!(feedback.contains(&format!("Score: {message}/{max}")), "{feedback}");

    // Again, into a copy: everything is kept, nothing rebuilt.
    let out = artifacts().join("out-again");
    let _ = std::fs::remove_dir_all(&out);
    for dir in ["results", "feedback"] {
        copy_dir(&class.out.join(dir), &out.join(dir));
    }
    std::fs::copy(class.out.join(".seal-key"), out.join(".seal-key")).unwrap();
    let started = Instant::now();
    let again = batch(&class.subs, &out);
    assert_eq!(again.exit, Some(Exit::Code(0)), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stderr).contains("7 submission(s) already graded are kept"));
    assert!(started.elapsed() < Duration::from_secs(60), "kept results took {:?}", started.elapsed());
    assert_eq!(std::fs::read_to_string(out.join("grades.csv")).unwrap(), csv);
}

/// Rows of the table `id` of a page: each a list of its cells' text, still
/// escaped as the page holds it (tags removed).
fn table_rows(page: &str, id: &str, class: &str) -> Vec<Vec<String>> {
    let start = page.find(&format!("<table id=\"{id}\"")).unwrap_or_else(|| panic!("no table {id}:\n{page}"));
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    table
        .split(&format!("<tr class=\"{class}\""))
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| strip_tags(&td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()]))
                .collect()
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The value of attribute `name` in the first tag of `html`.
fn attr<'a>(html: &'a str, name: &str) -> &'a str {
    let tag = &html[..html.find('>').unwrap()];
    let start = tag.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {tag}")) + name.len() + 3;
    &tag[start..start + tag[start..].find('"').unwrap()]
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The overview agrees with the gradebook (students, histograms, and the
/// checks' pass counts add up to the class's points), lists what did not
/// build with the compiler's error, names the grader and rubric, and shows
/// whatever submissions printed as text, never as markup.
#[test]
fn the_overview_matches_the_gradebook_and_escapes_what_submissions_print() {
    let class = class();
    class.assert_succeeded();
    let rows = rows(&class.csv());
    let page = class.index();
    let (labs, max, _) = points();

    // One line per student, with the gradebook's figures.
    let students = table_rows(&page, "student-table", "student");
    assert_eq!(students.len(), rows.len() - 1);
    for (line, csv_row) in students.iter().zip(&rows[1..]) {
        assert_eq!(line[0], escaped(&csv_row[0]));
        assert_eq!(line[1..5], csv_row[1..5], "{line:?} and {csv_row:?}");
        assert_eq!(line[5], "this run");
        assert!(line[6].contains(&escaped(&csv_row[5])), "{line:?} and {csv_row:?}");
    }

    // Histograms: totals, then one per lab, each bin counting the
    // gradebook's scores in its range, the bins covering 0..=max.
    let figures: Vec<&str> = page.split("<figure class=\"histogram\"").skip(1).collect();
    assert_eq!(figures.len(), 1 + LABS_GRADED.len());
    for (i, figure) in figures.iter().enumerate() {
        let (column, of) = if i == 0 { (3, max) } else { (i, labs[i - 1]) };
        assert_eq!(attr(figure, "data-max"), of.to_string());
        let scores: Vec<u32> = rows[1..].iter().map(|r| r[column].parse().unwrap()).collect();
        let mut next = 0;
        let mut counted = 0;
        for bar in figure.split("<rect class=\"bin\"").skip(1) {
            let num = |name: &str| attr(bar, name).parse::<u32>().unwrap();
            let (from, to, count) = (num("data-from"), num("data-to"), num("data-count"));
            assert_eq!(from, next, "bins of figure {i} leave a gap");
            next = to + 1;
            assert_eq!(count as usize, scores.iter().filter(|&&s| s >= from && s <= to).count(), "figure {i}");
            counted += count as usize;
        }
        assert_eq!(next, of + 1, "bins of figure {i} stop short of the maximum");
        assert_eq!(counted, scores.len());
    }

    // Checks, worst first: each graded on the five submissions that built,
    // and the points of their passes add up to those students' totals.
    let built = ["alice", "bob", "carol", "mallory", "ruth"];
    let built_points: u32 = built.iter().map(|s| row(&rows, s)[3].parse::<u32>().unwrap()).sum();
    let checks: Vec<&str> = page.split("<tr class=\"check\"").skip(1).collect();
    let rubric = Rubric::builtin(LABS).unwrap();
    assert_eq!(checks.len(), LABS_GRADED.iter().map(|l| rubric.labs[*l].checks.len()).sum::<usize>());
    let mut earned = 0;
    let mut previous = 0;
    for check in &checks {
        let num = |name: &str| attr(check, name).parse::<u32>().unwrap();
        assert_eq!(num("data-graded"), built.len() as u32, "{check}");
        assert!(num("data-passed") >= previous, "not worst first: {check}");
        previous = num("data-passed");
        earned += num("data-passed") * num("data-points");
    }
    assert_eq!(earned, built_points);
    // Every check's hint and handout section is shown.
    for entry in LABS_GRADED.iter().flat_map(|l| &rubric.labs[*l].checks) {
        assert!(page.contains(&escaped(entry.hint.trim())), "no hint for {}", entry.name);
    }
    assert!(page.contains("handouts/pipe.md#one-read-is-not-enough"));

    // Hints asked, by the most rungs each student saw of the check's
    // program; the records that were not taken say so.
    let hinted = |check: &str| {
        let row = checks.iter().find(|c| c.contains(&format!("id=\"check-{check}\""))).unwrap();
        (attr(row, "data-hinted").to_string(), row.to_string())
    };
    let (n, message_default) = hinted("pipe::message-default");
    assert_eq!(n, "3", "{message_default}");
    assert!(message_default.contains("rung 1: 1, rung 2: 1, rung 3: 1"), "{message_default}");
    assert_eq!(hinted("pipe::pipeline-seq-wc").0, "1");
    assert_eq!(hinted("mq::send-creates-queue").0, "0");
    let ignored = &page[page.find("id=\"hints-ignored\"").expect("no note on the records ignored")..];
    let ignored = &ignored[..ignored.find("</p>").unwrap()];
    assert!(ignored.contains("carol (.hints-shown.toml could not be opened"), "{ignored}");
    assert!(ignored.contains("mallory (.hints-shown.toml: entries ignored: `&lt;script&gt;"), "{ignored}");

    // What did not build, with the compiler's first error.
    let not_built = table_rows(&page, "build-table", "not-built");
    let names: Vec<&str> = not_built.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["carol", "dave", escaped(EVE).as_str()]);
    let carol = &not_built[0][1];
    assert!(carol.starts_with(&escaped(&row(&rows, "carol")[5])), "{carol}");
    assert!(carol.contains("pipeline:error: "), "{carol}");
    assert!(carol.contains(&escaped("error: <script>document.title='INJECTED'</script>")), "{carol}");
    assert!(carol.contains("src/pipe/pipeline.rs:1:"), "{carol}");

    // The run's facts: the grader and the rubric by fingerprint.
    let exe = std::fs::read(env!("CARGO_BIN_EXE_ipc-grader")).unwrap();
    assert!(page.contains(&sha256_hex(&exe)), "no grader fingerprint");
    let rubric_bytes: Vec<u8> = LABS.iter().flat_map(|l| l.rubric.bytes()).collect();
    assert!(page.contains(&sha256_hex(&rubric_bytes)), "no rubric fingerprint");
    assert!(page.contains("graded 7, kept 0 already graded"));

    // Nothing a submission printed or named became markup.
    for marker in ["<script", "<img", "id=\"carol-bold\"", "id=\"mallory-bold\"", "onerror=\"", "\u{1b}"] {
        assert!(!page.contains(marker), "{marker} in the overview");
    }
    // Each student's feedback page is the text feedback, escaped, and the
    // link to it (encoded) leads to the file.
    for student in rows[1..].iter().map(|r| &r[0]) {
        let href = ipc_grader::batch::overview::feedback_href(student);
        assert!(page.contains(&format!("href=\"{href}\"")), "no link to {href}");
        let text = std::fs::read_to_string(class.out.join(format!("feedback/{student}.txt"))).unwrap();
        let html = std::fs::read_to_string(class.out.join(format!("feedback/{student}.html"))).unwrap();
        assert!(html.contains(&escaped(&text)), "{student}'s page is not the text feedback:\n{html}");
        for marker in ["<script", "<img", "-bold\"", "onerror=\"", "\u{1b}"] {
            assert!(!html.contains(marker), "{marker} in {student}'s page");
        }
    }
    assert_eq!(
        ipc_grader::batch::overview::feedback_href(EVE),
        "feedback/eve%20%3Cimg%20src%3Dx%20onerror%3D%22document.body.dataset.pwned%3D1%22%3E%231.html"
    );
    let mallory = std::fs::read_to_string(class.out.join("feedback/mallory.html")).unwrap();
    assert!(mallory.contains(&escaped("<script>document.title='INJECTED'</script>")), "{mallory}");
    assert!(mallory.contains("\\e[31mred"), "the terminal escape is shown escaped: {mallory}");
}

/// A second run without `--force` keeps what is graded, grades what is new,
/// and the overview says what changed: a new student, a result saved by an
/// older grader (shown without per-check outcomes), one graded with
/// another rubric.
#[test]
fn grading_again_updates_the_overview() {
    let class = class();
    class.assert_succeeded();
    let dir = artifacts().join("again");
    let _ = std::fs::remove_dir_all(&dir);
    let (subs, out) = (dir.join("submissions"), dir.join("out"));
    // Kept students need only their folder; frank is new.
    for entry in std::fs::read_dir(&class.subs).unwrap() {
        std::fs::create_dir_all(subs.join(entry.unwrap().file_name())).unwrap();
    }
    std::fs::create_dir_all(subs.join("frank")).unwrap();
    for d in ["results", "feedback"] {
        copy_dir(&class.out.join(d), &out.join(d));
    }
    std::fs::copy(class.out.join(".seal-key"), out.join(".seal-key")).unwrap();
    // alice's result as the grader before per-check outcomes wrote it.
    let alice = out.join("results/alice.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&alice).unwrap()).unwrap();
    let old: serde_json::Map<String, Value> = saved
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| ["student", "labs", "score", "max_score", "error"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    std::fs::write(&alice, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    // bob's as graded with another rubric (sealed with the folder's key,
    // as the grader seals what it grades).
    let bob = out.join("results/bob.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&bob).unwrap()).unwrap();
    saved["rubric"] = json!("0".repeat(64));
    let saved: ipc_grader::batch::Graded = serde_json::from_value(saved).unwrap();
    let resealed = ipc_grader::batch::Seal::of(&out).unwrap().sealed(saved).unwrap();
    std::fs::write(&bob, serde_json::to_string(&resealed).unwrap()).unwrap();

    let run = batch(&subs, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.exit, Some(Exit::Code(0)), "{stderr}");
    assert!(stderr.contains("7 submission(s) already graded are kept"), "{stderr}");
    assert!(
        stderr.contains("1 result(s) were saved by an older grader without per-check outcomes (alice)"),
        "{stderr}"
    );
    assert!(stderr.contains("1 kept result(s) were graded with another rubric"), "{stderr}");

    let first = rows(&class.csv());
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let again = rows(&csv);
    assert_eq!(again.len(), first.len() + 1);
    for r in &first[1..] {
        assert_eq!(row(&again, &r[0]), &r[..], "a kept result changed");
    }
    assert_eq!(row(&again, "frank")[5], "no starter/ folder with a Cargo.toml");

    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("graded 1, kept 7 already graded"), "{page}");
    // The run's facts say what confined the programs, as the grader found it.
    let sandbox = ipc_engine::sandbox::summary();
    assert!(page.contains(&format!("<dt>Sandbox</dt><dd>{sandbox}</dd>")), "{sandbox}\n{page}");
    let students = table_rows(&page, "student-table", "student");
    let line = |name: &str| students.iter().find(|l| l[0] == name).unwrap_or_else(|| panic!("no {name}"));
    assert_eq!(line("frank")[5], "this run");
    assert!(line("bob")[5].starts_with("kept, 20"), "{:?}", line("bob"));
    assert!(line("alice")[6].contains("(no per-check outcomes saved)"), "{:?}", line("alice"));
    assert!(line("bob")[6].contains("(another rubric)"), "{:?}", line("bob"));
    assert!(page.contains("1 result(s) were saved by an older grader, without per-check outcomes: alice."));
    assert!(page.contains("1 result(s) were graded with another rubric than this run's: bob."));
    // alice is left out of the checks' counts; frank built nothing.
    for check in page.split("<tr class=\"check\"").skip(1) {
        assert_eq!(attr(check, "data-graded"), "4", "{check}");
    }
}

// ---------------------------------------------------------------------------
// In a real browser.

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// The major version in what `program --version` prints
/// (`Chromium 156.0.8078.114 built on ...`, `ChromeDriver 156.0...`).
fn major_version(program: &Path) -> Option<u32> {
    let spec = Spec::new(program, ["--version"], std::env::temp_dir());
    let run = proc::output(spec, Duration::from_secs(60)).ok()?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.split_whitespace().filter(|w| w.contains('.')).find_map(|w| w.split('.').next()?.parse().ok())
}

/// ChromeDriver, and a Chromium or Chrome of its version (a machine may have
/// several browsers; a driver drives only its own version).
fn browser_and_driver() -> Result<(PathBuf, PathBuf), String> {
    let driver = on_path(&["chromedriver"]).ok_or("no chromedriver on PATH")?;
    let wanted = major_version(&driver).ok_or(format!("{} --version names no version", driver.display()))?;
    let mut found = Vec::new();
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        let Some(browser) = on_path(&[name]) else { continue };
        match major_version(&browser) {
            Some(v) if v == wanted => return Ok((browser, driver)),
            v => found.push(format!("{} (version {v:?})", browser.display())),
        }
    }
    let found = if found.is_empty() { "none".to_string() } else { found.join(", ") };
    Err(format!("no Chromium or Chrome of chromedriver's version {wanted} on PATH (found: {found})"))
}

/// A note that shows even when the test passes (cargo test captures
/// `println!`, not a direct write to stderr).
fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Headless Chromium driven through ChromeDriver's WebDriver protocol.
struct Browser {
    driver: Proc,
    port: u16,
    session: String,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path, profile: &Path) -> Browser {
        let mut driver = proc::spawn(&Spec::new(chromedriver, ["--port=0"], profile)).expect("chromedriver starts");
        let marker = "started successfully on port ";
        let port = driver.stdout.wait_for(Instant::now() + Duration::from_secs(30), |out| {
            let text = String::from_utf8_lossy(out);
            let at = text.find(marker)? + marker.len();
            text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<u16>().ok()
        });
        let Some(port) = port else {
            driver.kill_group();
            panic!(
                "chromedriver did not say its port:\n{}{}",
                String::from_utf8_lossy(&driver.stdout.bytes()),
                String::from_utf8_lossy(&driver.stderr.bytes())
            );
        };
        let mut browser = Browser { driver, port, session: String::new() };
        // As a sandboxed test as root: no sandbox, no GPU, and none of the
        // background connections a closed network refuses.
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--disable-crash-reporter".into(),
            "--no-first-run".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.join("profile").display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let created = browser.call("POST", "/session", Some(caps));
        browser.session = created["sessionId"].as_str().expect("a session id").to_string();
        browser
    }

    /// One WebDriver command; its `value`. Panics with the driver's message.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = if path.starts_with("/session/") || path == "/session" {
            path.to_string()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("chromedriver listens");
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .unwrap();
        // ChromeDriver keeps the connection open: read the head, then as
        // many bytes as it announces.
        let mut response = Vec::new();
        let mut byte = [0u8; 1];
        while !response.ends_with(b"\r\n\r\n") {
            stream
                .read_exact(&mut byte)
                .unwrap_or_else(|e| panic!("{method} {path}: no answer from chromedriver: {e}"));
            response.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&response).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: no Content-Length in {head}"));
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).unwrap_or_else(|e| panic!("{method} {path}: a short answer: {e}"));
        let body = String::from_utf8_lossy(&body);
        let value: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"));
        assert!(head.starts_with("HTTP/1.1 200"), "{method} {path}: {head}\n{value:#}");
        value["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (a function body) in the page through the driver,
    /// which the page's own policy does not govern.
    fn eval(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    fn click(&self, using: &str, value: &str) {
        let found = self.call("POST", "/element", Some(json!({"using": using, "value": value})));
        let id = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("an element");
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Waits until the page's title starts with `prefix` (after a click).
    fn wait_for_title(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let title = self.eval("return document.title").as_str().unwrap_or_default().to_string();
            if title.starts_with(prefix) || Instant::now() > deadline {
                return title;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of what the window shows.
    fn window_screenshot(&self, path: &Path) {
        let shot = self.call("GET", "/screenshot", None);
        save_png(path, shot.as_str().expect("base64 data"));
    }

    /// A PNG of the whole page, not only the window.
    fn screenshot(&self, path: &Path) {
        let size = self.eval("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]");
        let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap().min(8000.0));
        let shot = self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Page.captureScreenshot", "params": {
                "format": "png", "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
            }})),
        );
        save_png(path, shot["data"].as_str().expect("base64 data"));
    }
}

fn save_png(path: &Path, base64: &str) {
    let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, base64).expect("base64");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(path, png).unwrap();
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closes the browser; then the driver (and anything left in its
            // process group) goes.
            let session = format!("/session/{}", self.session);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.call("DELETE", &session, None)));
        }
        self.driver.kill_group();
    }
}

/// The overview and a feedback page, rendered by headless Chromium: the
/// students' lines read as in the gradebook, the hostile output shows as
/// text, no script ran, no markup of a submission's became an element, the
/// charts have size, and a link leads to a student's page. Screenshots are
/// kept in target/batch-overview/. Skipped, with a note, where Chromium or
/// ChromeDriver is missing, unless IPC_REQUIRE_BROWSER is set (.ci/run sets
/// it after installing them).
#[test]
fn the_overview_renders_in_a_browser() {
    let (chromium, chromedriver) = match browser_and_driver() {
        Ok(found) => found,
        Err(why) => {
            let why = format!("{why} (Debian: apt-get install chromium chromium-driver; .ci/run installs them)");
            assert!(
                std::env::var_os("IPC_REQUIRE_BROWSER").is_none(),
                "{why}, but IPC_REQUIRE_BROWSER is set: the page must be rendered"
            );
            note(&format!("SKIPPED the_overview_renders_in_a_browser: {why}"));
            return;
        }
    };
    let class = class();
    class.assert_succeeded();
    let rows = rows(&class.csv());
    let shots = artifacts().join("browser");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let browser = Browser::start(&chromium, &chromedriver, &shots);

    let index = class.out.join("index.html");
    browser.goto(&format!("file://{}", index.display()));
    let seen = browser.eval(
        "const text = (el) => el.innerText.trim();
         return {
           title: document.title,
           scripts: document.scripts.length,
           images: document.images.length,
           injected: document.querySelectorAll('#carol-bold, #mallory-bold, b').length,
           pwned: document.body.dataset.pwned || null,
           text: document.body.innerText,
           students: Array.from(document.querySelectorAll('#student-table tbody tr'))
             .map(tr => Array.from(tr.cells).map(text)),
           figures: Array.from(document.querySelectorAll('figure.histogram svg'))
             .map(svg => svg.getBoundingClientRect().width),
           bars: Array.from(document.querySelectorAll('rect.bin'))
             .filter(r => r.getBoundingClientRect().height > 0).length,
         };",
    );
    assert_eq!(seen["title"], "Class overview: batch grading", "a script changed the title");
    assert_eq!(seen["scripts"], 0);
    assert_eq!(seen["images"], 0, "a submission's <img> became an element");
    assert_eq!(seen["injected"], 0, "a submission's markup became an element");
    assert_eq!(seen["pwned"], Value::Null, "an event handler ran");
    let text = seen["text"].as_str().unwrap();
    assert!(text.contains("error: <script>document.title='INJECTED'</script><img src=x onerror="), "{text}");
    assert!(text.contains(EVE), "{text}");
    let students = seen["students"].as_array().unwrap();
    assert_eq!(students.len(), rows.len() - 1);
    for (line, csv_row) in students.iter().zip(&rows[1..]) {
        let cells: Vec<&str> = line.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(cells[..5], csv_row[..5], "the page shows {cells:?}, the gradebook {csv_row:?}");
    }
    let figures = seen["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 1 + LABS_GRADED.len());
    assert!(figures.iter().all(|w| w.as_f64().unwrap() > 100.0), "{figures:?}");
    assert!(seen["bars"].as_u64().unwrap() >= 3, "{seen}");
    let top_png = shots.join("index-top.png");
    browser.window_screenshot(&top_png);
    let overview_png = shots.join("index.png");
    browser.screenshot(&overview_png);

    // A student's line leads to their feedback: the text feedback, as text.
    browser.click("link text", "mallory");
    assert_eq!(browser.wait_for_title("Feedback:"), "Feedback: mallory");
    let seen = browser.eval(
        "return {
           scripts: document.scripts.length,
           injected: document.querySelectorAll('b, img').length,
           pwned: document.body.dataset.pwned || null,
           feedback: document.getElementById('feedback').innerText,
         };",
    );
    let text = std::fs::read_to_string(class.out.join("feedback/mallory.txt")).unwrap();
    assert_eq!(seen["feedback"].as_str().unwrap().trim_end(), text.trim_end());
    assert!(text.contains("<script>document.title='INJECTED'</script>"), "{text}");
    assert_eq!((seen["scripts"].as_u64(), seen["injected"].as_u64()), (Some(0), Some(0)));
    assert_eq!(seen["pwned"], Value::Null);
    let feedback_png = shots.join("feedback-mallory.png");
    browser.screenshot(&feedback_png);

    // The link of a name that is markup, with a `#`, still finds its page.
    browser.goto(&format!("file://{}", index.display()));
    browser.click("link text", EVE);
    assert_eq!(browser.wait_for_title("Feedback:"), format!("Feedback: {EVE}"));
    assert_eq!(browser.eval("return document.images.length"), 0);

    note(&format!(
        "screenshots of the class overview: {}, {} (the whole page) and {}",
        top_png.display(),
        overview_png.display(),
        feedback_png.display()
    ));
}

/// A saved result changed after it was graded (its score raised by hand,
/// or by anything else that reached the folder) is noticed by its seal,
/// said, and graded again: the gradebook shows what the submission earns.
#[test]
fn a_result_changed_after_grading_is_noticed_and_graded_again() {
    let class = class();
    class.assert_succeeded();
    let dir = artifacts().join("changed");
    let _ = std::fs::remove_dir_all(&dir);
    let (subs, out) = (dir.join("submissions"), dir.join("out"));
    copy_dir(&class.subs.join("bob"), &subs.join("bob"));
    std::fs::create_dir_all(out.join("feedback")).unwrap();
    copy_dir(&class.out.join("results"), &out.join("results"));
    for gone in std::fs::read_dir(out.join("results")).unwrap() {
        let path = gone.unwrap().path();
        if path.file_name().is_some_and(|n| n != "bob.json") {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::copy(class.out.join(".seal-key"), out.join(".seal-key")).unwrap();
    let bob = out.join("results/bob.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&bob).unwrap()).unwrap();
    let earned = saved["score"].clone();
    saved["score"] = saved["max_score"].clone();
    std::fs::write(&bob, saved.to_string()).unwrap();

    let run = batch(&subs, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.exit, Some(Exit::Code(0)), "{stderr}");
    assert!(stderr.contains("1 result(s) were changed after they were graded (bob)"), "{stderr}");
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&bob).unwrap()).unwrap();
    assert_eq!(again["score"], earned, "bob's result was not graded again");
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    assert_eq!(row(&rows(&csv), "bob")[3], earned.to_string(), "{csv}");
}
