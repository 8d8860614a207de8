//! The TCP side: accept connections, parse what they send, run it, write the replies back.
//!
//! ```text
//!  single mode (Redis's model)               shared mode
//!  conn task ─┐  batch of argv              conn task ──lock──┐
//!  conn task ─┼──────────► executor thread  conn task ──lock──┼─► Mutex<Db>
//!  conn task ─┘ ◄──────── encoded replies   conn task ──lock──┘
//!               (owns Db, no lock)
//! ```
//!
//! Each connection task reads what the socket has, parses *every* complete command in it (a
//! pipeline), has them executed in order, and writes all the replies with one write. In `single`
//! mode the batch goes to the executor over a channel and the executor runs commands from all
//! clients one after the other, like Redis's main thread; in `shared` mode the task runs each command
//! itself while holding the keyspace's mutex. A protocol error gets Redis's reply and closes that
//! connection; nothing one client sends can stop the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Mode};
use crate::resp::Parser;

/// Commands parsed from one read, with the channel their encoded replies go back on.
type Batch = (Vec<Vec<Vec<u8>>>, oneshot::Sender<Vec<u8>>);

/// Where commands are executed.
#[derive(Debug, Clone)]
enum Executor {
    Single(mpsc::UnboundedSender<Batch>),
    Shared(Arc<Mutex<Db>>),
}

impl Executor {
    /// Runs a batch in order and returns the concatenated replies, `None` if the executor is gone.
    async fn run(&self, batch: Vec<Vec<Vec<u8>>>) -> Option<Vec<u8>> {
        match self {
            Executor::Single(tx) => {
                let (reply_tx, reply_rx) = oneshot::channel();
                tx.send((batch, reply_tx)).ok()?;
                reply_rx.await.ok()
            }
            Executor::Shared(db) => {
                let mut out = Vec::new();
                for argv in &batch {
                    // One command at a time under the lock, so other clients interleave between
                    // commands as they do in single mode.
                    let reply = db.lock().execute(argv);
                    reply.encode_resp2(&mut out);
                }
                Some(out)
            }
        }
    }
}

/// The single executor: owns the keyspace, runs every batch from every client in arrival order.
fn executor_loop(mut db: Db, mut rx: mpsc::UnboundedReceiver<Batch>) {
    while let Some((batch, reply)) = rx.blocking_recv() {
        let mut out = Vec::new();
        for argv in &batch {
            db.execute(argv).encode_resp2(&mut out);
        }
        let _ = reply.send(out);
    }
}

/// Binds `addr` and serves until the returned future is dropped.
pub async fn serve(listener: TcpListener, mode: Mode) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    let db = Db::new(mode, port);
    let clients = Arc::clone(&db.clients);
    let connections = db.connections_counter();
    let executor = match mode {
        Mode::Single => {
            let (tx, rx) = mpsc::unbounded_channel();
            std::thread::Builder::new()
                .name("respd-executor".into())
                .spawn(move || executor_loop(db, rx))?;
            Executor::Single(tx)
        }
        Mode::Shared => Executor::Shared(Arc::new(Mutex::new(db))),
    };
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            // Out of file descriptors and the like: keep serving the clients we have.
            Err(_) => continue,
        };
        let executor = executor.clone();
        let clients = Arc::clone(&clients);
        connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            clients.fetch_add(1, Ordering::Relaxed);
            let _ = connection(stream, executor).await;
            clients.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// One client: read, parse every complete command, execute them in order, write the replies once.
async fn connection(mut stream: TcpStream, executor: Executor) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut parser = Parser::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        parser.feed(&buf[..n]);
        let mut batch = Vec::new();
        let mut failure = None;
        let mut quit = false;
        loop {
            match parser.next_command() {
                Ok(Some(argv)) => {
                    quit = argv[0].eq_ignore_ascii_case(b"QUIT");
                    batch.push(argv);
                    if quit {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let mut out = if batch.is_empty() {
            Vec::new()
        } else {
            match executor.run(batch).await {
                Some(out) => out,
                None => return Ok(()),
            }
        };
        if let Some(e) = &failure {
            out.extend_from_slice(&e.reply_line());
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
        if failure.is_some() || quit {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// A server running on its own runtime in the background, for tests, demos and benchmarks.
/// Dropping it stops accepting and closes the runtime.
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    mode: Mode,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Handle {
    /// Starts a server on `127.0.0.1:port` (0: any free port) with `workers` runtime threads.
    pub fn start(mode: Mode, port: u16, workers: usize) -> std::io::Result<Handle> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("respd-io")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(("127.0.0.1", port)))?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            let _ = serve(listener, mode).await;
        });
        Ok(Handle {
            addr,
            mode,
            runtime: Some(runtime),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `redis://127.0.0.1:<port>/`, for the `redis` crate.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
