//! `tcp-client` with faults (see broken/faults/sockets.toml).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::fail;

use ipc_reference::sockets::{first_that_works, resolve};

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
    let addrs = if fault("no-getaddrinfo") {
        match args.host.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, args.port)],
            Err(e) => return fail(PROGRAM, &server, e),
        }
    } else {
        match resolve(&args.host, args.port) {
            Ok(addrs) => addrs,
            Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
        }
    };
    let stream = match first_that_works(&addrs, TcpStream::connect) {
        Ok(stream) => stream,
        // Rust's Display: "Connection refused (os error 111)".
        Err(e) if fault("os-error-number") => {
            eprintln!("{PROGRAM}: {server}: {e}");
            return ExitCode::from(1);
        }
        Err(e) => return fail(PROGRAM, &server, ipc_common::os_reason(&e)),
    };
    if fault("write-then-read") {
        let mut s = &stream;
        if std::io::copy(&mut std::io::stdin().lock(), &mut s).is_err() {
            return ExitCode::from(1);
        }
        let _ = stream.shutdown(Shutdown::Write);
        return match receive(&stream) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        };
    }
    let mut sending = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => return fail(PROGRAM, "dup", ipc_common::os_reason(&e)),
    };
    let close_instead = fault("close-not-shutdown");
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        if fault("adds-newline") {
            // Line by line, each written back with a newline: a last line
            // without one gains it.
            for line in std::io::BufRead::lines(std::io::stdin().lock()) {
                writeln!(sending, "{}", line?)?;
            }
        } else {
            std::io::copy(&mut std::io::stdin().lock(), &mut sending)?;
        }
        if close_instead {
            // Ends both directions: the rest of the echo is lost.
            return sending.shutdown(Shutdown::Both);
        }
        sending.shutdown(Shutdown::Write)
    });
    let _ = receive(&stream);
    if sender.is_finished() {
        let _ = sender.join();
    }
    ExitCode::SUCCESS
}

fn receive(mut stream: &TcpStream) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out.flush(),
            Ok(n) => {
                out.write_all(&buf[..n])?;
                out.flush()?;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
