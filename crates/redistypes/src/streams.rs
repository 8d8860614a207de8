//! Streams: an append-only log with consumer groups, Redis's answer to "a queue that remembers".
//!
//! ```text
//!   orders: 1718000000000-0 {item: book}  1718000000001-0 {item: pen}  1718000000002-0 {item: ink}
//!                 │                               │                           │
//!   group shipping (last delivered id ──────────────────────────────────────► )
//!     alice: pending [book, pen]          bob: pending [ink]
//!     XACK book pen ink  → pending 0;  the entries stay in the stream (XLEN 3)
//! ```
//!
//! Unlike a list, reading does not remove: each group keeps its own cursor, each entry goes to one
//! consumer of the group, and stays *pending* (in the group's PEL) until that consumer `XACK`s it, so
//! a crashed consumer's work can be claimed by another.

use catalog::{Ctx, DemoError, check, check_eq};
use servers::redis;
use servers::redis::streams::{StreamPendingReply, StreamReadReply};

use crate::session::Session;

/// A stream entry id `<ms>-<seq>`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub fn parse(s: &str) -> Option<EntryId> {
        let (ms, seq) = s.split_once('-')?;
        Some(EntryId {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// True when the ids are strictly increasing, as `XADD *` guarantees (numerically, not as text).
pub fn strictly_increasing(ids: &[&str]) -> bool {
    let parsed: Option<Vec<EntryId>> = ids.iter().map(|s| EntryId::parse(s)).collect();
    parsed.is_some_and(|p| p.windows(2).all(|w| w[0] < w[1]))
}

/// The ids in an `XREADGROUP` reply (nil = nothing new = no ids).
fn ids_of(reply: &Option<StreamReadReply>) -> Vec<String> {
    reply
        .iter()
        .flat_map(|r| &r.keys)
        .flat_map(|k| &k.ids)
        .map(|e| e.id.clone())
        .collect()
}

pub(crate) fn consumer_group_acks(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let mut s = Session::open(ctx)?;
    let orders = s.key("stream:orders");

    s.say("1) Producers append with XADD; ids are time-ordered.");
    let mut ids = Vec::new();
    for item in ["book", "pen", "ink"] {
        let id: String = s.run(
            redis::cmd("XADD")
                .arg(&orders)
                .arg("*")
                .arg("item")
                .arg(item),
        )?;
        ids.push(id);
    }
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    check!(
        strictly_increasing(&id_refs),
        "XADD ids are not increasing: {ids:?}"
    );
    let len: usize = s.run(redis::cmd("XLEN").arg(&orders))?;
    check_eq!(len, 3, "XLEN");

    s.say("2) A consumer group: each entry goes to one consumer.");
    s.run::<()>(
        redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&orders)
            .arg("shipping")
            .arg("0"),
    )?;
    let read = |consumer: &str, count: usize| {
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("shipping")
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(&orders)
            .arg(">")
            .clone()
    };
    let alice: Option<StreamReadReply> = s.run(&read("alice", 2))?;
    let bob: Option<StreamReadReply> = s.run(&read("bob", 10))?;
    let nothing: Option<StreamReadReply> = s.run(&read("alice", 10))?;
    check_eq!(ids_of(&alice), ids[..2], "alice's entries (COUNT 2)");
    check_eq!(ids_of(&bob), ids[2..], "bob's entries: the rest");
    check!(
        ids_of(&nothing).is_empty(),
        "a third read got {:?}: entries were delivered twice",
        ids_of(&nothing)
    );

    s.say("3) Delivered but unacknowledged entries are pending; XACK clears them.");
    let pending: StreamPendingReply = s.run(redis::cmd("XPENDING").arg(&orders).arg("shipping"))?;
    check_eq!(pending.count(), 3, "XPENDING count before any XACK");
    if let StreamPendingReply::Data(d) = &pending {
        let per: Vec<(String, usize)> = d
            .consumers
            .iter()
            .map(|c| (c.name.clone(), c.pending))
            .collect();
        check_eq!(
            per,
            [("alice".to_string(), 2), ("bob".to_string(), 1)],
            "pending per consumer"
        );
    }
    let acked: i64 = s.run(
        redis::cmd("XACK")
            .arg(&orders)
            .arg("shipping")
            .arg(&ids[..2]),
    )?;
    check_eq!(acked, 2, "alice's XACK");
    let pending: StreamPendingReply = s.run(redis::cmd("XPENDING").arg(&orders).arg("shipping"))?;
    check_eq!(pending.count(), 1, "XPENDING count after alice's XACK");
    let acked: i64 = s.run(redis::cmd("XACK").arg(&orders).arg("shipping").arg(&ids[2]))?;
    check_eq!(acked, 1, "bob's XACK");
    let twice: i64 = s.run(redis::cmd("XACK").arg(&orders).arg("shipping").arg(&ids[2]))?;
    check_eq!(twice, 0, "a second XACK of the same entry");
    let pending: StreamPendingReply = s.run(redis::cmd("XPENDING").arg(&orders).arg("shipping"))?;
    check_eq!(pending.count(), 0, "XPENDING count after every XACK");
    let len: usize = s.run(redis::cmd("XLEN").arg(&orders))?;
    check_eq!(
        len,
        3,
        "XLEN after acknowledging everything (XACK does not delete)"
    );
    let ty = s.type_of(&orders)?;
    check_eq!(ty.as_str(), "stream", "TYPE");
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_numbers() {
        assert!(strictly_increasing(&[
            "1718000000000-0",
            "1718000000000-1",
            "1718000000001-0"
        ]));
        // Counterexample: as text "9-0" > "10-0", but as ids 9 < 10.
        assert!(strictly_increasing(&["9-0", "10-0"]));
        assert!("9-0" > "10-0");
        assert!(!strictly_increasing(&["10-0", "9-0"]));
        assert!(!strictly_increasing(&["5-1", "5-1"]));
        assert!(!strictly_increasing(&["5-1", "garbage"]));
        assert_eq!(EntryId::parse("5"), None);
    }
}
