//! The demos of go-25 (what the context package is for), registered in [`crate::topic`]. The Go
//! side is `go/cmd/go25-context`; both fill the same [`ContextReport`].

use std::time::{Duration, Instant};

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use crate::context::{Context, CtxError};
use crate::tasks::Tasks;

/// What the context scenarios observed; errors as their text, "" for none (Go's JSON fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ContextReport {
    pub child_cancel_parent_err: String,
    pub child_cancel_sibling_err: String,
    pub child_cancel_grandchild_err: String,
    pub parent_cancel_sibling_err: String,
    pub root_err_after_all: String,
    pub late_child_gets_parent_deadline: bool,
    pub early_child_keeps_own_deadline: bool,
    pub deadline_err: String,
    pub deadline_cause: String,
    pub inherited_deadline_err: String,
    pub cause_err: String,
    pub cause: String,
    pub child_cause: String,
    pub plain_cancel_cause: String,
    pub born_done_err: String,
    pub value_through_cancel: i64,
    pub value_shadowed: i64,
    pub value_at_root_found: bool,
}

fn text(e: Option<CtxError>) -> String {
    e.map(|e| e.to_string()).unwrap_or_default()
}

/// Runs the same steps as the Go program on [`Context`].
pub fn observe() -> ContextReport {
    let root = Context::background();
    let (parent, cancel_parent) = Context::with_cancel(&root);
    let (child, cancel_child) = Context::with_cancel(&parent);
    let (grandchild, _) = Context::with_cancel(&child);
    let (sibling, _) = Context::with_cancel(&parent);
    cancel_child.cancel();
    let child_cancel_parent_err = text(parent.err());
    let child_cancel_sibling_err = text(sibling.err());
    let child_cancel_grandchild_err = text(grandchild.err());
    cancel_parent.cancel();

    let now = Instant::now();
    let (dl, _) = Context::with_deadline(&root, now + Duration::from_millis(20));
    let (late, _) = Context::with_deadline(&dl, now + Duration::from_secs(3600));
    let (early, _) = Context::with_deadline(&dl, now + Duration::from_millis(1));
    let _ = late.wait_timeout(Duration::from_secs(10));

    let (cc, cancel_cause) = Context::with_cancel_cause(&root);
    let (cc_child, _) = Context::with_cancel(&cc);
    cancel_cause.cancel("shutting down");
    let (born, _) = Context::with_cancel(&cc);

    let v = Context::with_value(&root, "user", 7_i64);
    let (vc, _) = Context::with_cancel(&v);
    let shadow = Context::with_value(&vc, "user", 9_i64);

    ContextReport {
        child_cancel_parent_err,
        child_cancel_sibling_err,
        child_cancel_grandchild_err,
        parent_cancel_sibling_err: text(sibling.err()),
        root_err_after_all: text(root.err()),
        late_child_gets_parent_deadline: late.deadline() == dl.deadline(),
        early_child_keeps_own_deadline: early.deadline() == Some(now + Duration::from_millis(1)),
        deadline_err: text(dl.err()),
        deadline_cause: dl.cause().unwrap_or_default(),
        inherited_deadline_err: text(late.err()),
        cause_err: text(cc.err()),
        cause: cc.cause().unwrap_or_default(),
        child_cause: cc_child.cause().unwrap_or_default(),
        plain_cancel_cause: child.cause().unwrap_or_default(),
        born_done_err: text(born.err()),
        value_through_cancel: vc.value::<i64>("user").unwrap_or(0),
        value_shadowed: shadow.value::<i64>("user").unwrap_or(0),
        value_at_root_found: root.value::<i64>("user").is_some(),
    }
}

/// The go-25 rules, one broken rule per entry.
pub fn broken_rules(r: &ContextReport) -> Vec<String> {
    let canceled = CtxError::Canceled.to_string();
    let exceeded = CtxError::DeadlineExceeded.to_string();
    let mut b = Vec::new();
    let mut rule = |ok: bool, what: &str| {
        if !ok {
            b.push(what.to_string());
        }
    };
    rule(
        r.child_cancel_parent_err.is_empty() && r.child_cancel_sibling_err.is_empty(),
        "a child's cancel reached its parent or sibling",
    );
    rule(
        r.child_cancel_grandchild_err == canceled,
        "a cancel did not reach the grandchild",
    );
    rule(
        r.parent_cancel_sibling_err == canceled,
        "a parent's cancel did not reach a child",
    );
    rule(r.root_err_after_all.is_empty(), "the root ended");
    rule(
        r.late_child_gets_parent_deadline && r.early_child_keeps_own_deadline,
        "the earlier deadline did not win",
    );
    rule(
        r.deadline_err == exceeded
            && r.inherited_deadline_err == exceeded
            && r.deadline_cause == exceeded,
        "a passed deadline did not end the context with DeadlineExceeded",
    );
    rule(
        r.cause_err == canceled && r.cause == "shutting down" && r.child_cause == r.cause,
        "the custom cause was lost (or did not reach the child)",
    );
    rule(
        r.plain_cancel_cause == canceled,
        "Cause without a cause is not Err's text",
    );
    rule(
        r.born_done_err == canceled,
        "a child of an ended context started alive",
    );
    rule(
        r.value_through_cancel == 7 && r.value_shadowed == 9 && !r.value_at_root_found,
        "value lookup did not walk up the tree (or walked down)",
    );
    b
}

