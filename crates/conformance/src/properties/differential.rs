//! The differential property's input space: claim sets and headers that the contract judges
//! unambiguously, and the verdict `xauth-verifier` plus the profile's route policy predicts.
//!
//! Only what the contract fixes is generated, with margins that clock skew between the suite
//! and the target cannot cross (every time is at least [`MARGIN`] seconds away from a boundary
//! after the leeway): `exp` clearly in the future or clearly past `now - leeway`, `nbf` absent,
//! past or clearly in the future, `iat` in the past, `iss` right or wrong, `aud` as a string, an
//! array or wrong, `role` from the profile, extra claims, `typ` absent or `JWT`. Latitudes where
//! correct implementations may differ (`@strict` in features/README.md: huge `exp`, `iat` in the
//! future, `typ` policies, `crit`, boundary seconds, …) are never generated.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use xauth_conformance::properties::differential::{claim_case, Family};
//! let mut runner = proptest::test_runner::TestRunner::deterministic();
//! let case = claim_case(vec![Family::Es256]).new_tree(&mut runner).unwrap().current();
//! let (_header, claims) = case.build(1_700_000_000, 0, "http://127.0.0.1:54321/auth/v1", &Default::default(), &Default::default());
//! assert!(claims["exp"].is_i64() && claims["sub"].is_string());
//! ```

use std::cell::RefCell;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};

use super::DIFFERENTIAL_NAME;
use super::harness::{Base, CaseFailure, Expect, Harness, Refusal};
use crate::net::control::MintRequest;
use crate::report::ScenarioReport;

/// Seconds between any generated time and the boundary the leeway puts it near.
pub const MARGIN: i64 = 30;

/// The key family a token is signed with: the scenarios' typed step parameter.
pub use crate::scenario::params::Family;

/// Which route is called, with which claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The protected route, role `authenticated`.
    Protected,
    /// The permission route with the profile's `grant_claims` merged.
    PermissionGranted,
    /// The permission route with the profile's `lack_claims` merged.
    PermissionLacking,
}

/// `exp` relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exp {
    /// `now + secs` (secs ≥ MARGIN).
    Future(i64),
    /// `now - leeway - secs` (secs ≥ MARGIN): expired.
    Past(i64),
}

/// `nbf` relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nbf {
    /// No `nbf` claim.
    Absent,
    /// `min(now - secs, exp - MARGIN)`.
    Past(i64),
    /// `now + leeway + secs`: not yet valid.
    Future(i64),
}

/// `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iss {
    /// The issuer the target trusts.
    Right,
    /// Another project.
    OtherProject,
    /// The issuer with a trailing slash.
    TrailingSlash,
    /// No `iss` claim.
    Absent,
}

/// `aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aud {
    /// `"authenticated"`.
    String,
    /// `["authenticated"]`.
    Array,
    /// `["other", "authenticated"]`.
    ArrayWithOther,
    /// `"anon"`.
    Wrong,
    /// `["other"]`.
    WrongArray,
    /// No `aud` claim.
    Absent,
}

/// One generated case.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimCase {
    /// The key family the token is signed with.
    pub family: Family,
    /// The route called (and the claims merged for it).
    pub route: Route,
    /// The `exp` claim.
    pub exp: Exp,
    /// The `nbf` claim.
    pub nbf: Nbf,
    /// `iat = min(now - iat_age, exp - MARGIN)` (always in the past, never after `exp`).
    pub iat_age: i64,
    /// The `iss` claim.
    pub iss: Iss,
    /// The `aud` claim.
    pub aud: Aud,
    /// `typ: "JWT"` in the header (else absent).
    pub typ_jwt: bool,
    /// The subject, from the case's random bits (a fresh user per case).
    pub sub: u128,
    /// Extra claims `x_<n>` with these values.
    pub extra: Vec<(u8, ExtraValue)>,
}

/// The value of an extra claim.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraValue {
    /// A JSON integer.
    Int(i64),
    /// A JSON string.
    Str(String),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
    /// A JSON array of integers.
    List(Vec<i64>),
}

