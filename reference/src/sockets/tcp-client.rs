//! `tcp-client HOST PORT`: copies stdin to a TCP connection and the
//! connection to stdout, at the same time.

// This lab's shared code (src/sockets/mod.rs) is compiled into each of the
// lab's programs: there is no library crate, so a mistake in another lab's
// files never stops this program from building.
#[allow(dead_code)]
#[path = "mod.rs"]
mod sockets;

use std::io::{BufRead, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use ipc_common::{fail, fault};
use sockets::{first_that_works, resolve};

const PROGRAM: &str = "tcp-client";
const USAGE: &str = "tcp-client HOST PORT";

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
    let server = format!("{}:{}", args.host, args.port);
    let addrs = match resolve(&args.host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
    };
    // socket(2) + connect(2), on each address in turn until one answers.
    let stream = match first_that_works(&addrs, TcpStream::connect) {
        Ok(stream) => stream,
        Err(e) if fault!("os-error-number") => {
            // Rust's Display of the error: `Connection refused (os error 111)`.
            eprintln!("{PROGRAM}: {server}: {e}");
            return ExitCode::from(ipc_common::ERROR_STATUS);
        }
        Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
    };

    // Why two threads: if one thread wrote all of stdin before reading, the
    // server's echo would fill our receive buffer, the server would block
    // writing, stop reading, and our writes would block too: a deadlock once
    // the data outgrows the buffers. Here a thread sends while main receives.
    let mut sending = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => return fail(PROGRAM, "dup", ipc_common::os_reason(&e)),
    };
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        if fault!("adds-newline") {
            // Line by line, each sent with a newline: a last line without one gains it.
            for line in std::io::stdin().lock().lines() {
                writeln!(sending, "{}", line?)?;
            }
        } else {
            send(&mut sending)?;
        }
        // shutdown(2) SHUT_WR: the server reads end of file, yet we can still
        // read its echo. (close would end both directions.)
        sending.shutdown(if fault!("close-not-shutdown") { Shutdown::Both } else { Shutdown::Write })
    });
    // Fault `write-then-read`: sends all of stdin before reading any echo.
    while fault!("write-then-read") && !sender.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }

    if let Err(e) = receive(&stream) {
        return fail(PROGRAM, "recv", ipc_common::os_reason(&e));
    }
    // The server closed. Normally the sender finished long ago; if it still
    // waits for stdin, the server ended early and there is nothing to wait for.
    if sender.is_finished() {
        match sender.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return fail(PROGRAM, "send", ipc_common::os_reason(&e)),
            Err(_) => return fail(PROGRAM, "send", "the sending thread panicked"),
        }
    }
    ExitCode::SUCCESS
}

/// Copies stdin to the connection in pieces of up to `STREAM_BUFFER` bytes:
/// one read(2), then one send(2) for most pieces. (`io::copy` would read
/// and send in 8 KiB pieces, through Stdin's buffer or its own.)
fn send(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut input = ipc_common::raw_stdin()?;
    let mut buf = vec![0u8; sockets::STREAM_BUFFER];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => stream.write_all(&buf[..n])?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Copies the connection to stdout until the server closes it (read returns 0).
/// Unbuffered: each chunk goes out in one `write` as soon as it arrives.
fn receive(mut stream: &TcpStream) -> std::io::Result<()> {
    let mut out = ipc_common::raw_stdout()?;
    let mut buf = vec![0u8; sockets::STREAM_BUFFER];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&buf[..n])?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
