//! `mmap-private`: see the contract in handouts/mmap.md. This lab's starter is not written yet.

fn main() {
    todo!("mmap-private: this lab's starter code is not written yet")
}