impl ExtraValue {
    fn json(&self) -> Value {
        match self {
            ExtraValue::Int(i) => Value::from(*i),
            ExtraValue::Str(s) => Value::String(s.clone()),
            ExtraValue::Bool(b) => Value::Bool(*b),
            ExtraValue::Null => Value::Null,
            ExtraValue::List(v) => Value::from(v.clone()),
        }
    }
}

fn extra_value() -> impl Strategy<Value = ExtraValue> {
    prop_oneof![
        any::<i64>().prop_map(ExtraValue::Int),
        "[a-zA-Z0-9 _.-]{0,24}".prop_map(ExtraValue::Str),
        any::<bool>().prop_map(ExtraValue::Bool),
        Just(ExtraValue::Null),
        proptest::collection::vec(any::<i64>(), 0..4).prop_map(ExtraValue::List),
    ]
}

/// The strategy over cases signed with one of `families`. The first alternative of each field
/// is the valid one, so failures shrink towards the single claim that decides the verdict.
pub fn claim_case(families: Vec<Family>) -> impl Strategy<Value = ClaimCase> {
    let family = proptest::sample::select(families);
    let route = prop_oneof![
        2 => Just(Route::Protected),
        1 => Just(Route::PermissionGranted),
        1 => Just(Route::PermissionLacking),
    ];
    let exp = prop_oneof![
        3 => (MARGIN..=7200i64).prop_map(Exp::Future),
        // just past the leeway (catches a hidden extra leeway) and far past
        1 => (MARGIN..=1800i64).prop_map(Exp::Past),
        1 => (1800i64..=86_400).prop_map(Exp::Past),
    ];
    let nbf = prop_oneof![
        3 => Just(Nbf::Absent),
        2 => (MARGIN..=3600i64).prop_map(Nbf::Past),
        1 => (MARGIN..=3600i64).prop_map(Nbf::Future),
    ];
    let iss = prop_oneof![
        6 => Just(Iss::Right),
        1 => Just(Iss::OtherProject),
        1 => Just(Iss::TrailingSlash),
        1 => Just(Iss::Absent),
    ];
    let aud = prop_oneof![
        4 => Just(Aud::String),
        1 => Just(Aud::Array),
        1 => Just(Aud::ArrayWithOther),
        1 => Just(Aud::Wrong),
        1 => Just(Aud::WrongArray),
        1 => Just(Aud::Absent),
    ];
    (
        family,
        route,
        exp,
        nbf,
        MARGIN..=3600i64,
        iss,
        aud,
        any::<bool>().prop_map(|b| !b),
        any::<u128>(),
        proptest::collection::vec((0u8..8, extra_value()), 0..4),
    )
        .prop_map(
            |(family, route, exp, nbf, iat_age, iss, aud, typ_jwt, sub, extra)| ClaimCase {
                family,
                route,
                exp,
                nbf,
                iat_age,
                iss,
                aud,
                typ_jwt,
                sub,
                extra,
            },
        )
}

