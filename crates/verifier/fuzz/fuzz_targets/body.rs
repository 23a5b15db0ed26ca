// The body of the `verify` fuzz target, shared with the stable test
// `crates/verifier/tests/fuzz_body.rs` (nightly, hence cargo-fuzz, is not always available).
// Included with `include!`, so it must stay self-contained.

/// Runs `Verifier::verify` on arbitrary bytes: it must never panic, never hang, and never
/// accept (nobody can forge a token for a secret and keys the input cannot know).
pub fn fuzz_verify(data: &[u8]) {
    use std::sync::{Arc, OnceLock};

    struct Fixed;
    impl xauth_verifier::Clock for Fixed {
        fn now_unix(&self) -> i64 {
            1_900_000_000
        }
    }

    static STATE: OnceLock<(tokio::runtime::Runtime, xauth_verifier::Verifier)> = OnceLock::new();
    let (rt, verifier) = STATE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        // Port 9 on loopback: the one JWKS fetch per cooldown is refused at once.
        let cfg = xauth_verifier::VerifierConfig::supabase("http://127.0.0.1:9")
            .expect("config")
            .legacy_secret(b"fuzz-legacy-secret-fuzz-legacy-secret!".to_vec())
            .clock(Arc::new(Fixed));
        (rt, xauth_verifier::Verifier::new(cfg).expect("verifier"))
    });
    let token = String::from_utf8_lossy(data);
    let verdict = rt.block_on(verifier.verify(&token));
    assert!(verdict.is_err(), "arbitrary bytes were accepted");
}
