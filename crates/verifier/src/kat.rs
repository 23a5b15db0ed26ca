//! Known-answer vectors from RFC 7515 Appendix A, at the signature level and through `verify`.

use std::sync::Arc;

use serde_json::json;

use crate::keys::{Family, from_jwk};
use crate::{Clock, Rejection, Verifier, VerifierConfig, b64};

const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// A.1 HS256.
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

// A.2 RS256.
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_N: &str = concat!(
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qP",
    "CJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7",
    "OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uD",
    "Zlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcD",
    "TW9gb54h4FRWyuXpoQ"
);
const A2_SIG: &str = concat!(
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm",
    "4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWz",
    "O75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEs",
    "qtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0",
    "igcN_IoypGlUPQGe77Rw"
);

// A.3 ES256.
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_SIG: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// A.5 unsecured.
const A5_HEADER: &str = "eyJhbGciOiJub25lIn0";

fn input(header: &str) -> String {
    format!("{header}.{PAYLOAD}")
}

#[test]
fn rfc7515_a3_es256_known_answer() {
    let key = from_jwk(&json!({"kty":"EC","crv":"P-256","x":A3_X,"y":A3_Y})).unwrap();
    assert_eq!(key.family, Family::Es256);
    let sig = b64::decode(A3_SIG).unwrap();
    assert_eq!(sig.len(), 64);
    assert!(key.verify(input(A3_HEADER).as_bytes(), &sig));
    let mut bad = sig.clone();
    bad[63] ^= 1;
    assert!(!key.verify(input(A3_HEADER).as_bytes(), &bad));
    assert!(!key.verify(input(A2_HEADER).as_bytes(), &sig));
}

#[test]
fn rfc7515_a2_rs256_known_answer() {
    let key = from_jwk(&json!({"kty":"RSA","n":A2_N,"e":"AQAB"})).unwrap();
    assert_eq!(key.family, Family::Rs256);
    assert_eq!(key.sig_len, 256);
    let sig = b64::decode(A2_SIG).unwrap();
    assert!(key.verify(input(A2_HEADER).as_bytes(), &sig));
    assert!(!key.verify(input(A3_HEADER).as_bytes(), &sig));
    // Bound to RS256: the same JWK declared for another alg is unusable.
    assert!(from_jwk(&json!({"kty":"RSA","n":A2_N,"e":"AQAB","alg":"PS256"})).is_err());
}

#[test]
fn rfc7515_a1_hs256_known_answer() {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &b64::decode(A1_KEY).unwrap());
    let sig = b64::decode(A1_SIG).unwrap();
    assert!(hmac::verify(&key, input(A1_HEADER).as_bytes(), &sig).is_ok());
}

struct At(i64);
impl Clock for At {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

fn verifier_with_a1_secret(now: i64) -> Verifier {
    let cfg = VerifierConfig::supabase("http://127.0.0.1:9")
        .unwrap()
        .legacy_secret(b64::decode(A1_KEY).unwrap())
        .clock(Arc::new(At(now)));
    Verifier::new(cfg).unwrap()
}

#[tokio::test]
async fn rfc7515_a1_through_verify() {
    // Before its exp the signature passes, and the claim rules refuse it: no `sub`.
    let v = verifier_with_a1_secret(1_300_819_300);
    let token = format!("{}.{A1_SIG}", input(A1_HEADER));
    assert_eq!(v.verify(&token).await, Err(Rejection::MissingClaim("sub")));
    // A wrong secret fails at the signature.
    let cfg = VerifierConfig::supabase("http://127.0.0.1:9")
        .unwrap()
        .legacy_secret(vec![7u8; 64])
        .clock(Arc::new(At(1_300_819_300)));
    let v = Verifier::new(cfg).unwrap();
    assert_eq!(v.verify(&token).await, Err(Rejection::Signature));
}

#[tokio::test]
async fn rfc7515_a3_through_verify_needs_a_kid() {
    // The vector carries no kid: ES256 without kid is refused before any key lookup.
    let v = verifier_with_a1_secret(1_300_819_300);
    let token = format!("{}.{A3_SIG}", input(A3_HEADER));
    assert_eq!(v.verify(&token).await, Err(Rejection::Kid));
    assert_eq!(v.jwks_fetch_count(), 0);
}

#[tokio::test]
async fn rfc7515_a5_unsecured_rejected() {
    let v = verifier_with_a1_secret(1_300_819_300);
    let token = format!("{}.", input(A5_HEADER));
    assert_eq!(v.verify(&token).await, Err(Rejection::AlgNotAllowed));
}
