//! Seeded random sorted-set commands run through `zset::command::run` and on the real Redis;
//! every reply must be identical. Skips (with a message) when Redis is unreachable, unless CI=true.

use servers::redis;
use zset::command::{self, MemDb};
use zset::oracle;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const SCORES: &[&str] = &[
    "0",
    "1",
    "1",
    "2",
    "-1",
    "1.5",
    "0.1",
    "-0",
    "inf",
    "-inf",
    "1e20",
    "3",
    "nan",
    "abc",
    "0x1p1",
    "-0X1.8p0",
    "0x1p-5000",
    "0x",
    "1e-400",
    " 1",
];
const BOUNDS: &[&str] = &[
    "-inf", "+inf", "0", "(0", "1", "(1", "2", "(1.5", "3", "x", "(inf", "(0x1p0", "0x1.8p1",
];
const LEX: &[&str] = &["-", "+", "[a", "(a", "[b", "(bb", "[c", "a", "[\u{1}"];

fn member(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => vec![b'x'; 60 + rng.below(10)],
        1 => vec![0, 0xff, rng.below(3) as u8],
        _ => ["a", "b", "bb", "c", "d", "e", "f"][rng.below(7)]
            .as_bytes()
            .to_vec(),
    }
}

fn random_command(rng: &mut Rng, key: &[u8], lexkey: &[u8]) -> Vec<Vec<u8>> {
    let s = |x: &str| x.as_bytes().to_vec();
    let k = key.to_vec();
    let int = |rng: &mut Rng| (rng.below(9) as i64 - 4).to_string().into_bytes();
    match rng.below(16) {
        0..=3 => {
            let mut v = vec![s("ZADD"), k];
            for f in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if rng.below(6) == 0 {
                    v.push(s(f));
                }
            }
            for _ in 0..1 + rng.below(3) {
                v.push(s(rng.pick(SCORES)));
                v.push(member(rng));
            }
            v
        }
        4 => vec![s("ZINCRBY"), k, s(rng.pick(SCORES)), member(rng)],
        5 => vec![s("ZREM"), k, member(rng), member(rng)],
        6 => vec![
            s(["ZSCORE", "ZRANK", "ZREVRANK"][rng.below(3)]),
            k,
            member(rng),
        ],
        7 => vec![s("ZCARD"), k],
        8 => vec![s("ZCOUNT"), k, s(rng.pick(BOUNDS)), s(rng.pick(BOUNDS))],
        9 => {
            let mut v = vec![
                s(["ZRANGE", "ZREVRANGE"][rng.below(2)]),
                k,
                int(rng),
                int(rng),
            ];
            if rng.below(2) == 0 {
                v.push(s("WITHSCORES"));
            }
            v
        }
        10 => {
            let name = ["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"][rng.below(2)];
            let mut v = vec![s(name), k, s(rng.pick(BOUNDS)), s(rng.pick(BOUNDS))];
            if rng.below(2) == 0 {
                v.push(s("WITHSCORES"));
            }
            if rng.below(2) == 0 {
                v.extend([s("LIMIT"), int(rng), int(rng)]);
            }
            v
        }
        11 => {
            let mut v = vec![
                s("ZRANGE"),
                k,
                s(rng.pick(BOUNDS)),
                s(rng.pick(BOUNDS)),
                s("BYSCORE"),
            ];
            if rng.below(2) == 0 {
                v.push(s("REV"));
            }
            if rng.below(3) == 0 {
                v.extend([s("LIMIT"), int(rng), int(rng)]);
            }
            v
        }
        12 => {
            // Lex commands only on the single-score set.
            let name = [
                "ZRANGEBYLEX",
                "ZREVRANGEBYLEX",
                "ZLEXCOUNT",
                "ZREMRANGEBYLEX",
            ][rng.below(4)];
            let mut v = vec![s(name), lexkey.to_vec(), s(rng.pick(LEX)), s(rng.pick(LEX))];
            if name.ends_with("BYLEX") && !name.starts_with("ZREM") && rng.below(3) == 0 {
                v.extend([s("LIMIT"), int(rng), int(rng)]);
            }
            v
        }
        13 => vec![s("ZADD"), lexkey.to_vec(), s("0"), member(rng)],
        14 => match rng.below(2) {
            0 => vec![s("ZREMRANGEBYRANK"), k, int(rng), int(rng)],
            _ => vec![
                s("ZREMRANGEBYSCORE"),
                k,
                s(rng.pick(BOUNDS)),
                s(rng.pick(BOUNDS)),
            ],
        },
        _ => {
            let mut v = vec![s(["ZPOPMIN", "ZPOPMAX"][rng.below(2)]), k];
            if rng.below(2) == 0 {
                v.push(int(rng));
            }
            v
        }
    }
}

/// A connection to the real Redis; `None` (after saying so) when it is unreachable outside CI.
fn real_redis() -> Option<redis::Connection> {
    let conn = servers::redis_target()
        .map_err(|e| e.to_string())
        .and_then(|t| redis::Client::open(t.url()).map_err(|e| e.to_string()))
        .and_then(|c| c.get_connection().map_err(|e| e.to_string()));
    catalog::testing::needed("real Redis", conn)
}

