//! The plumbing every demo shares: a transcript of what was sent and answered, and a named client
//! (one connection = one simulated user) whose every call is printed and bounded by a timeout.
//!
//! ```text
//!   A> UPDATE mysql_02_accounts SET balance = balance - 30 WHERE id = 1  -> 1 row affected
//!   B> SELECT id, balance FROM mysql_02_accounts ORDER BY id  -> [(1, 100), (2, 100)]
//!   A> INSERT INTO mysql_02_items VALUES (1, ..), (3, ..)  -> ERROR 1062 (23000): Duplicate entry ..
//! ```

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use catalog::{Ctx, DemoError, Probe};
use servers::mysql_async::prelude::*;
use servers::mysql_async::{self, Conn};
use servers::{MysqlInfo, MysqlLab, ServerError, timed};

/// What a demo printed, kept until its async part is over.
///
/// `Ctx::say` needs `&mut Ctx`, but the async part runs inside `ctx.block_on`, which holds `&Ctx`
/// (and hands it to `ctx.mysql()`). So lines are collected here and replayed afterwards, also when
/// the demo fails midway, so the output shows how far it got. A `RefCell` rather than `&mut`
/// because two clients print while their statements race (the deadlock demo); no borrow is held
/// across an `.await`.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    lines: RefCell<Vec<String>>,
}

impl Transcript {
    pub(crate) fn say(&self, line: impl Into<String>) {
        self.lines.borrow_mut().push(line.into());
    }

    fn replay(self, ctx: &mut Ctx<'_>) {
        for line in self.lines.into_inner() {
            ctx.say(line);
        }
    }
}

/// Runs the async `script` of a demo on the lab's runtime (inside `ctx.block_on`), with the
/// server's description at hand, then prints what it said.
pub(crate) fn on_mysql<S>(ctx: &mut Ctx<'_>, script: S) -> Result<(), DemoError>
where
    S: AsyncFnOnce(&Ctx<'_>, &MysqlInfo, &Transcript) -> Result<(), DemoError>,
{
    // The probe is cached by the runner's availability check; asking here, outside `block_on`,
    // keeps it that way even if it was not.
    let info = match ctx.env().mysql_probe() {
        Probe::Up(info) => info.clone(),
        Probe::Down(why) => return Err(DemoError::Unavailable(why.clone())),
    };
    let out = Transcript::default();
    out.say(format!(
        "server: {} {} (default isolation {})",
        info.flavor, info.version, info.isolation
    ));
    let verdict = ctx.block_on(script(ctx, &info, &out));
    out.replay(ctx);
    verdict
}

/// A server error the demo provoked on purpose (or at least expected might come).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: u16,
    /// The SQLSTATE, e.g. `23000` for an integrity constraint violation.
    pub(crate) state: String,
    pub(crate) message: String,
}

/// One simulated user: a connection of its own, a name to print, and every call timed.
#[derive(Debug)]
pub(crate) struct Client {
    name: &'static str,
    conn: Conn,
}

impl Client {
    /// Opens a new connection (a new session) to database `lab`.
    pub(crate) async fn open(
        db: &MysqlLab,
        name: &'static str,
        out: &Transcript,
    ) -> Result<Client, ServerError> {
        let conn = db.conn().await?;
        out.say(format!("{name}: new session, connection id {}", conn.id()));
        Ok(Client { name, conn })
    }

    /// The server's id for this session (`CONNECTION_ID()`).
    pub(crate) fn id(&self) -> u32 {
        self.conn.id()
    }

    /// Runs a statement that must succeed; returns the rows it affected.
    pub(crate) async fn exec(&mut self, out: &Transcript, sql: &str) -> Result<u64, ServerError> {
        timed(sql, self.conn.query_drop(sql)).await?;
        let n = self.conn.affected_rows();
        out.say(format!("{}> {sql}  -> {}", self.name, affected(n)));
        Ok(n)
    }

    /// Runs a statement the server may refuse: a server error comes back as `Ok(Err(refusal))`,
    /// anything else (a timeout, a lost connection) as `Err`.
    pub(crate) async fn attempt(
        &mut self,
        out: &Transcript,
        sql: &str,
    ) -> Result<Result<u64, Refusal>, ServerError> {
        let result = refusal_or_fault(timed(sql, self.conn.query_drop(sql)).await)?;
        let result = result.map(|()| self.conn.affected_rows());
        match &result {
            Ok(n) => out.say(format!("{}> {sql}  -> {}", self.name, affected(*n))),
            Err(r) => out.say(format!("{}> {sql}  -> {r}", self.name)),
        }
        Ok(result)
    }

    /// Runs a one-row query the server may refuse (for example for lack of a privilege).
    pub(crate) async fn try_one<T>(
        &mut self,
        out: &Transcript,
        sql: &str,
    ) -> Result<Result<T, Refusal>, DemoError>
    where
        T: FromRow + Debug + Send + 'static,
    {
        self.try_one_shown(out, sql, |row| format!("{row:?}")).await
    }

    /// [`Client::try_one`] for a row too long to print: `show` says what to print instead.
    pub(crate) async fn try_one_shown<T>(
        &mut self,
        out: &Transcript,
        sql: &str,
        show: impl FnOnce(&T) -> String,
    ) -> Result<Result<T, Refusal>, DemoError>
    where
        T: FromRow + Send + 'static,
    {
        let row: Result<Option<T>, Refusal> =
            refusal_or_fault(timed(sql, self.conn.query_first(sql)).await)?;
        match row {
            Ok(Some(row)) => {
                out.say(format!("{}> {sql}  -> {}", self.name, show(&row)));
                Ok(Ok(row))
            }
            Ok(None) => {
                out.say(format!("{}> {sql}  -> no row", self.name));
                Err(DemoError::Broken(format!("`{sql}` returned no row")))
            }
            Err(r) => {
                out.say(format!("{}> {sql}  -> {r}", self.name));
                Ok(Err(r))
            }
        }
    }

    /// Runs a query and returns every row.
    pub(crate) async fn rows<T>(
        &mut self,
        out: &Transcript,
        sql: &str,
    ) -> Result<Vec<T>, ServerError>
    where
        T: FromRow + Debug + Send + 'static,
    {
        let rows: Vec<T> = timed(sql, self.conn.query(sql)).await?;
        out.say(format!("{}> {sql}  -> {rows:?}", self.name));
        Ok(rows)
    }

    /// Runs a query that returns exactly one row.
    pub(crate) async fn one<T>(&mut self, out: &Transcript, sql: &str) -> Result<T, DemoError>
    where
        T: FromRow + Debug + Send + 'static,
    {
        let row: Option<T> = timed(sql, self.conn.query_first(sql)).await?;
        let Some(row) = row else {
            out.say(format!("{}> {sql}  -> no row", self.name));
            return Err(DemoError::Broken(format!("`{sql}` returned no row")));
        };
        out.say(format!("{}> {sql}  -> {row:?}", self.name));
        Ok(row)
    }

    /// Ends the session politely (COM_QUIT); the server rolls back whatever it left open.
    pub(crate) async fn quit(self, out: &Transcript) -> Result<(), ServerError> {
        let (name, id) = (self.name, self.conn.id());
        timed("disconnect", self.conn.disconnect()).await?;
        out.say(format!("{name}: disconnected (connection id {id})"));
        Ok(())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ERROR {} ({}): {}", self.code, self.state, self.message)
    }
}

/// Splits a server's answer into "it refused" (an error packet) and "something else went wrong".
fn refusal_or_fault<T>(r: Result<T, ServerError>) -> Result<Result<T, Refusal>, ServerError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(ServerError::Mysql(mysql_async::Error::Server(e))) => Ok(Err(Refusal {
            code: e.code,
            state: e.state,
            message: e.message,
        })),
        Err(other) => Err(other),
    }
}

