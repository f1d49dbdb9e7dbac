//! Links the tuned variants with the unwinder built in (bench/tuned/README.md).
//!
//! Rust's standard library unwinds panics with the C compiler's unwinder.
//! On Linux with glibc it loads it as a shared library, `libgcc_s.so.1`,
//! which the dynamic loader must find, open, map and relocate at every
//! start, before `main`: 8 system calls and about a tenth of a start
//! (docs/performance.md, "What a process costs before it does any
//! IPC"). The same unwinder also comes as a static archive, `libgcc_eh.a`,
//! with every gcc (it is what `gcc -static-libgcc` links): named here, it
//! is linked into each program before the standard library asks for
//! `libgcc_s`, which is then not needed and left out (`--as-needed`).
//! Panics, `catch_unwind` and backtraces work as before.
//!
//! A C compiler without that archive (some clang installations) gets the
//! usual link and a warning, never a failed build. Only the reference does
//! this: the starter is built the usual way.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let static_crt = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if !linux_gnu || static_crt {
        return;
    }
    // `cc -print-file-name=libgcc_eh.a` prints the archive's path if the
    // compiler has it, else the bare name.
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let found = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .is_some_and(|path| path != "libgcc_eh.a" && std::path::Path::new(&path).is_file());
    if found {
        println!("cargo::rustc-link-lib=static=gcc_eh");
    } else {
        println!(
            "cargo::warning=`{cc}` has no libgcc_eh.a: the reference links libgcc_s.so as usual (starts a little slower)"
        );
    }
}
