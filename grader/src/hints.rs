//! Hints that wait to be asked for, as rustlings' `hint` does: each
//! program's hint ladder, `cargo grade --hint PROGRAM|LAB::CHECK [--all]`,
//! and the record of the rungs shown.
//!
//! - The ladders are data an instructor edits without Rust: `hints/LAB.toml`,
//!   one `[[program]]` per program with its rungs, from the idea to the
//!   system calls to the steps. The last rung also shows the program's
//!   `[[program.steps]]`: the step-by-step comments the starter carried
//!   before the ladder existed, which `--export-template --guidance steps`
//!   puts back into the starter (see [`crate::guidance`]).
//! - `--hint` shows the next rung not yet shown and says how many are left;
//!   `--all` shows every rung. What was shown is recorded in
//!   `.hints-shown.toml` at the root of the student's repository, which the
//!   student commits. It is self-reported (anyone can edit it) and changes
//!   no grade: batch grading only counts it for the class overview.
//!
//! The ladders are read at run time from the repository's `hints/` folder,
//! not compiled in: a template exported with `--guidance contract` has none.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::labs::LABS;
use crate::rubric::Rubric;

/// The folder of the ladders, at the repository's root.
pub const DIR: &str = "hints";

/// The record of the rungs shown, at the root of the student's repository.
pub const SHOWN_FILE: &str = ".hints-shown.toml";

/// The first lines of [`SHOWN_FILE`]: what it is, and that it is self-reported.
const SHOWN_HEADER: &str = "\
# The hints `cargo grade --hint` has shown, by program: how many rungs of
# its ladder. Written by `cargo grade --hint`; commit it with your work.
# Self-reported: you may edit or delete it, and it changes no grade. Your
# instructor sees, across the class, how many rungs each program needed.
";

/// Largest `.hints-shown.toml` batch grading reads from a submission.
pub const SHOWN_LIMIT: u64 = 64 * 1024;

/// One lab's ladders: `hints/LAB.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabHints {
    /// Must equal the file's lab.
    pub lab: String,
    #[serde(default, rename = "program")]
    pub programs: Vec<Ladder>,
}

/// One program's hint ladder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ladder {
    /// The program, as the contract names it (`pipe-message`).
    pub name: String,
    /// The checks that lead to this ladder (`cargo grade --hint LAB::CHECK`):
    /// check names of the lab, or prefixes ending in `*` (`message-*`).
    pub checks: Vec<String>,
    /// From the idea, to the system calls, to the steps.
    #[serde(rename = "rung")]
    pub rungs: Vec<Rung>,
    /// The step-by-step comments of the starter, by item: shown with the
    /// last rung, and put back into the starter by `--guidance steps`.
    #[serde(default)]
    pub steps: Vec<Steps>,
}

/// One rung of a ladder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    pub title: String,
    pub text: String,
}

/// A step-by-step comment and the item of the starter it documents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    /// `mod.rs` for the lab's shared module; absent: the program's own file.
    #[serde(default)]
    pub file: Option<String>,
    /// The item: a function (`send_to_parent`), a method (`Ring::produce`)
    /// or a type (`Waiter`).
    pub item: String,
    /// The comment, without its `///`.
    pub comment: String,
}

impl Ladder {
    /// Whether `check` (a check name of the ladder's lab) leads here.
    pub fn leads_from(&self, check: &str) -> bool {
        self.checks.iter().any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => check.starts_with(prefix),
            None => check == pattern,
        })
    }

    /// The text of rung `i` (from 0) as shown: the last rung ends with the
    /// step-by-step comments, each under the item it belongs to.
    pub fn rung_text(&self, lab: &str, i: usize) -> String {
        let mut text = self.rungs[i].text.trim().to_string();
        if i + 1 == self.rungs.len() {
            for steps in &self.steps {
                text.push_str(&format!(
                    "\n\nIn {}, `{}`:\n\n{}",
                    steps.path(lab, &self.name),
                    steps.item,
                    indent(steps.comment.trim())
                ));
            }
        }
        text
    }
}

