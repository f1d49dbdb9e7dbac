//! Builds the reference's programs with their fault hooks switched on:
//! `ipc_common::fault!("NAME")` is then true when `IPC_FAULT` names NAME.

fn main() {
    println!("cargo::rustc-cfg=ipc_faults");
}
