//! The verifier: strict parsing, key selection, signature, claims, in that order.

use std::sync::Arc;

use aws_lc_rs::hmac;
use serde_json::{Map, Value};

use crate::b64;
use crate::claims::Claims;
use crate::config::{ConfigError, MAX_LEEWAY, MIN_SECRET_BYTES, VerifierConfig};
#[cfg(feature = "seeded-defects")]
use crate::defect::{Defect, DefectSet};
use crate::header::{self, Alg, Relax};
use crate::json::{self, JsonError};
use crate::jwks::JwksError;
use crate::jwks::cache::JwksCache;
use crate::keys::{Family, Lookup, VerifyKey};
use crate::rejection::Rejection;
use crate::rules::{self, Rules};

/// Verifies bearer tokens. Cheap to clone (an `Arc` inside), `Send + Sync`.
///
/// Order of checks: size → compact-JWS shape → base64url → header rules → payload JSON →
/// signature length → key selection (JWKS cache) → signature → claim rules. A token is
/// [`Rejection::Expired`] only when everything else passed.
///
/// Strict choices (documented here because they are policy):
/// * ES256/RS256 tokens must carry a `kid`; key selection is by exact kid only, and a kid that
///   several usable JWKS keys share is refused as ambiguous.
/// * HS256 (only with a legacy secret) always uses the legacy secret, never a JWKS key, whatever
///   its `kid` says.
/// * Tokens carrying `jku`, `x5u`, `jwk` or `x5c` are refused; any `crit` or `b64` is refused.
/// * `typ` may be absent, `JWT` or `application/jwt` (any case); `cty` is refused.
/// * `exp` and `sub` are required; `iss` must equal the issuer; `aud` must be a string or a
///   non-empty array of strings containing the audience; `nbf`, `iat` are honoured when present;
///   NumericDates are JSON numbers in `[0, 253402300799]`; `role`, `session_id` must be strings
///   and `is_anonymous` a boolean when present.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    rules: Rules,
    /// The rules for HS256 tokens: `rules` except under the `hs256-skips-iss` seeded defect.
    #[cfg(feature = "seeded-defects")]
    hs256_rules: Rules,
    max_token_bytes: usize,
    hmac: Option<hmac::Key>,
    jwks: JwksCache,
    clock: Arc<dyn crate::Clock>,
    #[cfg(feature = "seeded-defects")]
    defects: DefectSet,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.rules.issuer)
            .field("audience", &self.inner.rules.audience)
            .field("hs256", &self.inner.hmac.is_some())
            .finish_non_exhaustive()
    }
}

/// Splits a compact JWS into its three segments; header and payload must be non-empty.
fn split(token: &str) -> Result<(&str, &str, &str), Rejection> {
    let mut parts = token.splitn(4, '.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::NotCompactJws);
    };
    if h.is_empty() || p.is_empty() {
        return Err(Rejection::NotCompactJws);
    }
    Ok((h, p, s))
}

/// A token after [`Verifier::decode`]: the checked header, the payload as the caller parsed it,
/// the decoded signature and the exact signing input.
struct Decoded<'t, P> {
    header: header::Header,
    payload: P,
    sig: Vec<u8>,
    signing_input: &'t [u8],
}

/// The payload of a JWT: a JSON object without duplicate members.
fn claims_object(bytes: &[u8]) -> Result<Map<String, Value>, Rejection> {
    json::parse_object(bytes).map_err(|e| match e {
        JsonError::Duplicate => Rejection::DuplicateMember,
        JsonError::Invalid => Rejection::PayloadJson,
    })
}

