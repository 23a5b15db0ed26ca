//! Steps of `features/jwks_entries.feature`: unusable JWKS entries (A44) and two keys under one
//! kid (A43). The issuer publishes extra JWK entries after its own keys (control API
//! `/jwks/extra`); the private keys behind them are generated here, per scenario, and never
//! leave the harness. Every wait is a bounded poll derived from the declared cooldown.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use p256::ecdsa::signature::Signer as _;
use parking_lot::Mutex;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use super::{
    FAULT_RESPONSE_BOUND, LONG_REQUEST_TIMEOUT, MARGIN, PollResult, cooldown, current_kid,
    derived_wait, fail, genuine_payload, harness, is_accepted, is_error, jwks_fetches, mint_fresh,
    protected_url, same_source_client, send_bearer,
};
use crate::evidence::Exchange;
use crate::forge::{b64, jws::Jws, sign};
use crate::http::TargetClient;
use crate::world::XauthWorld;

/// A private key only the harness holds, and how it signs.
#[derive(Clone)]
enum Signer {
    /// ECDSA P-256 (raw `r‖s`).
    Es256(p256::ecdsa::SigningKey),
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(Box<rsa::RsaPrivateKey>),
    /// RSA with public exponent 1: `s^1 mod n = s`, so the "signature" is the PKCS#1 v1.5
    /// encoded message itself, `len` bytes long (anyone can make it).
    RsaExponentOne { len: usize },
    /// HMAC-SHA-256 with these key bytes.
    Hs256(Vec<u8>),
}

impl Signer {
    fn alg(&self) -> &'static str {
        match self {
            Signer::Es256(_) => "ES256",
            Signer::Rs256(_) | Signer::RsaExponentOne { .. } => "RS256",
            Signer::Hs256(_) => "HS256",
        }
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Signer::Es256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(input);
                Ok(sig.to_bytes().to_vec())
            }
            Signer::Rs256(key) => {
                let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**key).clone());
                let sig: rsa::pkcs1v15::Signature = rsa::signature::Signer::sign(&key, input);
                Ok(rsa::signature::SignatureEncoding::to_vec(&sig))
            }
            Signer::RsaExponentOne { len } => pkcs1_v15_sha256_encoding(input, *len),
            Signer::Hs256(k) => sign::hmac("HS256", k, input).map_err(|e| e.to_string()),
        }
    }
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of SHA-256(`input`), `len` bytes.
fn pkcs1_v15_sha256_encoding(input: &[u8], len: usize) -> Result<Vec<u8>, String> {
    use sha2::Digest as _;
    const SHA256_DIGEST_INFO: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let t_len = SHA256_DIGEST_INFO.len() + 32;
    if len < t_len + 11 {
        return Err(format!(
            "an RSA modulus of {len} bytes is too short for SHA-256"
        ));
    }
    let mut em = vec![0x00, 0x01];
    em.resize(len - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(&SHA256_DIGEST_INFO);
    em.extend_from_slice(&sha2::Sha256::digest(input));
    Ok(em)
}

/// A fresh kid for an extra entry.
fn fresh_kid(what: &str) -> String {
    format!("xauth-{what}-{}", uuid::Uuid::new_v4().simple())
}

fn new_p256() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng)
}

/// The public JWK of `key` (`kty`, `crv`, `x`, `y`) with `kid`, `alg` ES256 and, unless
/// `None`, `use`.
fn ec_jwk(key: &p256::ecdsa::SigningKey, kid: &str, use_: Option<&str>) -> Result<Value, String> {
    let text = p256::PublicKey::from(key.verifying_key()).to_jwk_string();
    let mut jwk: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!("ES256");
    if let Some(u) = use_ {
        jwk["use"] = json!(u);
    }
    Ok(jwk)
}

/// An RSA-1024 private key, generated once per process off the async runtime (the kid is
/// fresh in every scenario).
async fn rsa_1024() -> Result<rsa::RsaPrivateKey, String> {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(k.clone());
    }
    let key = tokio::task::spawn_blocking(|| {
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok(KEY.get_or_init(|| key).clone())
}

/// The modulus of a genuine RSA-2048 key (the attacker's: any 2048-bit modulus will do).
async fn modulus_2048() -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(|| sign::attacker_rsa().n().to_bytes_be())
        .await
        .map_err(|e| e.to_string())
}

