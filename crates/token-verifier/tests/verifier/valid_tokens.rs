//! Tokens Tollgate really issues are accepted, with every algorithm, and come out typed.

use crate::helpers::{keys, static_jwks, valid_claims, with, JwksServer, TestKey, AUDIENCE};
use serde_json::json;
use tollgate_token_verifier::{PrincipalType, Role, Verifier, VerifierConfig};

async fn assert_verifies_with(key: &TestKey) {
    // Arrange
    let server = JwksServer::start().await;
    let token = key.token(&valid_claims(&server.issuer));

    // Act
    let claims = server
        .verifier()
        .verify(&token)
        .await
        .expect("a valid token");

    // Assert
    assert_eq!(claims.iss, server.issuer);
    assert_eq!(claims.sub, "sp_01J9ZK4W3M");
    assert_eq!(claims.aud, [AUDIENCE]);
    assert_eq!(claims.client_id, "tg_client_8d2f");
    assert_eq!(claims.jti, "at_7f3c2a");
    assert_eq!(claims.org, "org_acme");
    assert_eq!(claims.role, Role::ApiAdmin);
    assert_eq!(claims.principal_type, PrincipalType::ServicePrincipal);
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["control.read", "risk.read"]
    );
    assert!(claims.has_scope("risk.read"));
    assert!(claims.exp > claims.iat);
}

#[tokio::test]
async fn verifies_a_valid_es256_token_and_yields_typed_claims() {
    assert_verifies_with(&keys().es256).await;
}

#[tokio::test]
async fn verifies_a_valid_eddsa_token_and_yields_typed_claims() {
    assert_verifies_with(&keys().eddsa).await;
}

#[tokio::test]
async fn verifies_a_valid_rs256_token_and_yields_typed_claims() {
    assert_verifies_with(&keys().rs256).await;
}

#[tokio::test]
async fn accepts_the_application_at_jwt_type_in_any_case() {
    let server = JwksServer::start().await;
    let verifier = server.verifier();
    let key = &keys().es256;

    for typ in ["application/at+jwt", "AT+JWT", "Application/At+Jwt"] {
        let header = json!({ "alg": "ES256", "typ": typ, "kid": key.kid });
        let token = key.sign(&header, &valid_claims(&server.issuer));

        assert!(
            verifier.verify(&token).await.is_ok(),
            "typ {typ} should be accepted"
        );
    }
}

#[tokio::test]
async fn accepts_an_audience_array_that_contains_the_configured_audience() {
    let server = JwksServer::start().await;
    let claims = with(
        valid_claims(&server.issuer),
        "aud",
        json!(["https://other.test", AUDIENCE]),
    );
    let token = keys().es256.token(&claims);

    let verified = server
        .verifier()
        .verify(&token)
        .await
        .expect("a valid token");

    assert_eq!(verified.aud, ["https://other.test", AUDIENCE]);
}

#[tokio::test]
async fn accepts_a_person_token_with_its_role() {
    let server = JwksServer::start().await;
    let mut claims = valid_claims(&server.issuer);
    claims["sub"] = json!("usr_01J9ZK");
    claims["principal_type"] = json!("person");
    claims["role"] = json!("external_auditor");
    let token = keys().eddsa.token(&claims);

    let verified = server
        .verifier()
        .verify(&token)
        .await
        .expect("a valid token");

    assert_eq!(verified.principal_type, PrincipalType::Person);
    assert_eq!(verified.role, Role::ExternalAuditor);
}

#[tokio::test]
async fn accepts_a_token_that_expired_or_starts_within_the_leeway() {
    let server = JwksServer::start().await;
    let verifier = server.verifier();
    let now = crate::helpers::now();
    let just_expired = with(valid_claims(&server.issuer), "exp", json!(now - 10));
    let starts_soon = with(valid_claims(&server.issuer), "nbf", json!(now + 10));

    assert!(verifier
        .verify(&keys().es256.token(&just_expired))
        .await
        .is_ok());
    assert!(verifier
        .verify(&keys().es256.token(&starts_soon))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_static_key_set_verifies_without_any_network() {
    // The issuer points at a port nobody listens on: a fetch would fail.
    let config = VerifierConfig::new("http://127.0.0.1:9", AUDIENCE);
    let verifier = Verifier::with_static_jwks(config, static_jwks());
    let token = keys().rs256.token(&valid_claims("http://127.0.0.1:9"));

    let claims = verifier.verify(&token).await.expect("a valid token");

    assert_eq!(claims.org, "org_acme");
}

#[tokio::test]
async fn clones_share_one_key_cache() {
    let server = JwksServer::start().await;
    let verifier = server.verifier();
    let clone = verifier.clone();
    let token = keys().es256.token(&valid_claims(&server.issuer));

    verifier.verify(&token).await.unwrap();
    clone.verify(&token).await.unwrap();

    assert_eq!(server.hits(), 1);
}