#[test]
fn thousands_of_random_commands_match_real_redis() {
    let Some(mut conn) = real_redis() else {
        return;
    };
    let seeds: Vec<u64> = match std::env::var("ZSET_DIFF_SEED") {
        Ok(s) => vec![s.parse().expect("ZSET_DIFF_SEED is a number")],
        Err(_) => vec![1, 2, 3, 4],
    };
    let mut total = 0;
    for seed in seeds {
        let key = format!("lab:redis-10:diff:{seed}").into_bytes();
        let lexkey = format!("lab:redis-10:difflex:{seed}").into_bytes();
        let del = |c: &mut redis::Connection| {
            redis::cmd("DEL")
                .arg(&key)
                .arg(&lexkey)
                .query::<()>(c)
                .expect("DEL");
        };
        del(&mut conn);
        let mut db = MemDb::default();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for i in 0..1500 {
            let argv = random_command(&mut rng, &key, &lexkey);
            let ours = command::run(&mut db, &argv);
            let theirs = oracle::run_real(&mut conn, &argv);
            if ours != theirs {
                del(&mut conn);
                let shown: Vec<String> = argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                panic!("seed {seed}, command #{i} {shown:?}\n ours:  {ours:?}\n redis: {theirs:?}");
            }
            total += 1;
            if i % 100 == 99 {
                // Check the encodings too.
                for k in [&key, &lexkey] {
                    let real: Option<String> = redis::cmd("OBJECT")
                        .arg("ENCODING")
                        .arg(k)
                        .query(&mut conn)
                        .unwrap_or(None);
                    let mine = db.sets.get(k).map(|s| s.encoding().to_string());
                    assert_eq!(
                        mine, real,
                        "seed {seed}, OBJECT ENCODING after command #{i}"
                    );
                }
            }
        }
        del(&mut conn);
    }
    println!("{total} commands, zero differences");
}

/// A set that grows past 128 members (an alphabet of 200 members, mostly ZADDs), then shrinks:
/// every reply and, after every command, `OBJECT ENCODING` must equal the real Redis's. The
/// conversion happens on the 129th member on both sides and never reverts.
#[test]
fn growing_past_128_members_converts_like_real_redis() {
    let Some(mut conn) = real_redis() else {
        return;
    };
    let key = b"lab:redis-10:diff:grow".to_vec();
    let del = |c: &mut redis::Connection| {
        redis::cmd("DEL").arg(&key).query::<()>(c).expect("DEL");
    };
    del(&mut conn);
    let mut db = MemDb::default();
    let mut rng = Rng(0x5EED_0129);
    let s = |x: &str| x.as_bytes().to_vec();
    let mut crossed_at = None;
    let mut max_card = 0;
    for i in 0..900 {
        let m = format!("member:{:03}", rng.below(200)).into_bytes();
        let score = (rng.below(41) as f64 / 4.0 - 5.0).to_string();
        let growing = i < 600;
        // Growing: 3 in 4 commands are ZADDs and nothing pops. Shrinking: ZREM and ZPOPMIN.
        let pick = if growing {
            match rng.below(20) {
                c @ 0..=4 => c,
                _ => 6,
            }
        } else {
            rng.below(6)
        };
        let argv = match pick {
            0 => vec![s("ZREM"), key.clone(), m],
            1 => vec![s("ZRANK"), key.clone(), m],
            2 => vec![s("ZINCRBY"), key.clone(), s(&score), m],
            3 => vec![
                s("ZRANGE"),
                key.clone(),
                s("120"),
                s("135"),
                s("WITHSCORES"),
            ],
            4 => vec![
                s("ZRANGEBYSCORE"),
                key.clone(),
                s("(-1"),
                s("2"),
                s("LIMIT"),
                s("0"),
                s("5"),
            ],
            5 => vec![s("ZPOPMIN"), key.clone(), s("2")],
            _ => vec![s("ZADD"), key.clone(), s(&score), m],
        };
        let ours = command::run(&mut db, &argv);
        let theirs = oracle::run_real(&mut conn, &argv);
        let real: Option<String> = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&key)
            .query(&mut conn)
            .unwrap_or(None);
        let mine = db.sets.get(&key).map(|s| s.encoding().to_string());
        let card = db.sets.get(&key).map_or(0, |s| s.len());
        max_card = max_card.max(card);
        if ours != theirs || mine != real {
            del(&mut conn);
            let shown: Vec<String> = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            panic!(
                "command #{i} {shown:?}\n ours:  {ours:?} ({mine:?})\n redis: {theirs:?} ({real:?})"
            );
        }
        if crossed_at.is_none() && mine.as_deref() == Some("skiplist") {
            assert_eq!(card, 129, "the conversion happens at the 129th member");
            crossed_at = Some(i);
        }
    }
    del(&mut conn);
    let crossed_at = crossed_at.expect("the sequence must cross 128 members");
    assert!(max_card > 129, "the set must grow well past the threshold");
    println!(
        "crossed to skiplist at command #{crossed_at}, max {max_card} members, zero differences"
    );
}