/// A P-256 key whose published point is moved off the curve: `y` with its lowest bit
/// flipped (checked: not a curve point, below the field prime).
fn off_curve_jwk(kid: &str) -> Result<(Value, Signer), String> {
    for _ in 0..16 {
        let key = new_p256();
        let mut jwk = ec_jwk(&key, kid, Some("sig"))?;
        let x = b64::decode(jwk["x"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        let mut y =
            b64::decode(jwk["y"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        if x.len() != 32 || y.len() != 32 {
            return Err("P-256 coordinates are not 32 bytes".into());
        }
        y[31] ^= 1;
        let below_p = y.as_slice() < crate::forge::ecdsa::P.as_slice();
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        if below_p && p256::PublicKey::from_sec1_bytes(&sec1).is_err() {
            jwk["y"] = json!(b64::encode(&y));
            return Ok((jwk, Signer::Es256(key)));
        }
    }
    Err("could not move a P-256 point off the curve".into())
}

/// The entry named in the feature, with a fresh kid: its JWK and the harness key that signs
/// tokens for it.
async fn unusable_entry(entry: &str) -> Result<(String, Value, Signer), String> {
    let kid = fresh_kid("unusable");
    let (jwk, signer) = match entry {
        "an EC key whose point is not on P-256" => off_curve_jwk(&kid)?,
        "a P-256 key labelled \"crv\":\"P-384\"" => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, Some("sig"))?;
            jwk["crv"] = json!("P-384");
            (jwk, Signer::Es256(key))
        }
        "an ES256 key with \"use\":\"enc\"" => {
            let key = new_p256();
            (ec_jwk(&key, &kid, Some("enc"))?, Signer::Es256(key))
        }
        "an ES256 key whose \"key_ops\" lack \"verify\"" => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, None)?;
            jwk["key_ops"] = json!(["encrypt"]);
            (jwk, Signer::Es256(key))
        }
        "an ES256 key that also carries its private \"d\"" => {
            let key = new_p256();
            let mut jwk = ec_jwk(&key, &kid, Some("sig"))?;
            jwk["d"] = json!(b64::encode(key.to_bytes()));
            (jwk, Signer::Es256(key))
        }
        "a symmetric \"oct\" key used with HS256" => {
            let secret: [u8; 32] = rand::random();
            let jwk = json!({"kty": "oct", "kid": kid, "alg": "HS256", "use": "sig", "k": b64::encode(secret)});
            (jwk, Signer::Hs256(secret.to_vec()))
        }
        "an RSA key of 1024 bits" => {
            let key = rsa_1024().await?;
            let jwk = json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": b64::encode(key.n().to_bytes_be()),
                "e": b64::encode(key.e().to_bytes_be()),
            });
            (jwk, Signer::Rs256(Box::new(key)))
        }
        "an RSA key with public exponent 1" => {
            let n = modulus_2048().await?;
            let len = n.len();
            let jwk = json!({
                "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                "n": b64::encode(n), "e": "AQ",
            });
            (jwk, Signer::RsaExponentOne { len })
        }
        other => return Err(format!("unknown JWKS entry kind: {other}")),
    };
    Ok((kid, jwk, signer))
}

/// What this feature's steps published and observed, per scenario.
#[derive(Clone, Default)]
struct Entries {
    /// The usable ES256 control key.
    control: Option<(String, Signer)>,
    /// The entry under test (A44) and its description.
    unusable: Option<(String, Signer, String)>,
    /// The shared kid and the keys published under it, in JWKS order (A43).
    shared: Option<(String, Vec<Signer>)>,
    /// The control key poll.
    poll: Option<PollResult>,
    /// Answers to the tokens of the shared kid.
    answers: Vec<Exchange>,
}

fn table() -> &'static Mutex<HashMap<String, Entries>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Entries>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn entries(w: &XauthWorld) -> Entries {
    table().lock().get(&w.subject).cloned().unwrap_or_default()
}

