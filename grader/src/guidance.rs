//! What guidance the student template carries, chosen at export
//! (`cargo grade --export-template DIR --guidance ladder|steps|contract`).
//!
//! The starter's comments are written for the default, `ladder`: each lab
//! function's comment gives the goal, then a paragraph of the contract's
//! pitfalls (`Pitfalls:`), then the man pages to read (`Read:`) and the
//! way to the hints (`Stuck?`). The other choices are made from it:
//!
//! - `steps`: each item that has step-by-step comments in its program's
//!   ladder (`[[program.steps]]` in `hints/LAB.toml`) gets them back as its
//!   doc comment, in place of the new one: the starter as it was before
//!   the ladder existed. The ladder ships too.
//! - `contract`: the `Pitfalls:`, `Read:` and `Stuck?` paragraphs are taken
//!   out of every comment of the starter, and `hints/` is left out: the
//!   goal and the contract alone (the handouts keep background, contract
//!   and pitfalls).
//!
//! Only comments change: the code, and so what compiles, is the same in
//! every mode.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::hints::Ladders;

/// What the template's starter and hints carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Guidance {
    /// The goal, the contract's pitfalls and the man pages in the starter;
    /// the hint ladder on demand (`cargo grade --hint`).
    #[default]
    Ladder,
    /// The step-by-step comments in the starter (the calls, in order), and the ladder.
    Steps,
    /// The goal and the contract only: no pitfalls or man pages in the starter, no ladder.
    Contract,
}

impl Guidance {
    /// What the template carries, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Guidance::Ladder => "ladder: goal, pitfalls and man pages in the starter; hints on demand",
            Guidance::Steps => "steps: the step-by-step comments in the starter; hints on demand",
            Guidance::Contract => "contract: the goal and the contract alone; no hints",
        }
    }
}

/// The first words of the paragraphs that are guidance, not contract.
const GUIDANCE_PARAGRAPHS: &[&str] = &["Pitfalls:", "Pitfall:", "Read:", "Stuck?"];

/// Applies `guidance` to the template in `dest` (its starter and hints).
pub fn apply(dest: &Path, guidance: Guidance) -> Result<()> {
    match guidance {
        Guidance::Ladder => Ok(()),
        Guidance::Steps => {
            let ladders = Ladders::load(dest)?.context("the template has no hints/ folder to take the steps from")?;
            for (lab, ladder) in ladders.all() {
                for steps in &ladder.steps {
                    let path = dest.join(steps.path(lab, &ladder.name));
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    let text = with_doc_comment(&text, &steps.item, &steps.comment)
                        .with_context(|| format!("hints/{lab}.toml, `{}`'s steps", ladder.name))?;
                    std::fs::write(&path, text)?;
                }
            }
            Ok(())
        }
        Guidance::Contract => {
            strip_tree(&dest.join("starter/src"))?;
            let hints = dest.join(crate::hints::DIR);
            if hints.exists() {
                std::fs::remove_dir_all(&hints).with_context(|| format!("cannot remove {}", hints.display()))?;
            }
            Ok(())
        }
    }
}

fn strip_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            strip_tree(&path)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, without_guidance(&text))?;
        }
    }
    Ok(())
}

/// The comment marker a line starts with (after its indentation), if any.
fn marker(line: &str) -> Option<&'static str> {
    let t = line.trim_start();
    ["//!", "///", "//"].into_iter().find(|m| t.starts_with(m))
}

/// The text of a comment line after its marker and one space.
fn body<'a>(line: &'a str, marker: &str) -> &'a str {
    let rest = &line.trim_start()[marker.len()..];
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// `text` without the paragraphs of its comments that start with one of
/// [`GUIDANCE_PARAGRAPHS`] (a paragraph ends at an empty comment line or
/// where the comment ends), nor the empty comment line before each.
pub fn without_guidance(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut keep = vec![true; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some(m) = marker(lines[i]) else {
            i += 1;
            continue;
        };
        let starts = GUIDANCE_PARAGRAPHS.iter().any(|p| body(lines[i], m).starts_with(p));
        let paragraph_start = i == 0 || marker(lines[i - 1]) != Some(m) || body(lines[i - 1], m).trim().is_empty();
        if !(starts && paragraph_start) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < lines.len() && marker(lines[end]) == Some(m) && !body(lines[end], m).trim().is_empty() {
            keep[end] = false;
            end += 1;
        }
        // The empty comment line that separated it from what came before.
        if i > 0 && marker(lines[i - 1]) == Some(m) && body(lines[i - 1], m).trim().is_empty() {
            keep[i - 1] = false;
        } else if end < lines.len() && marker(lines[end]) == Some(m) && body(lines[end], m).trim().is_empty() {
            keep[end] = false;
            end += 1;
        }
        i = end;
    }
    let mut out: String = lines.iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| *l).collect::<Vec<_>>().join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The line where `item` is declared: a function at the top level