impl Steps {
    /// The starter file the item is in, relative to the repository.
    pub fn path(&self, lab: &str, program: &str) -> String {
        match &self.file {
            Some(file) => format!("starter/src/{lab}/{file}"),
            None => format!("starter/src/{lab}/{program}.rs"),
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { String::new() } else { format!("    {l}") }).collect::<Vec<_>>().join("\n")
}

/// Every lab's ladders, by lab.
#[derive(Debug, Clone, Default)]
pub struct Ladders {
    pub labs: BTreeMap<String, LabHints>,
}

impl Ladders {
    /// The ladders in `root/hints/`, or `None` when the repository has no
    /// such folder (a template exported with `--guidance contract`).
    pub fn load(root: &Path) -> Result<Option<Ladders>> {
        let dir = root.join(DIR);
        if !dir.is_dir() {
            return Ok(None);
        }
        let mut labs = BTreeMap::new();
        for lab in LABS {
            let path = dir.join(format!("{}.toml", lab.name));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            let parsed: LabHints =
                toml::from_str(&text).with_context(|| format!("{} is not a valid hints file", path.display()))?;
            if parsed.lab != lab.name {
                bail!("{} says lab = \"{}\" but belongs to lab `{}`", path.display(), parsed.lab, lab.name);
            }
            labs.insert(lab.name.to_string(), parsed);
        }
        Ok(Some(Ladders { labs }))
    }

    /// The ladder of `program`, with its lab.
    pub fn ladder(&self, program: &str) -> Option<(&str, &Ladder)> {
        self.labs.iter().find_map(|(lab, h)| h.programs.iter().find(|p| p.name == program).map(|p| (lab.as_str(), p)))
    }

    /// The programs whose ladders `lab::check` leads to.
    pub fn programs_of_check(&self, lab: &str, check: &str) -> Vec<&str> {
        self.labs
            .get(lab)
            .map(|h| h.programs.iter().filter(|p| p.leads_from(check)).map(|p| p.name.as_str()).collect())
            .unwrap_or_default()
    }

    /// Every ladder, with its lab, in the labs' order.
    pub fn all(&self) -> Vec<(&str, &Ladder)> {
        LABS.iter()
            .filter_map(|lab| self.labs.get(lab.name))
            .flat_map(|h| h.programs.iter().map(move |p| (h.lab.as_str(), p)))
            .collect()
    }
}

/// The record of the rungs shown: program name to rungs shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub rungs: BTreeMap<String, u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShownFile {
    #[serde(default)]
    shown: BTreeMap<String, toml::Value>,
}

impl Shown {
    /// Reads `text` as a `.hints-shown.toml`, trusting nothing: every entry
    /// must be a program that has a ladder, with a number of rungs from 1
    /// to its ladder's length. Returns what holds, and a sentence for each
    /// entry left out; `Err` when the file as a whole is not one.
    pub fn parse(text: &str, ladders: &Ladders) -> std::result::Result<(Shown, Vec<String>), String> {
        let file: ShownFile = toml::from_str(text)
            .map_err(|_| "not a valid .hints-shown.toml (TOML with a [shown] table)".to_string())?;
        let mut shown = Shown::default();
        let mut notes = Vec::new();
        for (program, value) in file.shown {
            let name = ipc_engine::text::one_line(&program, 40);
            let Some((_, ladder)) = ladders.ladder(&program) else {
                notes.push(format!("`{name}` is no program with hints"));
                continue;
            };
            match value.as_integer() {
                Some(n) if n >= 1 && n as usize <= ladder.rungs.len() => {
                    shown.rungs.insert(program, n as u32);
                }
                _ => notes.push(format!("`{name}`: not a number of rungs from 1 to {}", ladder.rungs.len())),
            }
        }
        Ok((shown, notes))
    }

