//! The results as a terminal table, JSON, and an SVG bar chart.

use std::fmt::Write;

use super::Figure;

/// What was measured, for the reports' headers.
pub struct Meta {
    pub size: u64,
    pub runs: usize,
    pub rounds: usize,
    pub cpus: usize,
    pub programs: String,
}

/// One of the issue's targets, as a ratio of two medians in this run.
#[derive(serde::Serialize)]
pub struct Target {
    pub what: &'static str,
    pub ratio: f64,
    pub goal: &'static str,
    pub met: bool,
}

/// The groups in the order the table shows them.
const GROUPS: [&str; 8] =
    ["throughput", "messages", "segments", "calls", "latency p50", "latency p99", "machine", "grader"];

fn median(figures: &[Figure], group: &str, name: &str) -> Option<f64> {
    figures.iter().find(|f| f.group == group && f.name == name).map(|f| f.median)
}

/// The targets whose two figures were both measured.
pub fn targets(figures: &[Figure]) -> Vec<Target> {
    let t = |name: &str| median(figures, "throughput", name);
    let mut out = Vec::new();
    let mut add = |what, a: Option<f64>, b: Option<f64>, goal, min: f64| {
        if let (Some(a), Some(b)) = (a, b) {
            let ratio = a / b;
            out.push(Target { what, ratio, goal, met: ratio >= min });
        }
    };
    let catcat = t("cat | cat (shell)");
    add("ring-producer + ring-consumer vs cat | cat", t("ring-producer + ring-consumer"), catcat, ">= 2.0", 2.0);
    add("ring-fork vs cat | cat", t("ring-fork"), catcat, ">= 2.0", 2.0);
    // Time within 10% means throughput at least 1/1.1 of the shell's.
    add(
        "pipeline \"cat\" \"cat\" vs cat | cat",
        t("pipeline \"cat\" \"cat\""),
        catcat,
        ">= 0.91 (time within 10%)",
        1.0 / 1.1,
    );
    add("mmap-copy vs cp", t("mmap-copy"), t("cp"), ">= 0.67 (time within 1.5x)", 1.0 / 1.5);
    add(
        "TCP echo vs in-process loopback echo",
        t("tcp-client + tcp-server (echo)"),
        t("TCP loopback echo (in-process)"),
        ">= 0.83 (time within 20%)",
        1.0 / 1.2,
    );
    out
}

/// What the machine allows for the ring target: every byte must be copied
/// once from the input into the ring, so no ring carries a stream faster
/// than a single process reading the input. Its ratio to `cat | cat` is the
/// most any ring can reach on this machine.
pub fn ring_bound(figures: &[Figure]) -> Option<f64> {
    let t = |name: &str| median(figures, "throughput", name);
    Some(t("read alone, 64 KiB pieces (ring ceiling)")? / t("cat | cat (shell)")?)
}

