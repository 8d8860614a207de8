//! A bounded proptest of the request parser: any bytes in any pieces give commands or a protocol
//! error, never a panic; and any well-formed commands survive any split into reads.

use proptest::prelude::*;
use respd::resp::Parser;

fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Feeds `input` cut at `cuts` and collects commands until the first error.
fn parse_in_pieces(input: &[u8], cuts: &[usize]) -> (Vec<Vec<Vec<u8>>>, bool) {
    let mut p = Parser::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut last = 0;
    let mut out = Vec::new();
    for at in points {
        p.feed(&input[last..at]);
        last = at;
        loop {
            match p.next_command() {
                Ok(Some(c)) => out.push(c),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    // Mostly protocol-looking bytes, so the fuzzer reaches deep states.
    prop::collection::vec(
        prop_oneof![
            Just(b'*'),
            Just(b'$'),
            Just(b'\r'),
            Just(b'\n'),
            Just(b'-'),
            Just(b'"'),
            Just(b'\''),
            Just(b'\\'),
            Just(b' '),
            b'0'..=b'9',
            any::<u8>()
        ],
        0..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in arb_bytes(), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let _ = parse_in_pieces(&input, &cuts);
    }

    #[test]
    fn well_formed_commands_survive_any_split(
        cmds in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..5), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let input: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
        let (got, failed) = parse_in_pieces(&input, &cuts);
        prop_assert!(!failed);
        prop_assert_eq!(got, cmds);
    }
}
