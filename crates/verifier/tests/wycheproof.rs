//! Wycheproof known-answer tests: every vector of the JWS, JWK-set and ECDSA P-256 (IEEE P1363)
//! files, vendored unchanged in `tests/vectors/wycheproof/` (Apache-2.0, see `NOTICE` there),
//! decided by the verifier itself.
//!
//! How a vector reaches the verifier. JWS and JWK-set vectors go through
//! `Verifier::verify_signature`: the JWS layer of `Verifier::verify` (size, shape, strict
//! base64url, header rules, key selection from the JWKS, signature), without the claim rules,
//! because Wycheproof signs arbitrary payloads such as `foo`. A group's keys are configured the
//! only two ways the contract trusts keys: its `public` key (or key set; the `private` one when
//! there is no public one) is served as the JWKS, where entries carrying private members such as
//! `k` or `d` are unusable; and its first symmetric JWK that is an HS256 key (`kty` `oct`, `use`
//! `sig` or absent, `alg` `HS256` or absent) becomes the legacy secret, which the contract
//! refuses when shorter than 32 bytes (then no verifier exists and every vector of the group
//! counts as rejected). P1363 vectors go through `xauth_verifier::verify_with_jwk`: the key
//! parsed and bound to ES256 as a JWKS key would be, the length check, the signature.
//!
//! What is expected. Wycheproof's verdict, except: a valid vector signed with an algorithm the
//! contract does not allow (anything but ES256, RS256, HS256) is invalid for us, must be
//! rejected (`AlgNotAllowed`, or earlier: an empty payload fails the shape check first), and is
//! counted apart; and the vectors in [`EXCEPTIONS`], where the contract decides otherwise, each
//! with its reason. High-S ECDSA signatures are valid in Wycheproof and accepted here too (the
//! verifier does not require low S). The counts are asserted, so a change in the verifier or in
//! the vectors shows up here.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use xauth_verifier::{Clock, ConfigError, Rejection, Verifier, VerifierConfig, verify_with_jwk};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/wycheproof");
const JWS_FILE: &str = "json_web_signature_test.json";
const JWK_FILE: &str = "json_web_key_test.json";
const P1363_FILE: &str = "ecdsa_secp256r1_sha256_p1363_test.json";

/// The algorithms the contract allows.
const CONTRACT_ALGS: [&str; 3] = ["ES256", "RS256", "HS256"];

/// A vector decided otherwise by the contract: `file`, `tc_id`, what the verifier answers
/// (`Ok(())` accepted, or the rejection), and why.
struct Exception {
    file: &'static str,
    tc_id: u64,
    ours: Result<(), Rejection>,
    reason: &'static str,
}

/// Where the contract decides otherwise than Wycheproof (the strictest reading).
const EXCEPTIONS: &[Exception] = &[
    Exception {
        file: JWS_FILE,
        tc_id: 259,
        ours: Err(Rejection::NotCompactJws),
        reason: "an RS256 JWS over an empty payload: the contract verifies JWTs, so an empty \
                 payload segment fails the shape check before anything else",
    },
    Exception {
        file: JWS_FILE,
        tc_id: 367,
        ours: Ok(()),
        reason: "\"invalidBase64Padding\", but the token is byte for byte tcId 357 (ValidMac, \
                 valid): the padding the vector is about is not in the file; the same bytes get \
                 the same answer (padded segments are refused: see the verifier's b64 tests)",
    },
    Exception {
        file: JWS_FILE,
        tc_id: 370,
        ours: Ok(()),
        reason: "\"invalidBase64PaddingInPayload\": byte for byte tcId 357 again, as 367",
    },
    Exception {
        file: JWS_FILE,
        tc_id: 372,
        ours: Err(Rejection::Base64),
        reason: "Wycheproof accepts a `?` inserted into the header segment (the MAC covers the \
                 text as sent); the contract accepts canonical unpadded base64url only",
    },
    Exception {
        file: JWS_FILE,
        tc_id: 373,
        ours: Err(Rejection::Base64),
        reason: "as 372, in the payload segment: canonical base64url only",
    },
    Exception {
        file: JWK_FILE,
        tc_id: 1,
        ours: Ok(()),
        reason: "Wycheproof wants a key set mixing a symmetric and a public key refused as a \
                 whole; the contract keeps the two apart: the JWKS entry carrying `k` is unusable, \
                 the symmetric key can only be the configured legacy secret, and a token MACed \
                 with that secret is valid",
    },
    Exception {
        file: JWK_FILE,
        tc_id: 4,
        ours: Ok(()),
        reason: "Wycheproof wants two symmetric keys sharing a kid refused as ambiguous; HS256 \
                 tokens use the one configured legacy secret whatever their kid, so no kid lookup \
                 happens and there is nothing ambiguous (an asymmetric kid shared by two usable \
                 JWKS keys is refused: AmbiguousKid)",
    },
    Exception {
        file: JWK_FILE,
        tc_id: 7,
        ours: Ok(()),
        reason: "a 2048-bit RSA key with the ROCA weakness (CVE-2017-15361): the contract takes \
                 any RSA key of 2048 to 8192 bits with e = 65537 from the issuer's JWKS and does \
                 not test moduli for the ROCA fingerprint",
    },
];

