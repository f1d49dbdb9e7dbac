//! `tcp-server` with faults (see broken/faults/sockets.toml).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use ipc_broken::fault;
use ipc_common::fail;
use nix::sys::signal::{SigHandler, Signal, signal};

use ipc_reference::sockets::{first_that_works, on_termination, print_listening, resolve};

const PROGRAM: &str = "tcp-server";
const USAGE: &str = "tcp-server [--host HOST] PORT";

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    port: u16,
}

fn main() -> ExitCode {
    let args = match ipc_common::parse_args::<Args>(USAGE) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let pipe = if fault("sigpipe-default") { SigHandler::SigDfl } else { SigHandler::SigIgn };
    // SAFETY: SIG_IGN and SIG_DFL install no handler code.
    if let Err(e) = unsafe { signal(Signal::SIGPIPE, pipe) } {
        return fail(PROGRAM, "signal", e);
    }
    if !fault("waits-for-clients") {
        if let Err(e) = on_termination(|_| std::process::exit(0)) {
            return fail(PROGRAM, "sigprocmask", e);
        }
    }
    let host = if fault("ipv4-only") { "127.0.0.1".to_string() } else { args.host };
    let addrs = match resolve(&host, args.port) {
        Ok(addrs) => addrs,
        Err(e) => return fail(PROGRAM, &host, ipc_common::os_reason(&e)),
    };
    let listener = match first_that_works(&addrs, TcpListener::bind) {
        Ok(listener) => listener,
        Err(e) => return fail(PROGRAM, "bind", ipc_common::os_reason(&e)),
    };
    let local = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => return fail(PROGRAM, "getsockname", ipc_common::os_reason(&e)),
    };
    let shown = if fault("print-port-zero") { addrs[0] } else { local };
    if let Err(e) = print_listening(shown) {
        return fail(PROGRAM, "stdout", ipc_common::os_reason(&e));
    }
    if fault("waits-for-clients") {
        // SIGTERM sets a flag; the server finishes its clients before exiting.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let workers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let list = workers.clone();
        let _ = on_termination(move |_| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            let handles: Vec<std::thread::JoinHandle<()>> = std::mem::take(&mut *list.lock().unwrap());
            for h in handles {
                let _ = h.join();
            }
            std::process::exit(0)
        });
        loop {
            if let Ok((stream, peer)) = listener.accept() {
                say(&format!("connection from {peer}"));
                workers.lock().unwrap().push(std::thread::spawn(move || serve(stream, peer)));
            }
        }
    }
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                say(&format!("connection from {peer}"));
                if fault("sequential") {
                    serve(stream, peer);
                } else {
                    std::thread::spawn(move || serve(stream, peer));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {}
            Err(e) => return fail(PROGRAM, "accept", ipc_common::os_reason(&e)),
        }
    }
}

fn serve(mut stream: TcpStream, peer: SocketAddr) {
    if let Err(e) = echo(&mut stream) {
        eprintln!("{PROGRAM}: {peer}: {}", ipc_common::os_reason(&e));
        if fault("exit-on-error") {
            std::process::exit(1);
        }
    }
    drop(stream);
    if !fault("no-closed-line") {
        say(&format!("connection closed {peer}"));
    }
}

fn echo(stream: &mut TcpStream) -> std::io::Result<()> {
    if fault("fixed-buffer") {
        // Reads into a fixed 16 MiB buffer until end of file, then echoes it:
        // once the buffer is full, read gets an empty slice and returns 0.
        let mut buf = vec![0u8; 16 << 20];
        let mut len = 0;
        loop {
            match stream.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        return stream.write_all(&buf[..len]);
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if fault("sigpipe-default") {
            // Like C's `while ((n = read(...)) > 0) write(...);`: the write's
            // result is ignored, so the loop writes again after a reset.
            // write(2), not std's send(MSG_NOSIGNAL): as a C program would.
            let mut rest = &buf[..n];
            while let Ok(w) = nix::unistd::write(&*stream, rest) {
                if w == 0 {
                    break;
                }
                rest = &rest[w..];
            }
        } else {
            stream.write_all(&buf[..n])?;
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
