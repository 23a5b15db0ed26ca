//! Properties: every mutation of a valid token is refused (never a panic), and random claim
//! sets are judged exactly as a small readable model of the rules says.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use support::*;
use xauth_verifier::Rejection;

#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one of the low 7 bits of one character (stays ASCII).
    BitFlip { pos: usize, bit: u8 },
    /// Flip one bit of the decoded bytes of one segment and re-encode.
    DecodedBitFlip { seg: usize, pos: usize, bit: u8 },
    /// Reorder the segments (never the identity).
    Swap(usize),
    /// Keep only a prefix.
    Truncate(usize),
    /// Re-encode one segment with padding or the standard alphabet.
    Reencode { seg: usize, padded: bool },
    /// Re-serialise the header or payload JSON (same members, other bytes).
    Reserialise { seg: usize, pretty: bool },
    /// Insert one character.
    Insert { pos: usize, ch: char },
    /// Duplicate a segment in place of another.
    Duplicate { from: usize, to: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..7).prop_map(|(pos, bit)| Mutation::BitFlip { pos, bit }),
        (0usize..3, any::<usize>(), 0u8..8).prop_map(|(seg, pos, bit)| Mutation::DecodedBitFlip {
            seg,
            pos,
            bit
        }),
        (1usize..6).prop_map(Mutation::Swap),
        any::<usize>().prop_map(Mutation::Truncate),
        (0usize..3, any::<bool>()).prop_map(|(seg, padded)| Mutation::Reencode { seg, padded }),
        (0usize..2, any::<bool>()).prop_map(|(seg, pretty)| Mutation::Reserialise { seg, pretty }),
        (
            any::<usize>(),
            prop::sample::select(vec!['.', '=', ' ', 'A', '-', '_', '+', '/', '\n', '\u{e9}'])
        )
            .prop_map(|(pos, ch)| Mutation::Insert { pos, ch }),
        (0usize..3, 0usize..3).prop_map(|(from, to)| Mutation::Duplicate { from, to }),
    ]
}

const PERMUTATIONS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

fn apply(m: &Mutation, token: &str) -> String {
    let segs = segments(token);
    let join = |s: &[String]| s.join(".");
    match *m {
        Mutation::BitFlip { pos, bit } => {
            let mut b = token.as_bytes().to_vec();
            let i = pos % b.len();
            b[i] ^= 1 << bit;
            String::from_utf8(b).unwrap()
        }
        Mutation::DecodedBitFlip { seg, pos, bit } => {
            let mut bytes = unb64(&segs[seg]);
            if bytes.is_empty() {
                return token.to_owned();
            }
            let i = pos % bytes.len();
            bytes[i] ^= 1 << bit;
            let mut s = segs.clone();
            s[seg] = b64(bytes);
            join(&s)
        }
        Mutation::Swap(k) => {
            let p = PERMUTATIONS[k];
            join(&[segs[p[0]].clone(), segs[p[1]].clone(), segs[p[2]].clone()])
        }
        Mutation::Truncate(n) => token[..n % token.len()].to_owned(),
        Mutation::Reencode { seg, padded } => {
            use base64::Engine as _;
            let bytes = unb64(&segs[seg]);
            let mut s = segs.clone();
            s[seg] = if padded {
                base64::engine::general_purpose::URL_SAFE.encode(&bytes)
            } else {
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes)
            };
            join(&s)
        }
        Mutation::Reserialise { seg, pretty } => {
            let v: Value = serde_json::from_slice(&unb64(&segs[seg])).unwrap();
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                // Members in reverse order.
                let m: Map<String, Value> =
                    v.as_object().unwrap().clone().into_iter().rev().collect();
                Value::Object(m).to_string()
            };
            let mut s = segs.clone();
            s[seg] = b64(text);
            join(&s)
        }
        Mutation::Insert { pos, ch } => {
            let mut t = token.to_owned();
            t.insert(pos % (token.len() + 1), ch);
            t
        }
        Mutation::Duplicate { from, to } => {
            let mut s = segs.clone();
            s[to] = segs[from].clone();
            join(&s)
        }
    }
}

