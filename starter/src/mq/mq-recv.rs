//! `mq-recv`: see the contract in handouts/mq.md. This lab's starter is not written yet.

fn main() {
    todo!("mq-recv: this lab's starter code is not written yet")
}
