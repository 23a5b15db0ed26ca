//! `Given that token …` steps: change the current token byte by byte (signature kept unless
//! said otherwise), or re-sign it with keys the target must not trust.
//!
//! (Over 500 lines: one step per tampering the features name, each a few lines; splitting them
//! would scatter one vocabulary.)

use cucumber::given;
use serde_json::{Map, Value};

use super::values::eval;
use crate::forge::keys::{KeyEncoding, PublicKey};
use crate::forge::{b64, ecdsa, jws::Jws, sign};
use crate::scenario::world::{XauthWorld, object_text};

fn parsed(w: &XauthWorld) -> Jws {
    Jws::parse(&w.current().compact).unwrap_or_else(|e| w.harness_error(e))
}

fn header_map(w: &XauthWorld, jws: &Jws) -> Map<String, Value> {
    match jws.header_json() {
        Ok(Value::Object(m)) => m,
        _ => w.harness_error("the current token's header is not a JSON object"),
    }
}

fn payload_map(w: &XauthWorld, jws: &Jws) -> Map<String, Value> {
    match jws.payload_json() {
        Ok(Value::Object(m)) => m,
        _ => w.harness_error("the current token's payload is not a JSON object"),
    }
}

#[given(regex = r"^that token with its signature's (first|last) byte flipped$")]
async fn flip_byte(w: &mut XauthWorld, which: String) {
    let jws = parsed(w);
    let mut sig = jws.signature_bytes().unwrap_or_else(|e| w.harness_error(e));
    if sig.is_empty() {
        w.harness_error("the token has no signature to flip");
    }
    let i = if which == "first" { 0 } else { sig.len() - 1 };
    sig[i] ^= 0x01;
    w.set_token_text(
        jws.with_signature_bytes(&sig).compact(),
        format!("{which} signature byte flipped"),
        false,
    );
}

#[given(regex = r"^that token with the last (\d+) characters of its signature removed$")]
async fn drop_chars(w: &mut XauthWorld, n: usize) {
    let mut jws = parsed(w);
    let keep = jws.signature.len().saturating_sub(n);
    jws.signature.truncate(keep);
    w.set_token_text(
        jws.compact(),
        format!("last {n} signature characters removed"),
        false,
    );
}

#[given(regex = r"^that token with an empty signature$")]
async fn empty_signature(w: &mut XauthWorld) {
    let mut jws = parsed(w);
    jws.signature.clear();
    w.set_token_text(
        jws.compact(),
        "signature removed (token ends in '.')",
        false,
    );
}

#[given(regex = r"^that token with its payload segment removed$")]
async fn payload_removed(w: &mut XauthWorld) {
    let jws = parsed(w);
    w.set_token_text(
        format!("{}.{}", jws.header, jws.signature),
        "payload segment removed",
        false,
    );
}

#[given(regex = r#"^that token with its claim "([^"]+)" changed to (.+), signature kept$"#)]
async fn change_claim(w: &mut XauthWorld, name: String, expr: String) {
    let jws = parsed(w);
    let claims = payload_map(w, &jws);
    let raw = eval(w, &expr, claims.get(&name)).await;
    let text = object_text(&claims, &[(name.clone(), raw)]);
    w.set_token_text(
        jws.with_payload_text(&text).compact(),
        format!("claim {name} changed to {expr}, signature kept"),
        false,
    );
}

#[given(
    regex = r#"^that token with its header member "([^"]+)" changed to (.+), signature (kept|removed)$"#
)]
async fn change_header(w: &mut XauthWorld, name: String, expr: String, sig: String) {
    let jws = parsed(w);
    let header = header_map(w, &jws);
    let raw = eval(w, &expr, header.get(&name)).await;
    let text = object_text(&header, &[(name.clone(), raw)]);
    let mut out = jws.with_header_text(&text);
    if sig == "removed" {
        out.signature.clear();
    }
    w.set_token_text(
        out.compact(),
        format!("header {name} changed to {expr}, signature {sig}"),
        false,
    );
}

#[given(regex = r"^that token with its header replaced by (\{.*\}) and an empty signature$")]
async fn replace_header_unsigned(w: &mut XauthWorld, header: String) {
    let mut jws = parsed(w).with_header_text(&header);
    jws.signature.clear();
    w.set_token_text(
        jws.compact(),
        format!("header replaced by {header}, signature removed"),
        false,
    );
}

