//! The TCP side: accept connections, parse what they send, run it, write the replies back.
//!
//! ```text
//!  single mode (Redis's model)                 shared mode
//!  ┌ one thread: tokio current_thread ──────┐  conn task (worker 1) ─lock─┐
//!  │ epoll ─► each ready conn: read, parse, │  conn task (worker 2) ─lock─┼─► Mutex<Db>
//!  │          run ─► then each writes       │  conn task (worker 1) ─lock─┘
//!  │ owns the Db (Rc<RefCell>, no lock)     │  (one lock per batch)
//!  └────────────────────────────────────────┘
//! ```
//!
//! Each connection task reads what the socket has, runs *every* complete command in it (a
//! pipeline) in order with [`run_batch`], lets the other ready connections do the same, and then
//! writes all its replies with one write: one read, one batch, one write, as Redis's
//! `readQueryFromClient` → `processInputBuffer` → reply buffer → `beforeSleep`. In
//! `single` mode every connection task runs on one thread, which owns the keyspace: that thread
//! reads, parses, executes and writes for every client, like Redis's main thread, and a batch never
//! waits for another thread. In `shared` mode the tasks run on a multi-threaded runtime and take
//! the keyspace's mutex once per batch. Either way the commands of one batch run back to back, and
//! other clients' batches come before or after, never in between (Redis also drains a client's
//! query buffer before it moves to the next client). A protocol error gets Redis's reply and closes
//! that connection; nothing one client sends can stop the others.
//!
//! (Before issue 6, `single` mode sent each batch from its I/O task to an executor thread over a
//! channel and got the replies back over a oneshot, two thread wake-ups per batch; with the
//! allocations also gone, SET and GET went from about half of Redis's rate with `-P 16` to above
//! it. redis-04's page has the table.)

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::db::{Db, Mode};
use crate::reply::Client;
use crate::resp::{KEEP_CAPACITY, Parser};

/// How a connection gets the keyspace to itself for one batch.
trait Keyspace: Clone + 'static {
    fn with<R>(&self, f: impl FnOnce(&mut Db) -> R) -> R;
}

/// `single` mode: the event-loop thread owns the keyspace. Tasks on that thread take turns and no
/// task holds the borrow across an `.await`, so the `RefCell` never finds it taken.
#[derive(Clone)]
struct Owned(Rc<RefCell<Db>>);