#[test]
fn any_mutation_of_a_valid_token_is_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = rt.block_on(fixture());
    let c = fx.claims();
    let tokens = [fx.es256(&c), fx.rs256(&c), fx.hs256(&c)];
    for t in &tokens {
        rt.block_on(fx.verifier.verify(t))
            .expect("the unmutated token is valid");
    }
    let mut runner = TestRunner::new(Config {
        cases: 1500,
        ..Config::default()
    });
    runner
        .run(&(0usize..3, mutation()), |(which, m)| {
            let original = &tokens[which];
            let mutated = apply(&m, original);
            if mutated == *original {
                return Ok(());
            }
            let verdict = rt.block_on(fx.verifier.verify(&mutated));
            prop_assert!(verdict.is_err(), "{m:?} accepted: {mutated}");
            Ok(())
        })
        .unwrap();
}

// ---- random claim sets against a readable model ----

#[derive(Debug, Clone)]
enum Date {
    Absent,
    /// Seconds relative to now.
    At(i64),
    /// Relative, plus half a second.
    AtHalf(i64),
    Str,
    Negative,
    Huge,
    Null,
}

#[derive(Debug, Clone)]
enum Iss {
    Absent,
    Right,
    Wrong,
    Array,
    Number,
}

#[derive(Debug, Clone)]
enum Aud {
    Absent,
    Right,
    Wrong,
    ArrayWith,
    ArrayWithout,
    Empty,
    WithNonString,
}

#[derive(Debug, Clone)]
enum Sub {
    Absent,
    Uuid,
    Empty,
    Number,
}

#[derive(Debug, Clone)]
enum Role {
    Absent,
    Str,
    Number,
}

#[derive(Debug, Clone)]
struct Case {
    exp: Date,
    nbf: Date,
    iat: Date,
    iss: Iss,
    aud: Aud,
    sub: Sub,
    role: Role,
    leeway: i64,
}

fn date() -> impl Strategy<Value = Date> {
    prop_oneof![
        3 => (-200i64..200).prop_map(Date::At),
        1 => (-200i64..200).prop_map(Date::AtHalf),
        1 => Just(Date::Absent),
        1 => prop_oneof![Just(Date::Str), Just(Date::Negative), Just(Date::Huge), Just(Date::Null)],
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        date(),
        date(),
        date(),
        prop_oneof![4 => Just(Iss::Right), 1 => prop_oneof![Just(Iss::Absent), Just(Iss::Wrong), Just(Iss::Array), Just(Iss::Number)]],
        prop_oneof![4 => prop_oneof![Just(Aud::Right), Just(Aud::ArrayWith)], 1 => prop_oneof![Just(Aud::Absent), Just(Aud::Wrong), Just(Aud::ArrayWithout), Just(Aud::Empty), Just(Aud::WithNonString)]],
        prop_oneof![4 => Just(Sub::Uuid), 1 => prop_oneof![Just(Sub::Absent), Just(Sub::Empty), Just(Sub::Number)]],
        prop_oneof![4 => prop_oneof![Just(Role::Absent), Just(Role::Str)], 1 => Just(Role::Number)],
        prop::sample::select(vec![0i64, 60]),
    )
        .prop_map(|(exp, nbf, iat, iss, aud, sub, role, leeway)| Case { exp, nbf, iat, iss, aud, sub, role, leeway })
}

fn date_json(d: &Date, now: i64) -> Option<Value> {
    Some(match *d {
        Date::Absent => return None,
        Date::At(o) => json!(now + o),
        Date::AtHalf(o) => json!(now as f64 + o as f64 + 0.5),
        Date::Str => json!((now + 1000).to_string()),
        Date::Negative => json!(-5),
        Date::Huge => json!(1e300),
        Date::Null => Value::Null,
    })
}

fn claims_json(c: &Case, issuer: &str, now: i64) -> Value {
    let mut m = Map::new();
    for (name, d) in [("exp", &c.exp), ("nbf", &c.nbf), ("iat", &c.iat)] {
        if let Some(v) = date_json(d, now) {
            m.insert(name.into(), v);
        }
    }
    match c.iss {
        Iss::Absent => {}
        Iss::Right => _ = m.insert("iss".into(), json!(issuer)),
        Iss::Wrong => _ = m.insert("iss".into(), json!("https://evil.example/auth/v1")),
        Iss::Array => _ = m.insert("iss".into(), json!([issuer])),
        Iss::Number => _ = m.insert("iss".into(), json!(1)),
    }
    let aud = match c.aud {
        Aud::Absent => None,
        Aud::Right => Some(json!("authenticated")),
        Aud::Wrong => Some(json!("anon")),
        Aud::ArrayWith => Some(json!(["x", "authenticated"])),
        Aud::ArrayWithout => Some(json!(["x", "y"])),
        Aud::Empty => Some(json!([])),
        Aud::WithNonString => Some(json!(["authenticated", 3])),
    };
    if let Some(a) = aud {
        m.insert("aud".into(), a);
    }
    match c.sub {
        Sub::Absent => {}
        Sub::Uuid => _ = m.insert("sub".into(), json!("0a6d1f3e-1111-4222-8333-944455556666")),
        Sub::Empty => _ = m.insert("sub".into(), json!("")),
        Sub::Number => _ = m.insert("sub".into(), json!(7)),
    }
    match c.role {
        Role::Absent => {}
        Role::Str => _ = m.insert("role".into(), json!("authenticated")),
        Role::Number => _ = m.insert("role".into(), json!(1)),
    }
    Value::Object(m)
}

