//! Each seeded defect really opens the hole it names (and the same token is refused without it).
#![cfg(feature = "seeded-defects")]
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xauth_verifier::{Defect, Rejection, VerifierConfig};

async fn with_defect(d: Defect) -> Fixture {
    fixture_with(&standard_jwks(), move |c: VerifierConfig| {
        c.legacy_secret(SECRET).defect(d)
    })
    .await
}

/// Asserts `token` is refused by a correct verifier and accepted with the defect.
async fn opens(d: Defect, make: impl Fn(&Fixture) -> String) {
    let good = fixture().await;
    let bad = with_defect(d).await;
    let t = make(&good);
    assert!(
        good.verifier.verify(&t).await.is_err(),
        "{d}: correct verifier accepted"
    );
    let t = make(&bad);
    let r = bad.verifier.verify(&t).await;
    assert!(r.is_ok(), "{d}: defect did not open: {r:?}");
}

#[test]
fn names_are_the_contract() {
    let names: Vec<String> = Defect::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "alg-none",
            "hs256-public-key",
            "ignore-exp",
            "leeway-15m",
            "ignore-nbf",
            "ignore-iss",
            "ignore-aud",
            "expired-before-signature",
            "kid-ignored",
            "trust-embedded-jwk",
            "follow-jku",
            "psychic-ecdsa",
            "der-ecdsa",
            "ignore-crit",
            "jwks-fetch-once",
            "jwks-no-cooldown",
            "jwks-no-cache",
            "accept-missing-sub",
            "hs256-skips-iss",
            "jwks-cooldown-per-kid"
        ]
    );
    for n in names {
        assert_eq!(n.parse::<Defect>().unwrap().to_string(), n);
    }
}

#[tokio::test]
async fn alg_none() {
    opens(Defect::AlgNone, |fx| {
        jwt(&json!({"alg":"nOnE"}), &fx.claims(), Signer::Empty)
    })
    .await;
}

#[tokio::test]
async fn hs256_public_key() {
    use base64::Engine as _;
    let point = ec_point(&keys().ec);
    let mut spki = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    spki.extend_from_slice(&point);
    let b = base64::engine::general_purpose::STANDARD.encode(&spki);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    );
    opens(Defect::Hs256PublicKey, |fx| {
        jwt(
            &json!({"alg":"HS256","kid":"ec-1"}),
            &fx.claims(),
            Signer::Hs256(pem.as_bytes()),
        )
    })
    .await;
}

#[tokio::test]
async fn ignore_exp() {
    opens(Defect::IgnoreExp, |fx| {
        fx.es256(&fx.claims_with(json!({"exp": NOW - 100, "iat": NOW - 200})))
    })
    .await;
}

#[tokio::test]
async fn leeway_15m() {
    opens(Defect::Leeway15m, |fx| {
        fx.es256(&fx.claims_with(json!({"exp": NOW - 600, "iat": NOW - 900})))
    })
    .await;
    let fx = with_defect(Defect::Leeway15m).await;
    let t = fx.es256(&fx.claims_with(json!({"exp": NOW - 900, "iat": NOW - 1000})));
    assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::Expired));
}

#[tokio::test]
async fn ignore_nbf() {
    opens(Defect::IgnoreNbf, |fx| {
        fx.es256(&fx.claims_with(json!({"nbf": NOW + 3000})))
    })
    .await;
}

#[tokio::test]
async fn ignore_iss() {
    opens(Defect::IgnoreIss, |fx| {
        fx.es256(&fx.claims_with(json!({"iss": "https://evil.example/auth/v1"})))
    })
    .await;
}

#[tokio::test]
async fn ignore_aud() {
    opens(Defect::IgnoreAud, |fx| {
        fx.es256(&fx.claims_with(json!({"aud": "anon"})))
    })
    .await;
}

#[tokio::test]
async fn expired_before_signature() {
    let fx = with_defect(Defect::ExpiredBeforeSignature).await;
    let c = fx.claims_with(json!({"exp": NOW - 10, "iat": NOW - 100}));
    let t = jwt(
        &json!({"alg":"ES256","kid":"ec-1"}),
        &c,
        Signer::Es256(&keys().attacker_ec),
    );
    assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::Expired));
    let good = fixture().await;
    assert_eq!(good.verifier.verify(&t).await, Err(Rejection::Signature));
}