#[given(regex = r"^that token with the claims that grant permission forged in, signature kept$")]
async fn forge_grant(w: &mut XauthWorld) {
    let jws = parsed(w);
    let claims = payload_map(w, &jws);
    let grant = w.ctx.profile.routes.permission.grant_claims.clone();
    let overrides: Vec<(String, Option<String>)> = grant
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.to_string())))
        .collect();
    let text = object_text(&claims, &overrides);
    w.set_token_text(
        jws.with_payload_text(&text).compact(),
        "claims that grant permission forged in, signature kept",
        false,
    );
}

#[given(
    regex = r#"^that token with the marker injected into its "([^"]+)" (claim|header), signature kept$"#
)]
async fn inject_marker(w: &mut XauthWorld, name: String, part: String) {
    let jws = parsed(w);
    let marker = Value::String(w.marker.clone()).to_string();
    let out = if part == "claim" {
        let claims = payload_map(w, &jws);
        jws.clone()
            .with_payload_text(&object_text(&claims, &[(name.clone(), Some(marker))]))
    } else {
        let header = header_map(w, &jws);
        jws.clone()
            .with_header_text(&object_text(&header, &[(name.clone(), Some(marker))]))
    };
    w.set_token_text(
        out.compact(),
        format!("marker injected into {part} {name}, signature kept"),
        false,
    );
}

/// Re-signs header (with `alg`, optional `kid`) + the current payload with an HMAC key.
fn hmac_resign(w: &mut XauthWorld, alg: &str, kid: Option<String>, key: &[u8], how: String) {
    let jws = parsed(w);
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(alg));
    let mut overrides = Vec::new();
    if let Some(kid) = kid {
        overrides.push(("kid".to_owned(), Some(kid)));
    }
    header.insert("typ".into(), Value::from("JWT"));
    let text = object_text(&header, &overrides);
    let unsigned = Jws {
        header: b64::encode(&text),
        payload: jws.payload,
        signature: String::new(),
    };
    let mac = sign::hmac(alg, key, unsigned.signing_input().as_bytes())
        .unwrap_or_else(|e| w.harness_error(e));
    w.set_token_text(unsigned.with_signature_bytes(&mac).compact(), how, false);
}

#[given(
    regex = r"^that token re-signed as (HS256|HS384|HS512) with the issuer's (ES256|RS256) public key as (.+?)( and no kid)?$"
)]
async fn resign_with_public_key(
    w: &mut XauthWorld,
    alg: String,
    key: String,
    encoding: String,
    no_kid: String,
) {
    let info = w.issuer_key(&key).await;
    let enc = KeyEncoding::from_name(&encoding)
        .unwrap_or_else(|| w.harness_error(format!("unknown key encoding {encoding:?}")));
    let public = PublicKey::from_jwk(&info.public_jwk).unwrap_or_else(|e| w.harness_error(e));
    let bytes = public
        .encode(enc, &info.public_jwk)
        .unwrap_or_else(|e| w.harness_error(e));
    let kid = no_kid
        .is_empty()
        .then(|| Value::String(info.kid.clone()).to_string());
    let how = format!(
        "re-signed as {alg} keyed with the issuer's {key} public key as {encoding} ({} bytes){}",
        bytes.len(),
        if no_kid.is_empty() {
            format!(", kid {}", info.kid)
        } else {
            ", no kid".into()
        }
    );
    hmac_resign(w, &alg, kid, &bytes, how);
}

#[given(
    regex = r#"^that token re-signed as (HS256|HS384|HS512) with the secret "(.*?)" and (no kid|the kid .+)$"#
)]
async fn resign_with_secret(w: &mut XauthWorld, alg: String, secret: String, kid_expr: String) {
    if let Some(legacy) = w.legacy_secret().await
        && legacy == secret
    {
        w.harness_error(
            "the issuer's legacy secret is one of the weak secrets this scenario tries",
        );
    }
    let kid = if kid_expr.starts_with("the kid of ") {
        eval(w, &kid_expr, None).await
    } else {
        match kid_expr.strip_prefix("the kid ") {
            Some(expr) => eval(w, expr, None).await,
            None => None,
        }
    };
    let how = format!("re-signed as {alg} with the secret {secret:?} and {kid_expr}");
    hmac_resign(w, &alg, kid, secret.as_bytes(), how);
}

