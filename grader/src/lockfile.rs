//! A workspace's `Cargo.lock` pruned to its members, as cargo would write
//! it, without cargo: the exports (a student template, Gradescope's
//! autograder) drop crates of the instructor's repository (the reference,
//! broken/, the benchmarks), and a lock file that still named them would
//! be rewritten by the student's first `cargo` command. Asking cargo to do
//! it needs every dependency's manifest, dev-dependencies included, which
//! a fresh clone where only `cargo grade` ran has not downloaded (and an
//! offline cargo will not fetch). The lock file itself says what depends
//! on what: keep the packages reachable from the members, drop the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One `[[package]]` of a lock file.
struct Package {
    name: String,
    version: String,
    /// `None` for a workspace member (or another path package).
    source: Option<String>,
    /// As the lock file writes them: `name`, `name version` or
    /// `name version (source)`.
    dependencies: Vec<String>,
    /// Its text in the file, kept as it is.
    text: String,
}

/// Rewrites `dir/Cargo.lock` with only the packages that the workspace in
/// `dir` (its manifest's `members`) uses, directly or not, on any platform:
/// what cargo keeps.
pub fn prune(dir: &Path) -> Result<()> {
    let lock_path = dir.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).with_context(|| format!("cannot read {}", lock_path.display()))?;
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))?.parse()?;
    let members: Vec<String> = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .context("no [workspace] members in Cargo.toml")?
        .iter()
        .filter_map(|m| m.as_str())
        .map(|member| package_name(&dir.join(member)))
        .collect::<Result<_>>()?;
    let (header, packages) = parse(&lock)?;
    let kept = reachable(&packages, &members)?;
    let mut text = header;
    for (i, package) in packages.iter().enumerate() {
        if kept.contains(&i) {
            text.push_str(&package.text);
        }
    }
    std::fs::write(&lock_path, text).with_context(|| format!("cannot write {}", lock_path.display()))
}

/// The `[package] name` of the crate in `dir`.
fn package_name(dir: &Path) -> Result<String> {
    let path = dir.join("Cargo.toml");
    let manifest: toml::Table =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?.parse()?;
    manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .with_context(|| format!("{} names no package", path.display()))
}

/// The text before the first `[[package]]`, and every package with its text.
fn parse(lock: &str) -> Result<(String, Vec<Package>)> {
    const MARK: &str = "[[package]]\n";
    let first = lock.find(MARK).context("a lock file without packages")?;
    let header = lock[..first].to_string();
    let mut packages = Vec::new();
    let mut rest = &lock[first..];
    while !rest.is_empty() {
        let end = rest[MARK.len()..].find(MARK).map_or(rest.len(), |at| at + MARK.len());
        let text = &rest[..end];
        let table: toml::Table = text.parse().with_context(|| format!("a package of the lock file: {text}"))?;
        let entry = table
            .get("package")
            .and_then(|p| p.as_array())
            .and_then(|a| a.first())
            .and_then(|p| p.as_table())
            .context("a [[package]] that is no table")?;
        let field = |key: &str| entry.get(key).and_then(|v| v.as_str()).map(str::to_string);
        packages.push(Package {
            name: field("name").context("a package without a name")?,
            version: field("version").context("a package without a version")?,
            source: field("source"),
            dependencies: entry
                .get("dependencies")
                .and_then(|d| d.as_array())
                .map(|d| d.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            text: text.to_string(),
        });
        rest = &rest[end..];
    }
    Ok((header, packages))
}

/// The indices of the packages reachable from the members.
fn reachable(packages: &[Package], members: &[String]) -> Result<BTreeSet<usize>> {
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    let mut todo: Vec<usize> = Vec::new();
    for member in members {
        let found = packages.iter().position(|p| p.name == *member && p.source.is_none());
        todo.push(found.with_context(|| format!("the lock file has no package for the member {member}"))?);
    }
    let mut kept = BTreeSet::new();
    while let Some(i) = todo.pop() {
        if !kept.insert(i) {
            continue;
        }
        for dependency in &packages[i].dependencies {
            let mut words = dependency.split(' ');
            let name = words.next().unwrap_or_default();
            let version = words.next();
            let candidates = by_name.get(name).map(Vec::as_slice).unwrap_or_default();
            let chosen: Vec<usize> = match version {
                None => candidates.to_vec(),
                Some(v) => candidates.iter().copied().filter(|&c| packages[c].version == v).collect(),
            };
            match chosen.as_slice() {
                [one] => todo.push(*one),
                // Same name and version from two sources: keep both (rare).
                [_, _, ..] if version.is_some() => todo.extend(chosen),
                _ => bail!("the lock file's dependency `{dependency}` of {} is ambiguous or missing", packages[i].name),
            }
        }
    }
    Ok(kept)
}
