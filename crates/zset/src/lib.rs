//! Redis sorted sets built like Redis 7.0's `t_zset.c`: a skip list (p = 1/4, 32 levels, spans,
//! backward links) plus a member → score dictionary, the small-set listpack encoding, and the
//! command layer with Redis's exact replies (redis-10, redis-11).

pub mod bench;
pub mod command;
pub mod demos;
pub mod oracle;
pub mod set;
pub mod skiplist;

pub use command::Reply;
pub use demos::topic;
pub use set::SortedSet;

/// A double as Redis 7.0 prints it in replies (`addReplyDouble`): `inf`/`-inf`, otherwise C's
/// `%.17g` (17 significant digits, trailing zeros dropped, exponent form outside 1e-4..1e17).
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // 17 significant digits, correctly rounded.
    let sci = format!("{:.16e}", d);
    let (mant, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..17).contains(&exp) {
        let mut m = format!("{}.{}", &digits[..1], &digits[1..]);
        while m.ends_with('0') {
            m.pop();
        }
        if m.ends_with('.') {
            m.pop();
        }
        let es = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{es}{:02}", exp.abs())
    } else {
        let s = if exp >= 0 {
            let int_len = exp as usize + 1;
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        };
        let mut s = s;
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
        format!("{sign}{s}")
    }
}

/// C's `strtod` over the whole input, without range checks: Rust's decimal parser (which, like
/// `strtod`, takes `inf`, `infinity` and `nan` in any case), plus the hexadecimal form `strtod`
/// also accepts (`0x1.8p1` = 3), so `ZADD k 0x1p3 m` works as in Redis.
fn parse_c_double(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) else {
        return s.parse().ok();
    };
    let (digits, exp) = match hex.find(['p', 'P']) {
        Some(i) => (&hex[..i], Some(&hex[i + 1..])),
        None => (hex, None),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // Keep the first 15 significant hex digits (60 bits, more than a double's 53) and count the
    // rest as a power of two.
    let (mut mant, mut shift, mut kept) = (0u64, 0i64, 0);
    for (c, is_frac) in int
        .chars()
        .map(|c| (c, false))
        .chain(frac.chars().map(|c| (c, true)))
    {
        let d = c.to_digit(16)?;
        if kept < 15 {
            if mant != 0 || d != 0 {
                kept += 1;
            }
            mant = mant * 16 + u64::from(d);
            if is_frac {
                shift -= 4;
            }
        } else if !is_frac {
            shift += 4;
        }
    }
    let exp: i64 = match exp {
        Some(e)
            if !e.is_empty()
                && e.trim_start_matches(['+', '-'])
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            e.parse::<i64>().ok()?.clamp(-100_000, 100_000)
        }
        Some(_) => return None,
        None => 0,
    };
    let v = mant as f64 * 2f64.powi((exp + shift).clamp(-2_000, 2_000) as i32);
    Some(if neg { -v } else { v })
}

/// Parse like C's `strtod` over the whole input ([`parse_c_double`]) plus the range errors Redis
/// rejects (overflow to ±inf, underflow to 0). `None` when the text is not a float.
fn strtod_full(s: &str) -> Option<f64> {
    let v: f64 = parse_c_double(s)?;
    let lower = s.to_ascii_lowercase();
    if v.is_infinite() && !lower.contains("inf") {
        return None; // ERANGE overflow
    }
    // A zero from non-zero digits is an underflow (ERANGE).
    let body = lower.trim_start_matches(['+', '-']);
    let nonzero_digits = match body.strip_prefix("0x") {
        Some(hex) => hex
            .chars()
            .take_while(|c| *c != 'p')
            .any(|c| c.is_ascii_hexdigit() && c != '0'),
        None => body
            .chars()
            .take_while(|c| *c != 'e')
            .any(|c| ('1'..='9').contains(&c)),
    };
    if v == 0.0 && nonzero_digits {
        return None;
    }
    Some(v)
}

/// Redis's `getDoubleFromObject`: a score argument. NaN, empty, leading space, trailing garbage
/// and out-of-range values are rejected.
pub fn parse_score(arg: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v = strtod_full(s)?;
    if v.is_nan() { None } else { Some(v) }
}

/// One bound of `zslParseRange`: `(` for exclusive, then anything `strtod` takes (overflow to
/// infinity is allowed there, NaN is not).
pub fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (ex, rest) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let s = std::str::from_utf8(rest).ok()?.trim_start();
    if s.is_empty() {
        return None;
    }
    let v: f64 = parse_c_double(s)?;
    if v.is_nan() { None } else { Some((v, ex)) }
}

/// One bound of `zslParseLexRange`.
pub fn parse_lex_bound(arg: &[u8]) -> Option<skiplist::LexBound> {
    use skiplist::LexBound::*;
    match arg.first() {
        Some(b'+') if arg.len() == 1 => Some(PlusInf),
        Some(b'-') if arg.len() == 1 => Some(MinusInf),
        Some(b'(') => Some(Excl(arg[1..].to_vec())),
        Some(b'[') => Some(Incl(arg[1..].to_vec())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_percent_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(-3.0), "-3");
        // Counterexample: Rust's shortest form is not what Redis 7.0 prints.
        assert_ne!(format!("{}", 0.1), format_double(0.1));
    }

    #[test]
    fn scores_parse_like_redis() {
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_score_bound(b"(nan"), None);
        assert_eq!(parse_score_bound(b"1e400"), Some((f64::INFINITY, false)));
    }

    #[test]
    fn hex_scores_parse_like_strtod() {
        assert_eq!(parse_score(b"0x1p3"), Some(8.0));
        assert_eq!(parse_score(b"-0X1.8p1"), Some(-3.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x.8"), Some(0.5));
        assert_eq!(parse_score(b"0x1P-2"), Some(0.25));
        assert_eq!(
            parse_score(b"0x123456789abcdef12"),
            Some(0x123456789abcdef12u128 as f64)
        );
        assert_eq!(parse_score_bound(b"(0x1p1"), Some((2.0, true)));
        // Not floats to strtod either (it would stop early, leaving trailing text).
        for bad in [&b"0x"[..], b"0xg", b"0x1p", b"0x1p+", b"0x1q2", b"0x1.2.3"] {
            assert_eq!(parse_score(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        // Range errors as for decimals: overflow is rejected, a tiny non-zero value underflows.
        assert_eq!(parse_score(b"0x1p5000"), None);
        assert_eq!(parse_score(b"0x1p-5000"), None);
        assert_eq!(
            parse_score(b"0x0p5"),
            Some(0.0),
            "zero digits are not an underflow"
        );
    }
}