#[tokio::test]
async fn kid_ignored() {
    opens(Defect::KidIgnored, |fx| {
        jwt(
            &json!({"alg":"ES256","kid":"not-a-real-kid"}),
            &fx.claims(),
            Signer::Es256(&keys().ec),
        )
    })
    .await;
}

#[tokio::test]
async fn trust_embedded_jwk() {
    opens(Defect::TrustEmbeddedJwk, |fx| {
        let k = &keys().attacker_ec;
        jwt(
            &json!({"alg":"ES256","kid":"ec-1","jwk":ec_jwk(k, "ec-1")}),
            &fx.claims(),
            Signer::Es256(k),
        )
    })
    .await;
}

#[tokio::test]
async fn follow_jku() {
    let listener = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/evil.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"keys":[ec_jwk(&keys().attacker_ec, "evil")]})),
        )
        .mount(&listener)
        .await;
    let url = format!("{}/evil.json", listener.uri());
    opens(Defect::FollowJku, |fx| {
        jwt(
            &json!({"alg":"ES256","kid":"evil","jku":url}),
            &fx.claims(),
            Signer::Es256(&keys().attacker_ec),
        )
    })
    .await;
    assert_eq!(listener.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn psychic_ecdsa() {
    opens(Defect::PsychicEcdsa, |fx| {
        with_sig(&fx.es256(&fx.claims()), &[0u8; 64])
    })
    .await;
}

#[tokio::test]
async fn der_ecdsa() {
    fn der_int(v: &[u8]) -> Vec<u8> {
        let mut v = v.to_vec();
        while v.len() > 1 && v[0] == 0 && v[1] < 0x80 {
            v.remove(0);
        }
        if v[0] >= 0x80 {
            v.insert(0, 0);
        }
        [vec![0x02, v.len() as u8], v].concat()
    }
    opens(Defect::DerEcdsa, |fx| {
        let t = fx.es256(&fx.claims());
        let raw = unb64(&segments(&t)[2]);
        let body = [der_int(&raw[..32]), der_int(&raw[32..])].concat();
        with_sig(&t, &[vec![0x30, body.len() as u8], body].concat())
    })
    .await;
}

#[tokio::test]
async fn ignore_crit() {
    opens(Defect::IgnoreCrit, |fx| {
        jwt(
            &json!({"alg":"ES256","kid":"ec-1","crit":["x-unknown"],"x-unknown":true}),
            &fx.claims(),
            Signer::Es256(&keys().ec),
        )
    })
    .await;
}

#[tokio::test]
async fn jwks_fetch_once() {
    let fx = with_defect(Defect::JwksFetchOnce).await;
    fx.verifier.verify(&fx.es256(&fx.claims())).await.unwrap();
    fx.clock.advance(10_000);
    let t = jwt(
        &json!({"alg":"ES256","kid":"unknown"}),
        &fx.claims(),
        Signer::Es256(&keys().ec),
    );
    assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    fx.verifier.verify(&fx.es256(&fx.claims())).await.unwrap();
    assert_eq!(fx.verifier.jwks_fetch_count(), 1);
}

#[tokio::test]
async fn jwks_no_cooldown() {
    let fx = with_defect(Defect::JwksNoCooldown).await;
    fx.verifier.verify(&fx.es256(&fx.claims())).await.unwrap();
    for i in 0..20 {
        let t = jwt(
            &json!({"alg":"ES256","kid":format!("k{i}")}),
            &fx.claims(),
            Signer::Es256(&keys().ec),
        );
        assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    }
    assert_eq!(fx.jwks_hits().await, 21);
}

#[tokio::test]
async fn jwks_no_cache() {
    let fx = with_defect(Defect::JwksNoCache).await;
    for _ in 0..5 {
        fx.verifier.verify(&fx.es256(&fx.claims())).await.unwrap();
    }
    assert_eq!(fx.jwks_hits().await, 5);
}

#[tokio::test]
async fn accept_missing_sub() {
    for bad_sub in [
        json!(null),
        json!(""),
        json!(42),
        json!(["a"]),
        json!({"id": "a"}),
    ] {
        opens(Defect::AcceptMissingSub, |fx| {
            fx.es256(&fx.claims_with(json!({ "sub": bad_sub.clone() })))
        })
        .await;
    }
    let good = fixture().await;
    let t = good.es256(&good.claims_with(json!({"sub": null})));
    assert_eq!(
        good.verifier.verify(&t).await,
        Err(Rejection::MissingClaim("sub"))
    );
    let t = good.es256(&good.claims_with(json!({"sub": 42})));
    assert_eq!(
        good.verifier.verify(&t).await,
        Err(Rejection::InvalidClaim("sub"))
    );
    // Everything else is still checked under the defect.
    let fx = with_defect(Defect::AcceptMissingSub).await;
    let t = fx.es256(&fx.claims_with(json!({"sub": null, "aud": "anon"})));
    assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::Audience));
    let t = fx.es256(&fx.claims());
    assert_eq!(
        fx.verifier.verify(&t).await.unwrap().sub,
        "6f1d3c2e-8a41-4a8e-9a55-1c5b3f7d2e10"
    );
}

