//! The properties against the real reference API and the real issuer, both in-process on
//! ephemeral loopback ports: they pass on the clean reference and fail (with a shrunk, replayable
//! reproduction) when a seeded defect is switched on.

// Test code: unwrap() is the assertion (clippy does not treat integration tests as test code).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use xauth_conformance::context::{IssuerEndpoint, RunContext, Timeouts};
use xauth_conformance::profile::Profile;
use xauth_conformance::properties::{self, DIFFERENTIAL_NAME, MUTATION_NAME, PropertiesConfig};
use xauth_conformance::report::{FeatureReport, ScenarioReport, Status};

struct Setup {
    _issuer: xauth_issuer::IssuerHandle,
    reference: xauth_reference::ServerHandle,
    ctx: RunContext,
}

async fn setup(defects: &[&str]) -> Setup {
    let issuer = xauth_issuer::Issuer::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .spawn()
        .await
        .unwrap();
    let info = issuer.info();
    let mut config = xauth_reference::Config::new(&info.api_url).unwrap();
    config.jwt_secret = Some(info.jwt_secret.clone());
    config.defects = xauth_reference::Defects::parse(defects.iter().copied()).unwrap();
    let reference = xauth_reference::spawn(config).await.unwrap();
    let ctx = RunContext {
        replicas: Vec::new(),
        canary: None,
        target: reference.url().parse().unwrap(),
        profile: Profile::default(),
        issuer: IssuerEndpoint {
            base_url: info.api_url.parse().unwrap(),
            control_key: info.service_role_key.clone(),
            anon_key: info.anon_key.clone(),
            service_role_key: info.service_role_key.clone(),
            jwt_secret: Some(info.jwt_secret.clone()),
        },
        timeouts: Timeouts {
            request: Duration::from_secs(10),
            scenario: Duration::from_secs(60),
        },
        loopback_sources: true,
        deadlines: Default::default(),
    };
    Setup {
        _issuer: issuer,
        reference,
        ctx,
    }
}

async fn run(ctx: &RunContext, cases: u32, seed: u64) -> FeatureReport {
    let ctx = ctx.clone();
    let config = PropertiesConfig {
        cases,
        seed: Some(seed),
        ..PropertiesConfig::default()
    };
    tokio::task::spawn_blocking(move || properties::run_properties(&ctx, &config))
        .await
        .unwrap()
}

fn scenario<'a>(f: &'a FeatureReport, name: &str) -> &'a ScenarioReport {
    f.scenarios.iter().find(|s| s.name == name).unwrap()
}

fn message(s: &ScenarioReport) -> &str {
    s.failure.as_ref().map_or("", |f| f.message.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_properties_hold_on_the_clean_reference() {
    let s = setup(&[]).await;
    let f = run(&s.ctx, 48, 1).await;
    assert_eq!(f.scenarios.len(), 2);
    for sc in &f.scenarios {
        assert_eq!(sc.status, Status::Passed, "{}: {}", sc.name, message(sc));
    }
    s.reference.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_differential_property_catches_an_ignored_audience() {
    let s = setup(&["ignore-aud"]).await;
    let f = run(&s.ctx, 64, 2).await;
    let d = scenario(&f, DIFFERENTIAL_NAME);
    assert_eq!(
        d.status,
        Status::Failed,
        "ignore-aud survived the differential property"
    );
    let m = message(d);
    // shrunk to the deciding claim, with the seed and a reproduction
    assert!(m.contains("aud:"), "{m}");
    assert!(m.contains("--properties-seed 2"), "{m}");
    assert!(m.contains("reproduce: curl"), "{m}");
    assert!(m.contains("401 with error code UNAUTHENTICATED"), "{m}");
    assert!(
        !m.contains(s.ctx.issuer.service_role_key.as_str()),
        "secret leaked: {m}"
    );
    // an aud edit that keeps the old signature still breaks the signature: no mutation passes
    assert_eq!(scenario(&f, MUTATION_NAME).status, Status::Passed);
    s.reference.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_differential_property_catches_expired_as_unauthenticated() {
    let s = setup(&["expired-as-unauthenticated"]).await;
    let f = run(&s.ctx, 64, 3).await;
    let d = scenario(&f, DIFFERENTIAL_NAME);
    assert_eq!(d.status, Status::Failed);
    assert!(message(d).contains("TOKEN_EXPIRED"), "{}", message(d));
    s.reference.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mutation_property_catches_garbage_500_and_alg_none() {
    for (defect, seed) in [
        ("garbage-500", 4),
        ("alg-none", 5),
        ("expired-before-signature", 6),
    ] {
        let s = setup(&[defect]).await;
        let f = run(&s.ctx, 96, seed).await;
        let m = scenario(&f, MUTATION_NAME);
        assert_eq!(
            m.status,
            Status::Failed,
            "{defect} survived the mutation property"
        );
        let text = message(m);
        assert!(text.contains("minimal failing input"), "{text}");
        assert!(text.contains("reproduce: curl"), "{text}");
        s.reference.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_replays_the_same_minimal_failure() {
    let s = setup(&["ignore-iss"]).await;
    let a = run(&s.ctx, 64, 11).await;
    let b = run(&s.ctx, 64, 11).await;
    let input = |f: &FeatureReport| {
        let m = message(scenario(f, DIFFERENTIAL_NAME)).to_owned();
        m.lines()
            .find(|l| l.starts_with("minimal failing input"))
            .map(|l| {
                // the subject differs per run only through the seed: identical inputs
                l.to_owned()
            })
            .unwrap_or_default()
    };
    assert!(
        !input(&a).is_empty(),
        "{}",
        message(scenario(&a, DIFFERENTIAL_NAME))
    );
    assert_eq!(input(&a), input(&b));
    s.reference.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_select_properties() {
    let s = setup(&[]).await;
    let ctx = s.ctx.clone();
    let f = tokio::task::spawn_blocking(move || {
        properties::run_properties(
            &ctx,
            &PropertiesConfig {
                cases: 4,
                seed: Some(1),
                tags: Some("@differential".into()),
                ..PropertiesConfig::default()
            },
        )
    })
    .await
    .unwrap();
    assert_eq!(f.scenarios.len(), 1);
    assert_eq!(f.scenarios[0].name, DIFFERENTIAL_NAME);
    let ctx = s.ctx.clone();
    let none = tokio::task::spawn_blocking(move || {
        properties::run_properties(
            &ctx,
            &PropertiesConfig {
                tags: Some("@algorithms".into()),
                ..PropertiesConfig::default()
            },
        )
    })
    .await
    .unwrap();
    assert!(none.scenarios.is_empty());
    s.reference.shutdown().await;
}