fn affected(n: u64) -> String {
    match n {
        0 => "ok".into(),
        1 => "1 row affected".into(),
        n => format!("{n} rows affected"),
    }
}

/// The refusal the demo expects, or a failed claim saying the statement went through.
pub(crate) fn refused(result: Result<u64, Refusal>, what: &str) -> Result<Refusal, DemoError> {
    match result {
        Err(refusal) => Ok(refusal),
        Ok(n) => Err(DemoError::Claim(format!(
            "{what} was expected to fail, but it succeeded ({})",
            affected(n)
        ))),
    }
}

/// Drives two futures at once on the current task and returns both results: both statements are
/// on the wire before either answer is awaited, which is what makes two clients race.
pub(crate) async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Waker};

    #[test]
    fn both_returns_both_results_in_argument_order() {
        let mut fut = pin!(both(async { 1 }, async { "two" }));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready((1, "two")));
    }

    #[test]
    fn both_waits_for_the_slower_future() {
        // The second future is pending on its first poll: `both` must not finish early.
        let mut polled = false;
        let slow = std::future::poll_fn(move |cx| {
            if polled {
                Poll::Ready(2)
            } else {
                polled = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        });
        let mut fut = pin!(both(async { 1 }, slow));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready((1, 2)));
    }

    #[test]
    fn a_success_is_not_the_refusal_a_demo_expects() {
        let err = refused(Ok(1), "the overdraft");
        assert!(matches!(err, Err(DemoError::Claim(m)) if m.contains("the overdraft")));
        let r = Refusal {
            code: 1062,
            state: "23000".into(),
            message: "dup".into(),
        };
        assert_eq!(refused(Err(r.clone()), "x"), Ok(r));
    }
}
