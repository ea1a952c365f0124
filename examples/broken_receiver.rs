//! A receiver with one deliberate bug, to see what the harness reports.
//!
//! ```sh
//! cargo run --example broken_receiver -- requires-usage 3001
//! webhook-harness fuzz --url http://127.0.0.1:3001/webhook --webhook-id AhALzdz8S \
//!   --effects-url 'http://127.0.0.1:3001/test/effects?key={key}'
//! ```
//!
//! `broken_receiver BUG [PORT] [--store FILE] [--workers N]`: the port
//! defaults to `$PORT`, then 3001 (0 picks a free one, said on the first
//! line). `--store FILE` keeps the effect counts in a SQLite file shared by
//! every process that opens it (without it they live in process memory);
//! `--workers N` runs N processes on the one port (`SO_REUSEPORT`, as
//! several workers of gunicorn or a Node cluster answer on one address),
//! each with its own memory.
//!
//! These are the receivers the project's own tests run the suite against.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::{Bug, Store, TestReceiver, WEBHOOK_ID};

const USAGE: &str = "usage: broken_receiver BUG [PORT] [--store FILE] [--workers N]";

struct Options {
    name: String,
    bug: Bug,
    port: u16,
    store: Option<PathBuf>,
    workers: usize,
    /// Set in the extra workers a first process starts.
    worker: bool,
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    std::process::exit(2);
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "none".into());
    let Some((_, bug)) = Bug::NAMED.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = Bug::NAMED.iter().map(|(n, _)| *n).collect();
        fail(&format!(
            "unknown bug `{name}`: expected one of {}",
            names.join(", ")
        ));
    };
    let port_of = |p: &str| {
        p.parse::<u16>()
            .unwrap_or_else(|_| fail("the port must be a number from 0 to 65535"))
    };
    let mut options = Options {
        name: name.clone(),
        bug: *bug,
        port: std::env::var("PORT").map_or(3001, |p| port_of(&p)),
        store: None,
        workers: 1,
        worker: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--store" => {
                let path = args.next().unwrap_or_else(|| fail("--store needs a file"));
                options.store = Some(PathBuf::from(path));
            }
            "--workers" => {
                options.workers = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=16).contains(n))
                    .unwrap_or_else(|| fail("--workers needs a number from 1 to 16"));
            }
            "--worker" => options.worker = true,
            port => options.port = port_of(port),
        }
    }
    options
}

/// A listener on 127.0.0.1:`port` that other processes may share.
fn shared_listener(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    socket.listen(1024)?;
    tokio::net::TcpListener::from_std(socket.into())
}

#[tokio::main]
async fn main() {
    let options = options();
    let store = match &options.store {
        Some(path) => Store::durable(path).unwrap_or_else(|e| {
            eprintln!("error: cannot open the store {}: {e}", path.display());
            std::process::exit(1);
        }),
        None => Store::default(),
    };
    let listener = if options.workers > 1 || options.worker {
        shared_listener(options.port)
    } else {
        tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await
    };
    let listener = listener.unwrap_or_else(|e| {
        eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", options.port);
        std::process::exit(1);
    });
    let receiver = TestReceiver::start_with(options.bug, listener, Arc::new(store));
    if options.worker {
        // An extra worker ends with the process that started it.
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets this process's own
        // signal on its parent's death.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) };
    } else {
        let port = receiver.server.addr().port().to_string();
        let mut workers = Vec::new();
        for _ in 1..options.workers {
            let mut command = std::process::Command::new(
                std::env::current_exe().unwrap_or_else(|_| fail("cannot find this program")),
            );
            command.args([options.name.as_str(), &port, "--worker"]);
            if let Some(store) = &options.store {
                command.arg("--store").arg(store);
            }
            match command.spawn() {
                Ok(child) => workers.push(child),
                Err(e) => fail(&format!("cannot start a worker: {e}")),
            }
        }
        println!(
            "Receiver with bug `{}` on {} ({} process{}, webhook id {WEBHOOK_ID})",
            options.name,
            receiver.url(),
            options.workers,
            if options.workers == 1 { "" } else { "es" }
        );
        println!("Effects probe: {}", receiver.effects_url());
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .unwrap_or_else(|_| fail("cannot wait for SIGTERM"));
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