fn update<R>(w: &XauthWorld, f: impl FnOnce(&mut Entries) -> R) -> R {
    f(table().lock().entry(w.subject.clone()).or_default())
}

/// A token over a genuine payload (fresh subject) with header `{"alg","kid","typ"}`, signed
/// by `signer`.
async fn signed_token(w: &XauthWorld, kid: &str, signer: &Signer) -> String {
    let payload = genuine_payload(w).await;
    let header = json!({"alg": signer.alg(), "kid": kid, "typ": "JWT"}).to_string();
    let jws = Jws::from_texts(&header, &payload);
    match signer.sign(jws.signing_input().as_bytes()) {
        Ok(sig) => jws.with_signature_bytes(&sig).compact(),
        Err(e) => harness(w, format!("cannot sign with the {} key: {e}", signer.alg())).await,
    }
}

async fn control(w: &XauthWorld) -> (String, Signer) {
    match entries(w).control {
        Some(c) => c,
        None => harness(w, "no control key: a step must publish one first").await,
    }
}

/// Poll interval: a twentieth of the declared cooldown within [200 ms, 1 s], so a poll sends
/// a few dozen requests at most whatever the profile.
fn poll_interval(w: &XauthWorld) -> Duration {
    (cooldown(w) / 20).clamp(Duration::from_millis(200), Duration::from_secs(1))
}

