//! Links the reference's programs with the unwinder built in.
//!
//! Rust's standard library unwinds panics with the C compiler's unwinder.
//! On Linux with glibc it loads it as a shared library, `libgcc_s.so.1`,
//! which the dynamic loader must find, open, map and relocate at every
//! start, before `main`: 8 system calls and about a tenth of a start
//! (handouts/performance.md, "What a process costs before it does any
//! IPC"). The same unwinder also comes as a static archive, `libgcc_eh.a`,
//! with every gcc (it is what `gcc -static-libgcc` links): named here, it
//! is linked into each program before the standard library asks for
//! `libgcc_s`, which is then not needed and left out (`--as-needed`).
//! Panics, `catch_unwind` and backtraces work as before.
//!
//! Only the reference does this: the starter is built the usual way.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    let static_crt = std::env::var("CARGO_CFG_TARGET_FEATURE").is_ok_and(|f| f.split(',').any(|f| f == "crt-static"));
    if linux_gnu && !static_crt {
        println!("cargo::rustc-link-lib=static=gcc_eh");
    }
}
