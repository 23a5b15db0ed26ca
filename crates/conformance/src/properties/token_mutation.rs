//! The token-mutation property and its input space: changes to a valid compact JWS that make it invalid for
//! ANY correct implementation.
//!
//! The rule that keeps verdicts sound: every mutation changes either the signing input (the
//! exact header or payload text, which the signature covers byte for byte) or the decoded bytes
//! of the signature. Re-encodings are applied only to the header and payload segments (the
//! signature covers their text, so padding or the standard alphabet there breaks the signature);
//! a re-encoded signature that decodes to the same bytes is not a mutation (a lenient but
//! correct decoder accepts it), and neither is the high-S twin of an ES256 signature (also a
//! valid signature). [`Mutation::apply`] returns `None` for such equivalents.
//!
//! (Over 500 lines because the generator, the soundness rule it must obey and the property that
//! uses it are one argument, best read together.)
//!
//! ```
//! use xauth_conformance::properties::token_mutation::{Mutation, Segment};
//! let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
//! let m = Mutation::FlipBit { segment: Segment::Signature, index: 0, bit: 0 };
//! let mutated = m.apply(token, "HS256").unwrap();
//! assert_ne!(mutated, token);
//! // swapping the header with itself is not a mutation
//! assert!(Mutation::SwapSegments { a: Segment::Header, b: Segment::Header }.apply(token, "HS256").is_none());
//! ```

use std::cell::RefCell;
use std::time::Instant;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

use super::MUTATION_NAME;
use super::harness::{Base, CaseFailure, Expect, Harness, Refusal};
use crate::report::ScenarioReport;

use crate::forge::{b64, ecdsa, jws::Jws};

/// One of the three segments of a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The first segment: the JOSE header.
    Header,
    /// The second segment: the claims.
    Payload,
    /// The third segment: the signature.
    Signature,
}

/// How a header or payload segment is re-encoded (same decoded bytes, different text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reencoding {
    /// `=` padding added.
    Padding,
    /// The standard alphabet (`+`, `/`), unpadded.
    StandardAlphabet,
    /// The standard alphabet with padding.
    PaddedStandard,
}