/// Sends `token` until it gets an answer other than 429 RATE_LIMITED, at most for
/// [`FAULT_RESPONSE_BOUND`]; the last exchange.
async fn judged(w: &XauthWorld, client: &TargetClient, token: &str) -> Exchange {
    let start = Instant::now();
    loop {
        let ex = send_bearer(client, protected_url(w), token).await;
        if !is_error(w, &ex, 429, "RATE_LIMITED") || start.elapsed() >= FAULT_RESPONSE_BOUND {
            return ex;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether the exchange is 2xx or 401 UNAUTHENTICATED, answered within the fault bound.
fn answered_sanely(w: &XauthWorld, ex: &Exchange) -> bool {
    (is_accepted(ex) || is_error(w, ex, 401, "UNAUTHENTICATED"))
        && ex.elapsed <= FAULT_RESPONSE_BOUND
}

#[given(regex = r"^the issuer's JWKS also publishes (.+), then a usable ES256 control key$")]
async fn publish(w: &mut XauthWorld, entry: String) {
    let mut keys = Vec::new();
    if entry == "two different ES256 keys under one fresh kid" {
        let kid = fresh_kid("shared");
        let (first, second) = (new_p256(), new_p256());
        for key in [&first, &second] {
            match ec_jwk(key, &kid, Some("sig")) {
                Ok(jwk) => keys.push(jwk),
                Err(e) => harness(w, e).await,
            }
        }
        update(w, |s| {
            s.shared = Some((kid, vec![Signer::Es256(first), Signer::Es256(second)]))
        });
    } else {
        let (kid, jwk, signer) = match unusable_entry(&entry).await {
            Ok(e) => e,
            Err(e) => harness(w, e).await,
        };
        keys.push(jwk);
        update(w, |s| s.unusable = Some((kid, signer, entry.clone())));
    }
    // the control key comes last: a parser that gives up at the bad entry never sees it
    let control_kid = fresh_kid("control");
    let control_key = new_p256();
    match ec_jwk(&control_key, &control_kid, Some("sig")) {
        Ok(jwk) => keys.push(jwk),
        Err(e) => harness(w, e).await,
    }
    update(w, |s| {
        s.control = Some((control_kid, Signer::Es256(control_key)))
    });
    if let Err(e) = w.issuer.set_extra_jwks(&keys).await {
        harness(w, e).await;
    }
}

#[when(regex = r"^I send tokens signed by the control key until one is accepted$")]
async fn until_control_accepted(w: &mut XauthWorld) {
    let (kid, signer) = control(w).await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let f0 = jwks_fetches(w).await;
    let start = Instant::now();
    let mut requests = 0;
    let reached = loop {
        let token = signed_token(w, &kid, &signer).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        requests += 1;
        if is_accepted(&ex) {
            w.exchanges.push(ex);
            break true;
        }
        let not_yet =
            is_error(w, &ex, 401, "UNAUTHENTICATED") || is_error(w, &ex, 429, "RATE_LIMITED");
        w.exchanges.push(ex);
        if !not_yet {
            fail(
                w,
                &format!(
                    "2xx for a token signed by the usable ES256 key {kid} published in the issuer's JWKS next to an unusable entry, or 401 UNAUTHENTICATED while the implementation has not fetched that key set yet (never another answer: an unusable entry must not break the key set)"
                ),
                &[],
            )
            .await;
        }
        if start.elapsed() + interval > bound {
            break false;
        }
        tokio::time::sleep(interval).await;
    };
    let result = PollResult {
        reached,
        elapsed: start.elapsed(),
        bound,
        fetches: jwks_fetches(w).await.saturating_sub(f0),
        requests,
    };
    update(w, |s| s.poll = Some(result));
}

#[then(
    regex = r"^a token signed by the control key was accepted within two declared cooldowns plus the margin$"
)]
async fn control_was_accepted(w: &mut XauthWorld) {
    let Some(p) = entries(w).poll else {
        harness(w, "no control key poll ran before this step").await
    };
    if !p.reached {
        let (kid, _) = control(w).await;
        let what = match entries(w).unusable {
            Some((_, _, entry)) => format!("after {entry}"),
            None => "after two keys sharing a kid".to_owned(),
        };
        fail(
            w,
            &format!(
                "a token signed by the usable ES256 key {kid}, published in the issuer's JWKS {what}, accepted within two declared cooldowns ({} s each) plus {} s: an unusable entry must be ignored, not make the whole key set unusable ({} requests over {:.1} s were refused; the issuer served {} JWKS fetches meanwhile)",
                cooldown(w).as_secs(),
                MARGIN.as_secs(),
                p.requests,
                p.elapsed.as_secs_f64(),
                p.fetches
            ),
            &[],
        )
        .await;
    }
}

#[then(regex = r"^a token signed by the unusable entry is answered 401 UNAUTHENTICATED$")]
async fn unusable_refused(w: &mut XauthWorld) {
    let Some((kid, signer, entry)) = entries(w).unusable else {
        harness(w, "no unusable entry: a step must publish one first").await
    };
    let token = signed_token(w, &kid, &signer).await;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let ex = judged(w, &client, &token).await;
    let ok = is_error(w, &ex, 401, "UNAUTHENTICATED") && ex.elapsed <= FAULT_RESPONSE_BOUND;
    w.exchanges.push(ex);
    if !ok {
        fail(
            w,
            &format!(
                "401 UNAUTHENTICATED within {} s for a {} token signed by the key of the JWKS entry {kid} ({entry}): that entry is unusable and must be ignored",
                FAULT_RESPONSE_BOUND.as_secs(),
                signer.alg()
            ),
            &[],
        )
        .await;
    }
}

#[then(regex = r"^a token signed by the issuer's current ES256 key is still accepted$")]
async fn current_still_accepted(w: &mut XauthWorld) {
    let kid = current_kid(w, "ES256").await;
    let token = mint_fresh(w, &kid, serde_json::Map::new()).await;
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let ex = judged(w, &client, &token).await;
    let ok = is_accepted(&ex);
    w.exchanges.push(ex);
    if !ok {
        fail(
            w,
            &format!(
                "2xx for a token signed by the issuer's current ES256 key {kid}: extra entries in the JWKS must not stop the other keys from working"
            ),
            &[],
        )
        .await;
    }
}

#[when(regex = r"^the issuer's JWKS holds its own keys only again$")]
async fn clear_extras(w: &mut XauthWorld) {
    if let Err(e) = w.issuer.clear_extra_jwks().await {
        harness(w, e).await;
    }
    table().lock().remove(&w.subject);
}

#[when(
    regex = r"^I send tokens signed by each key of the shared kid, and by the control key, until the control key is accepted or two declared cooldowns plus the margin have passed$"
)]
async fn probe_shared(w: &mut XauthWorld) {
    let Some((kid, keys)) = entries(w).shared else {
        harness(w, "no shared kid: a step must publish one first").await
    };
    let (control_kid, control_signer) = control(w).await;
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let start = Instant::now();
    let mut answers = Vec::new();
    'poll: loop {
        for signer in &keys {
            let token = signed_token(w, &kid, signer).await;
            let ex = send_bearer(&client, protected_url(w), &token).await;
            let bad = !(answered_sanely(w, &ex) || is_error(w, &ex, 429, "RATE_LIMITED"));
            answers.push(ex);
            if bad {
                break 'poll;
            }
        }
        let token = signed_token(w, &control_kid, &control_signer).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        let done = is_accepted(&ex);
        w.exchanges.push(ex);
        if done || start.elapsed() + interval > bound {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    update(w, |s| s.answers = answers);
}

#[then(
    regex = r"^every token signed by a key of the shared kid was answered 2xx or 401 UNAUTHENTICATED within 15 seconds$"
)]
async fn shared_answered_sanely(w: &mut XauthWorld) {
    let answers = entries(w).answers;
    if answers.is_empty() {
        harness(w, "no token of the shared kid was sent").await;
    }
    let bad = answers
        .iter()
        .find(|ex| !(answered_sanely(w, ex) || is_error(w, ex, 429, "RATE_LIMITED")));
    if let Some(bad) = bad {
        let bad = bad.clone();
        w.exchanges.push(bad);
        fail(
            w,
            &format!(
                "2xx or 401 UNAUTHENTICATED within {} s for a token signed by one of two different keys the JWKS publishes under the same kid (first match, try-each and refusing the ambiguous key set are all acceptable; a 5xx, another answer or a hang is not)",
                FAULT_RESPONSE_BOUND.as_secs()
            ),
            &[],
        )
        .await;
    }
    if let Some(last) = answers.last() {
        w.exchanges.push(last.clone());
    }
}

