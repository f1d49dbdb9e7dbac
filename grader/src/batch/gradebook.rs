//! What a batch run writes at its end, from every result: the gradebook
//! (`OUT/grades.csv`) and the overview pages (`OUT/index.html`, one page of
//! feedback per student).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Batch, Graded, overview};
use ipc_engine::build;

/// The labs selected, in the grader's order.
fn selected_labs(batch: &Batch) -> Vec<&'static str> {
    let mut labs: Vec<&str> = Vec::new();
    for s in &batch.selected {
        if !labs.contains(&s.lab) {
            labs.push(s.lab);
        }
    }
    labs
}

/// `OUT/grades.csv`: one row per student, a column per lab, total, error.
pub(super) fn write_gradebook(batch: &Batch, results: &[Graded]) -> Result<PathBuf> {
    let labs = selected_labs(batch);
    let path = batch.out.join("grades.csv");
    let mut csv = csv::Writer::from_path(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header = vec!["student".to_string()];
    header.extend(labs.iter().map(|l| l.to_string()));
    header.extend(["total".into(), "max".into(), "error".into()]);
    csv.write_record(&header)?;
    for g in results {
        let mut row = vec![g.student.clone()];
        row.extend(labs.iter().map(|l| g.labs.get(*l).copied().unwrap_or(0).to_string()));
        row.extend([g.score.to_string(), g.max_score.to_string(), g.error.clone().unwrap_or_default()]);
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(path)
}

/// `OUT/index.html`, and `OUT/feedback/STUDENT.html` beside each text
/// feedback. Each file is written whole, then renamed into place, so that a
/// browser showing it never reads half a page.
pub(super) fn write_overview(batch: &Batch, results: &[Graded], facts: &overview::Facts) -> Result<PathBuf> {
    for g in results {
        let feedback = batch.out.join("feedback");
        let text = std::fs::read_to_string(feedback.join(format!("{}.txt", g.student))).ok();
        let page = overview::feedback(&g.student, Some(g), text.as_deref());
        write_whole(&feedback.join(format!("{}.html", g.student)), &page)?;
    }
    let labs: Vec<overview::LabInfo> = selected_labs(batch)
        .into_iter()
        .map(|lab| overview::LabInfo {
            name: lab.to_string(),
            title: batch.rubric.labs.get(lab).map(|l| l.title.clone()).unwrap_or_default(),
            max: batch.selected.iter().filter(|s| s.lab == lab).map(|s| s.entry.points).sum(),
        })
        .collect();
    let ladders = crate::hints::Ladders::load(&build::workspace_root()).ok().flatten().unwrap_or_default();
    let checks: Vec<overview::CheckInfo> = batch
        .selected
        .iter()
        .map(|s| overview::CheckInfo {
            programs: ladders.programs_of_check(s.lab, s.check.name).into_iter().map(String::from).collect(),
            lab: s.lab.to_string(),
            name: s.check.name.to_string(),
            points: s.entry.points,
            tests: s.entry.tests.trim().to_string(),
            hint: s.entry.hint.trim().to_string(),
            see: match &s.entry.section {
                Some(section) => format!("{}#{section}", s.handout),
                None => s.handout.clone(),
            },
            hidden: s.hidden,
        })
        .collect();
    let page = overview::index(&overview::Class { results, labs: &labs, checks: &checks, facts });
    let path = batch.out.join("index.html");
    write_whole(&path, &page)?;
    Ok(path)
}

pub(super) fn write_whole(path: &Path, text: &str) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, text).with_context(|| format!("cannot write {}", Path::new(&partial).display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}
