//! `cargo grade --watch [LAB]...`: the arguments of each round; the
//! watching itself is [`crate::watch`].

use std::ffi::OsString;

use anyhow::{Context, Result};

use ipc_engine::build;

use super::{Args, TargetArg, load_rubric, select};

pub(super) fn run(args: &Args) -> Result<u8> {
    let rubric = load_rubric(args)?;
    select(&rubric, &args.filters)?;
    let mut round_args: Vec<OsString> = Vec::new();
    let (dir, kind) = match &args.bin_dir {
        Some(dir) => {
            let dir = dir.canonicalize().with_context(|| format!("--bin-dir {}: no such folder", dir.display()))?;
            round_args.extend(["--bin-dir".into(), dir.clone().into_os_string()]);
            (dir, crate::watch::Watched::BinDir)
        }
        None => {
            if args.target == TargetArg::Reference {
                round_args.extend(["--target".into(), "reference".into()]);
                (build::workspace_root().join("reference"), crate::watch::Watched::Starter)
            } else {
                (build::workspace_root().join("starter"), crate::watch::Watched::Starter)
            }
        }
    };
    if let Some(jobs) = args.jobs {
        round_args.extend(["--jobs".into(), jobs.to_string().into()]);
    }
    if let Some(rubric) = &args.rubric {
        round_args.extend(["--rubric".into(), rubric.clone().into_os_string()]);
    }
    round_args.extend(["--build-time-limit".into(), args.build_time_limit.to_string().into()]);
    let program = std::env::current_exe().context("cannot find the grader's own executable")?;
    crate::watch::run(&crate::watch::Watch { dir, kind, filters: args.filters.clone(), program, round_args })
}