#[given(
    regex = r#"^that token re-signed as HS256 with the legacy secret and no kid, claiming alg "(\w+)"$"#
)]
async fn resign_legacy_claiming(w: &mut XauthWorld, claimed: String) {
    let Some(secret) = w.legacy_secret().await else {
        w.harness_error("the issuer has no legacy secret")
    };
    let jws = parsed(w);
    let header = format!(
        r#"{{"alg":{},"typ":"JWT"}}"#,
        Value::String(claimed.clone())
    );
    let unsigned = Jws {
        header: b64::encode(&header),
        payload: jws.payload,
        signature: String::new(),
    };
    let mac = sign::hmac(
        "HS256",
        secret.as_bytes(),
        unsigned.signing_input().as_bytes(),
    )
    .unwrap_or_else(|e| w.harness_error(e));
    w.set_token_text(
        unsigned.with_signature_bytes(&mac).compact(),
        format!("HMAC-SHA256 with the legacy secret, header alg {claimed:?}, no kid"),
        false,
    );
}

#[given(regex = r#"^that token re-signed by the issuer with header member "([^"]+)" set to (.+)$"#)]
async fn remint_header(w: &mut XauthWorld, name: String, expr: String) {
    let origin = w.origin();
    let raw = eval(w, &expr, origin.header.get(&name)).await;
    let header = object_text(&origin.header, &[(name.clone(), raw)]);
    let jws = parsed(w);
    let claims = jws.payload_text().unwrap_or_else(|e| w.harness_error(e));
    w.remint_raw(
        header,
        claims,
        format!("re-minted by the issuer with header {name} = {expr}"),
    )
    .await;
}

#[given(regex = r#"^that token re-signed by the issuer with "([^"]+)" set to (.+)$"#)]
async fn remint_claim(w: &mut XauthWorld, name: String, expr: String) {
    let jws = parsed(w);
    let claims = payload_map(w, &jws);
    let raw = eval(w, &expr, claims.get(&name)).await;
    let text = object_text(&claims, &[(name.clone(), raw)]);
    let header = jws.header_text().unwrap_or_else(|e| w.harness_error(e));
    w.remint_raw(
        header,
        text,
        format!("re-minted by the issuer with {name} = {expr}"),
    )
    .await;
}

#[given(
    regex = r"^that token re-signed by an attacker (ES256|RS256) key with the kid of the issuer's (ES256|RS256) key$"
)]
async fn resign_attacker(w: &mut XauthWorld, alg: String, key: String) {
    let kid = w.issuer_key(&key).await.kid;
    let jws = parsed(w);
    let header = format!(
        r#"{{"alg":"{alg}","kid":{},"typ":"JWT"}}"#,
        Value::String(kid.clone())
    );
    let unsigned = Jws {
        header: b64::encode(&header),
        payload: jws.payload,
        signature: String::new(),
    };
    let sig = sign::attacker_sign(&alg, unsigned.signing_input().as_bytes())
        .unwrap_or_else(|e| w.harness_error(e));
    w.set_token_text(
        unsigned.with_signature_bytes(&sig).compact(),
        format!("re-signed by an attacker {alg} key, kid {kid}"),
        false,
    );
}

fn es256_sig(w: &XauthWorld, jws: &Jws) -> ([u8; 32], [u8; 32]) {
    let sig = jws.signature_bytes().unwrap_or_else(|e| w.harness_error(e));
    ecdsa::split_raw(&sig).unwrap_or_else(|e| w.harness_error(e))
}

fn scalar(w: &XauthWorld, expr: &str, its_r: &[u8; 32], its_s: &[u8; 32]) -> [u8; 32] {
    let expr = expr.trim();
    match expr {
        "its r" => *its_r,
        "its s" => *its_s,
        "its r + n" => ecdsa::add(its_r, &ecdsa::N),
        "its s + n" => ecdsa::add(its_s, &ecdsa::N),
        other => ecdsa::named_scalar(other)
            .unwrap_or_else(|| w.harness_error(format!("unknown scalar {other:?}"))),
    }
}

#[given(regex = r"^that token with its ES256 signature replaced by r = (.+) and s = (.+)$")]
async fn replace_rs(w: &mut XauthWorld, r: String, s: String) {
    let jws = parsed(w);
    let (its_r, its_s) = es256_sig(w, &jws);
    let sig = ecdsa::join_raw(
        &scalar(w, &r, &its_r, &its_s),
        &scalar(w, &s, &its_r, &its_s),
    );
    w.set_token_text(
        jws.with_signature_bytes(&sig).compact(),
        format!("ES256 signature replaced by r = {r}, s = {s}"),
        false,
    );
}