impl Keyspace for Owned {
    fn with<R>(&self, f: impl FnOnce(&mut Db) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

/// `shared` mode: tasks on any worker thread lock the keyspace for one batch. A `parking_lot`
/// mutex and not tokio's: the critical section never awaits, so nothing is gained by an async lock.
#[derive(Clone)]
struct Locked(Arc<Mutex<Db>>);

impl Keyspace for Locked {
    fn with<R>(&self, f: impl FnOnce(&mut Db) -> R) -> R {
        f(&mut self.0.lock())
    }
}

/// Runs every complete command the parser holds, in order, appending the replies to
/// `client.out`. True when the connection must close afterwards (`QUIT`, or a protocol error,
/// whose reply is appended after the replies of the commands before it).
pub fn run_batch(db: &mut Db, parser: &mut Parser, client: &mut Client) -> bool {
    db.note_executor_thread();
    let mut clock = Instant::now();
    loop {
        match parser.next_argv() {
            Ok(Some(argv)) => {
                let quit = argv[0].eq_ignore_ascii_case(b"QUIT");
                clock = db.execute_timed(client, argv, clock);
                if quit {
                    return true;
                }
            }
            Ok(None) => return false,
            Err(e) => {
                client.out.extend_from_slice(&e.reply_line());
                return true;
            }
        }
    }
}

/// One client: read, run the batch, write the replies once; until EOF, `QUIT` or a protocol error.
async fn connection<K: Keyspace>(
    mut stream: TcpStream,
    keyspace: K,
    id: u64,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut parser = Parser::new();
    let mut client = Client::new(id);
    loop {
        if stream.read_buf(parser.read_buf()).await? == 0 {
            return Ok(());
        }
        let close = keyspace.with(|db| run_batch(db, &mut parser, &mut client));
        // Redis writes replies in `beforeSleep`, after it has read and run the commands of every
        // client epoll reported ready. Yielding here does the same: tokio runs this task again only
        // after every other ready task has run its batch and the I/O driver has been polled, so
        // the replies go out back to back and the client gets them in bursts. In A/B runs of
        // `single` mode with `-P 16` this took ZADD from 0.75-0.89x to 0.99-1.02x of Redis's rate
        // (redis-04's page); no measurable effect in `shared` mode.
        tokio::task::yield_now().await;
        if !client.out.is_empty() {
            stream.write_all(&client.out).await?;
            client.out.clear();
            if client.out.capacity() > KEEP_CAPACITY {
                client.out = Vec::new();
            }
        }
        if close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// The server's `hz` timer (Redis's `serverCron`): each tick takes the keyspace like a batch,
/// refreshes the LRU/LFU clocks and runs the active expire cycle, then waits `1000/hz` ms (read
/// again every tick, so `CONFIG SET hz` takes effect at the next one). Ends with the runtime.
async fn cron<K: Keyspace>(keyspace: K) {
    loop {
        let interval = keyspace.with(Db::cron);
        tokio::time::sleep(interval).await;
    }
}

/// Connection counters shared by the accept loop, the connection tasks and `INFO`.
#[derive(Clone)]
struct Counters {
    /// `connected_clients`.
    clients: Arc<AtomicUsize>,
    /// `total_connections_received`; also the next client id.
    total: Arc<AtomicUsize>,
}

impl Counters {
    fn of(db: &Db) -> Self {
        Counters {
            clients: Arc::clone(&db.clients),
            total: db.connections_counter(),
        }
    }

    /// Counts a new connection and returns its id.
    fn open(&self) -> u64 {
        self.clients.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed) as u64 + 1
    }

    fn close(&self) {
        self.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts forever, handing each connection and its id to `spawn`.
async fn accept_loop(listener: TcpListener, counters: Counters, spawn: impl Fn(TcpStream, u64)) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => spawn(stream, counters.open()),
            // Out of file descriptors and the like: keep serving the clients we have, and back
            // off a little rather than spin on a listener that fails at once.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// `single` mode on the calling thread: a current-thread runtime whose one thread accepts, reads,
/// parses, executes and writes for every client. Returns when `stop` fires or its sender is dropped.
fn run_single(listener: std::net::TcpListener, stop: oneshot::Receiver<()>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = TcpListener::from_std(listener)?;
        let db = Db::new(Mode::Single, listener.local_addr()?.port());
        let counters = Counters::of(&db);
        let keyspace = Owned(Rc::new(RefCell::new(db)));
        tokio::task::spawn_local(cron(keyspace.clone()));
        let spawn = |stream, id| {
            let (keyspace, counters) = (keyspace.clone(), counters.clone());
            tokio::task::spawn_local(async move {
                let _ = connection(stream, keyspace, id).await;
                counters.close();
            });
        };
        tokio::select! {
            () = accept_loop(listener, counters.clone(), spawn) => {}
            _ = stop => {}
        }
        Ok(())
    })
}

/// Serves on `listener` until the returned future is dropped.
///
/// In `single` mode the listener moves to a new thread that runs the whole server (see the module
/// docs); this future only waits, and dropping it stops that thread. In `shared` mode the
/// connections are tasks on the caller's runtime.
pub async fn serve(listener: TcpListener, mode: Mode) -> std::io::Result<()> {
    match mode {
        Mode::Single => {
            let listener = listener.into_std()?;
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel();
            std::thread::Builder::new()
                .name("respd-main".into())
                .spawn(move || {
                    let _ = done_tx.send(run_single(listener, stop_rx));
                })?;
            // Held until this future ends or is dropped; then the event loop stops.
            let _stop = stop_tx;
            done_rx.await.unwrap_or(Ok(()))
        }
        Mode::Shared => {
            let db = Db::new(mode, listener.local_addr()?.port());
            let counters = Counters::of(&db);
            let keyspace = Locked(Arc::new(Mutex::new(db)));
            let timer = tokio::spawn(cron(keyspace.clone()));
            let _stop_timer = AbortOnDrop(timer);
            let spawn = |stream, id| {
                let (keyspace, counters) = (keyspace.clone(), counters.clone());
                tokio::spawn(async move {
                    let _ = connection(stream, keyspace, id).await;
                    counters.close();
                });
            };
            accept_loop(listener, counters.clone(), spawn).await;
            Ok(())
        }
    }
}

/// Aborts a task when dropped, so the shared-mode timer stops with its server.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves on `127.0.0.1:port` until the process is stopped (`lab serve`). `single` runs on this
/// thread alone; `shared` on a multi-threaded runtime with one worker per CPU.
pub fn serve_forever(port: u16, mode: Mode) -> std::io::Result<()> {
    match mode {
        Mode::Single => {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
            listener.set_nonblocking(true)?;
            let (_never, stop) = oneshot::channel();
            run_single(listener, stop)
        }
        Mode::Shared => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(async {
                let listener = TcpListener::bind(("127.0.0.1", port)).await?;
                serve(listener, mode).await
            }),
    }
}

/// A server running on its own runtime in the background, for tests, demos and benchmarks.
/// Dropping it stops accepting and closes the runtime (and, in `single` mode, the server's thread).
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    mode: Mode,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Handle {
    /// Starts a server on `127.0.0.1:port` (0: any free port). `shared` mode runs its connections
    /// on `workers` runtime threads; `single` mode always on one thread of its own.
    pub fn start(mode: Mode, port: u16, workers: usize) -> std::io::Result<Handle> {
        let workers = match mode {
            Mode::Single => 1,
            Mode::Shared => workers.max(1),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
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
