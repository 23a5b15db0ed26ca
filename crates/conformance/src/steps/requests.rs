//! `When I call …` steps: one bounded request to the target, recorded as evidence.

use cucumber::when;

use crate::scenario::world::XauthWorld;

fn route_url(w: &XauthWorld, route: &str) -> url::Url {
    let path = match route {
        "permission" => w.ctx.profile.routes.permission.path.as_str(),
        _ => w.ctx.profile.routes.protected.as_str(),
    };
    w.ctx.target_url(path)
}

/// Sends `GET route` with an optional raw Authorization value; records the exchange.
pub async fn call(
    w: &mut XauthWorld,
    url: url::Url,
    authorization: Option<String>,
    token: Option<String>,
) {
    let headers = authorization
        .map(|v| vec![("authorization".to_owned(), v.into_bytes())])
        .unwrap_or_default();
    let exchange = w.http.send(reqwest::Method::GET, url, headers, token).await;
    w.exchanges.push(exchange);
}

#[when(regex = r"^I call the (protected|permission) route with it$")]
async fn call_with_it(w: &mut XauthWorld, route: String) {
    let token = w.current().compact.clone();
    let url = route_url(w, &route);
    call(w, url, Some(format!("Bearer {token}")), Some(token)).await;
}

#[when(regex = r"^I call the (protected|permission) route without credentials$")]
async fn call_without(w: &mut XauthWorld, route: String) {
    let url = route_url(w, &route);
    call(w, url, None, None).await;
}

#[when(regex = r#"^I call the protected route with the Authorization header "(.*)"$"#)]
async fn call_with_header(w: &mut XauthWorld, template: String) {
    let token = w.token.as_ref().map(|t| t.compact.clone());
    let value = template
        .replace("{space}", " ")
        .replace("{token}", token.as_deref().unwrap_or(""));
    let url = route_url(w, "protected");
    call(w, url, Some(value), token).await;
}

#[when(
    regex = r"^I call the (protected|permission) route with the issuer's (anon|service_role) API key as bearer$"
)]
async fn call_with_api_key(w: &mut XauthWorld, route: String, which: String) {
    let key = if which == "anon" {
        w.ctx.issuer.anon_key.clone()
    } else {
        w.ctx.issuer.service_role_key.clone()
    };
    let url = route_url(w, &route);
    call(w, url, Some(format!("Bearer {key}")), Some(key)).await;
}

#[when(regex = r"^I call the protected route with it in the access_token query parameter only$")]
async fn call_with_query(w: &mut XauthWorld) {
    let token = w.current().compact.clone();
    let mut url = route_url(w, "protected");
    url.query_pairs_mut().append_pair("access_token", &token);
    call(w, url, None, Some(token)).await;
}

#[when(regex = r"^I call the protected route with the marker as bearer token$")]
async fn call_with_marker(w: &mut XauthWorld) {
    let marker = w.marker.clone();
    let url = route_url(w, "protected");
    call(w, url, Some(format!("Bearer {marker}")), Some(marker)).await;
}