pub const TREE: Demo = Demo {
    name: "go-25/cancel-flows-down-the-tree-not-up",
    claim: "Cancelling a context ends its subtree — a thread blocked in wait_timeout and a tokio \
            task awaiting done() both wake with Canceled — while its parent and siblings run on",
    needs: Need::Nothing,
    run: tree,
};

fn tree(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let tasks = Tasks::new();
    let before = tasks.baseline();
    let root = Context::background();
    let (request, cancel_request) = Context::with_cancel(&root);
    let (db, _) = Context::with_cancel(&request);
    let (cache, cancel_cache) = Context::with_cancel(&request);
    let db2 = db.clone();
    let thread = tasks.spawn("db-query", move || {
        db2.wait_timeout(Duration::from_secs(10))
    });
    let cache2 = cache.clone();
    let cache_woke = ctx.block_on(async {
        let task = tasks.spawn_tokio("cache-fill", async move { cache2.done().await });
        cancel_cache.cancel();
        task.await.ok()
    });
    ctx.say(format!(
        "cancel(cache): cache task woke with {cache_woke:?}; request {:?}, db {:?}",
        request.err(),
        db.err()
    ));
    check_eq!(
        cache_woke,
        Some(CtxError::Canceled),
        "the tokio task's wake-up"
    );
    check!(
        request.err().is_none() && db.err().is_none(),
        "a child's cancel spread upward or sideways"
    );
    cancel_request.cancel();
    let db_woke = thread.join().ok().flatten();
    ctx.say(format!(
        "cancel(request): db thread woke with {db_woke:?}; root {:?}",
        root.err()
    ));
    check_eq!(db_woke, Some(CtxError::Canceled), "the thread's wake-up");
    check!(root.err().is_none(), "the root was cancelled");
    tasks
        .check_leaks(&before, Duration::from_secs(5))
        .map_err(|l| DemoError::Claim(l.to_string()))?;
    Ok(())
}

pub const RULES: Demo = Demo {
    name: "go-25/deadlines-causes-and-values",
    claim: "The earlier deadline wins and ends the context with DeadlineExceeded; a cancel cause \
            is kept and inherited; Cause falls back to Err's text; values are found up the tree; \
            a child of an ended context is born ended",
    needs: Need::Nothing,
    run: rules,
};

fn report_lines(r: &ContextReport) -> Vec<String> {
    vec![
        format!(
            "deadline: late child takes parent's: {}, early child keeps its own: {}; after it: err {:?}, cause {:?}, child {:?}",
            r.late_child_gets_parent_deadline,
            r.early_child_keeps_own_deadline,
            r.deadline_err,
            r.deadline_cause,
            r.inherited_deadline_err
        ),
        format!(
            "cancel cause: err {:?}, cause {:?}, child's cause {:?}; plain cancel's cause {:?}; born under it: {:?}",
            r.cause_err, r.cause, r.child_cause, r.plain_cancel_cause, r.born_done_err
        ),
        format!(
            "values: through a cancel node {}, shadowed {}, found at the root: {}",
            r.value_through_cancel, r.value_shadowed, r.value_at_root_found
        ),
    ]
}

fn rules(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let r = observe();
    for l in report_lines(&r) {
        ctx.say(l);
    }
    let b = broken_rules(&r);
    check!(b.is_empty(), "{}", b.join("; "));
    Ok(())
}

pub const GO_CONTEXT: Demo = Demo {
    name: "go-25/go-agrees-on-context",
    claim: "Go's context package (WithCancel, WithDeadline, WithCancelCause, WithValue, Cause) \
            gives exactly the errors, causes, deadlines and values the Rust Context gives",
    needs: Need::Go,
    run: go_context,
};

#[derive(Debug, Clone, serde::Deserialize)]
struct GoContext {
    go_version: String,
    #[serde(flatten)]
    report: ContextReport,
}

fn go_context(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let g: GoContext = go.run_json("cmd/go25-context", &[])?;
    let rust = observe();
    ctx.say(format!("{}:", g.go_version));
    for l in report_lines(&g.report) {
        ctx.say(format!("  {l}"));
    }
    let b = broken_rules(&g.report);
    check!(b.is_empty(), "Go: {}", b.join("; "));
    check_eq!(rust, g.report, "every observation, Rust vs Go");
    ctx.say("Rust: every observation equal");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_context_keeps_every_rule() {
        assert_eq!(broken_rules(&observe()), Vec::<String>::new());
    }

    #[test]
    fn an_upward_cancel_breaks_a_rule() {
        let mut r = observe();
        r.child_cancel_parent_err = "context canceled".into();
        assert_eq!(broken_rules(&r).len(), 1);
    }
}
