//! The JWKS is fetched lazily, cached, refreshed on an unknown `kid` at most once per floor, and
//! kept when the endpoint fails.

use crate::helpers::{jwk_set, keys, static_jwks, valid_claims, JwksServer, TestKey, AUDIENCE};
use std::time::Duration;
use tollgate_token_verifier::{JwksError, Verifier, VerifierConfig, VerifyError};

/// A burst of tokens naming `count` different keys nobody published, verified concurrently.
async fn unknown_kid_burst(verifier: &Verifier, issuer: &str, count: usize) {
    let stranger = TestKey::ed25519("unused");
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let header = serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": format!("random-kid-{i}") });
            let token = stranger.sign(&header, &valid_claims(issuer));
            let verifier = verifier.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        let error = task
            .await
            .unwrap()
            .expect_err("an unknown kid must be refused");
        assert!(matches!(error, VerifyError::UnknownKey { .. }), "{error:?}");
    }
}

#[tokio::test]
async fn fetches_the_jwks_once_and_reuses_it() {
    let server = JwksServer::start().await;
    let verifier = server.verifier();
    assert_eq!(
        server.hits(),
        0,
        "nothing is fetched before the first token"
    );

    for key in [&keys().es256, &keys().eddsa, &keys().rs256, &keys().es256] {
        verifier
            .verify(&key.token(&valid_claims(&server.issuer)))
            .await
            .unwrap();
    }

    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_burst_of_unknown_kids_within_the_floor_does_not_refetch_the_jwks() {
    // Arrange: default floor of 10 s, and a first fetch just now.
    let server = JwksServer::start().await;
    let verifier = server.verifier();
    verifier
        .verify(&keys().es256.token(&valid_claims(&server.issuer)))
        .await
        .unwrap();

    // Act
    unknown_kid_burst(&verifier, &server.issuer, 50).await;

    // Assert
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_burst_of_fifty_unknown_kids_after_the_floor_causes_at_most_one_refetch() {
    // Arrange
    let server = JwksServer::start().await;
    let config = server
        .config()
        .with_min_refresh_interval(Duration::from_secs(2));
    let verifier = Verifier::new(config).unwrap();
    verifier
        .verify(&keys().es256.token(&valid_claims(&server.issuer)))
        .await
        .unwrap();
    // A floor long enough that both bursts fit in it even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // Act: 50 concurrent, then 50 more right after.
    unknown_kid_burst(&verifier, &server.issuer, 50).await;
    unknown_kid_burst(&verifier, &server.issuer, 50).await;

    // Assert: the first fetch, plus one refetch for all hundred.
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn picks_up_a_rotated_key_by_refetching_on_an_unknown_kid() {
    // Arrange
    let server = JwksServer::start().await;
    let config = server.config().with_min_refresh_interval(Duration::ZERO);
    let verifier = Verifier::new(config).unwrap();
    verifier
        .verify(&keys().es256.token(&valid_claims(&server.issuer)))
        .await
        .unwrap();
    let rotated = TestKey::es256("es-2026-02");
    server.publish(jwk_set([&keys().es256, &rotated]));

    // Act
    let claims = verifier
        .verify(&rotated.token(&valid_claims(&server.issuer)))
        .await;

    // Assert
    assert!(claims.is_ok(), "{claims:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn refetches_the_jwks_once_the_cache_lifetime_is_over() {
    let server = JwksServer::start().await;
    let config = server
        .config()
        .with_cache_lifetime(Duration::from_millis(100))
        .with_min_refresh_interval(Duration::ZERO);
    let verifier = Verifier::new(config).unwrap();
    let token = keys().es256.token(&valid_claims(&server.issuer));
    verifier.verify(&token).await.unwrap();

    tokio::time::sleep(Duration::from_millis(200)).await;
    verifier.verify(&token).await.unwrap();

    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_stops_verifying_after_a_refresh() {
    let server = JwksServer::start().await;
    let config = server
        .config()
        .with_cache_lifetime(Duration::ZERO)
        .with_min_refresh_interval(Duration::ZERO);
    let verifier = Verifier::new(config).unwrap();
    let token = keys().rs256.token(&valid_claims(&server.issuer));
    verifier.verify(&token).await.unwrap();

    server.publish(jwk_set([&keys().es256]));
    let error = verifier.verify(&token).await.unwrap_err();

    assert!(matches!(error, VerifyError::UnknownKey { .. }), "{error:?}");
}

#[tokio::test]
async fn keeps_the_cached_keys_when_a_refresh_fails() {
    let server = JwksServer::start().await;
    let config = server
        .config()
        .with_cache_lifetime(Duration::ZERO)
        .with_min_refresh_interval(Duration::ZERO);
    let verifier = Verifier::new(config).unwrap();
    let token = keys().es256.token(&valid_claims(&server.issuer));
    verifier.verify(&token).await.unwrap();

    server.fail();
    let claims = verifier.verify(&token).await;

    assert!(claims.is_ok(), "{claims:?}");
    assert_eq!(server.hits(), 2, "the refresh was attempted");
}

#[tokio::test]
async fn reports_the_jwks_unavailable_when_nothing_is_cached_and_the_fetch_fails() {
    // Arrange: a port that was just free, so nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let verifier = Verifier::new(VerifierConfig::new(issuer.clone(), AUDIENCE)).unwrap();
    let token = keys().es256.token(&valid_claims(&issuer));

    // Act
    let first = verifier.verify(&token).await.unwrap_err();
    let second = verifier.verify(&token).await.unwrap_err();

    // Assert
    assert!(
        matches!(first, VerifyError::JwksUnavailable(JwksError::Fetch(_))),
        "{first:?}"
    );
    assert!(
        matches!(
            second,
            VerifyError::JwksUnavailable(JwksError::RefreshTooSoon)
        ),
        "the floor also protects a failing endpoint: {second:?}"
    );
}

#[tokio::test]
async fn reports_the_jwks_unavailable_when_the_endpoint_answers_an_error() {
    let server = JwksServer::start().await;
    server.fail();

    let error = server.verifier().warm_up().await.unwrap_err();

    assert!(
        matches!(error, JwksError::Status { status: 500 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn warm_up_fetches_the_jwks_before_the_first_token() {
    let server = JwksServer::start().await;
    let verifier = server.verifier();

    verifier.warm_up().await.unwrap();
    verifier
        .verify(&keys().eddsa.token(&valid_claims(&server.issuer)))
        .await
        .unwrap();

    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_verifier_built_from_an_already_fetched_jwks_does_not_fetch_it_again() {
    let server = JwksServer::start().await;
    let verifier = Verifier::from_fetched_jwks(server.config(), static_jwks()).unwrap();

    verifier
        .verify(&keys().rs256.token(&valid_claims(&server.issuer)))
        .await
        .unwrap();

    assert_eq!(server.hits(), 0);
}