impl Verifier {
    /// Builds a verifier. Fails on a legacy secret shorter than 32 bytes, an empty audience, an
    /// inconsistent [`crate::JwksPolicy`] or a zero token cap. The leeway is capped at
    /// [`MAX_LEEWAY`]. Does not fetch anything (see [`Verifier::refresh_jwks`]).
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        let hmac = match &config.legacy_secret {
            Some(s) if s.len() < MIN_SECRET_BYTES => return Err(ConfigError::WeakSecret),
            Some(s) => Some(hmac::Key::new(hmac::HMAC_SHA256, s)),
            None => None,
        };
        if config.audience.is_empty() {
            return Err(ConfigError::EmptyAudience);
        }
        if config.max_token_bytes == 0 {
            return Err(ConfigError::MaxTokenBytes);
        }
        config.jwks.validate()?;
        #[allow(unused_mut)]
        let mut leeway = config.leeway.min(MAX_LEEWAY).as_secs() as i64;
        #[allow(unused_mut)]
        let mut rules = Rules {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway,
            check_exp: true,
            check_nbf: true,
            check_iss: true,
            check_aud: true,
            check_sub: true,
        };
        #[cfg(feature = "seeded-defects")]
        {
            let d = config.defects;
            // SEEDED DEFECT leeway-15m: 15 minutes of leeway whatever the configuration says.
            if d.has(Defect::Leeway15m) {
                leeway = 900;
                rules.leeway = leeway;
            }
            // SEEDED DEFECT ignore-exp / ignore-nbf / ignore-iss / ignore-aud: the check is off.
            rules.check_exp = !d.has(Defect::IgnoreExp);
            rules.check_nbf = !d.has(Defect::IgnoreNbf);
            rules.check_iss = !d.has(Defect::IgnoreIss);
            rules.check_aud = !d.has(Defect::IgnoreAud);
            // SEEDED DEFECT accept-missing-sub: `sub` may be missing or not a non-empty string.
            rules.check_sub = !d.has(Defect::AcceptMissingSub);
        }
        // SEEDED DEFECT hs256-skips-iss: legacy HS256 tokens are not checked for `iss` (one real
        // implementation accepted HS256 tokens without any `iss`); ES256/RS256 keep every check.
        #[cfg(feature = "seeded-defects")]
        let hs256_rules = Rules {
            check_iss: rules.check_iss && !config.defects.has(Defect::Hs256SkipsIss),
            ..rules.clone()
        };
        let _ = leeway;
        let jwks = JwksCache::new(
            config.jwks_url.clone(),
            config.jwks.clone(),
            config.clock.clone(),
            #[cfg(feature = "seeded-defects")]
            config.defects,
        )
        .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                rules,
                #[cfg(feature = "seeded-defects")]
                hs256_rules,
                max_token_bytes: config.max_token_bytes,
                hmac,
                jwks,
                clock: config.clock.clone(),
                #[cfg(feature = "seeded-defects")]
                defects: config.defects,
            }),
        })
    }

    /// Fetches the JWKS now (warm-up or explicit refresh), bypassing the cooldown.
    pub async fn refresh_jwks(&self) -> Result<(), JwksError> {
        self.inner.jwks.refresh().await
    }

    /// How many JWKS fetches were attempted so far (successful or not).
    pub fn jwks_fetch_count(&self) -> u64 {
        self.inner.jwks.fetch_count()
    }

    /// Verifies one compact JWS (without the `Bearer ` prefix).
    ///
    /// Never panics; the returned [`Rejection`] says why a token was refused. Nothing from the
    /// token is logged.
    pub async fn verify(&self, token: &str) -> Result<Claims, Rejection> {
        let inner = &*self.inner;
        let jws = self.decode(token, claims_object)?;

        // SEEDED DEFECT expired-before-signature: expiry decides before the signature is checked.
        #[cfg(feature = "seeded-defects")]
        if inner.defects.has(Defect::ExpiredBeforeSignature)
            && let Some(exp) = jws.payload.get("exp").and_then(rules::numeric_date)
            && rules::is_expired(exp, inner.clock.now_unix(), inner.rules.leeway)
        {
            return Err(Rejection::Expired);
        }

        self.check_signature(&jws.header, jws.signing_input, &jws.sig)
            .await?;
        #[cfg(feature = "seeded-defects")]
        if jws.header.alg == Alg::Hs256 {
            return rules::check(jws.payload, &inner.hs256_rules, inner.clock.now_unix());
        }
        rules::check(jws.payload, &inner.rules, inner.clock.now_unix())
    }

    /// The JWS layer of [`Verifier::verify`] alone: the same size, shape, base64url and header
    /// checks, key selection and signature check, in the same order, but the payload only has to
    /// be base64url (no claim set, no claim rules). Not part of the contract: known-answer tests
    /// (`tests/wycheproof.rs`) use it, because their vectors sign arbitrary payloads.
    #[doc(hidden)]
    pub async fn verify_signature(&self, token: &str) -> Result<(), Rejection> {
        let jws = self.decode(token, |_| Ok(()))?;
        self.check_signature(&jws.header, jws.signing_input, &jws.sig)
            .await
    }

    /// Everything before key selection: size, compact-JWS shape, base64url, the header rules,
    /// then `payload` on the decoded payload bytes, then the signature's base64url.
    fn decode<'t, P>(
        &self,
        token: &'t str,
        payload: impl FnOnce(&[u8]) -> Result<P, Rejection>,
    ) -> Result<Decoded<'t, P>, Rejection> {
        let inner = &*self.inner;
        if token.is_empty() || token.len() > inner.max_token_bytes {
            return Err(Rejection::TokenSize);
        }
        let (h64, p64, s64) = split(token)?;
        let header_bytes = b64::decode(h64).ok_or(Rejection::Base64)?;
        let header = header::parse(&header_bytes, inner.hmac.is_some(), self.relax())?;
        let payload_bytes = b64::decode(p64).ok_or(Rejection::Base64)?;
        let payload = payload(&payload_bytes)?;
        let sig = b64::decode(s64).ok_or(Rejection::Base64)?;
        Ok(Decoded {
            header,
            payload,
            sig,
            signing_input: &token.as_bytes()[..h64.len() + 1 + p64.len()],
        })
    }

    /// The signature check of the header's algorithm (key selection included).
    async fn check_signature(
        &self,
        header: &header::Header,
        signing_input: &[u8],
        sig: &[u8],
    ) -> Result<(), Rejection> {
        match header.alg {
            Alg::Hs256 => self.check_hs256(header, signing_input, sig).await,
            Alg::Es256 => {
                self.check_asymmetric(header, Family::Es256, signing_input, sig)
                    .await
            }
            Alg::Rs256 => {
                self.check_asymmetric(header, Family::Rs256, signing_input, sig)
                    .await
            }
            // SEEDED DEFECT alg-none: no signature check at all.
            #[cfg(feature = "seeded-defects")]
            Alg::None => Ok(()),
        }
    }

    fn relax(&self) -> Relax {
        #[cfg(feature = "seeded-defects")]
        {
            let d = self.inner.defects;
            Relax {
                alg_none: d.has(Defect::AlgNone),
                hs256_any: d.has(Defect::Hs256PublicKey),
                crit: d.has(Defect::IgnoreCrit),
                jwk: d.has(Defect::TrustEmbeddedJwk),
                jku: d.has(Defect::FollowJku),
            }
        }
        #[cfg(not(feature = "seeded-defects"))]
        Relax::default()
    }

    async fn check_hs256(
        &self,
        header: &header::Header,
        input: &[u8],
        sig: &[u8],
    ) -> Result<(), Rejection> {
        let _ = header;
        // SEEDED DEFECT hs256-public-key: a kid naming a JWKS key makes that key's SPKI PEM
        // (with trailing newline) the HMAC secret, as node-jsonwebtoken < 4.2.2 did.
        #[cfg(feature = "seeded-defects")]
        if self.inner.defects.has(Defect::Hs256PublicKey)
            && let Some(kid) = header.kid.as_deref()
            && let Ok(snap) = self.inner.jwks.keys_for(Some(kid)).await
            && let Lookup::Found(k) = snap.keys.find(kid)
        {
            let key = hmac::Key::new(hmac::HMAC_SHA256, spki_pem(&k.spki_der).as_bytes());
            return hmac::verify(&key, input, sig).map_err(|_| Rejection::Signature);
        }
        let key = self.inner.hmac.as_ref().ok_or(Rejection::AlgNotAllowed)?;
        if sig.len() != 32 {
            return Err(Rejection::SignatureLength);
        }
        // Constant-time comparison inside aws-lc-rs.
        hmac::verify(key, input, sig).map_err(|_| Rejection::Signature)
    }

    async fn check_asymmetric(
        &self,
        header: &header::Header,
        family: Family,
        input: &[u8],
        sig: &[u8],
    ) -> Result<(), Rejection> {
        #[cfg(feature = "seeded-defects")]
        if let Some(result) = self.defective_asymmetric(header, family, input, sig).await {
            return result;
        }
        if family == Family::Es256 && sig.len() != 64 {
            return Err(Rejection::SignatureLength);
        }
        let kid = header.kid.as_deref().ok_or(Rejection::Kid)?;
        let snap = self.inner.jwks.keys_for(Some(kid)).await?;
        let key = match snap.keys.find(kid) {
            Lookup::Found(k) => k,
            Lookup::Unknown => return Err(Rejection::UnknownKid),
            Lookup::Ambiguous => return Err(Rejection::AmbiguousKid),
        };
        verify_with(key, family, input, sig)
    }

    /// The seeded asymmetric defects; `None` = no defect applies, run the real checks.
    #[cfg(feature = "seeded-defects")]
    async fn defective_asymmetric(
        &self,
        header: &header::Header,
        family: Family,
        input: &[u8],
        sig: &[u8],
    ) -> Option<Result<(), Rejection>> {
        let d = self.inner.defects;
        // SEEDED DEFECT psychic-ecdsa: r = s = 0 passes (CVE-2022-21449).
        if d.has(Defect::PsychicEcdsa)
            && family == Family::Es256
            && sig.len() == 64
            && sig.iter().all(|b| *b == 0)
        {
            return Some(Ok(()));
        }
        // SEEDED DEFECT trust-embedded-jwk: the token's own `jwk` verifies it.
        if d.has(Defect::TrustEmbeddedJwk)
            && let Some(jwk) = header.raw.get("jwk")
        {
            return Some(match crate::keys::from_jwk(jwk) {
                Ok(k) => verify_with(&k, family, input, sig),
                Err(_) => Err(Rejection::Signature),
            });
        }
        // SEEDED DEFECT follow-jku: keys are fetched from the token's `jku` URL and trusted.
        if d.has(Defect::FollowJku)
            && let Some(url) = header.raw.get("jku").and_then(serde_json::Value::as_str)
        {
            let Some(set) = self.inner.jwks.fetch_foreign(url).await else {
                return Some(Err(Rejection::KeysUnavailable));
            };
            let key = match header.kid.as_deref() {
                Some(kid) => match set.find(kid) {
                    Lookup::Found(k) => Some(k),
                    _ => None,
                },
                None => set.first_of(family),
            };
            return Some(match key {
                Some(k) => verify_with(k, family, input, sig),
                None => Err(Rejection::UnknownKid),
            });
        }
        // SEEDED DEFECT kid-ignored: the first key of the family is used, whatever the kid.
        if d.has(Defect::KidIgnored) {
            let snap = match self.inner.jwks.keys_for(None).await {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            return Some(match snap.keys.first_of(family) {
                Some(k) => verify_with(k, family, input, sig),
                None => Err(Rejection::UnknownKid),
            });
        }
        // SEEDED DEFECT der-ecdsa: a DER-encoded ECDSA signature is accepted too.
        if d.has(Defect::DerEcdsa) && family == Family::Es256 && sig.len() != 64 {
            let kid = header.kid.as_deref()?;
            let snap = match self.inner.jwks.keys_for(Some(kid)).await {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            return Some(match snap.keys.find(kid) {
                Lookup::Found(k) if k.family == Family::Es256 => {
                    let der = aws_lc_rs::signature::UnparsedPublicKey::new(
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
                        &k.ec_point,
                    );
                    der.verify(input, sig).map_err(|_| Rejection::Signature)
                }
                _ => Err(Rejection::Signature),
            });
        }
        None
    }
}

/// Whether `jwk` is usable for `alg` (`"ES256"` or `"RS256"`) and `sig` is its valid signature
/// over `msg`, decided as [`Verifier::verify`] decides it for a JWKS key: the key parsed and bound
/// to one algorithm (an unusable key is as good as absent: [`Rejection::UnknownKid`]), then the
/// signature length, then the signature. Not part of the contract: known-answer tests use it for
/// raw signature vectors (Wycheproof's ECDSA P1363 file signs arbitrary messages).
#[doc(hidden)]
pub fn verify_with_jwk(jwk: &Value, alg: &str, msg: &[u8], sig: &[u8]) -> Result<(), Rejection> {
    let family = match alg {
        "ES256" => Family::Es256,
        "RS256" => Family::Rs256,
        _ => return Err(Rejection::AlgNotAllowed),
    };
    let key = crate::keys::from_jwk(jwk).map_err(|_| Rejection::UnknownKid)?;
    verify_with(&key, family, msg, sig)
}

/// Checks the key is bound to the token's algorithm, the signature length, then the signature.
fn verify_with(key: &VerifyKey, family: Family, input: &[u8], sig: &[u8]) -> Result<(), Rejection> {
    if key.family != family {
        return Err(Rejection::KeyAlgorithmMismatch);
    }
    if sig.len() != key.sig_len {
        return Err(Rejection::SignatureLength);
    }
    if key.verify(input, sig) {
        Ok(())
    } else {
        Err(Rejection::Signature)
    }
}

/// SubjectPublicKeyInfo DER as PEM with a trailing newline (the `hs256-public-key` defect).
#[cfg(feature = "seeded-defects")]
fn spki_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}