#[given(regex = r"^that token with its ES256 signature DER-encoded$")]
async fn der_encoded(w: &mut XauthWorld) {
    let jws = parsed(w);
    let sig = jws.signature_bytes().unwrap_or_else(|e| w.harness_error(e));
    let der = ecdsa::raw_to_der(&sig).unwrap_or_else(|e| w.harness_error(e));
    w.set_token_text(
        jws.with_signature_bytes(&der).compact(),
        format!(
            "correct ES256 signature re-encoded as DER ({} bytes)",
            der.len()
        ),
        false,
    );
}

#[given(
    regex = r"^that token with its ES256 signature (truncated to 63 bytes|extended by a zero byte|followed by two zero bytes|with a zero byte prepended to r|with a zero byte prepended to s|with a zero byte prepended|in its high-S form)$"
)]
async fn resize_sig(w: &mut XauthWorld, change: String) {
    let jws = parsed(w);
    let (r, s) = es256_sig(w, &jws);
    let raw = ecdsa::join_raw(&r, &s);
    let sig: Vec<u8> = match change.as_str() {
        "truncated to 63 bytes" => raw[..63].to_vec(),
        "extended by a zero byte" => [raw.as_slice(), &[0]].concat(),
        "followed by two zero bytes" => [raw.as_slice(), &[0, 0]].concat(),
        "with a zero byte prepended to r" => [&[0u8][..], &r, &s].concat(),
        "with a zero byte prepended to s" => [&r[..], &[0u8], &s].concat(),
        "with a zero byte prepended" => [&[0u8][..], &raw].concat(),
        _ => ecdsa::high_s_twin(&raw).unwrap_or_else(|e| w.harness_error(e)),
    };
    w.set_token_text(
        jws.with_signature_bytes(&sig).compact(),
        format!("ES256 signature {change}"),
        false,
    );
}

#[given(
    regex = r"^that token with its RS256 signature (truncated by one byte|with a zero byte prepended|replaced by the key's modulus|replaced by 256 0xFF bytes|replaced by zero)$"
)]
async fn rsa_sig(w: &mut XauthWorld, change: String) {
    use rsa::traits::PublicKeyParts as _;
    let jws = parsed(w);
    let sig = jws.signature_bytes().unwrap_or_else(|e| w.harness_error(e));
    let new: Vec<u8> = match change.as_str() {
        // The last byte: dropping the first would keep the number whenever it is 0x00.
        "truncated by one byte" => sig[..sig.len().saturating_sub(1)].to_vec(),
        "with a zero byte prepended" => [&[0u8][..], &sig].concat(),
        "replaced by the key's modulus" => {
            let info = w.issuer_key("RS256").await;
            match PublicKey::from_jwk(&info.public_jwk) {
                Ok(PublicKey::Rsa(k)) => k.n().to_bytes_be(),
                _ => w.harness_error("the issuer's RS256 key is not an RSA JWK"),
            }
        }
        "replaced by 256 0xFF bytes" => vec![0xff; 256],
        _ => vec![0; sig.len()],
    };
    w.set_token_text(
        jws.with_signature_bytes(&new).compact(),
        format!("RS256 signature {change}"),
        false,
    );
}

#[given(regex = r#"^that token with its signature segment replaced by "([^"]*)"$"#)]
async fn replace_sig_segment(w: &mut XauthWorld, segment: String) {
    let mut jws = parsed(w);
    jws.signature = segment.clone();
    w.set_token_text(
        jws.compact(),
        format!("signature segment replaced by {segment:?}"),
        false,
    );
}

/// Applies a non-strict base64url change to `segment`; `None` when it cannot apply to this text.
fn loosen(segment: &str, change: &str) -> Option<String> {
    let mid = segment.len() / 2;
    let insert = |s: &str| format!("{}{s}{}", &segment[..mid], &segment[mid..]);
    match change {
        "padded with \"=\"" => {
            (!segment.len().is_multiple_of(4)).then(|| b64::with_padding(segment))
        }
        "in the standard base64 alphabet" => {
            let std = b64::to_standard_alphabet(segment).ok()?;
            (std != segment).then_some(std)
        }
        "with non-canonical final bits" => b64::with_noncanonical_tail(segment),
        "with a space inserted" => Some(insert(" ")),
        "with a tab inserted" => Some(insert("\t")),
        other => {
            let c = other.strip_prefix("with \"")?.strip_suffix("\" inserted")?;
            Some(insert(c))
        }
    }
}