/// The rules, as the contract states them:
/// 1. `exp` is required and must be a NumericDate (a number in [0, 253402300799]);
///    `nbf`/`iat`, when present, too.
/// 2. `sub` is a required non-empty string; `iss` a required string equal to the issuer;
///    `aud` a required string or non-empty array of strings containing `authenticated`;
///    `role`, when present, a string.
/// 3. not yet valid iff nbf > now + L; issued in the future iff iat > now + L.
/// 4. expired iff now >= exp + L — reported only when nothing else is wrong.
///
/// The first broken rule (in this order) is the verdict.
fn model(c: &Case, now: i64) -> Result<(), Rejection> {
    fn date_value(d: &Date, now: i64) -> Result<Option<f64>, ()> {
        match *d {
            Date::Absent => Ok(None),
            Date::At(o) => Ok(Some((now + o) as f64)),
            Date::AtHalf(o) => Ok(Some(now as f64 + o as f64 + 0.5)),
            Date::Str | Date::Negative | Date::Huge | Date::Null => Err(()),
        }
    }
    let l = c.leeway as f64;
    let now_f = now as f64;
    let exp = match date_value(&c.exp, now) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(Rejection::MissingClaim("exp")),
        Err(()) => return Err(Rejection::InvalidClaim("exp")),
    };
    let nbf = date_value(&c.nbf, now).map_err(|_| Rejection::InvalidClaim("nbf"))?;
    let iat = date_value(&c.iat, now).map_err(|_| Rejection::InvalidClaim("iat"))?;
    match c.sub {
        Sub::Uuid => {}
        Sub::Absent => return Err(Rejection::MissingClaim("sub")),
        Sub::Empty | Sub::Number => return Err(Rejection::InvalidClaim("sub")),
    }
    match c.iss {
        Iss::Right => {}
        Iss::Wrong => return Err(Rejection::Issuer),
        Iss::Absent => return Err(Rejection::MissingClaim("iss")),
        Iss::Array | Iss::Number => return Err(Rejection::InvalidClaim("iss")),
    }
    match c.aud {
        Aud::Right | Aud::ArrayWith => {}
        Aud::Wrong | Aud::ArrayWithout => return Err(Rejection::Audience),
        Aud::Absent => return Err(Rejection::MissingClaim("aud")),
        Aud::Empty | Aud::WithNonString => return Err(Rejection::InvalidClaim("aud")),
    }
    if let Role::Number = c.role {
        return Err(Rejection::InvalidClaim("role"));
    }
    if nbf.is_some_and(|n| n > now_f + l) {
        return Err(Rejection::NotYetValid);
    }
    if iat.is_some_and(|i| i > now_f + l) {
        return Err(Rejection::IssuedInFuture);
    }
    if now_f >= exp + l {
        return Err(Rejection::Expired);
    }
    Ok(())
}

#[test]
fn random_claim_sets_judged_as_the_model_says() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let plain = rt.block_on(fixture());
    let with_leeway = rt.block_on(fixture_with(&standard_jwks(), |c| {
        c.legacy_secret(SECRET)
            .leeway(std::time::Duration::from_secs(60))
    }));
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        ..Config::default()
    });
    runner
        .run(&case(), |c| {
            let fx = if c.leeway == 0 { &plain } else { &with_leeway };
            let claims = claims_json(&c, &fx.issuer, NOW);
            let token = fx.hs256(&claims);
            let got = rt.block_on(fx.verifier.verify(&token)).map(|_| ());
            prop_assert_eq!(got, model(&c, NOW), "{:?} {}", c, claims);
            Ok(())
        })
        .unwrap();
}