#[when(
    regex = r"^I send tokens signed by the second key of the shared kid for two declared cooldowns plus the margin$"
)]
async fn probe_second(w: &mut XauthWorld) {
    let Some((kid, keys)) = entries(w).shared else {
        harness(w, "no shared kid: a step must publish one first").await
    };
    let Some(second) = keys.get(1).cloned() else {
        harness(w, "the shared kid has no second key").await
    };
    let bound = derived_wait(w, "jwks.refetch_cooldown_seconds", 2 * cooldown(w)).await;
    let interval = poll_interval(w);
    let client = same_source_client(w, LONG_REQUEST_TIMEOUT).await;
    let start = Instant::now();
    let mut answers = Vec::new();
    loop {
        let token = signed_token(w, &kid, &second).await;
        let ex = send_bearer(&client, protected_url(w), &token).await;
        let stop =
            is_accepted(&ex) || !answered_sanely(w, &ex) && !is_error(w, &ex, 429, "RATE_LIMITED");
        answers.push(ex);
        if stop || start.elapsed() + interval > bound {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    update(w, |s| s.answers = answers);
}

#[then(regex = r"^none of them was accepted, and the last one was answered 401 UNAUTHENTICATED$")]
async fn second_never_accepted(w: &mut XauthWorld) {
    let answers = entries(w).answers;
    let kid = entries(w).shared.map(|(k, _)| k).unwrap_or_default();
    if let Some(accepted) = answers.iter().find(|ex| is_accepted(ex)) {
        w.exchanges.push(accepted.clone());
        fail(
            w,
            &format!(
                "no token signed by the second of two different keys published under the kid {kid} accepted (strict: a key set with two keys under one kid is ambiguous and refused, attacks.md A43)"
            ),
            &[],
        )
        .await;
    }
    let judged: Vec<&Exchange> = answers
        .iter()
        .filter(|ex| !is_error(w, ex, 429, "RATE_LIMITED"))
        .collect();
    let ok = judged.last().is_some_and(|ex| {
        is_error(w, ex, 401, "UNAUTHENTICATED") && ex.elapsed <= FAULT_RESPONSE_BOUND
    });
    if let Some(last) = judged.last().or(answers.last().as_ref()) {
        w.exchanges.push((*last).clone());
    }
    if !ok {
        fail(
            w,
            &format!(
                "401 UNAUTHENTICATED within {} s for a token signed by the second of two different keys published under the kid {kid} ({} requests sent, every one answered)",
                FAULT_RESPONSE_BOUND.as_secs(),
                answers.len()
            ),
            &[],
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_one_signature_is_the_encoded_message() {
        let em = pkcs1_v15_sha256_encoding(b"a.b", 256).unwrap();
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0x00, 0x01]);
        assert_eq!(em[256 - 52], 0x00);
        // with e = 1 the RSA verification equation is s mod n == EM: a real RSA-2048 verifier
        // with e = 65537 must refuse it, so the bytes are not a valid signature by accident
        let key = sign::attacker_rsa().to_public_key();
        let verifying = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
        let sig = rsa::pkcs1v15::Signature::try_from(em.as_slice()).unwrap();
        assert!(rsa::signature::Verifier::verify(&verifying, b"a.b", &sig).is_err());
        assert!(pkcs1_v15_sha256_encoding(b"a.b", 10).is_err());
    }

    #[test]
    fn off_curve_points_are_off_the_curve_and_signatures_are_genuine() {
        let (jwk, signer) = off_curve_jwk("k").unwrap();
        assert_eq!(jwk["crv"], "P-256");
        let mut sec1 = vec![0x04];
        sec1.extend(b64::decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(b64::decode(jwk["y"].as_str().unwrap()).unwrap());
        assert!(p256::PublicKey::from_sec1_bytes(&sec1).is_err());
        assert_eq!(signer.sign(b"x").unwrap().len(), 64);
    }

    #[tokio::test]
    async fn every_entry_kind_has_a_fresh_kid_and_a_matching_signer() {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        for (entry, alg) in [
            ("an EC key whose point is not on P-256", "ES256"),
            ("a P-256 key labelled \"crv\":\"P-384\"", "ES256"),
            ("an ES256 key with \"use\":\"enc\"", "ES256"),
            ("an ES256 key whose \"key_ops\" lack \"verify\"", "ES256"),
            ("an ES256 key that also carries its private \"d\"", "ES256"),
            ("a symmetric \"oct\" key used with HS256", "HS256"),
            ("an RSA key of 1024 bits", "RS256"),
            ("an RSA key with public exponent 1", "RS256"),
        ] {
            let (kid, jwk, signer) = unusable_entry(entry).await.unwrap();
            assert_eq!(jwk["kid"], kid.as_str(), "{entry}");
            assert_eq!(signer.alg(), alg, "{entry}");
            let sig = signer.sign(b"h.p").unwrap();
            match entry {
                "a P-256 key labelled \"crv\":\"P-384\"" | "an ES256 key with \"use\":\"enc\"" => {
                    // a genuine P-256 signature by the published coordinates
                    let mut sec1 = vec![0x04];
                    sec1.extend(b64::decode(jwk["x"].as_str().unwrap()).unwrap());
                    sec1.extend(b64::decode(jwk["y"].as_str().unwrap()).unwrap());
                    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, sec1)
                        .verify(b"h.p", &sig)
                        .unwrap();
                }
                "a symmetric \"oct\" key used with HS256" => {
                    let k = b64::decode(jwk["k"].as_str().unwrap()).unwrap();
                    assert_eq!(sig, sign::hmac("HS256", &k, b"h.p").unwrap());
                }
                "an RSA key of 1024 bits" => {
                    let n = b64::decode(jwk["n"].as_str().unwrap()).unwrap();
                    assert_eq!(n.len(), 128);
                    assert_eq!(sig.len(), 128);
                }
                "an RSA key with public exponent 1" => {
                    assert_eq!(jwk["e"], "AQ");
                    let n = b64::decode(jwk["n"].as_str().unwrap()).unwrap();
                    // s^1 mod n = s: the signature is below n, so it is its own verification
                    assert_eq!(sig.len(), n.len());
                    assert!(sig < n);
                }
                _ => {}
            }
        }
    }
}
