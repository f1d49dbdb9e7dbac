//! `ring-fork`: see the contract in handouts/ring.md. This lab's starter is not written yet.

fn main() {
    todo!("ring-fork: this lab's starter code is not written yet")
}
