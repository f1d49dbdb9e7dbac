//! Keeping the handouts' "Checks and points" tables in step with the rubric.
//!
//! Each handout holds a block between `<!-- checks:begin -->` and
//! `<!-- checks:end -->`; `cargo grade --update-handouts` rewrites it from
//! `rubric/LAB.toml`, and the tests fail while any block is stale.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::rubric::{LabRubric, Rubric};

pub const BEGIN: &str = "<!-- checks:begin -->";
pub const END: &str = "<!-- checks:end -->";

/// The generated table of one lab (hidden checks left out).
pub fn table(lab: &LabRubric) -> String {
    let mut out = format!(
        "<!-- Generated from rubric/{}.toml by `cargo grade --update-handouts`: do not edit by hand. -->\n\n",
        lab.lab
    );
    out.push_str("| Check | Points | Time limit | What it checks |\n| --- | ---: | ---: | --- |\n");
    let shown: Vec<_> = lab.checks.iter().filter(|c| !c.hidden).collect();
    for c in &shown {
        out.push_str(&format!(
            "| `{}::{}` | {} | {} s | {} |\n",
            lab.lab,
            c.name,
            c.points,
            c.time_limit,
            c.tests.replace('|', "\\|")
        ));
    }
    let total: u32 = shown.iter().map(|c| c.points).sum();
    out.push_str(&format!("| **Total** | **{total}** | | |\n"));
    out
}

/// `text` with its generated block replaced by `table`.
pub fn with_table(text: &str, table: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = text[start..].find(END)? + start;
    Some(format!("{}\n{}{}", &text[..start], table, &text[end..]))
}

/// Checks (or, with `write`, rewrites) every handout's table. Returns the
/// handouts that were stale.
pub fn sync(root: &Path, rubric: &Rubric, write: bool) -> Result<Vec<String>> {
    let mut stale = Vec::new();
    for lab in rubric.labs.values() {
        if lab.checks.is_empty() {
            continue;
        }
        let path = root.join(&lab.handout);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Some(updated) = with_table(&text, &table(lab)) else {
            bail!("{} has no `{BEGIN}` ... `{END}` block for the checks table", path.display());
        };
        if updated != text {
            stale.push(lab.handout.clone());
            if write {
                std::fs::write(&path, updated).with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(stale)
}

/// The anchors GitHub makes of a Markdown file's headings.
pub fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            anchors("## One read is not enough\n### `pipe-message`\n## SIGPIPE"),
            ["one-read-is-not-enough", "pipe-message", "sigpipe"]
        );
    }

    #[test]
    fn replaces_only_the_block() {
        let text = format!("intro\n{BEGIN}\nold\n{END}\nafter\n");
        assert_eq!(with_table(&text, "new\n").unwrap(), format!("intro\n{BEGIN}\nnew\n{END}\nafter\n"));
    }
}