#[tokio::test]
async fn hs256_skips_iss() {
    for iss in [json!(null), json!("https://evil.example/auth/v1"), json!(7)] {
        opens(Defect::Hs256SkipsIss, |fx| {
            fx.hs256(&fx.claims_with(json!({ "iss": iss.clone() })))
        })
        .await;
    }
    // ES256 and RS256 keep the iss check under the defect.
    let fx = with_defect(Defect::Hs256SkipsIss).await;
    let evil = fx.claims_with(json!({"iss": "https://evil.example/auth/v1"}));
    assert_eq!(
        fx.verifier.verify(&fx.es256(&evil)).await,
        Err(Rejection::Issuer)
    );
    assert_eq!(
        fx.verifier.verify(&fx.rs256(&evil)).await,
        Err(Rejection::Issuer)
    );
    let missing = fx.claims_with(json!({"iss": null}));
    assert_eq!(
        fx.verifier.verify(&fx.es256(&missing)).await,
        Err(Rejection::MissingClaim("iss"))
    );
    // HS256 keeps the other claim checks.
    let aud = fx.claims_with(json!({"iss": null, "aud": "anon"}));
    assert_eq!(
        fx.verifier.verify(&fx.hs256(&aud)).await,
        Err(Rejection::Audience)
    );
}

fn unknown_kid_token(fx: &Fixture, kid: &str) -> String {
    jwt(
        &json!({"alg":"ES256","kid":kid}),
        &fx.claims(),
        Signer::Es256(&keys().ec),
    )
}

#[tokio::test]
async fn jwks_cooldown_per_kid() {
    let fx = with_defect(Defect::JwksCooldownPerKid).await;
    fx.verifier.verify(&fx.es256(&fx.claims())).await.unwrap();
    for i in 0..20 {
        let t = unknown_kid_token(&fx, &format!("k{i}"));
        assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    }
    assert_eq!(
        fx.jwks_hits().await,
        21,
        "one fetch per distinct unknown kid"
    );
    // A kid seen before stays in its own cooldown (unlike jwks-no-cooldown).
    for _ in 0..5 {
        let t = unknown_kid_token(&fx, "k0");
        assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    }
    assert_eq!(fx.jwks_hits().await, 21);
    fx.clock.advance(31);
    let t = unknown_kid_token(&fx, "k0");
    assert_eq!(fx.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    assert_eq!(
        fx.jwks_hits().await,
        22,
        "k0 again once its own cooldown is over"
    );

    // The correct verifier: one global cooldown, so the same flood costs no extra fetch.
    let good = fixture().await;
    good.verifier
        .verify(&good.es256(&good.claims()))
        .await
        .unwrap();
    for i in 0..20 {
        let t = unknown_kid_token(&good, &format!("k{i}"));
        assert_eq!(good.verifier.verify(&t).await, Err(Rejection::UnknownKid));
    }
    assert_eq!(good.jwks_hits().await, 1);
}
