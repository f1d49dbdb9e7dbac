//! `tcp-client`: see the contract in handouts/sockets.md. This lab's starter is not written yet.

fn main() {
    todo!("tcp-client: this lab's starter code is not written yet")
}
