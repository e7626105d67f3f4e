//! The tower layer over real HTTP: it answers 401/403/503 itself, lets good tokens through with
//! the claims in the request extensions, and guards only the routes it wraps.

use crate::helpers::{keys, static_jwks, valid_claims, with, JwksServer, AUDIENCE};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tollgate_token_verifier::{AccessClaims, RequireBearerLayer, Verifier, VerifierConfig};

const ISSUER: &str = "https://auth.example.test";

async fn whoami(Extension(claims): Extension<AccessClaims>) -> Json<Value> {
    Json(json!({ "sub": claims.sub, "org": claims.org, "role": claims.role.as_str() }))
}

/// A resource server: `/open` unguarded, `/whoami` behind a layer without required scopes,
/// `/risks` behind one requiring `risk.read`, `/audits` behind one requiring `audit.read`.
/// Returns its base URL and how many requests reached a guarded handler.
async fn spawn(verifier: Verifier) -> (String, Arc<AtomicUsize>) {
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = |reached: Arc<AtomicUsize>| {
        move |claims: Extension<AccessClaims>| {
            reached.fetch_add(1, Ordering::SeqCst);
            whoami(claims)
        }
    };
    let guarded = Router::new()
        .route("/whoami", get(counted(reached.clone())))
        .route_layer(RequireBearerLayer::new(verifier.clone()));
    let risks = Router::new()
        .route("/risks", get(counted(reached.clone())))
        .route_layer(RequireBearerLayer::new(verifier.clone()).require_scopes(["risk.read"]));
    let audits = Router::new()
        .route("/audits", get(counted(reached.clone())))
        .route_layer(
            RequireBearerLayer::new(verifier).require_scopes(["control.read", "audit.read"]),
        );
    let app = Router::new()
        .route("/open", get(|| async { "open" }))
        .merge(guarded)
        .merge(risks)
        .merge(audits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, reached)
}

fn static_verifier() -> Verifier {
    Verifier::with_static_jwks(VerifierConfig::new(ISSUER, AUDIENCE), static_jwks())
}

async fn get_with(url: String, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(url);
    let request = match token {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    };
    request.send().await.unwrap()
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_layer_answers_401_invalid_token_itself_without_reaching_the_handler() {
    // Arrange
    let (base, reached) = spawn(static_verifier()).await;
    let expired = keys()
        .es256
        .token(&with(valid_claims(ISSUER), "exp", json!(1)));

    for token in [None, Some("not.a.jwt"), Some(expired.as_str())] {
        // Act
        let response = get_with(format!("{base}/whoami"), token).await;

        // Assert
        assert_eq!(response.status(), 401, "{token:?}");
        assert!(
            challenge(&response).starts_with("Bearer error=\"invalid_token\""),
            "{}",
            challenge(&response)
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_layer_passes_a_good_token_with_its_claims_in_the_request_extensions() {
    // Arrange
    let (base, reached) = spawn(static_verifier()).await;
    let token = keys().es256.token(&valid_claims(ISSUER));

    // Act
    let whoami = get_with(format!("{base}/whoami"), Some(&token)).await;
    let risks = get_with(format!("{base}/risks"), Some(&token)).await;

    // Assert
    assert_eq!(whoami.status(), 200);
    assert_eq!(
        whoami.json::<Value>().await.unwrap(),
        json!({ "sub": "sp_01J9ZK4W3M", "org": "org_acme", "role": "api_admin" })
    );
    assert_eq!(risks.status(), 200, "the token grants risk.read");
    assert_eq!(reached.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_layer_answers_403_naming_the_first_required_scope_the_token_lacks() {
    // Arrange: the token grants `control.read risk.read`, the route needs `control.read audit.read`.
    let (base, reached) = spawn(static_verifier()).await;
    let token = keys().es256.token(&valid_claims(ISSUER));

    // Act
    let response = get_with(format!("{base}/audits"), Some(&token)).await;

    // Assert
    assert_eq!(response.status(), 403);
    assert_eq!(
        challenge(&response),
        "Bearer error=\"insufficient_scope\", scope=\"audit.read\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn routes_outside_the_layer_need_no_token() {
    let (base, _) = spawn(static_verifier()).await;

    let response = get_with(format!("{base}/open"), None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "open");
}

#[tokio::test]
async fn the_layer_answers_503_when_the_signing_keys_cannot_be_fetched() {
    // Arrange: the issuer's JWKS endpoint fails from the start, so no key was ever cached.
    let jwks = JwksServer::start().await;
    jwks.fail();
    let (base, reached) = spawn(jwks.verifier()).await;
    let token = keys().es256.token(&valid_claims(&jwks.issuer));

    // Act
    let response = get_with(format!("{base}/whoami"), Some(&token)).await;

    // Assert
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}