impl ClaimCase {
    /// The header members (merged over the issuer's default header; `null` removes) and the
    /// claims (merged over the issuer's GoTrue template) for this case at time `now`.
    pub fn build(
        &self,
        now: i64,
        leeway: i64,
        issuer: &str,
        grant: &Map<String, Value>,
        lack: &Map<String, Value>,
    ) -> (Map<String, Value>, Map<String, Value>) {
        let mut header = Map::new();
        if !self.typ_jwt {
            header.insert("typ".into(), Value::Null);
        }
        let mut c = Map::new();
        c.insert(
            "sub".into(),
            Value::String(uuid::Uuid::from_u128(self.sub).to_string()),
        );
        c.insert("role".into(), Value::String("authenticated".into()));
        let exp = match self.exp {
            Exp::Future(s) => now + s,
            Exp::Past(s) => now - leeway - s,
        };
        c.insert("exp".into(), Value::from(exp));
        // iat and a past nbf never come after exp: an empty validity window is a corner where
        // correct implementations may differ, so it is not generated
        c.insert(
            "nbf".into(),
            match self.nbf {
                Nbf::Absent => Value::Null,
                Nbf::Past(s) => Value::from((now - s).min(exp - MARGIN)),
                Nbf::Future(s) => Value::from(now + leeway + s),
            },
        );
        c.insert(
            "iat".into(),
            Value::from((now - self.iat_age).min(exp - MARGIN)),
        );
        c.insert(
            "iss".into(),
            match self.iss {
                Iss::Right => Value::String(issuer.into()),
                Iss::OtherProject => {
                    Value::String("https://abcdefghijklmnopqrst.supabase.co/auth/v1".into())
                }
                Iss::TrailingSlash => Value::String(format!("{issuer}/")),
                Iss::Absent => Value::Null,
            },
        );
        c.insert(
            "aud".into(),
            match self.aud {
                Aud::String => Value::from("authenticated"),
                Aud::Array => Value::from(vec!["authenticated"]),
                Aud::ArrayWithOther => Value::from(vec!["other", "authenticated"]),
                Aud::Wrong => Value::from("anon"),
                Aud::WrongArray => Value::from(vec!["other"]),
                Aud::Absent => Value::Null,
            },
        );
        for (n, v) in &self.extra {
            // null removes the member when minting: such a claim is simply absent
            c.insert(format!("x_{n}"), v.json());
        }
        match self.route {
            Route::Protected => {}
            Route::PermissionGranted => c.extend(grant.clone()),
            Route::PermissionLacking => c.extend(lack.clone()),
        }
        (header, c)
    }
}