/// A header member set (or removed) while the old signature is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderEdit {
    /// `alg` set to this value.
    Alg(&'static str),
    /// `kid` removed.
    RemoveKid,
    /// `kid` set to this value.
    Kid(&'static str),
    /// `typ` set to this value.
    Typ(&'static str),
    /// An extra member added.
    Member(&'static str, i64),
}

/// A claim set (or removed) while the old signature is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimEdit {
    /// `sub` replaced.
    Sub(&'static str),
    /// `role` replaced (privilege escalation attempt).
    Role(&'static str),
    /// `exp` moved by this many seconds (negative: into the past).
    ExpShift(i64),
    /// `aud` replaced.
    Aud(&'static str),
    /// `iss` replaced.
    Iss(&'static str),
    /// A claim removed.
    Remove(&'static str),
    /// An extra claim added.
    Extra(&'static str, i64),
}

/// One mutation of a valid token.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// One bit of a segment's decoded bytes flipped (index taken modulo the length).
    FlipBit {
        /// The segment whose decoded bytes are changed.
        segment: Segment,
        /// The byte index (taken modulo the decoded length).
        index: usize,
        /// The bit within that byte (taken modulo 8).
        bit: u8,
    },
    /// Several bits flipped.
    FlipBits {
        /// The segment whose decoded bytes are changed.
        segment: Segment,
        /// `(byte index, bit)` pairs, each taken modulo the length and 8 like `FlipBit`.
        bits: Vec<(usize, u8)>,
    },
    /// Two segments exchanged.
    SwapSegments {
        /// One segment of the pair.
        a: Segment,
        /// The segment it is exchanged with.
        b: Segment,
    },
    /// A header or payload segment re-encoded (the signature covers its exact text).
    Reencode {
        /// The segment re-encoded (header or payload).
        segment: Segment,
        /// The alternative encoding used.
        how: Reencoding,
    },
    /// The compact text cut short by `cut` characters (at least one, never all).
    Truncate {
        /// How many trailing characters are removed.
        cut: usize,
    },
    /// The decoded signature cut short by `cut` bytes.
    TruncateSignature {
        /// How many trailing signature bytes are removed.
        cut: usize,
    },
    /// The signature replaced by zero bytes of the same length (the "psychic" signature).
    ZeroSignature,
    /// The signature segment emptied (`header.payload.`).
    DropSignature,
    /// `alg` set to `none` and the signature emptied.
    AlgNone,
    /// A header edit, signature kept.
    Header(HeaderEdit),
    /// A claim edit, signature kept.
    Claim(ClaimEdit),
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        Just(Segment::Signature),
        Just(Segment::Payload),
        Just(Segment::Header)
    ]
}

fn header_edit() -> impl Strategy<Value = HeaderEdit> {
    prop_oneof![
        prop_oneof![
            Just("none"),
            Just("HS256"),
            Just("RS256"),
            Just("ES256"),
            Just("HS512"),
            Just("PS256"),
            Just("nOnE"),
        ]
        .prop_map(HeaderEdit::Alg),
        Just(HeaderEdit::RemoveKid),
        prop_oneof![Just("x"), Just("../../dev/null"), Just("")].prop_map(HeaderEdit::Kid),
        prop_oneof![Just("JWT"), Just("at+jwt")].prop_map(HeaderEdit::Typ),
        (prop_oneof![Just("x-extra"), Just("b64")], 0i64..3)
            .prop_map(|(n, v)| HeaderEdit::Member(n, v)),
    ]
}

fn claim_edit() -> impl Strategy<Value = ClaimEdit> {
    prop_oneof![
        Just(ClaimEdit::Sub("00000000-0000-0000-0000-000000000000")),
        prop_oneof![Just("service_role"), Just("anon"), Just("supabase_admin")]
            .prop_map(ClaimEdit::Role),
        prop_oneof![-86_400i64..-1, 1i64..86_400].prop_map(ClaimEdit::ExpShift),
        prop_oneof![Just("anon"), Just("service_role")].prop_map(ClaimEdit::Aud),
        Just(ClaimEdit::Iss(
            "https://abcdefghijklmnopqrst.supabase.co/auth/v1"
        )),
        prop_oneof![
            Just("exp"),
            Just("sub"),
            Just("role"),
            Just("aud"),
            Just("iss")
        ]
        .prop_map(ClaimEdit::Remove),
        (prop_oneof![Just("is_admin"), Just("x")], 0i64..3)
            .prop_map(|(n, v)| ClaimEdit::Extra(n, v)),
    ]
}

/// Every kind of mutation, weighted towards the byte-level ones. Shrinks towards a single bit
/// flip at the start of the signature.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (segment(), 0usize..4096, 0u8..8)
            .prop_map(|(segment, index, bit)| Mutation::FlipBit { segment, index, bit }),
        2 => (segment(), proptest::collection::vec((0usize..4096, 0u8..8), 2..6))
            .prop_map(|(segment, bits)| Mutation::FlipBits { segment, bits }),
        1 => prop_oneof![
            Just((Segment::Header, Segment::Payload)),
            Just((Segment::Payload, Segment::Signature)),
            Just((Segment::Header, Segment::Signature)),
        ]
        .prop_map(|(a, b)| Mutation::SwapSegments { a, b }),
        1 => (
            prop_oneof![Just(Segment::Header), Just(Segment::Payload)],
            prop_oneof![
                Just(Reencoding::Padding),
                Just(Reencoding::StandardAlphabet),
                Just(Reencoding::PaddedStandard)
            ]
        )
            .prop_map(|(segment, how)| Mutation::Reencode { segment, how }),
        2 => (1usize..2048).prop_map(|cut| Mutation::Truncate { cut }),
        1 => (1usize..512).prop_map(|cut| Mutation::TruncateSignature { cut }),
        1 => Just(Mutation::ZeroSignature),
        1 => Just(Mutation::DropSignature),
        1 => Just(Mutation::AlgNone),
        2 => header_edit().prop_map(Mutation::Header),
        3 => claim_edit().prop_map(Mutation::Claim),
        // expired by the edit: a verifier that checks exp before the signature answers
        // TOKEN_EXPIRED here instead of UNAUTHENTICATED
        2 => (-86_400i64..-3_700).prop_map(|d| Mutation::Claim(ClaimEdit::ExpShift(d))),
    ]
}

fn seg_text(jws: &Jws, s: Segment) -> &str {
    match s {
        Segment::Header => &jws.header,
        Segment::Payload => &jws.payload,
        Segment::Signature => &jws.signature,
    }
}

fn set_seg(jws: &mut Jws, s: Segment, text: String) {
    match s {
        Segment::Header => jws.header = text,
        Segment::Payload => jws.payload = text,
        Segment::Signature => jws.signature = text,
    }
}

fn flip(jws: &mut Jws, s: Segment, bits: &[(usize, u8)]) -> Option<()> {
    let mut bytes = b64::decode(seg_text(jws, s)).ok()?;
    if bytes.is_empty() {
        return None;
    }
    let len = bytes.len();
    for &(i, b) in bits {
        bytes[i % len] ^= 1 << (b % 8);
    }
    set_seg(jws, s, b64::encode(&bytes));
    Some(())
}

fn object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Decodes a signature as leniently as any decoder might: either alphabet, with or without
/// padding, ignoring non-canonical trailing bits.
fn lenient_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let normalised: String = text
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg)
        .decode(normalised)
        .ok()
}

impl Mutation {
    /// Applies the mutation to `token` (a valid compact JWS signed with `alg`). `None` when the
    /// result is not a genuinely invalid token: unchanged, an equivalent encoding of the same
    /// signature, or the high-S twin of an ES256 signature; or when the mutation does not apply
    /// (e.g. re-encoding a segment whose text would not change).
    pub fn apply(&self, token: &str, alg: &str) -> Option<String> {
        let orig = Jws::parse(token).ok()?;
        let mut jws = orig.clone();
        let mutated = match self {
            Mutation::FlipBit {
                segment,
                index,
                bit,
            } => {
                flip(&mut jws, *segment, &[(*index, *bit)])?;
                jws.compact()
            }
            Mutation::FlipBits { segment, bits } => {
                flip(&mut jws, *segment, bits)?;
                jws.compact()
            }
            Mutation::SwapSegments { a, b } => {
                let (ta, tb) = (
                    seg_text(&orig, *a).to_owned(),
                    seg_text(&orig, *b).to_owned(),
                );
                set_seg(&mut jws, *a, tb);
                set_seg(&mut jws, *b, ta);
                jws.compact()
            }
            Mutation::Reencode { segment, how } => {
                if *segment == Segment::Signature {
                    return None;
                }
                let text = seg_text(&orig, *segment);
                let new = match how {
                    Reencoding::Padding => b64::with_padding(text),
                    Reencoding::StandardAlphabet => b64::to_standard_alphabet(text).ok()?,
                    Reencoding::PaddedStandard => b64::to_padded_standard(text).ok()?,
                };
                set_seg(&mut jws, *segment, new);
                jws.compact()
            }
            Mutation::Truncate { cut } => {
                let len = token.len();
                if len < 2 {
                    return None;
                }
                let keep = len - 1 - (cut - 1) % (len - 1);
                token[..keep].to_owned()
            }
            Mutation::TruncateSignature { cut } => {
                let sig = b64::decode(&orig.signature).ok()?;
                if sig.is_empty() {
                    return None;
                }
                let keep = sig.len() - 1 - (cut - 1) % sig.len();
                jws.with_signature_bytes(&sig[..keep]).compact()
            }
            Mutation::ZeroSignature => {
                let sig = b64::decode(&orig.signature).ok()?;
                jws.with_signature_bytes(&vec![0u8; sig.len()]).compact()
            }
            Mutation::DropSignature => {
                jws.signature = String::new();
                jws.compact()
            }
            Mutation::AlgNone => {
                let mut h = object(&orig.header_text().ok()?)?;
                h.insert("alg".into(), Value::String("none".into()));
                jws = jws.with_header_text(&Value::Object(h).to_string());
                jws.signature = String::new();
                jws.compact()
            }
            Mutation::Header(edit) => {
                let mut h = object(&orig.header_text().ok()?)?;
                match edit {
                    HeaderEdit::Alg(a) => {
                        h.insert("alg".into(), Value::String((*a).into()));
                    }
                    HeaderEdit::RemoveKid => {
                        h.remove("kid")?;
                    }
                    HeaderEdit::Kid(k) => {
                        h.insert("kid".into(), Value::String((*k).into()));
                    }
                    HeaderEdit::Typ(t) => {
                        h.insert("typ".into(), Value::String((*t).into()));
                    }
                    HeaderEdit::Member(n, v) => {
                        h.insert((*n).into(), Value::from(*v));
                    }
                }
                jws.with_header_text(&Value::Object(h).to_string())
                    .compact()
            }
            Mutation::Claim(edit) => {
                let mut c = object(&orig.payload_text().ok()?)?;
                match edit {
                    ClaimEdit::Sub(s) => {
                        c.insert("sub".into(), Value::String((*s).into()));
                    }
                    ClaimEdit::Role(r) => {
                        c.insert("role".into(), Value::String((*r).into()));
                    }
                    ClaimEdit::ExpShift(d) => {
                        let exp = c.get("exp").and_then(Value::as_i64)?;
                        c.insert("exp".into(), Value::from(exp.saturating_add(*d)));
                    }
                    ClaimEdit::Aud(a) => {
                        c.insert("aud".into(), Value::String((*a).into()));
                    }
                    ClaimEdit::Iss(i) => {
                        c.insert("iss".into(), Value::String((*i).into()));
                    }
                    ClaimEdit::Remove(n) => {
                        c.remove(*n)?;
                    }
                    ClaimEdit::Extra(n, v) => {
                        c.insert((*n).into(), Value::from(*v));
                    }
                }
                jws.with_payload_text(&Value::Object(c).to_string())
                    .compact()
            }
        };
        genuinely_invalid(token, &mutated, alg).then_some(mutated)
    }
}

/// Whether `mutated` differs from the valid `orig` in a way no correct implementation may
/// accept: a different signing input, or a signature whose bytes (decoded as leniently as any
/// decoder might) differ and are not the ES256 high-S twin of the original.
pub fn genuinely_invalid(orig: &str, mutated: &str, alg: &str) -> bool {
    if orig == mutated {
        return false;
    }
    let (Ok(o), Ok(m)) = (Jws::parse(orig), Jws::parse(mutated)) else {
        // not three segments any more: never a valid compact JWS
        return true;
    };
    if o.header != m.header || o.payload != m.payload {
        return true; // the signature covers the exact text of both
    }
    let (Some(os), Some(ms)) = (lenient_decode(&o.signature), lenient_decode(&m.signature)) else {
        return true; // undecodable signature text
    };
    if os == ms {
        return false;
    }
    if alg == "ES256"
        && let Ok(twin) = ecdsa::high_s_twin(&os)
        && twin == ms
    {
        return false;
    }
    true
}

/// The property: every mutated valid token is answered 401 UNAUTHENTICATED.
impl Harness {
    pub(super) fn mutation_property(&self, bases: &[Result<Base, String>]) -> ScenarioReport {
        let tags = &["properties", "mutation"];
        let result = self
            .usable(bases)
            .map_err(Refusal::from)
            .and_then(|usable| {
                if usable.is_empty() {
                    return Err("suite error: no key family to mint with".into());
                }
                let path = self.ctx.profile.routes.protected.as_str();
                let expect = Expect::Error(401, "UNAUTHENTICATED");
                let expectation = format!(
                    "{} (the token was mutated so that no correct implementation accepts it)",
                    expect.describe(self.ctx.profile.error_code_pointer.as_str())
                );
                let last: RefCell<Option<CaseFailure>> = RefCell::new(None);
                let deadline = self.deadline();
                let timed_out = RefCell::new(false);
                let n = usable.len();
                let strategy = (0..n, mutation());
                let mut runner = self.runner("mutation");
                let outcome = runner.run(&strategy, |(i, m)| {
                    if Instant::now() >= deadline {
                        *timed_out.borrow_mut() = true;
                        return Ok(());
                    }
                    let base = usable[i];
                    let Some(token) = m.apply(&base.token, base.family.alg()) else {
                        return Ok(()); // an equivalent of a valid token: not a mutation
                    };
                    let ex = self.send(path, &token);
                    if self.meets(&ex, &expect) {
                        return Ok(());
                    }
                    *last.borrow_mut() = Some(CaseFailure {
                        suite_error: false,
                        input: format!("{} base token, {m:?}", base.family.alg()),
                        recipe: vec![
                            format!("a valid {} token minted by the issuer", base.family.alg()),
                            format!("mutated: {m:?}"),
                        ],
                        expectation: expectation.clone(),
                        exchange: ex,
                    });
                    Err(TestCaseError::fail("wrong verdict"))
                });
                self.conclude(outcome, &last, &timed_out)
            });
        self.scenario(MUTATION_NAME, 1, tags, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree as _;
    use proptest::test_runner::TestRunner;

    const ES: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1IiwiZXhwIjoxNzAwMDAwMDAwfQ";

    fn es_token() -> String {
        let sig: Vec<u8> = (1..=64).collect();
        format!("{ES}.{}", b64::encode(sig))
    }

    #[test]
    fn equivalent_signature_encodings_are_not_mutations() {
        let t = es_token();
        let jws = Jws::parse(&t).unwrap();
        let padded = format!(
            "{}.{}.{}",
            jws.header,
            jws.payload,
            b64::with_padding(&jws.signature)
        );
        assert!(!genuinely_invalid(&t, &padded, "ES256"));
        let std = format!(
            "{}.{}.{}",
            jws.header,
            jws.payload,
            b64::to_standard_alphabet(&jws.signature).unwrap()
        );
        assert!(!genuinely_invalid(&t, &std, "ES256"));
        let tail = b64::with_noncanonical_tail(&jws.signature).unwrap();
        let tail = format!("{}.{}.{tail}", jws.header, jws.payload);
        assert!(!genuinely_invalid(&t, &tail, "ES256"));
        let twin = ecdsa::high_s_twin(&jws.signature_bytes().unwrap()).unwrap();
        let twin = jws.clone().with_signature_bytes(&twin).compact();
        assert!(!genuinely_invalid(&t, &twin, "ES256"));
        // the same twin is just wrong bytes for an HMAC
        assert!(genuinely_invalid(&t, &twin, "HS256"));
        // re-encoding the header changes the signing input
        let h = format!(
            "{}.{}.{}",
            b64::with_padding(&jws.header),
            jws.payload,
            jws.signature
        );
        assert!(genuinely_invalid(&t, &h, "ES256"));
    }

    #[test]
    fn every_generated_mutation_is_invalid_or_refused() {
        let t = es_token();
        let mut runner = TestRunner::deterministic();
        let strategy = mutation();
        let mut applied = 0;
        for _ in 0..2000 {
            let m = strategy.new_tree(&mut runner).unwrap().current();
            if let Some(out) = m.apply(&t, "ES256") {
                applied += 1;
                assert!(genuinely_invalid(&t, &out, "ES256"), "{m:?}");
                assert!(out.bytes().all(|b| b.is_ascii_graphic()), "{m:?}: {out}");
                assert!(!out.is_empty());
            }
        }
        assert!(applied > 1500, "too many refused mutations: {applied}");
    }

    #[test]
    fn edits_keep_the_old_signature() {
        let t = es_token();
        let out = Mutation::Claim(ClaimEdit::Role("service_role"))
            .apply(&t, "ES256")
            .unwrap();
        let (o, m) = (Jws::parse(&t).unwrap(), Jws::parse(&out).unwrap());
        assert_eq!(o.signature, m.signature);
        assert!(m.payload_text().unwrap().contains("service_role"));
        let none = Mutation::AlgNone.apply(&t, "ES256").unwrap();
        assert!(none.ends_with('.'));
        assert!(
            Jws::parse(&none)
                .unwrap()
                .header_text()
                .unwrap()
                .contains("\"none\"")
        );
    }

    #[test]
    fn truncation_never_empties_the_token() {
        let t = es_token();
        for cut in [1, 2, t.len() - 1, t.len(), t.len() + 5, 2047] {
            let out = Mutation::Truncate { cut }.apply(&t, "ES256").unwrap();
            assert!(!out.is_empty() && out.len() < t.len(), "{cut}");
        }
    }
}
