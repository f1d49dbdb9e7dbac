//! `timeout-run`: see the contract in handouts/signals.md. This lab's starter is not written yet.

fn main() {
    todo!("timeout-run: this lab's starter code is not written yet")
}