/// The property and its oracle: the target answers what `xauth-verifier` plus the profile's
/// route policy predicts.
impl Harness {
    pub(super) fn differential_property(&self, bases: &[Result<Base, String>]) -> ScenarioReport {
        let tags = &["properties", "differential"];
        let result = self.usable(bases).map_err(Refusal::from).and_then(|usable| {
            let families: Vec<Family> = usable.iter().map(|b| b.family).collect();
            if families.is_empty() {
                return Err("suite error: no key family to mint with".into());
            }
            let selector = |f: Family| {
                usable
                    .iter()
                    .find(|b| b.family == f)
                    .map(|b| b.selector.clone())
                    .unwrap_or_default()
            };
            let oracle = self.oracle()?;
            let issuer_iss = self.ctx.issuer.auth_url().as_str().trim_end_matches('/').to_owned();
            let leeway = self.ctx.profile.leeway_seconds as i64;
            let perm = &self.ctx.profile.routes.permission;
            let (grant, lack) = (perm.grant_claims.clone(), perm.lack_claims.clone());
            let grant_for_policy = grant.clone();
            let permission_policy = xauth_verifier::Policy::any().and_claim(
                "the profile's routes.permission.grant_claims",
                move |c| {
                    grant_for_policy
                        .iter()
                        .all(|(k, v)| c.raw.get(k) == Some(v))
                },
            );
            let pointer = self.ctx.profile.error_code_pointer.as_str().to_owned();
            let last: RefCell<Option<CaseFailure>> = RefCell::new(None);
            let deadline = self.deadline();
            let timed_out = RefCell::new(false);
            let mut runner = self.runner("differential");
            let outcome = runner.run(&claim_case(families), |case| {
                if Instant::now() >= deadline {
                    *timed_out.borrow_mut() = true;
                    return Ok(());
                }
                let now = crate::scenario::world::now_unix();
                let (header, claims) = case.build(now, leeway, &issuer_iss, &grant, &lack);
                let req = MintRequest {
                    key: Some(selector(case.family)),
                    header: Some(header),
                    claims: Some(claims.clone()),
                    ..MintRequest::default()
                };
                let token = match self.mint(&req) {
                    Ok(t) => t,
                    Err(e) => {
                        *last.borrow_mut() = Some(CaseFailure {
                            suite_error: true,
                            input: format!("suite error: the issuer refused to mint {case:?}: {e}"),
                            recipe: Vec::new(),
                            expectation: String::new(),
                            exchange: self.no_exchange(),
                        });
                        return Err(TestCaseError::fail("mint failed"));
                    }
                };
                let expect = match self.rt.block_on(oracle.verify(&token)) {
                    Err(xauth_verifier::Rejection::KeysUnavailable) => {
                        *last.borrow_mut() = Some(CaseFailure {
                            suite_error: true,
                            input: "suite error: the oracle could not fetch the issuer's JWKS".into(),
                            recipe: Vec::new(),
                            expectation: String::new(),
                            exchange: self.no_exchange(),
                        });
                        return Err(TestCaseError::fail("oracle"));
                    }
                    // Every token here is genuinely signed by the issuer: an expired one is
                    // authentic, so unless --strict its other faults may be answered
                    // TOKEN_EXPIRED too (exp checked first, as mainstream libraries do).
                    Err(rej)
                        if !self.strict
                            && matches!(case.exp, Exp::Past(_))
                            && rej.outcome() == xauth_verifier::Outcome::Unauthenticated =>
                    {
                        (
                            Expect::Refused401,
                            format!(
                                "xauth-verifier rejects it ({}); it is also expired, and authentic, so TOKEN_EXPIRED is accepted too without --strict",
                                rej.reason()
                            ),
                        )
                    }
                    Err(rej) => (
                        Expect::Error(401, rej.outcome().code()),
                        format!("xauth-verifier rejects it ({})", rej.reason()),
                    ),
                    Ok(verified) => match case.route {
                        Route::Protected => (
                            Expect::Accepted,
                            "xauth-verifier accepts it; any valid user token may read the protected route".into(),
                        ),
                        _ => match permission_policy.check(&verified) {
                            Ok(()) => (
                                Expect::Accepted,
                                "xauth-verifier accepts it and it carries the profile's grant_claims".into(),
                            ),
                            Err(_) => (
                                Expect::Error(403, "FORBIDDEN"),
                                "xauth-verifier accepts it but it lacks the profile's grant_claims".into(),
                            ),
                        },
                    },
                };
                let path = match case.route {
                    Route::Protected => self.ctx.profile.routes.protected.as_str(),
                    _ => perm.path.as_str(),
                };
                let ex = self.send(path, &token);
                if self.meets(&ex, &expect.0) {
                    return Ok(());
                }
                *last.borrow_mut() = Some(CaseFailure {
                    suite_error: false,
                    input: format!("{case:?}"),
                    recipe: vec![format!(
                        "minted by the issuer ({}) with header members {} and claims {}",
                        case.family.alg(),
                        Value::Object(req.header.clone().unwrap_or_default()),
                        Value::Object(claims)
                    )],
                    expectation: format!("{} ({})", expect.0.describe(&pointer), expect.1),
                    exchange: ex,
                });
                Err(TestCaseError::fail("wrong verdict"))
            });
            self.conclude(outcome, &last, &timed_out)
        });
        self.scenario(DIFFERENTIAL_NAME, 2, tags, result)
    }

    /// The reference verifier configured like the profile, pointed at the issuer's JWKS.
    pub(super) fn oracle(&self) -> Result<xauth_verifier::Verifier, String> {
        let base = self
            .ctx
            .issuer
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let mut config = xauth_verifier::VerifierConfig::supabase(&base)
            .map_err(|e| format!("suite error: oracle configuration: {e}"))?
            .leeway(Duration::from_secs(self.ctx.profile.leeway_seconds));
        if self.families.contains(&Family::Hs256)
            && let Some(secret) = &self.ctx.issuer.jwt_secret
        {
            config = config.legacy_secret(secret.as_bytes().to_vec());
        }
        let _guard = self.rt.enter();
        let verifier = xauth_verifier::Verifier::new(config)
            .map_err(|e| format!("suite error: oracle: {e}"))?;
        self.rt
            .block_on(verifier.refresh_jwks())
            .map_err(|e| format!("suite error: the oracle cannot fetch the issuer's JWKS: {e}"))?;
        Ok(verifier)
    }
}
