//! The cargo-fuzz target's body (`fuzz/fuzz_targets/body.rs`) run on stable over random bytes
//! and over random structured near-tokens.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

include!("../fuzz/fuzz_targets/body.rs");

use proptest::prelude::*;

const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"";

fn near_token() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 0..400)
}

fn b64_json() -> impl Strategy<Value = Vec<u8>> {
    use base64::Engine as _;
    let enc = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    (
        prop::sample::select(vec![
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"ES256","kid":"k"}"#,
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"alg":"none"}"#,
            r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        ]),
        "[ -~]{0,80}",
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(move |(h, p, s)| {
            use base64::Engine as _;
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.{}", enc(h.to_owned()), enc(p), sig).into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_nor_pass(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        fuzz_verify(&data);
    }

    #[test]
    fn near_tokens_never_panic_nor_pass(data in near_token()) {
        fuzz_verify(&data);
    }

    #[test]
    fn structured_tokens_never_panic_nor_pass(data in b64_json()) {
        fuzz_verify(&data);
    }
}
