//! `cargo bench-ipc`: measures the IPC mechanisms of the labs (throughput,
//! messages per second, round-trip latency) against shell and in-process
//! baselines. See `ipc-bench --help` and handouts/performance.md.
//!
//! What to measure, how often, and how to report it:
//!
//! Every figure is the median of `--runs` runs (at least 5 by default) with
//! the smallest and largest run as its spread. Programs run one at a time,
//! through `ipc_engine::proc` (one reaper owns all children), with data from
//! a file in /dev/shm and output to /dev/null, so that the mechanism and not
//! a disk or a terminal is measured.

mod measure;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ipc_engine::build::{self, Crate, Programs};

/// What `ipc-bench` takes on its command line.
#[derive(Parser, Debug)]
#[command(name = "ipc-bench", about = "Measures the labs' IPC mechanisms against shell and in-process baselines")]
struct Args {
    /// Bytes streamed per throughput run (suffixes K, M, G, KiB, MiB, GiB).
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    size: u64,
    /// Runs per figure (the median and the min-max spread are reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Round trips timed per latency run (after a warm-up of a tenth as many).
    #[arg(long, default_value_t = 2000)]
    rounds: usize,
    /// Benchmark the executables in this folder (contract names) instead of
    /// the reference, built in release mode.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// `table` (default) or `json`.
    #[arg(long, default_value = "table")]
    format: String,
    /// Also write an SVG bar chart of the results to this path.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Only the mechanisms whose name contains one of these words (comma separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Instead of the IPC figures: time `cargo grade --target reference`
    /// (once built) `--runs` times.
    #[arg(long)]
    grader: bool,
}

/// `64MiB`, `1G`, `1000`: a byte count.
fn parse_size(text: &str) -> Result<u64, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {text}"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("unknown unit in {text} (use KiB, MiB or GiB)")),
    };
    n.checked_mul(mult).filter(|&n| n > 0).ok_or_else(|| format!("size out of range: {text}"))
}

/// One measured figure: every run's value, and how to show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    /// The group it belongs to (`throughput`, `messages`, `latency p50`, `latency p99`, `grader`).
    pub group: &'static str,
    pub name: String,
    /// A baseline (not one of the labs' programs).
    pub baseline: bool,
    pub unit: &'static str,
    /// In the order they were measured: run i of a program and run i of its
    /// baseline were taken one after the other (see [`Figure::pair_ratios`]).
    pub runs: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// What was run, as a person would type it.
    pub command: String,
}

impl Figure {
    pub fn new(
        group: &'static str,
        name: &str,
        baseline: bool,
        unit: &'static str,
        runs: Vec<f64>,
        command: String,
    ) -> Figure {
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let median = median_of_sorted(&sorted);
        let min = sorted.first().copied().unwrap_or(f64::NAN);
        let max = sorted.last().copied().unwrap_or(f64::NAN);
        Figure { group, name: name.to_string(), baseline, unit, runs, median, min, max, command }
    }

    /// Whether a smaller value is the better one (a time, not a rate).
    pub fn lower_is_better(&self) -> bool {
        matches!(self.unit, "µs" | "ms" | "s")
    }

    /// How many times as fast as `other` each run was, run i against run i
    /// (they were measured one after the other, under the same load): the
    /// spread of a comparison. Empty unless both have the same number of runs.
    pub fn pair_ratios(&self, other: &Figure) -> Vec<f64> {
        if self.runs.len() != other.runs.len() {
            return Vec::new();
        }
        let faster = |a: f64, b: f64| if self.lower_is_better() { b / a } else { a / b };
        self.runs.iter().zip(&other.runs).map(|(&a, &b)| faster(a, b)).collect()
    }
}

/// The median of values sorted in increasing order (NaN if there are none).
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.runs == 0 || args.rounds == 0 {
        eprintln!("ipc-bench: --runs and --rounds must be at least 1");
        return ExitCode::from(2);
    }
    if args.format != "table" && args.format != "json" {
        eprintln!("ipc-bench: --format is table or json");
        return ExitCode::from(2);
    }
    let load_before = report::load_average();
    let result = if args.grader { measure::grader(args.runs).map(|f| (f, Vec::new())) } else { run(&args) };
    match result {
        Ok((figures, notes)) => {
            let meta = report::Meta {
                size: args.size,
                runs: args.runs,
                rounds: args.rounds,
                cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
                programs: args
                    .bin_dir
                    .as_ref()
                    .map_or("the reference (release build)".into(), |d| d.display().to_string()),
                notes,
                load: (load_before, report::load_average()),
            };
            if args.format == "json" {
                println!("{}", report::json(&meta, &figures));
            } else {
                print!("{}", report::table(&meta, &figures));
            }
            if let Some(path) = &args.svg {
                if let Err(e) = std::fs::write(path, report::svg(&meta, &figures)) {
                    eprintln!("ipc-bench: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                eprintln!("ipc-bench: chart written to {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ipc-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The programs to measure: `--bin-dir`, or the reference built in release mode.
fn programs(args: &Args) -> anyhow::Result<Programs> {
    if let Some(dir) = &args.bin_dir {
        return Ok(Programs::from_dir(dir));
    }
    let root = build::workspace_root();
    match build::build_profile(Crate::Reference, &root, None, Duration::from_secs(900), true, None) {
        Ok(built) => Ok(built.programs),
        Err(build::BuildError::Compile { messages, .. }) => anyhow::bail!("the reference does not build:\n{messages}"),
        Err(build::BuildError::Cargo(e)) => anyhow::bail!("{e}"),
    }
}

fn run(args: &Args) -> anyhow::Result<(Vec<Figure>, Vec<String>)> {
    let programs = programs(args)?;
    let bench = measure::Bench::new(programs, args.size, args.runs, args.rounds, args.only.clone())?;
    bench.all()
}
