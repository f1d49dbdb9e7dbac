//! `tcp-client HOST PORT`: copies stdin to a TCP connection and the
//! connection to stdout, at the same time.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{Context, Error, fault};
use sockets::{first_that_works, resolve};

/// Used in error messages: `tcp-client: CONTEXT: REASON`.
const PROGRAM: &str = "tcp-client";
const USAGE: &str = "tcp-client HOST PORT";

/// The command line, parsed by clap.
#[derive(Parser)]
struct Args {
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    ipc_common::finish(PROGRAM, run(&args.host, args.port))
}

/// The lab: connect, then copy stdin to the socket on one thread while the
/// main thread copies the socket to stdout.
fn run(host: &str, port: u16) -> ipc_common::Result<()> {
    let server = format!("{host}:{port}");
    let addrs = resolve(host, port).context(&server)?;
    // socket(2) + connect(2), on each address in turn until one answers.
    let stream = first_that_works(&addrs, TcpStream::connect);
    fault!("os-error-number" => sockets::faults::exit_with_rust_error(&stream, &server));
    let stream = stream.context(&server)?;

    // Why two threads: if one thread wrote all of stdin before reading, the
    // server's echo would fill our receive buffer, the server would block
    // writing, stop reading, and our writes would block too: a deadlock once
    // the data outgrows the buffers. Here a thread sends while main receives.
    let mut sending = stream.try_clone().context("dup")?;
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        fault!("adds-newline" => return sockets::faults::send_lines(&mut sending));
        copy(&mut ipc_common::raw_stdin()?, &mut sending)?;
        // shutdown(2) SHUT_WR: the server reads end of file, yet we can still
        // read its echo. (close would end both directions.)
        sending.shutdown(if fault!("close-not-shutdown") { Shutdown::Both } else { Shutdown::Write })
    });
    fault!("write-then-read" => sockets::faults::wait_for(&sender));

    copy(&mut &stream, &mut ipc_common::raw_stdout().context("stdout")?).context("recv")?;
    // The server closed. Normally the sender finished long ago; if it still
    // waits for stdin, the server ended early and there is nothing to wait for.
    if sender.is_finished() {
        sender.join().map_err(|_| Error::new("send", "the sending thread panicked"))?.context("send")?;
    }
    Ok(())
}

/// Copies `from` to `to` until end of file, a piece of up to
/// `STREAM_BUFFER` bytes at a time: each piece one read(2) and (mostly) one
/// write(2). (`io::copy` would move 8 KiB pieces.)
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; sockets::STREAM_BUFFER];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(&buf[..n])?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