    /// The student's own record in `root` (none yet: empty).
    pub fn load(root: &Path, ladders: &Ladders) -> Result<Shown> {
        let path = root.join(SHOWN_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Shown::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        match Shown::parse(&text, ladders) {
            Ok((shown, _)) => Ok(shown),
            Err(why) => bail!("{}: {why}; fix it or delete it (it only records the hints shown)", path.display()),
        }
    }

    /// The file's text: its header, then `[shown]`.
    pub fn to_text(&self) -> String {
        let mut text = format!("{SHOWN_HEADER}\n[shown]\n");
        for (program, n) in &self.rungs {
            text.push_str(&format!("{program} = {n}\n"));
        }
        text
    }

    /// Writes the record into `root`, whole (a new file renamed into place).
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = root.join(SHOWN_FILE);
        let partial = root.join(format!("{SHOWN_FILE}.partial"));
        std::fs::write(&partial, self.to_text()).with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Reads a submission's `.hints-shown.toml` as untrusted data (batch
/// grading runs as root over folders students made): never following a
/// link, never blocking on a FIFO, at most [`SHOWN_LIMIT`] bytes. `None`
/// when there is no such file; otherwise what holds and a note on what was
/// ignored (the whole file, when it is not one).
pub fn read_submitted(dir: &Path, ladders: &Ladders) -> Option<(Shown, Option<String>)> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(SHOWN_FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path);
    let file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(_) => {
            return Some((Shown::default(), Some(format!("{SHOWN_FILE} could not be opened (a link?): ignored"))));
        }
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Some((Shown::default(), Some(format!("{SHOWN_FILE} is not a regular file: ignored"))));
    }
    let mut bytes = Vec::new();
    if file.take(SHOWN_LIMIT + 1).read_to_end(&mut bytes).is_err() {
        return Some((Shown::default(), Some(format!("{SHOWN_FILE} could not be read: ignored"))));
    }
    if bytes.len() as u64 > SHOWN_LIMIT {
        return Some((Shown::default(), Some(format!("{SHOWN_FILE} is over {} KiB: ignored", SHOWN_LIMIT / 1024))));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Some((Shown::default(), Some(format!("{SHOWN_FILE} is not UTF-8: ignored"))));
    };
    match Shown::parse(&text, ladders) {
        Ok((shown, notes)) if notes.is_empty() => Some((shown, None)),
        Ok((shown, notes)) => {
            let mut note = format!("{SHOWN_FILE}: entries ignored: {}", notes.join("; "));
            note = ipc_engine::text::cut(&note, 300);
            Some((shown, Some(note)))
        }
        Err(why) => Some((Shown::default(), Some(format!("{SHOWN_FILE}: {why}: ignored")))),
    }
}

/// What `--hint NAME` names: one program's ladder, or an answer instead.
enum Named<'a> {
    Ladder(&'a str, &'a Ladder),
    /// Not a ladder: the sentence that says what to ask for instead.
    Other(String),
}

fn resolve<'a>(name: &str, ladders: &'a Ladders, rubric: &Rubric) -> Named<'a> {
    let programs = |lab: &str| LABS.iter().find(|l| l.name == lab).map(|l| l.programs.join(", ")).unwrap_or_default();
    if let Some((lab, check)) = name.split_once("::") {
        if rubric.entry(lab, check).is_none() {
            return Named::Other(format!("`{name}` is no check (`cargo grade --list` shows every check)"));
        }
        let found = ladders.programs_of_check(lab, check);
        return match found[..] {
            [program] => match ladders.ladder(program) {
                Some((lab, ladder)) => Named::Ladder(lab, ladder),
                None => Named::Other(format!("no hints for `{program}`")),
            },
            [] => Named::Other(format!(
                "no hints lead from `{name}`: ask for a program of lab `{lab}`: {}",
                programs(lab)
            )),
            _ => Named::Other(format!(
                "`{name}` checks {} together: ask for one of them, e.g. `cargo grade --hint {}`",
                found.join(" and "),
                found[0]
            )),
        };
    }
    if let Some((lab, ladder)) = ladders.ladder(name) {
        return Named::Ladder(lab, ladder);
    }
    if LABS.iter().any(|l| l.name == name) {
        return Named::Other(format!("`{name}` is a lab: ask for one of its programs ({}) or checks", programs(name)));
    }
    let all: Vec<&str> = ladders.all().iter().map(|(_, l)| l.name.as_str()).collect();
    Named::Other(format!("`{name}` names no program or check (programs: {})", all.join(", ")))
}