/// How one file's vectors came out.
#[derive(Debug, Default)]
struct Tally {
    /// Vectors run.
    run: usize,
    /// Decided exactly as Wycheproof says.
    agree: usize,
    /// Valid in Wycheproof but signed with an algorithm outside the contract: rejected.
    not_allowed: usize,
    /// Listed in [`EXCEPTIONS`].
    exceptions: usize,
    /// Vectors decided against these rules (all of them, not just the first).
    failures: Vec<String>,
    /// How the verifier answered: `accepted`, or the rejection's stable reason.
    answers: BTreeMap<&'static str, usize>,
}

impl Tally {
    /// Checks `ours` for one vector against Wycheproof's `result` and the rules above, and counts.
    fn record(
        &mut self,
        file: &str,
        tc_id: u64,
        result: &str,
        alg: Option<&str>,
        ours: &Result<(), Rejection>,
    ) {
        self.run += 1;
        let answer = ours.as_ref().err().map_or("accepted", Rejection::reason);
        *self.answers.entry(answer).or_default() += 1;
        let wycheproof_valid = match result {
            "valid" => true,
            "invalid" => false,
            other => panic!("{file} tcId {tc_id}: unexpected result {other:?}"),
        };
        let exception = EXCEPTIONS
            .iter()
            .find(|e| e.file == file && e.tc_id == tc_id);
        let failure = if let Some(e) = exception {
            self.exceptions += 1;
            if ours != &e.ours {
                Some(format!(
                    "listed as an exception but the verifier says {ours:?}"
                ))
            } else if ours.is_ok() == wycheproof_valid {
                Some("listed as an exception but agrees with Wycheproof".to_owned())
            } else {
                None
            }
        } else if wycheproof_valid && alg.is_some_and(|a| !CONTRACT_ALGS.contains(&a)) {
            self.not_allowed += 1;
            ours.is_ok()
                .then(|| format!("{alg:?} is outside the contract, yet the verifier accepts it"))
        } else if ours.is_ok() == wycheproof_valid {
            self.agree += 1;
            None
        } else {
            Some(format!("Wycheproof says {result}, the verifier {ours:?}"))
        };
        if let Some(failure) = failure {
            self.failures
                .push(format!("{file} tcId {tc_id} (alg {alg:?}): {failure}"));
        }
    }

    /// Prints the counts, then asserts that no vector failed and the counts are these.
    fn check(&self, file: &str, run: usize, agree: usize, not_allowed: usize, exceptions: usize) {
        println!(
            "wycheproof {file}: {} vectors run, {} agree with Wycheproof, {} valid ones outside \
             the contract's algorithms rejected, {} listed exceptions; answers {:?}",
            self.run, self.agree, self.not_allowed, self.exceptions, self.answers
        );
        assert!(
            self.failures.is_empty(),
            "{} vectors decided otherwise:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert_eq!(
            (self.run, self.agree, self.not_allowed, self.exceptions),
            (run, agree, not_allowed, exceptions),
            "{file}: (run, agree, not_allowed, exceptions)"
        );
    }
}

fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/{file}"))
        .unwrap_or_else(|e| panic!("{DIR}/{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Every test of `doc` with its group, checking `numberOfTests`.
fn tests_of(doc: &Value) -> Vec<(&Value, &Value)> {
    let all: Vec<(&Value, &Value)> = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
        .collect();
    assert_eq!(Some(all.len() as u64), doc["numberOfTests"].as_u64());
    all
}

struct At(i64);

impl Clock for At {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

/// A key or key set as a list of JWKs.
fn jwks_of(keys: &Value) -> Vec<Value> {
    match keys.get("keys").and_then(Value::as_array) {
        Some(set) => set.clone(),
        None => vec![keys.clone()],
    }
}

/// The legacy secret a group's keys give: the first HS256 symmetric JWK.
fn legacy_secret_of(private: Option<&Value>) -> Option<Vec<u8>> {
    let is_hs256_key = |k: &Value| {
        k["kty"] == "oct"
            && (k.get("use").is_none() || k["use"] == "sig")
            && (k.get("alg").is_none() || k["alg"] == "HS256")
    };
    jwks_of(private?)
        .iter()
        .find(|k| is_hs256_key(k))
        .map(|k| URL_SAFE_NO_PAD.decode(k["k"].as_str().unwrap()).unwrap())
}

/// The verifier one JWS or JWK-set group is decided by, with its JWKS served under `/g<index>`
/// of `server`; `Err` when the contract refuses the group's legacy secret.
async fn verifier_for(
    server: &MockServer,
    index: usize,
    group: &Value,
) -> Result<Verifier, ConfigError> {
    let base = format!("{}/g{index}", server.uri());
    let published = group.get("public").or(group.get("private")).unwrap();
    Mock::given(method("GET"))
        .and(path(format!("/g{index}/auth/v1/.well-known/jwks.json")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": jwks_of(published)})))
        .mount(server)
        .await;
    let mut config = VerifierConfig::supabase(&base)
        .unwrap()
        .clock(Arc::new(At(1_900_000_000)));
    if let Some(secret) = legacy_secret_of(group.get("private")) {
        config = config.legacy_secret(secret);
    }
    Verifier::new(config)
}

/// The `alg` of a compact JWS's header, when it has one.
fn alg_of(token: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header["alg"].as_str().map(str::to_owned)
}

/// Runs a JWS-shaped file (the JWS file and the JWK-set file share the layout).
async fn run_jws_file(file: &str) -> Tally {
    let doc = load(file);
    let expected = tests_of(&doc).len();
    let server = MockServer::start().await;
    let mut tally = Tally::default();
    for (index, group) in doc["testGroups"].as_array().unwrap().iter().enumerate() {
        let verifier = verifier_for(&server, index, group).await;
        for test in group["tests"].as_array().unwrap() {
            let tc_id = test["tcId"].as_u64().unwrap();
            let token = match &test["jws"] {
                Value::String(compact) => compact.clone(),
                other => other.to_string(), // the JSON serialization
            };
            let ours = match &verifier {
                Ok(verifier) => verifier.verify_signature(&token).await,
                // The contract refuses this secret, so no verifier has HS256: exactly what a
                // verifier without a legacy secret answers.
                Err(error) => {
                    assert_eq!(error, &ConfigError::WeakSecret, "{file} tcId {tc_id}");
                    Err(Rejection::AlgNotAllowed)
                }
            };
            let result = test["result"].as_str().unwrap();
            tally.record(file, tc_id, result, alg_of(&token).as_deref(), &ours);
        }
    }
    assert_eq!(tally.run, expected);
    tally
}

#[tokio::test]
async fn json_web_signature_vectors() {
    let tally = run_jws_file(JWS_FILE).await;
    tally.check(JWS_FILE, 401, 370, 26, 5);
}

#[tokio::test]
async fn json_web_key_vectors() {
    let tally = run_jws_file(JWK_FILE).await;
    tally.check(JWK_FILE, 26, 21, 2, 3);
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn ecdsa_p256_p1363_vectors() {
    let doc = load(P1363_FILE);
    let mut tally = Tally::default();
    for (group, test) in tests_of(&doc) {
        assert_eq!(group["publicKey"]["curve"], "secp256r1");
        assert_eq!(group["sha"], "SHA-256");
        let point = unhex(group["publicKey"]["uncompressed"].as_str().unwrap());
        assert_eq!(
            (point.len(), point[0]),
            (65, 4),
            "an uncompressed P-256 point"
        );
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let msg = unhex(test["msg"].as_str().unwrap());
        let sig = unhex(test["sig"].as_str().unwrap());
        let ours = verify_with_jwk(&jwk, "ES256", &msg, &sig);
        let tc_id = test["tcId"].as_u64().unwrap();
        tally.record(
            P1363_FILE,
            tc_id,
            test["result"].as_str().unwrap(),
            Some("ES256"),
            &ours,
        );
    }
    tally.check(P1363_FILE, 262, 262, 0, 0);
}

#[test]
fn every_exception_names_a_vector() {
    for e in EXCEPTIONS {
        let doc = load(e.file);
        assert!(
            tests_of(&doc)
                .iter()
                .any(|(_, t)| t["tcId"].as_u64() == Some(e.tc_id)),
            "{} has no tcId {}",
            e.file,
            e.tc_id
        );
        assert!(!e.reason.is_empty());
    }
}