/// (`send_to_parent`), a method (`Ring::produce`, in an `impl` of `Ring`)
/// or a type (`Waiter`: a `struct`, `enum` or `type`).
fn item_line(lines: &[&str], item: &str) -> Option<usize> {
    let declares = |line: &str, keyword: &str, name: &str| {
        let mut words = line.split(|c: char| c.is_whitespace() || "(<{:;".contains(c));
        let mut previous = "";
        for word in words.by_ref() {
            if previous == keyword {
                return word == name;
            }
            if !word.is_empty() {
                previous = word;
            }
        }
        false
    };
    match item.split_once("::") {
        Some((ty, method)) => {
            let start = lines.iter().position(|l| {
                l.starts_with("impl") && l.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == ty)
            })?;
            let end = lines[start + 1..].iter().position(|l| l.starts_with('}')).map_or(lines.len(), |e| start + 1 + e);
            (start + 1..end).find(|&i| declares(lines[i], "fn", method))
        }
        None => lines.iter().position(|l| {
            !l.starts_with(char::is_whitespace)
                && (declares(l, "fn", item)
                    || declares(l, "struct", item)
                    || declares(l, "enum", item)
                    || declares(l, "type", item))
        }),
    }
}

/// `text` with `comment` as the doc comment of `item`, in place of the one
/// it has (attributes between the comment and the item stay). The item
/// `//!` is the file's own comment, at its top.
pub fn with_doc_comment(text: &str, item: &str, comment: &str) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    if item == "//!" {
        let end = lines.iter().position(|l| !l.starts_with("//!")).unwrap_or(lines.len());
        let mut out: Vec<String> =
            comment.trim_end().lines().map(|l| if l.is_empty() { "//!".into() } else { format!("//! {l}") }).collect();
        out.extend(lines[end..].iter().map(|l| l.to_string()));
        let mut joined = out.join("\n");
        if text.ends_with('\n') {
            joined.push('\n');
        }
        return Ok(joined);
    }
    let Some(at) = item_line(&lines, item) else { bail!("no item `{item}` in the file") };
    let indent: String = lines[at].chars().take_while(|c| c.is_whitespace()).collect();
    // Up over attributes, then over the doc comment.
    let mut top = at;
    while top > 0 && lines[top - 1].trim_start().starts_with("#[") {
        top -= 1;
    }
    let attributes_from = top;
    while top > 0 && lines[top - 1].trim_start().starts_with("///") {
        top -= 1;
    }
    let mut out: Vec<String> = lines[..top].iter().map(|l| l.to_string()).collect();
    for line in comment.trim_end().lines() {
        out.push(if line.is_empty() { format!("{indent}///") } else { format!("{indent}/// {line}") });
    }
    out.extend(lines[attributes_from..].iter().map(|l| l.to_string()));
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
//! `demo`: the contract.
//!
//! Pitfalls: a header pitfall
//! over two lines.

/// The goal.
///
/// Pitfalls:
/// - one
///
/// Read: pipe(2).
/// Stuck? `cargo grade --hint demo`.
#[allow(dead_code)]
fn work() {
    // Pitfall: inside.
    todo!()
}

struct Waiter;

impl Waiter {
    /// Old.
    pub fn wait(&mut self) {}
}
";

    /// The contract mode keeps the goal and drops the guidance paragraphs,
    /// in doc, module and line comments.
    #[test]
    fn contract_keeps_the_goal_only() {
        let out = without_guidance(FILE);
        assert_eq!(
            out,
            "//! `demo`: the contract.\n\n/// The goal.\n#[allow(dead_code)]\nfn work() {\n    todo!()\n}\n\nstruct Waiter;\n\nimpl Waiter {\n    /// Old.\n    pub fn wait(&mut self) {}\n}\n"
        );
    }

    /// The steps mode replaces an item's doc comment, keeping attributes,
    /// for functions, methods and types.
    #[test]
    fn steps_replace_an_items_doc_comment() {
        let out = with_doc_comment(FILE, "work", "1. pipe\n\n2. fork").unwrap();
        assert!(out.contains("\n/// 1. pipe\n///\n/// 2. fork\n#[allow(dead_code)]\nfn work() {"), "{out}");
        assert!(!out.contains("The goal."));
        let out = with_doc_comment(FILE, "Waiter::wait", "Spin, then sleep.").unwrap();
        assert!(out.contains("impl Waiter {\n    /// Spin, then sleep.\n    pub fn wait"), "{out}");
        let out = with_doc_comment(FILE, "Waiter", "A waiter.").unwrap();
        assert!(out.contains("\n/// A waiter.\nstruct Waiter;"), "{out}");
        let out = with_doc_comment(FILE, "//!", "Old header.\n\nWith a model.").unwrap();
        assert!(out.starts_with("//! Old header.\n//!\n//! With a model.\n\n/// The goal."), "{out}");
        assert!(with_doc_comment(FILE, "missing", "x").is_err());
    }
}