#[given(
    regex = r#"^that token with its (header|payload|signature) segment (padded with "="|in the standard base64 alphabet|with non-canonical final bits|with a space inserted|with a tab inserted|with "." inserted)$"#
)]
async fn loosen_segment(w: &mut XauthWorld, part: String, change: String) {
    // A segment may lack what the change needs (no '-'/'_' for the standard alphabet, a length
    // that takes no padding); a freshly minted token of the same origin is tried instead.
    for _attempt in 0..20 {
        let mut jws = parsed(w);
        let seg = match part.as_str() {
            "header" => &mut jws.header,
            "payload" => &mut jws.payload,
            _ => &mut jws.signature,
        };
        if let Some(new) = loosen(seg, &change) {
            *seg = new;
            w.set_token_text(jws.compact(), format!("{part} segment {change}"), false);
            return;
        }
        // A filler member that grows by one character per attempt shifts the base64 length
        // and content of that part; a fresh ES256 signature is random anyway.
        let origin = w.origin();
        let (mut header, mut claims) = (origin.header.clone(), origin.claims.clone());
        let filler: String = (0.._attempt + 1).map(|i| ['~', '?', '>'][i % 3]).collect();
        match part.as_str() {
            "header" => {
                header.insert("xauth_fill".into(), Value::from(filler));
            }
            "payload" => {
                claims.insert("xauth_fill".into(), Value::from(filler));
            }
            _ => {}
        }
        let (h, c) = (object_text(&header, &[]), object_text(&claims, &[]));
        w.remint_raw(
            h,
            c,
            format!("re-minted (filler member in the {part}) to fit the change"),
        )
        .await;
    }
    w.harness_error(format!(
        "could not apply \"{change}\" to the {part} segment"
    ));
}

#[given(
    regex = r#"^that token with its payload segment (padded with "="|in the standard base64 alphabet|with non-canonical final bits), re-signed with the legacy secret$"#
)]
async fn loosen_payload_hs(w: &mut XauthWorld, change: String) {
    let Some(secret) = w.legacy_secret().await else {
        w.harness_error("the issuer has no legacy secret")
    };
    for _attempt in 0..40 {
        let jws = parsed(w);
        if let Some(new) = loosen(&jws.payload, &change) {
            let unsigned = Jws {
                header: jws.header.clone(),
                payload: new,
                signature: String::new(),
            };
            let mac = sign::hmac(
                "HS256",
                secret.as_bytes(),
                unsigned.signing_input().as_bytes(),
            )
            .unwrap_or_else(|e| w.harness_error(e));
            w.set_token_text(
                unsigned.with_signature_bytes(&mac).compact(),
                format!(
                    "payload segment {change}, HMAC over the literal text with the legacy secret"
                ),
                false,
            );
            return;
        }
        // pad the payload JSON with a filler claim until the encoding fits the change
        let mut claims = payload_map(w, &jws);
        let mut filler = claims
            .get("xauth_fill")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        filler.push(['~', '?', '>'][filler.len() % 3]);
        claims.insert("xauth_fill".into(), Value::from(filler));
        let text = object_text(&claims, &[]);
        let unsigned = jws.with_payload_text(&text);
        w.set_token_text(unsigned.compact(), "filler claim added", false);
    }
    w.harness_error(format!(
        "could not apply \"{change}\" to the payload segment"
    ));
}

#[given(regex = r#"^that token rewritten as "(.*)"$"#)]
async fn rewrite(w: &mut XauthWorld, template: String) {
    let jws = parsed(w);
    let text = template
        .replace("{header}", &jws.header)
        .replace("{payload}", &jws.payload)
        .replace("{signature}", &jws.signature);
    w.set_token_text(text, format!("rewritten as {template:?}"), false);
}

#[given(regex = r#"^that token with (\d+) "(.)" characters appended to its payload segment$"#)]
async fn append_to_payload(w: &mut XauthWorld, n: usize, c: String) {
    let mut jws = parsed(w);
    jws.payload.push_str(&c.repeat(n.min(16 * 1024 * 1024)));
    w.set_token_text(
        jws.compact(),
        format!("{n} {c:?} appended to the payload segment"),
        false,
    );
}
