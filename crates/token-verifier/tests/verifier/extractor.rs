//! The axum extractor over real HTTP: 401 challenges, 200 with claims, 403 insufficient_scope.

use crate::helpers::{keys, static_jwks, valid_claims, AUDIENCE};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tollgate_token_verifier::{AccessClaims, InsufficientScope, Verifier, VerifierConfig};

const ISSUER: &str = "https://auth.example.test";

async fn whoami(claims: AccessClaims) -> Json<Value> {
    Json(
        json!({ "sub": claims.sub, "org": claims.org, "scopes": claims.scopes().collect::<Vec<_>>() }),
    )
}

async fn audits(claims: AccessClaims) -> Result<&'static str, InsufficientScope> {
    claims.require_scope("audit.read")?;
    Ok("audits")
}

async fn greeting(claims: Option<AccessClaims>) -> String {
    match claims {
        Some(claims) => format!("hello {}", claims.sub),
        None => "hello stranger".into(),
    }
}

/// A resource server on 127.0.0.1 with three routes; returns its base URL.
async fn spawn_resource_server() -> String {
    let verifier = Verifier::with_static_jwks(VerifierConfig::new(ISSUER, AUDIENCE), static_jwks());
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/audits", get(audits))
        .route("/greeting", get(greeting))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn good_token() -> String {
    keys().es256.token(&valid_claims(ISSUER))
}

async fn get_with(url: String, authorization: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(url);
    let request = match authorization {
        Some(value) => request.header("authorization", value),
        None => request,
    };
    request.send().await.unwrap()
}

fn challenge(response: &reqwest::Response) -> &str {
    response.headers()["www-authenticate"].to_str().unwrap()
}

#[tokio::test]
async fn answers_401_invalid_token_when_no_token_is_sent() {
    let base = spawn_resource_server().await;

    for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
        let response = get_with(format!("{base}/whoami"), authorization).await;

        assert_eq!(response.status(), 401);
        assert!(
            challenge(&response).starts_with("Bearer error=\"invalid_token\""),
            "{}",
            challenge(&response)
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token");
    }
}

#[tokio::test]
async fn answers_401_invalid_token_with_a_description_when_the_token_is_bad() {
    let base = spawn_resource_server().await;
    let expired = keys().es256.token(&json!({ "exp": 1 }));

    for authorization in ["Bearer not.a.jwt", "Bearer ", &format!("Bearer {expired}")] {
        let response = get_with(format!("{base}/whoami"), Some(authorization)).await;

        assert_eq!(response.status(), 401, "{authorization}");
        let header = challenge(&response).to_owned();
        assert!(
            header.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{header}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn answers_200_with_the_claims_when_the_token_is_good() {
    let base = spawn_resource_server().await;

    for scheme in ["Bearer", "bearer"] {
        let response = get_with(
            format!("{base}/whoami"),
            Some(&format!("{scheme} {}", good_token())),
        )
        .await;

        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({ "sub": "sp_01J9ZK4W3M", "org": "org_acme", "scopes": ["control.read", "risk.read"] })
        );
    }
}

#[tokio::test]
async fn answers_403_insufficient_scope_naming_the_missing_scope() {
    let base = spawn_resource_server().await;

    let response = get_with(
        format!("{base}/audits"),
        Some(&format!("Bearer {}", good_token())),
    )
    .await;

    assert_eq!(response.status(), 403);
    assert_eq!(
        challenge(&response),
        "Bearer error=\"insufficient_scope\", scope=\"audit.read\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("audit.read"));
}

#[tokio::test]
async fn the_optional_extractor_lets_anonymous_callers_through_but_not_bad_tokens() {
    let base = spawn_resource_server().await;

    let anonymous = get_with(format!("{base}/greeting"), None).await;
    let signed_in = get_with(
        format!("{base}/greeting"),
        Some(&format!("Bearer {}", good_token())),
    )
    .await;
    let forged = get_with(format!("{base}/greeting"), Some("Bearer a.b.c")).await;

    assert_eq!(anonymous.text().await.unwrap(), "hello stranger");
    assert_eq!(signed_in.text().await.unwrap(), "hello sp_01J9ZK4W3M");
    assert_eq!(forged.status(), 401);
}
