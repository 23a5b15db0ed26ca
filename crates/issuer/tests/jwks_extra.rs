//! Extra JWK entries over real HTTP (`/_control/v1/jwks/extra`): published as given after the
//! issuer's own keys, replaced, cleared, bounded, and kept across key changes.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::*;

const EXTRA: &str = "/_control/v1/jwks/extra";

async fn put_extra(run: &Harness, body: &str) -> reqwest::Response {
    run.http
        .put(run.url(EXTRA))
        .header("apikey", &run.service_key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn delete_extra(run: &Harness) -> reqwest::Response {
    run.http
        .delete(run.url(EXTRA))
        .bearer_auth(&run.service_key)
        .send()
        .await
        .unwrap()
}

async fn jwks_keys(run: &Harness) -> Vec<Value> {
    let v: Value = serde_json::from_str(&run.jwks_text().await).unwrap();
    v["keys"].as_array().unwrap().clone()
}

fn entry(kid: &str) -> Value {
    // Deliberately unusable members: the issuer publishes them as given.
    json!({"kty": "oct", "kid": kid, "k": "c2VjcmV0", "use": "enc", "x-extra": [1, {"n": null}]})
}

#[tokio::test]
async fn extras_follow_the_real_keys_and_replace_and_clear() {
    let run = start_seeded().await;
    let own = jwks_keys(&run).await;
    assert_eq!(own.len(), 2, "ES256 and RS256 by default");
    assert_eq!(run.control_json("/jwks/extra").await, json!({"keys": []}));

    let first =
        json!({"keys": [entry("x1"), {"kty": "EC", "kid": "dup"}, {"kty": "EC", "kid": "dup"}]});
    let resp = put_extra(&run, &first.to_string()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), first);
    let published = jwks_keys(&run).await;
    assert_eq!(
        &published[..2],
        &own[..],
        "the issuer's own keys come first, unchanged"
    );
    assert_eq!(
        &published[2..],
        first["keys"].as_array().unwrap().as_slice()
    );
    assert_eq!(run.control_json("/jwks/extra").await, first);

    // PUT replaces the whole list.
    let second = json!({"keys": [entry("x2")]});
    assert_eq!(put_extra(&run, &second.to_string()).await.status(), 200);
    assert_eq!(jwks_keys(&run).await[2..], [entry("x2")]);
    assert_eq!(run.control_json("/jwks/extra").await, second);

    // DELETE clears; the JWKS is the issuer's own again, byte for byte.
    let resp = delete_extra(&run).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(jwks_keys(&run).await, own);
    assert_eq!(run.control_json("/jwks/extra").await, json!({"keys": []}));
    // An empty list is a clear too.
    assert_eq!(put_extra(&run, &second.to_string()).await.status(), 200);
    assert_eq!(put_extra(&run, r#"{"keys":[]}"#).await.status(), 200);
    assert_eq!(jwks_keys(&run).await, own);

    // The library handle does the same.
    run.issuer.set_extra_jwks(vec![entry("x3")]).unwrap();
    assert_eq!(jwks_keys(&run).await[2..], [entry("x3")]);
    run.issuer.clear_extra_jwks();
    assert_eq!(jwks_keys(&run).await, own);
}

#[tokio::test]
async fn extras_survive_key_changes() {
    let run = start_seeded().await;
    let extras = vec![entry("keep-1"), entry("keep-2")];
    run.issuer.set_extra_jwks(extras.clone()).unwrap();

    let resp = run
        .control_post("/keys", Some(json!({"alg": "ES256"})))
        .await;
    assert_eq!(resp.status(), 201);
    let added: Value = resp.json().await.unwrap();
    let kid = added["kid"].as_str().unwrap();
    let resp = run
        .control_post("/keys/rotate", Some(json!({"kid": kid})))
        .await;
    assert_eq!(resp.status(), 200);

    let published = jwks_keys(&run).await;
    assert_eq!(published.len(), 5);
    assert_eq!(published[2]["kid"], kid, "the new key before the extras");
    assert_eq!(&published[3..], extras.as_slice());

    // Revoking a real key keeps the extras too.
    let old = published[0]["kid"].as_str().unwrap();
    let resp = run.control_post(&format!("/keys/{old}/revoke"), None).await;
    assert_eq!(resp.status(), 200);
    let published = jwks_keys(&run).await;
    assert_eq!(published.len(), 4);
    assert_eq!(&published[2..], extras.as_slice());
    // Minted tokens still come from the issuer's own current key.
    let minted = run.mint(json!({})).await;
    assert_eq!(minted["header"]["kid"], kid);
}

#[tokio::test]
async fn bad_extra_requests_are_refused_and_change_nothing() {
    let run = start_seeded().await;
    let kept = json!({"keys": [entry("kept")]});
    assert_eq!(put_extra(&run, &kept.to_string()).await.status(), 200);
    let before = run.jwks_text().await;

    let too_many = json!({"keys": (0..33).map(|i| entry(&format!("k{i}"))).collect::<Vec<_>>()});
    for (bad, code) in [
        (too_many.to_string(), "validation_failed"),
        (
            json!({"keys": [entry("a"), 1]}).to_string(),
            "validation_failed",
        ),
        (json!({"keys": [[]]}).to_string(), "validation_failed"),
        (json!({"keys": ["kid"]}).to_string(), "validation_failed"),
        (json!({"keys": [null]}).to_string(), "validation_failed"),
        (json!({"keys": {"kid": "a"}}).to_string(), "bad_json"),
        (json!({"keys": [], "more": 1}).to_string(), "bad_json"),
        (json!({}).to_string(), "bad_json"),
        (json!([entry("a")]).to_string(), "bad_json"),
        ("{not json".to_owned(), "bad_json"),
        (String::new(), "bad_json"),
    ] {
        let resp = put_extra(&run, &bad).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(resp.headers()["x-sb-error-code"], code, "{bad}");
    }
    // Exactly 32 entries are fine.
    let max = json!({"keys": (0..32).map(|i| entry(&format!("k{i}"))).collect::<Vec<_>>()});
    assert_eq!(put_extra(&run, &max.to_string()).await.status(), 200);
    assert_eq!(jwks_keys(&run).await.len(), 2 + 32);
    assert_eq!(put_extra(&run, &kept.to_string()).await.status(), 200);

    // A body over the server's limit is refused before parsing.
    let huge = format!(
        r#"{{"keys":[{{"kty":"oct","k":"{}"}}]}}"#,
        "a".repeat(2 << 20)
    );
    let resp = put_extra(&run, &huge).await;
    assert_eq!(resp.status(), 413);

    // The library handle applies the same bound.
    let over: Vec<Value> = (0..33).map(|i| entry(&format!("k{i}"))).collect();
    assert!(run.issuer.set_extra_jwks(over).is_err());
    assert!(
        run.issuer
            .set_extra_jwks(vec![json!("not an object")])
            .is_err()
    );

    assert_eq!(
        run.jwks_text().await,
        before,
        "refused requests change nothing"
    );

    // Without the service_role key: 401.
    let resp = run
        .http
        .put(run.url(EXTRA))
        .header("apikey", &run.anon_key)
        .body(r#"{"keys":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = run.http.delete(run.url(EXTRA)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(run.jwks_text().await, before);
}