/// `cargo grade --hint NAME [--all]`: shows the next rung of NAME's ladder
/// (every rung with `all`), records it in `root/.hints-shown.toml`, and
/// returns the exit status (0; 2 when NAME names no ladder).
pub fn command(root: &Path, rubric: &Rubric, name: &str, all: bool, out: &mut impl std::io::Write) -> Result<u8> {
    let Some(ladders) = Ladders::load(root)? else {
        writeln!(
            out,
            "This repository carries no hints: your instructor hands out the contract alone. The handouts \
             (handouts/) and the comments in starter/ say what each program must do."
        )?;
        return Ok(crate::cli::ERROR);
    };
    let (lab, ladder) = match resolve(name, &ladders, rubric) {
        Named::Ladder(lab, ladder) => (lab, ladder),
        Named::Other(why) => {
            writeln!(out, "cargo grade --hint: {why}")?;
            return Ok(crate::cli::ERROR);
        }
    };
    let mut shown = Shown::load(root, &ladders)?;
    let total = ladder.rungs.len();
    let before = shown.rungs.get(&ladder.name).copied().unwrap_or(0) as usize;
    let range = if all {
        0..total
    } else if before >= total {
        // Every rung was shown: the last one again.
        total - 1..total
    } else {
        before..before + 1
    };
    if !all && before >= total {
        writeln!(out, "Every rung of `{}` has been shown ({total} of {total}); the last one again:\n", ladder.name)?;
    }
    for i in range.clone() {
        writeln!(out, "Hint {} of {total} for `{}`: {}\n", i + 1, ladder.name, ladder.rungs[i].title.trim())?;
        writeln!(out, "{}\n", ladder.rung_text(lab, i))?;
    }
    let now = before.max(range.end);
    shown.rungs.insert(ladder.name.clone(), now as u32);
    shown.save(root)?;
    let left = total - now;
    match left {
        0 => writeln!(out, "That was the last rung of `{}`.", ladder.name)?,
        1 => writeln!(out, "1 rung left: `cargo grade --hint {}` shows it.", ladder.name)?,
        n => {
            writeln!(out, "{n} rungs left: `cargo grade --hint {}` shows the next (`--all`: every rung).", ladder.name)?
        }
    }
    writeln!(out, "Recorded in {SHOWN_FILE} (commit it with your work): self-reported, it changes no grade.")?;
    Ok(crate::cli::PASSED)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDERS: &str = r#"
lab = "pipe"

[[program]]
name = "pipe-message"
checks = ["message-*"]
[[program.rung]]
title = "The idea"
text = "one"
[[program.rung]]
title = "The calls"
text = "two"
[[program.rung]]
title = "The steps"
text = "three"
[[program.steps]]
item = "send_to_parent"
comment = "1. pipe\n2. fork"

[[program]]
name = "pipeline"
checks = ["pipeline-*"]
[[program.rung]]
title = "a"
text = "a"
[[program.rung]]
title = "b"
text = "b"
[[program.rung]]
title = "c"
text = "c"
"#;

    fn ladders() -> Ladders {
        let mut labs = BTreeMap::new();
        labs.insert("pipe".to_string(), toml::from_str::<LabHints>(LADDERS).unwrap());
        Ladders { labs }
    }

    /// A ladder is climbed one rung per `--hint`, recorded in the student's
    /// repository; once every rung was shown, the last comes again.
    #[test]
    fn hint_shows_the_next_rung_and_records_it() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(DIR)).unwrap();
        std::fs::write(root.path().join("hints/pipe.toml"), LADDERS).unwrap();
        let rubric = Rubric::builtin(LABS).unwrap();
        let run = |name: &str, all: bool| {
            let mut out = Vec::new();
            let status = command(root.path(), &rubric, name, all, &mut out).unwrap();
            (status, String::from_utf8(out).unwrap())
        };
        let (status, first) = run("pipe-message", false);
        assert_eq!(status, 0, "{first}");
        assert!(first.starts_with("Hint 1 of "), "{first}");
        assert!(first.contains("rungs left") && first.contains("self-reported"), "{first}");
        let record = std::fs::read_to_string(root.path().join(SHOWN_FILE)).unwrap();
        assert!(record.starts_with("# The hints") && record.contains("pipe-message = 1"), "{record}");
        // A check leads to its program's ladder.
        let (_, second) = run("pipe::message-default", false);
        assert!(second.starts_with("Hint 2 of "), "{second}");
        let (_, all) = run("pipe-message", true);
        assert!(all.contains("Hint 1 of ") && all.contains("That was the last rung"), "{all}");
        let (_, again) = run("pipe-message", false);
        assert!(again.starts_with("Every rung of `pipe-message` has been shown"), "{again}");
        let (status, wrong) = run("no-such-program", false);
        assert_eq!(status, 2);
        assert!(wrong.contains("names no program or check"), "{wrong}");
        let (status, lab) = run("pipe", false);
        assert_eq!(status, 2);
        assert!(lab.contains("is a lab"), "{lab}");
    }

    /// A record is data: unknown programs and impossible counts are left
    /// out with a note, and what is not TOML is refused whole.
    #[test]
    fn a_submitted_record_is_trusted_for_nothing() {
        let ladders = ladders();
        let (shown, notes) =
            Shown::parse("[shown]\npipe-message = 2\npipeline = 99\n\"<b>x</b>\" = 1\n", &ladders).unwrap();
        assert_eq!(shown.rungs, BTreeMap::from([("pipe-message".to_string(), 2)]));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(Shown::parse("shown = [", &ladders).is_err());
        assert!(Shown::parse("other = 1", &ladders).is_err());

        let dir = tempfile::tempdir().unwrap();
        assert!(read_submitted(dir.path(), &ladders).is_none());
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join(SHOWN_FILE)).unwrap();
        let (shown, note) = read_submitted(dir.path(), &ladders).unwrap();
        assert!(shown.rungs.is_empty() && note.unwrap().contains("ignored"));
        std::fs::remove_file(dir.path().join(SHOWN_FILE)).unwrap();
        nix::unistd::mkfifo(&dir.path().join(SHOWN_FILE), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (_, note) = read_submitted(dir.path(), &ladders).unwrap();
        assert!(note.unwrap().contains("not a regular file"));
        std::fs::remove_file(dir.path().join(SHOWN_FILE)).unwrap();
        std::fs::write(dir.path().join(SHOWN_FILE), "x".repeat(SHOWN_LIMIT as usize + 1)).unwrap();
        let (_, note) = read_submitted(dir.path(), &ladders).unwrap();
        assert!(note.unwrap().contains("over 64 KiB"));
        std::fs::write(
            dir.path().join(SHOWN_FILE),
            Shown { rungs: BTreeMap::from([("pipeline".into(), 3)]) }.to_text(),
        )
        .unwrap();
        let (shown, note) = read_submitted(dir.path(), &ladders).unwrap();
        assert_eq!((shown.rungs["pipeline"], note), (3, None));
    }

    /// A check leads to the ladders whose patterns match it.
    #[test]
    fn checks_lead_to_their_programs() {
        let ladders = ladders();
        assert_eq!(ladders.programs_of_check("pipe", "message-usage"), ["pipe-message"]);
        assert_eq!(ladders.programs_of_check("pipe", "pipeline-usage"), ["pipeline"]);
        let (lab, ladder) = ladders.ladder("pipe-message").unwrap();
        let last = ladder.rung_text(lab, 2);
        assert!(last.starts_with("three") && last.contains("starter/src/pipe/pipe-message.rs, `send_to_parent`"));
        assert!(last.contains("    1. pipe\n    2. fork"), "{last}");
    }
}
