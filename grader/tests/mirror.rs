//! The starter and the reference mirror each other, as rustlings' exercises
//! and solutions do: the same files, and in each file the same functions
//! with the same signatures, so that `diff starter/src/LAB/PROGRAM.rs
//! reference/src/LAB/PROGRAM.rs` shows the bodies filled in. The reference
//! may add helpers of its own (small safe wrappers, as a student may write
//! too); every function the starter gives, it fills in under the same
//! name and signature. Only the reference's `faults.rs` (broken/, compiled
//! with `--cfg ipc_faults`) has no starter twin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipc_engine::build::workspace_root;
use quote::ToTokens;

/// Labs whose reference does not mirror its starter yet. The test checks
/// that each still has problems, so an entry cannot outlive the work.
const NOT_YET: &[&str] = &[];

/// `src/LAB/FILE.rs` for every Rust file of one crate's labs.
fn lab_files(krate: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for lab in std::fs::read_dir(krate.join("src")).unwrap() {
        let lab = lab.unwrap().path();
        if !lab.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&lab).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "rs") && !file.ends_with("faults.rs") {
                files.push(file.strip_prefix(krate).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// Every function of a file, by path (`name`, `Type::name`, `<Type as
/// Trait>::name`, `module::name`), with its signature as written (visibility
/// and `fn` line, without attributes or body).
fn functions(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let mut found = BTreeMap::new();
    collect(&file.items, "", &mut found);
    found
}

fn collect(items: &[syn::Item], prefix: &str, found: &mut BTreeMap<String, String>) {
    let signature = |vis: &syn::Visibility, sig: &syn::Signature| {
        // `mut` on a parameter binds it mutably inside the body; the
        // function's interface is the same with or without it.
        let mut sig = sig.clone();
        for input in &mut sig.inputs {
            match input {
                syn::FnArg::Receiver(receiver) if receiver.reference.is_none() => receiver.mutability = None,
                syn::FnArg::Typed(typed) => {
                    if let syn::Pat::Ident(binding) = &mut *typed.pat {
                        binding.mutability = None;
                    }
                }
                _ => {}
            }
        }
        let vis = vis.to_token_stream().to_string();
        let text = format!("{vis} {}", sig.to_token_stream());
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    for item in items {
        match item {
            syn::Item::Fn(f) => {
                found.insert(format!("{prefix}{}", f.sig.ident), signature(&f.vis, &f.sig));
            }
            syn::Item::Impl(block) => {
                let ty = block.self_ty.to_token_stream().to_string().replace(' ', "");
                let owner = match &block.trait_ {
                    Some((_, tr, _)) => format!("<{ty} as {}>", tr.to_token_stream().to_string().replace(' ', "")),
                    None => ty,
                };
                for inner in &block.items {
                    if let syn::ImplItem::Fn(f) = inner {
                        found.insert(format!("{prefix}{owner}::{}", f.sig.ident), signature(&f.vis, &f.sig));
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, &format!("{prefix}{}::", m.ident), found);
                }
            }
            _ => {}
        }
    }
}

/// Every function of every starter program file and lab `mod.rs` is in its
/// reference twin, with the same signature.
#[test]
fn starter_and_reference_have_the_same_functions() {
    let root = workspace_root();
    let (starter, reference) = (root.join("starter"), root.join("reference"));
    let mut problems = Vec::new();
    let starter_files = lab_files(&starter);
    let reference_files = lab_files(&reference);
    for file in &reference_files {
        if !starter_files.contains(file) {
            problems.push(format!(
                "reference/{0} has no twin starter/{0}: add it to the starter (the same functions, bodies `todo!()`)",
                file.display()
            ));
        }
    }
    let mut waived: BTreeMap<String, usize> = NOT_YET.iter().map(|lab| (lab.to_string(), 0)).collect();
    for file in &starter_files {
        let lab = file.components().nth(1).unwrap().as_os_str().to_string_lossy().to_string();
        let before = problems.len();
        if !reference_files.contains(file) {
            problems.push(format!("starter/{0} has no twin reference/{0}: write its solution there", file.display()));
            continue;
        }
        let given = functions(&starter.join(file));
        let solved = functions(&reference.join(file));
        let file = file.display();
        for (name, sig) in &given {
            match solved.get(name) {
                None => problems.push(format!(
                    "reference/{file}: no `{name}`, which starter/{file} has as `{sig}`: write it there with that \
                     signature (or rename the starter's, keeping its `todo!()`)"
                )),
                Some(other) if other != sig => problems.push(format!(
                    "{file}: `{name}` differs:\n    starter:   {sig}\n    reference: {other}\n  give both the same \
                     signature (the starter keeps its `todo!()` body)"
                )),
                Some(_) => {}
            }
        }
        if let Some(count) = waived.get_mut(&lab) {
            *count += problems.len() - before;
            problems.truncate(before);
        }
    }
    for (lab, count) in waived {
        if count == 0 {
            problems.push(format!("{lab} mirrors its starter now: remove it from NOT_YET in grader/tests/mirror.rs"));
        }
    }
    assert!(
        problems.is_empty(),
        "the starter and the reference do not mirror each other ({} problems):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
