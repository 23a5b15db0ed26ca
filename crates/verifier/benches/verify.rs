//! Raw aws-lc-rs signature verification vs `Verifier::verify` with a warm JWKS cache, for ES256,
//! RS256 and HS256, side by side; prints the ratios against the goals at the end.
//!
//! Run: `cargo bench -p xauth-verifier --bench verify` (one core is enough; the machine is shared,
//! so compare ratios rather than absolute numbers).
// Benchmark setup unwraps like a test: a failure means a broken setup, not a result.
#![allow(clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use criterion::Criterion;
use support::*;

struct Case {
    name: &'static str,
    token: String,
    raw: Box<dyn Fn() -> bool>,
}

fn cases(fx: &Fixture) -> Vec<Case> {
    let claims = fx.claims();
    let k = keys();
    let mut out = Vec::new();
    for (name, token) in [
        ("ES256", fx.es256(&claims)),
        ("RS256", fx.rs256(&claims)),
        ("HS256", fx.hs256(&claims)),
    ] {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let input = input.as_bytes().to_vec();
        let sig = unb64(sig);
        let raw: Box<dyn Fn() -> bool> = match name {
            "ES256" => {
                let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, ec_point(&k.ec)).unwrap();
                Box::new(move || key.verify_sig(black_box(&input), black_box(&sig)).is_ok())
            }
            "RS256" => {
                let n = rsa_n(&k.rsa);
                let key = RsaPublicKeyComponents {
                    n: &n[..],
                    e: &[1u8, 0, 1][..],
                }
                .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                .unwrap();
                Box::new(move || key.verify_sig(black_box(&input), black_box(&sig)).is_ok())
            }
            _ => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
                Box::new(move || hmac::verify(&key, black_box(&input), black_box(&sig)).is_ok())
            }
        };
        out.push(Case { name, token, raw });
    }
    out
}

fn batch(f: &dyn Fn() -> bool, iters: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        assert!(f());
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Interleaved measurement for a noisy shared machine: 15 rounds of (raw batch, verify batch),
/// each batch ~30 ms; returns the medians of raw ns/op, verify ns/op and the per-round ratio.
fn compare(raw: &dyn Fn() -> bool, full: &dyn Fn() -> bool) -> (f64, f64, f64) {
    let mut iters = 1u64;
    while batch(full, iters) * (iters as f64) < 30e6 {
        iters *= 2;
    }
    let (mut raws, mut fulls, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let r = batch(raw, iters);
        let f = batch(full, iters);
        raws.push(r);
        fulls.push(f);
        ratios.push(f / r);
    }
    (median(raws), median(fulls), median(ratios))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture());
    rt.block_on(fx.verifier.refresh_jwks()).unwrap();
    let cases = cases(&fx);
    let verifier = fx.verifier.clone();
    // The cache is warm and the fake clock never moves, so `verify` never awaits anything:
    // a minimal executor measures the verifier, not a runtime.
    let verify = |t: &str| futures::executor::block_on(verifier.verify(black_box(t))).is_ok();
    for c in &cases {
        assert!((c.raw)() && verify(&c.token), "{} control failed", c.name);
    }

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for c in &cases {
        let mut g = criterion.benchmark_group(c.name);
        g.bench_function("raw aws-lc-rs", |b| b.iter(|| (c.raw)()));
        g.bench_function("Verifier::verify (warm)", |b| b.iter(|| verify(&c.token)));
        g.finish();
    }
    criterion.final_summary();

    println!("\nside by side, interleaved (medians of 15 rounds, ns/op, one thread):");
    println!(
        "{:<6} {:>10} {:>10} {:>7} {:>10}  goal",
        "alg", "raw", "verify", "ratio", "verify/s"
    );
    for c in &cases {
        let (raw, full, ratio) = compare(&c.raw, &|| verify(&c.token));
        let goal = match c.name {
            "ES256" => format!(
                "ratio <= 1.15: {}",
                if ratio <= 1.15 { "met" } else { "MISSED" }
            ),
            "RS256" => format!(
                "ratio <= 1.30: {}",
                if ratio <= 1.30 { "met" } else { "MISSED" }
            ),
            _ => format!(
                ">= 150000/s: {}",
                if 1e9 / full >= 150_000.0 {
                    "met"
                } else {
                    "MISSED"
                }
            ),
        };
        println!(
            "{:<6} {:>10.0} {:>10.0} {:>7.3} {:>10.0}  {goal}",
            c.name,
            raw,
            full,
            ratio,
            1e9 / full
        );
    }
    assert_eq!(fx.verifier.jwks_fetch_count(), 1, "the cache stayed warm");
}
