//! go-03's demos: each asserts one claim of `docs/go/go-03.md`, on both Rust rendezvous channels, and
//! the last one asks real Go channels the same questions.

use catalog::{Ctx, Demo, DemoError, Need, check, check_eq};

use super::{
    Crossbeam, Flavor, Observations, ROUNDS, StdMpsc, differences, gated_buffered_send_rounds,
    observe, rounds_after, rounds_before, try_recv_alone, try_send_alone, unbuffered_recv_rounds,
    unbuffered_send_rounds,
};

pub(crate) const SEND_WAITS: Demo = Demo {
    name: "go-03/unbuffered-send-waits-for-a-receiver",
    claim: "A send on an unbuffered channel cannot complete until its receiver has arrived.",
    needs: Need::Nothing,
    run: send_waits,
};

pub(crate) const BUFFERED_SEND_ALONE: Demo = Demo {
    name: "go-03/buffered-send-completes-alone",
    claim: "A send on a buffered channel with room completes while no receiver is there.",
    needs: Need::Nothing,
    run: buffered_send_alone,
};

pub(crate) const RECV_WAITS: Demo = Demo {
    name: "go-03/unbuffered-receive-waits-for-a-sender",
    claim: "A receive on an unbuffered channel completes only after its sender arrived, and before that send completes.",
    needs: Need::Nothing,
    run: recv_waits,
};

pub(crate) const GO_AGREES: Demo = Demo {
    name: "go-03/go-agrees",
    claim: "Real Go channels make exactly the observations the page predicts and the Rust channels make.",
    needs: Need::Go,
    run: go_agrees,
};

fn send_waits(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say("Capacity 0 leaves nowhere to put a value: the sender has to meet a receiver.");
    ctx.say("Each round the receiver counts its arrival, then blocks in recv; the sender reads");
    ctx.say("that counter the moment its blocking send returns.");
    send_waits_on::<StdMpsc>(ctx)?;
    send_waits_on::<Crossbeam>(ctx)
}

fn send_waits_on<F: Flavor>(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let name = F::NAME;
    let alone = try_send_alone::<F>(0);
    ctx.say(format!(
        "{name}(0): try_send with nobody receiving went through: {alone}"
    ));
    check!(
        !alone,
        "{name}(0): a non-blocking send completed with no receiver waiting"
    );
    let seen = unbuffered_send_rounds::<F>(ROUNDS);
    let after = rounds_after(&seen);
    ctx.say(format!(
        "{name}(0): {after}/{ROUNDS} blocking sends returned after their receiver had arrived"
    ));
    check_eq!(seen.len(), ROUNDS as usize, "{name}(0): rounds completed");
    check!(
        after == ROUNDS,
        "{name}(0): {} of {ROUNDS} sends completed before their receiver arrived",
        ROUNDS - after
    );
    Ok(())
}

fn buffered_send_alone(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say(
        "Capacity 1 gives the value a place to wait: the sender can leave before anyone comes.",
    );
    ctx.say("Each round the receiver is held behind a gate the sender opens only after its send");
    ctx.say("returned and it read the receiver's arrival counter.");
    buffered_send_alone_on::<StdMpsc>(ctx)?;
    buffered_send_alone_on::<Crossbeam>(ctx)
}

fn buffered_send_alone_on<F: Flavor>(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let name = F::NAME;
    let alone = try_send_alone::<F>(1);
    ctx.say(format!(
        "{name}(1): try_send with nobody receiving went through: {alone}"
    ));
    check!(
        alone,
        "{name}(1): a non-blocking send into an empty buffer did not go through"
    );
    let seen = gated_buffered_send_rounds::<F>(ROUNDS);
    let before = rounds_before(&seen);
    ctx.say(format!(
        "{name}(1): {before}/{ROUNDS} sends returned while their receiver was absent \
         (the rendezvous check would flag every one)"
    ));
    check_eq!(seen.len(), ROUNDS as usize, "{name}(1): rounds completed");
    check!(
        before == ROUNDS,
        "{name}(1): {} of {ROUNDS} gated sends saw a receiver that had not been let in",
        ROUNDS - before
    );
    Ok(())
}

fn recv_waits(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    ctx.say("The mirror: the sender counts its arrival before send and its completion after;");
    ctx.say("the receiver reads completions before recv and arrivals after recv returns.");
    recv_waits_on::<StdMpsc>(ctx)?;
    recv_waits_on::<Crossbeam>(ctx)
}

fn recv_waits_on<F: Flavor>(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let name = F::NAME;
    let alone = try_recv_alone::<F>();
    ctx.say(format!(
        "{name}(0): try_recv on an empty channel, nobody sending, got a value: {alone}"
    ));
    check!(
        !alone,
        "{name}(0): a non-blocking receive got a value no one sent"
    );
    let r = unbuffered_recv_rounds::<F>(ROUNDS);
    let after = rounds_after(&r.sender_arrivals_after_recv);
    let pending = rounds_before(&r.sends_completed_before_recv);
    ctx.say(format!(
        "{name}(0): {after}/{ROUNDS} receives returned after their sender had arrived"
    ));
    ctx.say(format!(
        "{name}(0): {pending}/{ROUNDS} receivers arrived while their send was still pending"
    ));
    check_eq!(
        r.sender_arrivals_after_recv.len(),
        ROUNDS as usize,
        "{name}(0): rounds completed in order"
    );
    check!(
        after == ROUNDS,
        "{name}(0): {} receives completed before their sender arrived",
        ROUNDS - after
    );
    check!(
        pending == ROUNDS,
        "{name}(0): in {} rounds the send had completed before its receiver arrived",
        ROUNDS - pending
    );
    Ok(())
}

fn go_agrees(ctx: &mut Ctx<'_>) -> Result<(), DemoError> {
    let go = ctx.go()?;
    let rounds = ROUNDS.to_string();
    ctx.say(format!(
        "go run ./cmd/go03-rendezvous -rounds {rounds}   ({})",
        go.version
    ));
    let theirs: Observations = go.run_json("cmd/go03-rendezvous", &["-rounds", &rounds])?;
    let predicted = Observations::predicted(ROUNDS);
    let sides = [
        ("predicted", predicted),
        ("std", observe::<StdMpsc>(ROUNDS)),
        ("crossbeam", observe::<Crossbeam>(ROUNDS)),
        ("go", theirs),
    ];
    ctx.say(table(&sides));
    for (side, ours) in &sides[..3] {
        let diff = differences(ours, &theirs);
        let listed: Vec<String> = diff.iter().map(|d| d.to_string()).collect();
        check!(
            diff.is_empty(),
            "{side} and Go disagree on {} field(s) (ours = {side}, theirs = Go): {}",
            diff.len(),
            listed.join("; ")
        );
    }
    ctx.say("every field agrees");
    Ok(())
}

/// One row per field, one column per side.
fn table(sides: &[(&str, Observations)]) -> String {
    let columns: Vec<Vec<(String, serde_json::Value)>> =
        sides.iter().map(|(_, o)| o.fields()).collect();
    let width = columns
        .first()
        .map(|c| c.iter().map(|(f, _)| f.len()).max().unwrap_or(0))
        .unwrap_or(0);
    let mut out = format!("{:width$}", "field");
    for (side, _) in sides {
        out.push_str(&format!("  {side:>10}"));
    }
    let rows = columns.first().map(Vec::len).unwrap_or(0);
    for row in 0..rows {
        let field = columns[0][row].0.as_str();
        out.push_str(&format!("\n{field:width$}"));
        for column in &columns {
            let value = column
                .get(row)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            out.push_str(&format!("  {value:>10}"));
        }
    }
    out
}