fn number(value: f64) -> String {
    if !value.is_finite() {
        "-".into()
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

pub fn table(meta: &Meta, figures: &[Figure]) -> String {
    let mut out = String::new();
    if figures.iter().all(|f| f.group == "grader") {
        let _ = writeln!(out, "grader benchmark: median of {} runs (min-max), {} CPUs", meta.runs, meta.cpus);
    } else {
        let _ = writeln!(
            out,
            "IPC benchmark: {} bytes per stream, median of {} runs (min-max), {} round trips per latency run, {} CPUs; programs: {}",
            meta.size, meta.runs, meta.rounds, meta.cpus, meta.programs
        );
    }
    let width = figures.iter().map(|f| f.name.chars().count()).max().unwrap_or(10).max(10);
    let mut group = "";
    for f in GROUPS.iter().flat_map(|g| figures.iter().filter(move |f| f.group == *g)) {
        if f.group != group {
            group = f.group;
            let _ = writeln!(out, "\n{:<width$}  {:>10}  {:>21}  unit", group, "median", "min-max");
        }
        let name = if f.baseline { format!("{} *", f.name) } else { f.name.clone() };
        let spread = format!("{}-{}", number(f.min), number(f.max));
        let _ =
            writeln!(out, "{:<width$}  {:>10}  {:>21}  {}", name, number(f.median), spread, f.unit, width = width + 2);
    }
    if figures.iter().any(|f| f.baseline) {
        let _ = writeln!(out, "\n* a baseline, not a lab program");
    }
    let targets = targets(figures);
    if !targets.is_empty() {
        let _ = writeln!(out, "\ntargets (ratios of medians in this run)");
        for t in targets {
            let _ = writeln!(
                out,
                "  {:<45} {:>6.2}  goal {:<28} {}",
                t.what,
                t.ratio,
                t.goal,
                if t.met { "met" } else { "MISSED" }
            );
        }
    }
    if let Some(bound) = ring_bound(figures) {
        let _ = writeln!(
            out,
            "  (a ring copies each byte once: reading the input alone is {bound:.2}x cat | cat here, the most any ring can reach)"
        );
    }
    if let Some(same) = same_machine(figures) {
        let _ = writeln!(out, "\nrpc on one machine: a Unix socket against TCP loopback (ratios of medians)");
        let _ = writeln!(
            out,
            "  {:.2}x the calls/s; round trip p50 {:.2}x, p99 {:.2}x TCP's",
            same.calls, same.p50, same.p99
        );
    }
    out
}

/// Lab `rpc` on one machine: a Unix domain socket against TCP loopback.
#[derive(serde::Serialize)]
pub struct SameMachine {
    /// Calls/s over a Unix socket divided by calls/s over TCP.
    pub calls: f64,
    /// Round-trip p50 and p99 over a Unix socket divided by TCP's.
    pub p50: f64,
    pub p99: f64,
}

/// The rpc ratios, if both transports were measured.
pub fn same_machine(figures: &[Figure]) -> Option<SameMachine> {
    let ratio = |group: &str, unix: &str, tcp: &str| Some(median(figures, group, unix)? / median(figures, group, tcp)?);
    let (unix, tcp) = ("rpc add, Unix socket (on the socket)", "rpc add, TCP loopback (on the socket)");
    Some(SameMachine {
        calls: ratio("calls", "rpc-client + rpc-server, Unix socket", "rpc-client + rpc-server, TCP loopback")?,
        p50: ratio("latency p50", unix, tcp)?,
        p99: ratio("latency p99", unix, tcp)?,
    })
}

pub fn json(meta: &Meta, figures: &[Figure]) -> String {
    let value = serde_json::json!({
        "size_bytes": meta.size,
        "runs": meta.runs,
        "rounds": meta.rounds,
        "cpus": meta.cpus,
        "programs": meta.programs,
        "figures": figures,
        "targets": targets(figures),
        "ring_bound": ring_bound(figures),
        "rpc_same_machine": same_machine(figures),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Horizontal bars, one panel per group, each bar with its min-max spread.
pub fn svg(meta: &Meta, figures: &[Figure]) -> String {
    const WIDTH: f64 = 860.0;
    const LABEL: f64 = 300.0;
    const BAR: f64 = 20.0;
    const GAP: f64 = 8.0;
    let panels: [(&str, &str); 5] = [
        ("throughput", "Throughput, MB/s (higher is faster)"),
        ("messages", "Message queue, messages/s; FIFO, lines/s (higher is faster)"),
        ("calls", "RPC, calls of add per second (higher is faster)"),
        ("latency p50", "Round-trip latency p50, µs (lower is faster)"),
        ("grader", "Grading the reference, s"),
    ];
    let mut body = String::new();
    let mut y = 50.0;
    for (group, title) in panels {
        let rows: Vec<&Figure> = figures.iter().filter(|f| f.group == group).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(body, r#"<text x="10" y="{y}" font-weight="bold">{}</text>"#, escape(title));
        y += 12.0;
        let top = rows.iter().map(|f| f.max.max(f.median)).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
        let scale = (WIDTH - LABEL - 90.0) / top;
        for f in rows {
            let color = if f.baseline { "#9e9e9e" } else { "#1f77b4" };
            let w = (f.median * scale).max(1.0);
            let _ = writeln!(
                body,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                LABEL - 8.0,
                y + BAR * 0.72,
                escape(&f.name)
            );
            let _ = writeln!(body, r#"<rect x="{LABEL}" y="{y}" width="{w:.1}" height="{BAR}" fill="{color}"/>"#);
            let (x0, x1, ym) = (LABEL + f.min * scale, LABEL + f.max * scale, y + BAR / 2.0);
            let _ = writeln!(
                body,
                r#"<path d="M{x0:.1} {ym} H{x1:.1} M{x0:.1} {} V{} M{x1:.1} {} V{}" stroke="black"/>"#,
                ym - 5.0,
                ym + 5.0,
                ym - 5.0,
                ym + 5.0
            );
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{}">{}</text>"#,
                LABEL + w.max(f.max * scale) + 6.0,
                y + BAR * 0.72,
                number(f.median)
            );
            y += BAR + GAP;
        }
        y += 24.0;
    }
    let note = format!(
        "Median of {} runs, whiskers min-max; {} bytes per stream; {} CPUs. Grey: baselines. Blue: the labs' programs.",
        meta.runs, meta.size, meta.cpus
    );
    let _ = writeln!(body, r#"<text x="10" y="{y}" font-size="12">{}</text>"#, escape(&note));
    let height = y + 16.0;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"10\" y=\"24\" font-size=\"18\" font-weight=\"bold\">Which IPC is fastest, measured</text>\n{body}</svg>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, median: f64) -> Figure {
        Figure::new("throughput", name, false, "MB/s", vec![median], String::new())
    }

    #[test]
    fn targets_are_ratios_of_medians_against_their_goals() {
        let figures = [
            figure("cat | cat (shell)", 1000.0),
            figure("ring-producer + ring-consumer", 2500.0),
            figure("ring-fork", 1500.0),
            figure("mmap-copy", 600.0),
            figure("cp", 1000.0),
        ];
        let targets = targets(&figures);
        let by_name = |what: &str| targets.iter().find(|t| t.what == what).expect(what);
        assert!((by_name("ring-producer + ring-consumer vs cat | cat").ratio - 2.5).abs() < 1e-9);
        assert!(by_name("ring-producer + ring-consumer vs cat | cat").met);
        assert!(!by_name("ring-fork vs cat | cat").met);
        // 600 / 1000 = 0.6 < 1 / 1.5: the copy took more than 1.5x cp's time.
        assert!(!by_name("mmap-copy vs cp").met);
        // Figures not measured in this run give no target at all.
        assert!(targets.iter().all(|t| !t.what.starts_with("TCP") && !t.what.starts_with("pipeline")));
    }

    #[test]
    fn rpc_on_one_machine_compares_the_unix_socket_with_tcp() {
        let fig = |group, name: &str, median| Figure::new(group, name, false, "", vec![median], String::new());
        let (tcp, unix) = ("rpc add, TCP loopback (on the socket)", "rpc add, Unix socket (on the socket)");
        let mut figures = vec![
            fig("calls", "rpc-client + rpc-server, TCP loopback", 50_000.0),
            fig("calls", "rpc-client + rpc-server, Unix socket", 60_000.0),
            fig("latency p50", tcp, 12.0),
            fig("latency p50", unix, 9.0),
            fig("latency p99", tcp, 30.0),
        ];
        assert!(same_machine(&figures).is_none(), "a figure is missing");
        figures.push(fig("latency p99", unix, 33.0));
        let same = same_machine(&figures).expect("all four figures");
        assert!((same.calls - 1.2).abs() < 1e-9 && (same.p50 - 0.75).abs() < 1e-9 && (same.p99 - 1.1).abs() < 1e-9);
        let meta = Meta { size: 1, runs: 1, rounds: 1, cpus: 2, programs: "test".into() };
        assert!(table(&meta, &figures).contains("1.20x the calls/s; round trip p50 0.75x, p99 1.10x TCP's"));
    }

    #[test]
    fn the_ring_bound_is_the_read_alone_over_cat_cat_and_is_printed() {
        let figures = [figure("cat | cat (shell)", 1000.0), figure("read alone, 64 KiB pieces (ring ceiling)", 1960.0)];
        assert_eq!(ring_bound(&figures), Some(1.96));
        let meta = Meta { size: 1, runs: 1, rounds: 1, cpus: 2, programs: "test".into() };
        assert!(table(&meta, &figures).contains("reading the input alone is 1.96x cat | cat"));
        assert_eq!(ring_bound(&figures[..1]), None);
    }
}
