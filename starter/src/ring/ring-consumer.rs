//! `ring-consumer`: see the contract in handouts/ring.md. This lab's starter is not written yet.

fn main() {
    todo!("ring-consumer: this lab's starter code is not written yet")
}
